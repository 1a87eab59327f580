// The training loop: Keras's fit, written out so every part is ours — micro-batches from the DataLoader
// (train_step.ts), gradient accumulation (gradient_accumulator.ts), an optional gradient hook, the schedule's
// learning rate, our optimizers, validation after each epoch and callbacks around it all (callback_list.ts).
// Every source of randomness is a function of (seed, epoch, step), so a run restored from a checkpoint continues
// bit for bit — also from a checkpoint taken inside an epoch (state.inEpoch): the loader starts that epoch at the
// first batch not yet trained (its order and augmentation are functions of (seed, epoch, batch), so the batches
// before are never rendered) and the epoch's running sums continue.
// Data parallel (options.parallel, train/distributed/): each rank trains its slice of every global batch, and at
// every update the gradients and the batch sums are averaged across ranks before the optimizer applies them, so every
// rank applies the same update; after every epoch rank 0's decisions (early stopping, learning-rate scale) are shared.
// libtorch's thread count follows contention while training (thread_governor.ts) and is put back when fit ends.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import type { DataLoader } from '../data';
import { ruleError } from '../errors';
import { argmaxRows } from '../math/top_k';
import { runInference } from '../eval/inference';
import { accuracy } from '../eval/metrics';
import type { Callback, GradientHook, TrainingContext, UpdateInfo } from './callbacks/callback';
import { CallbackList } from './callbacks/callback_list';
import { GradientAccumulator } from './gradient_accumulator';
import type { BatchSums, DataParallel } from './distributed/data_parallel';
import type { Optimizer } from './optimizers';
import { withPrecision, type Precision } from './precision';
import type { LearningRateSchedule } from './schedules';
import { initialTrainerState, type BatchLogs, type EpochLogs, type TrainerState } from './state';
import { ThreadGovernor } from './thread_governor';
import { trainStep, type BatchLoss, type BatchTransform } from './train_step';

export interface FitOptions {
  /**
   * Train until this many epochs are complete (counting epochs done before a resume). More than a resumed state's
   * own target extends the run, as Keras's initial_epoch: training continues even if early stopping had ended it.
   */
  epochs: number;
  /** Updates the model's trainable variables (construct it over `trainableVariables(model)`). */
  optimizer: Optimizer;
  schedule: LearningRateSchedule;
  /** Keras-style label smoothing of the training loss (0 = none). */
  labelSmoothing?: number;
  /** Micro-batches per optimizer update (1 = none); gradients are averaged weighted by batch size. */
  gradAccumulation?: number;
  /** Seeds dropout; the loaders carry their own seed. */
  seed?: number;
  /** Run in order at every hook; put ModelCheckpoint last so it stores the others' updated state. */
  callbacks?: Callback[];
  /** May replace each update's averaged gradients before callbacks see them and the optimizer applies them. */
  onGradients?: GradientHook;
  /** Evaluated after every epoch (val_loss, val_accuracy) when given. */
  validation?: DataLoader | null;
  /**
   * More figures measured after every epoch's validation and merged into its logs before the callbacks see them
   * (progress, metrics.jsonl, TensorBoard), e.g. adversarial training's val_robust_accuracy.
   */
  epochMetrics?: (model: tfl.LayersModel, epochIndex: number) => Promise<Partial<EpochLogs>>;
  /** Continue from a checkpoint's trainer state (callback states are restored from it). */
  initialState?: TrainerState;
  /** A scalar added to every batch's training loss (a regularizer such as L2-SP), computed inside the gradient tape. */
  penalty?: () => tf.Scalar;
  /**
   * Replaces the training loss (cross-entropy with the labels, label smoothing included) for every micro-batch, e.g.
   * knowledge distillation's; validation still reports the cross-entropy.
   */
  loss?: BatchLoss;
  /** Rewrites every training micro-batch before its forward pass (adversarial examples, Mixup/CutMix); not validation. */
  transform?: BatchTransform;
  /** Data-parallel training: this process is one rank of a group (train/distributed/data_parallel.ts). */
  parallel?: DataParallel;
  /**
   * Adapt libtorch's thread count to contention (thread_governor.ts): all threads while the machine is quiet, fewer
   * while another process competes (default false: the count changes the summation order of convolution gradients,
   * so a run is then repeatable to float rounding only). Fixed anyway when INSIGHT_TORCH_THREADS is set or in data parallel.
   */
  adaptiveThreads?: boolean;
  /**
   * The precision of the training passes' convolutions and matrix products (precision.ts; default fp32). bf16 is mixed
   * precision: weights, optimizer state and validation stay float32.
   */
  precision?: Precision;
}

