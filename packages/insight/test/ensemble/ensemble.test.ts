// insight ensemble: the saved model's probabilities are the weighted average of the members' softmaxes (a member's
// temperature applied), plain TensorFlow.js loads it (an IOHandler written here, no Insight code) with the same
// outputs, mismatched members and bad settings are refused with the house messages, and evaluate/predict take it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { loadImageFolder, normalizeImages } from '../../src/data';
import { buildEnsembleModel, ensemble, ENSEMBLE_SCHEMA } from '../../src/ensemble';
import { rejectsWith } from './helpers';
import { evaluate } from '../../src/eval/evaluate';
import { predict } from '../../src/eval/predict';
import { createModel } from '../../src/models';
import { getInsightMetadata, setInsightMetadata, type InsightModelMetadata } from '../../src/models/metadata';
import { exportOnnx, OnnxModel, readOnnxMetadata } from '../../src/onnx';
import { fieldsOf } from '../../src/run/config_schema';
import { loadModel, saveModel } from '../../src/run/model_io';
import { runMain } from '../cli/io';
import { testServer } from '../serve/helpers';
import { JPG_MINI } from '../shared_data';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-ensemble-'));
const dirs = { a: path.join(tmp, 'a'), b: path.join(tmp, 'b'), c: path.join(tmp, 'c') };
const TEMPERATURE_B = 2.5;

/** Saves a zoo model with `edit` applied to its metadata. */
async function saveMember(dir: string, name: string, seed: number, edit: (m: InsightModelMetadata) => InsightModelMetadata = (m) => m,
  extra: Record<string, number> = {}): Promise<void> {
  const model = createModel(name, { inputShape: [32, 32, 3], numClasses: 10, classNames: CLASSES, normalization: { kind: 'scale' }, seed, ...extra });
  setInsightMetadata(model, edit(getInsightMetadata(model, dir)));
  await saveModel(model, dir);
  model.dispose();
}

/** Plain TensorFlow.js: an IOHandler reading model.json and the files its manifest names — no Insight code. */
function plainHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const bytes = Buffer.concat(manifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
        return [manifest.flatMap((group) => group.weights), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)];
      });
    },
  };
}

