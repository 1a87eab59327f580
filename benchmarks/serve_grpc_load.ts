// Closed-loop gRPC load client of the serving benchmark (serve.ts): `concurrency` calls in flight over `channels`
// HTTP/2 connections, each call followed at once by the next, for `seconds`; requests/s, latency percentiles
// (serve_stats.ts) and failures by gRPC status. Two protocols, one batch of images per call:
//   grpc-kserve  KServe v2 (Open Inference Protocol) inference.GRPCInferenceService/ModelInfer: input "image", FP32,
//                shape [k, H, W, C], its bytes in raw_input_contents (little-endian); output "probabilities".
//   grpc-tfs     TF Serving tensorflow.serving.PredictionService/Predict: inputs["image"] a DT_FLOAT TensorProto
//                [k, H, W, C] with its bytes in tensor_content; signature serving_default.
// The messages come from the server's own .proto files (packages/insight/src/serve/grpc/protos, found by the service
// they declare), as a user's client would load them. The client and the server share the machine, so the client
// does no per-call protobuf work: the request is encoded once and sent as bytes, answers are counted by status and
// not decoded (check() decodes one answer in full, to compare its numbers with the other servers').
//   node --conditions=source --import tsx benchmarks/serve_grpc_load.ts --target 127.0.0.1:<port> [options]
// (standalone, against a running `insight serve --grpc-port <port>`; prints the result as JSON)
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

import { benchmarkArgs, numberArg } from './args';
import { Latency } from './serve_stats';

export const GRPC_PROTOCOLS = ['grpc-kserve', 'grpc-tfs'] as const;
export type GrpcProtocol = (typeof GRPC_PROTOCOLS)[number];

const PROTO_ROOT = path.join(__dirname, '..', 'packages', 'insight', 'src', 'serve', 'grpc', 'protos');
const SERVICES: Record<GrpcProtocol, { pkg: string; service: string; method: string }> = {
  'grpc-kserve': { pkg: 'inference', service: 'GRPCInferenceService', method: 'ModelInfer' },
  'grpc-tfs': { pkg: 'tensorflow.serving', service: 'PredictionService', method: 'Predict' },
};

/** The .proto file under `root` that declares the protocol's service (package + service), or null. */
export function findProto(protocol: GrpcProtocol, root = PROTO_ROOT): string | null {
  const { pkg, service } = SERVICES[protocol];
  const declares = new RegExp(`^\\s*package\\s+${pkg.replace('.', '\\.')}\\s*;[\\s\\S]*^\\s*service\\s+${service}\\s*\\{`, 'm');
  const walk = (dir: string): string | null => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(file);
        if (found) return found;
      } else if (entry.name.endsWith('.proto') && declares.test(fs.readFileSync(file, 'utf8'))) {
        return file;
      }
    }
    return null;
  };
  return fs.existsSync(root) ? walk(root) : null;
}

/** One protocol's method, ready to call: its path, the once-encoded request, and a decoder of its answer. */
export interface GrpcMethod {
  protocol: GrpcProtocol;
  path: string;
  request: Buffer;
  /** The first image's probabilities in a decoded answer. */
  firstRow(answer: Buffer): number[];
}

/**
 * The method of `protocol` with its request: `images` holds k images of `shape` ([H, W, C]) as row-major FP32.
 * Throws when the server's protos do not declare the service (the gRPC server is not built yet).
 */
export function grpcMethod(protocol: GrpcProtocol, model: string, images: Float32Array, shape: number[], root = PROTO_ROOT): GrpcMethod {
  const file = findProto(protocol, root);
  if (!file) throw new Error(`no .proto under ${root} declares ${SERVICES[protocol].pkg}.${SERVICES[protocol].service}`);
  const definition = protoLoader.loadSync(file, { keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true, includeDirs: [root] });
  const { pkg, service, method } = SERVICES[protocol];
  const m = (definition[`${pkg}.${service}`] as protoLoader.ServiceDefinition)[method];
  const k = images.length / shape.reduce((a, b) => a * b, 1);
  const dims = [k, ...shape];
  const bytes = Buffer.from(images.buffer, images.byteOffset, images.byteLength);
  const message = protocol === 'grpc-kserve'
    ? { model_name: model, inputs: [{ name: 'image', datatype: 'FP32', shape: dims }], outputs: [{ name: 'probabilities' }], raw_input_contents: [bytes] }
    : { model_spec: { name: model, signature_name: 'serving_default' }, inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: { dim: dims.map((size) => ({ size })) }, tensor_content: bytes } } };
  return {
    protocol,
    path: m.path,
    request: m.requestSerialize(message),
    firstRow: (answer) => firstRow(protocol, m.responseDeserialize(answer) as Record<string, unknown>),
  };
}

type Tensor = { shape?: number[]; tensor_shape?: { dim: { size: number }[] }; contents?: { fp32_contents: number[] }; float_val?: number[]; tensor_content?: Buffer };

