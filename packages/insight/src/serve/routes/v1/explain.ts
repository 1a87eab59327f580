// TF Serving-style :explain — POST /v1/models/{model}[/versions/{version}]:explain
//   {"instances": [<image>, ...], "methods"?: "gradcam,ig", "classes"?: "predicted" | [3] | ["cat"], "steps"?: 50, ...,
//    "attributions"?: false, "png"?: false}
//   → {"model_spec": {"name", "version"}, "methods": [...], "options": {<method options used>}, "work": <model passes>,
//      "explanations": [{"predicted": {"index", "class_name", "probability"}, "target": {...},
//                        "maps": {"gradcam": {"map": [[...W]...H], "min", "max", "layer"?, "convergence_delta"?,
//                                             "attributions"?: [H][W][C], "png"?: "<base64 PNG>"}, ...}}, ...]}
// Images as :predict takes them (nested normalized floats or {"b64": ...}); options as `insight explain` names them
// (explain/defaults.ts). Heavy: bounded by --explain-max-work and run in the explanation queue (serve/explain/).
import type { FastifyRequest } from 'fastify';

import type { ServeContext } from '../../http/context';
import { explainInstances, type ExplainOutcome, type MethodMap } from '../../explain/explain_instances';
import { parseTfServingExplainBody } from '../../inputs/explain_body';
import type { Servable } from '../../repository/servable';
import { jsonBody, withServable } from '../shared';
import type { VerbTarget } from './verbs';

export async function explainVerb(ctx: ServeContext, request: FastifyRequest, target: VerbTarget): Promise<object> {
  const body = jsonBody(request, '{"instances": [{"b64": "<base64 image>"}], "methods": "gradcam,ig"}');
  const parsed = parseTfServingExplainBody(body, ctx.config.maxInstances);
  return withServable(ctx, target.model, target.version, async (servable) => {
    const outcome = await explainInstances(ctx, servable, parsed);
    return {
      model_spec: { name: servable.name, version: String(servable.version) },
      methods: outcome.methods,
      options: outcome.options,
      work: outcome.work,
      explanations: outcome.explanations.map((e) => ({
        predicted: classEntry(servable, e.predicted, e.probabilities),
        target: classEntry(servable, e.target, e.probabilities),
        maps: Object.fromEntries(e.maps.map((m) => [m.method, mapEntry(m, outcome)])),
      })),
    };
  });
}

function classEntry(servable: Servable, index: number, probabilities: Float32Array) {
  return { index, class_name: servable.metadata.classNames[index], probability: probabilities[index] };
}

/** A map as nested [H][W] numbers (and attributions as [H][W][C]), with its range and the method's extras. */
function mapEntry(m: MethodMap, outcome: ExplainOutcome) {
  const { height, width, channels } = outcome;
  return {
    map: Array.from({ length: height }, (_, r) => Array.from(m.map.subarray(r * width, (r + 1) * width))),
    min: m.min,
    max: m.max,
    ...(m.layer !== undefined ? { layer: m.layer } : {}),
    ...(m.convergenceDelta !== undefined ? { convergence_delta: m.convergenceDelta } : {}),
    ...(m.attributions ? {
      attributions: Array.from({ length: height }, (_, r) => Array.from({ length: width }, (_, c) =>
        Array.from(m.attributions!.subarray((r * width + c) * channels, (r * width + c + 1) * channels)))),
    } : {}),
    ...(m.png ? { png: m.png.toString('base64') } : {}),
  };
}