/** Σ_i w_i softmax(member_i(x) / T_i), by hand from the members' saved files: [n, classes]. */
async function averageByHand(x: tf.Tensor4D, members: { dir: string; weight: number; temperature: number }[]): Promise<Float32Array> {
  const parts: tf.Tensor[] = [];
  for (const member of members) {
    const model = await tfl.loadLayersModel(plainHandler(member.dir));
    parts.push(tf.tidy(() => tf.mul(tf.softmax(tf.div(model.predict(x) as tf.Tensor2D, member.temperature)), member.weight)));
    model.dispose();
  }
  const sum = tf.addN(parts);
  const values = sum.dataSync() as Float32Array;
  tf.dispose([...parts, sum]);
  return values;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

before(async () => {
  await initBackend();
  await saveMember(dirs.a, 'seed-cnn', 1);
  await saveMember(dirs.b, 'seed-cnn', 2, (m) => ({ ...m, inference: { temperature: TEMPERATURE_B } }));
  await saveMember(dirs.c, 'resnet', 3, (m) => m, { depth: 8, width: 4 });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('ensemble', () => {
  const out = path.join(tmp, 'abc');
  const x = () => tf.randomUniform([5, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;

  it('saves one model whose probabilities are the weighted average of the members\' softmaxes (temperature applied)', async () => {
    const lines: string[] = [];
    const result = await ensemble({ members: [dirs.a, dirs.b, dirs.c], weights: [1, 2, 1], out }, { say: (line) => lines.push(line) });
    assert.equal(result.out, out);
    const meta = result.metadata;
    assert.equal(meta.architecture, 'ensemble');
    assert.deepEqual(meta.inference, { output: 'probabilities' });
    assert.deepEqual(meta.classNames, CLASSES);
    assert.deepEqual(meta.inputShape, [32, 32, 3]);
    assert.deepEqual(meta.normalization, { kind: 'scale' });
    assert.equal(meta.ensemble?.kind, 'members');
    assert.deepEqual(meta.ensemble?.members.map((m) => [m.path, m.weight, m.temperature, m.architecture]),
      [[dirs.a, 0.25, 1, 'seed-cnn'], [dirs.b, 0.5, TEMPERATURE_B, 'seed-cnn'], [dirs.c, 0.25, 1, 'resnet']]);
    const fingerprints = meta.ensemble!.members.map((m) => m.fingerprint);
    assert.ok(fingerprints.every((f) => /^[0-9a-f]{64}$/.test(f)) && new Set(fingerprints).size === 3, fingerprints.join(' '));
    assert.match(lines.at(-1)!, /^Ensemble of 3 members \(average of their probabilities\): /);

    const input = x();
    const expected = await averageByHand(input, [
      { dir: dirs.a, weight: 0.25, temperature: 1 }, { dir: dirs.b, weight: 0.5, temperature: TEMPERATURE_B }, { dir: dirs.c, weight: 0.25, temperature: 1 }]);
    const model = await loadModel(out);
    const got = tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync());
    assert.deepEqual(model.outputs[0].shape, [null, 10]);
    model.dispose();
    assert.ok(maxAbsDiff(got, expected) < 1e-6, `max |ensemble - by hand| = ${maxAbsDiff(got, expected)}`);
    for (let row = 0; row < 5; row++) assert.ok(Math.abs(Array.from(got.slice(row * 10, row * 10 + 10)).reduce((s, v) => s + v, 0) - 1) < 1e-5);
    input.dispose();
  });

  it('plain TensorFlow.js loads the saved files (standard layers only) and gives the same outputs', async () => {
    const json = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: { class_name: string }[] } } };
    const classes = new Set(json.modelTopology.config.layers.map((l) => l.class_name));
    for (const name of classes) {
      assert.ok(['InputLayer', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'BatchNormalization', 'Activation', 'Add', 'Rescaling',
        'GlobalAveragePooling2D', 'Dropout'].includes(name), name);
    }
    assert.ok(classes.has('Rescaling') && classes.has('Add'));
    const plain = await tfl.loadLayersModel(plainHandler(out));
    const insight = await loadModel(out);
    const input = x();
    const [a, b] = tf.tidy(() => [(plain.predict(input) as tf.Tensor).dataSync(), (insight.predict(input) as tf.Tensor).dataSync()]);
    assert.equal(maxAbsDiff(a, b), 0);
    assert.equal((plain.getUserDefinedMetadata() as { insight: InsightModelMetadata }).insight.inference?.output, 'probabilities');
    tf.dispose([input]);
    plain.dispose();
    insight.dispose();
  });

  it('an ensemble can be a member: it is nested as it is, its weights multiplied by its own', async () => {
    const nested = path.join(tmp, 'nested');
    await ensemble({ members: [out, dirs.a], weights: '3,1', out: nested });
    const input = x();
    const outer = await loadModel(nested);
    const inner = await loadModel(out);
    const a = await loadModel(dirs.a);
    const [got, expected] = tf.tidy(() => [
      (outer.predict(input) as tf.Tensor).dataSync(),
      tf.add(tf.mul(inner.predict(input) as tf.Tensor, 0.75), tf.mul(tf.softmax(a.predict(input) as tf.Tensor), 0.25)).dataSync(),
    ]);
    assert.ok(maxAbsDiff(got, expected) < 1e-6);
    assert.deepEqual(getInsightMetadata(outer, nested).ensemble?.members.map((m) => m.architecture), ['ensemble', 'seed-cnn']);
    tf.dispose([input]);
    [outer, inner, a].forEach((m) => m.dispose());
  });

  it('buildEnsembleModel keeps a layer a member applies twice as one (shared) copy', () => {
    const input = tfl.input({ shape: [4, 4, 3] });
    const shared = tfl.layers.dense({ units: 48, name: 'shared' });
    const once = shared.apply(tfl.layers.flatten().apply(input)) as tfl.SymbolicTensor;
    const twice = shared.apply(tfl.layers.activation({ activation: 'tanh' }).apply(once)) as tfl.SymbolicTensor;
    const member = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 5 }).apply(twice) as tfl.SymbolicTensor });
    const built = buildEnsembleModel([{ model: member, weight: 0.5, output: 'logits', temperature: 1 }, { model: member, weight: 0.5, output: 'logits', temperature: 1 }], [4, 4, 3]);
    assert.equal(built.countParams(), 2 * member.countParams());
    assert.deepEqual(built.layers.filter((l) => l.name.endsWith('_shared')).map((l) => l.name), ['m0_shared', 'm1_shared']);
    const x = tf.randomNormal([3, 4, 4, 3], 0, 1, 'float32', 5);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(built.predict(x) as tf.Tensor, tf.softmax(member.predict(x) as tf.Tensor)))).dataSync()[0]);
    assert.ok(diff < 1e-6, String(diff));
    [x, built, member].forEach((t) => t.dispose());
  });

  it('predict reports the ensemble\'s probabilities as they are (no second softmax)', async () => {
    const file = path.join(JPG_MINI, 'cat', fs.readdirSync(path.join(JPG_MINI, 'cat')).sort()[0]);
    const [prediction] = await predict({ model: out, images: [file], topK: 10 });
    const ds = await loadImageFolder(path.join(JPG_MINI), { classNames: CLASSES });
    const index = ds.files.indexOf(file);
    assert.ok(index >= 0);
    const input = tf.tensor4d(normalizeImages(ds.images.subarray(index * 3072, (index + 1) * 3072), { kind: 'scale' }), [1, 32, 32, 3]);
    const expected = await averageByHand(input, [
      { dir: dirs.a, weight: 0.25, temperature: 1 }, { dir: dirs.b, weight: 0.5, temperature: TEMPERATURE_B }, { dir: dirs.c, weight: 0.25, temperature: 1 }]);
    input.dispose();
    for (const t of prediction.top) assert.ok(Math.abs(t.probability - expected[t.index]) < 1e-5, `${t.className}: ${t.probability} vs ${expected[t.index]}`);
    assert.ok(Math.abs(prediction.top.reduce((s, t) => s + t.probability, 0) - 1) < 1e-5);
  });

  it('evaluate scores the ensemble\'s probabilities: accuracy and NLL as computed by hand', async () => {
    const { metrics } = await evaluate({ model: out, data: JPG_MINI, split: 'all', workers: 0 });
    const ds = await loadImageFolder(JPG_MINI, { classNames: CLASSES });
    const input = tf.tensor4d(normalizeImages(ds.images, { kind: 'scale' }), [ds.count, 32, 32, 3]);
    const probabilities = await averageByHand(input, [
      { dir: dirs.a, weight: 0.25, temperature: 1 }, { dir: dirs.b, weight: 0.5, temperature: TEMPERATURE_B }, { dir: dirs.c, weight: 0.25, temperature: 1 }]);
    input.dispose();
    let correct = 0;
    let nll = 0;
    for (let i = 0; i < ds.count; i++) {
      const row = probabilities.subarray(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === ds.labels[i]) correct++;
      nll -= Math.log(row[ds.labels[i]]);
    }
    assert.equal(metrics.accuracy, correct / ds.count);
    assert.ok(Math.abs(metrics.loss - nll / ds.count) < 1e-4, `loss ${metrics.loss} vs ${nll / ds.count}`);
  });
});

