// Crash capture for Node apps: when an exception or a rejection ends the process, one crash
// record is written synchronously to <root>/crashes/, and the daemon turns it into a `crash`
// event the next time it starts or the app says hello (docs/clients.md#crash-records).
//
// The handler listens on 'uncaughtExceptionMonitor', which Node calls just before its own
// handling of an uncaught exception or an unhandled rejection (in the default
// --unhandled-rejections=throw mode) and which changes nothing about it: the process prints the
// same error and ends with the same exit code as without the handler. Everything in the
// listener is synchronous and guarded; it never throws.
import fs from 'node:fs';
import path from 'node:path';

import { appOff, answerOf, categoryOn, readConfig } from './consent.mjs';
import { killSwitch, resolveDataRoot } from './environment.mjs';

/** A crash record is at most this many bytes of JSON (the daemon deletes larger ones). */
export const kMaxCrashRecordBytes = 16 * 1024;
/** A process up for less than this crashed at "startup", later at "runtime". */
export const kStartupWindowMs = 10 * 1000;
/** At most this many records per process (an app that survives its exceptions can loop). */
export const kMaxCrashRecordsPerProcess = 8;
/** The version of the crash record's format. */
export const kCrashRecordVersion = 1;

const NODE_FRAME = /^(node:|internal[/\\])/;

/** The file base name, without extension, of the first stack frame in the app's code. */
export function componentFromStack(stack) {
  if (typeof stack !== 'string') return null;
  for (const line of stack.split('\n')) {
    const frame = line.trim();
    if (!frame.startsWith('at ')) continue;
    // "at fn (file:///a/b/server.mjs:3:9)", "at /a/b/server.js:3:9", "at async x (b.cjs:1:2)"
    const inner = /\(([^()]*)\)\s*$/.exec(frame)?.[1] ?? frame.slice(3);
    const location = inner.replace(/:\d+(:\d+)?$/, '');
    if (location === '' || NODE_FRAME.test(location) || location === '<anonymous>' ||
        location === 'native') {
      continue;
    }
    const file = location.replace(/^file:\/\//, '').split(/[/\\]/).pop();
    const base = file.replace(/\.[^.]*$/, '');
    if (base !== '') return base;
  }
  return null;
}

/** The crash or error fields an app knows about `error` (any thrown value). */
export function failureFields(error, { component, uptimeMs, recovered = false } = {}) {
  const isObject = error !== null && typeof error === 'object';
  const code = isObject && typeof error.code === 'string' && error.code !== '' ? error.code : null;
  const name = isObject && typeof error.name === 'string' && error.name !== '' ? error.name : null;
  let message;
  try {
    message = isObject && typeof error.message === 'string' ? error.message : String(error);
  } catch {
    message = 'unprintable value';
  }
  const up = typeof uptimeMs === 'number' ? uptimeMs : process.uptime() * 1000;
  return {
    eventType: 'crash',
    errorType: up < kStartupWindowMs ? 'startup' : 'runtime',
    errorCategory: code ?? name ?? (isObject ? 'Error' : `thrown ${typeof error}`),
    errorMessage: message === '' ? '(no message)' : message,
    component: component || componentFromStack(isObject ? error.stack : null) || 'unknown',
    recovered,
  };
}

/** `<app>-<pid>-<unix ms>` with every character but a-z 0-9 - . _ replaced by '_'. */
export function crashRecordName(app, pid, timeMs) {
  return `${String(app).replace(/[^a-z0-9._-]/g, '_')}-${pid}-${timeMs}`;
}

/**
 * The record's JSON text, at most kMaxCrashRecordBytes: the message is shortened (never
 * scrubbed here; the daemon does that) until it fits.
 */
export function crashRecordText({ app, appVersion, mcpClient, nodeVersion, timeMs, event }) {
  const record = { v: kCrashRecordVersion, app, appVersion, time: timeMs };
  if (mcpClient) record.mcpClient = mcpClient;
  if (nodeVersion) record.nodeVersion = nodeVersion;
  let message = event.errorMessage;
  for (;;) {
    const text = JSON.stringify({ ...record, event: { ...event, errorMessage: message } });
    if (Buffer.byteLength(text) <= kMaxCrashRecordBytes) return text;
    message = Array.from(message).slice(0, Math.floor(Array.from(message).length / 2)).join('');
  }
}

/**
 * Why no record may be written for `app` now (a kill switch in `env`, no consent, the crash
 * category or the app switched off), or null when one may.
 */
export function crashRecordBlocker({ app, root, env }) {
  const swtch = killSwitch(env);
  if (swtch !== null) return `kill switch ${swtch}`;
  const config = readConfig(root);
  const answer = answerOf(config);
  if (answer !== 'given') return `consent ${answer}`;
  if (!categoryOn(config, 'crash')) return 'crash category off';
  if (appOff(config, app)) return 'app switched off';
  return null;
}

/**
 * Writes one crash record synchronously: <root>/crashes/<name>.tmp, then renamed to
 * <name>.json. Creates the directory 0700 when missing and leaves an existing one as it is.
 * Returns the record's path, or null when nothing was written.
 */
export function writeCrashRecord({ root, app, appVersion, mcpClient, nodeVersion, timeMs, event,
  pid = process.pid }) {
  const dir = path.join(root, 'crashes');
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = crashRecordName(app, pid, timeMs);
  const tmp = path.join(dir, `${name}.tmp`);
  const final = path.join(dir, `${name}.json`);
  const text = crashRecordText({ app, appVersion, mcpClient, nodeVersion, timeMs, event });
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, final);
  return final;
}

/**
 * Installs the crash handler. `options`: app and appVersion (required), mcpClient, nodeVersion
 * (this Node's by default), component (else the top stack frame's module), home, env
 * (process.env), onRecord(path) for tests and the developer echo. Returns a function that
 * removes the handler. Never throws.
 */
export function installCrashHandler(options = {}) {
  let written = 0;
  const env = options.env ?? process.env;
  const listener = (error) => {
    try {
      if (written >= kMaxCrashRecordsPerProcess) return;
      const timeMs = Date.now();
      const root = resolveDataRoot({ home: options.home, env });
      const blocker = crashRecordBlocker({ app: options.app, root, env });
      if (blocker !== null) {
        options.onSkip?.(blocker);
        return;
      }
      // An app with its own 'uncaughtException' listener keeps running: it recovered.
      const recovered = process.listenerCount('uncaughtException') > 0;
      const event = failureFields(error, { component: options.component, recovered });
      written += 1;
      const file = writeCrashRecord({ root, app: options.app, appVersion: options.appVersion,
        mcpClient: options.mcpClient, nodeVersion: options.nodeVersion ?? process.versions.node,
        timeMs, event });
      options.onRecord?.(file, event);
    } catch {
      // A crash handler that fails must not change how the process ends.
    }
  };
  try {
    process.on('uncaughtExceptionMonitor', listener);
  } catch {
    return () => {};
  }
  return () => process.off('uncaughtExceptionMonitor', listener);
}
