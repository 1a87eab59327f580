// Image upload — POST /v1/models/{model}[/versions/{version}]:classify-image[?top_k=5]
// Body: the image file itself (Content-Type image/jpeg, image/png, image/webp, image/gif or
// application/octet-stream) or multipart/form-data with one or more files. Each image is decoded, resized to the
// model's input size and normalized as its metadata says (the steps of `insight predict`), then classified:
//   {"model_spec": {"name": "m", "version": "2"},
//    "predictions": [{"file": "cat.jpg" | null, "top": [{"index": 3, "class_name": "cat", "probability": 0.81}, ...]}]}
import type { FastifyRequest } from 'fastify';

import { serveError } from '../../../errors';
import type { ServeContext } from '../../http/context';
import { readUpload } from '../../inputs/upload';
import { rankedClasses } from '../../outputs/ranked_classes';
import { infer, withServable } from '../shared';
import type { VerbTarget } from './verbs';

export async function classifyImageVerb(ctx: ServeContext, request: FastifyRequest, target: VerbTarget): Promise<object> {
  const k = parseTopK((request.query as Record<string, unknown>).top_k, ctx.config.topK);
  ctx.repository.resolve(target.model, target.version); // 404 before reading a large upload
  const upload = await readUpload(request);
  return withServable(ctx, target.model, target.version, async (servable) => {
    const { probabilities } = await infer(ctx, servable, upload.instances);
    return {
      model_spec: { name: servable.name, version: String(servable.version) },
      predictions: upload.names.map((file, i) => ({
        file,
        top: rankedClasses(probabilities, servable, i, k).map((r) => ({ index: r.index, class_name: r.label, probability: r.score })),
      })),
    };
  });
}

function parseTopK(raw: unknown, fallback: number): number {
  if (raw === undefined) return fallback;
  const k = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(k >= 1)) {
    throw serveError('SERVE_E_BAD_INPUT', 'top_k must be a positive integer.', { top_k: raw }, 'Use e.g. ?top_k=3 (default: --top-k).');
  }
  return k;
}
