// TelemetryClient against the real daemon: lazy connection, an absent, stopped (SIGSTOP) and
// restarted daemon, the bounded queue, kill switches, consent states, installation facts in
// hello's setup, starting the daemon on demand, flush at exit and the developer echo.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { TelemetryClient, consentState } from '../index.mjs';
import {
  alive, baseEnv, ctl, daemonBinary, entries, giveConsent, layout, noBuild, request, runFixture,
  startDaemon, status, tempDir, waitFor,
} from './support/daemon.mjs';

const crash = { eventType: 'crash', errorType: 'runtime', errorCategory: 'TypeError',
  errorMessage: 'Cannot read properties of undefined', component: 'server', recovered: false };

function client(where, extra = {}) {
  return new TelemetryClient({ app: 'dollhousemcp', appVersion: '1.9.16', mcpClient: 'claude-code',
    home: where.root, env: baseEnv(where.home), startDaemon: false, reconnectMinMs: 20,
    reconnectMaxMs: 200, ...extra });
}

function appSeen(statusReply, app = 'dollhousemcp') {
  return (statusReply?.apps ?? []).find((a) => a.name === app && a.seen);
}

test('nothing connects until the first event, then the events arrive', { skip: noBuild },
  async () => {
    const where = layout();
    const daemon = await startDaemon(where);
    await giveConsent(where);
    const c = client(where, { installation: { installMethod: 'npm', installType: 'new' } });
    assert.equal(c.consentState(), 'given');
    const before = await status(where);
    assert.equal(appSeen(before), undefined);
    assert.equal(before.daemon.connectionsTotal, 2); // the consent and this status request
    assert.equal(c.track(crash), true);
    const result = await c.flush(kFlushMs);
    assert.equal(result.confirmed, true);
    assert.equal(result.accepted, 1);
    const types = (await entries(where)).map((e) => e.eventType).sort();
    assert.deepEqual(types, ['crash', 'installation']);
    assert.equal(appSeen(await status(where)).version, '1.9.16');
    await c.close();
    await daemon.stop();
  });

// Generous for a loaded machine; the client's own timeouts are far shorter.
const kFlushMs = 10000;

test('without a daemon, calls return at once, flush says no_daemon and drops are counted',
  { skip: noBuild }, async () => {
    const where = layout();
    // Consent is recorded, but no daemon binary is named and none may be started.
    const c = client(where, { reconnectMinMs: 60000, reconnectMaxMs: 60000 });
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100; i += 1) c.track(crash);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(elapsedMs < 1000, `100 calls took ${elapsedMs} ms`);
    const result = await c.flush(kFlushMs);
    assert.equal(result.confirmed, false);
    assert.equal(result.reason, 'no_daemon');
    assert.equal(c.stats.droppedNoDaemon, 100);
    assert.equal(c.track(crash), false); // during the backoff: dropped at once
    assert.equal(c.stats.droppedNoDaemon, 101);
    assert.equal(fs.existsSync(where.socket), false);
  });

test('a stopped daemon (SIGSTOP) never blocks track, and flush times out', { skip: noBuild },
  async () => {
    const where = layout();
    const daemon = await startDaemon(where);
    await giveConsent(where);
    const c = client(where, { maxQueued: 256 });
    c.track(crash);
    assert.equal((await c.flush(kFlushMs)).confirmed, true);
    process.kill(daemon.pid, 'SIGSTOP');
    try {
      let slowestMs = 0;
      const big = { ...crash, errorMessage: 'x'.repeat(1000) };
      for (let i = 0; i < 5000; i += 1) {
        const t0 = process.hrtime.bigint();
        c.track(big);
        slowestMs = Math.max(slowestMs, Number(process.hrtime.bigint() - t0) / 1e6);
      }
      assert.ok(slowestMs < 250, `slowest track() took ${slowestMs} ms`);
      // The socket buffers fill, writing stops, and the bounded queue drops the rest.
      assert.ok(c.stats.droppedQueueFull > 0, JSON.stringify(c.stats));
      const t0 = Date.now();
      const result = await c.flush(300);
      assert.equal(result.confirmed, false);
      assert.equal(result.reason, 'timeout');
      assert.ok(Date.now() - t0 >= 290);
    } finally {
      process.kill(daemon.pid, 'SIGCONT');
    }
    await c.close(0);
    await daemon.stop();
  });

