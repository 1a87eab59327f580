// `insight serve --models` naming one model instead of a repository (issue 18 item 10): a model directory is served
// under its folder's name (a <model>/<version>/ folder as that model and version), a run directory as its model/
// under the run's --name or id — and a run still training is polled until model/ appears. Then the start-up
// banner: address, models and versions, auth, backend, on stderr beside the JSON ready line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { detectLayout, modelNameOf, scanRepository } from '../../src/serve/repository/scan';
import { startupBanner, type ServeInstance } from '../../src/serve/start';
import { KEYS, NO_KEYS, instance, referenceProbabilities, saveVersion, tempRepository, testServer } from './helpers';

const BIN = path.join(__dirname, '..', '..', 'bin', 'insight.js');
const NODE_FLAGS = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href];
const servers: ServeInstance[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

/** A run directory as `insight train` leaves it (run.json, config.json with `name` when given, model/ when completed). */
async function fakeRun(runsDir: string, id: string, options: { name?: string; model?: boolean } = {}): Promise<string> {
  const dir = path.join(runsDir, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ id, status: options.model === false ? 'running' : 'completed', createdAt: '2026-01-01T00:00:00.000Z' }));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model: 'seed-cnn', epochs: 1, ...(options.name ? { name: options.name } : {}) }));
  if (options.model !== false) {
    const version = await saveVersion(dir, 'x', 1, 7);
    fs.renameSync(version, path.join(dir, 'model'));
    fs.rmSync(path.join(dir, 'x'), { recursive: true });
  }
  return dir;
}

async function predict(server: ServeInstance, model: string): Promise<{ status: number; body: { predictions?: number[][]; error?: string } }> {
  const res = await server.app.inject({ method: 'POST', url: `/v1/models/${model}:predict`, payload: { instances: [instance(3)] } });
  return { status: res.statusCode, body: res.json() };
}

describe('--models naming one model', () => {
  it('a model directory is served as version 1 under its folder name, with the same outputs as the model itself', async () => {
    const root = tempRepository();
    const dir = await saveVersion(root, 'unused', 1, 5);
    const single = path.join(root, 'cats and dogs');
    fs.renameSync(dir, single);
    assert.deepEqual(detectLayout(single), { kind: 'model', root: single, name: 'cats-and-dogs', version: 1, dir: single });
    const server = await testServer(single);
    servers.push(server);
    assert.deepEqual(server.ctx.repository.modelNames(), ['cats-and-dogs']);
    assert.equal(server.ctx.repository.isReady(), true);
    const { status, body } = await predict(server, 'cats-and-dogs');
    assert.equal(status, 200, JSON.stringify(body));
    const reference = await referenceProbabilities(single, [instance(3)]);
    body.predictions![0].forEach((p, i) => assert.ok(Math.abs(p - reference[i]) < 1e-5, `class ${i}: ${p} vs ${reference[i]}`));
  });

  it('a <model>/<version>/ folder is served as that model and version', async () => {
    const root = tempRepository();
    const dir = await saveVersion(root, 'cifar', 3);
    assert.deepEqual([...scanRepository(dir)].map(([name, versions]) => [name, versions.map((v) => v.version)]), [['cifar', [3]]]);
    const server = await testServer(dir);
    servers.push(server);
    assert.deepEqual(server.ctx.repository.snapshot().map((m) => [m.name, m.servingVersions]), [['cifar', [3]]]);
  });

  it('a run directory serves its model/ under the run\'s name, else its id; so does the run\'s model/ folder', async () => {
    const runs = tempRepository();
    const named = await fakeRun(runs, '20260101-000000-aaaa', { name: 'cat-vs-dog v2' });
    const plain = await fakeRun(runs, '20260102-000000-bbbb');
    assert.deepEqual(detectLayout(named), { kind: 'run', root: named, name: 'cat-vs-dog-v2', version: 1, dir: path.join(named, 'model') });
    assert.equal(detectLayout(path.join(named, 'model')).kind, 'model');
    assert.equal((detectLayout(path.join(named, 'model')) as { name: string }).name, 'cat-vs-dog-v2');
    assert.equal((detectLayout(plain) as { name: string }).name, '20260102-000000-bbbb');
    for (const [models, name] of [[named, 'cat-vs-dog-v2'], [plain, '20260102-000000-bbbb'], [path.join(plain, 'model'), '20260102-000000-bbbb']]) {
      const server = await testServer(models);
      servers.push(server);
      assert.deepEqual(server.ctx.repository.modelNames(), [name], models);
      assert.equal((await predict(server, name)).status, 200);
    }
    // The runs directory itself is still read as a repository (its runs are not <model>/<version>/): nothing served.
    assert.equal(detectLayout(runs).kind, 'repository');
    assert.deepEqual([...scanRepository(runs).values()].flat(), []);
  });

  it('a run still training is not ready until its model/ appears, then it is served', async () => {
    const runs = tempRepository();
    const run = await fakeRun(runs, '20260103-000000-cccc', { name: 'pending', model: false });
    const server = await testServer(run);
    servers.push(server);
    assert.deepEqual(server.ctx.repository.modelNames(), []);
    assert.equal(server.ctx.repository.isReady(), false);
    assert.match(startupBanner(server, 'http://127.0.0.1:1', NO_KEYS), /none yet: the run has no model\/ until its training completes; polling is off/);
    const version = await saveVersion(runs, 'later', 1, 9);
    fs.renameSync(version, path.join(run, 'model'));
    await server.ctx.repository.refresh();
    assert.deepEqual(server.ctx.repository.modelNames(), ['pending']);
    assert.equal((await predict(server, 'pending')).status, 200);
  });

  it('model names are made URL-safe', () => {
    assert.equal(modelNameOf('My Model (v2)'), 'My-Model-v2-');
    assert.equal(modelNameOf('..hidden'), 'hidden');
    assert.equal(modelNameOf('***'), 'model');
  });
});

