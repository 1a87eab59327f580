// Sampled request capture: what a record holds (hash, not the input, unless --capture-raw), sampling, the
// writer's rotation (hourly, by size, atomic rename of .part files) and retention.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import Fastify from 'fastify';

import { installCapture } from '../../src/serve/capture/capture_hooks';
import { CAPTURE_FILE, CaptureWriter } from '../../src/serve/capture/capture_writer';
import { resolveServeConfig } from '../../src/serve/config';
import { instance, saveVersion, tempRepository, testConfig, testServer } from './helpers';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'insight-capture-'));

/** Every record of the finished capture files in `dir` (and no unfinished .part file is left). */
function records(dir: string): Record<string, unknown>[] {
  const names = fs.readdirSync(dir).sort();
  assert.deepEqual(names.filter((n) => !CAPTURE_FILE.test(n)), [], 'only finished capture files');
  return names.flatMap((n) => fs.readFileSync(path.join(dir, n), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>));
}

describe('request capture on a server', () => {
  it('records model, version, input sha256, prediction and latency — not the input', async () => {
    const root = tempRepository();
    await saveVersion(root, 'tiny', 1);
    await saveVersion(root, 'tiny', 2);
    const dir = tempDir();
    const server = await testServer(root, { captureRate: 1, captureDir: dir, keepVersions: 2 });
    const body = JSON.stringify({ instances: [instance(7)] });
    const v1 = await server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: body, headers: { 'content-type': 'application/json' } });
    const pinned = await server.app.inject({ method: 'POST', url: '/v1/models/tiny/versions/1:predict', payload: body, headers: { 'content-type': 'application/json' } });
    const v2body = JSON.stringify({ inputs: [{ name: 'image', shape: [1, 8, 8, 3], datatype: 'FP32', data: instance(7).flat(2) }] });
    const v2 = await server.app.inject({ method: 'POST', url: '/v2/models/tiny/infer', payload: v2body, headers: { 'content-type': 'application/json' } });
    await server.app.inject({ method: 'GET', url: '/v1/models/tiny' }); // not an inference: not captured
    for (const res of [v1, pinned, v2]) assert.equal(res.statusCode, 200, res.body);
    await server.close();
    const got = records(dir);
    assert.equal(got.length, 3);
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    assert.deepEqual([got[0].model, got[0].version, got[0].route, got[0].status], ['tiny', 2, '/v1/models/:target', 200]);
    assert.equal(got[0].inputSha256, sha(body));
    assert.equal(got[0].inputBytes, Buffer.byteLength(body));
    assert.deepEqual(got[0].prediction, v1.json());
    assert.ok(typeof got[0].latencyMs === 'number' && got[0].latencyMs > 0);
    assert.ok(!Number.isNaN(Date.parse(String(got[0].time))));
    assert.deepEqual([got[1].model, got[1].version], ['tiny', 1]);
    assert.deepEqual([got[2].model, got[2].version, got[2].inputSha256], ['tiny', 2, sha(v2body)]);
    assert.deepEqual(got[2].prediction, v2.json());
    assert.ok(got.every((r) => !('input' in r)));
    const text = fs.readdirSync(dir).map((n) => fs.readFileSync(path.join(dir, n), 'utf8')).join('');
    assert.ok(!text.includes(String(instance(7)[0][0][0])), 'no input value in the capture');
  });

  it('--capture-raw adds the request body (base64)', async () => {
    const root = tempRepository();
    await saveVersion(root, 'tiny', 1);
    const dir = tempDir();
    const server = await testServer(root, { captureRate: 1, captureDir: dir, captureRaw: true });
    const body = JSON.stringify({ instances: [instance(3)] });
    assert.equal((await server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: body, headers: { 'content-type': 'application/json' } })).statusCode, 200);
    await server.close();
    const [record] = records(dir);
    assert.equal(Buffer.from(String(record.input), 'base64').toString(), body);
  });

  it('samples by --capture-rate (a seeded draw per inference request)', async () => {
    const dir = tempDir();
    const app = Fastify();
    const draws = [0.1, 0.7, 0.3, 0.9, 0.49];
    installCapture(app, testConfig('unused', { captureRate: 0.5, captureDir: dir }), { defaultVersion: () => 4 }, () => draws.shift()!);
    app.post('/v2/models/:model/infer', async (request) => ({ echo: request.body }));
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({ method: 'POST', url: '/v2/models/m/infer', payload: { i } });
      assert.equal(res.statusCode, 200);
    }
    await app.close();
    const got = records(dir);
    assert.deepEqual(got.map((r) => (r.prediction as { echo: { i: number } }).echo.i), [0, 2, 4]);
    assert.deepEqual(got.map((r) => r.version), [4, 4, 4]);
  });

  it('never records a request refused for its sender (401, 403, 429), even with --capture-raw', async () => {
    const dir = tempDir();
    const app = Fastify();
    installCapture(app, testConfig('unused', { captureRate: 1, captureDir: dir, captureRaw: true }), { defaultVersion: () => 1 });
    app.post('/v2/models/:model/infer', async (request, reply) => {
      const status = Number((request.body as { status: number }).status);
      return status === 200 ? { ok: true } : reply.code(status).send({ error: 'refused' });
    });
    for (const status of [401, 200, 403, 429]) {
      assert.equal((await app.inject({ method: 'POST', url: '/v2/models/m/infer', payload: { status, secret: 'payload' } })).statusCode, status);
    }
    await app.close();
    assert.deepEqual(records(dir).map((r) => r.status), [200]);
  });

  it('is off by default, and needs a folder when on', () => {
    const app = Fastify();
    assert.equal(installCapture(app, testConfig('unused'), { defaultVersion: () => null }), null);
    assert.throws(() => resolveServeConfig({ models: 'm', captureRate: 0.1 }), /Request capture needs a folder to write to\. Received: captureRate=0\.1, captureDir=null.*--capture-dir <dir>/s);
    assert.throws(() => resolveServeConfig({ models: 'm', captureRate: 2, captureDir: 'x' }), /captureRate must be a number >= 0 and <= 1/);
  });
});

