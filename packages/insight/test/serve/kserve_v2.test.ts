// KServe v2 / Triton protocol: health, server and model metadata, readiness, and infer with FP32, UINT8 and
// BYTES inputs (flat and nested data), requested outputs, classification strings, and the request id echo.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { applyTable, normalizationTable } from '../../src/data/normalize';
import type { ServeInstance } from '../../src/serve/start';
import { CLASSES, NORMALIZATION, SIZE, imageBytes, instance, referenceProbabilities, saveVersion, tempRepository, testServer } from './helpers';

let server: ServeInstance;
let dir: string;

before(async () => {
  const root = tempRepository();
  dir = await saveVersion(root, 'tiny', 3);
  server = await testServer(root);
});
after(() => server.close());

const post = (url: string, payload: unknown) => server.app.inject({ method: 'POST', url, payload: payload as object });
const get = (url: string) => server.app.inject({ method: 'GET', url });
const fp32 = (xs: number[][][][]) => ({ name: 'image', shape: [xs.length, SIZE, SIZE, 3], datatype: 'FP32', data: xs.flat(3) });

function assertClose(actual: number[], expected: ArrayLike<number>, tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance, `[${i}] ${a} vs ${expected[i]}`));
}

describe('KServe v2', () => {
  it('health: live always, ready once a model is loaded; server metadata at /v2', async () => {
    assert.deepEqual((await get('/v2/health/live')).json(), { live: true });
    assert.deepEqual((await get('/v2/health/ready')).json(), { ready: true });
    assert.deepEqual((await get('/v2')).json(), { name: 'insight', version: '0.1.0', extensions: ['classification', 'model_repository', 'binary_tensor_data'] });
  });

  it('model metadata and readiness, by default version and by explicit version', async () => {
    const meta = (await get('/v2/models/tiny')).json();
    assert.equal(meta.name, 'tiny');
    assert.deepEqual(meta.versions, ['3']);
    assert.deepEqual(meta.inputs, [{ name: 'image', datatype: 'FP32', shape: [-1, SIZE, SIZE, 3] }]);
    assert.deepEqual(meta.outputs.map((o: { name: string }) => o.name), ['probabilities', 'logits']);
    assert.deepEqual(meta.parameters.class_names, CLASSES);
    assert.equal((await get('/v2/models/tiny/versions/3')).statusCode, 200);
    assert.deepEqual((await get('/v2/models/tiny/ready')).json(), { name: 'tiny', ready: true });
    assert.equal((await get('/v2/models/tiny/versions/3/ready')).statusCode, 200);
    assert.equal((await get('/v2/models/tiny/versions/4/ready')).statusCode, 404);
    assert.equal((await get('/v2/models/other/ready')).statusCode, 404);
  });

  it('infer FP32 (flat data) returns both outputs by default, row-major, and echoes the id', async () => {
    const xs = [instance(1), instance(2)];
    const res = await post('/v2/models/tiny/infer', { id: 'req-7', inputs: [fp32(xs)] });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.model_name, 'tiny');
    assert.equal(body.model_version, '3');
    assert.equal(body.id, 'req-7');
    const [probs, logits] = body.outputs;
    assert.deepEqual([probs.name, probs.datatype, probs.shape], ['probabilities', 'FP32', [2, 3]]);
    assert.deepEqual([logits.name, logits.shape], ['logits', [2, 3]]);
    assertClose(probs.data, await referenceProbabilities(dir, xs));
  });

  it('infer with nested data, an explicit version and a requested output', async () => {
    const xs = [instance(3)];
    const res = await post('/v2/models/tiny/versions/3/infer', { inputs: [{ ...fp32(xs), data: xs }], outputs: [{ name: 'probabilities' }] });
    assert.equal(res.json().outputs.length, 1);
    assertClose(res.json().outputs[0].data, await referenceProbabilities(dir, xs));
  });

  it('UINT8 input is raw pixels, normalized with the model\'s metadata', async () => {
    const pixels = Array.from({ length: SIZE * SIZE * 3 }, (_, i) => (i * 31) % 256);
    const normalized = new Float32Array(pixels.length);
    applyTable(Uint8Array.from(pixels), 0, pixels.length, normalizationTable(NORMALIZATION), normalized, 0);
    const nested = Array.from({ length: SIZE }, (_, y) => Array.from({ length: SIZE }, (_, x) => Array.from(normalized.subarray((y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3))));
    const res = await post('/v2/models/tiny/infer', { inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'UINT8', data: pixels }] });
    assert.equal(res.statusCode, 200, res.body);
    assertClose(res.json().outputs[0].data, await referenceProbabilities(dir, [nested]), 1e-6);
  });

  it('BYTES input is base64 image files; classification output gives "score:index:label" strings', async () => {
    const png = (await imageBytes(20, 12)).toString('base64');
    const res = await post('/v2/models/tiny/infer', {
      inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data: [png, { b64: png }] }],
      outputs: [{ name: 'probabilities', parameters: { classification: 2 } }],
    });
    assert.equal(res.statusCode, 200, res.body);
    const out = res.json().outputs[0];
    assert.deepEqual([out.datatype, out.shape], ['BYTES', [2, 2]]);
    for (const entry of out.data as string[]) {
      const [score, index, label] = entry.split(':');
      assert.ok(Number(score) > 0 && Number(score) < 1);
      assert.equal(label, CLASSES[Number(index)]);
    }
    assert.deepEqual(out.data.slice(0, 2), out.data.slice(2));
  });

  it('v2 errors use {"error": ...} with the stable code', async () => {
    const res = await post('/v2/models/tiny/infer', { inputs: [{ ...fp32([instance(1)]), shape: [1, SIZE, SIZE, 4] }] });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(Object.keys(res.json()), ['error', 'code']);
    assert.match(res.json().error, /^An FP32 input must have shape \[N, 8, 8, 3\] \(the model's input shape\)\. Received: inputs\[0\]\.shape=\[1,8,8,4\]\. Send shape \[1,8,8,3\]/);
  });
});
