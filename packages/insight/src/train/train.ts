// `train(config)`: one whole run, as `insight train` does it — data, model, run directory, the training loop
// with its callbacks, then (only at the very end) the report, the model and status 'completed'.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { ruleError } from '../errors';
import { computeMetrics, type EvaluationMetrics } from '../eval/metrics';
import { runInference } from '../eval/inference';
import { createModel } from '../models/registry';
import { readCheckpoint, restoreWeights } from '../run/checkpoint';
import { RunDir } from '../run/run_dir';
import type { Callback, GradientHook } from './callbacks/callback';
import { EarlyStopping } from './callbacks/early_stopping';
import { ReduceLROnPlateau } from './callbacks/reduce_on_plateau';
import { RESUME_OVERRIDABLE, resolveTrainConfig, type TrainConfig } from './config';
import { createLoaders, evaluationLoader, prepareData } from './data_setup';
import { createOptimizer, paramsOf, type Optimizer } from './optimizers';
import { createSchedule } from './schedules';
import { RunSession } from './session';
import type { TrainerState } from './state';
import { fit, trainableVariables } from './trainer';

export interface TrainOptions {
  /** Continue this run directory from its last checkpoint (its config.json is the config). */
  resume?: string;
  /** Where progress and info lines go (default process.stdout). */
  out?: NodeJS.WriteStream;
  /**
   * Your callbacks, run after the built-in ones (progress, metrics, TensorBoard, plateau, stopping) and before the
   * checkpoint, which stores their getState() so a resumed run restores it (by name: give each a unique one).
   */
  callbacks?: Callback[];
  /** Sees, and may replace, every update's averaged gradients before the optimizer applies them (see GradientHook). */
  onGradients?: GradientHook;
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
 * `options.resume`. Example: `const { runDir, report } = await train({ epochs: 2, limit: 2000 })`; with a callback
 * and a gradient hook: `train(config, { callbacks: [{ name: 'seen', onEpochEnd: (logs) => console.log(logs.loss) }],
 * onGradients: (grads) => grads.map((g) => tf.clipByValue(g, -1, 1)) })`.
 */
export async function train(config: Partial<TrainConfig> | Record<string, unknown> = {}, options: TrainOptions = {}): Promise<TrainResult> {
  const resumed = options.resume !== undefined ? RunDir.open(options.resume) : null;
  const resolved = resumed ? resumeConfig(resumed, config) : resolveTrainConfig(config);
  const session = await RunSession.start({ backend: resolved.backend, progress: resolved.progress, out: options.out });
  const data = await prepareData(resolved);
  const model = createModel(resolved.model, {
    inputShape: [data.train.height, data.train.width, 3], numClasses: data.classNames.length, classNames: data.classNames,
    normalization: data.normalization, seed: resolved.seed, dropout: resolved.dropout, depth: resolved.depth, width: resolved.width,
  });
  const loaders = createLoaders(resolved, data);
  const optimizer = createOptimizer(resolved.optimizer, paramsOf(trainableVariables(model)), resolved);
  try {
    const accumulation = resolved.gradAccumulation;
    const stepsPerEpoch = Math.ceil(loaders.train.batchesPerEpoch / accumulation);
    const schedule = createSchedule(resolved.schedule, { lr: resolved.lr, stepsPerEpoch, totalSteps: stepsPerEpoch * resolved.epochs }, resolved);
    const initialState = resumed ? await restoreFromCheckpoint(resumed, model, optimizer) : undefined;
    const run = resumed ? session.resume(resumed) : session.create(resolved.runsDir, resolved);
    const callbacks = session.callbacks([...monitorCallbacks(resolved), ...(options.callbacks ?? [])], {
      monitor: resolved.monitor, logEverySteps: resolved.logEverySteps,
      tensorboard: resolved.tensorboard ? {
        stepEvery: resolved.logEverySteps || 10,
        samples: { dataset: data.validation ?? data.train, normalization: data.normalization, classNames: data.classNames },
      } : null,
    });

    session.say(`${resumed ? 'Resuming' : 'Run'} ${run.dir}${initialState ? ` at epoch ${initialState.epoch + 1}` : ''}`);
    session.say(`  model ${resolved.model} (${model.countParams().toLocaleString('en-US')} parameters), backend ${session.backend}`);
    session.say(`  data: ${data.train.count} training images, ${data.validationDescription}, ${data.classNames.length} classes`);
    session.say(`  ${resolved.optimizer} lr ${resolved.lr} (${resolved.schedule}), batch ${resolved.batchSize}` +
      `${accumulation > 1 ? ` x ${accumulation} accumulated` : ''}, ${resolved.epochs} epoch${resolved.epochs === 1 ? '' : 's'}, seed ${resolved.seed}`);

    const state = await fit(model, loaders.train, {
      epochs: resolved.epochs, optimizer, schedule, labelSmoothing: resolved.labelSmoothing, gradAccumulation: accumulation,
      seed: resolved.seed, validation: loaders.validation, initialState, callbacks, onGradients: options.onGradients,
    });

    const evalLoader = loaders.validation ?? evaluationLoader(resolved, data.train, data.normalization);
    let report: EvaluationMetrics;
    try {
      report = computeMetrics(await runInference(model, evalLoader), data.classNames, [resolved.topK]);
    } finally {
      if (evalLoader !== loaders.validation) await evalLoader.close();
    }
    await session.report(report, data.validationDescription);
    await session.complete(model, {
      summary: { epochs: state.epoch, steps: state.step, final: state.history[state.history.length - 1] ?? null },
    });
    return { runDir: run.dir, config: resolved, backend: session.backend, state, report, model };
  } catch (error) {
    session.fail(error);
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

/** Reduce-on-plateau, then early stopping, as the config turns them on. */
function monitorCallbacks(config: TrainConfig): Callback[] {
  const callbacks: Callback[] = [];
  if (config.reducePatience > 0) {
    callbacks.push(new ReduceLROnPlateau({ monitor: config.monitor, factor: config.reduceFactor, patience: config.reducePatience, minLr: config.minLr }));
  }
  if (config.earlyStoppingPatience > 0) {
    callbacks.push(new EarlyStopping({ monitor: config.monitor, patience: config.earlyStoppingPatience }));
  }
  return callbacks;
}
