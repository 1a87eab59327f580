// `insight serve` as a command: startup errors in the house format, and the real binary — listening on
// 127.0.0.1:0, stopping gracefully on SIGTERM with a request in flight, and as a 2-worker cluster whose admin
// commands reach every worker and whose /metrics sum over workers.
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { main, type CliIo } from '../../src/cli/main';
import { ADMIN_KEY, INFERENCE_KEY, instance, saveVersion, tempRepository } from './helpers';

const BIN = path.join(__dirname, '..', '..', 'bin', 'insight.js');
const NODE_FLAGS = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href];

async function runMain(argv: string[]): Promise<{ status: number; stderr: string }> {
  let stderr = '';
  const sink = (append: (s: string) => void) => ({ isTTY: false, columns: 100, write: (s: string) => { append(s); return true; } });
  const io = { stdout: sink(() => undefined), stderr: sink((s) => { stderr += s; }) } as unknown as CliIo;
  const status = await main(argv, io);
  process.exitCode = 0;
  return { status, stderr };
}

let root: string;
before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
});

describe('insight serve: startup errors', () => {
  it('needs --models', async () => {
    const { status, stderr } = await runMain(['serve']);
    assert.equal(status, 2);
    assert.match(stderr, /^Error INSIGHT_E_CONFIG: serve needs a model repository\. Received: models=null\. Pass --models <dir>/);
  });

  it('refuses a non-loopback host without keys', async () => {
    const saved = [process.env.INSIGHT_API_KEYS, process.env.INSIGHT_ADMIN_KEYS];
    delete process.env.INSIGHT_API_KEYS;
    delete process.env.INSIGHT_ADMIN_KEYS;
    try {
      const { status, stderr } = await runMain(['serve', '--models', root, '--host', '0.0.0.0']);
      assert.equal(status, 2);
      assert.match(stderr, /^Error INSIGHT_E_CONFIG: insight serve listens beyond loopback \(127\.0\.0\.1, ::1\) only with API keys configured\. Received: host="0\.0\.0\.0", apiKeys=0\. Set INSIGHT_API_KEYS/);
    } finally {
      if (saved[0] !== undefined) process.env.INSIGHT_API_KEYS = saved[0];
      if (saved[1] !== undefined) process.env.INSIGHT_ADMIN_KEYS = saved[1];
    }
  });

  it('validates flag values and the repository', async () => {
    const bad = await runMain(['serve', '--models', root, '--max-batch-size', '0']);
    assert.match(bad.stderr, /^Error INSIGHT_E_CONFIG: maxBatchSize must be an integer >= 1 and <= 1024\. Received: maxBatchSize=0\. Pass e\.g\. --max-batch-size 32/);
    const missing = await runMain(['serve', '--models', path.join(root, 'nope')]);
    assert.match(missing.stderr, /^Error INSIGHT_E_CONFIG: The model repository must be a directory of <model>\/<version>\/ model directories\. Received: models=".*nope", exists=false\./);
    const unknown = await runMain(['serve', '--models', root, '--max-batch', '8']);
    assert.match(unknown.stderr, /^Error INSIGHT_E_USAGE: Only the documented flags are accepted\. Received: flag="--max-batch"\./);
  });
});

/** The real `insight serve` in a child process; resolves once `readyLines` ready lines were printed. */
function startBinary(args: string[], env: Record<string, string> = {}, readyLines = 1): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--models', root, '--port', '0', ...args], {
    env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1', INSIGHT_API_KEYS: '', INSIGHT_ADMIN_KEYS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = output.split('\n').filter((l) => l.includes('"insight serve ready"'));
      if (ready.length >= readyLines) {
        clearTimeout(timer);
        resolve({ child, url: JSON.parse(ready[0]).url, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready:\n${output}`));
    });
  });
}

/** One request on a fresh connection (so that cluster workers take turns). */
function request(url: string, method: string, pathName: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${pathName}`, { method, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => {
  if (child.exitCode !== null) resolve(child.exitCode);
  else child.once('exit', (code) => resolve(code));
});

describe('insight serve: the binary', () => {
  const children: ChildProcess[] = [];
  after(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
  const predictBody = JSON.stringify({ instances: [instance(1)] });

  it('serves on 127.0.0.1 and, on SIGTERM, finishes the request in flight and exits 0', async () => {
    const { child, url, output } = await startBinary(['--max-queue-delay-ms', '500', '--max-batch-size', '64']);
    children.push(child);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const inFlight = request(url, 'POST', '/v1/models/tiny:predict', { 'content-type': 'application/json' }, predictBody);
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 200, res.body);
    assert.equal(JSON.parse(res.body).predictions[0].length, 3);
    assert.equal(await exited(child), 0);
    assert.match(output(), /"msg":"shutting down: finishing in-flight requests"/);
    assert.match(output(), /"msg":"shut down"/);
  });

  it('--workers 2: one port, admin commands run on every worker, /metrics sums the workers', async () => {
    const { child, url, output } = await startBinary(['--workers', '2', '--log-level', 'warn'], { INSIGHT_API_KEYS: INFERENCE_KEY, INSIGHT_ADMIN_KEYS: ADMIN_KEY }, 2);
    children.push(child);
    const urls = output().split('\n').filter((l) => l.includes('"insight serve ready"')).map((l) => JSON.parse(l).url);
    assert.equal(new Set(urls).size, 1, 'both workers listen on the same port');
    const auth = { authorization: `Bearer ${INFERENCE_KEY}`, 'content-type': 'application/json' };
    for (let i = 0; i < 6; i++) assert.equal((await request(url, 'POST', '/v1/models/tiny:predict', auth, predictBody)).status, 200);
    const metrics = (await request(url, 'GET', '/metrics', auth)).body;
    assert.match(metrics, /^insight_serve_requests_total\{route="\/v1\/models\/:model:predict",method="POST",status="200"\} 6$/m);
    const unload = await request(url, 'POST', '/admin/models/tiny/unload', { authorization: `Bearer ${ADMIN_KEY}` });
    assert.equal(unload.status, 200, unload.body);
    assert.equal(JSON.parse(unload.body).workers, 2);
    for (let i = 0; i < 4; i++) assert.equal((await request(url, 'POST', '/v1/models/tiny:predict', auth, predictBody)).status, 503, 'unloaded on every worker');
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
  });
});
