// `train(config)`: one whole run, as `insight train` does it — data, model, run directory, the training loop
// with its callbacks, then (only at the very end) the report, the model and status 'completed'. The model is a zoo
// architecture or your own (models/custom_model.ts): a LayersModel, a builder function, a module or a model.json;
// a resumed run rebuilds a custom model from its last checkpoint's topology.
// With WORLD_SIZE > 1 in the environment (torchrun's variables, set by `insight launch`) the process is one rank of a
// data-parallel group (train/distributed/): --batch-size is the global batch, each rank trains its slice of it, rank 0
// alone writes the run (checkpoints, tracking, progress, the report and model) and the others print only errors.
// The run is marked with the launch's id (INSIGHT_LAUNCH_ID), also in a one-worker launch, so a group the launcher
// restarts (TORCHELASTIC_RESTART_COUNT > 0) resumes its launch's run from its last checkpoint, or trains nothing when
// rank 0 had completed it. SIGINT/SIGTERM stop every rank at the same update, rank 0 saving checkpoints/last there.
import * as fs from 'node:fs';

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import type { DataLoader } from '../data';
import { ruleError } from '../errors';
import { computeMetrics, type EvaluationMetrics } from '../eval/metrics';
import { runInference } from '../eval/inference';
import { buildCustomModel, describeCustomSource, loadModelModule, resolveCustomModel, type CustomModel, type CustomModelSource } from '../models/custom_model';
import { recordTrainingDistribution, trainingDistributionOf } from '../models/metadata';
import { CUSTOM_MODEL, modelChoiceOf } from '../models/model_choice';
import { createModel } from '../models/registry';
import { readCheckpoint, restoreWeights, type LoadedCheckpoint } from '../run/checkpoint';
import { recordRunData } from '../run/dataset_source';
import { loadModel } from '../run/model_io';
import { RunDir } from '../run/run_dir';
import type { Callback, GradientHook } from './callbacks/callback';
import { EarlyStopping } from './callbacks/early_stopping';
import { ReduceLROnPlateau } from './callbacks/reduce_on_plateau';
import { RESUME_OVERRIDABLE, resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from './config';
import { createLoaders, evaluationLoader, prepareData, type RunData } from './data_setup';
import { DataParallel } from './distributed/data_parallel';
import { checkBatchSplits, launchPlace, type LaunchPlace } from './distributed/environment';
import { followerStop, holdSignals } from './distributed/follower';
import { joinGroup } from './distributed/join';
import { findLaunchRun, markLaunchRun } from './distributed/launch_run';
import { describeMixing, mixingOn, mixingTransform } from './mixing';
import { adversarialTraining, type AdversarialTraining } from './adversarial';
import { createOptimizer, paramsOf, type Optimizer } from './optimizers';
import { checkPrecision } from './precision';
import { createSchedule, type LearningRateSchedule } from './schedules';
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
  /**
   * Stop at SIGINT/SIGTERM after saving checkpoints/last and mark the run interrupted (default true, as the CLI
   * does); false leaves the process's own signal handling alone (a killed run then shows as crashed).
   */
  handleSignals?: boolean;
  /**
   * With `resume`: a run that a callback stopped before its last epoch (early stopping; a tune trial ASHA paused at a
   * rung) trains on from its last checkpoint to its epochs, on the same schedule. Without it, a completed run resumes
   * only to more epochs than it was given.
   */
  continueStopped?: boolean;
}

/**
 * train()'s config: TrainConfig's keys, all optional; `model` may also be your own model — a tf.layers LayersModel
 * or a ModelBuilder `(inputShape, numClasses, { seed, classNames }) => LayersModel` — as well as a zoo name or a
 * file (a .ts/.js module whose default export is a builder, or a model.json).
 */
export type TrainInput = Omit<Partial<TrainConfig>, 'model'> & { model?: string | CustomModel };

