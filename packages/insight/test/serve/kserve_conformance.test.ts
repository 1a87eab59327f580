// KServe Open Inference Protocol conformance beyond infer: the spec's `/v2/` path, the model_repository extension
// (index, load, unload — admin key, like the admin API), version strings (what the metadata advertises is what the
// URLs take; other strings are a clear 404), and duplicate requested outputs (400, as Triton answers).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { ServeInstance } from '../../src/serve/start';
import { ADMIN_KEY, INFERENCE_KEY, KEYS, SIZE, bearer, instance, saveVersion, tempRepository, testServer } from './helpers';

let server: ServeInstance;

before(async () => {
  const root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  await saveVersion(root, 'tiny', 2);
  await saveVersion(root, 'tiny', 3);
  // A version that cannot load: its reason shows in the index.
  await saveVersion(root, 'broken', 1);
  fs.writeFileSync(path.join(root, 'broken', '1', 'model.json'), '{"not a model":');
  server = await testServer(root, { keepVersions: 2 }, KEYS);
});
after(() => server.close());

const admin = bearer(ADMIN_KEY);
const user = bearer(INFERENCE_KEY);
const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = user, payload?: object) =>
  server.app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
const fp32 = { name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: instance(1).flat(2) };

describe('KServe v2: server metadata', () => {
  it('GET /v2 and GET /v2/ (the spec\'s path) answer the same metadata, with the extensions served', async () => {
    const expected = { name: 'insight', version: '0.1.0', extensions: ['classification', 'model_repository', 'binary_tensor_data'] };
    for (const url of ['/v2', '/v2/']) {
      const res = await call('GET', url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      assert.deepEqual(res.json(), expected);
    }
  });
});

describe('KServe v2: model_repository extension', () => {
  it('POST /v2/repository/index lists every version with its state and reason; {"ready": true} only the ready ones', async () => {
    const res = await call('POST', '/v2/repository/index', admin);
    assert.equal(res.statusCode, 200, res.body);
    const entries: { name: string; version?: string; state: string; reason: string }[] = res.json();
    const tiny = entries.filter((e) => e.name === 'tiny');
    assert.deepEqual(tiny, [
      { name: 'tiny', version: '3', state: 'READY', reason: '' },
      { name: 'tiny', version: '2', state: 'READY', reason: '' },
      { name: 'tiny', version: '1', state: 'UNAVAILABLE', reason: 'not served: older than the --keep-versions highest versions' },
    ]);
    const broken = entries.filter((e) => e.name === 'broken');
    assert.equal(broken.length, 1);
    assert.deepEqual([broken[0].version, broken[0].state], ['1', 'UNAVAILABLE']);
    assert.ok(broken[0].reason.length > 0, 'the load failure is the reason');
    const ready = (await call('POST', '/v2/repository/index', admin, { ready: true })).json();
    assert.deepEqual(ready.map((e: { name: string; version: string }) => `${e.name}/${e.version}`), ['tiny/3', 'tiny/2']);
    const bad = await call('POST', '/v2/repository/index', admin, { ready: 'yes' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /^"ready" must be true or false\. Received: ready="yes"\./);
  });

  it('unload and load: the model stops serving and serves again; the index follows', async () => {
    const unload = await call('POST', '/v2/repository/models/tiny/unload', admin, {});
    assert.equal(unload.statusCode, 200, unload.body);
    assert.deepEqual(unload.json(), { name: 'tiny', unload: true });
    const infer = await call('POST', '/v2/models/tiny/infer', user, { inputs: [fp32] });
    assert.equal(infer.statusCode, 503);
    assert.equal(infer.json().code, 'SERVE_E_MODEL_UNAVAILABLE');
    const index = (await call('POST', '/v2/repository/index', admin)).json().filter((e: { name: string }) => e.name === 'tiny');
    assert.ok(index.every((e: { state: string }) => e.state !== 'READY'), JSON.stringify(index));
    assert.ok(index.some((e: { reason: string }) => /^unloaded/.test(e.reason)), JSON.stringify(index));

    const load = await call('POST', '/v2/repository/models/tiny/load', admin);
    assert.equal(load.statusCode, 200, load.body);
    assert.deepEqual(load.json(), { name: 'tiny', load: true });
    assert.equal((await call('POST', '/v2/models/tiny/infer', user, { inputs: [fp32] })).statusCode, 200);
    const ready = (await call('POST', '/v2/repository/index', admin, { ready: true })).json();
    assert.deepEqual(ready.map((e: { version: string }) => e.version), ['3', '2']);
  });

  it('admin auth as on the admin API; unknown models 404; model files cannot be overridden', async () => {
    for (const url of ['/v2/repository/index', '/v2/repository/models/tiny/load', '/v2/repository/models/tiny/unload']) {
      assert.equal((await call('POST', url, {})).statusCode, 401, `${url} without a key`);
      const asUser = await call('POST', url, user);
      assert.equal(asUser.statusCode, 403, `${url} with an inference key`);
      assert.equal(asUser.json().code, 'SERVE_E_FORBIDDEN');
    }
    const missing = await call('POST', '/v2/repository/models/nope/load', admin);
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'SERVE_E_MODEL_NOT_FOUND');
    const config = await call('POST', '/v2/repository/models/tiny/load', admin, { parameters: { config: '{"backend": "onnx"}' } });
    assert.equal(config.statusCode, 400);
    assert.match(config.json().error, /^A load takes no parameters: model files and configuration cannot be overridden through the API\. Received: parameters=\["config"\]\./);
    const dependents = await call('POST', '/v2/repository/models/tiny/unload', admin, { parameters: { unload_dependents: false, file: 'x' } });
    assert.equal(dependents.statusCode, 400);
    assert.match(dependents.json().error, /^An? unload takes only the parameters "unload_dependents"/);
  });
});

describe('KServe v2: version strings', () => {
  it('the version strings the metadata advertises are the ones every v2 URL takes', async () => {
    const meta = (await call('GET', '/v2/models/tiny')).json();
    assert.deepEqual(meta.versions, ['3', '2']);
    for (const v of meta.versions as string[]) {
      assert.equal((await call('GET', `/v2/models/tiny/versions/${v}`)).json().parameters.version, v);
      assert.equal((await call('GET', `/v2/models/tiny/versions/${v}/ready`)).statusCode, 200);
      const infer = await call('POST', `/v2/models/tiny/versions/${v}/infer`, user, { inputs: [fp32] });
      assert.equal(infer.statusCode, 200, infer.body);
      assert.equal(infer.json().model_version, v);
    }
  });

  it('any other string (v3, 03, latest) is 404 SERVE_E_VERSION_NOT_FOUND naming the served versions; an unknown model stays a model 404', async () => {
    for (const version of ['v3', '03', 'latest']) {
      for (const [method, url] of [['GET', `/v2/models/tiny/versions/${version}`], ['GET', `/v2/models/tiny/versions/${version}/ready`],
        ['POST', `/v2/models/tiny/versions/${version}/infer`]] as const) {
        const res = await call(method, url, user, method === 'POST' ? { inputs: [fp32] } : undefined);
        assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
        assert.equal(res.json().code, 'SERVE_E_VERSION_NOT_FOUND');
        assert.match(res.json().error, new RegExp(`^A version in the URL must be one the model advertises: the decimal name of a served version\\. Received: model="tiny", version="${version}", served=\\["3","2"\\]\\.`));
      }
    }
    const unknownModel = await call('GET', '/v2/models/nope/versions/v3');
    assert.equal(unknownModel.statusCode, 404);
    assert.equal(unknownModel.json().code, 'SERVE_E_MODEL_NOT_FOUND');
    assert.equal((await call('GET', '/v2/models/tiny/versions/1')).json().code, 'SERVE_E_VERSION_NOT_FOUND', 'on disk but not served');
  });
});

describe('KServe v2: requested outputs', () => {
  it('an output named twice is 400 (Triton refuses it too), not answered twice', async () => {
    const res = await call('POST', '/v2/models/tiny/infer', user, { inputs: [fp32], outputs: [{ name: 'logits' }, { name: 'probabilities' }, { name: 'logits' }] });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().code, 'SERVE_E_BAD_INPUT');
    assert.match(res.json().error, /^Each output may be requested once\. Received: outputs\[2\]\.name="logits"\. Drop the repeated entry/);
    const once = (await call('POST', '/v2/models/tiny/infer', user, { inputs: [fp32], outputs: [{ name: 'logits' }, { name: 'probabilities' }] })).json();
    assert.deepEqual(once.outputs.map((o: { name: string }) => o.name), ['logits', 'probabilities']);
  });
});
