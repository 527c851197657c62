// A tiny, dependency-free Dollhouse Telemetry client for Node.js apps.
//
// track()/usage() only put a line in a bounded in-memory queue and return; one lazily opened,
// unref'd socket to the per-user daemon carries the lines. Nothing here throws into the app,
// keeps the process alive, or grows without bound: when the daemon is absent, events are
// dropped and counted, and the next attempt waits for an exponential backoff with jitter.
// The daemon, not this module, decides what is kept (the user's consent) and removes personal
// data. Wire protocol: docs/protocol.md.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const OFF_VALUES = ['false', '0', 'off', 'no'];
const ON_VALUES = ['true', '1', 'on', 'yes'];
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION', 'GITHUB_ACTIONS', 'GITLAB_CI', 'BUILDKITE',
  'JENKINS_URL', 'TF_BUILD', 'CIRCLECI', 'TRAVIS', 'TEAMCITY_VERSION', 'BITBUCKET_BUILD_NUMBER',
  'CODEBUILD_BUILD_ID', 'DRONE', 'APPVEYOR', 'SEMAPHORE', 'BUILD_BUILDID'];
const MAX_LINE_BYTES = 64 * 1024;
const MAX_UNWRITTEN_BYTES = 1024 * 1024; // stop writing to a daemon that stopped reading

/** The kill switch in force ('DO_NOT_TRACK', 'DOLLHOUSE_TELEMETRY', 'CI') or null. */
export function killSwitch(env = process.env) {
  if (env.DO_NOT_TRACK && env.DO_NOT_TRACK !== '0') return 'DO_NOT_TRACK';
  const flag = (env.DOLLHOUSE_TELEMETRY || '').toLowerCase();
  if (OFF_VALUES.includes(flag)) return 'DOLLHOUSE_TELEMETRY';
  if (ON_VALUES.includes(flag)) return null;
  const ci = CI_VARIABLES.some((name) => env[name] && !OFF_VALUES.includes(env[name].toLowerCase()));
  return ci ? 'CI' : null;
}

/** The daemon's socket path, resolved like the daemon does. */
export function resolveSocketPath(env = process.env) {
  if (env.DOLLHOUSE_TELEMETRY_SOCKET) return env.DOLLHOUSE_TELEMETRY_SOCKET;
  if (env.XDG_RUNTIME_DIR && env.XDG_RUNTIME_DIR.startsWith('/')) {
    return path.join(env.XDG_RUNTIME_DIR, 'dollhouse', 'telemetry.sock');
  }
  const root = env.DOLLHOUSE_HOME || path.join(env.HOME || os.homedir(), '.dollhouse');
  return path.join(root, 'run', 'telemetry.sock');
}