describe('CaptureWriter', () => {
  it('rotates by size and by hour with atomic renames, and deletes files past retention', async () => {
    const dir = tempDir();
    const old = path.join(dir, 'capture-20200101T00-1-1.jsonl');
    fs.writeFileSync(old, '{}\n');
    let now = Date.UTC(2026, 0, 1, 10, 59, 0);
    const twoDaysAgo = (now - 48 * 3600_000) / 1000;
    fs.utimesSync(old, twoDaysAgo, twoDaysAgo);
    const orphan = path.join(dir, 'capture-20200101T00-99999-3.jsonl.part'); // left by a killed process
    fs.writeFileSync(orphan, '{}\n');
    fs.utimesSync(orphan, twoDaysAgo, twoDaysAgo);
    const keep = path.join(dir, 'notes.txt'); // not a capture file: never touched
    fs.writeFileSync(keep, 'x');
    fs.utimesSync(keep, twoDaysAgo, twoDaysAgo);
    const writer = new CaptureWriter({ dir, retentionHours: 24, maxFileBytes: 100, flushMs: 10_000, now: () => now });
    writer.record({ n: 1, pad: 'x'.repeat(100) });
    await writer.flush();
    assert.ok(!fs.existsSync(old), 'expired capture file deleted');
    assert.ok(!fs.existsSync(orphan), 'expired .part file of a killed process deleted');
    assert.ok(fs.existsSync(keep));
    const parts = fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl.part'));
    assert.equal(parts.length, 1, 'the open file is a .part file');
    assert.match(parts[0], new RegExp(`^capture-20260101T10-${process.pid}-1\\.jsonl\\.part$`));
    writer.record({ n: 2 }); // the open file is past 100 bytes: this write goes to a new one
    await writer.flush();
    now += 60_000; // 11:00: a new hour, a new file
    writer.record({ n: 3 });
    await writer.flush();
    await writer.close();
    const files = fs.readdirSync(dir).filter((n) => CAPTURE_FILE.test(n)).sort();
    assert.deepEqual(files, [1, 2, 3].map((k) => `capture-20260101T1${k === 3 ? 1 : 0}-${process.pid}-${k}.jsonl`));
    assert.deepEqual(files.map((n) => (JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as { n: number }).n), [1, 2, 3]);
    writer.record({ n: 4 }); // after close: ignored
    await writer.flush();
    assert.equal(fs.readdirSync(dir).length, 4);
  });
});
