// What one explanation request costs, in model passes (one row through the model, forward and backward for the
// gradient methods), computed from the request alone before any image is decoded, so --explain-max-work refuses a
// request that would hold the server for minutes before it costs anything. Per image:
//   saliency, gradcam, gradcam++  1                    one gradient
//   ig                            steps                one gradient per point of the path (+ 2 forward passes)
//   smoothgrad, smoothgrad2, vargrad  samples          one gradient per noisy copy
//   occlusion                     patches + 1          one forward pass per occluded copy, and the image itself
import { serveError } from '../../errors';
import type { MethodOptions } from '../../explain/attribution';
import type { ExplainMethod } from '../../explain/method_names';

/** Occlusion's patches on an H x W image: positions per axis, as explain/methods/occlusion.ts places them. */
function patches(height: number, width: number, window: number, stride: number): number {
  const along = (size: number) => Math.max(0, Math.floor((size - window) / stride) + 1);
  return along(height) * along(width);
}

/** Model passes per image of each method. */
export function passesPerImage(methods: readonly ExplainMethod[], options: Pick<MethodOptions, 'steps' | 'samples' | 'window' | 'stride'>,
  inputShape: readonly number[]): Record<string, number> {
  const [height, width] = inputShape;
  const cost: Record<ExplainMethod, number> = {
    saliency: 1, gradcam: 1, 'gradcam++': 1, ig: options.steps, smoothgrad: options.samples, smoothgrad2: options.samples, vargrad: options.samples,
    occlusion: patches(height, width, options.window, options.stride) + 1,
  };
  return Object.fromEntries(methods.map((m) => [m, cost[m]]));
}

/**
 * images × Σ passes per image; throws SERVE_E_BAD_INPUT with the computed work, its parts and the limit when it
 * exceeds `maxWork`. Example: 4 images, gradcam + ig (steps 50) → 4 × 51 = 204.
 */
export function checkExplainWork(images: number, methods: readonly ExplainMethod[], options: Pick<MethodOptions, 'steps' | 'samples' | 'window' | 'stride'>,
  inputShape: readonly number[], maxWork: number): number {
  const perImage = passesPerImage(methods, options, inputShape);
  const work = images * Object.values(perImage).reduce((a, b) => a + b, 0);
  if (work > maxWork) {
    throw serveError('SERVE_E_BAD_INPUT', `One explanation request may cost at most --explain-max-work=${maxWork} model passes (images x passes per image, summed over methods).`,
      { work, images, passesPerImage: perImage, limit: maxWork },
      'Send fewer images, fewer methods or smaller steps / samples (or a larger occlusion stride), or raise --explain-max-work.');
  }
  return work;
}
