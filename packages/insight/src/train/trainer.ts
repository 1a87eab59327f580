// The training loop: Keras's fit, written out so every part is ours — micro-batches from the DataLoader,
// tf.variableGrads for the gradients, gradient accumulation, the schedule's learning rate, our optimizers,
// validation after each epoch and callbacks around it all. Every source of randomness is a function of
// (seed, epoch, step), so a run restored from a checkpoint continues bit for bit.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import type { DataLoader } from '../data';
import { argmaxRows } from '../math/top_k';
import { runInference } from '../eval/inference';
import { accuracy } from '../eval/metrics';
import type { Callback, TrainingContext } from './callbacks/callback';
import { seedDropout } from './dropout_seeds';
import { gradientStep } from './gradient_step';
import type { Optimizer } from './optimizers';
import type { LearningRateSchedule } from './schedules';
import { initialTrainerState, type BatchLogs, type EpochLogs, type TrainerState } from './state';

export interface FitOptions {
  /** Train until this many epochs are complete (counting epochs done before a resume). */
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
  /** Evaluated after every epoch (val_loss, val_accuracy) when given. */
  validation?: DataLoader | null;
  /** Continue from a checkpoint's trainer state (callback states are restored from it). */
  initialState?: TrainerState;
  /** A scalar added to every batch's training loss (a regularizer such as L2-SP), computed inside the gradient tape. */
  penalty?: () => tf.Scalar;
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
  const callbacks = options.callbacks ?? [];
  const accumulation = options.gradAccumulation ?? 1;
  const labelSmoothing = options.labelSmoothing ?? 0;
  const state: TrainerState = options.initialState
    ? structuredClone(options.initialState)
    : initialTrainerState(options.seed ?? 0);
  if (options.initialState) {
    for (const cb of callbacks) {
      const saved = state.callbacks[cb.name];
      if (saved !== undefined && cb.setState) cb.setState(saved);
    }
  }
  const variables = trainableVariables(model);
  const [height, width] = model.inputs[0].shape.slice(1, 3) as number[];
  const batchesPerEpoch = train.batchesPerEpoch;
  const ctx: TrainingContext = {
    model,
    optimizer: options.optimizer,
    state,
    epochs: options.epochs,
    batchesPerEpoch,
    stepsPerEpoch: Math.ceil(batchesPerEpoch / accumulation),
    scheduledLr: (step) => options.schedule.lrAt(step),
    snapshot: () => {
      const copy = structuredClone(state);
      for (const cb of callbacks) if (cb.getState) copy.callbacks[cb.name] = cb.getState();
      return copy;
    },
    note: (message) => {
      for (const cb of callbacks) cb.onNote?.(message);
    },
  };
  const run = async <K extends 'onTrainBegin' | 'onTrainEnd'>(hook: K) => {
    for (const cb of callbacks) await cb[hook]?.(ctx);
  };

  await run('onTrainBegin');
  for (let epochIndex = state.epoch; epochIndex < options.epochs && !state.stopTraining; epochIndex++) {
    for (const cb of callbacks) await cb.onEpochBegin?.(epochIndex, ctx);
    const started = performance.now();
    let seen = 0;
    let lossSum = 0;
    let correctSum = 0;
    let batch = 0;
    let lr = options.schedule.lrAt(state.step) * state.lrScale;
    // Gradient accumulation: sums of size-weighted micro-batch gradients, and the examples they cover.
    let pending: tf.Tensor[] | null = null;
    let pendingCount = 0;
    let micro = 0;

    for await (const b of train.epoch(epochIndex)) {
      batch++;
      const x = tf.tensor4d(b.x, [b.size, height, width, 3]);
      const y = tf.tensor1d(b.y, 'int32');
      const restoreSeeds = seedDropout(model, state.seed, state.step, micro);
      let step;
      try {
        step = gradientStep(model, variables, x, y, labelSmoothing, options.penalty);
      } finally {
        restoreSeeds();
        tf.dispose([x, y]);
      }
      const [lossValue, correctValue] = await Promise.all([step.loss.data(), step.correct.data()]);
      tf.dispose([step.loss, step.correct]);
      lossSum += lossValue[0] * b.size;
      correctSum += correctValue[0];
      seen += b.size;

      let grads: tf.Tensor[];
      if (accumulation === 1) {
        grads = step.grads;
      } else {
        const weighted = tf.tidy(() => step.grads.map((g, i) => (pending ? tf.add(pending[i], tf.mul(g, b.size)) : tf.mul(g, b.size))));
        tf.dispose(step.grads);
        if (pending) tf.dispose(pending);
        pending = weighted;
        grads = [];
      }
      pendingCount += b.size;
      micro++;
      if (micro === accumulation || batch === batchesPerEpoch) {
        if (pending) {
          const sums: tf.Tensor[] = pending;
          grads = tf.tidy(() => sums.map((g) => tf.div(g, pendingCount)));
          tf.dispose(sums);
          pending = null;
        }
        lr = options.schedule.lrAt(state.step) * state.lrScale;
        for (const cb of callbacks) cb.onGradients?.(grads, { epochIndex, step: state.step + 1, lastOfEpoch: batch === batchesPerEpoch }, ctx);
        options.optimizer.apply(grads, lr);
        tf.dispose(grads);
        state.step++;
        micro = 0;
        pendingCount = 0;
      }

      const seconds = (performance.now() - started) / 1000;
      const logs: BatchLogs = {
        epochIndex, batch, batchesPerEpoch, step: state.step, loss: lossSum / seen, accuracy: correctSum / seen, lr,
        imagesPerSecond: seen / Math.max(seconds, 1e-9), seconds,
      };
      for (const cb of callbacks) await cb.onBatchEnd?.(logs, ctx);
    }

    const trainSeconds = (performance.now() - started) / 1000;
    const logs: EpochLogs = {
      epoch: epochIndex + 1, step: state.step, loss: lossSum / seen, accuracy: correctSum / seen, lr,
      seconds: trainSeconds, imagesPerSecond: seen / Math.max(trainSeconds, 1e-9),
    };
    if (options.validation) {
      const result = await runInference(model, options.validation);
      logs.val_loss = result.loss;
      logs.val_accuracy = accuracy(result.labels, argmaxRows(result.probabilities, result.numClasses));
    }
    logs.seconds = (performance.now() - started) / 1000;
    state.epoch = epochIndex + 1;
    state.history.push(logs);
    for (const cb of callbacks) await cb.onEpochEnd?.(logs, ctx);
  }
  await run('onTrainEnd');
  return state;
}