test('reconnects after the daemon restarts', { skip: noBuild }, async () => {
  const where = layout();
  let daemon = await startDaemon(where);
  await giveConsent(where);
  const c = client(where);
  c.track({ ...crash, component: 'before' });
  assert.equal((await c.flush(kFlushMs)).confirmed, true);
  await daemon.stop();
  daemon = await startDaemon(where);
  const confirmed = await waitFor(async () => {
    c.track({ ...crash, component: 'after' });
    return (await c.flush(2000)).confirmed;
  }, kFlushMs * 3, 50);
  assert.equal(confirmed, true);
  const components = (await entries(where)).map((e) => e.data.component);
  assert.ok(components.includes('before'));
  assert.ok(components.includes('after'));
  await c.close();
  await daemon.stop();
});

test('a full queue drops the overflow, counts it, and the daemon confirms the rest',
  { skip: noBuild }, async () => {
    const where = layout();
    const daemon = await startDaemon(where);
    await giveConsent(where);
    const c = client(where, { maxQueued: 10 });
    // Synchronously, before the connection is up: the queue takes 10.
    const results = Array.from({ length: 100 }, (_, i) => c.track({ ...crash, component: `c${i}` }));
    assert.equal(results.filter(Boolean).length, 10);
    assert.equal(c.stats.droppedQueueFull, 90);
    const result = await c.flush(kFlushMs);
    assert.deepEqual([result.confirmed, result.accepted, result.dropped], [true, 10, 0]);
    assert.equal((await entries(where)).length, 10);
    await c.close();
    await daemon.stop();
  });

test('kill switches silence the client, which then connects to nothing', { skip: noBuild },
  async () => {
    const where = layout();
    const daemon = await startDaemon(where);
    await giveConsent(where);
    const silencing = [{ DO_NOT_TRACK: '1' }, { DOLLHOUSE_TELEMETRY: 'off' }, { CI: 'true' },
      { GITHUB_ACTIONS: 'true' }];
    for (const vars of silencing) {
      const env = baseEnv(where.home, vars);
      const c = client(where, { env });
      assert.equal(c.enabled, false, JSON.stringify(vars));
      assert.equal(c.consentState(), 'silenced');
      assert.equal(consentState({ home: where.root, env }), 'silenced');
      assert.equal(c.track(crash), false);
      assert.equal(c.usage({ counters: { sessions: 1 } }), false);
      assert.equal(c.trackInstallation({ installMethod: 'npm', installType: 'new' }), false);
      assert.equal((await c.flush(1000)).reason, 'kill_switch');
      assert.equal(c.stats.droppedDisabled, 3);
    }
    assert.equal(appSeen(await status(where)), undefined);
    // CI with an explicit yes is not a kill switch.
    const c = client(where, { env: baseEnv(where.home, { CI: 'true', DOLLHOUSE_TELEMETRY: 'true' }) });
    assert.equal(c.enabled, true);
    c.track(crash);
    assert.equal((await c.flush(kFlushMs)).confirmed, true);
    assert.ok(appSeen(await status(where)));
    await c.close();
    await daemon.stop();
  });