export interface TrainResult {
  runDir: string;
  config: TrainConfig;
  backend: string;
  state: TrainerState;
  /**
   * Evaluation of the final model on the validation split (or the training set without one). On a rank other than 0
   * of a data-parallel group, empty (count 0, figures NaN): rank 0 alone evaluates, after the group has parted, and
   * writes it to <runDir>/report/.
   */
  report: EvaluationMetrics;
  /** The trained model (the very object when you passed a LayersModel); the caller owns it (dispose when done). */
  model: tfl.LayersModel;
}

/**
 * Trains a model per `config` (partial; defaults are the reference recipe) in a new run directory, or resumes
 * `options.resume`. Example: `const { runDir, report } = await train({ epochs: 2, limit: 2000 })`; with a callback
 * and a gradient hook: `train(config, { callbacks: [{ name: 'seen', onEpochEnd: (logs) => console.log(logs.loss) }],
 * onGradients: (grads) => grads.map((g) => tf.clipByValue(g, -1, 1)) })`. Your own model: `train({ model: (inputShape,
 * numClasses, { seed }) => tfl.sequential({ layers: [...] }) })`, `train({ model: myLayersModel })` or
 * `train({ model: './my_model.ts' })`.
 */
export async function train(config: TrainInput | Record<string, unknown> = {}, options: TrainOptions = {}): Promise<TrainResult> {
  const place = launchPlace();
  const lead = place === null || place.rank === 0;
  // Rank 0 decides what the group trains: the others take its config, weights and state by broadcast.
  let resumed = options.resume !== undefined && lead ? RunDir.open(options.resume) : null;
  const { settings, given } = separateModel(config, resumed);
  let resolved = resumed ? resumeConfig(resumed, settings, options.continueStopped ?? false) : resolveTrainConfig(settings);
  // The launch's run, completed by rank 0 before this restart (a peer failed after it): trained no further.
  let finished: string | null = null;
  if (place !== null && lead && resumed === null) {
    resumed = launchRunToResume(place, resolved);
    if (resumed !== null && resumed.readInfo().status === 'completed') {
      finished = resumed.dir;
      resolved = resolveTrainConfig(resumed.readConfig() as Record<string, unknown>, `config of ${resumed.dir}`);
    } else if (resumed !== null) {
      // The restarted workers have the launch's own arguments: the run's saved config, with what a resume may change.
      const mayChange = new Set<string>([...RESUME_OVERRIDABLE, 'epochs']);
      resolved = resumeConfig(resumed, Object.fromEntries(Object.entries(settings).filter(([key]) => mayChange.has(key))));
    }
  }
  // A follower given --resume has not read the run's config (its batch size is rank 0's to check, after the broadcast).
  if (place !== null && (lead || options.resume === undefined)) checkBatchSplits(resolved.batchSize, place.worldSize);
  const session = await RunSession.start({
    backend: resolved.backend, progress: lead ? resolved.progress : 'none', out: options.out, handleSignals: lead ? options.handleSignals : false,
  });
  // A one-worker launch has no group to join; it still marks and resumes the launch's run.
  const group = place === null || place.worldSize === 1 ? null : await joinGroup(place, session.backend);
  // Rank 0 alone decides where the group stops at a signal the launcher forwarded to every rank.
  const releaseSignals = group !== null && !lead ? holdSignals() : null;
  let checkpoint: LoadedCheckpoint<TrainerState> | null = null;
  try {
    checkPrecision(resolved.precision, session.backend);
    const parallel = group === null ? null : new DataParallel(group);
    if (parallel !== null) {
      ({ config: resolved, finished } = await parallel.broadcastJson({ config: resolved, finished }, 'the run\'s config'));
      checkBatchSplits(resolved.batchSize, parallel.worldSize);
    }
    checkpoint = resumed ? await readCheckpoint<TrainerState>(resumed.lastCheckpoint) : null;
    const launch = { launchId: place?.launchId ?? null, finished };
    return await trainModel(resolved, session, resumed, checkpoint, given, options, parallel, launch);
  } finally {
    if (checkpoint !== null) tf.dispose([...checkpoint.weights, ...Object.values(checkpoint.optimizerState)]);
    group?.close();
    releaseSignals?.();
  }
}

