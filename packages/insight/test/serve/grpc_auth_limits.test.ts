// The gRPC server's keys and limits, as REST applies them: API keys as `authorization: Bearer <key>` metadata
// (none → UNAUTHENTICATED, a wrong one → UNAUTHENTICATED without echoing it, health probes need none) checked before
// the message is read, the failure throttle (RESOURCE_EXHAUSTED with retry-after), the per-key rate limit, and
// --body-limit-mb as the largest message, --request-timeout-ms for a message that does not arrive. The tests run in
// order: each counts what the ones before spent.
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';

import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';

import { listenGrpcOn, type ServeInstance } from '../../src/serve/start';
import { f32Bytes, grpcClient, type Outcome, type UnaryClient } from './grpc_client';
import { INFERENCE_KEY, KEYS, SIZE, instance, saveVersion, tempRepository, testServer } from './helpers';

const SERVICE = 'inference.GRPCInferenceService';
const PROTO = 'kserve/grpc_predict_v2.proto';
const IMAGE_BYTES = SIZE * SIZE * 3 * 4;

let root: string;
let server: ServeInstance;
let client: UnaryClient;
/** A client that sends bytes as they are (no protobuf encoding). */
let raw: Client;
let address: string;

const infer = (n: number) => ({
  model_name: 'tiny', inputs: [{ name: 'image', datatype: 'FP32', shape: [n, SIZE, SIZE, 3] }],
  raw_input_contents: [f32Bytes(Array.from({ length: n }, (_, i) => instance(i).flat(2)).flat())],
});

before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  // 0.01 MiB = 10485 bytes: 13 images (9984 bytes of tensor) fit, 14 do not. A burst of 5 keyed calls, refilled
  // at one per 100 s: none comes back while the tests run.
  server = await testServer(root, { bodyLimitMb: 0.01, rateLimit: 0.01, rateBurst: 5, requestTimeoutMs: 1000 }, KEYS);
  address = (await listenGrpcOn(server, 0)).address;
  client = grpcClient(PROTO, SERVICE, address, { maxSendBytes: 1 << 20 });
  raw = new Client(address, credentials.createInsecure());
});
after(async () => {
  client.close();
  raw.close();
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

  it('gates a call when its metadata arrives, before its message is read: undecodable bytes without a key are UNAUTHENTICATED', async () => {
    // Bytes that are no ModelInferRequest: field 7 (raw_input_contents) claims 5 bytes and 1 follows.
    const garbage = Buffer.from([0x3a, 0x05, 0x41]);
    const send = (key: string | null) => new Promise<ServiceError | null>((resolve) => {
      const metadata = new Metadata();
      if (key !== null) metadata.set('authorization', `Bearer ${key}`);
      raw.makeUnaryRequest(`/${SERVICE}/ModelInfer`, (b: Buffer) => b, (b: Buffer) => b, garbage, metadata, (error) => resolve(error));
    });
    const refused = await send(null);
    assert.ok(refused !== null);
    assert.deepEqual([status[refused.code], refused.metadata.get('insight-error-code')], ['UNAUTHENTICATED', ['SERVE_E_UNAUTHORIZED']]);
    assert.match(refused.details, /^This method needs an API key\./);
    // With a key the message is read, and cannot be decoded.
    const decoded = await send(INFERENCE_KEY);
    assert.ok(decoded !== null);
    assert.equal(status[decoded.code], 'INTERNAL');
    assert.match(decoded.details, /deserializ/i);
    const text = await server.ctx.metrics.registry.metrics();
    assert.match(text, /route="grpc \/inference\.GRPCInferenceService\/ModelInfer",method="GRPC",status="UNAUTHENTICATED"\} 2\n/);
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
    // 4 of the burst of 5 went above (one answer each, and the message over the limit, refused after the gates).
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 3; i++) outcomes.push(await client.call('ServerMetadata', {}, INFERENCE_KEY));
    assert.deepEqual(outcomes.map((o) => o.ok), [true, false, false]);
    const limited = outcomes[1];
    assert.ok(!limited.ok);
    assert.deepEqual([status[limited.code], limited.errorCode], ['RESOURCE_EXHAUSTED', 'SERVE_E_RATE_LIMITED']);
    assert.ok(Number(limited.retryAfter) > 50 && Number(limited.retryAfter) <= 100, `retry-after ${limited.retryAfter}`);
    assert.match(limited.details, /^A client may send at most --rate-limit=0\.01 requests\/s \(bursts of 5\)\./);
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
    // 3 failures came before (the first two tests) and 8 over REST: 9 more reach the burst of 20, then the throttle answers.
    assert.deepEqual(codes, [...Array(9).fill('UNAUTHENTICATED'), ...Array(4).fill('RESOURCE_EXHAUSTED')]);
    const right = await client.call('ModelReady', { name: 'tiny' }, INFERENCE_KEY);
    assert.ok(!right.ok);
    assert.deepEqual([status[right.code], right.errorCode], ['RESOURCE_EXHAUSTED', 'SERVE_E_RATE_LIMITED']);
    assert.match(right.details, /^A client address may fail authentication 20 times in a row, then once every 5 s\./);
    assert.ok(Number(right.retryAfter) >= 1);
  });

  it('ends a call whose message does not arrive within --request-timeout-ms: DEADLINE_EXCEEDED, SERVE_E_REQUEST_TIMEOUT', { timeout: 15_000 }, async () => {
    const session = http2.connect(`http://${address}`);
    // The server resets the half-sent stream once it has answered: expected, not a failure.
    session.on('error', () => {});
    try {
      // A public method (no key, no rate-limit token): a message prefix announcing 100 bytes, 10 of them, then nothing.
      const stream = session.request({ ':method': 'POST', ':path': `/${SERVICE}/ServerLive`, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => {});
      stream.write(Buffer.concat([Buffer.from([0, 0, 0, 0, 100]), Buffer.alloc(10)]));
      const started = performance.now();
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => {
        stream.on('response', (h) => (h['grpc-status'] !== undefined ? resolve(h) : undefined));
        stream.on('trailers', resolve);
      });
      const waited = performance.now() - started;
      assert.deepEqual([headers['grpc-status'], headers['insight-error-code']], [String(status.DEADLINE_EXCEEDED), 'SERVE_E_REQUEST_TIMEOUT']);
      assert.match(decodeURIComponent(String(headers['grpc-message'])), /^A client must send its whole request within --request-timeout-ms \(1000 ms\)\./);
      assert.ok(waited >= 900 && waited < 10_000, `answered after ${waited} ms`);
    } finally {
      session.destroy();
    }
  });
});
