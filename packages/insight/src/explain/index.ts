// The explain feature: attribution methods over any tfjs layers model and the library call that runs them on images.
export type { Attribution, AttributionMethod, MethodOptions } from './attribution';
export { EXPLAIN_METHODS, IG_BASELINES, type ExplainMethod, type IgBaseline } from './method_names';
export {
  EXPLAIN_OPTIONS_SCHEMA, EXPLAIN_SCHEMA, METHOD_DEFAULTS, METHOD_OPTIONS_SCHEMA, resolveExplainOptions, resolveMethodOptions, resolveMethods,
  type ClassChoice, type ExplainConfig, type ExplainOptions,
} from './defaults';
export { blackImages, gaussianBlur, igBaseline, pixelRange, uniformNoiseImages } from './baselines';
export { METHODS, gradCam, gradCamPlusPlus, integratedGradients, occlusion, saliency, smoothGrad, smoothGradSquared, varGrad } from './methods';
export { explain, explainBatch, type ExplainInput, type ExplainResult, type ImageExplanation, type MethodResult, type PixelImage } from './explain';