describe('start-up banner', () => {
  it('names the address, every model with its versions, auth and the backend', async () => {
    const root = tempRepository();
    await saveVersion(root, 'cifar', 1);
    await saveVersion(root, 'cifar', 2);
    await saveVersion(root, 'tiny', 1);
    const server = await testServer(root, { keepVersions: 2 });
    servers.push(server);
    const banner = startupBanner(server, 'http://127.0.0.1:8501', NO_KEYS);
    assert.equal(banner, [
      'insight serve: listening on http://127.0.0.1:8501',
      `  models:  ${root} (a repository of <model>/<version>/ directories)`,
      '           cifar  versions 2, 1 (serving 2, 1)',
      '           tiny   version 1',
      '  auth:    off: no API keys; every route is open to local clients (loopback only)',
      `  backend: ${server.backend}`,
      "  try:     curl -H 'Content-Type: image/jpeg' --data-binary @cat.jpg http://127.0.0.1:8501/v1/models/cifar:classify-image",
      '',
    ].join('\n'));
    assert.match(server.backend, /^(torch|cpu)$/);
    assert.match(startupBanner(server, 'http://x', KEYS), /\n {2}auth: {4}on: 1 inference key, 1 admin key \(Authorization: Bearer <key>\)\n/);
    const empty = await testServer(tempRepository());
    servers.push(empty);
    assert.match(startupBanner(empty, 'http://x', NO_KEYS), /\n {11}none yet: no <model>\/<version>\/model\.json under .*; polling is off \(--poll-ms 0\): restart once it is there\n/);
  });

  it('insight serve --models <run dir> serves the run and prints the banner on stderr, the JSON ready line on stdout', { timeout: 90_000 }, async () => {
    const runs = tempRepository();
    const run = await fakeRun(runs, '20260104-000000-dddd', { name: 'flowers' });
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--models', run, '--port', '0', '--log-level', 'warn'], {
      env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1', INSIGHT_API_KEYS: '', INSIGHT_ADMIN_KEYS: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    try {
      const deadline = Date.now() + 60_000;
      while (!/try: /.test(stderr) && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const ready = JSON.parse(stdout.split('\n').find((l) => l.includes('"insight serve ready"')) ?? 'null');
      assert.ok(ready, `ready line on stdout:\n${stdout}\n${stderr}`);
      assert.deepEqual(ready.models, ['flowers']);
      assert.match(stderr, new RegExp(`^insight serve: listening on ${ready.url}\n`, 'm'));
      assert.match(stderr, /\n {2}models: {2}.*20260104-000000-dddd \(a run directory: its model\/ as "flowers" version 1\)\n {11}flowers {2}version 1\n/);
      assert.match(stderr, /\n {2}auth: {4}off: no API keys/);
      assert.doesNotMatch(stdout, /listening on/, 'the banner is not mixed into the JSON logs');
      const res = await fetch(`${ready.url}/v1/models/flowers:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [instance(1)] }) });
      assert.equal(res.status, 200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  });
});
