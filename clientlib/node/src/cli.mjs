// `dollhousemcp telemetry <args>` in one line: runs the platform package's
// `dollhousectl telemetry <args>` with the app's terminal (inherited standard streams), so the
// user sees exactly what dollhousectl prints, consent box included, and gets its exit code
// (0 done, 1 failed, 2 usage error, 3 daemon unreachable).
import { spawn } from 'node:child_process';
import os from 'node:os';

import { findProgram } from './daemon.mjs';

/** The exit code when dollhousectl cannot be run at all (as for any failure of the command). */
export const kCliUnavailableExitCode = 1;

/**
 * Runs dollhousectl with `args` as given (a whole command line: ['telemetry', 'status']).
 * `options`: ctlPath (else the platform package's), home, socketPath (passed as --home and
 * --socket), env, stdio ('inherit'). Resolves with the exit code; never rejects.
 */
export function runCtl(args, options = {}) {
  return new Promise((resolve) => {
    const ctl = findProgram('dollhousectl', options.ctlPath);
    const fail = (why) => {
      try {
        process.stderr.write(`dollhouse-telemetry: cannot run dollhousectl: ${why}\n`);
      } catch {
        // Nothing else to say it with.
      }
      resolve(kCliUnavailableExitCode);
    };
    if (ctl === null) {
      fail('no dollhousectl for this platform is installed (the optional dependency ' +
        `@dollhousemcp/telemetry-${process.platform}-${process.arch} is missing)`);
      return;
    }
    const flags = [];
    if (options.home) flags.push('--home', options.home);
    if (options.socketPath) flags.push('--socket', options.socketPath);
    try {
      const child = spawn(ctl, [...flags, ...args], { stdio: options.stdio ?? 'inherit',
        env: options.env ?? process.env, windowsHide: true });
      child.once('error', (error) => fail(error.message));
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal)
        : kCliUnavailableExitCode)));
    } catch (error) {
      fail(error?.message ?? String(error));
    }
  });
}

// A child ended by a signal gives 128 + its number, as a shell reports it.
function signalNumber(signal) {
  return os.constants.signals[signal] ?? 0;
}

/** Runs `dollhousectl telemetry <args>`; resolves with its exit code. */
export function runTelemetryCli(args = [], options = {}) {
  return runCtl(['telemetry', ...args], options);
}
