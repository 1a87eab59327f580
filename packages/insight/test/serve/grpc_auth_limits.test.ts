// The gRPC server's keys and limits, as REST applies them: API keys as `authorization: Bearer <key>` metadata
// (none → UNAUTHENTICATED, a wrong one → UNAUTHENTICATED without echoing it, health probes need none), the failure
// throttle (RESOURCE_EXHAUSTED with retry-after), the per-key rate limit, and --body-limit-mb as the largest message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import { listenGrpcOn, type ServeInstance } from '../../src/serve/start';
import { f32Bytes, grpcClient, type Outcome, type UnaryClient } from './grpc_client';
import { INFERENCE_KEY, KEYS, SIZE, instance, saveVersion, tempRepository, testServer } from './helpers';

const SERVICE = 'inference.GRPCInferenceService';
const PROTO = 'kserve/grpc_predict_v2.proto';
const IMAGE_BYTES = SIZE * SIZE * 3 * 4;

let root: string;
let server: ServeInstance;
let client: UnaryClient;

const infer = (n: number) => ({
  model_name: 'tiny', inputs: [{ name: 'image', datatype: 'FP32', shape: [n, SIZE, SIZE, 3] }],
  raw_input_contents: [f32Bytes(Array.from({ length: n }, (_, i) => instance(i).flat(2)).flat())],
});

before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  // 0.01 MiB = 10485 bytes: 13 images (9984 bytes of tensor) fit, 14 do not.
  server = await testServer(root, { bodyLimitMb: 0.01, rateLimit: 1, rateBurst: 4 }, KEYS);
  client = grpcClient(PROTO, SERVICE, (await listenGrpcOn(server, 0)).address, { maxSendBytes: 1 << 20 });
});
after(async () => {
  client.close();
  await server.close();
});

describe('gRPC keys and limits', () => {
  it('needs a key for everything but the health probes, and never echoes a wrong one', async () => {
    assert.deepEqual(await client.call('ServerLive', {}), { ok: true, response: { live: true } });
    assert.deepEqual(await client.call('ServerReady', {}), { ok: true, response: { ready: true } });
    const none = await client.call('ModelInfer', infer(1));
    assert.ok(!none.ok);
    assert.deepEqual([status[none.code], none.errorCode], ['UNAUTHENTICATED', 'SERVE_E_UNAUTHORIZED']);
    assert.match(none.details, /^This method needs an API key\. Received: authorization=null\. Send the metadata `authorization: Bearer <key>`/);
    const wrong = await client.call('ServerMetadata', {}, 'wrong-key-that-is-secret');
    assert.ok(!wrong.ok);
    assert.deepEqual([status[wrong.code], wrong.errorCode], ['UNAUTHENTICATED', 'SERVE_E_UNAUTHORIZED']);
    assert.equal(wrong.details, 'The API key must match one of the configured keys. Received: key="<24 characters, not shown>". '
      + 'Check the key for typos or expiry; keys are read when the server starts.');
    const ok = await client.call<{ outputs: unknown[] }>('ModelInfer', infer(1), INFERENCE_KEY);
    assert.ok(ok.ok && ok.response.outputs.length === 2, JSON.stringify(ok));
    const failures = (await server.ctx.metrics.authFailures.get()).values.find((v) => v.labels.outcome === 'rejected')?.value;
    assert.equal(failures, 2);
  });

  it('refuses a message over --body-limit-mb with RESOURCE_EXHAUSTED, before reading it', async () => {
    const fits = await client.call('ModelInfer', infer(13), INFERENCE_KEY);
    assert.ok(fits.ok, JSON.stringify(fits));
    const big = await client.call('ModelInfer', infer(14), INFERENCE_KEY);
    assert.ok(!big.ok);
    assert.equal(status[big.code], 'RESOURCE_EXHAUSTED');
    assert.match(big.details, /larger than max \(\d+ vs\.? 10485\)/);
    assert.ok(14 * IMAGE_BYTES > 10485 && 13 * IMAGE_BYTES < 10485);
  });

  it('rate-limits per key: past the burst, RESOURCE_EXHAUSTED with retry-after', async () => {
    // A burst of 4 at 1 token/s (2 spent above; refills are slow next to these calls): at most 4 + a few pass.
    let limited: Outcome | null = null;
    let calls = 0;
    while (limited === null && calls < 10) {
      const outcome = await client.call('ServerMetadata', {}, INFERENCE_KEY);
      calls++;
      if (!outcome.ok) limited = outcome;
    }
    assert.ok(calls <= 6, `${calls} calls until the limit`);
    assert.ok(limited !== null && !limited.ok, 'rate-limited');
    assert.deepEqual([status[limited.code], limited.errorCode, limited.retryAfter], ['RESOURCE_EXHAUSTED', 'SERVE_E_RATE_LIMITED', '1']);
    assert.match(limited.details, /^A client may send at most --rate-limit=1 requests\/s \(bursts of 4\)\./);
    // Health probes are never limited.
    assert.ok((await client.call('ServerLive', {})).ok);
  });

  it('throttles an address after 20 failed keys, over REST and gRPC together: RESOURCE_EXHAUSTED before the key is compared', async () => {
    for (let i = 0; i < 8; i++) {
      const rest = await server.app.inject({ method: 'GET', url: '/v2/models/tiny/ready', headers: { authorization: `Bearer wrong-rest-${i}` } });
      assert.equal(rest.statusCode, 401);
    }
    const codes: string[] = [];
    for (let i = 0; i < 13; i++) {
      const outcome = await client.call('ModelReady', { name: 'tiny' }, `wrong-${i}`);
      codes.push(outcome.ok ? 'OK' : status[outcome.code]);
    }
    // 2 failures came before (the first test) and 8 over REST: 10 more reach the burst of 20, then the throttle answers.
    assert.deepEqual(codes, [...Array(10).fill('UNAUTHENTICATED'), ...Array(3).fill('RESOURCE_EXHAUSTED')]);
    const right = await client.call('ModelReady', { name: 'tiny' }, INFERENCE_KEY);
    assert.ok(!right.ok);
    assert.deepEqual([status[right.code], right.errorCode], ['RESOURCE_EXHAUSTED', 'SERVE_E_RATE_LIMITED']);
    assert.match(right.details, /^A client address may fail authentication 20 times in a row, then once every 5 s\./);
    assert.ok(Number(right.retryAfter) >= 1);
  });
});
