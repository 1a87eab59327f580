// `train(config)`: one whole run, as `insight train` does it — data, model, run directory, the training loop
// with its callbacks, then (only at the very end) the report, the model and status 'completed'.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { ruleError } from '../errors';
import { computeMetrics, type EvaluationMetrics } from '../eval/metrics';
import { runInference } from '../eval/inference';
import { writeReport } from '../eval/report';
import { createModel } from '../models/registry';
import { readCheckpoint, restoreWeights } from '../run/checkpoint';
import { saveModel } from '../run/model_io';
import { startBackend } from '../run/backend_choice';
import { RunDir } from '../run/run_dir';
import { TrainingLogger } from '../track/training_logger';
import type { Callback } from './callbacks/callback';
import { EarlyStopping } from './callbacks/early_stopping';
import { MetricsLog } from './callbacks/metrics_log';
import { ModelCheckpoint } from './callbacks/model_checkpoint';
import { ProgressBar } from './callbacks/progress_bar';
import { ProgressLog } from './callbacks/progress_log';
import { ReduceLROnPlateau } from './callbacks/reduce_on_plateau';
import { resolveTrainConfig, type TrainConfig } from './config';
import { createLoaders, evaluationLoader, prepareData } from './data_setup';
import { createOptimizer, paramsOf, type Optimizer } from './optimizers';
import { createSchedule } from './schedules';
import type { TrainerState } from './state';
import { fit, trainableVariables } from './trainer';

/** Keys that may differ when resuming: they change where and how it runs, never what it computes. */
export const RESUME_OVERRIDABLE = ['backend', 'workers', 'progress', 'logEverySteps'] as const;

export interface TrainOptions {
  /** Continue this run directory from its last checkpoint (its config.json is the config). */
  resume?: string;
  /** Where progress and info lines go (default process.stdout). */
  out?: NodeJS.WriteStream;
}

export interface TrainResult {
  runDir: string;
  config: TrainConfig;
  backend: string;
  state: TrainerState;
  /** Evaluation of the final model on the validation split (or the training set without one). */
  report: EvaluationMetrics;
  /** The trained model; the caller owns it (dispose when done). */
  model: tfl.LayersModel;
}

/**
 * Trains a model per `config` (partial; defaults are the reference recipe) in a new run directory, or resumes
 * `options.resume`. Example: `const { runDir, report } = await train({ epochs: 2, limit: 2000 })`.
 */
export async function train(config: Partial<TrainConfig> | Record<string, unknown> = {}, options: TrainOptions = {}): Promise<TrainResult> {
  const out = options.out ?? process.stdout;
  const resumed = options.resume !== undefined ? RunDir.open(options.resume) : null;
  const resolved = resumed ? resumeConfig(resumed, config) : resolveTrainConfig(config);
  const say = (line: string) => {
    if (resolved.progress !== 'none') out.write(`${line}\n`);
  };

  const backend = await startBackend(resolved.backend);
  const data = await prepareData(resolved);
  const model = createModel(resolved.model, {
    inputShape: [data.train.height, data.train.width, 3], numClasses: data.classNames.length, classNames: data.classNames,
    normalization: data.normalization, seed: resolved.seed, dropout: resolved.dropout, depth: resolved.depth, width: resolved.width,
  });
  const loaders = createLoaders(resolved, data);
  const optimizer = createOptimizer(resolved.optimizer, paramsOf(trainableVariables(model)), resolved);
  let run: RunDir | null = null;
  let logger: TrainingLogger | null = null;
  try {
    const accumulation = resolved.gradAccumulation;
    const stepsPerEpoch = Math.ceil(loaders.train.batchesPerEpoch / accumulation);
    const schedule = createSchedule(resolved.schedule, { lr: resolved.lr, stepsPerEpoch, totalSteps: stepsPerEpoch * resolved.epochs }, resolved);
    const initialState = resumed ? await restoreFromCheckpoint(resumed, model, optimizer) : undefined;
    run = resumed ?? RunDir.create(resolved.runsDir, resolved);
    logger = resolved.tensorboard ? new TrainingLogger({
      logDir: run.dir, stepEvery: resolved.logEverySteps || 10,
      samples: { dataset: data.validation ?? data.train, normalization: data.normalization, classNames: data.classNames },
    }) : null;

    say(`${resumed ? 'Resuming' : 'Run'} ${run.dir}${initialState ? ` at epoch ${initialState.epoch + 1}` : ''}`);
    say(`  model ${resolved.model} (${model.countParams().toLocaleString('en-US')} parameters), backend ${backend}`);
    say(`  data: ${data.train.count} training images, ${data.validationDescription}, ${data.classNames.length} classes`);
    say(`  ${resolved.optimizer} lr ${resolved.lr} (${resolved.schedule}), batch ${resolved.batchSize}` +
      `${accumulation > 1 ? ` x ${accumulation} accumulated` : ''}, ${resolved.epochs} epoch${resolved.epochs === 1 ? '' : 's'}, seed ${resolved.seed}`);

    const state = await fit(model, loaders.train, {
      epochs: resolved.epochs, optimizer, schedule, labelSmoothing: resolved.labelSmoothing, gradAccumulation: accumulation,
      seed: resolved.seed, validation: loaders.validation, initialState, callbacks: callbacksFor(resolved, run, out, logger),
    });

    // The end of the run, in this order: report, model, and only then status 'completed'.
    const evalLoader = loaders.validation ?? evaluationLoader(resolved, data.train, data.normalization);
    let report: EvaluationMetrics;
    try {
      report = computeMetrics(await runInference(model, evalLoader), data.classNames, [resolved.topK]);
    } finally {
      if (evalLoader !== loaders.validation) await evalLoader.close();
    }
    await writeReport(run.reportDir, report, { split: data.validationDescription, model: run.modelDir });
    await logger?.logReport(report, run.reportDir);
    await saveModel(model, run.modelDir);
    run.setStatus('completed', {
      summary: {
        backend, epochs: state.epoch, steps: state.step, final: state.history[state.history.length - 1] ?? null,
        report: { split: data.validationDescription, loss: report.loss, accuracy: report.accuracy, topK: report.topK },
      },
    });
    say(`Report on ${data.validationDescription}: loss ${report.loss.toFixed(4)} - accuracy ${report.accuracy.toFixed(4)}` +
      `${Object.entries(report.topK).filter(([k]) => k !== '1').map(([k, v]) => ` - top-${k} ${v.toFixed(4)}`).join('')}`);
    say(`Model: ${run.modelDir}`);
    return { runDir: run.dir, config: resolved, backend, state, report, model };
  } catch (error) {
    run?.setStatus('failed', { error: (error as Error).message });
    logger?.close();
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
    await loaders.train.close();
    await loaders.validation?.close();
  }
}

