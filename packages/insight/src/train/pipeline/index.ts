// Pipeline model parallelism: a chain model split into stages at layer boundaries, one stage per rank of a
// ProcessGroup, trained on the GPipe schedule with activations and gradients sent point to point.
export { chainLayers } from './chain';
export { splitModel, balancedStarts, type SplitOptions, type StagePlan, type StageBalance } from './split';
export { PipelineStage, type PipelineGroup, type StageGrads } from './stage';
export {
  pipelineStep, pipelineTag, microBatchSizes, type PipelineBatch, type PipelineStepOptions, type PipelineStepResult,
} from './gpipe';
