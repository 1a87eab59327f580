// Per-key rate limits: a token bucket per key id (per client address without keys); over the limit → 429 with
// Retry-After; health probes are never limited; other keys are unaffected.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { RateLimiter } from '../../src/serve/limits/rate_limiter';
import { TokenBucket } from '../../src/serve/limits/token_bucket';
import type { ServeInstance } from '../../src/serve/start';
import { ADMIN_KEY, INFERENCE_KEY, KEYS, bearer, instance, saveVersion, tempRepository, testServer } from './helpers';

describe('TokenBucket', () => {
  it('allows a burst, then one request per 1/rate seconds', () => {
    const bucket = new TokenBucket(2, 3, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0)], [0, 0, 0]);
    assert.equal(bucket.take(0), 0.5, 'the next token comes in 1/rate s');
    assert.equal(bucket.take(250), 0.25);
    assert.equal(bucket.take(500), 0);
    assert.equal(bucket.isFull(500 + 1500), true);
  });

  it('the limiter keeps one bucket per client and forgets full ones', () => {
    let now = 0;
    const limiter = new RateLimiter(1, 1, () => now);
    assert.equal(limiter.check('a'), 0);
    assert.ok(limiter.check('a') > 0);
    assert.equal(limiter.check('b'), 0);
    now = 20_000;
    limiter.check('c');
    assert.equal(limiter.size, 1, 'a and b refilled and were dropped');
    assert.equal(new RateLimiter(0, 1).check('x'), 0, 'rate 0 = off');
  });
});

describe('rate limit on the server', () => {
  let server: ServeInstance;
  before(async () => {
    const root = tempRepository();
    await saveVersion(root, 'tiny', 1);
    server = await testServer(root, { rateLimit: 1, rateBurst: 2 }, KEYS);
  });
  after(() => server.close());
  const predict = (key: string) => server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', headers: bearer(key), payload: { instances: [instance(1)] } });

  it('the request after the burst gets 429 SERVE_E_RATE_LIMITED with Retry-After; other keys and probes go on', async () => {
    assert.equal((await predict(INFERENCE_KEY)).statusCode, 200);
    assert.equal((await predict(INFERENCE_KEY)).statusCode, 200);
    const limited = await predict(INFERENCE_KEY);
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.headers['retry-after'], '1');
    assert.equal(limited.json().code, 'SERVE_E_RATE_LIMITED');
    assert.match(limited.json().error, /^A client may send at most --rate-limit=1 requests\/s \(bursts of 2\)\. Received: client="[0-9a-f]{8}", retryAfterSeconds=1\. Slow down/);
    assert.equal((await predict(ADMIN_KEY)).statusCode, 200, 'a different key has its own bucket');
    for (let i = 0; i < 5; i++) assert.equal((await server.app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode, 200);
  });
});
