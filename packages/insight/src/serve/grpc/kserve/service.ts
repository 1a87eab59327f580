// KServe's GRPCInferenceService (protos/kserve/grpc_predict_v2.proto) on the shared ServeContext, answering as the
// REST /v2 routes do:
//   ServerLive, ServerReady   no key (the health probes' rules: ready once the initial load is done, false while
//                             shutting down)
//   ServerMetadata            {name: 'insight', version, extensions: ['classification']}
//   ModelReady                ready true/false for the model (version); unknown ones NOT_FOUND
//   ModelMetadata             versions, platform, input "image" FP32 [-1, H, W, C], outputs probabilities/logits [-1, C]
//   ModelInfer                inputs raw (raw_input_contents) or typed (contents), parsed by inputs/v2_body.ts through
//                             infer_request.ts, run through the version's DynamicBatcher like a REST request; outputs
//                             "probabilities" and "logits" (the requested ones, else both) as raw_output_contents when
//                             the inputs came raw, else as contents.fp32_contents; {"classification": k} on an output
//                             makes it BYTES [N, k] of "score:index:label" (Triton's classification extension).
import type { GrpcObject, ServiceClientConstructor } from '@grpc/grpc-js';

import type { BatchOutput } from '../../batching/batcher';
import { encodeBytesElements, float32Bytes } from '../../inputs/binary_tensors';
import { parseV2InferBody, type V2OutputRequest } from '../../inputs/v2_body';
import { classificationLabels } from '../../outputs/ranked_classes';
import type { Servable } from '../../repository/servable';
import { serverReady } from '../../routes/health';
import { v2ModelMetadata } from '../../routes/v2/model_metadata';
import { v2ModelReady } from '../../routes/v2/model_ready';
import { SERVER_NAME, SERVER_VERSION } from '../../routes/v2/server_metadata';
import { infer, parseV2Version, withServable } from '../../routes/shared';
import { loadProtos } from '../protos';
import { unary, type GrpcContext, type GrpcServiceModule } from '../service';
import { toV2Body } from './infer_request';
import type { InferOutputTensor, ModelInferRequest, ModelInferResponse } from './messages';

const KSERVE_PROTO = 'kserve/grpc_predict_v2.proto';
const KSERVE_SERVICE = 'inference.GRPCInferenceService';
/** The protocol extensions this service implements (the REST side adds model_repository and binary_tensor_data). */
const EXTENSIONS = ['classification'];

type NameVersion = { name: string; version: string };

export function kserveService(ctx: GrpcContext): GrpcServiceModule {
  const inference = loadProtos([KSERVE_PROTO]).inference as GrpcObject;
  const definition = (inference.GRPCInferenceService as ServiceClientConstructor).service;
  const label = (method: string) => `grpc /${KSERVE_SERVICE}/${method}`;
  /** '' (the protocol's "server's choice") → the default version. */
  const versionString = (raw: string) => (raw === '' ? undefined : raw);
  return {
    definition,
    implementation: {
      ServerLive: unary(ctx, { scope: 'public', label: label('ServerLive') }, async () => ({ live: true })),
      ServerReady: unary(ctx, { scope: 'public', label: label('ServerReady') }, async () => ({ ready: serverReady(ctx) })),
      ServerMetadata: unary(ctx, { scope: 'inference', label: label('ServerMetadata') },
        async () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: EXTENSIONS })),
      ModelReady: unary(ctx, { scope: 'inference', label: label('ModelReady') },
        async (request: NameVersion) => ({ ready: v2ModelReady(ctx, request.name, versionString(request.version)) })),
      ModelMetadata: unary(ctx, { scope: 'inference', label: label('ModelMetadata') }, async (request: NameVersion) => {
        // REST's answer without its "parameters" (ModelMetadataResponse has no such field).
        const { name, versions, platform, inputs, outputs } = v2ModelMetadata(ctx, request.name, versionString(request.version));
        return { name, versions, platform, inputs, outputs };
      }),
      ModelInfer: unary(ctx, { scope: 'inference', label: label('ModelInfer') }, async (request: ModelInferRequest): Promise<ModelInferResponse> => {
        const { body, binary, raw } = toV2Body(request);
        return withServable(ctx, request.model_name, parseV2Version(ctx, request.model_name, versionString(request.model_version)), async (servable) => {
          // Shapes are checked against the version the request runs on.
          const parsed = parseV2InferBody(body, servable.inputShape, servable.numClasses, ctx.config.maxInstances, binary);
          const output = await infer(ctx, servable, parsed.instances);
          const count = parsed.instances.length;
          const outputs = parsed.outputs.map((o) => inferOutput(o, output, servable, count, raw));
          return {
            model_name: servable.name,
            model_version: String(servable.version),
            id: parsed.id ?? '',
            outputs: outputs.map((o) => o.tensor),
            raw_output_contents: raw ? outputs.map((o) => o.bytes!) : [],
          };
        });
      }),
    },
  };
}

/** One requested output: its tensor entry, with contents (typed answer) or its bytes (raw answer). */
function inferOutput(request: V2OutputRequest, output: BatchOutput, servable: Servable, count: number, raw: boolean):
  { tensor: InferOutputTensor; bytes: Uint8Array | null } {
  const values = output[request.name];
  const c = servable.numClasses;
  if (request.classification === null) {
    const tensor = { name: request.name, datatype: 'FP32', shape: [count, c] };
    if (raw) return { tensor, bytes: float32Bytes(values) };
    return { tensor: { ...tensor, contents: { fp32_contents: Array.from(values) } }, bytes: null };
  }
  const k = request.classification;
  const labels = classificationLabels(values, count, k, servable);
  const tensor = { name: request.name, datatype: 'BYTES', shape: [count, k] };
  if (raw) return { tensor, bytes: encodeBytesElements(labels) };
  return { tensor: { ...tensor, contents: { bytes_contents: labels.map((l) => Buffer.from(l, 'utf8')) } }, bytes: null };
}
