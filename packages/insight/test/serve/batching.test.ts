// Dynamic batching: concurrent requests share forward passes and get exactly what each would get alone; the
// queue is bounded (503 + Retry-After), requests time out (504), and the scheduler's rules hold (batch size
// cap, delay, draining on close, a failing pass fails only its own requests).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { tf } from '../../src/backend';
import { DynamicBatcher, type BatchOutput } from '../../src/serve/batching/batcher';
import { ServeError } from '../../src/errors';
import type { ServeInstance } from '../../src/serve/start';
import { instance, referenceProbabilities, saveVersion, tempRepository, testServer } from './helpers';

const servers: ServeInstance[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function serverWith(overrides: Parameters<typeof testServer>[1]) {
  const root = tempRepository();
  const dir = await saveVersion(root, 'tiny', 1);
  const server = await testServer(root, overrides);
  servers.push(server);
  return { server, dir, stats: () => server.ctx.repository.resolve('tiny').batcher.stats };
}

const predict = (server: ServeInstance, xs: number[][][][]) =>
  server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: xs } });

describe('batching through the server', () => {
  it('N concurrent requests → the same results as one at a time, in fewer forward passes', async () => {
    const n = 24;
    const { server, dir, stats } = await serverWith({ maxBatchSize: 32, maxQueueDelayMs: 20 });
    const xs = Array.from({ length: n }, (_, i) => instance(100 + i));
    const before = { ...stats() };
    const responses = await Promise.all(xs.map((x) => predict(server, [x])));
    const passes = stats().passes - before.passes;
    assert.ok(passes < n / 4, `${passes} forward passes for ${n} requests`);
    assert.ok(stats().largestBatch > 1);
    for (let i = 0; i < n; i++) {
      assert.equal(responses[i].statusCode, 200);
      // The reference: this instance alone through the model (batch of 1).
      const alone = await referenceProbabilities(dir, [xs[i]]);
      const got = responses[i].json().predictions[0] as number[];
      got.forEach((p, c) => assert.ok(Math.abs(p - alone[c]) <= 1e-6, `request ${i} class ${c}: ${p} vs ${alone[c]}`));
    }
  });

  it('--max-batch-size 1 serves every request in its own pass (batching off), same results', async () => {
    const { server, dir, stats } = await serverWith({ maxBatchSize: 1, maxQueueDelayMs: 5 });
    const xs = Array.from({ length: 6 }, (_, i) => instance(200 + i));
    const responses = await Promise.all(xs.map((x) => predict(server, [x])));
    assert.equal(stats().passes, 6);
    assert.equal(stats().largestBatch, 1);
    const expected = await referenceProbabilities(dir, xs);
    responses.forEach((r, i) => r.json().predictions[0].forEach((p: number, c: number) => assert.ok(Math.abs(p - expected[i * 3 + c]) <= 1e-6)));
  });

  it('a batch never exceeds --max-batch-size, except a single request larger than it', async () => {
    const { server, stats } = await serverWith({ maxBatchSize: 4, maxQueueDelayMs: 20, maxInstances: 6 });
    const three = [instance(1), instance(2), instance(3)];
    const results = await Promise.all([predict(server, three), predict(server, three), predict(server, [instance(4)])]);
    assert.ok(results.every((r) => r.statusCode === 200));
    assert.equal(stats().largestBatch, 4, 'a 3 + a 1 shared a pass; two 3s did not');
    await predict(server, [...three, ...three]);
    assert.equal(stats().largestBatch, 6);
  });

  it('a full queue answers 503 SERVE_E_OVERLOADED with Retry-After; the queued requests still succeed', async () => {
    const { server } = await serverWith({ maxBatchSize: 64, maxQueueDelayMs: 300, maxQueueSize: 2, maxInstances: 2 });
    const queued = [predict(server, [instance(1)]), predict(server, [instance(2)])];
    await new Promise((resolve) => setTimeout(resolve, 30));
    const rejected = await predict(server, [instance(3)]);
    assert.equal(rejected.statusCode, 503);
    assert.equal(rejected.json().code, 'SERVE_E_OVERLOADED');
    assert.match(rejected.json().error, /^The inference queue of a model holds at most 2 instances\. Received: model="tiny\/1", queued=2, requested=1\. Retry after the Retry-After seconds/);
    assert.ok(Number(rejected.headers['retry-after']) >= 1);
    assert.deepEqual((await Promise.all(queued)).map((r) => r.statusCode), [200, 200]);
  });

  it('a request not answered within --timeout-ms gets 504 SERVE_E_TIMEOUT and leaves the queue', async () => {
    const { server } = await serverWith({ maxBatchSize: 64, maxQueueDelayMs: 400, timeoutMs: 50 });
    const tensors = tf.memory().numTensors;
    const res = await predict(server, [instance(1)]);
    assert.equal(res.statusCode, 504);
    assert.equal(res.json().code, 'SERVE_E_TIMEOUT');
    assert.match(res.json().error, /^An inference must finish within --timeout-ms=50 ms\. Received: model="tiny\/1", waitedMs=\d+, instances=1, stage="queued"\. Retry later/);
    assert.equal(server.ctx.repository.resolve('tiny').batcher.queuedRows, 0);
    assert.equal(tf.memory().numTensors, tensors);
  });
});

