// KServe's GRPCInferenceService over a real gRPC server (--grpc-port) beside the REST one, called by a generic
// client on the shipped .proto: health and metadata, ModelInfer with raw inputs (FP32 and UINT8 pixels: raw outputs)
// and typed contents (typed outputs), each equal to REST's /v2 infer answer on the same input; requested outputs and
// the classification parameter; the house messages and codes of bad shapes and unknown models; a concurrent burst
// sharing batches with the REST path; metrics labels; the widened HTTP/2 flow-control windows; and shutdown (UNAVAILABLE once closed, also after SIGTERM).
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';

import { startServe, listenGrpcOn, type ServeInstance } from '../../src/serve/start';
import { f32Bytes, f32Values, grpcClient, type Outcome, type UnaryClient } from './grpc_client';
import { CLASSES, NO_KEYS, SIZE, instance, saveVersion, tempRepository, testConfig, testServer } from './helpers';

const SERVICE = 'inference.GRPCInferenceService';
const PROTO = 'kserve/grpc_predict_v2.proto';

type Tensor = { name: string; datatype: string; shape: string[]; contents: { fp32_contents: number[]; bytes_contents: Buffer[] } | null };
type InferAnswer = { model_name: string; model_version: string; id: string; outputs: Tensor[]; raw_output_contents: Buffer[] };

let server: ServeInstance;
let client: UnaryClient;
let root: string;
let address: string;

before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 2);
  server = await testServer(root, { maxQueueDelayMs: 20 });
  const grpc = await listenGrpcOn(server, 0);
  assert.match(grpc.address, /^127\.0\.0\.1:\d+$/);
  address = grpc.address;
  client = grpcClient(PROTO, SERVICE, grpc.address);
});
after(async () => {
  client.close();
  await server.close();
});

const rest = async (payload: object) => {
  const res = await server.app.inject({ method: 'POST', url: '/v2/models/tiny/infer', payload });
  return { status: res.statusCode, body: res.json() };
};
const answer = <T>(outcome: Outcome<T>): T => {
  assert.ok(outcome.ok, outcome.ok ? '' : `${status[outcome.code]}: ${outcome.details}`);
  return outcome.response;
};
function assertClose(actual: number[], expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance, `[${i}] ${a} vs ${expected[i]}`));
}
/** Deterministic RGB pixels in [0, 255] for `n` images. */
const pixels = (n: number) => Array.from({ length: n * SIZE * SIZE * 3 }, (_, i) => (i * 37 + 11) % 256);

describe('KServe gRPC: health and metadata', () => {
  it('ServerLive, ServerReady, ServerMetadata', async () => {
    assert.deepEqual(answer(await client.call('ServerLive', {})), { live: true });
    assert.deepEqual(answer(await client.call('ServerReady', {})), { ready: true });
    assert.deepEqual(answer(await client.call('ServerMetadata', {})), { name: 'insight', version: '0.1.0', extensions: ['classification'] });
  });

  it('ModelReady and ModelMetadata, by default and explicit version', async () => {
    assert.deepEqual(answer(await client.call('ModelReady', { name: 'tiny' })), { ready: true });
    assert.deepEqual(answer(await client.call('ModelReady', { name: 'tiny', version: '2' })), { ready: true });
    const meta = answer(await client.call('ModelMetadata', { name: 'tiny' }));
    assert.deepEqual(meta, {
      name: 'tiny', versions: ['2'], platform: 'tensorflowjs_layers',
      inputs: [{ name: 'image', datatype: 'FP32', shape: ['-1', String(SIZE), String(SIZE), '3'] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: ['-1', '3'] }, { name: 'logits', datatype: 'FP32', shape: ['-1', '3'] }],
    });
    const missing = await client.call('ModelReady', { name: 'tiny', version: '7' });
    assert.ok(!missing.ok && missing.code === status.NOT_FOUND && missing.errorCode === 'SERVE_E_VERSION_NOT_FOUND', JSON.stringify(missing));
  });
});

