// Compression: pruning (magnitude and structured) with sparse and quantized tfjs weight storage, and the
// `insight compress` workflow; int8 quantisation (quantize/) and distillation (distill/) beside them.
export { compress, type CompressOptions, type CompressResult, type CompressionSummary } from './compress';
export { COMPRESS_SCHEMA, resolveCompressConfig, type CompressConfig } from './config';
export {
  ConstantSparsity, PolynomialDecay, PruningCallback, channelPlan, countFlops, fineTuningSchedule, formatSparsityTable, magnitudeMasks, maskChannels,
  prunableWeights, pruneChannels, pruneOnce, sparsityReport, type ChannelPlan, type PruneScope, type SparsityReport, type SparsitySchedule,
} from './prune';
export { WEIGHT_FORMATS, isSparseModelDir, quantizeArtifacts, sparseModelHandler, weightSizes, writeModelAs, type WeightFormat, type WeightSizes } from './storage';
export * from './distill';
