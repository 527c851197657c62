// End to end through npm: packs @dollhousemcp/telemetry and its linux-x64 platform package
// (binaries staged from the build), installs both from the tarballs into an empty project with
// no registry reachable, gives consent with the package's dollhousectl, and runs an app whose
// events the daemon, started by the client from the package, keeps.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import {
  baseEnv, binDir, fixturesDir, layout, noBuild, packageDir, run, tempDir, waitFor,
} from './support/daemon.mjs';

const repoDir = path.resolve(packageDir, '..', '..');
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';
const skip = noBuild || (!onLinuxX64 && 'the packed platform package is linux-x64');
// Packing ~200 MB of sanitizer-built binaries is slow on a loaded machine.
const kPackTimeoutMs = 15 * 60 * 1000;

test('installed from its tarballs without a registry, the package collects the app\'s events',
  { skip, timeout: kPackTimeoutMs + 5 * 60 * 1000 }, async () => {
    const out = tempDir('dh-node-pack-');
    const where = layout();
    const env = baseEnv(where.home, { DOLLHOUSE_HOME: where.root,
      npm_config_update_notifier: 'false' });
    const packed = await run('bash', [path.join(repoDir, 'scripts', 'node-package.sh'), '--out',
      out, '--bin-dir', binDir], { env, timeoutMs: kPackTimeoutMs });
    assert.equal(packed.code, 0, packed.stderr);
    const tarballs = packed.stdout.trim().split('\n');
    assert.deepEqual(tarballs.map((t) => path.basename(t)),
      ['dollhousemcp-telemetry-0.1.0.tgz', 'dollhousemcp-telemetry-linux-x64-0.1.0.tgz']);

    const project = tempDir('dh-node-app-');
    fs.writeFileSync(path.join(project, 'package.json'),
      JSON.stringify({ name: 'package-app', version: '1.0.0', private: true, type: 'module' }));
    fs.copyFileSync(path.join(fixturesDir, 'package-app.mjs'), path.join(project, 'app.mjs'));
    // An empty cache and a registry address where nothing listens: nothing can be downloaded.
    const installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund',
      '--registry', 'http://127.0.0.1:9/', '--cache', path.join(project, '.npm-cache'),
      ...tarballs], { cwd: project, env, timeoutMs: kPackTimeoutMs });
    assert.equal(installed.code, 0, installed.stderr);
    const platformBin = path.join(project, 'node_modules', '@dollhousemcp', 'telemetry-linux-x64',
      'bin');
    assert.ok(fs.existsSync(path.join(platformBin, 'dollhouse-telemetryd')));
    const npx = (args) => run('npx', ['--offline', 'dollhousectl', ...args], { cwd: project, env });

    // Consent through the package's dollhousectl (which starts the daemon), then stop that
    // daemon so the app's client has to start it from the package.
    const enabled = await npx(['telemetry', 'enable']);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stderr, new RegExp(`started it \\(${platformBin}/dollhouse-telemetryd\\)`));
    const stopped = await npx(['daemon', 'stop']);
    assert.equal(stopped.code, 0, stopped.stderr);
    await waitFor(async () => (await npx(['--no-start', 'telemetry', 'status'])).code === 3);

    const app = await run(process.execPath, ['app.mjs', 'crash'], { cwd: project, env });
    assert.notEqual(app.code, 0); // it died of the uncaught exception, as it would without us
    assert.match(app.stderr, /TypeError: Cannot read properties of undefined/);
    const confirmed = JSON.parse(app.stdout.trim());
    assert.equal(confirmed.confirmed, true, app.stdout + app.stderr);
    assert.equal(confirmed.accepted, 3);
    assert.equal(fs.readdirSync(path.join(where.root, 'crashes')).filter((f) =>
      f.endsWith('.json')).length <= 1, true);

    const shown = await npx(['telemetry', 'show', '--json', '--limit', '100']);
    assert.equal(shown.code, 0, shown.stderr);
    const log = JSON.parse(shown.stdout);
    const byType = (type) => log.filter((e) => e.eventType === type).map((e) => e.data);
    assert.equal(byType('installation').length, 1);
    assert.equal(byType('installation')[0].previousVersion, '1.9.15');
    assert.equal(byType('update')[0].toVersion, '1.9.16');
    assert.equal(byType('error')[0].component, 'portfolio');
    assert.ok(byType('crash').some((c) => c.errorCategory === 'EPIPE'));
    for (const entry of log) assert.equal(entry.data.platform.mcpClient, 'claude-code');
    const exported = await npx(['telemetry', 'export']);
    assert.equal(exported.code, 0, exported.stderr);
    const usage = JSON.parse(exported.stdout).usageInProgress;
    assert.match(JSON.stringify(usage), /"sessions":1/);

    const status = JSON.parse((await npx(['telemetry', 'status', '--json'])).stdout);
    assert.ok(status.daemon.pid > 0);
    const finalStop = await npx(['daemon', 'stop']);
    assert.equal(finalStop.code, 0, finalStop.stderr);
  });
