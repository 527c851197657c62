// The examples of docs/clients.md: each ```js block marked `<!-- example: PATH -->` is the file
// PATH byte for byte, and the files run as the page says, in a project where the package and a
// linux platform package (the build's binaries) are installed under node_modules.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import {
  baseEnv, binDir, ctl, entries, layout, noBuild, packageDir, run, tempDir, waitFor,
} from './support/daemon.mjs';

const repoDir = path.resolve(packageDir, '..', '..');
const docPath = path.join(repoDir, 'docs', 'clients.md');

function markedExamples() {
  const text = fs.readFileSync(docPath, 'utf8');
  const found = [];
  const marker = /<!-- example: (\S+) -->\n```js\n([\s\S]*?)```\n/g;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    found.push({ file: m[1], code: m[2] });
  }
  return found;
}

test('every marked example in docs/clients.md is the file it names', () => {
  const examples = markedExamples();
  assert.deepEqual(examples.map((e) => path.basename(e.file)),
    ['telemetry.mjs', 'server.mjs', 'cli.mjs']);
  for (const { file, code } of examples) {
    assert.equal(code, fs.readFileSync(path.join(repoDir, file), 'utf8'), file);
  }
  // No ```js block escapes the check.
  const blocks = fs.readFileSync(docPath, 'utf8').match(/^```js$/gm) ?? [];
  assert.equal(blocks.length, examples.length);
});

// A project with the package and a platform package for this machine, as npm would lay it out.
function installedProject() {
  const project = tempDir('dh-node-docs-');
  const scope = path.join(project, 'node_modules', '@dollhousemcp');
  const main = path.join(scope, 'telemetry');
  fs.mkdirSync(main, { recursive: true });
  for (const entry of ['package.json', 'index.mjs', 'index.d.mts', 'src', 'bin']) {
    fs.cpSync(path.join(packageDir, entry), path.join(main, entry), { recursive: true });
  }
  const platformName = `${process.platform}-${process.arch}`;
  const platform = path.join(scope, `telemetry-${platformName}`);
  fs.mkdirSync(path.join(platform, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(packageDir, 'platforms', 'linux-x64', 'package.json'),
    path.join(platform, 'package.json'));
  for (const program of ['dollhouse-telemetryd', 'dollhousectl']) {
    fs.symlinkSync(path.join(binDir, program), path.join(platform, 'bin', program));
  }
  for (const { file } of markedExamples()) {
    fs.copyFileSync(path.join(repoDir, file), path.join(project, path.basename(file)));
  }
  fs.writeFileSync(path.join(project, 'package.json'),
    JSON.stringify({ name: 'docs-app', version: '1.0.0', private: true, type: 'module' }));
  return project;
}

test('the examples run: first-run notice, consent through the CLI, then events are kept',
  { skip: noBuild || (process.platform !== 'linux' && 'the examples run on Linux') }, async () => {
    const where = layout();
    const project = installedProject();
    const env = baseEnv(where.home, { DOLLHOUSE_HOME: where.root });
    const node = (args) => run(process.execPath, args, { cwd: project, env });

    // Not answered yet: the notice, no daemon, and the app runs normally.
    const first = await node(['server.mjs']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /persona creative-writer active/);
    assert.match(first.stderr, /It is off until you answer: dollhousemcp telemetry consent/);
    assert.equal(fs.existsSync(where.socket), false);

    // `dollhousemcp telemetry consent` without a terminal shows the box and records nothing.
    const box = await node(['cli.mjs', 'telemetry', 'consent']);
    assert.equal(box.code, 0, box.stderr);
    assert.match(box.stdout, /Anonymous telemetry/);
    const enabled = await node(['cli.mjs', 'telemetry', 'enable']);
    assert.equal(enabled.code, 0, enabled.stderr);

    // The next run, after an upgrade: no notice; installation, update, the handled error.
    const second = await node(['server.mjs', '1.9.15']);
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /dollhousemcp telemetry consent/);
    const kept = await waitFor(async () => {
      const log = await entries(where);
      return log.length >= 3 ? log : null;
    });
    assert.ok(kept);
    const byType = Object.fromEntries(kept.map((e) => [e.eventType, e.data]));
    assert.equal(byType.installation.installType, 'upgrade');
    assert.equal(byType.installation.previousVersion, '1.9.15');
    assert.equal(byType.update.toVersion, '1.9.16');
    assert.equal(byType.error.errorCategory, 'ECONNREFUSED');
    assert.equal(byType.error.component, 'PortfolioSync');

    const status = await node(['cli.mjs', 'telemetry', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /dollhousemcp 1\.9\.16: on/);
    const usage = await node(['cli.mjs', 'telemetry', 'no-such-command']);
    assert.equal(usage.code, 2);
    assert.equal((await ctl(where, ['daemon', 'stop'])).code, 0);
  });
