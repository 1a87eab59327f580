// TF Serving :predict — POST /v1/models/{model}[/versions/{version}]:predict
//   {"instances": [<image>, ...]}          → {"predictions": [[p_0, ..., p_C-1], ...]}   (row format)
//   {"inputs": [<image>, ...] | {"image": [...]}} → {"outputs": [[...], ...]}           (columnar format)
// <image> is a nested [H][W][C] list of normalized floats or {"b64": "<encoded image>"}. The output is the
// signature's: softmax probabilities (serving_default) or logits ("signature_name": "logits").
import type { FastifyRequest } from 'fastify';

import type { ServeContext } from '../../http/context';
import { parsePredictBody, SIGNATURES } from '../../inputs/tf_serving_body';
import { infer, jsonBody, rows, withServable } from '../shared';
import type { VerbTarget } from './verbs';

export async function predictVerb(ctx: ServeContext, request: FastifyRequest, target: VerbTarget): Promise<object> {
  const body = jsonBody(request, '{"instances": [{"b64": "<base64 image>"}]}');
  const parsed = parsePredictBody(body, ctx.config.maxInstances);
  return withServable(ctx, target.model, target.version, async (servable) => {
    const output = await infer(ctx, servable, parsed.instances);
    const values = rows(output[SIGNATURES[parsed.signature]], servable.numClasses);
    return parsed.rowFormat ? { predictions: values } : { outputs: values };
  });
}
