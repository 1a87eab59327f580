// `compress(config)`: a trained model made smaller, as `insight compress` does it — load the model (a run or a model
// directory), prune it (magnitude masks, global or per layer, or structured: filters removed and a smaller model
// built), and either
//   - with --epochs 0: prune once and write a model directory (--out) in the --weights format, with sparsity.json and
//     compression.json beside model.json; or
//   - with fine-tuning epochs: train it with train's loop in a run directory (the data and split of its source run by
//     default, the model's own normalization), masks re-applied after every update on the gradual schedule
//     (prune/pruning_callback.ts), then report/ (accuracy), report/sparsity.json, model/ (float32, which every Insight
//     command and plain tfjs reads), model_compressed/ in the --weights format (evaluated again, since uint8 and
//     float16 round the weights) and report/compression.json.
// compression.json holds the sizes (weight files raw and gzipped, against dense float32), parameters and FLOPs
// before and after, and the accuracies.

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { ruleError } from '../errors';
import type { EvaluationMetrics } from '../eval/metrics';
import { resolveInference } from '../models/inference_output';
import { getInsightMetadata, setInsightMetadata, type InsightModelMetadata } from '../models/metadata';
import { CUSTOM_MODEL } from '../models/model_choice';
import { writeDirAtomic, writeFileAtomic } from '../run/atomic';
import { startBackend } from '../run/backend_choice';
import { recordRunData } from '../run/dataset_source';
import { loadModel, resolveModelDir } from '../run/model_io';
import { COMPRESSION_FILES, RunDir } from '../run/run_dir';
import { resolveTrainConfig, type TrainConfig } from '../train/config';
import { createLoaders, evaluateOn, prepareData, type RunData } from '../train/data_setup';
import { createOptimizer, paramsOf, type Optimizer } from '../train/optimizers';
import { createSchedule } from '../train/schedules';
import { RunSession } from '../train/session';
import type { TrainerState } from '../train/state';
import { fit, trainableVariables } from '../train/trainer';
import type { ActivationRanges } from '../onnx/quantization_params';
import { COMPRESS_SCHEMA, DATA_KEYS, resolveCompressConfig, scheduleOf, skipListOf, type CompressConfig } from './config';
import {
  ConstantSparsity, PruningCallback, countFlops, defaultSkip, fineTuningSchedule, formatSparsityTable, prunableWeights, pruneChannels, pruneOnce,
  sparsityReport, type ChannelPlan, type SparsityReport,
} from './prune';
import { quantizationAwareTraining } from './quantize/qat';
import { encodeWeightFormat, modelArtifacts, weightSizes, writeModelAs, type WeightSizes } from './storage';

export interface CompressOptions {
  /** Where progress and info lines go (default process.stdout). */
  out?: NodeJS.WriteStream;
  /** Stop at SIGINT/SIGTERM after saving checkpoints/last (default true, as the CLI does). */
  handleSignals?: boolean;
}

/** compression.json. */
export interface CompressionSummary {
  source: string;
  method: { structured: boolean; sparsity: number; scope: 'global' | 'layer' | 'per-convolution'; schedule: 'polynomial' | 'one-shot' | null; skip: string[]; epochs: number };
  /** Structured pruning: the channels each pruned convolution kept. */
  channels: { conv: string; channels: number; kept: number }[];
  parameters: { before: number; after: number };
  flops: { before: number; after: number };
  sparsity: SparsityReport['pruned'] & { model: SparsityReport['model'] };
  weights: WeightSizes;
  /** With fine-tuning: the float32 model's and the stored (--weights) model's accuracy on the validation split. */
  accuracy: { float32: number; stored: number; split: string } | null;
  /**
   * With --qat-epochs: the activation ranges after quantisation-aware training (for the int8 ONNX export) and the last
   * epoch's fake-quantised validation accuracy (null without a validation split).
   */
  qat?: { epochs: number; ranges: ActivationRanges; valAccuracy: number | null };
}

