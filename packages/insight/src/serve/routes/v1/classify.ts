// TF Serving :classify — POST /v1/models/{model}[/versions/{version}]:classify
//   {"examples": [{"image": <image>}, ...], "context"?: {...}} → {"results": [[["cat", 0.81], ["dog", 0.12], ...], ...]}
// One list per example of [class name, score] pairs for every class, highest score first (scores are softmax
// probabilities; with "signature_name": "logits", logits).
import type { FastifyRequest } from 'fastify';

import type { ServeContext } from '../../http/context';
import { parseClassifyBody, SIGNATURES } from '../../inputs/tf_serving_body';
import { rankedClasses } from '../../outputs/ranked_classes';
import { infer, jsonBody, withServable } from '../shared';
import type { VerbTarget } from './verbs';

export async function classifyVerb(ctx: ServeContext, request: FastifyRequest, target: VerbTarget): Promise<object> {
  const body = jsonBody(request, '{"examples": [{"image": {"b64": "<base64 image>"}}]}');
  const parsed = parseClassifyBody(body, ctx.config.maxInstances);
  return withServable(ctx, target.model, target.version, async (servable) => {
    const output = await infer(ctx, servable, parsed.instances);
    const scores = output[SIGNATURES[parsed.signature]];
    const results = parsed.instances.map((_, i) => rankedClasses(scores, servable, i).map((r) => [r.label, r.score]));
    return { results };
  });
}