/**
 * Rank 0 of a group the launcher restarted: its launch's run, when it has a checkpoint to resume or is completed
 * (null: start anew). A restart given a model object, not a name, rebuilds it from the checkpoint's topology, as a
 * resumed run does.
 */
function launchRunToResume(place: LaunchPlace, resolved: TrainConfig): RunDir | null {
  if (place.restartCount === 0 || place.launchId === null) return null;
  return findLaunchRun(resolved.runsDir, place.launchId);
}

/**
 * The run after its config, backend and (when resuming) checkpoint: model, data, loop, report, model/. `launch`: the
 * launch's id (null outside a launch) and its run when rank 0 had completed it before this restart (else null).
 */
async function trainModel(resolved: TrainConfig, session: RunSession, resumed: RunDir | null, checkpoint: LoadedCheckpoint<TrainerState> | null,
  given: { model: unknown } | null, options: TrainOptions, parallel: DataParallel | null, launch: { launchId: string | null; finished: string | null }): Promise<TrainResult> {
  const { launchId, finished } = launch;
  const lead = parallel === null || parallel.rank === 0;
  // A custom model's file and exports are checked before the data loads.
  const choice = modelChoiceOf(resolved.model);
  if (resumed === null && choice.kind !== 'zoo') checkNoZooOptions(resolved);
  const custom = resumed === null && choice.kind !== 'zoo' ? await resolveCustomModel(choice, given?.model) : null;
  const data = await prepareData(resolved);
  const { model, owned, label } = await runModel(resolved, data, custom, checkpoint);
  const loaders = createLoaders(resolved, data, parallel === null ? undefined : { rank: parallel.rank, count: parallel.worldSize });
  const optimizer = createOptimizer(resolved.optimizer, paramsOf(trainableVariables(model)), resolved);
  let adversarial: AdversarialTraining | null = null;
  try {
    const accumulation = resolved.gradAccumulation;
    const stepsPerEpoch = Math.ceil(loaders.train.batchesPerEpoch / accumulation);
    const schedule = createSchedule(resolved.schedule, { lr: resolved.lr, stepsPerEpoch, totalSteps: stepsPerEpoch * resolved.epochs }, resolved);
    let initialState = resumed && checkpoint ? restoreFromCheckpoint(resumed, checkpoint, model, optimizer, finished === null) : undefined;
    if (initialState !== undefined && options.continueStopped) initialState.stopTraining = false;
    if (parallel !== null) initialState = await parallel.start(model, optimizer, initialState);
    if (finished !== null) return finishedRun(finished, session, resolved, model, initialState!, lead, data.classNames);
    if (!lead) {
      adversarial = adversarialTraining(resolved, data.normalization, null, null);
      return await trainFollower(model, loaders, resolved, optimizer, schedule, initialState, options, parallel!, session.backend, data.classNames, adversarial);
    }
    const run = resumed ? session.resume(resumed, resolved) : session.create(resolved.runsDir, resolved);
    if (launchId !== null) markLaunchRun(run, launchId);
    if (parallel !== null) parallel.stopRequested = () => session.stopRequested;
    adversarial = adversarialTraining(resolved, data.normalization, data.validation, run.robustBestCheckpoint);
    const callbacks = session.callbacks([...monitorCallbacks(resolved), ...(adversarial?.guard ? [adversarial.guard] : []), ...(options.callbacks ?? [])], {
      monitor: resolved.monitor, logEverySteps: resolved.logEverySteps,
      stopAgreed: parallel === null ? undefined : () => parallel.stopAgreed,
      tensorboard: resolved.tensorboard ? {
        stepEvery: resolved.logEverySteps || 10,
        samples: { dataset: data.validation ?? data.train, normalization: data.normalization, classNames: data.classNames },
      } : null,
    });

    session.say(`${resumed ? 'Resuming' : 'Run'} ${run.dir}${initialState ? ` at epoch ${initialState.epoch + 1}` : ''}`);
    session.say(`  model ${label} (${model.countParams().toLocaleString('en-US')} parameters), backend ${session.backend}`);
    session.say(`  data: ${data.train.count} training images, ${data.validationDescription}, ${data.classNames.length} classes`);
    recordRunData(run, data.record, (line) => session.say(line));
    session.say(`  ${resolved.optimizer} lr ${resolved.lr} (${resolved.schedule}), batch ${resolved.batchSize}` +
      `${accumulation > 1 ? ` x ${accumulation} accumulated` : ''}, ${resolved.epochs} epoch${resolved.epochs === 1 ? '' : 's'}, seed ${resolved.seed}` +
      `${resolved.precision === 'bf16' ? ', bf16 mixed precision' : ''}`);
    if (parallel !== null) {
      session.say(`  data parallel: ${parallel.worldSize} processes x ${resolved.batchSize / parallel.worldSize} images a batch, ` +
        `gradients averaged in ${parallel.bucketCount} bucket${parallel.bucketCount === 1 ? '' : 's'}`);
    }
    if (mixingOn(resolved)) session.say(`  ${describeMixing(resolved)}`);
    for (const line of adversarial?.describe ?? []) session.say(`  ${line}`);

    const state = await fit(model, loaders.train, {
      epochs: resolved.epochs, optimizer, schedule, labelSmoothing: resolved.labelSmoothing, gradAccumulation: accumulation,
      seed: resolved.seed, validation: loaders.validation, initialState, callbacks, onGradients: options.onGradients,
      parallel: parallel ?? undefined, adaptiveThreads: resolved.adaptiveThreads, precision: resolved.precision, transform: adversarial?.transform ?? mixingTransform(resolved, resolved.labelSmoothing),
      epochMetrics: adversarial?.epochMetrics,
    });
    // The other ranks part here with the run's directory: rank 0's evaluation and writes need no group (and may
    // take longer than its collective timeout).
    await parallel?.broadcastJson({ runDir: run.dir }, 'the run\'s directory');

    const evalLoader = loaders.validation ?? evaluationLoader(resolved, data.train, data.normalization);
    let report: EvaluationMetrics;
    try {
      report = computeMetrics(await runInference(model, evalLoader), data.classNames, [resolved.topK]);
    } finally {
      if (evalLoader !== loaders.validation) await evalLoader.close();
    }
    await session.report(report, data.validationDescription);
    // For drift monitoring when served (serve/monitoring/drift.ts).
    recordTrainingDistribution(model, trainingDistributionOf(data.train.images, data.train.labels, data.classNames.length, data.normalization));
    await session.complete(model, {
      summary: {
        epochs: state.epoch, steps: state.step, final: state.history[state.history.length - 1] ?? null,
        ...(parallel !== null ? { worldSize: parallel.worldSize } : {}), ...(launchId !== null ? { launchId } : {}),
        ...(adversarial?.guard ? { robustGuard: adversarial.guard.record() } : {}),
      },
    });
    return { runDir: run.dir, config: resolved, backend: session.backend, state, report, model };
  } catch (error) {
    if (lead) session.fail(error);
    if (owned) model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
    await loaders.train.close();
    await loaders.validation?.close();
    await adversarial?.dispose();
  }
}

