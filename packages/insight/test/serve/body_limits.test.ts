// Big and slow bodies must not hurt other clients (issue 17, A6): a JSON body with more numbers than any valid
// request is refused while it streams (never buffered and parsed in full), large bodies wait for room in a byte
// budget, slow requests are cut near --request-timeout-ms (not at 73 s), open connections are capped at
// --max-connections. The attack of the issue, bounded: two clients post 16 MB invalid JSON bodies while a third
// measures health latency (p99 < 250 ms here: lenient on a shared machine; the target is 50 ms) and RSS stays flat.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';

import { BodyBudget } from '../../src/serve/limits/body_budget';
import { JsonNumberCounter } from '../../src/serve/limits/json_number_budget';
import type { ServeInstance } from '../../src/serve/start';
import { rawExchange, saveVersion, tempRepository, testServer } from './helpers';

let root: string;

before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
});

/** A listening server on 127.0.0.1 with `overrides`; its port. */
async function listening(overrides: Parameters<typeof testServer>[1]): Promise<{ server: ServeInstance; port: number }> {
  const server = await testServer(root, overrides);
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  return { server, port: (server.app.server.address() as net.AddressInfo).port };
}

describe('pieces', () => {
  it('JsonNumberCounter counts numbers outside strings, whatever the chunking', () => {
    const text = Buffer.from('{"instances": [[1, -2.5e3, 3], {"b64": "ab\\"c1,2,3\\\\"}], "k": 12, "x": [true, null, 0.5]}');
    for (const size of [1, 2, 5, 7, text.length]) {
      const counter = new JsonNumberCounter();
      for (let i = 0; i < text.length; i += size) counter.add(text.subarray(i, i + size));
      assert.equal(counter.count, 5, `chunks of ${size}`); // 1, -2.5e3, 3, 12, 0.5
    }
  });

  it('BodyBudget grants bytes first come first served, within its capacity', async () => {
    const budget = new BodyBudget(100);
    const first = await budget.acquire(60);
    const order: string[] = [];
    const second = budget.acquire(60).then((release) => (order.push('second'), release));
    const third = budget.acquire(30).then((release) => (order.push('third'), release));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([budget.inFlight, budget.queued, order], [60, 2, []], 'the small third request does not jump the queue');
    first();
    (await second)();
    (await third)();
    assert.deepEqual(order, ['second', 'third']);
    assert.equal(budget.inFlight, 0);
    const huge = await budget.acquire(10_000);
    assert.equal(budget.inFlight, 100, 'a body over the capacity still gets through, alone');
    huge();
  });
});

describe('slow clients are cut near --request-timeout-ms', () => {
  let server: ServeInstance;
  let port: number;
  before(async () => ({ server, port } = await listening({ requestTimeoutMs: 1000 })));
  after(() => server.close());

  it('a body that trickles in stops being waited for after ~1 s: 408 in the house shape, connection closed', async () => {
    const head = `POST /v1/models/tiny:predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"instances": [`;
    const { answers, closed } = await rawExchange(port, [head], 2, 6000);
    assert.equal(answers.length, 1);
    assert.equal(answers[0].status, 408);
    assert.equal(JSON.parse(answers[0].body).code, 'SERVE_E_REQUEST_TIMEOUT');
    assert.ok(closed);
    assert.ok(answers[0].atMs >= 900 && answers[0].atMs < 3000, `cut after ${answers[0].atMs} ms`);
  });

  it('headers that never end (slowloris) are cut as fast', async () => {
    const { answers, closed } = await rawExchange(port, [`GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: a`], 2, 6000);
    assert.equal(answers[0]?.status, 408);
    assert.ok(closed && answers[0].atMs < 3000, `cut after ${answers[0].atMs} ms`);
  });
});

describe('--max-connections', () => {
  it('connections beyond the cap are closed at once; the ones inside it are served', async () => {
    const { server, port } = await listening({ maxConnections: 3 });
    const open: net.Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const socket = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        open.push(socket);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const extra = await rawExchange(port, [`GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`], 1, 3000);
      assert.equal(extra.answers.length, 0, 'the fourth connection is not served');
      assert.ok(extra.closed, 'and is closed by the server');
      open.pop()!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await rawExchange(port, [`GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`], 1, 3000);
      assert.equal(again.answers[0]?.status, 200, 'with a slot free, a connection is served again');
    } finally {
      for (const socket of open) socket.destroy();
      await server.close();
    }
  });
});

