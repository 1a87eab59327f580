// Explanations over HTTP: TF Serving-style :explain and KServe-style /v2/models/{m}/explain on a real tiny conv net.
// Maps equal explainBatch run directly on the model (Grad-CAM, IG); targets follow "classes" by index or name; PNG
// overlays decode to the overlay's size; the work limit refuses a request before its images are decoded; bad
// methods, classes, options and Grad-CAM on a model without a convolution are 400s with house messages; auth and
// metrics are those of inference; the explanation queue runs one job at a time, bounds waiting work and drops
// jobs that wait too long; predictions are answered while a long explanation runs; explanations use the served
// model (no copy), whose retirement frees its Grad-CAM tap too; no tensor leaks.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';

import { tf } from '../../src/backend';
import { ServeError } from '../../src/errors';
import { pixelRange } from '../../src/explain/baselines';
import { explainBatch } from '../../src/explain/explain';
import { viewKeys } from '../../src/explain/model_views';
import { overlayLayout } from '../../src/explain/render/overlay';
import { setInsightMetadata } from '../../src/models/metadata';
import { loadModel, saveModel } from '../../src/run/model_io';
import { ExplainQueue } from '../../src/serve/explain/queue';
import { loadServable } from '../../src/serve/repository/servable';
import { checkExplainWork, passesPerImage } from '../../src/serve/explain/work';
import type { ServeInstance } from '../../src/serve/start';
import {
  backend, bearer, CLASSES, imageBytes, INFERENCE_KEY, instance, KEYS, NORMALIZATION, referenceProbabilities, saveVersion, SIZE,
  tempRepository, testServer,
} from './helpers';

let root: string;
let server: ServeInstance;
let tinyDir: string;

/** A model without any convolution (flatten → dense), for Grad-CAM's error. */
async function saveDenseOnly(dir: string): Promise<void> {
  const model = tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [SIZE, SIZE, 3] }), tfl.layers.dense({ units: CLASSES.length, kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) })],
  });
  setInsightMetadata(model, { formatVersion: 1, architecture: 'dense-test', architectureOptions: {}, inputShape: [SIZE, SIZE, 3], classNames: CLASSES, normalization: NORMALIZATION });
  await saveModel(model, dir);
  model.dispose();
}

before(async () => {
  await backend();
  root = tempRepository();
  tinyDir = await saveVersion(root, 'tiny', 1, 3);
  await saveDenseOnly(path.join(root, 'dense', '1'));
  server = await testServer(root, { maxBatchSize: 8, explainMaxWork: 2000 });
});
after(() => server.close());

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  server.app.inject({ method: 'POST', url, payload: payload as object, headers });

/** Maps [n, H, W] of `methods` computed directly with the library on the saved model (the reference). */
async function referenceMaps(instances: number[][][][], targets: number[], methods: ('gradcam' | 'ig')[], steps = 50): Promise<Float32Array[]> {
  const model = await loadModel(tinyDir);
  const x = tf.tensor4d(instances);
  try {
    const results = await explainBatch(model, x, targets, methods, { steps, ...pixelRange(NORMALIZATION) });
    const maps = results.map((r) => r.map.dataSync() as Float32Array);
    tf.dispose(results.map((r) => r.map));
    return maps;
  } finally {
    model.dispose(); // with its Grad-CAM tap (explain/model_views.ts)
    x.dispose();
  }
}

function assertClose(actual: number[], expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  const scale = Math.max(1e-6, ...Array.from(expected, Math.abs));
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance * scale, `${what}[${i}] ${a} vs ${expected[i]}`));
}

const argMax = (values: ArrayLike<number>) => Array.from(values).indexOf(Math.max(...Array.from(values)));

