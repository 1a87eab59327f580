// Model loading safety (issue 17, A1): a new version whose files are hostile is refused, reported once (status, one
// warn log line with a reason, insight_model_load_failures_total) and skipped, while the version before keeps serving
// and health stays fast: a FIFO weights.bin (it froze the event loop), weights.bin -> /dev/zero (memory grew until
// the process died), manifest paths leading out of the version folder, a version folder linked from outside the
// repository, weight files bigger or smaller than the manifest declares. A valid new version still loads.
// A real server on 127.0.0.1 with real files; every loop is bounded in count and time.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ModelFileError, ModelFileReader, type ModelFileProblem } from '../../src/run/safe_files';
import { detectLayout } from '../../src/serve/repository/scan';
import type { ServeInstance } from '../../src/serve/start';
import { INFERENCE_KEY, KEYS, SIZE, bearer, instance, saveVersion, tempRepository, testServer, waitFor } from './helpers';

const POLL_MS = 150;
const MODELS = ['fifo', 'onnx', 'zero', 'escape', 'linked', 'sizes', 'fresh'];

let server: ServeInstance;
let root: string;
/** A folder beside the repository (outside it), holding files the hostile versions point at. */
let outside: string;
let base: string;
const logLines: string[] = [];
const headers = { ...bearer(INFERENCE_KEY), 'content-type': 'application/json' };
const inferBody = JSON.stringify({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: instance(1).flat(2) }] });