test('consentState follows the answer the daemon records, without connecting', { skip: noBuild },
  async () => {
    const where = layout();
    const state = () => consentState({ home: where.root, env: baseEnv(where.home) });
    assert.equal(state(), 'not_answered'); // no data root at all
    const daemon = await startDaemon(where);
    const daemonState = async () => (await status(where)).consent.state;
    assert.equal(state(), await daemonState());
    for (const [args, expected] of [[['telemetry', 'disable'], 'declined'],
      [['telemetry', 'enable'], 'given'], [['telemetry', 'disable'], 'withdrawn'],
      [['telemetry', 'enable'], 'given']]) {
      const ran = await ctl(where, args);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(await daemonState(), expected);
      assert.equal(state(), expected);
    }
    await daemon.stop();
    // Read from the file alone: no daemon runs now.
    assert.equal(state(), 'given');
    const env = baseEnv(where.home, { DO_NOT_TRACK: '1' });
    assert.equal(consentState({ home: where.root, env }), 'silenced');
    fs.writeFileSync(path.join(where.root, 'telemetry.json'), '{not json');
    assert.equal(state(), 'not_answered');
  });

test('an installation before the answer is counted once after a yes, never after a no',
  { skip: noBuild }, async () => {
    const where = layout();
    let daemon = await startDaemon(where);
    const facts = { installation: { installMethod: 'npx', installType: 'new' },
      update: { fromVersion: '1.9.15', toVersion: '1.9.16', success: true, durationMs: 4200 } };
    // First run, before the answer; the daemon stops before the user answers and forgets it.
    let c = client(where, facts);
    c.usage({ counters: { sessions: 1 } });
    assert.equal((await c.flush(kFlushMs)).confirmed, true);
    await c.close();
    await daemon.stop();
    daemon = await startDaemon(where);
    // Second run: the facts are offered again; then the user says yes while it runs.
    c = client(where, facts);
    c.usage({ counters: { sessions: 1 } });
    assert.equal((await c.flush(kFlushMs)).confirmed, true);
    assert.equal((await entries(where)).length, 0);
    await giveConsent(where);
    const stored = await waitFor(async () => (await entries(where)).length === 2);
    assert.ok(stored);
    // Third run: offered once more, already counted, not stored again.
    await c.close();
    c = client(where, facts);
    c.usage({ counters: { sessions: 1 } });
    assert.equal((await c.flush(kFlushMs)).confirmed, true);
    const types = (await entries(where)).map((e) => e.eventType).sort();
    assert.deepEqual(types, ['installation', 'update']);
    await c.close();
    await daemon.stop();

    // Another user says no: the facts are never stored.
    const other = layout();
    const second = await startDaemon(other);
    const d = client(other, facts);
    d.usage({ counters: { sessions: 1 } });
    assert.equal((await d.flush(kFlushMs)).confirmed, true);
    assert.equal((await ctl(other, ['telemetry', 'disable'])).code, 0);
    // The next run offers them again; the daemon will not collect them.
    const e = client(other, facts);
    e.usage({ counters: { sessions: 1 } });
    assert.equal((await e.flush(kFlushMs)).confirmed, true);
    assert.deepEqual((await entries(other)).map((x) => x.eventType), []);
    await d.close();
    await e.close();
    await second.stop();
  });

test('the daemon is started from its binary once consent is given, never before',
  { skip: noBuild }, async () => {
    const where = layout();
    // Record consent with a daemon of the test's own, then stop it.
    const first = await startDaemon(where);
    const c0 = client(where, { startDaemon: true, daemonPath: daemonBinary });
    c0.usage({ counters: { sessions: 1 } });
    assert.equal((await c0.flush(kFlushMs)).confirmed, true);
    await c0.close();
    await first.stop();
    // Not answered yet: no daemon is started.
    const c1 = client(where, { startDaemon: true, daemonPath: daemonBinary });
    c1.track(crash);
    assert.equal((await c1.flush(kFlushMs)).reason, 'no_daemon');
    assert.equal(await request(where.socket, 'status', {}, 1000), null);
    // Given: the client starts it and the event arrives.
    const again = await startDaemon(where);
    await giveConsent(where);
    await again.stop();
    const c2 = client(where, { startDaemon: true, daemonPath: daemonBinary });
    c2.track(crash);
    const result = await c2.flush(kFlushMs);
    assert.equal(result.confirmed, true, JSON.stringify(result));
    const reply = await status(where);
    const pid = reply.daemon.pid;
    try {
      assert.notEqual(pid, again.pid);
      assert.equal((await entries(where)).length, 1);
    } finally {
      await request(where.socket, 'shutdown');
      await waitFor(() => !alive(pid));
    }
    await c2.close();
  });

