// Graph surgery on tfjs layers models: walking and rebuilding the graph (rebuild.ts), where to cut it into feature
// extractor and head (cut.ts), and its blocks (blocks.ts). Used by fine-tuning, explanations and compression.
export { graphSteps, rebuild, hasWeights, type GraphStep, type StepHook } from './rebuild';
export { defaultCutLayer, checkCutLayer, isArticulation } from './cut';
export { blocksOf, hasKernel, type Block } from './blocks';
export { tapLayer, type LayerTap } from './tap';
