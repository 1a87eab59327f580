// @insight/insight/compress — compression and export: pruning (magnitude and structured) with sparse and quantized
// tfjs weight storage and the `insight compress` workflow; int8 quantisation (calibration, post-training, QAT);
// distillation; and the ONNX writer, its runtime wrapper and `insight export` as exportToOnnx.
export { compress, type CompressOptions, type CompressResult, type CompressionSummary } from './compress';
export { COMPRESS_SCHEMA, resolveCompressConfig, type CompressConfig } from './config';
export {
  ConstantSparsity, PolynomialDecay, PruningCallback, channelPlan, countFlops, fineTuningSchedule, formatSparsityTable, magnitudeMasks, maskChannels,
  prunableWeights, pruneChannels, pruneOnce, sparsityReport, type ChannelPlan, type PruneScope, type SparsityReport, type SparsitySchedule,
} from './prune';
export { WEIGHT_FORMATS, isSparseModelDir, quantizeArtifacts, sparseModelHandler, weightSizes, writeModelAs, type WeightFormat, type WeightSizes } from './storage';
export * from './distill';
export * from './quantize';
export { exportToOnnx } from './export_onnx';
export { exportOnnx, OnnxModel, readOnnxMetadata, SUPPORTED_LAYERS, ONNX_METADATA_KEY, type ActivationRanges, type ExportOnnxOptions, type OnnxLoadOptions } from '../onnx';
export { EXPORT_SCHEMA, resolveExportConfig, type ExportConfig } from '../onnx/export_config';
export type { ExportResult } from '../onnx/export_model';
