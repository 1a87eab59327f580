// Graceful shutdown: requests already received finish (their batch runs), new connections are refused, the
// models are disposed; while it runs, readiness is false and new inference work gets 503 SERVE_E_SHUTTING_DOWN.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { tf } from '../../src/backend';
import { backend, instance, saveVersion, tempRepository, testServer } from './helpers';

describe('graceful shutdown', () => {
  it('finishes in-flight requests, then stops listening and frees the models', async () => {
    await backend();
    const tensorsBefore = tf.memory().numTensors;
    const root = tempRepository();
    await saveVersion(root, 'tiny', 1);
    const server = await testServer(root, { maxQueueDelayMs: 300, maxBatchSize: 64 });
    const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const body = JSON.stringify({ instances: [instance(1)] });
    const post = () => fetch(`${base}/v1/models/tiny:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    // Two requests wait in the batching queue (300 ms) when the shutdown starts: watched in the batcher, not assumed
    // after a fixed sleep (on a busy machine the requests may take longer than that to arrive).
    const batcher = server.ctx.repository.resolve('tiny').batcher;
    const inFlight = [post(), post()];
    let firstQueued: number | null = null;
    for (const deadline = performance.now() + 10_000; batcher.queuedRows < 2;) {
      if (batcher.queuedRows > 0) firstQueued ??= performance.now();
      assert.ok(performance.now() < deadline, `the two requests reach the batching queue (queued rows: ${batcher.queuedRows})`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    firstQueued ??= performance.now();
    const closed = server.close();
    const responses = await Promise.all(inFlight);
    assert.deepEqual(responses.map((r) => r.status), [200, 200]);
    assert.equal((await responses[0].json()).predictions[0].length, 3);
    assert.equal(await closed, true, 'finished within the shutdown timeout');
    assert.ok(performance.now() - firstQueued >= 150, 'waited for the queued batch (its 300 ms delay), not cut short by close');
    await assert.rejects(post(), 'no new connections');
    assert.equal(tf.memory().numTensors, tensorsBefore, 'models disposed');
  });

  it('while shutting down: readiness 503, liveness 200, inference 503 SERVE_E_SHUTTING_DOWN with Connection: close', async () => {
    const root = tempRepository();
    await saveVersion(root, 'tiny', 1);
    const server = await testServer(root);
    server.ctx.lifecycle.shuttingDown = true; // the first thing shutdown() does
    assert.equal((await server.app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode, 503);
    assert.equal((await server.app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode, 200);
    const res = await server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [instance(1)] } });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.headers['retry-after'], '1');
    assert.match(res.json().error, /^A server that is shutting down takes no new requests\. Received: method="POST", path="\/v1\/models\/tiny:predict"\. Retry against another replica/);
    server.ctx.lifecycle.shuttingDown = false;
    await server.close();
  });
});
