// TelemetryClient: what a Node app calls wherever something worth counting happens.
//
// Rules that keep the host app safe (the same as the C++ client library's, clientlib/client.cpp):
// - Calls only serialise into a bounded in-memory queue and return; they never wait for I/O and
//   never throw. A full queue drops the event and counts it.
// - One lazily opened, unref'd socket carries the queue to the per-user daemon: the client never
//   keeps the process alive on its own. A pending flush() holds a ref'd timer until it resolves
//   or times out, so `await client.flush(1000)` at the top level of a module completes.
// - A failed connection attempt drops what is queued (counted) and starts a backoff with jitter
//   during which new events are dropped at once, so memory does not grow while the daemon is
//   away. After a connection is lost between messages (a daemon restart, an idle timeout) the
//   next message reconnects at once.
// - A kill switch in the app's environment makes the client a no-op that connects to nothing.
// - When the user has said yes (telemetry.json) and no daemon answers, the client starts the
//   daemon from its platform package, detached; a daemon that already listens (one a service
//   manager provides) is always tried first, and a user who never said yes never gets one.
// The daemon, not this client, decides what is kept and removes personal data.
// Wire protocol: docs/protocol.md.
import { execFile } from 'node:child_process';
import net from 'node:net';

import { answerOf, consentState, readConfig } from './consent.mjs';
import { failureFields, installCrashHandler } from './crash.mjs';
import { findProgram, spawnDaemon } from './daemon.mjs';
import { killSwitch, pipeNameForSid, resolveDataRoot, resolveSocketPath } from './environment.mjs';

/** Events waiting to be written; more are dropped and counted (droppedQueueFull). */
export const kDefaultMaxQueued = 1024;
/** How long connecting and the hello reply may take, in milliseconds. */
export const kDefaultTimeoutMs = 1000;
/** Backoff after failed connection attempts: from min, doubling, to max (milliseconds). */
export const kDefaultReconnectMinMs = 100;
export const kDefaultReconnectMaxMs = 30 * 1000;
/** The daemon's limit for one protocol line, in bytes; a longer event is dropped as invalid. */
export const kMaxLineBytes = 64 * 1024;
/** Bytes handed to a socket the daemon has not read yet before writing stops (it stopped
 * reading); the queue then fills and drops. */
export const kMaxUnwrittenBytes = 1024 * 1024;
/** A connection whose unwritten bytes did not drain for this long is given up (milliseconds). */
export const kWriteStallTimeoutMs = 5 * 1000;
/** A reply line longer than this ends the connection (replies to this client are small). */
export const kMaxReplyBytes = 1024 * 1024;
/** A connection idle this long is opened anew before it is used: the daemon closes idle
 * connections after 10 minutes (daemon/settings.hpp kIdleTimeout). */
export const kReconnectAfterIdleMs = 5 * 60 * 1000;
/** Installation and update reports a hello can carry (the daemon's limit). */
export const kMaxSetupReports = 4;
/** After starting the daemon, how long connection attempts go on (milliseconds). */
export const kDaemonStartWindowMs = 5 * 1000;
/** The pause between those attempts (milliseconds). */
export const kDaemonStartPollMs = 50;
/** At most one daemon start per this interval (milliseconds). */
export const kDaemonStartIntervalMs = 60 * 1000;
/** flush()'s and close()'s default timeout (milliseconds). */
export const kDefaultFlushTimeoutMs = 1000;

const DONE_SETUP_OUTCOMES = ['counted', 'already_counted', 'not_collected'];
const SETUP_OUTCOME_WORDS = {
  counted: 'stored',
  already_counted: 'already counted before, not stored again',
  pending: 'held by the daemon until the user answers; sent again with the next hello',
  not_collected: 'not collected (declined, withdrawn, switched off or a kill switch)',
};