describe(':explain (TF Serving style)', () => {
  it('returns per instance the predicted class, the target and Grad-CAM and IG maps equal to the library\'s', async () => {
    const xs = [instance(1), instance(2)];
    const before = tf.memory().numTensors;
    const res = await post('/v1/models/tiny:explain', { instances: xs, methods: 'gradcam,ig' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    const body = res.json();
    assert.deepEqual(body.model_spec, { name: 'tiny', version: '1' });
    assert.deepEqual(body.methods, ['gradcam', 'ig']);
    assert.equal(body.work, 2 * (1 + 50));
    assert.equal(body.options.steps, 50);
    assert.equal(body.options.internalBatchSize, 8, 'capped at --max-batch-size');
    assert.deepEqual(body.options.blackValue, pixelRange(NORMALIZATION).blackValue);
    const probs = await referenceProbabilities(tinyDir, xs);
    const predicted = [argMax(probs.subarray(0, 3)), argMax(probs.subarray(3, 6))];
    const [gradcam, ig] = await referenceMaps(xs, predicted, ['gradcam', 'ig']);
    body.explanations.forEach((e: { predicted: { index: number; class_name: string; probability: number }; target: { index: number }; maps: Record<string, { map: number[][]; min: number; max: number; layer?: string; convergence_delta?: number }> }, i: number) => {
      assert.equal(e.predicted.index, predicted[i]);
      assert.equal(e.predicted.class_name, CLASSES[predicted[i]]);
      assert.ok(Math.abs(e.predicted.probability - probs[i * 3 + predicted[i]]) < 1e-6);
      assert.equal(e.target.index, predicted[i], 'target = predicted by default');
      assert.deepEqual(Object.keys(e.maps), ['gradcam', 'ig']);
      const cam = e.maps.gradcam;
      assert.equal(cam.map.length, SIZE);
      assert.ok(cam.map.every((row) => row.length === SIZE));
      assert.match(cam.layer!, /^conv2d/);
      assertClose(cam.map.flat(), gradcam.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE), 1e-5, `gradcam ${i}`);
      assert.equal(cam.min, Math.min(...cam.map.flat()));
      assert.equal(cam.max, Math.max(...cam.map.flat()));
      assertClose(e.maps.ig.map.flat(), ig.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE), 1e-4, `ig ${i}`);
      assert.equal(typeof e.maps.ig.convergence_delta, 'number');
      assert.equal(e.maps.ig.layer, undefined);
    });
  });

  it('explains the class asked for, by index or by name, one for all or one per instance; attributions on request', async () => {
    const xs = [instance(3), instance(4)];
    const byName = (await post('/v1/models/tiny:explain', { instances: xs, method: 'saliency', class: 'ship' })).json();
    assert.deepEqual(byName.explanations.map((e: { target: { index: number; class_name: string } }) => e.target), [
      { index: 2, class_name: 'ship', probability: byName.explanations[0].target.probability },
      { index: 2, class_name: 'ship', probability: byName.explanations[1].target.probability },
    ]);
    const perInstance = (await post('/v1/models/tiny:explain', { instances: xs, methods: ['ig'], classes: [0, 'dog'], steps: 8, attributions: true })).json();
    assert.deepEqual(perInstance.explanations.map((e: { target: { index: number } }) => e.target.index), [0, 1]);
    const [ig] = await referenceMaps(xs, [0, 1], ['ig'], 8);
    const first = perInstance.explanations[0].maps.ig;
    assertClose(first.map.flat(), ig.subarray(0, SIZE * SIZE), 1e-4, 'ig class 0');
    assert.equal(first.attributions.length, SIZE);
    assert.equal(first.attributions[0][0].length, 3);
    // The map of IG is the sum of its attributions over channels.
    const summed = first.attributions.flat().map((px: number[]) => px[0] + px[1] + px[2]);
    assertClose(summed, Float32Array.from(first.map.flat()), 1e-5, 'ig map = Σ_c attributions');
  });

  it('"png": true adds a decodable overlay PNG per map; b64 images are decoded as for :predict', async () => {
    const b64 = (await imageBytes(20, 12, 'png')).toString('base64');
    const res = await post('/v1/models/tiny:explain', { instances: [{ b64 }], methods: 'gradcam,occlusion', window: 4, stride: 2, png: true });
    assert.equal(res.statusCode, 200, res.body);
    const { explanations, work } = res.json();
    assert.equal(work, 1 + (3 * 3 + 1), 'occlusion: 3 x 3 patches + the image');
    const layout = overlayLayout(SIZE, SIZE);
    for (const method of ['gradcam', 'occlusion']) {
      const png = Buffer.from(explanations[0].maps[method].png, 'base64');
      const meta = await sharp(png).metadata();
      assert.equal(meta.format, 'png', method);
      assert.deepEqual([meta.width, meta.height], [layout.width, layout.height], method);
    }
  });
});