before(async () => {
  root = tempRepository();
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-outside-'));
  for (const model of MODELS) await saveVersion(root, model, 1);
  server = await testServer(root, { pollMs: POLL_MS, logLevel: 'warn' }, KEYS, { write: (line) => void logLines.push(line) });
  base = await server.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

async function infer(model: string): Promise<{ status: number; version: string | null }> {
  const res = await fetch(`${base}/v2/models/${model}/infer`, { method: 'POST', headers, body: inferBody });
  const body = await res.json() as { model_version?: string };
  return { status: res.status, version: body.model_version ?? null };
}

type VersionStatus = { version: string; state: string; status: { error_code: string; error_message: string } };

async function statuses(model: string): Promise<VersionStatus[]> {
  const res = await fetch(`${base}/v1/models/${model}`, { headers });
  return (await res.json() as { model_version_status: VersionStatus[] }).model_version_status;
}

/** The error message of `model`'s `version` once its load has failed (bounded wait). */
async function failure(model: string, version: number): Promise<string> {
  let message = '';
  await waitFor(async () => {
    const s = (await statuses(model)).find((v) => v.version === String(version));
    message = s?.state === 'END' ? s.status.error_message : '';
    return message !== '';
  }, 5000, `${model} v${version} failed`);
  return message;
}

/** The warn lines logged for the failed load of `model`'s `version`. */
function failureLogs(model: string, version: number): { level: number; reason: string; error: string }[] {
  return logLines.map((l) => JSON.parse(l) as { level: number; model?: string; version?: number; reason: string; error: string; msg: string })
    .filter((l) => l.model === model && l.version === version && l.msg === 'model version failed to load; the served versions stay');
}

async function metricsText(): Promise<string> {
  return (await fetch(`${base}/metrics`, { headers })).text();
}

/** <root>/<model>/<version>/ with a copy of version 1's model.json (its weights are up to the test). */
function newVersion(model: string, version: number, modelJson?: (json: { weightsManifest: { paths: string[] }[] }) => void): string {
  const dir = path.join(root, model, String(version));
  fs.mkdirSync(dir);
  const json = JSON.parse(fs.readFileSync(path.join(root, model, '1', 'model.json'), 'utf8'));
  modelJson?.(json);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  return dir;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('model loading safety', () => {
  it('a FIFO weights.bin is refused without blocking: health stays fast over several polls, v1 keeps serving', async () => {
    const fifo = path.join(newVersion('fifo', 2), 'weights.bin');
    execFileSync('mkfifo', [fifo]);
    // Safety net for the code before the fix (a blocking read of the FIFO froze this whole process, timers included):
    // a writer opens it after 4 s, so that code fails the latency check below instead of hanging the test run.
    const writer = spawn('sh', ['-c', 'sleep 4; : > "$0"', fifo], { stdio: 'ignore' });
    try {
      const latencies: number[] = [];
      // A blocked event loop stalls this in-process client too: the gaps between probe starts show it (a client of
      // its own would have waited that long for an answer).
      const gaps: number[] = [];
      let previous = performance.now();
      let failedAt = Infinity;
      // Probe health every 25 ms until four poll intervals after the failure is reported (at most 400 probes).
      for (let i = 0; i < 400 && Date.now() < failedAt + 4 * POLL_MS; i++) {
        const started = performance.now();
        gaps.push(started - previous);
        previous = started;
        const res = await fetch(`${base}/v2/health/ready`);
        latencies.push(performance.now() - started);
        assert.equal(res.status, 200);
        if (failedAt === Infinity && (await statuses('fifo')).some((v) => v.version === '2' && v.state === 'END')) failedAt = Date.now();
        await sleep(25);
      }
      assert.ok(failedAt < Infinity, 'the FIFO version was reported failed');
      assert.ok(Math.max(...latencies) < 1000, `health answered within 1 s every time (slowest ${Math.max(...latencies).toFixed(0)} ms of ${latencies.length})`);
      assert.ok(Math.max(...gaps) < 1000, `no stall between probes (longest gap ${Math.max(...gaps).toFixed(0)} ms)`);
      const message = await failure('fifo', 2);
      assert.match(message, /^A model file must be a regular file \(not a FIFO, device, socket or directory\)\. Received: file="fifo\/2\/weights\.bin", kind="fifo"\./);
      assert.ok(!message.includes(root), 'no absolute path in the message');
      assert.deepEqual(await infer('fifo'), { status: 200, version: '1' });
      // Logged once as a warning with its reason, although the poll ran several times since.
      assert.deepEqual(failureLogs('fifo', 2).map((l) => [l.level, l.reason]), [[40, 'not_regular_file']]);
      assert.match(await metricsText(), /^insight_model_load_failures_total\{model="fifo",reason="not_regular_file"\} 1$/m);
    } finally {
      writer.kill();
    }
  });

  it('an ONNX version whose model.onnx is a FIFO is refused the same way', async () => {
    const dir = path.join(root, 'onnx', '2');
    fs.mkdirSync(dir);
    execFileSync('mkfifo', [path.join(dir, 'model.onnx')]);
    const writer = spawn('sh', ['-c', 'sleep 4; : > "$0"', path.join(dir, 'model.onnx')], { stdio: 'ignore' }); // as above
    try {
      const started = performance.now();
      assert.match(await failure('onnx', 2), /must be a regular file .*Received: file="onnx\/2\/model\.onnx", kind="fifo"\./);
      assert.ok(performance.now() - started < 2000, 'refused without waiting for a writer');
      assert.deepEqual(await infer('onnx'), { status: 200, version: '1' });
      assert.deepEqual(failureLogs('onnx', 2).map((l) => l.reason), ['not_regular_file']);
    } finally {
      writer.kill();
    }
  });

  it('weights.bin -> /dev/zero is refused before a byte is read: memory stays flat, v1 keeps serving', async () => {
    const rssBefore = process.memoryUsage().rss;
    fs.symlinkSync('/dev/zero', path.join(newVersion('zero', 2), 'weights.bin'));
    const message = await failure('zero', 2);
    const grewMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.ok(grewMb < 64, `RSS grew ${grewMb.toFixed(1)} MiB`);
    assert.match(message, /^A model file must resolve inside its model directory \(a symlink may not lead out of it\)\. Received: file="zero\/2\/weights\.bin"\./);
    assert.deepEqual(await infer('zero'), { status: 200, version: '1' });
    assert.deepEqual(failureLogs('zero', 2).map((l) => l.reason), ['outside_root']);
  });

  it('weight paths leading out of the version folder are refused, even to valid weights', async () => {
    // Valid weights outside the repository: the code before the fix served versions 3 and 4 from them.
    const stolen = path.join(outside, 'weights.bin');
    fs.copyFileSync(path.join(root, 'escape', '1', 'weights.bin'), stolen);
    const cases: [number, string, RegExp][] = [
      [2, '../../../../etc/hostname', /must stay inside its model directory \(no absolute paths, no "\.\."\)\. Received: file="\.\.\/\.\.\/\.\.\/\.\.\/etc\/hostname", modelDir="escape\/2"\./],
      [3, path.relative(path.join(root, 'escape', '3'), stolen), /must stay inside its model directory/],
      [4, './weights.bin', /must resolve inside its model directory \(a symlink may not lead out of it\)\. Received: file="escape\/4\/weights\.bin"\./],
      [5, '/etc/hostname', /must stay inside its model directory.*Received: file="\/etc\/hostname"/],
    ];
    for (const [version, weights] of cases) {
      const dir = newVersion('escape', version, (json) => { json.weightsManifest[0].paths = [weights]; });
      if (version === 4) fs.symlinkSync(stolen, path.join(dir, 'weights.bin'));
    }
    for (const [version, , expected] of cases) {
      assert.match(await failure('escape', version), expected);
      assert.deepEqual(failureLogs('escape', version).map((l) => l.reason), ['outside_root']);
    }
    assert.deepEqual(await infer('escape'), { status: 200, version: '1' });
    assert.match(await metricsText(), /^insight_model_load_failures_total\{model="escape",reason="outside_root"\} 4$/m);
  });

  it('a version folder linked to a model outside the repository is refused; one linked inside it loads', async () => {
    const elsewhere = await saveVersion(outside, 'elsewhere', 1, 7);
    fs.symlinkSync(elsewhere, path.join(root, 'linked', '2'));
    assert.match(await failure('linked', 2),
      /^A served model version must lie inside the model repository \(a version folder may not link out of it\)\. Received: version="linked\/2"\./);
    assert.deepEqual(await infer('linked'), { status: 200, version: '1' });
    assert.deepEqual(failureLogs('linked', 2).map((l) => l.reason), ['outside_root']);
    // Inside the repository (a hidden folder, which the scan skips) a linked version is fine: blue/green by symlink.
    const staged = await saveVersion(path.join(root, '.staged'), 'linked', 3, 9);
    fs.symlinkSync(path.relative(path.join(root, 'linked'), staged), path.join(root, 'linked', '3'));
    await waitFor(async () => (await infer('linked')).version === '3', 5000, 'linked v3 served');
    assert.deepEqual(failureLogs('linked', 3), []);
  });

  it('weight files must hold exactly the bytes the manifest declares: bigger, smaller and huge declarations are refused', async () => {
    const weights = fs.readFileSync(path.join(root, 'sizes', '1', 'weights.bin'));
    fs.writeFileSync(path.join(newVersion('sizes', 2), 'weights.bin'), Buffer.concat([weights, Buffer.alloc(16, 7)]));
    fs.writeFileSync(path.join(newVersion('sizes', 3), 'weights.bin'), weights.subarray(0, weights.length - 4));
    // A manifest declaring 4 TB: refused from model.json alone (the file is the real, small one).
    fs.writeFileSync(path.join(newVersion('sizes', 4, (json) => {
      (json.weightsManifest[0] as unknown as { weights: { shape: number[] }[] }).weights[0].shape = [1_000_000, 1_000_000];
    }), 'weights.bin'), weights);
    assert.match(await failure('sizes', 2), new RegExp(`may hold no more than the bytes model\\.json's weightsManifest declares\\. Received: file="sizes/2/weights\\.bin", bytes=${weights.length + 16}, declared=${weights.length}\\.`));
    assert.match(await failure('sizes', 3), new RegExp(`weight files must hold the bytes its model\\.json lists\\. Received: files="sizes/3/weights\\.bin", manifest="model\\.json's weightsManifest", expectedBytes=${weights.length}, bytes=${weights.length - 4}\\.`));
    assert.match(await failure('sizes', 4), /^A model load reads at most its byte budget \(2 GiB in all\)\. Received: file="model\.json's weightsManifest", bytes=4000000/);
    assert.deepEqual([2, 3, 4].map((v) => failureLogs('sizes', v).map((l) => l.reason)), [['size_mismatch'], ['size_mismatch'], ['too_large']]);
    assert.deepEqual(await infer('sizes'), { status: 200, version: '1' });
  });

  it('a valid new version still loads and takes over', async () => {
    await saveVersion(root, 'fresh', 2, 11);
    await waitFor(async () => (await infer('fresh')).version === '2', 5000, 'fresh v2 served');
    assert.deepEqual(failureLogs('fresh', 2), []);
    assert.doesNotMatch(await metricsText(), /insight_model_load_failures_total\{model="fresh"/);
  });
});

describe('ModelFileReader', () => {
  const problem = (expected: ModelFileProblem, message: RegExp) => (error: unknown) => {
    assert.ok(error instanceof ModelFileError, String(error));
    assert.equal(error.problem, expected);
    assert.match(error.message, message);
    return true;
  };

  it('refuses a device and a directory even inside its root, naming the kind', async () => {
    await assert.rejects(new ModelFileReader('/dev', { shownFrom: '/' }).read('zero', { max: 100, what: 'a test cap' }),
      problem('not_regular_file', /Received: file="dev\/zero", kind="character device"\./));
    const dir = fs.mkdtempSync(path.join(outside, 'reader-'));
    fs.mkdirSync(path.join(dir, 'weights.bin'));
    await assert.rejects(new ModelFileReader(dir, { shownFrom: dir }).read('weights.bin', { max: 100, what: 'a test cap' }),
      problem('not_regular_file', /Received: file="weights\.bin", kind="directory"\./));
  });

  it('caps sizes before reading: model.json over 64 MiB (a sparse file) and the byte budget of a load', async () => {
    const dir = fs.mkdtempSync(path.join(outside, 'reader-'));
    fs.writeFileSync(path.join(dir, 'model.json'), '');
    fs.truncateSync(path.join(dir, 'model.json'), 64 * 2 ** 20 + 1); // sparse: no 64 MiB written
    await assert.rejects(new ModelFileReader(dir, { shownFrom: dir }).read('model.json', { max: 64 * 2 ** 20, what: 'the model.json cap (64 MiB)' }),
      problem('too_large', /^A model file may hold at most 67108864 bytes \(the model\.json cap \(64 MiB\)\)\. Received: file="model\.json", bytes=67108865/));
    fs.writeFileSync(path.join(dir, 'a.bin'), Buffer.alloc(6, 1));
    const reader = new ModelFileReader(dir, { shownFrom: dir, maxBytes: 10 });
    assert.deepEqual([...await reader.read('a.bin', { exact: 6, what: 'the test' })], [1, 1, 1, 1, 1, 1]);
    assert.equal(reader.remainingBytes, 4);
    await assert.rejects(reader.read('a.bin', { exact: 6, what: 'the test' }), problem('too_large', /Received: file="a\.bin", bytes=6, budget=4\./));
  });

  it('a file whose name starts with two dots is inside its folder; "../x" is not', async () => {
    const dir = fs.mkdtempSync(path.join(outside, 'reader-'));
    fs.writeFileSync(path.join(dir, '..weights.bin'), Buffer.alloc(3, 7));
    fs.writeFileSync(path.join(outside, 'x.bin'), Buffer.alloc(3, 7));
    const reader = new ModelFileReader(dir, { shownFrom: dir });
    assert.deepEqual([...await reader.read('..weights.bin', { exact: 3, what: 'the test' })], [7, 7, 7]);
    await assert.rejects(reader.read('../x.bin', { exact: 3, what: 'the test' }), problem('outside_root', /no absolute paths, no "\.\."/));
  });

  it('a run directory whose config.json is a FIFO is scanned without blocking (named by its id)', () => {
    const run = path.join(fs.mkdtempSync(path.join(outside, 'runs-')), '20260102-000000-cccc');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'run.json'), '{}');
    execFileSync('mkfifo', [path.join(run, 'config.json')]);
    const writer = spawn('sh', ['-c', 'sleep 4; : > "$0"', path.join(run, 'config.json')], { stdio: 'ignore' }); // as above
    try {
      const started = performance.now();
      assert.deepEqual(detectLayout(run), { kind: 'run', root: run, name: '20260102-000000-cccc', version: 1, dir: path.join(run, 'model') });
      assert.ok(performance.now() - started < 1000, 'no wait for a writer');
    } finally {
      writer.kill();
    }
  });

  it('fails a load past its deadline with a timeout', async () => {
    const dir = fs.mkdtempSync(path.join(outside, 'reader-'));
    fs.writeFileSync(path.join(dir, 'a.bin'), 'x');
    const reader = new ModelFileReader(dir, { timeoutMs: 1 });
    await sleep(10);
    await assert.rejects(reader.read('a.bin', { max: 10, what: 'the test' }),
      problem('timeout', /^Reading a model version's files must finish within --load-timeout-ms\. Received: file="[^"]+", timeoutMs=1\./));
  });
});