// Equal jitter, as clientlib/backoff.hpp: a random point in [delay/2, delay].
function reconnectDelay(failures, minMs, maxMs, fraction) {
  const min = Math.max(1, minMs);
  const max = Math.max(min, maxMs);
  const delay = Math.min(max, min * 2 ** Math.min(failures - 1, 40));
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0.5));
  return delay / 2 + (delay / 2) * f;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isErrorLike(value) {
  return value instanceof Error ||
    (isPlainObject(value) && typeof value.stack === 'string' && typeof value.message === 'string');
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

let windowsSid = null;
function currentUserSid() {
  if (windowsSid !== null) return Promise.resolve(windowsSid);
  return new Promise((resolve) => {
    try {
      execFile('whoami', ['/user', '/fo', 'csv', '/nh'], { windowsHide: true, timeout: 5000 },
        (error, stdout) => {
          const sid = error ? null : /S-1-[0-9-]+/.exec(String(stdout))?.[0] ?? null;
          windowsSid = sid;
          resolve(sid);
        });
    } catch {
      resolve(null);
    }
  });
}

const NOT_CONFIRMED = (reason) => ({ confirmed: false, accepted: 0, dropped: 0, reason });

export class TelemetryClient {
  #options;
  #env;
  #enabled = false;
  #closed = false;
  #killSwitch = null;
  #root;
  #socketPath;
  #debug;
  #random;
  #queue = []; // { kind: 'line', line, id } | { kind: 'sync', settle } | { kind: 'hello' }
  #queuedLines = 0;
  #socket = null;
  #state = 'idle'; // idle | connecting | ready
  #nextId = 1;
  #pendingSyncs = new Map(); // id -> settle(result)
  #verdicts = new Map(); // id -> label, for the developer echo
  #helloKeys = new Map(); // hello id -> setup keys it carried
  #setup = new Map(); // key -> installation or update event, until the daemon settled it
  #failures = 0;
  #unreachableUntil = 0;
  #lastActivity = 0;
  #lastDaemonStart = -Infinity;
  #stallTimer = null;
  #stalled = false;
  #stats = { queued: 0, delivered: 0, droppedQueueFull: 0, droppedNoDaemon: 0,
    droppedDisabled: 0, droppedInvalid: 0 };

  /**
   * @param {object} options app and appVersion are required (a client without them is a no-op);
   *   optional: mcpClient, nodeVersion (this Node's), component (for crash records), home,
   *   socketPath, env (process.env), installation and update (facts sent with every hello until
   *   the daemon settled them), startDaemon (true), daemonPath (else the platform package's),
   *   maxQueued, timeoutMs, reconnectMinMs, reconnectMaxMs, random (() => [0, 1)), debug
   *   (DOLLHOUSE_TELEMETRY_DEBUG=1).
   */
  constructor(options = {}) {
    try {
      this.#options = { nodeVersion: process.versions.node, maxQueued: kDefaultMaxQueued,
        timeoutMs: kDefaultTimeoutMs, reconnectMinMs: kDefaultReconnectMinMs,
        reconnectMaxMs: kDefaultReconnectMaxMs, startDaemon: true, ...options };
      this.#env = this.#options.env ?? process.env;
      this.#debug = this.#options.debug ?? this.#env.DOLLHOUSE_TELEMETRY_DEBUG === '1';
      this.#random = typeof this.#options.random === 'function' ? this.#options.random
        : Math.random;
      this.#killSwitch = killSwitch(this.#env);
      this.#root = resolveDataRoot({ home: this.#options.home, env: this.#env });
      this.#socketPath = resolveSocketPath({ socketPath: this.#options.socketPath,
        home: this.#options.home, env: this.#env });
      const named = typeof this.#options.app === 'string' && this.#options.app !== '' &&
        typeof this.#options.appVersion === 'string' && this.#options.appVersion !== '';
      this.#enabled = named && this.#killSwitch === null;
      if (this.#debug && this.#killSwitch !== null) {
        this.#echo(`off: kill switch ${this.#killSwitch} is set; nothing is sent`);
      }
      if (isPlainObject(this.#options.installation)) {
        this.#addSetup({ ...this.#options.installation, eventType: 'installation' });
      }
      if (isPlainObject(this.#options.update)) {
        this.#addSetup({ ...this.#options.update, eventType: 'update' });
      }
    } catch {
      this.#enabled = false;
    }
  }

  /** False when a kill switch is in force (or after close()): every call is then a no-op. */
  get enabled() {
    return this.#enabled;
  }

  /** What happened to the events handed to this client. */
  get stats() {
    return { ...this.#stats };
  }

  /** The user's answer without connecting: see consentState() in index.mjs. */
  consentState() {
    return consentState({ home: this.#options?.home, env: this.#env ?? process.env });
  }

  /** Installs the crash handler for this app (crash.mjs); returns the function removing it. */
  installCrashHandler(extra = {}) {
    try {
      const o = this.#options;
      return installCrashHandler({ app: o.app, appVersion: o.appVersion, mcpClient: o.mcpClient,
        nodeVersion: o.nodeVersion, home: o.home, env: this.#env, component: o.component,
        ...extra,
        onRecord: (file) => this.#debug && this.#echo(`crash record written: ${file}`),
        onSkip: (why) => this.#debug && this.#echo(`crash record not written: ${why}`) });
    } catch {
      return () => {};
    }
  }

  /** Queues any event object ({ eventType: 'error', ... }). True when queued. */
  track(event) {
    try {
      if (!isPlainObject(event)) return this.#drop('droppedInvalid', 'track', 'not an object');
      return this.#enqueue({ v: 1, op: 'track', event }, `track ${event.eventType}`);
    } catch {
      return false;
    }
  }

  /**
   * Reports the installation: { installMethod, installType, previousVersion }. It goes in the
   * `setup` of every hello until the daemon stored it, had it already, or will not collect it,
   * so an installation before the user's answer counts once if they say yes.
   */
  trackInstallation(facts = {}) {
    try {
      if (!isPlainObject(facts)) return this.#drop('droppedInvalid', 'installation', 'not an object');
      return this.#reportSetup({ ...facts, eventType: 'installation' });
    } catch {
      return false;
    }
  }

  /** Reports an update: { fromVersion, toVersion, success, durationMs, errorCategory }, like
   * trackInstallation(). */
  trackUpdate(facts = {}) {
    try {
      if (!isPlainObject(facts)) return this.#drop('droppedInvalid', 'update', 'not an object');
      return this.#reportSetup({ ...facts, eventType: 'update' });
    } catch {
      return false;
    }
  }

  /** Reports a handled failure: an Error (fields derived from it, recovered true by default)
   * or the error event's fields. `extra` overrides fields (component, recovered, ...). */
  trackError(errorOrFields, extra = {}) {
    return this.#trackFailure('error', errorOrFields, extra, true);
  }

  /** Reports a crash the app caught itself (crash records cover the ones it did not). */
  trackCrash(errorOrFields, extra = {}) {
    return this.#trackFailure('crash', errorOrFields, extra, false);
  }

  /** Usage increments: usage({ counters: { sessions: 1 }, timings: { startup: 640 } }). */
  usage({ counters = {}, timings = {} } = {}) {
    try {
      return this.#enqueue({ v: 1, op: 'usage', counters, timings }, 'usage');
    } catch {
      return false;
    }
  }

  /**
   * Resolves, never rejects, once the daemon confirmed everything queued before the call:
   * { confirmed: true, accepted, dropped } (the daemon's counts for this connection, from
   * `sync`), or { confirmed: false, reason } with reason kill_switch, closed, no_daemon, timeout,
   * connection_closed or the daemon's error code. While pending it keeps the process alive.
   */
  flush(timeoutMs = kDefaultFlushTimeoutMs) {
    return new Promise((resolve) => {
      try {
        if (!this.#enabled) {
          resolve(NOT_CONFIRMED(this.#killSwitch !== null ? 'kill_switch' : 'closed'));
          return;
        }
        if (Date.now() < this.#unreachableUntil) {
          resolve(NOT_CONFIRMED('no_daemon'));
          return;
        }
        let settled = false;
        const item = { kind: 'sync', settle: null };
        // Ref'd on purpose: a pending flush keeps the process alive until it ends.
        const timer = setTimeout(() => {
          const at = this.#queue.indexOf(item);
          if (at >= 0) this.#queue.splice(at, 1);
          item.settle(NOT_CONFIRMED('timeout'));
        }, Math.max(0, Number(timeoutMs) || 0));
        item.settle = (result) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(result);
        };
        this.#queue.push(item);
        this.#kick();
      } catch {
        resolve(NOT_CONFIRMED('internal'));
      }
    });
  }

  /** Gives what is queued a bounded chance to be confirmed, then closes the connection. */
  async close(timeoutMs = kDefaultFlushTimeoutMs) {
    try {
      if (this.#closed) return NOT_CONFIRMED('closed');
      const busy = this.#enabled &&
        (this.#socket !== null || this.#state !== 'idle' || this.#queuedLines > 0);
      const result = busy ? await this.flush(timeoutMs) : NOT_CONFIRMED('nothing_sent');
      this.#closed = true;
      this.#enabled = false;
      for (const item of this.#queue) if (item.kind === 'sync') item.settle(NOT_CONFIRMED('closed'));
      this.#queue = [];
      this.#queuedLines = 0;
      this.#socket?.end(); // written lines still reach the daemon
      return result;
    } catch {
      return NOT_CONFIRMED('internal');
    }
  }

  #echo(text) {
    try {
      process.stderr.write(`dollhouse-telemetry: ${text}\n`);
    } catch {
      // The echo is for developers; it never costs the app anything.
    }
  }

  #drop(counter, label, why) {
    this.#stats[counter] += 1;
    if (this.#debug) this.#echo(`${label}: not sent: ${why}`);
    return false;
  }

  #trackFailure(type, errorOrFields, extra, recovered) {
    try {
      let fields;
      if (isErrorLike(errorOrFields)) {
        fields = failureFields(errorOrFields, { component: this.#options.component, recovered });
      } else if (isPlainObject(errorOrFields)) {
        fields = { ...errorOrFields };
      } else {
        return this.#drop('droppedInvalid', type, 'neither an Error nor an object');
      }
      const event = { ...fields, ...(isPlainObject(extra) ? extra : {}), eventType: type };
      return this.#enqueue({ v: 1, op: 'track', event }, `track ${type}`);
    } catch {
      return false;
    }
  }

  #disabledReason() {
    return this.#killSwitch !== null ? `kill switch ${this.#killSwitch}` : this.#closed
      ? 'client closed' : 'no app name or version';
  }

  #enqueue(message, label) {
    if (!this.#enabled) return this.#drop('droppedDisabled', label, this.#disabledReason());
    const id = this.#debug ? this.#nextId++ : undefined;
    let line;
    try {
      line = JSON.stringify(id === undefined ? message : { ...message, id }); // cycles, BigInt
    } catch {
      return this.#drop('droppedInvalid', label, 'cannot be written as JSON');
    }
    if (line === undefined || Buffer.byteLength(line) > kMaxLineBytes) {
      return this.#drop('droppedInvalid', label, `longer than ${kMaxLineBytes} bytes`);
    }
    const { v, op, ...fields } = message;
    const shown = this.#debug ? `${label} ${JSON.stringify(message.event ?? fields)}` : label;
    if (Date.now() < this.#unreachableUntil) {
      return this.#drop('droppedNoDaemon', shown, 'no daemon answered (waiting before retrying)');
    }
    if (this.#queuedLines >= this.#options.maxQueued) {
      return this.#drop('droppedQueueFull', shown, 'queue full');
    }
    this.#queue.push({ kind: 'line', line: line + '\n', id });
    if (id !== undefined) this.#verdicts.set(id, shown);
    this.#queuedLines += 1;
    this.#stats.queued += 1;
    this.#kick();
    return true;
  }

  static setupKey(event) {
    return event.eventType === 'update' ? `update ${event.toVersion}` : 'installation';
  }

  #addSetup(event) {
    const key = TelemetryClient.setupKey(event);
    this.#setup.delete(key);
    while (this.#setup.size >= kMaxSetupReports) {
      this.#setup.delete(this.#setup.keys().next().value);
    }
    this.#setup.set(key, event);
  }

  #reportSetup(event) {
    if (!this.#enabled) {
      return this.#drop('droppedDisabled', `setup ${event.eventType}`, this.#disabledReason());
    }
    this.#addSetup(event);
    if (this.#debug) {
      this.#echo(`setup ${TelemetryClient.setupKey(event)} ${JSON.stringify(event)}: ` +
        'sent with the next hello');
    }
    // On an open connection a second hello carries it now; otherwise the next one will.
    if (this.#state === 'ready') this.#queue.push({ kind: 'hello' });
    this.#kick();
    return true;
  }

  #kick() {
    if (!this.#enabled) return;
    if (this.#state === 'ready') {
      this.#pump();
    } else if (this.#state === 'idle' && Date.now() >= this.#unreachableUntil) {
      this.#connect().catch(() => this.#failed());
    }
  }

  #helloLine() {
    const { app, appVersion, nodeVersion, mcpClient } = this.#options;
    const id = this.#nextId++;
    const message = { v: 1, op: 'hello', id, app, appVersion };
    if (nodeVersion) message.nodeVersion = nodeVersion;
    if (mcpClient) message.mcpClient = mcpClient;
    if (this.#setup.size > 0) {
      message.setup = [...this.#setup.values()];
      this.#helloKeys.set(id, [...this.#setup.keys()]);
    }
    return { id, line: JSON.stringify(message) + '\n' };
  }

  async #socketTarget() {
    if (this.#socketPath !== null) return this.#socketPath;
    const sid = await currentUserSid();
    return sid === null ? null : pipeNameForSid(sid);
  }

  // Connects and says hello; resolves with the socket once the hello was answered ok, else null.
  #open(target) {
    return new Promise((resolve) => {
      let helloId = 0;
      let answered = false;
      let buffered = '';
      const socket = net.createConnection(target);
      socket.unref(); // telemetry never keeps the app running
      socket.setEncoding('utf8');
      const timer = setTimeout(() => socket.destroy(), this.#options.timeoutMs);
      timer.unref();
      socket.on('connect', () => {
        const hello = this.#helloLine();
        helloId = hello.id;
        socket.write(hello.line);
      });
      socket.on('data', (chunk) => {
        buffered += chunk;
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const text = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          let reply;
          try {
            reply = JSON.parse(text);
          } catch {
            continue;
          }
          if (!answered && reply?.id === helloId) {
            answered = true;
            clearTimeout(timer);
            if (this.#onHello(reply)) {
              resolve(socket);
            } else {
              socket.destroy();
            }
          } else if (answered) {
            this.#onReply(reply);
          }
        }
        if (buffered.length > kMaxReplyBytes) socket.destroy();
      });
      socket.on('drain', () => {
        clearTimeout(this.#stallTimer);
        this.#stallTimer = null;
        this.#pump();
      });
      socket.on('error', () => {}); // 'close' follows and handles it
      socket.on('close', () => {
        clearTimeout(timer);
        if (!answered || this.#socket !== socket) {
          answered = true;
          resolve(null);
        } else {
          this.#onClosed(socket);
        }
      });
    });
  }

  #mayStartDaemon() {
    if (this.#options.startDaemon === false || this.#closed) return null;
    if (Date.now() - this.#lastDaemonStart < kDaemonStartIntervalMs) return null;
    if (answerOf(readConfig(this.#root)) !== 'given') return null;
    return findProgram('dollhouse-telemetryd', this.#options.daemonPath);
  }

  async #connect() {
    this.#state = 'connecting';
    const target = await this.#socketTarget();
    let socket = target === null ? null : await this.#open(target);
    const daemonPath = socket === null && target !== null ? this.#mayStartDaemon() : null;
    if (daemonPath !== null) {
      this.#lastDaemonStart = Date.now();
      const started = await spawnDaemon({ daemonPath, root: this.#root,
        socketPath: this.#socketPath, env: this.#env });
      if (this.#debug) {
        this.#echo(started ? `started the telemetry daemon (${daemonPath})`
          : `could not start the telemetry daemon (${daemonPath})`);
      }
      const deadline = Date.now() + kDaemonStartWindowMs;
      while (started && socket === null && !this.#closed && Date.now() < deadline) {
        await pause(kDaemonStartPollMs);
        socket = await this.#open(target);
      }
    }
    if (this.#closed) {
      socket?.destroy();
      return;
    }
    if (socket === null || socket.destroyed) {
      this.#failed();
      return;
    }
    this.#socket = socket;
    this.#state = 'ready';
    this.#failures = 0;
    this.#lastActivity = Date.now();
    this.#pump();
  }

  // True when the hello took effect.
  #onHello(reply) {
    const keys = this.#helloKeys.get(reply.id) ?? [];
    this.#helloKeys.delete(reply.id);
    if (reply.ok !== true) {
      if (this.#debug) {
        this.#echo(`hello refused: ${reply.error?.code}: ${reply.error?.message}`);
      }
      // A report the daemon would not take in a hello is not offered again and again.
      for (const key of keys) this.#setup.delete(key);
      return false;
    }
    const outcomes = isPlainObject(reply.setup) ? reply.setup : {};
    for (const key of keys) {
      const outcome = outcomes[key];
      const settled = DONE_SETUP_OUTCOMES.includes(outcome) ||
        (outcome === undefined && outcomes.invalid !== undefined);
      if (this.#debug) {
        const said = outcome !== undefined ? SETUP_OUTCOME_WORDS[outcome] ?? outcome
          : `rejected: invalid_event: ${outcomes.invalid}`;
        this.#echo(`setup ${key} ${JSON.stringify(this.#setup.get(key))}: ${said}`);
      }
      if (settled) this.#setup.delete(key);
    }
    return true;
  }

  #onReply(reply) {
    const id = reply?.id;
    if (this.#helloKeys.has(id)) {
      this.#onHello(reply);
    } else if (this.#pendingSyncs.has(id)) {
      const settle = this.#pendingSyncs.get(id);
      this.#pendingSyncs.delete(id);
      settle(reply.ok === true
        ? { confirmed: true, accepted: Number(reply.accepted) || 0,
          dropped: Number(reply.dropped) || 0 }
        : NOT_CONFIRMED(reply.error?.code ?? 'error'));
    } else if (this.#verdicts.has(id)) {
      const label = this.#verdicts.get(id);
      this.#verdicts.delete(id);
      this.#echo(`${label}: ${TelemetryClient.verdict(reply)}`);
    }
  }

  /** The daemon's verdict on a track or usage with an id, in words. */
  static verdict(reply) {
    if (reply?.ok === true) {
      return reply.accepted === false ? `not stored (${reply.reason})` : 'stored';
    }
    const error = reply?.error ?? {};
    let text = `rejected: ${error.code}: ${error.message}`;
    if (error.path !== undefined) text += ` (at ${error.path}`;
    if (error.expected !== undefined) text += `${error.path !== undefined ? '; ' : ' ('}expected ${error.expected}`;
    if (error.path !== undefined || error.expected !== undefined) text += ')';
    return text;
  }

  #pump() {
    if (this.#state !== 'ready' || this.#socket === null) return;
    const socket = this.#socket;
    if (this.#queue.length > 0 && Date.now() - this.#lastActivity > kReconnectAfterIdleMs) {
      socket.destroy(); // 'close' reconnects, and the queue goes to the new connection
      return;
    }
    while (this.#queue.length > 0 && socket.writableLength < kMaxUnwrittenBytes) {
      const item = this.#queue.shift();
      if (item.kind === 'line') {
        this.#queuedLines -= 1;
        socket.write(item.line);
        this.#stats.delivered += 1;
      } else if (item.kind === 'sync') {
        const id = this.#nextId++;
        this.#pendingSyncs.set(id, item.settle);
        socket.write(JSON.stringify({ v: 1, op: 'sync', id }) + '\n');
      } else {
        socket.write(this.#helloLine().line);
      }
      this.#lastActivity = Date.now();
    }
    if (socket.writableLength >= kMaxUnwrittenBytes && this.#stallTimer === null) {
      this.#stallTimer = setTimeout(() => {
        this.#stallTimer = null;
        if (socket.writableLength >= kMaxUnwrittenBytes) {
          this.#stalled = true;
          socket.destroy();
        }
      }, kWriteStallTimeoutMs);
      this.#stallTimer.unref();
    }
  }

  // The connection ended after its hello.
  #onClosed(socket) {
    if (socket !== this.#socket) return;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = null;
    this.#socket = null;
    this.#state = 'idle';
    for (const settle of this.#pendingSyncs.values()) settle(NOT_CONFIRMED('connection_closed'));
    this.#pendingSyncs.clear();
    this.#helloKeys.clear();
    this.#forgetVerdicts(new Set(this.#queue.map((item) => item.id)),
      'no verdict: the connection closed');
    if (this.#stalled) {
      this.#stalled = false;
      this.#failed();
    } else if (this.#queue.length > 0) {
      this.#kick(); // a daemon restart or an idle timeout: reconnect at once
    }
  }

  #forgetVerdicts(keep, why) {
    for (const [id, label] of this.#verdicts) {
      if (keep.has(id)) continue;
      this.#verdicts.delete(id);
      this.#echo(`${label}: ${why}`);
    }
  }

  // A connection attempt failed: drop what waits and back off.
  #failed() {
    this.#state = 'idle';
    this.#socket = null;
    for (const item of this.#queue) {
      if (item.kind === 'line') this.#stats.droppedNoDaemon += 1;
      else if (item.kind === 'sync') item.settle(NOT_CONFIRMED('no_daemon'));
    }
    this.#queue = [];
    this.#queuedLines = 0;
    this.#forgetVerdicts(new Set(), 'not sent: no daemon answered');
    this.#failures = Math.min(this.#failures + 1, 64);
    const { reconnectMinMs, reconnectMaxMs } = this.#options;
    this.#unreachableUntil = Date.now() +
      reconnectDelay(this.#failures, reconnectMinMs, reconnectMaxMs, this.#random());
  }
}