describe('KServe gRPC: ModelInfer', () => {
  it('raw FP32 inputs: raw outputs, both by default, equal to REST /v2 infer', async () => {
    const xs = [instance(1), instance(2)];
    const flat = xs.flat(3);
    const got = answer(await client.call<InferAnswer>('ModelInfer', {
      model_name: 'tiny', id: 'g-1', inputs: [{ name: 'image', datatype: 'FP32', shape: [2, SIZE, SIZE, 3] }], raw_input_contents: [f32Bytes(flat)],
    }));
    const want = await rest({ id: 'g-1', inputs: [{ name: 'image', datatype: 'FP32', shape: [2, SIZE, SIZE, 3], data: flat }] });
    assert.equal(want.status, 200);
    assert.deepEqual([got.model_name, got.model_version, got.id], ['tiny', '2', 'g-1']);
    assert.deepEqual(got.outputs.map((o) => [o.name, o.datatype, o.shape, o.contents]), [['probabilities', 'FP32', ['2', '3'], null], ['logits', 'FP32', ['2', '3'], null]]);
    assert.equal(got.raw_output_contents.length, 2);
    assertClose(f32Values(got.raw_output_contents[0]), want.body.outputs[0].data);
    assertClose(f32Values(got.raw_output_contents[1]), want.body.outputs[1].data);
    const sums = [0, 1].map((i) => f32Values(got.raw_output_contents[0]).slice(i * 3, i * 3 + 3).reduce((a, b) => a + b, 0));
    sums.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-5, `probabilities sum to ${s}`));
  });

  it('raw UINT8 pixels are normalized as REST does', async () => {
    const px = pixels(3);
    const got = answer(await client.call<InferAnswer>('ModelInfer', {
      model_name: 'tiny', inputs: [{ name: 'image', datatype: 'UINT8', shape: [3, SIZE, SIZE, 3] }], raw_input_contents: [Buffer.from(px)],
      outputs: [{ name: 'logits' }],
    }));
    const want = await rest({ inputs: [{ name: 'image', datatype: 'UINT8', shape: [3, SIZE, SIZE, 3], data: px }], outputs: [{ name: 'logits' }] });
    assert.deepEqual(got.outputs.map((o) => o.name), ['logits']);
    assertClose(f32Values(got.raw_output_contents[0]), want.body.outputs[0].data);
  });

  it('typed contents (fp32_contents, uint_contents): typed outputs, equal to REST', async () => {
    const flat = instance(5).flat(2);
    const got = answer(await client.call<InferAnswer>('ModelInfer', {
      model_name: 'tiny', model_version: '2', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, SIZE, SIZE, 3], contents: { fp32_contents: flat } }],
    }));
    const want = await rest({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, SIZE, SIZE, 3], data: flat }] });
    assert.deepEqual(got.raw_output_contents, []);
    assertClose(got.outputs[0].contents!.fp32_contents, want.body.outputs[0].data);
    assertClose(got.outputs[1].contents!.fp32_contents, want.body.outputs[1].data);
    const px = pixels(1);
    const typed = answer(await client.call<InferAnswer>('ModelInfer', {
      model_name: 'tiny', inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, SIZE, SIZE, 3], contents: { uint_contents: px } }], outputs: [{ name: 'probabilities' }],
    }));
    const wantPx = await rest({ inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, SIZE, SIZE, 3], data: px }], outputs: [{ name: 'probabilities' }] });
    assertClose(typed.outputs[0].contents!.fp32_contents, wantPx.body.outputs[0].data);
  });

  it('the classification parameter answers "score:index:label" strings as REST does', async () => {
    const flat = [instance(3), instance(4)].flat(3);
    const input = { name: 'image', datatype: 'FP32', shape: [2, SIZE, SIZE, 3] };
    const typed = answer(await client.call<InferAnswer>('ModelInfer', {
      model_name: 'tiny', inputs: [{ ...input, contents: { fp32_contents: flat } }], outputs: [{ name: 'probabilities', parameters: { classification: { int64_param: 2 } } }],
    }));
    const want = await rest({ inputs: [{ ...input, data: flat }], outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] });
    assert.deepEqual([typed.outputs[0].datatype, typed.outputs[0].shape], ['BYTES', ['2', '2']]);
    assert.deepEqual(typed.outputs[0].contents!.bytes_contents.map((b) => b.toString('utf8')), want.body.outputs[0].data);
    assert.ok(CLASSES.includes(want.body.outputs[0].data[0].split(':')[2]));
    // Raw inputs: the strings come raw too, each a 4-byte little-endian length and its bytes.
    const raw = answer(await client.call<InferAnswer>('ModelInfer', {
      model_name: 'tiny', inputs: [input], raw_input_contents: [f32Bytes(flat)], outputs: [{ name: 'probabilities', parameters: { classification: { int64_param: 2 } } }],
    }));
    const bytes = raw.raw_output_contents[0];
    const strings: string[] = [];
    for (let o = 0; o < bytes.length; o += 4 + bytes.readUInt32LE(o)) strings.push(bytes.subarray(o + 4, o + 4 + bytes.readUInt32LE(o)).toString('utf8'));
    assert.deepEqual(strings, want.body.outputs[0].data);
  });

  it('a wrong shape is INVALID_ARGUMENT with REST\'s message and code', async () => {
    const bad = { name: 'image', datatype: 'FP32', shape: [1, SIZE, SIZE, 4] };
    const got = await client.call('ModelInfer', { model_name: 'tiny', inputs: [bad], raw_input_contents: [f32Bytes(new Array(SIZE * SIZE * 4).fill(0))] });
    const want = await rest({ inputs: [{ ...bad, data: new Array(SIZE * SIZE * 4).fill(0) }] });
    assert.equal(want.status, 400);
    assert.ok(!got.ok);
    assert.deepEqual([status[got.code], got.errorCode, got.details], ['INVALID_ARGUMENT', 'SERVE_E_BAD_INPUT', want.body.error]);
    assert.match(got.details, /^An FP32 input must have shape \[N, 8, 8, 3\] \(the model's input shape\)\. Received: inputs\[0\]\.shape=\[1,8,8,4\]\./);
    // Raw bytes that do not match the shape, and both raw and typed contents at once.
    const short = await client.call('ModelInfer', { model_name: 'tiny', inputs: [{ ...bad, shape: [1, SIZE, SIZE, 3] }], raw_input_contents: [Buffer.alloc(10)] });
    assert.ok(!short.ok && short.code === status.INVALID_ARGUMENT, JSON.stringify(short));
    assert.match(short.details, /^binary_data_size must be product\(shape\) x the datatype's element size\. Received: .*binary_data_size=10, expected=768/);
    const both = await client.call('ModelInfer', {
      model_name: 'tiny', inputs: [{ ...bad, shape: [1, SIZE, SIZE, 3], contents: { fp32_contents: [1] } }], raw_input_contents: [Buffer.alloc(768)],
    });
    assert.ok(!both.ok && both.code === status.INVALID_ARGUMENT);
    assert.match(both.details, /^A request carries its inputs either as raw_input_contents or as contents, not both\./);
  });

  it('an unknown model is NOT_FOUND with REST\'s message', async () => {
    const got = await client.call('ModelInfer', { model_name: 'nope', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, SIZE, SIZE, 3] }], raw_input_contents: [Buffer.alloc(768)] });
    const want = await server.app.inject({ method: 'POST', url: '/v2/models/nope/infer', payload: { inputs: [] } });
    assert.ok(!got.ok);
    assert.deepEqual([status[got.code], got.errorCode, got.details], ['NOT_FOUND', 'SERVE_E_MODEL_NOT_FOUND', want.json().error]);
    const meta = await client.call('ModelMetadata', { name: 'nope' });
    assert.ok(!meta.ok && meta.code === status.NOT_FOUND);
  });

  it('a concurrent burst of 32 calls (and REST requests beside) shares the batcher\'s batches', async () => {
    const servable = server.ctx.repository.resolve('tiny');
    const before = { ...servable.batcher.stats };
    const xs = Array.from({ length: 32 }, (_, i) => instance(100 + i));
    const calls = xs.map((x) => client.call<InferAnswer>('ModelInfer', {
      model_name: 'tiny', inputs: [{ name: 'image', datatype: 'FP32', shape: [1, SIZE, SIZE, 3] }], raw_input_contents: [f32Bytes(x.flat(2))], outputs: [{ name: 'probabilities' }],
    }));
    const restCalls = xs.slice(0, 4).map((x) => rest({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, SIZE, SIZE, 3], data: x.flat(2) }], outputs: [{ name: 'probabilities' }] }));
    const [got, viaRest] = await Promise.all([Promise.all(calls), Promise.all(restCalls)]);
    const stats = servable.batcher.stats;
    assert.equal(stats.rows - before.rows, 36);
    assert.ok(stats.passes - before.passes < 36, `${stats.passes - before.passes} passes for 36 rows`);
    // Each answer is its own instance's, whichever batch it ran in.
    viaRest.forEach((r, i) => assertClose(f32Values(answer(got[i]).raw_output_contents[0]), r.body.outputs[0].data));
  });

  it('counts calls in the request metrics by method label and status name', async () => {
    const text = await server.ctx.metrics.registry.metrics();
    assert.match(text, /insight_serve_requests_total\{route="grpc \/inference\.GRPCInferenceService\/ModelInfer",method="GRPC",status="OK"\} (\d+)/);
    const ok = Number(/route="grpc \/inference\.GRPCInferenceService\/ModelInfer",method="GRPC",status="OK"\} (\d+)/.exec(text)![1]);
    assert.ok(ok >= 37, `${ok} OK ModelInfer calls`);
    assert.match(text, /route="grpc \/inference\.GRPCInferenceService\/ModelInfer",method="GRPC",status="INVALID_ARGUMENT"\} 3\n/);
    assert.match(text, /route="grpc \/inference\.GRPCInferenceService\/ModelInfer",method="GRPC",status="NOT_FOUND"\} 1\n/);
    assert.match(text, /insight_serve_in_flight_requests 0\n/);
  });
});