export class TelemetryClient {
  #options;
  #enabled;
  #socketPath;
  #queue = []; // strings (lines) or { syncId, resolve } flush places
  #queuedEvents = 0;
  #socket = null;
  #state = 'idle'; // idle | connecting | ready
  #nextId = 1;
  #helloId = 0;
  #helloTimer = null;
  #pendingSyncs = new Map(); // id -> resolve(boolean)
  #failures = 0;
  #unreachableUntil = 0;
  #stats = { queued: 0, delivered: 0, droppedQueueFull: 0, droppedNoDaemon: 0,
    droppedDisabled: 0, droppedInvalid: 0 };

  /**
   * @param {object} options app and appVersion are required; optional nodeVersion (defaults to
   *   this Node's), mcpClient, socketPath, maxQueued (1024), timeoutMs (1000) for connect and
   *   hello, reconnectMinMs (100), reconnectMaxMs (30000), env (process.env).
   */
  constructor(options = {}) {
    const env = options.env ?? process.env;
    this.#options = { nodeVersion: process.versions.node, maxQueued: 1024, timeoutMs: 1000,
      reconnectMinMs: 100, reconnectMaxMs: 30000, ...options };
    this.#enabled = killSwitch(env) === null;
    this.#socketPath = options.socketPath || resolveSocketPath(env);
  }

  get enabled() { return this.#enabled; }
  get stats() { return { ...this.#stats }; }

  /** Queues an event object ({ eventType: 'crash', ... }). True when queued. */
  track(event) {
    try {
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        return this.#drop('droppedInvalid');
      }
      return this.#enqueue({ v: 1, op: 'track', event });
    } catch {
      return false;
    }
  }

  /** Queues usage increments: usage({ counters: { sessions: 1 }, timings: { startup: 640 } }). */
  usage({ counters = {}, timings = {} } = {}) {
    try {
      return this.#enqueue({ v: 1, op: 'usage', counters, timings });
    } catch {
      return false;
    }
  }

  /** Resolves true once the daemon confirmed everything queued before the call, else false. */
  flush(timeoutMs = 1000) {
    return new Promise((resolve) => {
      try {
        if (!this.#enabled || Date.now() < this.#unreachableUntil) return resolve(false);
        let settled = false;
        const settle = (ok) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(ok);
        };
        const timer = setTimeout(() => settle(false), timeoutMs);
        timer.unref?.();
        this.#queue.push({ syncId: 0, resolve: settle });
        this.#pump();
      } catch {
        resolve(false);
      }
    });
  }

  /** Gives queued events a bounded chance to be confirmed, then closes the connection. */
  async close(timeoutMs = 1000) {
    const pending = this.#socket !== null || this.#queue.length > 0;
    const ok = pending ? await this.flush(timeoutMs) : true;
    this.#enabled = false;
    this.#socket?.end(); // written lines still reach the daemon; the socket is unref'd
    return ok;
  }

  #drop(counter) {
    this.#stats[counter] += 1;
    return false;
  }

  #enqueue(message) {
    if (!this.#enabled) return this.#drop('droppedDisabled');
    let line;
    try {
      line = JSON.stringify(message); // throws on cycles and BigInt
    } catch {
      return this.#drop('droppedInvalid');
    }
    if (line === undefined || Buffer.byteLength(line) > MAX_LINE_BYTES) {
      return this.#drop('droppedInvalid');
    }
    if (Date.now() < this.#unreachableUntil) return this.#drop('droppedNoDaemon');
    if (this.#queuedEvents >= this.#options.maxQueued) return this.#drop('droppedQueueFull');
    this.#queue.push(line + '\n');
    this.#queuedEvents += 1;
    this.#stats.queued += 1;
    this.#pump();
    return true;
  }

  #pump() {
    if (this.#state === 'idle') return this.#connect();
    if (this.#state !== 'ready') return;
    while (this.#queue.length > 0 && this.#socket.writableLength < MAX_UNWRITTEN_BYTES) {
      const item = this.#queue.shift();
      if (typeof item === 'string') {
        this.#queuedEvents -= 1;
        this.#socket.write(item);
        this.#stats.delivered += 1;
      } else {
        item.syncId = this.#nextId++;
        this.#pendingSyncs.set(item.syncId, item.resolve);
        this.#socket.write(JSON.stringify({ v: 1, op: 'sync', id: item.syncId }) + '\n');
      }
    }
  }

  #connect() {
    this.#state = 'connecting';
    this.#helloId = this.#nextId++;
    const socket = net.createConnection(this.#socketPath);
    this.#socket = socket;
    socket.unref(); // telemetry never keeps the app running
    socket.setEncoding('utf8');
    this.#helloTimer = setTimeout(() => socket.destroy(), this.#options.timeoutMs);
    this.#helloTimer.unref?.();
    let buffered = '';
    socket.on('connect', () => {
      const { app, appVersion, nodeVersion, mcpClient } = this.#options;
      socket.write(JSON.stringify({ v: 1, op: 'hello', id: this.#helloId, app, appVersion,
        ...(nodeVersion ? { nodeVersion } : {}), ...(mcpClient ? { mcpClient } : {}) }) + '\n');
    });
    socket.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.#onReply(socket, text);
      }
      if (buffered.length > 64 * 1024 * 1024) socket.destroy();
    });
    socket.on('drain', () => this.#pump());
    socket.on('error', () => {}); // 'close' follows and handles it
    socket.on('close', () => this.#onClose(socket));
  }

  #onReply(socket, text) {
    let reply;
    try {
      reply = JSON.parse(text);
    } catch {
      return;
    }
    if (reply?.id === this.#helloId && this.#state === 'connecting') {
      clearTimeout(this.#helloTimer);
      if (!reply.ok) return socket.destroy();
      this.#state = 'ready';
      this.#failures = 0;
      this.#pump();
    } else if (this.#pendingSyncs.has(reply?.id)) {
      const resolve = this.#pendingSyncs.get(reply.id);
      this.#pendingSyncs.delete(reply.id);
      resolve(reply.ok === true);
    }
  }

  #onClose(socket) {
    if (socket !== this.#socket) return;
    clearTimeout(this.#helloTimer);
    const wasReady = this.#state === 'ready';
    this.#socket = null;
    this.#state = 'idle';
    for (const resolve of this.#pendingSyncs.values()) resolve(false);
    this.#pendingSyncs.clear();
    if (wasReady && this.#enabled) {
      // The daemon went away between messages (restart): reconnect at once if there is work.
      if (this.#queue.length > 0) this.#pump();
      return;
    }
    // The attempt failed: drop what waits, back off before the next attempt.
    for (const item of this.#queue) {
      if (typeof item === 'string') this.#stats.droppedNoDaemon += 1;
      else item.resolve(false);
    }
    this.#queue = [];
    this.#queuedEvents = 0;
    this.#failures = Math.min(this.#failures + 1, 32);
    const { reconnectMinMs, reconnectMaxMs } = this.#options;
    const delay = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** (this.#failures - 1));
    this.#unreachableUntil = Date.now() + delay / 2 + (Math.random() * delay) / 2;
  }
}