test('a daemon already listening (a service manager\'s socket) is used, none is started',
  { skip: noBuild }, async () => {
    const where = layout();
    const daemon = await startDaemon(where);
    await giveConsent(where);
    const marker = path.join(tempDir(), 'started');
    const fakeDaemon = path.join(tempDir(), 'fake-daemon.sh');
    fs.writeFileSync(fakeDaemon, `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
    const c = client(where, { startDaemon: true, daemonPath: fakeDaemon });
    c.track(crash);
    assert.equal((await c.flush(kFlushMs)).confirmed, true);
    assert.equal(fs.existsSync(marker), false);
    await c.close();
    await daemon.stop();
  });

test('await flush() at the top level completes and the next line runs', { skip: noBuild },
  async () => {
    const where = layout();
    const daemon = await startDaemon(where);
    const env = baseEnv(where.home, { APP_HOME: where.root });
    const ran = await runFixture('flush-at-exit.mjs', env);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /^after flush: .*"confirmed":true/m);
    // A daemon that does not answer: the flush times out, and then the line runs.
    process.kill(daemon.pid, 'SIGSTOP');
    try {
      const stalled = await runFixture('flush-at-exit.mjs', { ...env, FLUSH_TIMEOUT_MS: '1500' });
      assert.equal(stalled.code, 0, stalled.stderr);
      const printed = JSON.parse(stalled.stdout.replace('after flush: ', ''));
      assert.equal(printed.confirmed, false);
      assert.ok(printed.ms >= 1000, `resolved after ${printed.ms} ms`);
    } finally {
      process.kill(daemon.pid, 'SIGCONT');
    }
    // No daemon at all.
    await daemon.stop();
    const absent = await runFixture('flush-at-exit.mjs', env);
    assert.equal(absent.code, 0, absent.stderr);
    assert.match(absent.stdout, /^after flush: .*"reason":"no_daemon"/m);
  });

test('DOLLHOUSE_TELEMETRY_DEBUG=1 prints every event with the daemon\'s verdict',
  { skip: noBuild }, async () => {
    const where = layout();
    const daemon = await startDaemon(where);
    await giveConsent(where);
    const env = baseEnv(where.home, { APP_HOME: where.root, DOLLHOUSE_TELEMETRY_DEBUG: '1' });
    const ran = await runFixture('debug-echo.mjs', env);
    assert.equal(ran.code, 0, ran.stderr);
    const lines = ran.stderr.trim().split('\n');
    const about = (text) => lines.filter((l) => l.includes(text));
    assert.match(about('"errorType":"runtime"').at(-1), /: stored$/);
    assert.match(about('"errorType":"sometimes"').at(-1),
      /rejected: invalid_event: .*at \/errorType; expected one of startup\|runtime\|shutdown\|unknown/);
    assert.match(about('usage').at(-1), /"sessions":1.*: stored$/);
    assert.match(about('setup installation').at(-1), /: stored$/);
    await daemon.stop();
    // Without consent the verdict is the daemon's reason.
    const other = layout();
    const second = await startDaemon(other);
    const declined = await runFixture('debug-echo.mjs',
      baseEnv(other.home, { APP_HOME: other.root, DOLLHOUSE_TELEMETRY_DEBUG: '1' }));
    assert.match(declined.stderr, /"errorType":"runtime".*: not stored \(no_consent\)/);
    assert.match(declined.stderr, /setup installation .*: held by the daemon until the user answers/);
    await second.stop();
  });