/** The tf.Variables behind model.trainableWeights, in order. */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Trains `model` on `train` batches (x: [size, H, W, 3] float32, y: [size] int32) and returns the final state.
 * Example: `await fit(model, loader, { epochs: 10, optimizer: new Adam(paramsOf(trainableVariables(model))),
 *   schedule: new ConstantSchedule(1e-3), validation: valLoader })`.
 */
export async function fit(model: tfl.LayersModel, train: DataLoader, options: FitOptions): Promise<TrainerState> {
  const callbacks = new CallbackList(options.callbacks ?? []);
  const state: TrainerState = options.initialState
    ? structuredClone(options.initialState)
    : initialTrainerState(options.seed ?? 0);
  if (options.initialState) {
    if (options.epochs < state.epoch) {
      throw ruleError('INSIGHT_E_RESUME', 'A resumed run trains to an epoch count no smaller than the epochs it has completed.',
        { epochs: options.epochs, completed: state.epoch }, `Pass --epochs ${state.epoch} or more.`);
    }
    if (options.epochs > (state.epochs ?? options.epochs)) state.stopTraining = false;
    callbacks.restore(state);
  }
  state.epochs = options.epochs;
  state.inEpoch ??= null;
  const accumulation = options.gradAccumulation ?? 1;
  const batchesPerEpoch = train.batchesPerEpoch;
  const ctx: TrainingContext = {
    model,
    optimizer: options.optimizer,
    state,
    epochs: options.epochs,
    batchesPerEpoch,
    stepsPerEpoch: Math.ceil(batchesPerEpoch / accumulation),
    scheduledLr: (step) => options.schedule.lrAt(step),
    snapshot: () => callbacks.snapshot(state),
    note: (message) => callbacks.note(message),
  };
  const threads = ThreadGovernor.forFit({ adaptive: options.adaptiveThreads ?? false, parallel: options.parallel !== undefined, note: ctx.note });
  const epochs = new EpochRunner(model, train, options, callbacks, ctx, new GradientAccumulator(accumulation), threads);

  try {
    await callbacks.trainBegin(ctx);
    for (let epochIndex = state.epoch; epochIndex < options.epochs && !state.stopTraining; epochIndex++) {
      await callbacks.epochBegin(epochIndex, ctx);
      const started = performance.now() - (state.inEpoch?.seconds ?? 0) * 1000;
      const allreduceBefore = options.parallel?.allreduceSeconds ?? 0;
      const logs = await withPrecision(options.precision ?? 'fp32', () => epochs.train(epochIndex, started));
      if (options.parallel) logs.allreduceSeconds = options.parallel.allreduceSeconds - allreduceBefore;
      if (options.validation) {
        const result = await runInference(model, options.validation);
        logs.val_loss = result.loss;
        logs.val_accuracy = accuracy(result.labels, argmaxRows(result.probabilities, result.numClasses));
      }
      if (options.epochMetrics) Object.assign(logs, await options.epochMetrics(model, epochIndex));
      logs.seconds = (performance.now() - started) / 1000;
      state.epoch = epochIndex + 1;
      state.inEpoch = null;
      state.history.push(logs);
      await callbacks.epochEnd(logs, ctx);
      await options.parallel?.shareDecisions(state);
    }
    await callbacks.trainEnd(ctx);
  } finally {
    threads?.restore();
  }
  return state;
}

/** One epoch's pass over the training batches: micro-batch steps, updates when due, batch logs. */
class EpochRunner {
  private readonly variables: tf.Variable[];
  private readonly height: number;
  private readonly width: number;

  constructor(
    private readonly model: tfl.LayersModel, private readonly loader: DataLoader, private readonly options: FitOptions,
    private readonly callbacks: CallbackList, private readonly ctx: TrainingContext, private readonly accumulator: GradientAccumulator,
    private readonly threads: ThreadGovernor | null,
  ) {
    this.variables = trainableVariables(model);
    [this.height, this.width] = model.inputs[0].shape.slice(1, 3) as number[];
  }