/** The saved config of an unfinished run; `overrides` may only change how it runs (RESUME_OVERRIDABLE). */
function resumeConfig(run: RunDir, overrides: Record<string, unknown>): TrainConfig {
  const info = run.readInfo();
  if (info.status === 'completed') {
    throw ruleError('INSIGHT_E_RESUME', 'Only an unfinished run can be resumed.', { run: run.dir, status: info.status },
      'Start a new run; to train longer, start one with more --epochs.');
  }
  const changed = Object.keys(overrides).filter((key) => !(RESUME_OVERRIDABLE as readonly string[]).includes(key));
  if (changed.length > 0) {
    throw ruleError('INSIGHT_E_RESUME', `A resumed run continues with its saved config; only ${RESUME_OVERRIDABLE.join(', ')} may be given.`,
      Object.fromEntries(changed.map((key) => [key, overrides[key]])), 'Drop those settings, or start a new run with them.');
  }
  return resolveTrainConfig({ ...(run.readConfig() as object), ...overrides }, `config of ${run.dir}`);
}

/**
 * Loads `run`'s last checkpoint into `model` and `optimizer`, drops metrics logged after it, marks the run
 * running again, and returns the trainer state to continue from.
 */
async function restoreFromCheckpoint(run: RunDir, model: tfl.LayersModel, optimizer: Optimizer): Promise<TrainerState> {
  const checkpoint = await readCheckpoint<TrainerState>(run.lastCheckpoint);
  try {
    restoreWeights(model, checkpoint.weights, checkpoint.dir);
    optimizer.setState(checkpoint.optimizerState);
  } finally {
    tf.dispose(checkpoint.weights);
    tf.dispose(Object.values(checkpoint.optimizerState));
  }
  run.truncateMetrics(checkpoint.trainer.step);
  run.setStatus('running');
  return checkpoint.trainer;
}

/** Progress first (so notes follow the epoch line), then metrics, plateau, stopping; checkpoint last. */
function callbacksFor(config: TrainConfig, run: RunDir, out: NodeJS.WriteStream, logger: TrainingLogger | null): Callback[] {
  const callbacks: Callback[] = [];
  const progress = config.progress === 'auto' ? (out.isTTY ? 'bar' : 'log') : config.progress;
  if (progress === 'bar') callbacks.push(new ProgressBar(out));
  if (progress === 'log') callbacks.push(new ProgressLog(out, config.logEverySteps));
  callbacks.push(new MetricsLog(run, config.logEverySteps));
  if (logger) callbacks.push(logger);
  if (config.reducePatience > 0) {
    callbacks.push(new ReduceLROnPlateau({ monitor: config.monitor, factor: config.reduceFactor, patience: config.reducePatience, minLr: config.minLr }));
  }
  if (config.earlyStoppingPatience > 0) {
    callbacks.push(new EarlyStopping({ monitor: config.monitor, patience: config.earlyStoppingPatience }));
  }
  callbacks.push(new ModelCheckpoint({ lastDir: run.lastCheckpoint, bestDir: run.bestCheckpoint, monitor: config.monitor }));
  return callbacks;
}
