// The model repository as served: a new version appearing under load is swapped in without losing a request;
// a broken version leaves the serving one in place and is reported (status, log, metric) until its files change;
// a version being copied is not loaded half-written; models come and go; admins pin, unload and reload.
// All traffic goes to 127.0.0.1 and every loop is bounded in count and time.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { tf } from '../../src/backend';
import type { ServeInstance } from '../../src/serve/start';
import { ADMIN_KEY, INFERENCE_KEY, KEYS, SIZE, bearer, instance, saveVersion, tempRepository, testServer, waitFor } from './helpers';

let server: ServeInstance;
let root: string;
let base: string;
const logLines: string[] = [];
const headers = { ...bearer(INFERENCE_KEY), 'content-type': 'application/json' };
const inferBody = JSON.stringify({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: instance(1).flat(2) }] });

before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  server = await testServer(root, { pollMs: 100, logLevel: 'info' }, KEYS, { write: (line) => void logLines.push(line) });
  base = await server.app.listen({ port: 0, host: '127.0.0.1' });
});
after(() => server.close());

async function infer(model = 'tiny'): Promise<{ status: number; version: string | null }> {
  const res = await fetch(`${base}/v2/models/${model}/infer`, { method: 'POST', headers, body: inferBody });
  const body = await res.json() as { model_version?: string };
  return { status: res.status, version: body.model_version ?? null };
}

async function status(model = 'tiny') {
  const res = await fetch(`${base}/v1/models/${model}`, { headers });
  return { code: res.status, body: await res.json() as { model_version_status: { version: string; state: string; status: { error_code: string; error_message: string } }[] } };
}

const admin = (action: string, model = 'tiny', body?: unknown) => fetch(`${base}/admin/models/${model}/${action}`, {
  method: 'POST', headers: { ...bearer(ADMIN_KEY), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
});

describe('hot reload', () => {
  it('a new version appearing under load is swapped in and no request fails', async () => {
    const tensorsWithOneModel = tf.memory().numTensors;
    const results: { status: number; version: string | null }[] = [];
    let appeared = false;
    const deadline = Date.now() + 15_000;
    const client = async () => {
      // Bounded: at most 150 requests per client and 15 s; stops once version 2 has answered 20 times.
      for (let i = 0; i < 150 && Date.now() < deadline; i++) {
        results.push(await infer());
        if (results.filter((r) => r.version === '2').length >= 20) return;
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, client));
    await waitFor(() => results.length >= 30, 10_000, 'traffic on version 1');
    await saveVersion(root, 'tiny', 2);
    appeared = true;
    await load;
    assert.ok(appeared);
    assert.deepEqual(results.filter((r) => r.status !== 200), [], 'every request succeeded');
    const versions = results.map((r) => r.version);
    assert.ok(versions.includes('1') && versions.includes('2'), 'served by version 1, then version 2');
    // Only requests already in flight at the swap (at most one per client) may still be answered by version 1.
    const lateV1 = versions.slice(versions.indexOf('2')).filter((v) => v === '1').length;
    assert.ok(lateV1 <= 6, `version 2 took over (${lateV1} late version 1 answers)`);
    // Version 1 is retired once its last request is done: only version 2's weights remain.
    await waitFor(async () => (await status()).body.model_version_status.find((s) => s.version === '1')?.state === 'END', 5000, 'version 1 ended');
    assert.equal(tf.memory().numTensors, tensorsWithOneModel);
  });

  it('a broken new version is reported and the serving version stays; fixing its files loads it', async () => {
    const dir = path.join(root, 'tiny', '3');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": "truncated');
    await waitFor(async () => (await status()).body.model_version_status.some((s) => s.version === '3' && s.state === 'END'), 5000, 'version 3 failed');
    const v3 = (await status()).body.model_version_status.find((s) => s.version === '3')!;
    assert.equal(v3.status.error_code, 'UNKNOWN');
    assert.match(v3.status.error_message, /^A model directory must contain a readable, valid model\.json\. Received: model=".*tiny\/3"/);
    assert.deepEqual(await infer(), { status: 200, version: '2' });
    assert.ok(logLines.some((l) => /"model":"tiny","version":3,.*model version failed to load; the served versions stay/.test(l)));
    const metrics = await (await fetch(`${base}/metrics`, { headers })).text();
    assert.match(metrics, /^insight_serve_model_loads_total\{model="tiny",outcome="failed"\} 1$/m);
    // Not retried while unchanged...
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.match(await (await fetch(`${base}/metrics`, { headers })).text(), /outcome="failed"\} 1$/m);
    // ...and loaded once its files are fixed.
    fs.rmSync(dir, { recursive: true });
    await saveVersion(root, 'tiny', 3);
    await waitFor(async () => (await infer()).version === '3', 5000, 'version 3 served');
  });

  it('a version being copied (model.json before its weights) is loaded only once complete', async () => {
    const source = path.join(root, 'tiny', '3');
    const dir = path.join(root, 'tiny', '4');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(source, 'model.json'), path.join(dir, 'model.json'));
    await new Promise((resolve) => setTimeout(resolve, 40));
    fs.copyFileSync(path.join(source, 'weights.bin'), path.join(dir, 'weights.bin'));
    await waitFor(async () => (await infer()).version === '4', 5000, 'version 4 served');
    assert.ok(!logLines.some((l) => /"version":4,.*failed to load/.test(l)), 'never tried half-copied');
  });

  it('new model directories are served, removed ones are gone', async () => {
    await saveVersion(root, 'other', 1);
    await waitFor(async () => (await infer('other')).status === 200, 5000, 'model "other" served');
    fs.rmSync(path.join(root, 'other'), { recursive: true });
    await waitFor(async () => (await infer('other')).status === 404, 5000, 'model "other" gone');
  });

  it('admin: pin a version (rollback), unload, load, reload', async () => {
    const pinned = await admin('load', 'tiny', { version: 3 });
    assert.equal(pinned.status, 200, await pinned.clone().text());
    const snapshot = (await pinned.json()).models[0];
    assert.deepEqual([snapshot.pinnedVersion, snapshot.servingVersions], [3, [3]]);
    assert.equal((await infer()).version, '3');

    const missing = await admin('load', 'tiny', { version: 99 });
    assert.equal(missing.status, 404);
    assert.match((await missing.json()).error, /^An admin load may pin only a version that exists on disk\. Received: model="tiny", version=99, onDisk=\[4,3,2,1\]\./);

    assert.equal((await admin('unload')).status, 200);
    const unloaded = await fetch(`${base}/v1/models/tiny:predict`, { method: 'POST', headers, body: JSON.stringify({ instances: [instance(1)] }) });
    assert.equal(unloaded.status, 503);
    assert.match((await unloaded.json()).error, /^A model unloaded by an admin serves no requests\. Received: model="tiny", unloaded=true\. Ask an admin to POST \/admin\/models\/tiny\/load\./);
    assert.equal((await fetch(`${base}/v2/models/tiny/ready`, { headers })).status, 503);

    const loaded = await admin('load');
    assert.deepEqual((await loaded.json()).models[0].servingVersions, [4]);
    const reloaded = await admin('reload');
    assert.equal(reloaded.status, 200);
    assert.equal((await infer()).version, '4');
    assert.equal((await admin('reload', 'nope')).status, 404);
    const badBody = await admin('load', 'tiny', { version: 'latest' });
    assert.equal(badBody.status, 400);
    assert.match((await badBody.json()).error, /^"version" must be a positive integer/);
  });
});