describe('DynamicBatcher scheduling', () => {
  // A forward pass that is a plain function of its input: row i → [sum of row i, rows in this pass].
  const passes: number[] = [];
  const sumForward = (x: Float32Array, rows: number): BatchOutput => {
    passes.push(rows);
    const size = x.length / rows;
    const out = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      out[r * 2] = x.subarray(r * size, (r + 1) * size).reduce((a, b) => a + b, 0);
      out[r * 2 + 1] = rows;
    }
    return { logits: out, probabilities: out };
  };
  const options = { maxBatchSize: 8, maxQueueDelayMs: 10, maxQueueSize: 100, timeoutMs: 1000 };

  it('gathers concurrent submissions into one pass and splits the outputs back per request', async () => {
    passes.length = 0;
    const batcher = new DynamicBatcher(sumForward, 2, 2, options);
    const results = await Promise.all([1, 2, 3].map((v) => batcher.submit(Float32Array.of(v, v), 1)));
    assert.deepEqual(passes, [3]);
    assert.deepEqual(results.map((r) => Array.from(r.logits)), [[2, 3], [4, 3], [6, 3]]);
  });

  it('a partial batch runs after maxQueueDelayMs; a full one at once', async () => {
    passes.length = 0;
    const batcher = new DynamicBatcher(sumForward, 1, 2, { ...options, maxQueueDelayMs: 60 });
    const t0 = performance.now();
    await batcher.submit(Float32Array.of(1), 1);
    assert.ok(performance.now() - t0 >= 55, 'waited for company');
    const t1 = performance.now();
    await batcher.submit(new Float32Array(8), 8);
    assert.ok(performance.now() - t1 < 50, 'a full batch does not wait');
    assert.deepEqual(passes, [1, 8]);
  });

  it('a lone request computes inline; a pass that serves or keeps others waiting is under load', async () => {
    const flags: boolean[] = [];
    const batcher = new DynamicBatcher((x, rows, underLoad) => {
      flags.push(underLoad);
      return sumForward(x, rows);
    }, 1, 2, { ...options, maxQueueDelayMs: 0, maxBatchSize: 2 });
    await batcher.submit(Float32Array.of(1), 1);
    await Promise.all([1, 2, 3].map((v) => batcher.submit(Float32Array.of(v), 1)));
    // one alone; then [1, 2] with 3 waiting, and 3 alone
    assert.deepEqual(flags, [false, true, false]);
  });

  it('under load the next pass starts before the answers of the last one are given; a lone one after them', async () => {
    const events: string[] = [];
    const finish: (() => void)[] = [];
    const batcher = new DynamicBatcher((x, rows) => {
      events.push(`pass of ${rows}`);
      return new Promise<BatchOutput>((resolve) => finish.push(() => resolve(sumForward(x, rows))));
    }, 1, 2, { ...options, maxQueueDelayMs: 0 });
    const submit = (v: number) => batcher.submit(Float32Array.of(v), 1).then(() => events.push(`answer ${v}`));
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const first = [submit(1), submit(2)];
    await turn();
    const second = [submit(3), submit(4)];  // wait during the first pass: a batch under load
    finish.shift()!();
    await Promise.all(first);
    assert.deepEqual(events, ['pass of 2', 'pass of 2', 'answer 1', 'answer 2']);
    const third = submit(5);  // waits alone during the second pass: it runs after that pass's answers
    finish.shift()!();
    await Promise.all(second);
    await turn();
    assert.deepEqual(events.slice(4), ['answer 3', 'answer 4', 'pass of 1']);
    finish.shift()!();
    await third;
    assert.equal(events.at(-1), 'answer 5');
  });

  it('a failing pass rejects its own requests only; the next pass runs', async () => {
    let fail = true;
    const batcher = new DynamicBatcher((x, rows) => {
      if (fail) {
        fail = false;
        throw new Error('native failure');
      }
      return sumForward(x, rows);
    }, 1, 2, options);
    await assert.rejects(batcher.submit(Float32Array.of(1), 1), /native failure/);
    assert.deepEqual(Array.from((await batcher.submit(Float32Array.of(5), 1)).logits), [5, 1]);
  });

  it('close() finishes what is queued, then refuses new work', async () => {
    const batcher = new DynamicBatcher(sumForward, 1, 2, { ...options, maxQueueDelayMs: 30 });
    const pending = batcher.submit(Float32Array.of(4), 1);
    await batcher.close();
    assert.deepEqual(Array.from((await pending).logits), [4, 1]);
    await assert.rejects(batcher.submit(Float32Array.of(1), 1), (e: unknown) => e instanceof ServeError && e.code === 'SERVE_E_MODEL_UNAVAILABLE');
  });
});
