// .onnx versions in the model repository, served through ONNX Runtime on a real server on 127.0.0.1: a seed-cnn
// exported with exportOnnx (version 2) answers TF Serving and KServe v2 requests and image uploads as the same model
// as tfjs (version 1) within 1e-4; concurrent requests share forward passes; metadata names the classes and the
// platform; hot reload picks up a new .onnx version; a corrupt model.onnx fails to load (its status, and 500
// SERVE_E_LOAD_FAILED from an admin reload) while the version before keeps serving; :explain answers a clear 400;
// an int8 QDQ export serves close to the float model; `--models` may name one directory holding model.onnx; admins
// unload and load an ONNX model; no tensor leaks.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../src/backend';
import { createModel } from '../../src/models';
import { exportOnnx, readOnnxMetadata, type ActivationRanges } from '../../src/onnx';
import { MODEL_ONNX, saveModel } from '../../src/run/model_io';
import type { ServeInstance } from '../../src/serve/start';
import {
  ADMIN_KEY, backend, bearer, CLASSES, imageBytes, INFERENCE_KEY, KEYS, NORMALIZATION, referenceProbabilities, tempRepository, testServer, waitFor,
} from './helpers';

/** seed-cnn's smallest comfortable input: 24 → conv 22 → pool 11 → conv 9 → pool 4 → conv 2. */
const S = 24;
const TOLERANCE = 1e-4;

let root: string;
let refs: string;
let server: ServeInstance;
let base: string;
const headers = { ...bearer(INFERENCE_KEY), 'content-type': 'application/json' };

function seedCnn(seed: number): tfl.LayersModel {
  return createModel('seed-cnn', { inputShape: [S, S, 3], numClasses: CLASSES.length, classNames: CLASSES, normalization: NORMALIZATION, seed });
}

/** Writes `bytes` as <dir>/model.onnx. */
function writeOnnx(dir: string, bytes: Uint8Array): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, MODEL_ONNX), bytes);
}

/** seed-cnn(seed) exported as ONNX bytes, and saved as tfjs under refs/<seed> (the reference). */
async function exported(seed: number): Promise<Uint8Array> {
  const model = seedCnn(seed);
  try {
    await saveModel(model, path.join(refs, String(seed)));
    return exportOnnx(model);
  } finally {
    model.dispose();
  }
}

/** A deterministic [S][S][3] instance of normalized floats in [-1, 1). */
function pixels(seed: number): number[][][] {
  let state = seed * 7919 + 17;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 8) % 2000) / 1000 - 1;
  };
  return Array.from({ length: S }, () => Array.from({ length: S }, () => [next(), next(), next()]));
}

/** Min-max ranges of the input and of every layer's output but the logits' on `xs` (a plain calibration, for int8 export). */
function minMaxRanges(model: tfl.LayersModel, xs: number[][][][]): ActivationRanges {
  const hidden = model.layers.slice(0, -1);
  const probe = tfl.model({ inputs: model.inputs, outputs: hidden.map((l) => l.output as tfl.SymbolicTensor) });
  const x = tf.tensor4d(xs);
  const outs = probe.predict(x) as tf.Tensor[];
  const range = (t: tf.Tensor) => tf.tidy(() => ({ min: tf.min(t).dataSync()[0], max: tf.max(t).dataSync()[0] }));
  const ranges = { input: range(x), layers: Object.fromEntries(hidden.map((l, k) => [l.name, range(outs[k])])) };
  tf.dispose([x, ...outs]);
  return ranges;
}

const post = (url: string, body: unknown, extra: Record<string, string> = headers) =>
  fetch(`${base}${url}`, { method: 'POST', headers: extra, body: Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body) });
const get = async (url: string) => (await fetch(`${base}${url}`, { headers })).json();
const admin = (action: string, model: string) => fetch(`${base}/admin/models/${model}/${action}`, { method: 'POST', headers: bearer(ADMIN_KEY) });

async function predict(version: number | null, xs: number[][][][], signature = 'serving_default', model = 'seed') {
  const res = await post(`/v1/models/${model}${version === null ? '' : `/versions/${version}`}:predict`, { signature_name: signature, instances: xs });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json() as { predictions: number[][] }).predictions;
}

