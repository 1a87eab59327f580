// `insight calibrate` end to end on a tiny run (1 epoch on 512 CIFAR-10 images): the temperature lands in model.json
// (weights byte-identical), the report holds calibration.json and both diagrams, predict's probabilities become
// softmax(logits / T), evaluate then reports the calibrated ECE, calibrating again refits from T = 1, --out writes a
// calibrated copy and leaves the source alone, a version calibrated in place in a serving repository is served with
// its T (REST :predict), and bad settings are refused before anything is written.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { initBackend, tf } from '../../src/backend';
import { calibrate } from '../../src/calibrate/calibrate';
import { evaluate } from '../../src/eval/evaluate';
import { predict } from '../../src/eval/predict';
import { loadModel } from '../../src/run/model_io';
import { testServer } from '../serve/helpers';
import { runMain } from '../cli/io';
import { CIFAR_ARCHIVE, JPG_MINI } from '../shared_data';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-calibrate-'));
let runDir: string;
const images = ['cat', 'ship', 'frog'].map((name) => path.join(JPG_MINI, name, fs.readdirSync(path.join(JPG_MINI, name)).sort()[0]));
const read = (file: string) => fs.readFileSync(file);
const modelJson = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));

/** All 10 class probabilities per image, in class order. */
async function probabilities(model: string): Promise<number[][]> {
  const predictions = await predict({ model, images, topK: 10 });
  return predictions.map((p) => {
    const row = new Array<number>(10).fill(0);
    for (const t of p.top) row[t.index] = t.probability;
    return row;
  });
}

/** softmax(log(p) / T) per row: log p is the logits up to a per-row constant, so this is softmax(logits / T). */
function withTemperature(rows: number[][], temperature: number): number[][] {
  return rows.map((p) => {
    const z = p.map((v) => Math.log(v) / temperature);
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  });
}