describe('KServe gRPC: flow control', () => {
  it('offers every connection a 4 MiB stream window (the default --body-limit-mb of 16 MiB is above its cap)', async () => {
    // server.ts widens the windows through a private field of grpc-js: this fails if an upgrade moves it.
    const session = http2.connect(`http://${address}`);
    try {
      // The server's first SETTINGS frame has the defaults; the widened window follows in a second one.
      const windows: (number | undefined)[] = [];
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        session.on('remoteSettings', (settings: http2.Settings) => {
          windows.push(settings.initialWindowSize);
          if (settings.initialWindowSize !== 65_535) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      assert.equal(windows.at(-1), 4 * 2 ** 20, `stream windows offered: ${windows.join(', ')}`);
    } finally {
      session.destroy();
    }
  });
});

describe('KServe gRPC: shutdown', () => {
  it('answers UNAVAILABLE once closed, and SIGTERM closes it with the HTTP server', async () => {
    const other = await startServe(testConfig(root, { port: 0, grpcPort: 0 }), NO_KEYS);
    assert.notEqual(other.grpc, null);
    const c = grpcClient(PROTO, SERVICE, other.grpc!.address);
    try {
      assert.deepEqual(answer(await c.call('ServerLive', {})), { live: true });
      other.ctx.lifecycle.shuttingDown = true;
      // Draining: health still answers, readiness is false, new work is refused as REST refuses it (503).
      assert.deepEqual(answer(await c.call('ServerReady', {})), { ready: false });
      const refused = await c.call('ModelMetadata', { name: 'tiny' });
      assert.ok(!refused.ok);
      assert.deepEqual([status[refused.code], refused.errorCode, refused.retryAfter], ['UNAVAILABLE', 'SERVE_E_SHUTTING_DOWN', '1']);
      process.emit('SIGTERM', 'SIGTERM');
      assert.equal(await other.stopped, true);
      const after = await c.call('ServerLive', {}, null, 2000);
      assert.ok(!after.ok && after.code === status.UNAVAILABLE, JSON.stringify(after));
      const http = await fetch(`${other.url}/v2/health/live`).then(() => 'answered', (e: Error) => e.message);
      assert.equal(http, 'fetch failed');
    } finally {
      c.close();
    }
  });
});
