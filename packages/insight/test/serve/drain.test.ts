// The shutdown drain: on SIGTERM (and the library's close()) readiness turns false at once, the listener stays open
// for the drain window, requests written on kept-alive connections get an answer — success, or 503
// SERVE_E_SHUTTING_DOWN with `Connection: close` — never a reset; in-flight requests finish; then the process exits
// within --shutdown-timeout-ms. The clients are node:http agents that keep their sockets alive, so which
// connection carries which request is known (req.reusedSocket).
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { instance, saveVersion, tempRepository, testServer, waitFor } from './helpers';

const BIN = path.join(__dirname, '..', '..', 'bin', 'insight.js');
const NODE_FLAGS = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href];
const PREDICT_BODY = JSON.stringify({ instances: [instance(1)] });

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
  /** The request went out on a connection that had already carried one (a kept-alive connection). */
  reused: boolean;
}

/** One request through `agent` (false: a fresh connection that closes after it); rejects on a socket error. */
function send(base: string, agent: http.Agent | false, method: string, pathName: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    const req = http.request(`${base}${pathName}`, { method, headers, agent }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: text, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const predict = (base: string, agent: http.Agent) => send(base, agent, 'POST', '/v1/models/tiny:predict', PREDICT_BODY);

/** A success with its predictions, or the shutdown 503 that closes its connection. */
function assertAnswered(a: Answer, what: string): void {
  if (a.status === 200) {
    assert.equal(JSON.parse(a.body).predictions[0].length, 3, what);
    return;
  }
  assert.equal(a.status, 503, `${what}: ${a.body}`);
  assert.equal(a.connection, 'close', what);
  assert.equal(JSON.parse(a.body).code, 'SERVE_E_SHUTTING_DOWN', what);
}

let root: string;
before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
});

describe('shutdown drain: the library close()', () => {
  it('answers a request on an idle kept-alive connection with 503 + Connection: close, then closes early', async () => {
    const server = await testServer(root, { drainMs: 10_000 });
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await predict(base, agent)).status, 200);
      const started = performance.now();
      const closed = server.close();
      // The listener stays open during the drain: readiness (on a fresh connection) says not ready.
      const ready = await send(base, false, 'GET', '/v2/health/ready');
      assert.deepEqual([ready.status, JSON.parse(ready.body)], [503, { ready: false }]);
      const late = await predict(base, agent);
      assert.equal(late.reused, true, 'written on the kept-alive connection');
      assertAnswered(late, 'late request');
      assert.equal(late.status, 503);
      assert.match(JSON.parse(late.body).error, /^A server that is shutting down takes no new requests\./);
      assert.equal(await closed, true);
      assert.ok(performance.now() - started < 5000, 'the drain ended once no connection was left, not after --drain-ms');
      await assert.rejects(send(base, false, 'GET', '/v2/health/live'), /ECONNREFUSED/, 'the listener closed');
    } finally {
      agent.destroy();
    }
  });

  it('an idle connection that never speaks holds the drain only for --drain-ms', async () => {
    const server = await testServer(root, { drainMs: 400, shutdownTimeoutMs: 5000 });
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await predict(base, agent)).status, 200);
      const started = performance.now();
      assert.equal(await server.close(), true);
      const took = performance.now() - started;
      assert.ok(took >= 350 && took < 3000, `drained for --drain-ms (400 ms), took ${took.toFixed(0)} ms`);
    } finally {
      agent.destroy();
    }
  });
});

/** The real `insight serve` in a child process; resolves with its URL once the ready line is printed. */
function startBinary(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'serve', '--models', root, '--port', '0', ...args], {
    env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1', INSIGHT_API_KEYS: '', INSIGHT_ADMIN_KEYS: '' },
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
      const ready = output.split('\n').find((l) => l.includes('"insight serve ready"'));
      if (ready !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: JSON.parse(ready).url, output: () => output });
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

describe('shutdown drain: SIGTERM to `insight serve`', () => {
  const children: ChildProcess[] = [];
  after(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

  it('in-flight requests finish, kept-alive connections get 503 + Connection: close (no ECONNRESET), readiness flips, exit 0', async () => {
    const { child, url, output } = await startBinary(['--max-queue-delay-ms', '1000', '--max-batch-size', '64', '--drain-ms', '8000',
      '--shutdown-timeout-ms', '15000', '--log-level', 'info']);
    children.push(child);
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: performance.now() })));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      // Eight kept-alive connections, opened by eight concurrent requests.
      const warm = await Promise.all(Array.from({ length: 8 }, () => predict(url, agent)));
      assert.deepEqual(warm.map((a) => a.status), Array(8).fill(200));
      assert.equal((await send(url, false, 'GET', '/v2/health/ready')).status, 200);
      // Four requests wait in the batching queue (1 s) on four of them; the server's in-flight gauge says they arrived.
      const inFlight = Array.from({ length: 4 }, () => predict(url, agent));
      await waitFor(async () => /^insight_serve_in_flight_requests 5$/m.test((await send(url, false, 'GET', '/metrics')).body), 10_000, 'four requests in flight');
      const signalled = performance.now();
      child.kill('SIGTERM');
      // Readiness flips at once while the listener stays open.
      await waitFor(async () => (await send(url, false, 'GET', '/v2/health/ready')).status === 503, 5000, 'readiness false');
      // Four more requests, written on the four idle kept-alive connections during the drain.
      const late = await Promise.all(Array.from({ length: 4 }, () => predict(url, agent)));
      const done = await Promise.all(inFlight);
      done.forEach((a, i) => {
        assert.equal(a.status, 200, `in-flight request ${i} finished: ${a.body}`);
        assertAnswered(a, `in-flight request ${i}`);
        assert.equal(a.connection, 'close', 'responses finishing during shutdown close their connection');
      });
      late.forEach((a, i) => {
        assert.equal(a.reused, true, `late request ${i} went out on a kept-alive connection`);
        assertAnswered(a, `late request ${i}`);
        assert.equal(a.status, 503);
      });
      const { code, at } = await exited;
      assert.equal(code, 0, output());
      assert.ok(at - signalled < 15_000, 'exited within --shutdown-timeout-ms');
      assert.ok(at - signalled < 8000, 'the drain ended once every connection had closed, before --drain-ms');
      assert.match(output(), /"msg":"drain over: closing the listener"/);
      assert.match(output(), /"msg":"shut down"/);
    } finally {
      agent.destroy();
    }
  });
});
