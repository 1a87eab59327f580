// The published packages, as a user gets them: `npm pack` both workspaces, install the tarballs into a fresh
// project outside the monorepo (dependencies from the registry, the addon built by the install script), then use
// them the way the README says — the library trains one epoch on a few images and predicts, the `insight` bin
// answers, and the backend package alone selects `torch`. Catches what workspace links hide: a missing `files`
// entry, an import of a dev dependency, a subpath export that points nowhere.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

const repo = path.resolve(__dirname, '..');
const sharedData = process.env.INSIGHT_SHARED_DATA ?? path.resolve(repo, '..', 'shared', 'data');
const imageFolder = path.join(sharedData, 'cifar10-jpg-mini');
const workspaces = ['packages/tfjs-backend-torch', 'packages/insight'];
const nameOf = (dir: string): string => (JSON.parse(fs.readFileSync(path.join(repo, dir, 'package.json'), 'utf8')) as { name: string }).name;
const [backendName, insightName] = workspaces.map(nameOf);

let project = '';

/** Runs a command in the project; on failure the assertion shows its output. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, args, { cwd: project, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('packed packages in a fresh project', { timeout: 900_000 }, () => {
  before(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-pack-'));
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', project, ...workspaces.flatMap((w) => ['-w', w])],
      { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { filename: string; files: { path: string }[] }[];
    assert.equal(packed.length, 2);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pack-install-check', private: true, version: '1.0.0' }));
    // Both tarballs in one install: the backend tarball satisfies insight's dependency on it.
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packed.map((p) => `./${path.basename(p.filename)}`)]);
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  it('ships compiled code and the addon sources, not tests', () => {
    for (const [name, files] of [[backendName, ['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'binding.gyp', 'binding/dispatch.cc', 'scripts/build-addon.js']],
      [insightName, ['package.json', 'README.md', 'bin/insight.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js']]] as const) {
      const dir = path.join(project, 'node_modules', name);
      for (const file of files) assert.ok(fs.existsSync(path.join(dir, file)), `${name} lacks ${file}`);
      assert.ok(!fs.existsSync(path.join(dir, 'test')), `${name} ships its tests`);
    }
    assert.ok(fs.existsSync(path.join(project, 'node_modules', backendName, 'build', 'Release', 'tfjs_torch.node')), 'the install script did not build the addon');
  });

  it('selects the torch backend on import', () => {
    const out = run(process.execPath, ['-e', `const tf = require('@tensorflow/tfjs-core'); require('${backendName}');
      tf.ready().then(() => console.log(tf.getBackend(), tf.add(tf.tensor([1, 2]), 1).dataSync().join(',')));`]);
    assert.equal(out.trim(), 'torch 2,3');
  });

  it('exports the chosen surface: subpath entry points resolve, internals stay internal', () => {
    const out = run(process.execPath, ['-e', `
      const main = require('${insightName}');
      const loadedServer = Object.keys(require.cache).some((file) => file.includes('/node_modules/fastify/'));
      const serve = require('${insightName}/serve'), track = require('${insightName}/track'), finetune = require('${insightName}/finetune');
      console.log(JSON.stringify({
        main: ['train', 'finetune', 'evaluate', 'predict', 'createModel', 'fit', 'Adam', 'DataLoader', 'RunDir', 'InsightError'].filter((n) => main[n] === undefined),
        internal: ['formatTable', 'argmaxRows', 'mixSeeds', 'ruleError', 'RunIndex', 'createServe'].filter((n) => main[n] !== undefined),
        subpaths: [typeof serve.createServe, typeof track.RunIndex, typeof finetune.mergeLora],
        loadedServer,
      }));`]);
    assert.deepEqual(JSON.parse(out), { main: [], internal: [], subpaths: ['function', 'function', 'function'], loadedServer: false });
  });

  it('trains one epoch on a few images and predicts, through the library', () => {
    const script = `
      const { train, predict } = require('${insightName}');
      (async () => {
        const result = await train({ data: ${JSON.stringify(imageFolder)}, limit: 120, epochs: 1, batchSize: 16, workers: 0,
          runsDir: 'runs', progress: 'none', tensorboard: false });
        result.model.dispose();
        const predictions = await predict({ model: result.runDir, images: [${JSON.stringify(path.join(imageFolder, 'cat'))}], topK: 2 });
        console.log(JSON.stringify({ runDir: result.runDir, backend: result.backend, accuracy: result.report.accuracy,
          epochs: result.state.epoch, predictions }));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    const out = JSON.parse(run(process.execPath, ['-e', script]).trim().split('\n').pop()!) as {
      runDir: string; backend: string; accuracy: number; epochs: number;
      predictions: { top: { className: string; probability: number }[] }[];
    };
    assert.equal(out.backend, 'torch');
    assert.equal(out.epochs, 1);
    assert.ok(out.accuracy >= 0 && out.accuracy <= 1, `accuracy ${out.accuracy}`);
    assert.equal(out.predictions.length, fs.readdirSync(path.join(imageFolder, 'cat')).length);
    const classes = fs.readdirSync(imageFolder).filter((entry) => fs.statSync(path.join(imageFolder, entry)).isDirectory());
    for (const prediction of out.predictions) {
      assert.equal(prediction.top.length, 2);
      for (const { className, probability } of prediction.top) {
        assert.ok(classes.includes(className), className);
        assert.ok(probability >= 0 && probability <= 1);
      }
    }
    assert.ok(fs.existsSync(path.join(project, out.runDir, 'model', 'model.json')));
  });

  it('runs the insight command from node_modules/.bin', () => {
    const help = run(path.join(project, 'node_modules', '.bin', 'insight'), ['--help']);
    assert.match(help, /Usage: insight/);
    for (const command of ['train', 'evaluate', 'predict', 'finetune', 'serve', 'runs', 'dashboard']) assert.match(help, new RegExp(`\\b${command}\\b`));
  });
});