export interface CompressResult {
  /** The run directory (fine-tuning), else null. */
  runDir: string | null;
  /** The compressed model directory: --out, or the run's model_compressed/ (model/ for float32). */
  modelDir: string;
  config: CompressConfig;
  sparsity: SparsityReport;
  summary: CompressionSummary;
  report: EvaluationMetrics | null;
  state: TrainerState | null;
  /** The compressed model (float32 weights); the caller owns it (dispose when done). */
  model: tfl.LayersModel;
}

/**
 * Compresses `config.model` per `config` (partial; see COMPRESS_SCHEMA for the defaults).
 * Example: `const { summary } = await compress({ model: 'runs/x', sparsity: 0.9, epochs: 2, weights: 'sparse' })`;
 * prune only: `await compress({ model: 'runs/x', epochs: 0, out: 'small', structured: true, sparsity: 0.5 })`.
 */
export async function compress(input: Partial<CompressConfig> | Record<string, unknown>, options: CompressOptions = {}): Promise<CompressResult> {
  const config = resolveCompressConfig(input);
  return config.epochs === 0 ? pruneOnly(config, options) : fineTune(config, options);
}

/** The source model and what it carries. */
interface Source {
  dir: string;
  run: RunDir | null;
  model: tfl.LayersModel;
  metadata: InsightModelMetadata;
}

async function loadSource(target: string): Promise<Source> {
  const dir = resolveModelDir(target);
  const model = await loadModel(dir); // a dense model directory, or one stored sparse
  const run = RunDir.ofModelDir(dir);
  return { dir, run, model, metadata: getInsightMetadata(model, dir) };
}

/** The pruned model before any fine-tuning: structured → a new smaller model; unstructured → `model` (masks later or now). */
interface Pruned {
  model: tfl.LayersModel;
  plan: ChannelPlan[];
  /** Layers whose kernels are pruned (unstructured). */
  prunedLayers: string[];
  skip: string[];
  /** What was said of the source's calibration temperature, dropped from the pruned model's metadata (null: it had none). */
  temperatureNote: string | null;
}

/**
 * Drops `model`'s calibration temperature from its Insight metadata: it was fitted to the source's logits, which
 * pruning (and fine-tuning) change. Returns the line that says so, or null when there was none.
 */
function dropTemperature(model: tfl.LayersModel, source: string): string | null {
  const meta = getInsightMetadata(model, source);
  const temperature = meta.inference?.temperature;
  if (temperature === undefined || temperature === 1) return null;
  const { temperature: _dropped, ...inference } = meta.inference!;
  setInsightMetadata(model, { ...meta, inference });
  return `Calibration: the source's temperature ${temperature} was fitted to its own logits; pruning changes them, so the compressed model has none ` +
    '(fit one again with `insight calibrate <run or model>`).';
}

/**
 * The model to compress. Structured: a new, smaller model (the source is freed). Unstructured: the source model, its
 * kernels pruned at once when `pruneNow` (one-shot, no fine-tuning), else left to the fine-tuning's PruningCallback.
 */
async function prunedModelOf(config: CompressConfig, source: Source, pruneNow: boolean): Promise<Pruned> {
  const skip = skipListOf(config.skipLayers);
  const skipped = skip ?? defaultSkip(source.model);
  if (config.structured) {
    try {
      const { model, plan } = await pruneChannels(source.model, config.sparsity, skip);
      return { model, plan, prunedLayers: [], skip: skipped, temperatureNote: dropTemperature(model, source.dir) };
    } finally {
      source.model.dispose();
    }
  }
  const prunable = prunableWeights(source.model, skip);
  if (pruneNow) tf.dispose(pruneOnce(prunable, config.sparsity, config.pruneScope));
  return { model: source.model, plan: [], prunedLayers: prunable.map((w) => w.layer.name), skip: skipped, temperatureNote: dropTemperature(source.model, source.dir) };
}

function methodOf(config: CompressConfig, skip: string[]): CompressionSummary['method'] {
  return {
    structured: config.structured, sparsity: config.sparsity, scope: config.structured ? 'per-convolution' : config.pruneScope,
    schedule: config.structured ? null : scheduleOf(config), skip, epochs: config.epochs,
  };
}