describe('/v2/models/{m}/explain (KServe style)', () => {
  it('takes inputs as infer does and options in "parameters"; maps are FP32 [N, H, W] tensors equal to :explain\'s', async () => {
    const xs = [instance(5), instance(6)];
    const res = await post('/v2/models/tiny/versions/1/explain', {
      id: 'req-1',
      inputs: [{ name: 'image', shape: [2, SIZE, SIZE, 3], datatype: 'FP32', data: xs.flat(3) }],
      parameters: { methods: 'gradcam,ig', steps: 16, png: true },
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.model_name, 'tiny');
    assert.equal(body.model_version, '1');
    assert.equal(body.id, 'req-1');
    assert.equal(body.parameters.work, 2 * 17);
    const outputs = Object.fromEntries(body.outputs.map((o: { name: string }) => [o.name, o]));
    assert.deepEqual(Object.keys(outputs), ['predicted', 'target', 'probabilities', 'gradcam', 'gradcam_png', 'ig', 'ig_convergence_delta', 'ig_png']);
    assert.deepEqual(outputs.gradcam.shape, [2, SIZE, SIZE]);
    assert.equal(outputs.gradcam.datatype, 'FP32');
    assert.match(outputs.gradcam.parameters.layer, /^conv2d/);
    assert.deepEqual(outputs.ig_png.shape, [2]);
    assert.equal(outputs.ig_png.datatype, 'BYTES');
    assert.equal((await sharp(Buffer.from(outputs.ig_png.data[1], 'base64')).metadata()).format, 'png');
    const v1 = (await post('/v1/models/tiny:explain', { instances: xs, methods: 'gradcam,ig', steps: 16 })).json();
    assert.deepEqual(outputs.predicted.data, v1.explanations.map((e: { predicted: { index: number } }) => e.predicted.index));
    assertClose(outputs.gradcam.data, Float32Array.from(v1.explanations.flatMap((e: { maps: { gradcam: { map: number[][] } } }) => e.maps.gradcam.map.flat())), 1e-6, 'v2 = v1');
    assertClose(outputs.ig.data, Float32Array.from(v1.explanations.flatMap((e: { maps: { ig: { map: number[][] } } }) => e.maps.ig.map.flat())), 1e-6, 'v2 = v1');
  });
});

describe('the served model', () => {
  it('explains with the served model object (Grad-CAM\'s tap is built on it once), loading no copy', async () => {
    const x = [instance(10)];
    for (let i = 0; i < 2; i++) assert.equal((await post('/v1/models/tiny:explain', { instances: x, methods: 'gradcam' })).statusCode, 200);
    const servable = server.ctx.repository.acquire('tiny');
    try {
      const model = servable.explanationModel;
      const taps = viewKeys(model).filter((key) => key.startsWith('tap '));
      assert.equal(taps.length, 1, `one tap on the served model: ${JSON.stringify(viewKeys(model))}`);
      assert.match(taps[0], /^tap conv2d/);
      assert.equal(model.layers[0].inboundNodes.length, 2, 'the model and its one tap: no node per request');
    } finally {
      servable.release();
    }
  });

  it('retiring a version frees its model with the views explanations built over it', async () => {
    const empty = tf.memory().numTensors;
    const servable = await loadServable('tiny', 1, tinyDir, 'test', { maxBatchSize: 8, maxQueueDelayMs: 1, maxQueueSize: 64, timeoutMs: 5000 }, {});
    const x = tf.tensor4d([instance(11)]);
    const [cam] = await explainBatch(servable.explanationModel, x, [0], ['gradcam'], pixelRange(NORMALIZATION));
    tf.dispose([cam.map, x]);
    assert.ok(tf.memory().numTensors > empty, 'the served weights are held');
    await servable.retire();
    assert.equal(tf.memory().numTensors, empty);
  });
});

describe('explanation limits and errors', () => {
  it('refuses work beyond --explain-max-work with the computed work and the limit, before decoding any image', async () => {
    const res = await post('/v1/models/tiny:explain', { instances: [{ b64: 'bm90IGFuIGltYWdl' }, { b64: 'bm90IGFuIGltYWdl' }], methods: 'ig,smoothgrad', steps: 900, samples: 200 });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'SERVE_E_BAD_INPUT');
    assert.equal(res.json().error,
      'One explanation request may cost at most --explain-max-work=2000 model passes (images x passes per image, summed over methods). ' +
      'Received: work=2200, images=2, passesPerImage={"ig":900,"smoothgrad":200}, limit=2000. ' +
      'Send fewer images, fewer methods or smaller steps / samples (or a larger occlusion stride), or raise --explain-max-work.');
    // Within the limit, the same images fail as images.
    const bad = await post('/v1/models/tiny:explain', { instances: [{ b64: 'bm90IGFuIGltYWdl' }], methods: 'gradcam' });
    assert.equal(bad.json().code, 'SERVE_E_BAD_IMAGE');
  });

  it('counts model passes per method as the methods compute them', () => {
    const options = { steps: 50, samples: 20, window: 8, stride: 4 };
    assert.deepEqual(passesPerImage(['saliency', 'gradcam', 'gradcam++', 'ig', 'smoothgrad', 'vargrad', 'occlusion'], options, [32, 32, 3]),
      { saliency: 1, gradcam: 1, 'gradcam++': 1, ig: 50, smoothgrad: 20, vargrad: 20, occlusion: 7 * 7 + 1 });
    assert.equal(checkExplainWork(64, ['gradcam', 'ig'], options, [32, 32, 3], 4096), 64 * 51);
    assert.throws(() => checkExplainWork(81, ['gradcam', 'ig'], options, [32, 32, 3], 4096), (e: ServeError) => e.code === 'SERVE_E_BAD_INPUT' && /work=4131/.test(e.message));
  });

  it('answers 400 with the rule for unknown methods, bad classes, bad options, unknown keys and Grad-CAM without a convolution', async () => {
    const x = [instance(7)];
    const cases: [object, string, RegExp][] = [
      [{ instances: x, methods: 'gradcam,lime' }, 'tiny', /^methods must be a list \(or comma-separated string\) of: saliency, gradcam, gradcam\+\+, ig, smoothgrad, smoothgrad2, vargrad, occlusion; or 'none'\. Received: methods="gradcam,lime"\. Pass e\.g\. methods: "saliency,gradcam"/],
      [{ instances: x, methods: 'none' }, 'tiny', /^An explanation needs at least one method\./],
      [{ instances: x, class: 'zebra' }, 'tiny', /^classes must be class indices in \[0, 3\) or class names of the model\. Received: class="zebra"\. Pass e\.g\. 0 or "cat" \(classes: cat, dog, ship\)\.$/],
      [{ instances: x, classes: [7] }, 'tiny', /Received: class=7\./],
      [{ instances: [...x, ...x], classes: [0, 1, 2] }, 'tiny', /^classes must name one class for all images, or one class per image\. Received: classes=\[0,1,2\], images=2\./],
      [{ instances: x, classes: [-1] }, 'tiny', /^classes must be 'predicted', or class indices/],
      [{ instances: x, steps: 1 }, 'tiny', /^steps must be an integer >= 2\. Received: steps=1\. Pass e\.g\. steps: 50 \(default: 50\)\.$/],
      [{ instances: x, baseline: 'white' }, 'tiny', /^baseline must be one of: black, blurred, noise\./],
      [{ instances: x, stpes: 10 }, 'tiny', /^The body of :explain may only have the keys "instances", "inputs", "methods", "classes", "layer", "steps"/],
      [{ instances: x, method: 'ig', methods: 'ig' }, 'tiny', /^"method" and "methods" name the same option: send one of them\./],
      [{ instances: x, png: 'yes' }, 'tiny', /^"png" must be true or false\./],
      [{ instances: x, backend: 'cpu' }, 'tiny', /may only have the keys/],
      [{ methods: 'gradcam' }, 'tiny', /^A :explain body must have exactly one of "instances" \(row format\) and "inputs" \(columnar format\)\./],
      [{ instances: x, methods: 'gradcam', layer: 'nope' }, 'tiny', /^layer must name a layer of the model \(Grad-CAM reads its activations\)\. Received: .*layer="nope"\./],
      [{ instances: x, methods: 'occlusion', window: 9 }, 'tiny', /^occlusion's window must fit in the image/],
      [{ instances: x, methods: 'gradcam' }, 'dense', /^Grad-CAM needs a convolutional layer \(a 4D kernel and a 4D \[n, h, w, c\] output\)\. Received: .*Use a method that needs no convolution/],
    ];
    const before = tf.memory().numTensors;
    for (const [payload, model, message] of cases) {
      const res = await post(`/v1/models/${model}:explain`, payload);
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload).slice(0, 80)}: ${res.body}`);
      assert.equal(res.json().code, 'SERVE_E_BAD_INPUT', res.body);
      assert.match(res.json().error, message);
    }
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks on the error paths');
    const v2 = await post('/v2/models/tiny/explain', { inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: x.flat(3) }], parameters: { methods: 'x' } });
    assert.equal(v2.statusCode, 400);
    assert.match(v2.json().error, /^methods must be a list/);
    // The server carries on: saliency on the dense model works, predictions still answer.
    assert.equal((await post('/v1/models/dense:explain', { instances: x, methods: 'saliency' })).statusCode, 200);
    assert.equal((await post('/v1/models/tiny:predict', { instances: x })).statusCode, 200);
    const get = await server.app.inject({ method: 'GET', url: '/v1/models/tiny:explain' });
    assert.equal(get.statusCode, 404);
    assert.match(get.json().error, /^TF Serving methods \(:predict, :classify, :classify-image, :explain\) take POST\. Received: method="GET", path="\/v1\/models\/tiny:explain"\./);
    const unknown = await post('/v1/models/nope:explain', { instances: x });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'SERVE_E_MODEL_NOT_FOUND');
  });

  it('counts explanations in the route metrics and in insight_serve_explain_*', async () => {
    await post('/v1/models/tiny:explain', { instances: [instance(8)], methods: 'saliency' });
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /insight_serve_requests_total\{route="\/v1\/models\/:model:explain",method="POST",status="200"\} [1-9]/);
    assert.match(text, /insight_serve_requests_total\{route="\/v2\/models\/:model\/versions\/:version\/explain",method="POST",status="200"\} 1/);
    assert.match(text, /insight_serve_requests_total\{route="\/v1\/models\/:model:explain",method="POST",status="400"\} [1-9]/);
    assert.match(text, /insight_serve_explain_passes_total\{model="tiny",method="ig"\} \d+/);
    assert.match(text, /insight_serve_explain_passes_total\{model="tiny",method="saliency"\} [1-9]/);
    assert.match(text, /insight_serve_explain_duration_seconds_count\{model="tiny"\} [1-9]/);
    assert.match(text, /insight_serve_explain_queue_passes\{state="waiting"\} 0/);
  });

  it('answers predictions while a long explanation runs (the explanation yields between passes)', async () => {
    const xs = Array.from({ length: 8 }, (_, i) => instance(20 + i));
    const order: string[] = [];
    const explaining = post('/v1/models/tiny:explain', { instances: xs, methods: 'ig', steps: 200 }).then((res) => {
      order.push('explain');
      return res;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const predicted = await post('/v1/models/tiny:predict', { instances: [instance(1)] });
    order.push('predict');
    assert.equal(predicted.statusCode, 200);
    assert.equal((await explaining).statusCode, 200);
    assert.deepEqual(order, ['predict', 'explain'], 'the prediction did not wait for the 1,600-pass explanation');
  });
});

describe('auth', () => {
  it('explanations need an inference key when keys are configured', async () => {
    const secured = await testServer(root, {}, KEYS);
    try {
      const payload = { instances: [instance(9)], methods: 'saliency' };
      const none = await secured.app.inject({ method: 'POST', url: '/v1/models/tiny:explain', payload });
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().code, 'SERVE_E_UNAUTHORIZED');
      const v2 = await secured.app.inject({ method: 'POST', url: '/v2/models/tiny/explain', payload: {} });
      assert.equal(v2.statusCode, 401);
      const ok = await secured.app.inject({ method: 'POST', url: '/v1/models/tiny:explain', payload, headers: bearer(INFERENCE_KEY) });
      assert.equal(ok.statusCode, 200, ok.body);
    } finally {
      await secured.close();
    }
  });
});

describe('ExplainQueue', () => {
  const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('runs one job at a time in arrival order', async () => {
    const queue = new ExplainQueue({ maxWaitingWork: 100, timeoutMs: 5000 });
    const events: string[] = [];
    const job = (name: string, ms: number) => queue.run(10, name, async () => {
      events.push(`start ${name}`);
      await tick(ms);
      events.push(`end ${name}`);
      return name;
    });
    const results = await Promise.all([job('a', 30), job('b', 5), job('c', 1)]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.deepEqual(queue.stats, { jobs: 3, work: 30 });
    assert.equal(queue.waitingWork, 0);
  });

  it('refuses work beyond maxWaitingWork with 503 and Retry-After; a failing job does not stop the queue', async () => {
    const queue = new ExplainQueue({ maxWaitingWork: 25, timeoutMs: 5000 });
    const running = queue.run(50, 'm/1', () => tick(30));
    const waiting = queue.run(20, 'm/1', async () => {
      throw new Error('boom');
    });
    assert.equal(queue.waitingWork, 20);
    await assert.rejects(queue.run(10, 'm/1', async () => 1), (e: ServeError) =>
      e.code === 'SERVE_E_OVERLOADED' && e.retryAfter! >= 1 && /Received: model="m\/1", waiting=20, requested=10\./.test(e.message));
    await running;
    await assert.rejects(waiting, /boom/);
    assert.equal(await queue.run(10, 'm/1', async () => 'after'), 'after');
  });

  it('drops a job that has not started within timeoutMs (SERVE_E_TIMEOUT); the running one finishes', async () => {
    const queue = new ExplainQueue({ maxWaitingWork: 100, timeoutMs: 20 });
    let ran = false;
    const first = queue.run(5, 'm/1', async () => {
      await tick(60);
      return 'first';
    });
    const second = queue.run(5, 'm/1', async () => {
      ran = true;
    });
    await assert.rejects(second, (e: ServeError) => e.code === 'SERVE_E_TIMEOUT' && /An explanation must start within --timeout-ms=20 ms\. Received: model="m\/1", waitedMs=\d+, work=5, waitingAhead=0\./.test(e.message));
    assert.equal(await first, 'first');
    assert.equal(ran, false);
    assert.equal(queue.waitingWork, 0);
  });
});
