// Tests for examples/node/dollhouse-telemetry.mjs against a fake daemon on a temporary socket.
// Run: node --test examples/node/test/
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { TelemetryClient, killSwitch } from '../dollhouse-telemetry.mjs';

const NO_SWITCHES = {}; // an empty environment: the test runner's CI variables do not apply

const tempDirs = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempSocket() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-node-'));
  tempDirs.push(dir);
  return path.join(dir, 't.sock');
}

// Records every line; answers hello and (unless told not to) sync, like the daemon.
async function fakeDaemon(socketPath, { answerSync = true } = {}) {
  const lines = [];
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buffered = '';
    let messages = 0;
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const request = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        lines.push(request);
        if (request.op === 'track' || request.op === 'usage') messages += 1;
        if (request.op === 'hello') {
          socket.write(JSON.stringify({ id: request.id, ok: true, protocol: 1 }) + '\n');
        } else if (request.op === 'sync' && answerSync) {
          socket.write(JSON.stringify({ id: request.id, ok: true, accepted: messages,
            dropped: 0 }) + '\n');
        }
      }
    });
  });
  await new Promise((resolve) => server.listen(socketPath, resolve));
  return {
    lines,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(resolve);
    }),
  };
}

function client(socketPath, extra = {}) {
  return new TelemetryClient({ app: 'node-app', appVersion: '1.2.3', socketPath,
    env: NO_SWITCHES, reconnectMinMs: 20, reconnectMaxMs: 200, ...extra });
}

const crash = { eventType: 'crash', errorType: 'runtime', errorCategory: 'X', errorMessage: 'm',
  component: 'C', recovered: false };

test('hello goes first, then events in order, and flush resolves after the sync reply', async () => {
  const socketPath = tempSocket();
  const daemon = await fakeDaemon(socketPath);
  const c = client(socketPath, { mcpClient: 'claude-code' });
  for (let i = 0; i < 20; i += 1) assert.equal(c.track({ ...crash, component: `c${i}` }), true);
  assert.equal(c.usage({ counters: { sessions: 1 }, timings: { startup: 10 } }), true);
  assert.equal(await c.flush(2000), true);
  assert.equal(daemon.lines[0].op, 'hello');
  assert.equal(daemon.lines[0].app, 'node-app');
  assert.equal(daemon.lines[0].appVersion, '1.2.3');
  assert.equal(daemon.lines[0].mcpClient, 'claude-code');
  const tracks = daemon.lines.filter((l) => l.op === 'track');
  assert.deepEqual(tracks.map((l) => l.event.component), [...Array(20).keys()].map((i) => `c${i}`));
  assert.ok(tracks.every((l) => l.id === undefined));
  assert.equal(daemon.lines.at(-1).op, 'sync');
  assert.equal(c.stats.delivered, 21);
  await c.close();
  await daemon.close();
});

test('without a daemon, calls return at once, flush is false and drops are counted', async () => {
  const c = client(tempSocket(), { reconnectMinMs: 10000, reconnectMaxMs: 10000 });
  const start = Date.now();
  for (let i = 0; i < 100; i += 1) c.track(crash);
  assert.ok(Date.now() - start < 1000);
  assert.equal(await c.flush(2000), false);
  assert.equal(c.stats.droppedNoDaemon, 100);
  assert.equal(c.stats.delivered, 0);
});

test('a full queue drops and counts', () => {
  const c = client(tempSocket(), { maxQueued: 3 });
  const results = Array.from({ length: 10 }, () => c.track(crash));
  assert.equal(results.filter(Boolean).length, 3);
  assert.equal(c.stats.droppedQueueFull, 7);
});

test('flush is false when the daemon never answers sync', async () => {
  const socketPath = tempSocket();
  const daemon = await fakeDaemon(socketPath, { answerSync: false });
  const c = client(socketPath);
  c.track(crash);
  const start = Date.now();
  assert.equal(await c.flush(300), false);
  assert.ok(Date.now() - start >= 250);
  await c.close(0);
  await daemon.close();
});

test('kill switches make the client a no-op', async () => {
  assert.equal(killSwitch({ DO_NOT_TRACK: '1' }), 'DO_NOT_TRACK');
  assert.equal(killSwitch({ DOLLHOUSE_TELEMETRY: 'off' }), 'DOLLHOUSE_TELEMETRY');
  assert.equal(killSwitch({ CI: 'true' }), 'CI');
  assert.equal(killSwitch({ CI: 'true', DOLLHOUSE_TELEMETRY: 'true' }), null);
  const c = client(tempSocket(), { env: { DO_NOT_TRACK: '1' } });
  assert.equal(c.enabled, false);
  assert.equal(c.track(crash), false);
  assert.equal(c.usage({ counters: { sessions: 1 } }), false);
  assert.equal(await c.flush(100), false);
  assert.equal(c.stats.droppedDisabled, 2);
});

test('invalid events are refused without throwing', () => {
  const c = client(tempSocket());
  assert.equal(c.track(null), false);
  assert.equal(c.track([1, 2]), false);
  const cyclic = { eventType: 'error' };
  cyclic.self = cyclic;
  assert.equal(c.track(cyclic), false);
  assert.equal(c.stats.droppedInvalid, 3);
});

test('reconnects after the daemon restarts', async () => {
  const socketPath = tempSocket();
  let daemon = await fakeDaemon(socketPath);
  const c = client(socketPath);
  c.track(crash);
  assert.equal(await c.flush(2000), true);
  await daemon.close();
  daemon = await fakeDaemon(socketPath);
  let confirmed = false;
  for (let i = 0; i < 100 && !confirmed; i += 1) {
    if (c.track(crash)) confirmed = await c.flush(1000);
    if (!confirmed) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(confirmed, true);
  assert.equal(daemon.lines[0].op, 'hello');
  await c.close();
  await daemon.close();
});
