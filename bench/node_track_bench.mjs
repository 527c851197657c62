// The cost of TelemetryClient.track() in the app's thread, beside a bare socket.write() of the
// same protocol line on a connected Unix socket, both measured in the same run against the
// same reader: a child process that answers hello and sync like the daemon and discards the
// rest (so the daemon's own cost is not part of either figure).
//
// Run: node bench/node_track_bench.mjs [--calls N]   (default 20000 calls each)
// Prints p50, p99 and max per call, in microseconds.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TelemetryClient } from '../clientlib/node/index.mjs';

/** Calls between two turns of the event loop, so written lines drain as in a running app. */
const kBurst = 100;
/** Calls measured before the figures start (JIT warm-up). */
const kWarmupCalls = 2000;

const event = { eventType: 'error', errorType: 'runtime', errorCategory: 'ECONNRESET',
  errorMessage: 'socket hang up while syncing the portfolio', component: 'PortfolioSync',
  recovered: true };

function runSink(socketPath) {
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes('"op":"hello"') && !line.includes('"op":"sync"')) continue;
        const request = JSON.parse(line);
        socket.write(JSON.stringify({ id: request.id, ok: true, protocol: 1, accepted: 0,
          dropped: 0 }) + '\n');
      }
    });
  });
  server.listen(socketPath, () => process.stdout.write('listening\n'));
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(calls, once) {
  const samples = new Float64Array(calls);
  for (let i = 0; i < calls + kWarmupCalls; i += 1) {
    const t0 = process.hrtime.bigint();
    once();
    const ns = Number(process.hrtime.bigint() - t0);
    if (i >= kWarmupCalls) samples[i - kWarmupCalls] = ns / 1000;
    if (i % kBurst === kBurst - 1) await new Promise((resolve) => setImmediate(resolve));
  }
  samples.sort();
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1) };
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--sink') return runSink(args[1]);
  const at = args.indexOf('--calls');
  const calls = at >= 0 ? Number(args[at + 1]) : 20000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dh-track-bench-'));
  const socketPath = path.join(dir, 'sink.sock');
  const sink = spawn(process.execPath, [fileURLToPath(import.meta.url), '--sink', socketPath],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => sink.stdout.once('data', resolve));
  try {
    const line = JSON.stringify({ v: 1, op: 'track', event }) + '\n';
    const socket = net.createConnection(socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    const bare = await measure(calls, () => socket.write(line));
    socket.destroy();

    const client = new TelemetryClient({ app: 'dollhousemcp', appVersion: '1.9.16',
      socketPath, env: {}, startDaemon: false, debug: false });
    client.track(event);
    await client.flush(5000); // connected before measuring, like the bare socket
    const tracked = await measure(calls, () => client.track(event));
    const confirmed = await client.flush(30000);
    await client.close();
    const show = (name, r) => console.log(`${name.padEnd(28)} p50 ${r.p50.toFixed(2).padStart(7)} us` +
      `   p99 ${r.p99.toFixed(2).padStart(7)} us   max ${r.max.toFixed(1).padStart(8)} us`);
    console.log(`${calls} calls each (after ${kWarmupCalls} warm-up), line ${line.length} bytes, ` +
      `node ${process.versions.node}`);
    show('socket.write(line) baseline', bare);
    show('TelemetryClient.track()', tracked);
    console.log(`track() delivered ${client.stats.delivered}, dropped (queue full) ` +
      `${client.stats.droppedQueueFull}, last flush confirmed: ${confirmed.confirmed}`);
  } finally {
    sink.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