  /**
   * Trains epoch `epochIndex` (0-based) and returns its logs without validation; `started` is its start time. A
   * state saved inside this epoch (state.inEpoch) starts after the batches it had trained and continues its sums.
   */
  async train(epochIndex: number, started: number): Promise<EpochLogs> {
    const { state, batchesPerEpoch } = this.ctx;
    const resumed = state.inEpoch ?? null;
    let seen = resumed?.seen ?? 0;
    let lossSum = resumed?.lossSum ?? 0;
    let correctSum = resumed?.correctSum ?? 0;
    // The micro-batches' sums since the last update (this rank's: data parallel reduces them at the update).
    let pending: BatchSums = { loss: 0, correct: 0, seen: 0 };
    let batch = resumed?.batch ?? 0; // batches trained before the checkpoint: the loader starts after them
    let lr = resumed?.lr ?? this.lrNow();
    this.threads?.epochStart();
    try {
      for await (const b of this.loader.epoch(epochIndex, { startBatch: batch })) {
        batch++;
        // A data-parallel rank's slice of a short last batch may be empty: it adds nothing to the update.
        const step = b.size === 0 ? emptyStep(this.variables) : await trainStep(this.model, this.variables, b, {
          height: this.height, width: this.width, labelSmoothing: this.options.labelSmoothing ?? 0,
          seed: state.seed, step: state.step, microBatch: this.accumulator.microBatch, rank: this.options.parallel?.rank,
          penalty: this.options.penalty, loss: this.options.loss, transform: this.options.transform,
        });
        pending = { loss: pending.loss + step.loss * b.size, correct: pending.correct + step.correct, seen: pending.seen + b.size };
        this.accumulator.add(step.grads, b.size);
        const lastOfEpoch = batch === batchesPerEpoch;
        if (this.accumulator.isDue(lastOfEpoch)) {
          lr = this.lrNow();
          const sums = await this.update(lr, epochIndex, lastOfEpoch, pending);
          this.threads?.afterUpdate(pending.seen);
          lossSum += sums.loss;
          correctSum += sums.correct;
          seen += sums.seen;
          pending = { loss: 0, correct: 0, seen: 0 };
        }
        const seconds = (performance.now() - started) / 1000;
        // At an update the weights hold every batch so far: a checkpoint here (every N steps, at a signal) can continue.
        if (this.accumulator.microBatch === 0) state.inEpoch = { batch, seen, lossSum, correctSum, lr, seconds };
        const logs: BatchLogs = {
          epochIndex, batch, batchesPerEpoch, step: state.step, loss: (lossSum + pending.loss) / (seen + pending.seen),
          accuracy: (correctSum + pending.correct) / (seen + pending.seen), lr, imagesPerSecond: (seen + pending.seen) / Math.max(seconds, 1e-9), seconds,
        };
        await this.callbacks.batchEnd(logs, this.ctx);
      }
    } finally {
      this.accumulator.dispose();
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      epoch: epochIndex + 1, step: state.step, loss: lossSum / seen, accuracy: correctSum / seen, lr,
      seconds, imagesPerSecond: seen / Math.max(seconds, 1e-9), ...(this.threads ? { threads: this.threads.epochThreads() } : {}),
    };
  }

  /** The learning rate of the next update: the schedule's at the current step, times reduce-on-plateau's scale. */
  private lrNow(): number {
    return this.options.schedule.lrAt(this.ctx.state.step) * this.ctx.state.lrScale;
  }

  /**
   * One optimizer update from the accumulated gradients: averaged across ranks (data parallel), gradient hook,
   * callbacks look, optimizer applies. `local`: the sums of the update's micro-batches; returns them over all ranks.
   */
  private async update(lr: number, epochIndex: number, lastOfEpoch: boolean, local: BatchSums): Promise<BatchSums> {
    const taken = this.accumulator.take();
    let grads = taken.grads;
    let sums = local;
    const parallel = this.options.parallel;
    if (parallel) {
      try {
        ({ grads, sums } = await parallel.reduce(taken.grads, local));
      } finally {
        tf.dispose(taken.grads);
      }
    }
    const info: UpdateInfo = { epochIndex, step: this.ctx.state.step + 1, lastOfEpoch, examples: parallel ? sums.seen : taken.examples };
    let applied: readonly tf.Tensor[] = grads;
    try {
      const hook = this.options.onGradients;
      if (hook) applied = (await hook(grads, info, this.ctx)) ?? grads; // no await (microtask) without a hook
      if (applied.length !== grads.length) {
        throw ruleError('INSIGHT_E_CONFIG', 'A gradient hook must return one gradient per trainable weight, in order.',
          { returned: applied.length, trainableWeights: grads.length }, 'Return grads.map(...) (or nothing to keep them).');
      }
      this.callbacks.gradients(applied, info, this.ctx);
      this.options.optimizer.apply(applied as tf.Tensor[], lr);
    } finally {
      tf.dispose(grads);
      if (applied !== grads) tf.dispose(applied as tf.Tensor[]);
    }
    this.ctx.state.step++;
    return sums;
  }
}

/** The step of an empty micro-batch: zero gradients, nothing seen. */
function emptyStep(variables: tf.Variable[]): { grads: tf.Tensor[]; loss: number; correct: number } {
  return { grads: variables.map((v) => tf.zerosLike(v)), loss: 0, correct: 0 };
}
