// Custom models as first-class citizens (issue 18 item 4), end to end on a small image folder made here: train()
// with a builder function gives the whole run (checkpoints, metrics, report, model with metadata), which predict,
// evaluate, serve and explain take as they are; a stopped custom run resumes from its checkpoint's topology and ends
// bit for bit where an uninterrupted one does; `insight train --model <module>` imports the module (the example),
// and a module built on a second copy of tfjs-layers is refused with a message saying so.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { evaluate, predict, tfl, train, type ModelBuilder } from '../../src/index';
import { InsightError } from '../../src/errors';
import { explain } from '../../src/explain';
import { RunDir } from '../../src/run/run_dir';
import { runBin, runMain } from '../cli/io';
import { testServer } from '../serve/helpers';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const EXAMPLE = path.join(REPO, 'packages', 'insight', 'examples', 'custom-model.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-custom-train-'));
const folder = path.join(tmp, 'colours');
const CLASSES = ['blue', 'green', 'red']; // folder order; each is bright in its own channel
const PER_CLASS = 16;

/** <folder>/<colour>/<i>.png, 8x8: the colour's channel at 128 plus seeded noise in [0, 96) on every channel. */
async function writeColourFolder(): Promise<void> {
  let state = 2024;
  const noise = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 16) % 96;
  };
  for (const [name, channel] of [['red', 0], ['green', 1], ['blue', 2]] as const) {
    fs.mkdirSync(path.join(folder, name), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const pixels = Buffer.alloc(8 * 8 * 3);
      for (let p = 0; p < pixels.length; p++) pixels[p] = (p % 3 === channel ? 128 : 0) + noise();
      await sharp(pixels, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(path.join(folder, name, `${i}.png`));
    }
  }
}

function sink(): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY: false, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

