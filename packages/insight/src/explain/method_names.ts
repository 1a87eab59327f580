// The explanation method names and IG baselines, apart from the methods (which load tfjs) so that configs, --help
// and the server's request checks stay light.
export const EXPLAIN_METHODS = ['saliency', 'gradcam', 'gradcam++', 'ig', 'smoothgrad', 'smoothgrad2', 'vargrad', 'occlusion'] as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];

/** Integrated Gradients baselines: all-black pixels, a blurred copy of the image, or uniform noise. */
export const IG_BASELINES = ['black', 'blurred', 'noise'] as const;
export type IgBaseline = (typeof IG_BASELINES)[number];
