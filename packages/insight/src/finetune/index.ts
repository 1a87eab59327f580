// Transfer learning and parameter-efficient tuning: cut a trained base, attach a new head, and train it with one
// of five methods (full, head, bn+head, adapter, lora), with L2-SP, gradual unfreezing and a forgetting report.
// Importing this module registers the LoRA layer class, so saved models with unmerged LoRA layers load.
export { finetune, type FinetuneOptions, type FinetuneResult } from './finetune';
export { resolveFinetuneConfig, FINETUNE_SCHEMA, type FinetuneConfig } from './config';
export { FINETUNE_METHODS, type FinetuneMethod } from './method_names';
export { configureMethod, parameterCounts } from './methods';
export { loadBaseModel, type BaseModel, type BaseModelOptions } from './base_model';
export { buildFinetuneModel, type BuildOptions, type FinetuneModel } from './build';
export { defaultCutLayer, checkCutLayer } from '../models/graph/cut';
export { blocksOf, type Block } from '../models/graph/blocks';
export { LoraLayer, type LoraLayerArgs, type LoraTarget } from './lora_layer';
export { mergeLora, defaultLoraTargets, loraLayersOf } from './lora';
export { applyAdapter } from './adapter';
export { L2SP } from './l2sp';
export { GradualUnfreezing } from './gradual_unfreezing';
export { baseTaskAccuracy, type ForgettingReport } from './forgetting';
export { setFrozen, setInferenceMode } from './freeze';
