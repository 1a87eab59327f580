// Transfer learning and parameter-efficient tuning: cut a trained base, attach a new head, and train it with one
// of six methods (full, head, bn+head, adapter, lora, prompt), with L2-SP, head-first or gradual unfreezing, a step
// budget from the data size, a forgetting report, and the learning-rate range test (lr-find).
// Importing this module registers the LoRA layer class, so saved models with unmerged LoRA layers load.
export { finetune, type FinetuneOptions, type FinetuneResult } from './finetune';
export { resolveFinetuneConfig, FINETUNE_SCHEMA, type FinetuneConfig } from './config';
export { FINETUNE_METHODS, type FinetuneMethod } from './method_names';
export { configureMethod, parameterCounts } from './methods';
export { loadBaseModel, type BaseModel, type BaseModelOptions } from './base_model';
export { buildFinetuneModel, buildOptionsOf, type BuildOptions, type FinetuneModel } from './build';
export { defaultCutLayer, checkCutLayer } from '../models/graph/cut';
export { blocksOf, type Block } from '../models/graph/blocks';
export { LoraLayer, type LoraLayerArgs, type LoraTarget } from './lora_layer';
export { mergeLora, defaultLoraTargets, loraLayersOf } from './lora';
export { applyAdapter } from './adapter';
export { applyPrompt, defaultPromptWidth, type PromptLayers } from './prompt';
export { attachHead, HEAD_NAME } from './head';
export { HEAD_INITS, type HeadInit } from './method_names';
export { planTraining, autoEpochs, type TrainingPlan } from './budget';
export { HeadFirst } from './head_first';
export { PhasedSchedule, type Phase } from './phased_schedule';
export { lrFind, type LrFindOptions, type LrFindResult } from './lr_find';
export { lrFindPng } from './lr_find_plot';
export { finetuneLrFind, type FinetuneLrFindResult } from './lr_find_run';
export { LR_FIND_SCHEMA, resolveLrFindConfig, type LrFindConfig } from './lr_find_config';
export { L2SP } from './l2sp';
export { GradualUnfreezing } from './gradual_unfreezing';
export { baseTaskAccuracy, type ForgettingReport } from './forgetting';
export { setFrozen, setInferenceMode } from './freeze';