async function infer(model: string, xs: number[][][][], version?: number) {
  const res = await post(`/v2/models/${model}${version === undefined ? '' : `/versions/${version}`}/infer`, {
    inputs: [{ name: 'image', shape: [xs.length, S, S, 3], datatype: 'FP32', data: xs.flat(3) }],
    outputs: [{ name: 'probabilities' }, { name: 'logits' }],
  });
  const body = await res.json() as { model_version: string; outputs: { name: string; shape: number[]; data: number[] }[]; code?: string };
  return { status: res.status, body, version: body.model_version, output: (name: string) => body.outputs.find((o) => o.name === name)! };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= TOLERANCE, `${what}: max |difference| ${worst} > ${TOLERANCE}`);
}

before(async () => {
  await backend();
  root = tempRepository();
  refs = tempRepository();
  // "seed": version 1 the tfjs model, version 2 the same model as ONNX. "reload": ONNX only, for hot reload.
  const model = seedCnn(1);
  await saveModel(model, path.join(root, 'seed', '1'));
  writeOnnx(path.join(root, 'seed', '2'), exportOnnx(model));
  writeOnnx(path.join(root, 'int8', '1'), exportOnnx(model, { int8: minMaxRanges(model, Array.from({ length: 16 }, (_, i) => pixels(300 + i))) }));
  model.dispose();
  writeOnnx(path.join(root, 'reload', '1'), await exported(2));
  server = await testServer(root, { keepVersions: 2, maxBatchSize: 16, maxQueueDelayMs: 20, pollMs: 100, computeThreads: 1 }, KEYS);
  base = await server.app.listen({ port: 0, host: '127.0.0.1' });
});
after(() => server.close());