function summaryOf(config: CompressConfig, source: Source, pruned: Pruned, report: SparsityReport, sizes: WeightSizes,
  flopsBefore: number, paramsBefore: number, accuracy: CompressionSummary['accuracy']): CompressionSummary {
  return {
    source: source.dir, method: methodOf(config, pruned.skip),
    channels: pruned.plan.map((p) => ({ conv: p.conv, channels: p.channels, kept: p.keep.length })),
    parameters: { before: paramsBefore, after: pruned.model.countParams() },
    flops: { before: flopsBefore, after: countFlops(pruned.model) },
    sparsity: { ...report.pruned, model: report.model }, weights: sizes, accuracy,
  };
}

/** Lines that describe a compression: the sparsity table (unstructured) or the channels, then sizes, params, FLOPs. */
function describeCompression(summary: CompressionSummary, report: SparsityReport): string[] {
  const lines: string[] = [];
  if (summary.method.structured) {
    lines.push(`Channels kept: ${summary.channels.map((c) => `${c.conv} ${c.kept}/${c.channels}`).join(', ')}`);
  } else {
    lines.push('Sparsity per layer:', ...formatSparsityTable(report).split('\n').map((l) => `  ${l}`));
  }
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const w = summary.weights;
  lines.push(`Weights (${w.format}): ${kb(w.bytes)} (${w.ratio.toFixed(3)}x of float32 ${kb(w.denseBytes)}), gzip ${kb(w.gzipBytes)} ` +
    `(float32 gzip ${kb(w.denseGzipBytes)})`);
  lines.push(`Parameters ${summary.parameters.before.toLocaleString('en-US')} -> ${summary.parameters.after.toLocaleString('en-US')}, ` +
    `FLOPs per image ${summary.flops.before.toLocaleString('en-US')} -> ${summary.flops.after.toLocaleString('en-US')}`);
  return lines;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** --epochs 0: prune once, write the model directory in its format with the two reports beside model.json. */
async function pruneOnly(config: CompressConfig, options: CompressOptions): Promise<CompressResult> {
  await startBackend(config.backend);
  const source = await loadSource(config.model);
  const paramsBefore = source.model.countParams();
  const flopsBefore = countFlops(source.model);
  const pruned = await prunedModelOf(config, source, true);
  try {
    const report = sparsityReport(pruned.model, pruned.prunedLayers);
    const artifacts = await modelArtifacts(pruned.model);
    const files = encodeWeightFormat(artifacts, config.weights);
    const summary = summaryOf(config, source, pruned, report, weightSizes(artifacts, files, config.weights), flopsBefore, paramsBefore, null);
    writeDirAtomic(config.out!, { ...files, [COMPRESSION_FILES.sparsity]: json(report), [COMPRESSION_FILES.sizes]: json(summary) });
    const out = options.out ?? process.stdout;
    out.write(`${[...describeCompression(summary, report), ...pruned.temperatureNote ? [pruned.temperatureNote] : []].join('\n')}\nModel: ${config.out}\n`);
    return { runDir: null, modelDir: config.out!, config, sparsity: report, summary, report: null, state: null, model: pruned.model };
  } catch (error) {
    pruned.model.dispose();
    throw error;
  }
}

/** The training recipe of a compression: its data (the source run's unless given) and optimizer, a constant rate. */
function recipeOf(config: CompressConfig, source: Source): TrainConfig {
  const saved = (source.run?.readConfig() ?? {}) as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  for (const key of DATA_KEYS) {
    const given = config[key];
    const fallback = (COMPRESS_SCHEMA.properties as Record<string, { default?: unknown }>)[key].default;
    data[key] = given !== fallback && given !== undefined ? given : saved[key] ?? fallback;
  }
  const validates = data.validationCount !== 0;
  return resolveTrainConfig({
    ...data, model: CUSTOM_MODEL, epochs: config.epochs, batchSize: config.batchSize, optimizer: config.optimizer, lr: config.lr,
    schedule: 'constant', augment: config.augment, seed: config.seed, topK: config.topK, runsDir: config.runsDir, name: config.name,
    backend: config.backend, workers: config.workers, progress: config.progress, progressEverySeconds: config.progressEverySeconds,
    checkpointEverySteps: config.checkpointEverySteps, monitor: validates ? 'val_loss' : 'loss', tensorboard: false,
  }, 'compression config');
}

/** The data must be the model's task: its classes, in its order, at its input size. */
function checkData(data: RunData, source: Source): void {
  const meta = source.metadata;
  if (data.classNames.join('\n') !== meta.classNames.join('\n')) {
    throw ruleError('INSIGHT_E_DATA', 'Fine-tuning a compressed model needs data with the model\'s classes, in its order.',
      { modelClasses: meta.classNames.join(','), dataClasses: data.classNames.join(',') }, 'Pass --data with those classes (by default the source run\'s data is used).');
  }
  if (data.train.height !== meta.inputShape[0] || data.train.width !== meta.inputShape[1]) {
    throw ruleError('INSIGHT_E_DATA', 'The images must have the model\'s input size.',
      { inputShape: meta.inputShape.join('x'), images: `${data.train.height}x${data.train.width}` }, 'Pass --data of that size.');
  }
}

/** With --epochs: fine-tune the pruned model in a run. */
async function fineTune(config: CompressConfig, options: CompressOptions): Promise<CompressResult> {
  const session = await RunSession.start({ backend: config.backend, progress: config.progress, out: options.out, handleSignals: options.handleSignals });
  const say = (line: string) => session.say(line);
  const source = await loadSource(config.model);
  let data: RunData;
  let recipe: TrainConfig;
  try {
    if (resolveInference(source.metadata, source.dir).output === 'probabilities') {
      throw ruleError('INSIGHT_E_MODEL', 'Fine-tuning trains a model\'s output as logits, and an ensemble outputs probabilities (its metadata\'s inference.output).',
        { model: source.dir, output: 'probabilities' }, 'Compress each member (insight compress <member run>) and ensemble the results, or prune without fine-tuning (--epochs 0).');
    }
    recipe = recipeOf(config, source);
    const prepared = await prepareData(recipe);
    checkData(prepared, source);
    data = { ...prepared, normalization: source.metadata.normalization };
  } catch (error) {
    source.model.dispose();
    throw error;
  }
  const paramsBefore = source.model.countParams();
  const flopsBefore = countFlops(source.model);
  const pruned = await prunedModelOf(config, source, false);
  let pruning: PruningCallback | null = null;
  const model = pruned.model;
  let loaders: ReturnType<typeof createLoaders>;
  try {
    loaders = createLoaders(recipe, data);
  } catch (error) {
    model.dispose();
    throw error;
  }
  let optimizer: Optimizer | null = null;
  try {
    optimizer = createOptimizer(recipe.optimizer, paramsOf(trainableVariables(model)), recipe);
    const stepsPerEpoch = loaders.train.batchesPerEpoch;
    const totalSteps = stepsPerEpoch * recipe.epochs;
    const lrSchedule = createSchedule(recipe.schedule, { lr: recipe.lr, stepsPerEpoch, totalSteps }, recipe);
    if (!config.structured) {
      const schedule = scheduleOf(config) === 'polynomial' ? fineTuningSchedule(config.sparsity, totalSteps, config.pruneFrequency) : new ConstantSparsity(config.sparsity);
      pruning = new PruningCallback({ schedule, scope: config.pruneScope, skip: skipListOf(config.skipLayers) });
    }
    const run = session.create(recipe.runsDir, config);
    say(`Run ${run.dir}`);
    say(`  source ${source.dir} (${source.metadata.architecture}, ${paramsBefore.toLocaleString('en-US')} parameters), backend ${session.backend}`);
    say(config.structured
      ? `  structured: ${pruned.plan.map((p) => `${p.conv} ${p.keep.length}/${p.channels}`).join(', ')} filters kept; ${model.countParams().toLocaleString('en-US')} parameters`
      : `  ${scheduleOf(config)} ${config.pruneScope} pruning to ${config.sparsity} of ${pruned.prunedLayers.join(', ')}` +
        `${pruned.skip.length > 0 ? ` (dense: ${pruned.skip.join(', ')})` : ''}`);
    say(`  data: ${data.train.count} training images, ${data.validationDescription}, ${data.classNames.length} classes`);
    recordRunData(run, data.record, say);
    say(`  ${recipe.optimizer} lr ${recipe.lr} (constant), batch ${recipe.batchSize}, ${recipe.epochs} epoch${recipe.epochs === 1 ? '' : 's'}, seed ${recipe.seed}`);
    if (pruned.temperatureNote !== null) say(`  ${pruned.temperatureNote}`);

    const state = await fit(model, loaders.train, {
      epochs: recipe.epochs, optimizer, schedule: lrSchedule, seed: recipe.seed, validation: loaders.validation,
      callbacks: session.callbacks(pruning ? [pruning] : [], { monitor: recipe.monitor }), adaptiveThreads: config.adaptiveThreads,
    });

    let qat: CompressionSummary['qat'];
    if (config.qatEpochs > 0) {
      say(`Quantisation-aware training: ${config.qatEpochs} epoch${config.qatEpochs === 1 ? '' : 's'} with int8 fake quantisation${pruning ? ', pruned weights kept at 0' : ''}`);
      const keeper = pruning ? new PruningCallback({ schedule: null, scope: config.pruneScope, skip: skipListOf(config.skipLayers) }) : null;
      try {
        const result = await quantizationAwareTraining(model, loaders.train, {
          epochs: config.qatEpochs, lr: recipe.lr, optimizer: recipe.optimizer, seed: recipe.seed, validation: loaders.validation, callbacks: keeper ? [keeper] : [],
        });
        const last = result.state.history[result.state.history.length - 1];
        qat = { epochs: config.qatEpochs, ranges: result.ranges, valAccuracy: last?.val_accuracy ?? null };
        if (qat.valAccuracy !== null) say(`  fake-quantised validation accuracy ${qat.valAccuracy.toFixed(4)}`);
      } finally {
        keeper?.dispose();
      }
    }

    const split = data.validation === null ? 'training images (no validation split)' : data.validationDescription;
    const report = await evaluateOn(model, recipe, data.validation ?? data.train, data.normalization, data.classNames);
    await session.report(report, split);
    const sparsity = sparsityReport(model, pruned.prunedLayers);
    writeFileAtomic(run.sparsityJson, json(sparsity));
    let sizes: WeightSizes;
    let stored = report.accuracy;
    let modelDir = run.modelDir;
    if (config.weights === 'float32') {
      const artifacts = await modelArtifacts(model);
      sizes = weightSizes(artifacts, encodeWeightFormat(artifacts, 'float32'), 'float32');
    } else {
      sizes = await writeModelAs(model, run.compressedModelDir, config.weights);
      modelDir = run.compressedModelDir;
      const reloaded = await loadModel(run.compressedModelDir);
      try {
        stored = (await evaluateOn(reloaded, recipe, data.validation ?? data.train, data.normalization, data.classNames)).accuracy;
      } finally {
        reloaded.dispose();
      }
    }
    const summary = { ...summaryOf(config, source, pruned, sparsity, sizes, flopsBefore, paramsBefore, { float32: report.accuracy, stored, split }), ...qat ? { qat } : {} };
    writeFileAtomic(run.compressionJson, json(summary));
    describeCompression(summary, sparsity).forEach(say);
    if (config.weights !== 'float32') say(`Accuracy with ${config.weights} weights: ${stored.toFixed(4)} (float32 ${report.accuracy.toFixed(4)}); model ${run.compressedModelDir}`);
    await session.complete(model, {
      summary: { epochs: state.epoch, steps: state.step, compression: { ...summary.method, weights: config.weights, sizes, accuracy: summary.accuracy } },
    });
    return { runDir: run.dir, modelDir, config, sparsity, summary, report, state, model };
  } catch (error) {
    session.fail(error);
    model.dispose();
    throw error;
  } finally {
    optimizer?.dispose();
    pruning?.dispose();
    await loaders.train.close();
    await loaders.validation?.close();
  }
}