/** conv 3x3 (4, relu) → flatten → dense logits, seeded by the run. */
const build: ModelBuilder = (inputShape, numClasses, { seed }) => tfl.sequential({
  name: 'tiny_custom',
  layers: [
    tfl.layers.conv2d({ inputShape, filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: numClasses, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
  ],
});

const settings = (runsDir: string) => ({
  data: folder, imageSize: 8, validationCount: 12, batchSize: 8, lr: 0.01, workers: 0, tensorboard: false, seed: 3, runsDir,
});
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const weightsOf = (model: tfl.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

before(writeColourFolder);
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('train({ model: builder })', () => {
  it('gives the full run, and predict, evaluate, serve and explain take its model', async () => {
    const runsDir = path.join(tmp, 'runs-full');
    const out = sink();
    const result = await train({ ...settings(runsDir), model: build, epochs: 5, progress: 'log' }, { out });
    const run = RunDir.open(result.runDir);
    assert.match(out.text, /model custom function build \(\d[\d,]* parameters\)/);
    assert.equal(run.readInfo().status, 'completed');
    assert.equal((run.readConfig() as { model: string }).model, 'custom');
    assert.deepEqual(run.readMetrics().filter((r) => r.val_loss !== undefined).map((r) => r.epoch), [1, 2, 3, 4, 5]);
    for (const file of [path.join(run.lastCheckpoint, 'model.json'), path.join(run.bestCheckpoint, 'model.json'), run.reportMetricsJson]) {
      assert.ok(fs.existsSync(file), file);
    }
    const { trainingDistribution, ...metadata } = readJson(path.join(run.modelDir, 'model.json')).userDefinedMetadata.insight;
    assert.deepEqual(metadata, {
      formatVersion: 1, architecture: 'custom', architectureOptions: { source: 'function', name: 'tiny_custom' },
      inputShape: [8, 8, 3], classNames: CLASSES, normalization: { kind: 'scale' },
    });
    // What serving's drift monitor compares with: 3 channels, 3 balanced classes (the folder has PER_CLASS of each).
    assert.equal(trainingDistribution.channelMean.length, 3);
    assert.equal(trainingDistribution.channelStd.length, 3);
    assert.deepEqual(trainingDistribution.classFrequencies.map((f: number) => f.toFixed(4)), ['0.3333', '0.3333', '0.3333']);
    assert.equal(result.report.count, 12);
    assert.ok(result.report.accuracy >= 0.9, `the colours are learnt: accuracy ${result.report.accuracy}`);

    const evaluation = await evaluate({ model: result.runDir, workers: 0 });
    assert.deepEqual(evaluation.metrics.confusion, result.report.confusion);

    const predictions = await predict({ model: result.runDir, images: [path.join(folder, 'red')], topK: 3 });
    assert.equal(predictions.length, PER_CLASS);
    assert.ok(predictions.filter((p) => p.top[0].className === 'red').length >= PER_CLASS - 2, JSON.stringify(predictions.map((p) => p.top[0].className)));

    // serve: the run's model/ as version 1 of "colours"; its probabilities are predict()'s.
    const repository = path.join(tmp, 'repository');
    fs.cpSync(run.modelDir, path.join(repository, 'colours', '1'), { recursive: true });
    const server = await testServer(repository);
    try {
      const image = path.join(folder, 'red', '0.png');
      const res = await server.app.inject({ method: 'POST', url: '/v1/models/colours:predict', payload: { instances: [{ b64: fs.readFileSync(image).toString('base64') }] } });
      assert.equal(res.statusCode, 200, res.body);
      const served = (res.json() as { predictions: number[][] }).predictions[0];
      const [direct] = await predict({ model: result.runDir, images: [image], topK: 3 });
      for (const { index, probability } of direct.top) assert.ok(Math.abs(served[index] - probability) < 1e-5, `${served[index]} vs ${probability}`);
    } finally {
      await server.close();
    }

    const explained = await explain({ model: result.runDir, images: [path.join(folder, 'green', '0.png')], methods: ['saliency'] });
    assert.deepEqual(explained.classNames, CLASSES);
    assert.equal(explained.images[0].methods.saliency?.map.length, 8 * 8);
    assert.equal(CLASSES[explained.images[0].predicted], 'green');
    result.model.dispose();
  });

  it('a stopped run resumes from its checkpoint\'s topology and ends where an uninterrupted run ends', async () => {
    const runsDir = path.join(tmp, 'runs-resume');
    const whole = await train({ ...settings(runsDir), model: build, epochs: 2, progress: 'none' });
    const stop = { name: 'stop', onEpochBegin: (epoch: number) => { if (epoch === 1) throw new Error('stopped for the test'); } };
    await assert.rejects(train({ ...settings(runsDir), model: build, epochs: 2, progress: 'none' }, { callbacks: [stop] }), /stopped for the test/);
    const stopped = fs.readdirSync(runsDir).map((id) => path.join(runsDir, id)).find((dir) => dir !== whole.runDir && RunDir.tryOpen(dir) !== null)!;
    assert.equal(RunDir.open(stopped).readInfo().status, 'failed');

    await assert.rejects(train({ model: build }, { resume: stopped }), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_RESUME' &&
      /^A resumed run continues with its saved config; only .* may be given\. Received: model="function build"\. Drop model: a resumed run rebuilds its model from its last checkpoint\.$/.test(e.message));
    const out = sink();
    const resumed = await train({ progress: 'log' }, { resume: stopped, out });
    assert.match(out.text, /model custom 'tiny_custom' \(from the checkpoint's topology\)/);
    assert.equal(resumed.state.epoch, 2);
    assert.deepEqual(weightsOf(resumed.model), weightsOf(whole.model));
    assert.equal(readJson(path.join(stopped, 'model', 'model.json')).userDefinedMetadata.insight.architecture, 'custom');
    whole.model.dispose();
    resumed.model.dispose();
  });

  it('refuses "custom" without a model, zoo options, and a model that does not fit the data, before any run directory exists', async () => {
    const runsDir = path.join(tmp, 'runs-never');
    await assert.rejects(train({ ...settings(runsDir), model: 'custom' }), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' &&
      e.message.startsWith('model \'custom\' is what a run records for a model passed to train() as an object or function; it names no model by itself. Received: model="custom".'));
    await assert.rejects(train({ ...settings(runsDir), model: build, dropout: 0.5, depth: 20 }), (e: unknown) => e instanceof InsightError &&
      e.code === 'INSIGHT_E_CONFIG' && e.message === 'depth, width and dropout configure the zoo\'s models; a custom model is built as its builder or file says. ' +
        'Received: model="custom", dropout=0.5. Build them into your model, or drop those settings.');
    const wrongSize: ModelBuilder = (_shape, numClasses, options) => build([16, 16, 3], numClasses, options);
    await assert.rejects(train({ ...settings(runsDir), model: wrongSize }), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' &&
      /Received: model="function wrongSize", modelInput=\[null,16,16,3\], dataInput=\[null,8,8,3\]\./.test(e.message));
    assert.equal(fs.existsSync(runsDir), false);
  });
});

describe('insight train --model <file>', () => {
  it('imports the example module, records where the model came from, and predict reads the result', async () => {
    const runsDir = path.join(tmp, 'runs-cli');
    const { status, stdout, stderr } = await runMain(['train', '--model', EXAMPLE, '--data', folder, '--image-size', '8', '--validation-count', '12',
      '--epochs', '1', '--batch-size', '8', '--workers', '0', '--no-tensorboard', '--progress', 'log', '--runs-dir', runsDir]);
    assert.equal(status, 0, stderr);
    assert.ok(stdout.includes(`model custom ${EXAMPLE} (`), stdout);
    const [id] = fs.readdirSync(runsDir);
    const run = RunDir.open(path.join(runsDir, id));
    assert.equal((run.readConfig() as { model: string }).model, EXAMPLE);
    assert.deepEqual(readJson(path.join(run.modelDir, 'model.json')).userDefinedMetadata.insight.architectureOptions,
      { source: 'module', path: EXAMPLE, name: 'small_convnet' });
    const predicted = await runMain(['predict', run.dir, path.join(folder, 'blue', '1.png'), '--top-k', '1']);
    assert.equal(predicted.status, 0, predicted.stderr);
    assert.match(predicted.stdout, /\b(blue|green|red)\b/);
  });

  it('refuses a module whose model comes from a second copy of tfjs-layers, saying how to use Insight\'s own', () => {
    // A user's project with its own @tensorflow/tfjs-layers (a copy of the package), built over the same tfjs-core.
    const project = path.join(tmp, 'second-copy');
    const layersCopy = path.join(project, 'node_modules', '@tensorflow', 'tfjs-layers');
    const real = path.join(REPO, 'node_modules');
    fs.mkdirSync(path.join(layersCopy, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(real, '@tensorflow', 'tfjs-layers', 'package.json'), path.join(layersCopy, 'package.json'));
    fs.copyFileSync(path.join(real, '@tensorflow', 'tfjs-layers', 'dist', 'tf-layers.node.js'), path.join(layersCopy, 'dist', 'tf-layers.node.js'));
    fs.symlinkSync(path.join(real, '@tensorflow', 'tfjs-core'), path.join(project, 'node_modules', '@tensorflow', 'tfjs-core'));
    fs.symlinkSync(path.join(real, 'seedrandom'), path.join(project, 'node_modules', 'seedrandom'));
    const module = path.join(project, 'own_tfjs.js');
    fs.writeFileSync(module, `const tfl = require('@tensorflow/tfjs-layers');
module.exports = (inputShape, numClasses) => tfl.sequential({ layers: [tfl.layers.flatten({ inputShape }), tfl.layers.dense({ units: numClasses })] });\n`);
    const child = runBin(['train', '--model', module, '--data', folder, '--image-size', '8', '--workers', '0', '--runs-dir', path.join(project, 'runs')]);
    assert.equal(child.status, 2, child.stderr);
    assert.match(child.stderr, /^Error INSIGHT_E_CONFIG: A custom model must be built with the TensorFlow\.js Insight runs on; this one comes from a second copy of @tensorflow\/tfjs-layers\. Received: model="what .*own_tfjs\.js returned", name="sequential_\d+"\. Import tf and tfl from '@insight\/insight'/);
    assert.equal(fs.existsSync(path.join(project, 'runs')), false);
  });
});