describe('an .onnx version', () => {
  it('predicts as the tfjs version of the same model within 1e-4, over TF Serving and KServe v2', async () => {
    const xs = [1, 2, 3, 4, 5].map(pixels);
    const tfjs = await referenceProbabilities(path.join(root, 'seed', '1'), xs);
    const onnx = await predict(2, xs);
    assert.deepEqual([onnx.length, onnx[0].length], [5, CLASSES.length]);
    assertClose(onnx.flat(), tfjs, 'v1 :predict probabilities, ONNX vs tfjs');
    assertClose(onnx.flat(), (await predict(1, xs)).flat(), 'v1 :predict, version 2 vs version 1');
    assertClose((await predict(2, xs, 'logits')).flat(), (await predict(1, xs, 'logits')).flat(), 'v1 :predict logits');
    assertClose(await predict(null, xs).then((p) => p.flat()), tfjs, 'the default version (2, the highest)');
    const [v2onnx, v2tfjs] = [await infer('seed', xs, 2), await infer('seed', xs, 1)];
    assert.deepEqual([v2onnx.status, v2onnx.version, v2tfjs.version], [200, '2', '1']);
    assert.deepEqual(v2onnx.output('probabilities').shape, [5, CLASSES.length]);
    assertClose(v2onnx.output('probabilities').data, tfjs, 'v2 infer probabilities');
    assertClose(v2onnx.output('logits').data, v2tfjs.output('logits').data, 'v2 infer logits');
    // Not a degenerate model: the instances do not all get the same answer.
    assert.ok(new Set(onnx.map((p) => p.map((v) => v.toFixed(3)).join())).size > 1);
  });

  it('classifies uploaded images as the tfjs version does', async () => {
    const image = await imageBytes(40, 30, 'png');
    const classify = async (version: number) => {
      const res = await post(`/v1/models/seed/versions/${version}:classify-image?top_k=3`, image, { ...bearer(INFERENCE_KEY), 'content-type': 'image/png' });
      assert.equal(res.status, 200);
      return (await res.json() as { predictions: { top: { index: number; class_name: string; probability: number }[] }[] }).predictions[0].top;
    };
    const [onnx, tfjs] = [await classify(2), await classify(1)];
    assert.deepEqual(onnx.map((t) => t.class_name), tfjs.map((t) => t.class_name));
    assertClose(onnx.map((t) => t.probability), tfjs.map((t) => t.probability), 'classify-image probabilities');
  });

  it('batches concurrent requests: fewer forward passes, each answer its own', async () => {
    const stats = () => ({ ...server.ctx.repository.resolve('seed', 2).batcher.stats });
    const n = 12;
    const xs = Array.from({ length: n }, (_, i) => pixels(100 + i));
    const expected = await referenceProbabilities(path.join(root, 'seed', '1'), xs);
    const before = stats();
    const answers = await Promise.all(xs.map((x) => predict(2, [x])));
    const after = stats();
    assert.ok(after.passes - before.passes < n, `${after.passes - before.passes} forward passes for ${n} requests`);
    assert.ok(after.largestBatch > 1, `largest batch ${after.largestBatch}`);
    assert.equal(after.rows - before.rows, n);
    answers.forEach((a, i) => assertClose(a[0], expected.subarray(i * CLASSES.length, (i + 1) * CLASSES.length), `request ${i}`));
    const metrics = await (await fetch(`${base}/metrics`, { headers })).text();
    assert.match(metrics, /^insight_serve_batch_size_count\{model="seed"\} \d+$/m);
  });

  it('metadata shows the classes, the input and the ONNX Runtime platform', async () => {
    assert.deepEqual(readOnnxMetadata(fs.readFileSync(path.join(root, 'seed', '2', MODEL_ONNX)))?.classNames, CLASSES, 'what the export embedded');
    const v1 = await get('/v1/models/seed/versions/2/metadata');
    assert.deepEqual(v1.model_spec, { name: 'seed', signature_name: '', version: '2' });
    assert.deepEqual(v1.metadata.insight.class_names, CLASSES);
    assert.deepEqual(v1.metadata.insight.input_shape, [S, S, 3]);
    assert.deepEqual(v1.metadata.insight.normalization, NORMALIZATION);
    assert.equal(v1.metadata.insight.platform, 'onnxruntime_onnx');
    assert.deepEqual(v1.metadata.signature_def.signature_def.serving_default.inputs.image.tensor_shape.dim.map((d: { size: string }) => d.size), ['-1', `${S}`, `${S}`, '3']);
    const v2 = await get('/v2/models/seed');
    assert.deepEqual([v2.name, v2.versions, v2.platform], ['seed', ['2', '1'], 'onnxruntime_onnx']);
    assert.deepEqual(v2.inputs, [{ name: 'image', datatype: 'FP32', shape: [-1, S, S, 3] }]);
    assert.deepEqual(v2.parameters.class_names, CLASSES);
    assert.equal((await get('/v2/models/seed/versions/1')).platform, 'tensorflowjs_layers');
  });

  it(':explain answers 400 SERVE_E_BAD_INPUT: explanations need a tfjs version', async () => {
    const rule = 'Explanations need gradients, so only a version served as a tfjs model (model.json) can be explained. ' +
      'Received: model="seed", version=2, platform="onnxruntime_onnx". Explain with a tfjs version of the model';
    const v1 = await post('/v1/models/seed/versions/2:explain', { instances: [pixels(1)], methods: 'gradcam' });
    assert.equal(v1.status, 400);
    const body = await v1.json() as { code: string; error: string };
    assert.equal(body.code, 'SERVE_E_BAD_INPUT');
    assert.ok(body.error.startsWith(rule), body.error);
    const v2 = await post('/v2/models/seed/explain', {
      inputs: [{ name: 'image', shape: [1, S, S, 3], datatype: 'FP32', data: pixels(1).flat(2) }], parameters: { methods: 'gradcam' },
    });
    assert.equal(v2.status, 400);
    assert.ok((await v2.json() as { error: string }).error.startsWith(rule));
    // The tfjs version of the same model explains.
    const tfjs = await post('/v1/models/seed/versions/1:explain', { instances: [pixels(1)], methods: 'gradcam' });
    assert.equal(tfjs.status, 200, await tfjs.clone().text());
  });

  it('an int8 (QDQ) export serves close to the float model', async () => {
    assert.ok(fs.readFileSync(path.join(root, 'int8', '1', MODEL_ONNX)).includes('QuantizeLinear'), 'an int8 graph');
    const xs = Array.from({ length: 8 }, (_, i) => pixels(300 + i));
    const tfjs = await referenceProbabilities(path.join(root, 'seed', '1'), xs);
    const int8 = (await predict(null, xs, 'serving_default', 'int8')).flat();
    let worst = 0;
    for (let i = 0; i < tfjs.length; i++) worst = Math.max(worst, Math.abs(int8[i] - tfjs[i]));
    // Close (measured 1.1e-3), but not float arithmetic (which agrees to 1e-6).
    assert.ok(worst <= 0.01 && worst > 1e-5, `int8 vs float probabilities: max |difference| ${worst}`);
    assert.equal((await get('/v2/models/int8')).platform, 'onnxruntime_onnx');
  });

  it('frees every tensor it makes (the softmax over its logits)', async () => {
    await predict(2, [pixels(7)]);
    const live = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await predict(2, [pixels(8), pixels(9)]);
    assert.equal(tf.memory().numTensors, live);
  });
});

