// A generic gRPC client for the tests, as a user writes one: @grpc/grpc-js + @grpc/proto-loader loading the server's
// shipped .proto files with the options a client picks itself (int64 as strings here, unlike the server's numbers),
// and unary calls as promises that resolve with the answer or the status.
import * as path from 'node:path';

import { credentials, loadPackageDefinition, Metadata, type CallOptions, type Client, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTOS = path.join(__dirname, '..', '..', 'src', 'serve', 'grpc', 'protos');

/** What a call answered: the response, or the error status with its details and trailing metadata. */
export type Outcome<T = Record<string, unknown>> = { ok: true; response: T } | { ok: false; code: number; details: string; errorCode: string | null; retryAfter: string | null };

type UnaryMethod = (request: object, metadata: Metadata, options: CallOptions, callback: (error: ServiceError | null, response: unknown) => void) => void;

export interface UnaryClient {
  call<T = Record<string, unknown>>(method: string, request: object, key?: string | null, deadlineMs?: number): Promise<Outcome<T>>;
  close(): void;
}

/** A client of `service` ('inference.GRPCInferenceService') from `file` (under the protos folder) on `address`. */
export function grpcClient(file: string, service: string, address: string, options: { maxSendBytes?: number } = {}): UnaryClient {
  const definition = loadSync(path.join(PROTOS, file), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTOS] });
  let object: GrpcObject | ServiceClientConstructor = loadPackageDefinition(definition);
  for (const part of service.split('.')) object = (object as GrpcObject)[part] as GrpcObject;
  const Ctor = object as unknown as ServiceClientConstructor;
  const client = new Ctor(address, credentials.createInsecure(), {
    'grpc.max_send_message_length': options.maxSendBytes ?? 64 * 1024 * 1024,
  }) as Client & Record<string, UnaryMethod>;
  return {
    call<T>(method: string, request: object, key: string | null = null, deadlineMs = 10_000): Promise<Outcome<T>> {
      const metadata = new Metadata();
      if (key !== null) metadata.set('authorization', `Bearer ${key}`);
      return new Promise((resolve) => {
        client[method](request, metadata, { deadline: Date.now() + deadlineMs }, (error, response) => {
          if (error === null) return resolve({ ok: true, response: response as T });
          const first = (k: string) => (error.metadata?.get(k)[0] as string | undefined) ?? null;
          resolve({ ok: false, code: error.code, details: error.details, errorCode: first('insight-error-code'), retryAfter: first('retry-after') });
        });
      });
    },
    close: () => client.close(),
  };
}

/** A float32 tensor's little-endian bytes. */
export function f32Bytes(values: ArrayLike<number>): Buffer {
  return Buffer.from(new Float32Array(Array.from(values)).buffer);
}

/** Raw little-endian FP32 bytes as numbers. */
export function f32Values(bytes: Buffer): number[] {
  return Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
}
