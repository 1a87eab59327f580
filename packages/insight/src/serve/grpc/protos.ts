// Loading the shipped .proto files (protos/, beside this module in the sources; tsc does not copy them, so a
// compiled dist/ finds them under the package's src/). One set of proto-loader options for every service and for
// clients in tests, so requests look the same on both sides:
//   keepCase: field names as in the .proto (model_name, raw_input_contents), as the protocols document them;
//   longs: Number (int64 shapes and parameters as plain numbers; every int64 we read or send is far below 2^53);
//   enums: String; bytes: Buffer; defaults: true (absent fields read as 0, '', [], empty Buffer); oneofs: true
//   (a oneof's virtual field names which member is set, e.g. parameter_choice: 'int64_param').
//   const { inference } = loadProtos(['kserve/grpc_predict_v2.proto']);
//   const service = (inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor; // .service: ServiceDefinition
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadPackageDefinition, type GrpcObject } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

const PROTO_OPTIONS: Options = { keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true };

/** The folder holding the .proto files (kserve/, tensorflow_serving/, tensorflow/). */
export function protoRoot(): string {
  const beside = path.join(__dirname, 'protos');
  if (fs.existsSync(beside)) return beside;
  // dist/src/serve/grpc → <package>/src/serve/grpc/protos
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'src', 'serve', 'grpc', 'protos');
    if (fs.existsSync(candidate) && fs.existsSync(path.join(dir, 'package.json'))) return candidate;
  }
  throw new Error(`The gRPC .proto files (src/serve/grpc/protos/) were not found above ${__dirname}; the insight package is incomplete.`);
}

/** Loads `files` (paths under protoRoot(), imports resolved there too) as grpc-js package objects. */
export function loadProtos(files: readonly string[]): GrpcObject {
  const root = protoRoot();
  const definition = loadSync(files.map((f) => path.join(root, f)), { ...PROTO_OPTIONS, includeDirs: [root] });
  return loadPackageDefinition(definition);
}
