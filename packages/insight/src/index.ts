// Insight as a library: the workflows of the `insight` command as typed functions, and the parts a user
// composes their own training from (model zoo, training loop, optimizers, schedules, callbacks, data, run files).
// This list is chosen, not `export *`: everything here is public API; the rest of src/ is internal. Serving,
// tracking and fine-tuning internals have their own entry points, loaded only by those who import them:
//   @insight/insight/serve     the inference server (createServe, startServe, DynamicBatcher, ...)
//   @insight/insight/track     TensorBoard event files, the run index, the dashboard
//   @insight/insight/finetune  cutting bases, heads, adapters, LoRA (finetune() itself is exported here too)
//   @insight/insight/compress  pruning, sparse and quantized weights, int8 calibration and QAT, distillation, the ONNX
//                              writer and runtime (compress(), distill() and exportToOnnx() are exported here too)
//   @insight/insight/tune      hyperparameter search: spaces, samplers (TPE, random, grid), pruners (ASHA, median),
//                              importance (tune(), tuneWorker(), showStudy() and listStudies() are exported here too)
//
//   import { train, evaluate, predict, explain } from '@insight/insight';
//   const { runDir, report, model } = await train({ data: 'cifar-10-binary.tar.gz', epochs: 2, limit: 2000 });
//   model.dispose();
//   const { metrics } = await evaluate({ model: runDir });
//   const [first] = await predict({ model: runDir, images: ['cat.jpg'], topK: 3 });
//   const { images } = await explain({ model: runDir, images: ['cat.jpg'], methods: ['gradcam', 'ig'] });

// The workflows and their configs.
export { train, type TrainOptions, type TrainResult, type TrainInput } from './train/train';
export { resolveTrainConfig, TRAIN_SCHEMA, TRAIN_DEFAULTS, RESUME_OVERRIDABLE, type TrainConfig } from './train/config';
export { AUGMENTATIONS, type Augmentation } from './run/config_fields';
export { finetune, type FinetuneOptions, type FinetuneResult } from './finetune/finetune';
export { resolveFinetuneConfig, FINETUNE_SCHEMA, type FinetuneConfig } from './finetune/config';
export { FINETUNE_METHODS, type FinetuneMethod } from './finetune/method_names';
export { compress, type CompressOptions, type CompressResult, type CompressionSummary } from './compress/compress';
export { resolveCompressConfig, COMPRESS_SCHEMA, type CompressConfig } from './compress/config';
export { distill, type DistillOptions, type DistillResult } from './compress/distill/distill';
export { resolveDistillConfig, DISTILL_SCHEMA, type DistillConfig } from './compress/distill/config';
export { exportToOnnx } from './compress/export_onnx';
export { resolveExportConfig, EXPORT_SCHEMA, type ExportConfig } from './onnx/export_config';
export type { ExportResult } from './onnx/export_model';
export { tune, tuneWorker, type TuneInput, type TuneResult, type TuneRunOptions, type TuneWorkerInput } from './tune/study';
export { listStudies, showStudy } from './tune/study_view';
export { TUNE_SCHEMA, TUNE_WORKER_SCHEMA, type TuneOptions, type TuneWorkerOptions } from './tune/config';
export { evaluate, type EvaluateResult } from './eval/evaluate';
export { predict, type Prediction } from './eval/predict';
export { calibrate, type CalibrateResult, type CalibrationSide } from './calibrate/calibrate';
export { resolveCalibrateConfig, CALIBRATE_SCHEMA, type CalibrateConfig } from './calibrate/config';
// Calibration measures and temperature scaling on arrays of probabilities / logits.
export { calibrationOf, type Calibration, type CalibrationBin } from './calibrate/ece';
export { DEFAULT_CALIBRATION_BINS } from './calibrate/config';
export { fitTemperature, temperatureNll, temperatureSoftmax, type TemperatureFit, type TemperatureFitOptions } from './calibrate/temperature';
export { reliabilityPng } from './calibrate/reliability_png';
export {
  resolveEvaluateConfig, resolvePredictConfig, type EvaluateAttack, type EvaluateConfig, type EvaluateInput, type PredictConfig,
} from './eval/config';
// Adversarial attacks on a batch (FGSM, PGD, APGD-CE; robust/attacks) and robust accuracy over a loader.
export { attack, robustAccuracy, resolveAttackSpec, type AttackSpec, type RobustMetrics } from './robust';
export { ensemble, buildEnsembleModel, resolveEnsembleConfig, ENSEMBLE_SCHEMA, type EnsembleResult, type EnsembleConfig, type EnsembleOptions } from './ensemble';
export {
  explain, explainBatch, explainImages, type ExplainInput, type ExplainResult, type ImageExplanation, type MethodResult, type PixelImage,
} from './explain/explain';
export { explainToFiles, evaluateExplanations, type ExplainFilesResult, type EvaluateExplanationsResult } from './explain/explain_command';
export { EXPLAIN_METHODS, IG_BASELINES, SIGNED_METHODS, type ExplainMethod, type IgBaseline } from './explain/method_names';
export { EXPLAIN_OPTIONS_SCHEMA, METHOD_DEFAULTS, resolveExplainOptions, type ClassChoice, type ExplainOptions } from './explain/defaults';
export { EXPLAIN_COMMAND_SCHEMA, resolveExplainCommandConfig, type ExplainCommandConfig } from './explain/command_config';
export type { Attribution, MethodOptions } from './explain/attribution';
export { evaluateFaithfulness, type FaithfulnessReport, type FaithfulnessRow, type FaithfulnessSettings } from './explain/faithfulness';
export { main } from './cli/main';