/**
 * A rank other than 0 of a data-parallel group: the same loop on its slice of every batch, with no run directory,
 * no output, no validation and no callbacks of its own (rank 0's decisions reach it after every epoch, its stop at
 * a signal with the update's allreduce); it ends with rank 0's run directory and an empty report. With adversarial
 * training it trains on its own adversarial examples; the guard is rank 0's (its stop reaches every rank).
 */
async function trainFollower(model: tfl.LayersModel, loaders: { train: DataLoader }, resolved: TrainConfig, optimizer: Optimizer,
  schedule: LearningRateSchedule, initialState: TrainerState | undefined, options: TrainOptions, parallel: DataParallel, backend: string,
  classNames: string[], adversarial: AdversarialTraining | null): Promise<TrainResult> {
  const state = await fit(model, loaders.train, {
    epochs: resolved.epochs, optimizer, schedule, labelSmoothing: resolved.labelSmoothing, gradAccumulation: resolved.gradAccumulation,
    seed: resolved.seed, initialState, onGradients: options.onGradients, parallel, callbacks: [followerStop(parallel)],
    precision: resolved.precision, transform: adversarial?.transform ?? mixingTransform(resolved, resolved.labelSmoothing),
  });
  const { runDir } = await parallel.broadcastJson({ runDir: '' }, 'the run\'s directory');
  return { runDir, config: resolved, backend, state, report: emptyReport(classNames), model };
}

