// KServe v2 inference: POST /v2/models/{model}[/versions/{version}]/infer (body: see inputs/v2_body.ts) →
//   {"model_name", "model_version", "id"?, "outputs": [{"name": "probabilities", "datatype": "FP32",
//    "shape": [N, C], "data": [...row-major...]}, ...]}
// With "parameters": {"classification": k} on an output, that output is BYTES [N, k] of "score:index:label"
// strings (Triton's classification extension). The binary tensor extension works both ways (inputs/binary_tensors.ts):
// a request with Inference-Header-Content-Length carries its input as raw bytes after the JSON; outputs asked with
// "binary_data": true (or the request's "binary_data_output") come back as raw bytes after the JSON answer, each with
// "parameters": {"binary_data_size": n} instead of "data", Content-Type application/octet-stream and the answer's
// own Inference-Header-Content-Length.
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

import type { ServeContext } from '../../http/context';
import { parseJsonBody } from '../../http/json_parser';
import { BINARY_HEADER, encodeBinaryBody, encodeBytesElements, float32Bytes, splitBinaryBody } from '../../inputs/binary_tensors';
import { parseV2InferBody, type V2OutputRequest } from '../../inputs/v2_body';
import type { BatchOutput } from '../../batching/batcher';
import { classificationLabels } from '../../outputs/ranked_classes';
import type { Servable } from '../../repository/servable';
import { binaryTensorBody } from '../body_types';
import { infer, jsonBody, parseV2Version, withServable } from '../shared';

type Params = { model: string; version?: string };

const EXAMPLE = '{"inputs": [{"name": "image", "shape": [1, H, W, 3], "datatype": "FP32", "data": [...]}]}';

export function v2InferRoutes(ctx: ServeContext): RouteOptions[] {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const { model, version } = request.params as Params;
    const { body, binary } = inferBody(request);
    return withServable(ctx, model, parseV2Version(ctx, model, version), async (servable) => {
      // Shapes are checked against the version the request runs on.
      const parsed = parseV2InferBody(body, servable.inputShape, servable.numClasses, ctx.config.maxInstances, binary);
      const output = await infer(ctx, servable, parsed.instances);
      const outputs = parsed.outputs.map((o) => v2Output(o, output, servable, parsed.instances.length));
      const answer = {
        model_name: servable.name,
        model_version: String(servable.version),
        ...(parsed.id !== null ? { id: parsed.id } : {}),
        outputs: outputs.map((o) => o.json),
      };
      const chunks = outputs.flatMap((o) => (o.bytes === null ? [] : [o.bytes]));
      if (chunks.length === 0) return answer;
      const encoded = encodeBinaryBody(answer, chunks);
      return reply.header(BINARY_HEADER, String(encoded.headerLength)).type('application/octet-stream').send(encoded.body);
    });
  };
  return [
    { method: 'POST', url: '/v2/models/:model/infer', config: { scope: 'inference', denseJson: () => true }, onRequest: binaryTensorBody, handler },
    { method: 'POST', url: '/v2/models/:model/versions/:version/infer', config: { scope: 'inference', denseJson: () => true }, onRequest: binaryTensorBody, handler },
  ];
}

/** The JSON request (or a binary body's JSON header) and, for a binary body, the tensor bytes after it. */
function inferBody(request: FastifyRequest): { body: unknown; binary: Buffer | null } {
  const headerLength = request.headers[BINARY_HEADER];
  if (typeof headerLength === 'string' && Buffer.isBuffer(request.body)) {
    const { json, binary } = splitBinaryBody(request.body, headerLength);
    return { body: parseJsonBody(json), binary };
  }
  return { body: jsonBody(request, EXAMPLE), binary: null };
}

/** One requested output: its JSON entry, and its bytes when it goes as binary data. */
function v2Output(request: V2OutputRequest, output: BatchOutput, servable: Servable, count: number): { json: object; bytes: Uint8Array | null } {
  const values = output[request.name];
  const c = servable.numClasses;
  if (request.classification === null) {
    const head = { name: request.name, datatype: 'FP32', shape: [count, c] };
    if (!request.binary) return { json: { ...head, data: Array.from(values) }, bytes: null };
    const bytes = float32Bytes(values);
    return { json: { ...head, parameters: { binary_data_size: bytes.length } }, bytes };
  }
  const k = request.classification;
  const data = classificationLabels(values, count, k, servable);
  const head = { name: request.name, datatype: 'BYTES', shape: [count, k] };
  if (!request.binary) return { json: { ...head, data }, bytes: null };
  const bytes = encodeBytesElements(data);
  return { json: { ...head, parameters: { binary_data_size: bytes.length } }, bytes };
}