// The backend and errors. `tf` (tfjs-core) and `tfl` (tfjs-layers: tfl.sequential, tfl.layers, tfl.initializers ...)
// are the very TensorFlow.js Insight runs on: build your models with them, never with a second copy of the packages.
export { tf, initBackend } from './backend';
export * as tfl from '@tensorflow/tfjs-layers';
export { ERROR_CODES, InsightError, type ErrorCode, type ErrorCodeInfo } from './errors';

// Models.
export { createModel, describeModels, type CreateModelOptions } from './models/registry';
export { MODEL_NAMES } from './models/names';
export { buildCustomModel, checkCustomModel, type CustomModel, type ModelBuilder, type ModelBuilderOptions } from './models/custom_model';
export { buildSeedCnn, type SeedCnnOptions } from './models/seed_cnn';
export { buildResnet, type ResnetOptions } from './models/resnet';
export { getInsightMetadata, setInsightMetadata, type InsightModelMetadata, type InferenceSettings, type TtaSettings } from './models/metadata';
// What evaluate, predict and serve report from a model's output (output kind, temperature, test-time augmentation).
export {
  resolveInference, inferenceOutputs, outputsOfViews, PLAIN_INFERENCE, type ResolvedInference, type InferenceOutputs,
} from './models/inference_output';
export { ttaViews } from './models/tta';
export { parseTta } from './models/tta_settings';
export { sparseCategoricalCrossentropy } from './models/loss';

// Scale-out training: a process group over libtorch's c10d Gloo, data parallelism (train() joins the group that
// torchrun's variables describe) and pipeline stages on the GPipe schedule.
export { ProcessGroup, type ProcessGroupOptions, type ReduceOp } from '@insight/tfjs-backend-torch';
export { DataParallel, type DataParallelOptions } from './train/distributed/data_parallel';
export {
  splitModel, PipelineStage, pipelineStep, microBatchSizes,
  type SplitOptions, type StagePlan, type StageBalance, type PipelineGroup, type StageGrads,
  type PipelineBatch, type PipelineStepOptions, type PipelineStepResult,
} from './train/pipeline';

// The training loop and its parts.
export { fit, trainableVariables, type FitOptions } from './train/trainer';
export { RunSession, type SessionOptions, type SessionCallbackOptions } from './train/session';
export {
  Optimizer, Adam, AdamW, Sgd, createOptimizer, paramsOf, OPTIMIZER_NAMES,
  type Param, type AdamOptions, type SgdOptions, type OptimizerName, type OptimizerSettings,
} from './train/optimizers';
export {
  ConstantSchedule, CosineSchedule, OneCycleSchedule, StepSchedule, createSchedule, SCHEDULE_NAMES,
  type LearningRateSchedule, type ScheduleName,
} from './train/schedules';
export type { TrainerState, BatchLogs, EpochLogs, MonitorName } from './train/state';
export type { Callback, TrainingContext, GradientHook, UpdateInfo } from './train/callbacks/callback';
export { MonitorCallback } from './train/callbacks/monitor';
export { EarlyStopping } from './train/callbacks/early_stopping';
export { ReduceLROnPlateau } from './train/callbacks/reduce_on_plateau';
export { ModelCheckpoint } from './train/callbacks/model_checkpoint';
export { MetricsLog } from './train/callbacks/metrics_log';
export { ProgressBar } from './train/callbacks/progress_bar';
export { ProgressLog } from './train/callbacks/progress_log';
export { TensorBoard, type TensorBoardOptions } from './train/callbacks/tensorboard';

// Data.
export {
  type ImageDataset, subsetDataset, filterClasses, splitTrainValidation, loadCifar10, loadImageFolder,
  type Normalization, normalizeImages, type AugmentConfig, type Batch, type LoaderOptions, DataLoader,
} from './data';

// Evaluation and run files.
export { computeMetrics, type EvaluationMetrics } from './eval/metrics';
export { runInference, type InferenceResult } from './eval/inference';
export { RunDir, type RunInfo, type RunStatus } from './run/run_dir';
export { loadModel, saveModel, resolveModelDir } from './run/model_io';
