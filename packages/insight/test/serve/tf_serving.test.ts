// TensorFlow Serving REST protocol: status, metadata, :predict (row and columnar, both signatures, b64 images),
// :classify, explicit versions — values checked against the model computed directly with tfjs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ServeInstance } from '../../src/serve/start';
import { CLASSES, SIZE, imageBytes, instance, referenceProbabilities, saveVersion, tempRepository, testServer } from './helpers';

let server: ServeInstance;
let v1Dir: string;
let v2Dir: string;

before(async () => {
  const root = tempRepository();
  v1Dir = await saveVersion(root, 'tiny', 1);
  v2Dir = await saveVersion(root, 'tiny', 2);
  server = await testServer(root, { keepVersions: 2 });
});
after(() => server.close());

const post = (url: string, payload: unknown) => server.app.inject({ method: 'POST', url, payload: payload as object });
const get = (url: string) => server.app.inject({ method: 'GET', url });

function assertClose(actual: number[], expected: ArrayLike<number>, tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance, `[${i}] ${a} vs ${expected[i]}`));
}

describe('TF Serving REST', () => {
  it('GET /v1/models/{m} lists every served version in TF Serving\'s status shape', async () => {
    const res = await get('/v1/models/tiny');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      model_version_status: [
        { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    assert.deepEqual((await get('/v1/models/tiny/versions/1')).json().model_version_status.map((s: { version: string }) => s.version), ['1']);
    const missing = await get('/v1/models/tiny/versions/7');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'SERVE_E_VERSION_NOT_FOUND');
  });

  it('GET .../metadata gives the signature: input shape, dtype, outputs and class names', async () => {
    const body = (await get('/v1/models/tiny/metadata')).json();
    assert.deepEqual(body.model_spec, { name: 'tiny', signature_name: '', version: '2' });
    const sig = body.metadata.signature_def.signature_def.serving_default;
    assert.equal(sig.inputs.image.dtype, 'DT_FLOAT');
    assert.deepEqual(sig.inputs.image.tensor_shape.dim.map((d: { size: string }) => d.size), ['-1', String(SIZE), String(SIZE), '3']);
    assert.deepEqual(sig.outputs.probabilities.tensor_shape.dim.map((d: { size: string }) => d.size), ['-1', '3']);
    assert.ok(body.metadata.signature_def.signature_def.logits.outputs.logits);
    assert.equal(sig.method_name, 'tensorflow/serving/predict');
    assert.deepEqual(body.metadata.insight.class_names, CLASSES);
    assert.deepEqual(body.metadata.insight.input_shape, [SIZE, SIZE, 3]);
    assert.equal((await get('/v1/models/tiny/versions/1/metadata')).json().model_spec.version, '1');
  });

  it(':predict with "instances" returns "predictions": the softmax of the default (highest) version', async () => {
    const xs = [instance(1), instance(2), instance(3)];
    const res = await post('/v1/models/tiny:predict', { instances: xs });
    assert.equal(res.statusCode, 200, res.body);
    const { predictions } = res.json() as { predictions: number[][] };
    assert.equal(predictions.length, 3);
    assertClose(predictions.flat(), await referenceProbabilities(v2Dir, xs));
  });

  it(':predict on /versions/{v} uses that version; columnar "inputs" returns "outputs"', async () => {
    const xs = [instance(4), instance(5)];
    const expected = await referenceProbabilities(v1Dir, xs);
    const row = await post('/v1/models/tiny/versions/1:predict', { instances: xs.map((x) => ({ image: x })) });
    assertClose(row.json().predictions.flat(), expected);
    const columnar = await post('/v1/models/tiny/versions/1:predict', { inputs: { image: xs } });
    assertClose(columnar.json().outputs.flat(), expected);
    const bare = await post('/v1/models/tiny/versions/1:predict', { inputs: xs });
    assertClose(bare.json().outputs.flat(), expected);
  });

  it(':predict with signature_name "logits" returns logits (their softmax is the default output)', async () => {
    const xs = [instance(6)];
    const logits = (await post('/v1/models/tiny:predict', { signature_name: 'logits', instances: xs })).json().predictions[0] as number[];
    const max = Math.max(...logits);
    const exp = logits.map((l) => Math.exp(l - max));
    const sum = exp.reduce((a, b) => a + b);
    assertClose(exp.map((e) => e / sum), await referenceProbabilities(v2Dir, xs), 1e-5);
  });

  it('{"b64": ...} instances are encoded images, preprocessed with the model\'s own steps', async () => {
    const png = await imageBytes(SIZE, SIZE);
    const res = await post('/v1/models/tiny:predict', { instances: [{ b64: png.toString('base64') }, { image: { b64: png.toString('base64url') } }] });
    assert.equal(res.statusCode, 200, res.body);
    const [a, b] = res.json().predictions as number[][];
    assert.deepEqual(a, b);
    assert.ok(Math.abs(a.reduce((s, p) => s + p, 0) - 1) < 1e-5);
  });

  it(':classify returns [class, score] pairs per example, best first, with "context" features merged', async () => {
    const xs = [instance(7), instance(8)];
    const res = await post('/v1/models/tiny:classify', { examples: [{ image: xs[0] }, {}], context: { image: xs[1] } });
    assert.equal(res.statusCode, 200, res.body);
    const { results } = res.json() as { results: [string, number][][] };
    const expected = await referenceProbabilities(v2Dir, xs);
    for (let i = 0; i < 2; i++) {
      assert.equal(results[i].length, CLASSES.length);
      const scores = results[i].map(([, s]) => s);
      assert.deepEqual(scores, [...scores].sort((p, q) => q - p));
      for (const [name, score] of results[i]) assertClose([score], [expected[i * 3 + CLASSES.indexOf(name)]]);
    }
  });

  it('unknown models, versions and verbs are 404 naming how to list the models (never the list itself), or the verbs', async () => {
    const model = await post('/v1/models/nope:predict', { instances: [instance(1)] });
    assert.equal(model.statusCode, 404);
    assert.equal(model.json().error, 'A request must name a model of the repository. Received: model="nope". List the models with POST /v2/repository/index (an admin key), or add <models>/nope/1/ to the repository.');
    const version = await post('/v1/models/tiny/versions/9:predict', { instances: [instance(1)] });
    assert.equal(version.json().code, 'SERVE_E_VERSION_NOT_FOUND');
    assert.match(version.json().error, /served=\[2,1\]/);
    const verb = await post('/v1/models/tiny:regress', { instances: [instance(1)] });
    assert.equal(verb.statusCode, 404);
    assert.match(verb.json().error, /method one of: predict, classify, classify-image/);
    const badVersion = await post('/v1/models/tiny/versions/01:predict', { instances: [instance(1)] });
    assert.equal(badVersion.statusCode, 400);
    assert.match(badVersion.json().error, /must be a positive integer/);
  });
});
