// The daemon and dollhousectl shipped in the platform package that npm chose for this machine
// (@dollhousemcp/telemetry-<platform>-<arch>, an optional dependency with `os` and `cpu`
// fields), and starting the daemon on demand. Starting is asynchronous and detached: the daemon
// outlives the app, and the app never waits for it or keeps running because of it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The platform package's name for this machine. */
export function platformPackageName(platform = process.platform, arch = process.arch) {
  return `@dollhousemcp/telemetry-${platform}-${arch}`;
}

/** The file name of a program on this platform ('dollhousectl' → 'dollhousectl.exe'). */
export function programFile(name, platform = process.platform) {
  return platform === 'win32' ? `${name}.exe` : name;
}

/** The bin/ directory of the installed platform package, or null when npm installed none. */
export function platformBinDirectory() {
  try {
    return path.join(path.dirname(require.resolve(`${platformPackageName()}/package.json`)), 'bin');
  } catch {
    return null;
  }
}

/** The path of `program` (dollhouse-telemetryd or dollhousectl): `explicit`, else the platform
 * package's, when that file exists; else null. */
export function findProgram(program, explicit) {
  const candidate = explicit || (() => {
    const dir = platformBinDirectory();
    return dir === null ? null : path.join(dir, programFile(program));
  })();
  try {
    return candidate && fs.statSync(candidate).isFile() ? candidate : null;
  } catch {
    return null;
  }
}

/**
 * Starts `daemonPath --home root --socket socketPath` detached, with no standard streams and
 * unref'd. Resolves true once the process was created, false when it could not be (missing
 * binary, no permission); never rejects. Whether it then listens is seen by connecting.
 */
export function spawnDaemon({ daemonPath, root, socketPath, env }) {
  return new Promise((resolve) => {
    try {
      const args = ['--home', root];
      if (socketPath) args.push('--socket', socketPath);
      const child = spawn(daemonPath, args, { detached: true, stdio: 'ignore', env,
        windowsHide: true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