/** The first row of the [k, C] probabilities in a decoded ModelInferResponse / PredictResponse. */
function firstRow(protocol: GrpcProtocol, answer: Record<string, unknown>): number[] {
  const floats = (raw: Buffer | undefined, typed: number[] | undefined) => (raw && raw.length > 0
    ? Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length))) : typed ?? []);
  let tensor: Tensor | undefined;
  let values: number[];
  let dims: number[];
  if (protocol === 'grpc-kserve') {
    const outputs = answer.outputs as (Tensor & { name: string })[];
    const i = outputs.findIndex((o) => o.name === 'probabilities');
    tensor = outputs[i];
    values = floats((answer.raw_output_contents as Buffer[] | undefined)?.[i], tensor?.contents?.fp32_contents);
    dims = (tensor?.shape ?? []).map(Number);
  } else {
    tensor = (answer.outputs as Record<string, Tensor>).probabilities;
    values = floats(tensor?.tensor_content, tensor?.float_val);
    dims = (tensor?.tensor_shape?.dim ?? []).map((d) => Number(d.size));
  }
  if (!tensor || dims.length !== 2 || values.length !== dims[0] * dims[1]) {
    throw new Error(`${protocol}: no [k, C] "probabilities" output in ${JSON.stringify(answer).slice(0, 300)}`);
  }
  return values.slice(0, dims[1]);
}

/** A client of `target` ("host:port") on its own connection (not shared with other clients of the same target). */
export function grpcClient(target: string): grpc.Client {
  return new grpc.Client(target, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1,
  });
}

/** One call of `method` on `client`: resolves with the answer's bytes, or the gRPC error. */
export function callOnce(client: grpc.Client, method: GrpcMethod, timeoutMs: number): Promise<{ error: grpc.ServiceError | null; answer?: Buffer }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(method.path, (b: Buffer) => b, (b: Buffer) => b, method.request, new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs }, (error, answer) => resolve({ error, answer }));
  });
}

export interface GrpcLoadResult {
  /** Calls answered OK per second (over the run's wall time, last answers included). */
  rps: number;
  ok: number;
  failures: number;
  /** Failed calls by gRPC status name, e.g. {"RESOURCE_EXHAUSTED": 3}. */
  failuresByStatus: Record<string, number>;
  p50: number;
  p99: number;
  mean: number;
  seconds: number;
}

/** Keeps `concurrency` calls in flight over `channels` connections for `seconds`; latencies of OK calls only. */
export async function grpcLoad(target: string, method: GrpcMethod, options: { concurrency: number; seconds: number; channels: number; timeoutMs?: number }): Promise<GrpcLoadResult> {
  const clients = Array.from({ length: Math.max(1, Math.min(options.channels, options.concurrency)) }, () => grpcClient(target));
  const latency = new Latency();
  const failuresByStatus: Record<string, number> = {};
  let ok = 0;
  const t0 = performance.now();
  const end = t0 + options.seconds * 1000;
  const loop = async (client: grpc.Client) => {
    while (performance.now() < end) {
      const start = performance.now();
      const { error } = await callOnce(client, method, options.timeoutMs ?? 30_000);
      if (error) {
        const name = grpc.status[error.code] ?? String(error.code);
        failuresByStatus[name] = (failuresByStatus[name] ?? 0) + 1;
      } else {
        latency.record(performance.now() - start);
        ok++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, i) => loop(clients[i % clients.length])));
  } finally {
    for (const c of clients) c.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const s = latency.summary();
  const failures = Object.values(failuresByStatus).reduce((a, b) => a + b, 0);
  return { rps: ok / seconds, ok, failures, failuresByStatus, p50: s.p50, p99: s.p99, mean: s.mean, seconds };
}

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/serve_grpc_load.ts --target <host:port> [options]
  --target <host:port>       the gRPC server (insight serve --grpc-port; its ready line's "grpc" field)
  --protocol <p>             grpc-kserve (ModelInfer, raw_input_contents) or grpc-tfs (Predict, tensor_content) (default: grpc-kserve)
  --model <name>             (default: seed-cnn)
  --shape <H,W,C>            one image's shape (default: 32,32,3); pixels are seeded uniform [0, 1)
  --images-per-request <k>   images in each call (default: 1)
  --concurrency <n>          calls in flight (default: 64)
  --channels <n>             HTTP/2 connections the calls are spread over (default: 1)
  --duration <s>             seconds (default: 10)
  --proto-root <dir>         where the .proto files are (default: packages/insight/src/serve/grpc/protos)`;

async function main() {
  const args = benchmarkArgs(USAGE, {
    target: { type: 'string', default: '' },
    protocol: { type: 'string', default: 'grpc-kserve' },
    model: { type: 'string', default: 'seed-cnn' },
    shape: { type: 'string', default: '32,32,3' },
    'images-per-request': { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '64' },
    channels: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    'proto-root': { type: 'string', default: PROTO_ROOT },
  });
  const protocol = args.protocol as GrpcProtocol;
  if (!args.target || !GRPC_PROTOCOLS.includes(protocol)) {
    console.error(`--target is required and --protocol is one of ${GRPC_PROTOCOLS.join(', ')}.\n\n${USAGE}`);
    process.exit(2);
  }
  const shape = args.shape.split(',').map((d) => numberArg('shape', d));
  const k = numberArg('images-per-request', args['images-per-request']);
  let state = 7;
  const images = Float32Array.from({ length: k * shape.reduce((a, b) => a * b, 1) }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 8) % 10000) / 10000;
  });
  const method = grpcMethod(protocol, args.model, images, shape, args['proto-root']);
  const client = grpcClient(args.target);
  const first = await callOnce(client, method, 30_000);
  client.close();
  if (first.error) throw first.error;
  const row = method.firstRow(first.answer!);
  const result = await grpcLoad(args.target, method, {
    concurrency: numberArg('concurrency', args.concurrency), seconds: numberArg('duration', args.duration), channels: numberArg('channels', args.channels),
  });
  console.log(JSON.stringify({ protocol, imagesPerRequest: k, firstRow: row, ...result, imagesPerSecond: result.rps * k }));
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