describe('.onnx versions in the repository', () => {
  it('hot reload serves a new .onnx version', async () => {
    assert.equal((await infer('reload', [pixels(1)])).version, '1');
    writeOnnx(path.join(root, 'reload', '2'), await exported(3));
    await waitFor(async () => (await infer('reload', [pixels(1)])).version === '2', 5000, 'version 2 served');
    const xs = [pixels(11), pixels(12)];
    assertClose((await infer('reload', xs)).output('probabilities').data, await referenceProbabilities(path.join(refs, '3'), xs), 'version 2 = seed-cnn(3)');
  });

  it('a corrupt model.onnx fails to load (SERVE_E_LOAD_FAILED) and the version before keeps serving', async () => {
    // Every Conv node becomes an op ONNX Runtime does not know; the metadata stays readable.
    const good = await exported(4);
    const text = Buffer.from(good).toString('latin1');
    assert.ok(text.includes('Conv'));
    writeOnnx(path.join(root, 'reload', '3'), Buffer.from(text.replaceAll('Conv', 'Cxnv'), 'latin1'));
    const status = async () => (await get('/v1/models/reload')).model_version_status as { version: string; state: string; status: { error_message: string } }[];
    await waitFor(async () => (await status()).some((s) => s.version === '3' && s.state === 'END'), 5000, 'version 3 failed');
    const v3 = (await status()).find((s) => s.version === '3')!;
    assert.match(v3.status.error_message, /^An ONNX model must be a valid \.onnx file that ONNX Runtime can load\. Received: model="\d+ bytes", error=.*Cxnv/);
    assert.equal((await infer('reload', [pixels(1)])).version, '2');

    const reload = await admin('reload', 'reload');
    assert.equal(reload.status, 500);
    const body = await reload.json() as { code: string; error: string };
    assert.equal(body.code, 'SERVE_E_LOAD_FAILED');
    assert.match(body.error, /^An admin reload must be able to load every version it reloads\. Received: model="reload", failed=\[\{"version":3,"error":"An ONNX model must be a valid/);
    const still = await infer('reload', [pixels(1)]);
    assert.deepEqual([still.status, still.version], [200, '2']);

    // Fixed files are loaded.
    writeOnnx(path.join(root, 'reload', '3'), good);
    await waitFor(async () => (await infer('reload', [pixels(1)])).version === '3', 5000, 'version 3 served once fixed');
    // Version 1 fell out of --keep-versions 2: retired, its session released.
    await waitFor(async () => (await status()).find((s) => s.version === '1')?.state === 'END', 5000, 'version 1 ended');
  });

  it('a model.onnx without Insight metadata fails with a message naming metadata_props', async () => {
    writeOnnx(path.join(root, 'bare', '1'), Buffer.from('not an onnx file'));
    const status = async () => (await fetch(`${base}/v1/models/bare`, { headers })).json() as Promise<{ model_version_status?: { state: string; status: { error_message: string } }[] }>;
    await waitFor(async () => (await status()).model_version_status?.[0]?.state === 'END', 5000, 'model "bare" failed');
    const [v1] = (await status()).model_version_status!;
    assert.match(v1.status.error_message, /^A served ONNX model must carry Insight metadata .* as JSON in its metadata_props\["insight"\]\. Received: model=".*bare\/1\/model\.onnx", (error|metadata)=/);
    const res = await infer('bare', [pixels(1)]);
    assert.equal(res.status, 503);
    fs.rmSync(path.join(root, 'bare'), { recursive: true });
  });

  it('--models may name one directory holding model.onnx: served as version 1 under its folder\'s name', async () => {
    const dir = path.join(tempRepository(), 'solo');
    writeOnnx(dir, fs.readFileSync(path.join(root, 'seed', '2', MODEL_ONNX)));
    const solo = await testServer(dir);
    try {
      assert.deepEqual(solo.ctx.repository.snapshot().map((m) => [m.name, m.servingVersions]), [['solo', [1]]]);
      const res = await solo.app.inject({ method: 'POST', url: '/v1/models/solo:predict', payload: { instances: [pixels(1)] } });
      assert.equal(res.statusCode, 200);
      assertClose(res.json().predictions[0], (await predict(2, [pixels(1)]))[0], 'the same file served alone');
    } finally {
      await solo.close();
    }
  });

  it('admins unload and load an ONNX model', async () => {
    assert.equal((await admin('unload', 'reload')).status, 200);
    assert.equal((await infer('reload', [pixels(1)])).status, 503);
    const loaded = await admin('load', 'reload');
    assert.equal(loaded.status, 200);
    assert.deepEqual((await loaded.json() as { models: { servingVersions: number[] }[] }).models[0].servingVersions, [3, 2]);
    assert.equal((await infer('reload', [pixels(1)])).version, '3');
  });

});
