// Test support: a real dollhouse-telemetryd child in a temporary data root, a one-shot protocol
// client for it, dollhousectl runs, bounded waits and child Node processes.
//
// The build's bin directory comes from DOLLHOUSE_BUILD_BIN (ctest sets it); without it the
// tests that need the daemon are skipped with a message.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { withoutKillSwitches } from '../../src/environment.mjs';

export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = path.join(packageDir, 'test', 'fixtures');
export const binDir = process.env.DOLLHOUSE_BUILD_BIN || null;
export const noBuild = binDir === null
  ? 'DOLLHOUSE_BUILD_BIN is not set (the directory with dollhouse-telemetryd and dollhousectl)'
  : false;
export const daemonBinary = binDir && path.join(binDir, 'dollhouse-telemetryd');
export const ctlBinary = binDir && path.join(binDir, 'dollhousectl');

/** An ingestion URL on loopback where nothing listens: uploads fail at once, locally. */
export const kRefusedEndpoint = 'http://127.0.0.1:9/api/v1/telemetry';
/** The longest any single wait in these tests may take (a loaded 2-core machine). */
export const kWaitMs = 30 * 1000;

const tempDirs = [];
const daemons = new Set();
process.on('exit', () => {
  // A test that failed half-way leaves its daemon: end it (only the ones started here).
  for (const child of daemons) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process ends. */
export function tempDir(prefix = 'dh-node-') {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  tempDirs.push(dir);
  return dir;
}

/** Polls `probe` (sync or async) until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(probe, timeoutMs = kWaitMs, everyMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() >= deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * The environment of everything these tests start: no kill switch of the test runner's (CI=true
 * in CI), a home of its own, uploads to a refused loopback port, the sanitizer settings.
 */
export function baseEnv(home, extra = {}) {
  const env = withoutKillSwitches(process.env);
  for (const name of Object.keys(env)) {
    if (name.startsWith('DOLLHOUSE_') && name !== 'DOLLHOUSE_BUILD_BIN') delete env[name];
  }
  delete env.XDG_RUNTIME_DIR;
  delete env.NODE_OPTIONS;
  return { ...env, HOME: home, LANG: 'C.UTF-8',
    DOLLHOUSE_TELEMETRY_ENDPOINT: kRefusedEndpoint, ...extra };
}

/** A data root, socket path and home for one test. */
export function layout() {
  const dir = tempDir();
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { mode: 0o700 });
  return { dir, home, root: path.join(dir, 'root'), socket: path.join(dir, 'root', 'run', 'telemetry.sock') };
}

/** Starts the daemon of `where` (layout()) and resolves once it listens. */
export async function startDaemon(where, extraEnv = {}) {
  const child = spawn(daemonBinary, ['--home', where.root, '--socket', where.socket,
    '--log-level', 'debug'], { env: baseEnv(where.home, extraEnv),
    stdio: ['ignore', 'ignore', 'pipe'] });
  daemons.add(child);
  // A daemon left over by a failed test must not keep the test process alive.
  child.unref();
  child.stderr.unref();
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    daemons.delete(child);
    resolve({ code, signal });
  }));
  const listening = await waitFor(() => stderr.includes('listening on') || child.exitCode !== null);
  if (!listening || child.exitCode !== null) {
    child.kill('SIGKILL');
    throw new Error(`the daemon did not start: ${stderr}`);
  }
  return {
    child,
    pid: child.pid,
    exited,
    stderr: () => stderr,
    async stop() {
      child.ref(); // waiting for the end keeps the test process alive
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.ref();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Sends one request (with an id) on a new connection; resolves with its reply or null. */
export function request(socketPath, op, fields = {}, timeoutMs = kWaitMs) {
  return new Promise((resolve) => {
    const socket = net.createConnection(socketPath);
    let buffered = '';
    const done = (value) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
    socket.on('connect', () => socket.write(JSON.stringify({ v: 1, op, id: 1, ...fields }) + '\n'));
    socket.on('data', (chunk) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl >= 0) done(JSON.parse(buffered.slice(0, nl)));
    });
  });
}

export async function giveConsent(where) {
  const reply = await request(where.socket, 'consent', { enabled: true });
  if (!reply?.ok) throw new Error(`consent failed: ${JSON.stringify(reply)}`);
  return reply;
}

export async function status(where) {
  return request(where.socket, 'status');
}

/** The local log's entries, newest first. */
export async function entries(where, limit = 1000) {
  const reply = await request(where.socket, 'show', { limit });
  return reply?.entries ?? [];
}

/** Runs a program to its end; resolves with { code, signal, stdout, stderr }. */
export function run(file, args, { env, cwd, input, timeoutMs = 4 * kWaitMs } = {}) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: stderr + String(error) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** Runs a fixture script with this Node. */
export function runFixture(name, env, args = []) {
  return run(process.execPath, [path.join(fixturesDir, name), ...args], { env });
}

/** dollhousectl --home --socket <args> in the test's environment. */
export function ctl(where, args, extraEnv = {}) {
  return run(ctlBinary, ['--home', where.root, '--socket', where.socket, ...args],
    { env: baseEnv(where.home, extraEnv) });
}

/** Whether a process with this id exists. */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