describe('big bodies do not hurt other clients', () => {
  it('a JSON body declared over the limit is refused before any byte of it is read', async () => {
    const { server, port } = await listening({ bodyLimitMb: 1 });
    try {
      const head = `POST /v1/models/tiny:predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n`;
      const { answers, closed } = await rawExchange(port, [head], 2, 3000);
      assert.equal(answers[0]?.status, 413);
      assert.equal(answers[0].headers.connection, 'close');
      assert.ok(closed);
    } finally {
      await server.close();
    }
  });

  it('two clients posting 16 MB JSON bodies of numbers: each refused early (413), health p99 < 250 ms, RSS flat', async (t) => {
    const { server, port } = await listening({});
    // Built without a 16 MB JS string (whose collection would stall this process, client and server alike).
    const body = Buffer.concat([Buffer.from('{"instances": [['), Buffer.alloc(15_999_980, '0,'), Buffer.from('0]]}')]);
    assert.ok(body.length > 15_900_000 && body.length < 16 * 1024 * 1024);
    /** One attack request: the 16 MB body in 1 MB writes (respecting backpressure) until the server answers or closes. */
    const attack = () => new Promise<number | null>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let answer = '';
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        socket.destroy();
        resolve(/^HTTP\/1\.1 (\d+)/.test(answer) ? Number(/^HTTP\/1\.1 (\d+)/.exec(answer)![1]) : null);
      };
      socket.on('data', (d) => void (answer += d.toString('latin1')));
      socket.on('close', finish);
      socket.on('error', finish);
      socket.on('connect', async () => {
        socket.write(`POST /v1/models/tiny:predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
        for (let i = 0; i < body.length && !done && !socket.destroyed; i += 1 << 20) {
          if (!socket.write(body.subarray(i, i + (1 << 20)))) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
        }
      });
    });
    const attacker = async () => {
      const statuses: (number | null)[] = [];
      for (let i = 0; i < 3; i++) statuses.push(await attack());
      return statuses;
    };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const health = () => new Promise<number>((resolve, reject) => {
      const start = process.hrtime.bigint();
      http.get({ host: '127.0.0.1', port, path: '/v2/health/live', agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error(String(res.statusCode)))));
      }).on('error', reject);
    });
    try {
      // Warm-up: the routes' first run (compilation) is not the attack's doing.
      await health();
      const warm = await server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [[[[0]]]] } });
      assert.equal(warm.statusCode, 400);
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
      const attacks = Promise.all([attacker(), attacker()]);
      const latencies: number[] = [];
      for (let i = 0; i < 50; i++) {
        latencies.push(await health());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const statuses = (await attacks).flat();
      clearInterval(sampler);
      const slowest = latencies.indexOf(Math.max(...latencies));
      latencies.sort((a, b) => a - b);
      const p50 = latencies[24];
      const p99 = latencies[Math.ceil(0.99 * latencies.length) - 1];
      const growthMb = (rssPeak - rssBefore) / 2 ** 20;
      t.diagnostic(`health over 50 requests under attack: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (slowest: request ${slowest + 1}), p98 ${latencies[48].toFixed(1)} ms; RSS growth ${growthMb.toFixed(0)} MB; attack answers ${statuses.join(',')}`);
      // Each attack was refused by the server (413 seen by the client, or the server's own count when the
      // client's writes hit the closed connection first).
      const text = await server.ctx.metricsText();
      const refused = [...text.matchAll(/insight_serve_requests_total\{[^}]*status="413"[^}]*\} (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      assert.equal(refused, 6, 'six 413 answers');
      assert.ok(statuses.every((s) => s === 413 || s === null), statuses.join(','));
      assert.ok(p99 < 250, `health p99 ${p99.toFixed(1)} ms`);
      assert.ok(growthMb < 200, `RSS grew ${growthMb.toFixed(0)} MB`);
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});
