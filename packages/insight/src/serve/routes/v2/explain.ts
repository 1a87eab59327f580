// KServe v2-style explanations: POST /v2/models/{model}[/versions/{version}]/explain
//   {"id"?, "inputs": [<the image tensor, as infer takes it>], "parameters"?: {"methods": "gradcam,ig", "classes"?: ...,
//    "steps"?: 50, ..., "attributions"?: false, "png"?: false}}
//   → {"model_name", "model_version", "id"?, "parameters": {"methods", "work", <method options used>},
//      "outputs": [{"name": "predicted", "datatype": "INT32", "shape": [N], "data"}, {"name": "target", ...},
//                  {"name": "probabilities", "datatype": "FP32", "shape": [N, C]},
//                  {"name": "<method>", "datatype": "FP32", "shape": [N, H, W], "data": [...row-major...], "parameters": {"layer"?}},
//                  {"name": "ig_convergence_delta", FP32 [N]}, {"name": "<method>_attributions", FP32 [N, H, W, C]},
//                  {"name": "<method>_png", "datatype": "BYTES", "shape": [N], "data": ["<base64 PNG>", ...]}]}
// Maps are tensors like every v2 output (flat data + shape). Same auth, limits and queue as :explain.
import type { RouteOptions } from 'fastify';

import type { ServeContext } from '../../http/context';
import { explainInstances, type ExplainOutcome } from '../../explain/explain_instances';
import { parseV2ExplainBody } from '../../inputs/explain_body';
import { jsonBody, parseV2Version, withServable } from '../shared';

type Params = { model: string; version?: string };

export function v2ExplainRoutes(ctx: ServeContext): RouteOptions[] {
  const handler = async (request: Parameters<typeof jsonBody>[0]) => {
    const { model, version } = request.params as Params;
    const body = jsonBody(request, '{"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": ["<base64 image>"]}], "parameters": {"methods": "gradcam"}}');
    return withServable(ctx, model, parseV2Version(ctx, model, version), async (servable) => {
      const parsed = parseV2ExplainBody(body, servable.inputShape, servable.numClasses, ctx.config.maxInstances);
      const outcome = await explainInstances(ctx, servable, parsed);
      return {
        model_name: servable.name,
        model_version: String(servable.version),
        ...(parsed.id !== null ? { id: parsed.id } : {}),
        parameters: { methods: outcome.methods, work: outcome.work, ...outcome.options },
        outputs: v2Outputs(outcome, servable.numClasses),
      };
    });
  };
  return [
    { method: 'POST', url: '/v2/models/:model/explain', config: { scope: 'inference' }, handler },
    { method: 'POST', url: '/v2/models/:model/versions/:version/explain', config: { scope: 'inference' }, handler },
  ];
}

function v2Outputs(outcome: ExplainOutcome, numClasses: number) {
  const { explanations: all, height, width, channels } = outcome;
  const n = all.length;
  const tensor = (name: string, shape: number[], data: number[], parameters?: Record<string, unknown>) =>
    ({ name, datatype: 'FP32', shape, data, ...(parameters ? { parameters } : {}) });
  const outputs: object[] = [
    { name: 'predicted', datatype: 'INT32', shape: [n], data: all.map((e) => e.predicted) },
    { name: 'target', datatype: 'INT32', shape: [n], data: all.map((e) => e.target) },
    tensor('probabilities', [n, numClasses], all.flatMap((e) => Array.from(e.probabilities))),
  ];
  outcome.methods.forEach((method, k) => {
    const maps = all.map((e) => e.maps[k]);
    const layer = maps[0].layer;
    outputs.push(tensor(method, [n, height, width], maps.flatMap((m) => Array.from(m.map)), layer !== undefined ? { layer } : undefined));
    if (maps[0].convergenceDelta !== undefined) outputs.push(tensor(`${method}_convergence_delta`, [n], maps.map((m) => m.convergenceDelta!)));
    if (maps[0].attributions) outputs.push(tensor(`${method}_attributions`, [n, height, width, channels], maps.flatMap((m) => Array.from(m.attributions!))));
    if (maps[0].png) outputs.push({ name: `${method}_png`, datatype: 'BYTES', shape: [n], data: maps.map((m) => m.png!.toString('base64')) });
  });
  return outputs;
}
