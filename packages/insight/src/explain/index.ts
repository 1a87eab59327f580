// The explain feature: attribution methods over any tfjs layers model and the library call that runs them on images.
export type { Attribution, AttributionMethod, MethodOptions } from './attribution';
export { EXPLAIN_METHODS, IG_BASELINES, SIGNED_METHODS, isSignedMethod, type ExplainMethod, type IgBaseline } from './method_names';
export {
  EXPLAIN_OPTIONS_SCHEMA, EXPLAIN_SCHEMA, METHOD_DEFAULTS, METHOD_OPTIONS_SCHEMA, methodOptionsOf, resolveExplainOptions, resolveMethodOptions, resolveMethods,
  type ClassChoice, type ExplainConfig, type ExplainOptions,
} from './defaults';
export { blackImages, gaussianBlur, igBaseline, pixelRange, uniformNoiseImages } from './baselines';
export { METHODS, gradCam, gradCamPlusPlus, integratedGradients, occlusion, saliency, smoothGrad, smoothGradSquared, varGrad } from './methods';
export {
  explain, explainBatch, explainImages, IMAGE_GROUP, targetClasses,
  type ExplainInput, type ExplainResult, type ImageExplanation, type MethodResult, type PixelImage, type TensorExplanation,
} from './explain';
export { modelView, viewKeys } from './model_views';
export { runImages, type RunImages } from './run_images';
export { explainToFiles, evaluateExplanations, type ExplainFilesResult, type EvaluateExplanationsResult } from './explain_command';
export { evaluateFaithfulness, type FaithfulnessReport } from './faithfulness';
