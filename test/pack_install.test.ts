// The published packages, as a user gets them: `npm pack` both workspaces, install the tarballs into a fresh
// project outside the monorepo (dependencies from the registry, the addon built by the install script), then use
// them the way the README says — the library trains one epoch on a few images and predicts, the `insight` bin
// answers, and the backend package alone selects `torch`; the shipped examples compile with TypeScript against the
// installed declarations and train a custom model through `insight train --model` and through `train({ model })`.
// Catches what workspace links hide: a missing `files` entry, an import of a dev dependency, a subpath export that
// points nowhere, declarations that do not compile, a second copy of TensorFlow.js.
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
/** The TypeScript and Node types the repository builds with, for the consumer's compile. */
const versionOf = (name: string): string => (JSON.parse(fs.readFileSync(path.join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

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
    // As the README's install section says: onnxruntime-node's CPU binaries ship in its npm package; its install script
    // would fetch CUDA ones from nuget.org (no GPU needed here, and no internet in CI).
    fs.writeFileSync(path.join(project, '.npmrc'), 'onnxruntime-node-install=skip\n');
    // Both tarballs in one install: the backend tarball satisfies insight's dependency on it.
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packed.map((p) => `./${path.basename(p.filename)}`),
      `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`]);
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
      const loadedOnnxRuntime = Object.keys(require.cache).some((file) => file.includes('/node_modules/onnxruntime-node/'));
      const tune = require('${insightName}/tune');
      const loadedStorage = Object.keys(require.cache).some((file) => ['/node_modules/better-sqlite3/', '/node_modules/pg/'].some((dir) => file.includes(dir)));
      const serve = require('${insightName}/serve'), track = require('${insightName}/track'), finetune = require('${insightName}/finetune');
      const compress = require('${insightName}/compress');
      console.log(JSON.stringify({
        main: ['train', 'finetune', 'compress', 'distill', 'exportToOnnx', 'tune', 'tuneWorker', 'showStudy', 'evaluate', 'predict', 'createModel', 'fit', 'Adam', 'DataLoader', 'RunDir',
          'InsightError', 'tf', 'tfl'].filter((n) => main[n] === undefined),
        internal: ['formatTable', 'argmaxRows', 'mixSeeds', 'ruleError', 'RunIndex', 'createServe', 'OnnxModel'].filter((n) => main[n] !== undefined),
        subpaths: [typeof serve.createServe, typeof track.RunIndex, typeof finetune.mergeLora, typeof compress.exportOnnx, typeof compress.OnnxModel, typeof compress.calibrate,
          typeof tune.TpeSampler, typeof tune.parseSearchSpace],
        loadedServer, loadedOnnxRuntime, loadedStorage,
      }));`]);
    assert.deepEqual(JSON.parse(out), { main: [], internal: [], subpaths: Array(8).fill('function'), loadedServer: false, loadedOnnxRuntime: false, loadedStorage: false });
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

  it('compiles the shipped examples against the installed declarations; without skipLibCheck only TensorFlow.js\'s fail', () => {
    const examples = path.join(project, 'examples');
    fs.cpSync(path.join(project, 'node_modules', insightName, 'examples'), examples, { recursive: true });
    const tsc = (name: string, options: Record<string, unknown>) => {
      fs.writeFileSync(path.join(project, name), JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', esModuleInterop: true, noEmit: true, strict: true, ...options },
        include: ['examples/*.ts'],
      }));
      return spawnSync(process.execPath, [path.join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', name], { cwd: project, encoding: 'utf8', timeout: 300_000 });
    };
    const skipping = tsc('tsconfig.skip.json', { skipLibCheck: true });
    assert.equal(skipping.status, 0, `strict with skipLibCheck:\n${skipping.stdout}`);
    const lenient = tsc('tsconfig.lenient.json', { skipLibCheck: false, strictNullChecks: false });
    assert.equal(lenient.status, 0, `skipLibCheck false without strictNullChecks:\n${lenient.stdout}`);
    // Strict without skipLibCheck: tfjs-layers 4.22's declarations fail strictNullChecks (the README says so); ours pass.
    const strict = tsc('tsconfig.strict.json', { skipLibCheck: false });
    const failing = [...new Set([...strict.stdout.matchAll(/^(\S+?)\(\d+,\d+\): error TS\d+/gm)].map((m) => m[1]))];
    assert.ok(failing.length > 0, `tfjs-layers' declarations now pass strictNullChecks: drop the README's skipLibCheck note\n${strict.stdout}`);
    assert.deepEqual(failing.filter((file) => !file.startsWith('node_modules/@tensorflow/')), [], strict.stdout);
  });

  it('trains a custom model from the shipped example, through `insight train --model` and through train({ model })', () => {
    const example = path.join('node_modules', insightName, 'examples', 'custom-model.ts');
    const common = ['--data', imageFolder, '--limit', '60', '--epochs', '1'];
    const cli = spawnSync(path.join(project, 'node_modules', '.bin', 'insight'), ['train', '--model', example, ...common,
      '--batch-size', '16', '--workers', '0', '--no-tensorboard', '--progress', 'log', '--runs-dir', 'cli-runs'], { cwd: project, encoding: 'utf8', timeout: 600_000 });
    assert.equal(cli.status, 0, `${cli.stdout}\n${cli.stderr}`);
    assert.ok(cli.stdout.includes(`model custom ${example} (`), cli.stdout);
    assert.doesNotMatch(cli.stderr, /Platform node has already been set/);
    const [id] = fs.readdirSync(path.join(project, 'cli-runs'));
    const meta = JSON.parse(fs.readFileSync(path.join(project, 'cli-runs', id, 'model', 'model.json'), 'utf8')).userDefinedMetadata.insight;
    assert.deepEqual([meta.architecture, meta.architectureOptions], ['custom', { source: 'module', path: example, name: 'small_convnet' }]);

    // The example run as a script: its train({ model: build }) and predict on the saved run.
    const script = spawnSync(process.execPath, ['--import', 'tsx', example, ...common], { cwd: project, encoding: 'utf8', timeout: 600_000 });
    assert.equal(script.status, 0, `${script.stdout}\n${script.stderr}`);
    assert.match(script.stdout, /^runs\/\S+: accuracy \d\.\d{4} on \d+ images$/m);
    assert.match(script.stdout, /\.jpg: \w+ \(\d\.\d\d\)$/m);
    assert.doesNotMatch(script.stderr, /Platform node has already been set/);
  });

  it('runs the insight command from node_modules/.bin', () => {
    const help = run(path.join(project, 'node_modules', '.bin', 'insight'), ['--help']);
    assert.match(help, /Usage: insight/);
    for (const command of ['train', 'evaluate', 'predict', 'finetune', 'serve', 'runs', 'dashboard']) assert.match(help, new RegExp(`\\b${command}\\b`));
  });
});