before(async () => {
  await initBackend();
  const trained = await runMain(['train', '--data', CIFAR_ARCHIVE, '--limit', '512', '--epochs', '1', '--runs-dir', path.join(tmp, 'runs'),
    '--progress', 'none', '--no-tensorboard', '--seed', '1']);
  assert.equal(trained.status, 0, trained.stderr);
  runDir = path.join(tmp, 'runs', fs.readdirSync(path.join(tmp, 'runs'))[0]);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('insight calibrate', () => {
  it('stores T in model.json (weights untouched), writes the report, and predict applies softmax(logits / T)', async () => {
    const modelDir = path.join(runDir, 'model');
    const weightsBefore = read(path.join(modelDir, 'weights.bin'));
    const jsonBefore = modelJson(modelDir);
    const plain = await probabilities(runDir);

    const result = await runMain(['calibrate', runDir, '--bins', '10']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Model .*model on validation \(last 51 of 512 images\)\nFitted temperature \d+\.\d{4} in \d+ steps/);
    assert.match(result.stdout, /ECE \(10 bins\) +\d+\.\d\d% +\d+\.\d\d%/);
    assert.match(result.stdout, /Temperature stored in .*model \(model\.json inference\.temperature; weights unchanged; was 1\)/);

    assert.deepEqual(read(path.join(modelDir, 'weights.bin')), weightsBefore, 'weights.bin byte-identical');
    const jsonAfter = modelJson(modelDir);
    const temperature = jsonAfter.userDefinedMetadata.insight.inference.temperature;
    assert.ok(temperature > 0.05 && temperature < 20 && temperature !== 1, `T ${temperature}`);
    // Only the temperature changed in model.json.
    delete jsonAfter.userDefinedMetadata.insight.inference;
    assert.deepEqual(jsonAfter, jsonBefore);
    assert.deepEqual(fs.readdirSync(modelDir).sort(), ['model.json', 'weights.bin']);

    const reportDir = path.join(runDir, 'calibration');
    assert.deepEqual(fs.readdirSync(reportDir).sort(), ['calibration.json', 'reliability_after.png', 'reliability_before.png']);
    const summary = JSON.parse(fs.readFileSync(path.join(reportDir, 'calibration.json'), 'utf8'));
    assert.equal(summary.temperature, temperature);
    assert.equal(summary.previousTemperature, 1);
    assert.equal(summary.images, 51);
    assert.equal(summary.before.bins.length, 10);
    assert.ok(summary.after.nll <= summary.before.nll + 1e-9, `NLL ${summary.before.nll} → ${summary.after.nll}`);
    assert.equal(summary.after.accuracy, summary.before.accuracy, 'temperature never changes the argmax');
    for (const png of ['reliability_before.png', 'reliability_after.png']) assert.equal((await sharp(path.join(reportDir, png)).metadata()).format, 'png');

    const calibrated = await probabilities(runDir);
    const expected = withTemperature(plain, temperature);
    calibrated.forEach((row, i) => row.forEach((p, k) => assert.ok(Math.abs(p - expected[i][k]) < 1e-4, `image ${i} class ${k}: ${p} vs ${expected[i][k]}`)));

    // evaluate applies the stored T: its ECE is calibrate's "after" figure (same images, same 10 bins? evaluate uses 15).
    const evaluated = await evaluate({ model: runDir, out: path.join(tmp, 'eval') });
    const fifteen = await calibrate({ model: runDir, out: path.join(tmp, 'copy15'), bins: 15 });
    assert.ok(Math.abs(evaluated.metrics.calibration!.ece - fifteen.after.calibration.ece) < 1e-5,
      `evaluate ECE ${evaluated.metrics.calibration!.ece} vs calibrate ${fifteen.after.calibration.ece}`);
    assert.ok(Math.abs(evaluated.metrics.loss - fifteen.after.nll) < 1e-4, `evaluate loss ${evaluated.metrics.loss} vs NLL ${fifteen.after.nll}`);
    assert.ok(fs.readdirSync(path.join(tmp, 'eval')).includes('reliability.png'));
    const metrics = JSON.parse(fs.readFileSync(path.join(tmp, 'eval', 'metrics.json'), 'utf8'));
    assert.equal(typeof metrics.calibration.ece, 'number');
    assert.equal(metrics.calibration.bins.length, 15);

    // Calibrating again measures at T = 1 again: the same temperature (and says what the model had).
    const again = await calibrate({ model: runDir, bins: 10 });
    assert.ok(Math.abs(again.fit.temperature - temperature) < 1e-6, `${again.fit.temperature} vs ${temperature}`);
    assert.equal(again.previousTemperature, temperature);
  });

  it('--out writes a calibrated copy (model/ + report) and leaves the source as it was', async () => {
    const source = path.join(runDir, 'checkpoints', 'best');
    const files = Object.fromEntries(fs.readdirSync(source).map((name) => [name, read(path.join(source, name))]));
    const out = path.join(tmp, 'calibrated');
    const result = await calibrate({ model: source, out });
    assert.equal(result.modelDir, path.join(out, 'model'));
    assert.deepEqual(Object.fromEntries(fs.readdirSync(source).map((name) => [name, read(path.join(source, name))])), files, 'source untouched');
    assert.deepEqual(fs.readdirSync(out).sort(), ['calibration.json', 'model', 'reliability_after.png', 'reliability_before.png']);
    for (const name of Object.keys(files).filter((n) => n !== 'model.json')) assert.deepEqual(read(path.join(out, 'model', name)), files[name], name);
    assert.equal(modelJson(path.join(out, 'model')).userDefinedMetadata.insight.inference.temperature, result.fit.temperature);
    // The copy is a model: predict reads it.
    assert.equal((await predict({ model: out, images: [images[0]], topK: 1 }))[0].top.length, 1);
  });

  it('a model calibrated in place inside a serving repository is served with softmax(logits / T)', async () => {
    const version = path.join(tmp, 'repository', 'cifar', '1');
    fs.mkdirSync(version, { recursive: true });
    for (const name of ['model.json', 'weights.bin']) fs.copyFileSync(path.join(runDir, 'checkpoints', 'last', name), path.join(version, name));
    // A bare model directory: the data is named, and the report goes to calibration/ inside it.
    const result = await calibrate({ model: version, data: CIFAR_ARCHIVE, limit: 512 });
    assert.equal(result.reportDir, path.join(version, 'calibration'));
    assert.equal(result.split, 'validation (last 51 of 512 images)');
    // Normalized inputs in [-1, 1), 2 instances of 32x32x3; the raw logits from the uncalibrated weights.
    const xs = [1, 2].map((seed) => Array.from({ length: 32 }, (_, i) => Array.from({ length: 32 }, (__, j) => [0, 1, 2].map((c) => Math.sin(seed * 7 + i * 0.3 + j * 0.7 + c)))));
    const model = await loadModel(path.join(runDir, 'checkpoints', 'last'));
    const logits = tf.tidy(() => (model.predict(tf.tensor4d(xs.flat(3), [2, 32, 32, 3])) as tf.Tensor2D).arraySync());
    model.dispose();
    const server = await testServer(path.join(tmp, 'repository'));
    try {
      const res = await server.app.inject({ method: 'POST', url: '/v1/models/cifar:predict', payload: { instances: xs } });
      assert.equal(res.statusCode, 200, res.body);
      const served = (res.json() as { predictions: number[][] }).predictions;
      const expected = logits.map((row) => withTemperature([row.map(Math.exp)], result.fit.temperature)[0]);
      served.forEach((row, i) => row.forEach((p, k) => assert.ok(Math.abs(p - expected[i][k]) < 1e-5, `instance ${i} class ${k}: ${p} vs ${expected[i][k]}`)));
    } finally {
      await server.close();
    }
  });

  it('refuses an --out that holds the model, a run or other files, and a bad --bins, before writing anything', async () => {
    const json = read(path.join(runDir, 'model', 'model.json'));
    for (const out of [runDir, path.join(runDir, 'model'), tmp]) {
      const result = await runMain(['calibrate', runDir, '--out', out]);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /INSIGHT_E_CONFIG.*--out is replaced by the calibrated copy/s);
    }
    // A folder of other files would be deleted with the swap: refused, its files kept.
    const folder = path.join(tmp, 'notes');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'keep.txt'), 'mine');
    const foreign = await runMain(['calibrate', runDir, '--out', folder]);
    assert.equal(foreign.status, 2, foreign.stderr);
    assert.match(foreign.stderr, /INSIGHT_E_CONFIG.*an existing --out must be an empty directory or an earlier calibrated copy.*holds="keep\.txt"/s);
    assert.equal(fs.readFileSync(path.join(folder, 'keep.txt'), 'utf8'), 'mine');
    const bins = await runMain(['calibrate', runDir, '--bins', '0']);
    assert.notEqual(bins.status, 0);
    assert.match(bins.stderr, /bins/);
    assert.deepEqual(read(path.join(runDir, 'model', 'model.json')), json);
  });
});
