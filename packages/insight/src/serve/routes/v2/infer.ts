// KServe v2 inference: POST /v2/models/{model}[/versions/{version}]/infer (body: see inputs/v2_body.ts) →
//   {"model_name", "model_version", "id"?, "outputs": [{"name": "probabilities", "datatype": "FP32",
//    "shape": [N, C], "data": [...row-major...]}, ...]}
// With "parameters": {"classification": k} on an output, that output is BYTES [N, k] of "score:index:label"
// strings (Triton's classification extension).
import type { RouteOptions } from 'fastify';

import { topKIndices } from '../../../math/top_k';
import type { ServeContext } from '../../http/context';
import { parseV2InferBody, type V2OutputRequest } from '../../inputs/v2_body';
import type { BatchOutput } from '../../batching/batcher';
import type { Servable } from '../../repository/servable';
import { infer, jsonBody, parseVersion, withServable } from '../shared';

type Params = { model: string; version?: string };

export function v2InferRoutes(ctx: ServeContext): RouteOptions[] {
  const handler = async (request: Parameters<typeof jsonBody>[0]) => {
    const { model, version } = request.params as Params;
    const body = jsonBody(request, '{"inputs": [{"name": "image", "shape": [1, H, W, 3], "datatype": "FP32", "data": [...]}]}');
    return withServable(ctx, model, parseVersion(version), async (servable) => {
      // Shapes are checked against the version the request runs on.
      const parsed = parseV2InferBody(body, servable.inputShape, servable.numClasses, ctx.config.maxInstances);
      const output = await infer(ctx, servable, parsed.instances);
      return {
        model_name: servable.name,
        model_version: String(servable.version),
        ...(parsed.id !== null ? { id: parsed.id } : {}),
        outputs: parsed.outputs.map((o) => v2Output(o, output, servable, parsed.instances.length)),
      };
    });
  };
  return [
    { method: 'POST', url: '/v2/models/:model/infer', config: { scope: 'inference' }, handler },
    { method: 'POST', url: '/v2/models/:model/versions/:version/infer', config: { scope: 'inference' }, handler },
  ];
}

function v2Output(request: V2OutputRequest, output: BatchOutput, servable: Servable, count: number) {
  const values = output[request.name];
  const c = servable.numClasses;
  if (request.classification === null) {
    return { name: request.name, datatype: 'FP32', shape: [count, c], data: Array.from(values) };
  }
  const k = request.classification;
  const data = Array.from({ length: count }, (_, i) => topKIndices(values, c, i, k)
    .map((index) => `${values[i * c + index]}:${index}:${servable.metadata.classNames[index]}`)).flat();
  return { name: request.name, datatype: 'BYTES', shape: [count, k], data };
}
