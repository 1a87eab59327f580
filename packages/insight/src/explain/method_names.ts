// The explanation method names and IG baselines, apart from the methods (which load tfjs) so that configs, --help
// and the server's request checks stay light.
export const EXPLAIN_METHODS = ['saliency', 'gradcam', 'gradcam++', 'ig', 'smoothgrad', 'smoothgrad2', 'vargrad', 'occlusion'] as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];

/** Integrated Gradients baselines: all-black pixels, a blurred copy of the image, or uniform noise. */
export const IG_BASELINES = ['black', 'blurred', 'noise'] as const;
export type IgBaseline = (typeof IG_BASELINES)[number];

/**
 * The methods whose maps are signed, evidence for (> 0) and against (< 0) the class: IG sums signed attributions,
 * occlusion's logit drops go negative where hiding a patch raises the score. They are drawn with the diverging colour
 * map and a symmetric clip; every other map is >= 0 (sequential colour map, min–max).
 */
export const SIGNED_METHODS: readonly ExplainMethod[] = ['ig', 'occlusion'];

/** True when `method`'s maps are signed (SIGNED_METHODS). */
export function isSignedMethod(method: string): boolean {
  return (SIGNED_METHODS as readonly string[]).includes(method);
}
