// Pruning: magnitude masks (global or per layer) with TF-MOT's schedules as a fine-tuning callback, structured
// channel pruning that builds a smaller model, and the per-layer sparsity report.
export { PRUNABLE_CLASSES, defaultSkip, kernelLayers, prunableWeights, type PrunableWeight } from './prunable';
export { applyMasks, magnitudeMasks, nonzeroMasks, pruneOnce, type PruneScope } from './magnitude';
export { ConstantSparsity, PolynomialDecay, fineTuningSchedule, type PolynomialDecayOptions, type SparsitySchedule } from './schedule';
export { PruningCallback, type PruningCallbackOptions } from './pruning_callback';
export { formatSparsityTable, sparsityReport, type SparsityReport, type SparsityRow } from './report';
export { channelGroups, channelPlan, countFlops, maskChannels, pruneChannels, type ChannelGroup, type ChannelPlan, type ChannelPruneResult } from './channels';