describe('serve', () => {
  it('serves the ensemble: :predict answers its probabilities (the weighted average by hand)', async () => {
    const repository = path.join(tmp, 'repository');
    await ensemble({ members: [dirs.a, dirs.b, dirs.c], weights: [1, 2, 1], out: path.join(repository, 'abc', '1') });
    const server = await testServer(repository);
    try {
      const input = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
      const instances = input.arraySync();
      const expected = await averageByHand(input, [
        { dir: dirs.a, weight: 0.25, temperature: 1 }, { dir: dirs.b, weight: 0.5, temperature: TEMPERATURE_B }, { dir: dirs.c, weight: 0.25, temperature: 1 }]);
      input.dispose();
      const res = await server.app.inject({ method: 'POST', url: '/v1/models/abc:predict', payload: { instances } });
      assert.equal(res.statusCode, 200, res.body);
      const predictions = (res.json() as { predictions: number[][] }).predictions;
      assert.ok(maxAbsDiff(predictions.flat(), expected) < 1e-6, `max diff ${maxAbsDiff(predictions.flat(), expected)}`);
    } finally {
      await server.close();
    }
  });
});

describe('export', () => {
  it('exports to ONNX (Rescaling, softmax, Add are written): ONNX Runtime gives the same probabilities', async () => {
    const model = await loadModel(path.join(tmp, 'abc'));
    const bytes = exportOnnx(model);
    assert.equal(readOnnxMetadata(bytes)?.inference?.output, 'probabilities');
    const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 9);
    const expected = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    const session = await OnnxModel.load(bytes, { threads: 1 });
    const got = await session.predict(x.dataSync() as Float32Array, 3);
    await session.dispose();
    model.dispose();
    x.dispose();
    assert.ok(maxAbsDiff(got, expected) < 1e-5, `max |onnx - tfjs| = ${maxAbsDiff(got, expected)}`);
  });
});