/**
 * A launch's run that rank 0 completed before this restart: nothing is trained again. Every rank returns its model
 * (the last checkpoint's weights, which are model/'s) and state; rank 0 says so and returns the run's report.
 */
function finishedRun(runDir: string, session: RunSession, resolved: TrainConfig, model: tfl.LayersModel, state: TrainerState, lead: boolean,
  classNames: string[]): TrainResult {
  let report = emptyReport(classNames);
  if (lead) {
    const run = RunDir.open(runDir);
    session.say(`Run ${run.dir} of this launch was completed before the restart (epoch ${state.epoch}, step ${state.step}): nothing to train.`);
    report = JSON.parse(fs.readFileSync(run.reportMetricsJson, 'utf8')) as EvaluationMetrics;
  }
  return { runDir, config: resolved, backend: session.backend, state, report, model };
}

/** The report of a rank that evaluated nothing: count 0, its figures NaN. */
function emptyReport(classNames: string[]): EvaluationMetrics {
  return {
    count: 0, loss: NaN, accuracy: NaN, topK: {}, perClass: [], macro: { precision: NaN, recall: NaN, f1: NaN }, classNames,
    confusion: classNames.map(() => classNames.map(() => 0)),
  };
}

/**
 * The config keys of `config`, with a model passed as an object or function taken out (`given`) and recorded as
 * model 'custom'. A resumed run takes no model: it rebuilds its own.
 */
function separateModel(config: Record<string, unknown>, resumed: RunDir | null): { settings: Record<string, unknown>; given: { model: unknown } | null } {
  const model = config.model;
  if (model === undefined || typeof model === 'string') {
    if (model === CUSTOM_MODEL && resumed === null) {
      throw ruleError('INSIGHT_E_CONFIG', `model '${CUSTOM_MODEL}' is what a run records for a model passed to train() as an object or function; it names no model by itself.`,
        { model }, 'Pass the model itself (train({ model: myModel }) or a builder function), a zoo name, or a file (--model ./my_model.ts).');
    }
    return { settings: config, given: null };
  }
  if (resumed !== null) {
    throw ruleError('INSIGHT_E_RESUME', `A resumed run continues with its saved config; only ${RESUME_OVERRIDABLE.join(', ')} and epochs may be given.`,
      { model: typeof model === 'function' ? `function ${model.name || '(anonymous)'}` : typeof model }, 'Drop model: a resumed run rebuilds its model from its last checkpoint.');
  }
  return { settings: { ...config, model: CUSTOM_MODEL }, given: { model } };
}

/** depth, width and dropout build the zoo's models; a custom model has its own, so they may not be set for one. */
function checkNoZooOptions(config: TrainConfig): void {
  const set = (['depth', 'width', 'dropout'] as const).filter((key) => config[key] !== TRAIN_DEFAULTS[key]);
  if (set.length > 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'depth, width and dropout configure the zoo\'s models; a custom model is built as its builder or file says.',
      { model: config.model, ...Object.fromEntries(set.map((key) => [key, config[key]])) }, 'Build them into your model, or drop those settings.');
  }
}

/**
 * The model to train and how to name it: a zoo model built for the data, a custom one built or checked for it,
 * or — resuming a custom model — the last checkpoint's topology (after loading its module again, which registers
 * any layer classes of its own). `owned`: Insight made it, so it disposes it if the run fails.
 */
async function runModel(config: TrainConfig, data: RunData, custom: CustomModelSource | null, checkpoint: LoadedCheckpoint<TrainerState> | null):
  Promise<{ model: tfl.LayersModel; owned: boolean; label: string }> {
  const inputShape: [number, number, number] = [data.train.height, data.train.width, 3];
  const choice = modelChoiceOf(config.model);
  if (choice.kind === 'zoo') {
    const model = createModel(choice.name, {
      inputShape, numClasses: data.classNames.length, classNames: data.classNames,
      normalization: data.normalization, seed: config.seed, dropout: config.dropout, depth: config.depth, width: config.width,
    });
    return { model, owned: true, label: choice.name };
  }
  if (custom !== null) {
    const model = await buildCustomModel(custom, { inputShape, classNames: data.classNames, normalization: data.normalization, seed: config.seed });
    return { model, owned: typeof custom.value === 'function', label: `custom ${describeCustomSource(custom)}` };
  }
  if (choice.kind === 'module' && fs.existsSync(choice.path)) loadModelModule(choice.path);
  const model = await loadModel(checkpoint!.dir);
  return { model, owned: true, label: `custom ${choice.kind === 'custom' ? `'${model.name}'` : choice.path} (from the checkpoint's topology)` };
}

/**
 * The saved config of a run to resume; `overrides` may only change how it runs (RESUME_OVERRIDABLE), and `epochs`: a
 * larger target extends the run, and a completed run resumes only so (RunSession.checkResumable), unless
 * `continueStopped` (it was stopped before its epochs).
 */
function resumeConfig(run: RunDir, overrides: Record<string, unknown>, continueStopped = false): TrainConfig {
  const changed = Object.keys(overrides).filter((key) => key !== 'epochs' && !(RESUME_OVERRIDABLE as readonly string[]).includes(key));
  if (changed.length > 0) {
    throw ruleError('INSIGHT_E_RESUME', `A resumed run continues with its saved config; only ${RESUME_OVERRIDABLE.join(', ')} and epochs may be given.`,
      Object.fromEntries(changed.map((key) => [key, overrides[key]])), 'Drop those settings, or start a new run with them.');
  }
  const saved = run.readConfig() as Record<string, unknown>;
  const resolved = resolveTrainConfig({ ...saved, ...overrides }, `config of ${run.dir}`);
  RunSession.checkResumable(run, typeof saved.epochs === 'number' ? saved.epochs : resolved.epochs, resolved.epochs, continueStopped);
  return resolved;
}

/**
 * Loads `run`'s last checkpoint (read by the caller, who disposes its tensors) into `model` and `optimizer` and
 * returns the trainer state to continue from; `continues`: also drops metrics logged after it and marks the run
 * running again (false for a completed run that is not trained further).
 */
function restoreFromCheckpoint(run: RunDir, checkpoint: LoadedCheckpoint<TrainerState>, model: tfl.LayersModel, optimizer: Optimizer, continues = true): TrainerState {
  restoreWeights(model, checkpoint.weights, checkpoint.dir);
  optimizer.setState(checkpoint.optimizerState);
  if (continues) {
    run.truncateMetrics(checkpoint.trainer.step);
    run.setStatus('running');
  }
  return checkpoint.trainer;
}

/** Reduce-on-plateau, then early stopping, as the config turns them on. */
/** ReduceLROnPlateau and EarlyStopping as the recipe asks (none at their defaults). */
export function monitorCallbacks(config: TrainConfig): Callback[] {
  const callbacks: Callback[] = [];
  if (config.reducePatience > 0) {
    callbacks.push(new ReduceLROnPlateau({ monitor: config.monitor, factor: config.reduceFactor, patience: config.reducePatience, minLr: config.minLr }));
  }
  if (config.earlyStoppingPatience > 0) {
    callbacks.push(new EarlyStopping({ monitor: config.monitor, patience: config.earlyStoppingPatience }));
  }
  return callbacks;
}