describe('ensemble refuses', () => {
  it('members that disagree on class names, input shape or normalization, naming the member and the field', async () => {
    const renamed = path.join(tmp, 'renamed');
    await saveMember(renamed, 'seed-cnn', 4, (m) => ({ ...m, classNames: [...CLASSES.slice(0, 9), 'lorry'] }));
    await assert.rejects(ensemble({ members: [dirs.a, renamed], out: path.join(tmp, 'x') }), rejectsWith('INSIGHT_E_MODEL',
      new RegExp(`^Ensemble members must agree on classNames: .* Received: member="${renamed}", classNames=.*"lorry".*, firstMember="${dirs.a}"`)));
    const meanstd = path.join(tmp, 'meanstd');
    await saveMember(meanstd, 'seed-cnn', 5, (m) => ({ ...m, normalization: { kind: 'meanstd', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } }));
    await assert.rejects(ensemble({ members: [dirs.a, dirs.b, meanstd], out: path.join(tmp, 'x') }),
      rejectsWith('INSIGHT_E_MODEL', /^Ensemble members must agree on normalization: .* Received: member=".*meanstd"/));
    const small = path.join(tmp, 'small');
    const model = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 10, classNames: CLASSES, seed: 6 });
    await saveModel(model, small);
    model.dispose();
    await assert.rejects(ensemble({ members: [dirs.a, small], out: path.join(tmp, 'x') }),
      rejectsWith('INSIGHT_E_MODEL', /^Ensemble members must agree on inputShape: .* Received: member=".*small", inputShape=\[24,24,3\]/));
    assert.equal(fs.existsSync(path.join(tmp, 'x')), false, 'nothing is written');
  });

  it('bad settings, before loading anything', async () => {
    await assert.rejects(ensemble({ members: [dirs.a], out: path.join(tmp, 'x') }), rejectsWith('INSIGHT_E_CONFIG', /^An ensemble needs at least two members\./));
    await assert.rejects(ensemble({ members: [dirs.a, dirs.b], weights: [1, 2, 3], out: path.join(tmp, 'x') }),
      rejectsWith('INSIGHT_E_CONFIG', /^weights must give one weight per member\. Received: weights="1,2,3", members=2\. Pass 2 comma-separated weights/));
    await assert.rejects(ensemble({ members: [dirs.a, dirs.b], weights: '1,-1', out: path.join(tmp, 'x') }),
      rejectsWith('INSIGHT_E_CONFIG', /^weights must be comma-separated numbers >= 0/));
    await assert.rejects(ensemble({ members: [dirs.a, dirs.b], out: dirs.b }),
      rejectsWith('INSIGHT_E_CONFIG', /^--out must not be a member's model or run directory/));
    await assert.rejects(ensemble({ members: [dirs.a, dirs.b], out: tmp }),
      rejectsWith('INSIGHT_E_CONFIG', /^--out is replaced as a whole, so it must be a new or empty directory, or a model directory/));
    await assert.rejects(ensemble({ members: [dirs.a, dirs.b], last: 2, out: path.join(tmp, 'x') }),
      rejectsWith('INSIGHT_E_CONFIG', /^--last chooses snapshots, so it needs --snapshots <run>\./));
    await assert.rejects(ensemble({ members: [dirs.a, dirs.b] } as never), rejectsWith('INSIGHT_E_CONFIG', /^insight ensemble needs --out/));
    await assert.rejects(ensemble({ members: [dirs.a, path.join(tmp, 'missing')], out: path.join(tmp, 'x') }), rejectsWith('INSIGHT_E_MODEL', /missing/));
    assert.ok(fs.existsSync(dirs.b) && fs.existsSync(path.join(tmp, 'a', 'model.json')), 'nothing was replaced');
  });
});

describe('insight ensemble (CLI)', () => {
  it('builds the model from the command line, and reports errors in the house format', async () => {
    const out = path.join(tmp, 'cli');
    const ok = await runMain(['ensemble', dirs.a, dirs.c, '--weights', '1,3', '--out', out, '--backend', 'auto']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /weight 0\.2500, seed-cnn, weights sha256 [0-9a-f]{12}\n.*weight 0\.7500, resnet/);
    assert.deepEqual((await loadModel(out)).outputs[0].shape, [null, 10]);
    const bad = await runMain(['ensemble', dirs.a, '--out', out]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /INSIGHT_E_CONFIG.*An ensemble needs at least two members/);
  });

  it('the README documents every flag of insight ensemble', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const start = readme.indexOf('### insight ensemble');
    assert.ok(start >= 0, '### insight ensemble');
    const end = readme.indexOf('### insight ', start + 1);
    const part = readme.slice(start, end < 0 ? undefined : end);
    for (const field of fieldsOf(ENSEMBLE_SCHEMA)) if (!field.noFlag) assert.ok(part.includes(`\`${field.flag}`), field.flag);
  });
});
