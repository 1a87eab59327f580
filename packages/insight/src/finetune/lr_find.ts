// The learning-rate range test (Smith, 2015, "Cyclical Learning Rates for Training Neural Networks", §3.3; as
// fastai's lr_find): train for up to `steps` updates while the learning rate grows exponentially from startLr to
// endLr, one batch per update, and record the loss. The raw batch loss is noisy, so it is smoothed with an
// exponential moving average (beta 0.98, bias-corrected as in Adam); the test stops when the smoothed loss exceeds
// divergeFactor (4) x its minimum so far, or is not finite. Every weight of the model is put back afterwards.
//
// Suggestion: the learning rate at the smoothed loss's minimum, divided by 10 (fastai's lr_min; Smith: "an order of
// magnitude below" where the loss stops falling). The steepest descent of the smoothed loss (the most negative
// slope against log lr, fastai's lr_steep) is reported too; on a few hundred images it is the noisier of the two
// (one lucky batch moves it by a decade), so it is not the default.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import type { DataLoader } from '../data';
import { ruleError } from '../errors';
import { createOptimizer, paramsOf, type OptimizerName, type OptimizerSettings, type Param } from '../train/optimizers';
import { TRAIN_DEFAULTS } from '../train/config';
import { trainableVariables } from '../train/trainer';
import { trainStep } from '../train/train_step';

export interface LrFindOptions {
  /** The weights to train, with their lr scales (e.g. configureMethod's). Default: every trainable weight, scale 1. */
  params?: Param[];
  /** Default adam, with the training recipe's settings (weight decay 0). */
  optimizer?: OptimizerName;
  optimizerSettings?: Partial<OptimizerSettings>;
  /** The learning-rate range, ramped exponentially (default 1e-7 → 10). */
  startLr?: number;
  endLr?: number;
  /** Updates at most (default 100): the ramp reaches endLr at the last one. */
  steps?: number;
  /** Smoothing of the loss (default 0.98). */
  beta?: number;
  /** Stop once smoothed loss > divergeFactor x its minimum (default 4). */
  divergeFactor?: number;
  /** Seeds dropout (the loader carries its own seed). */
  seed?: number;
}

export interface LrFindResult {
  /** Learning rate, raw batch loss and smoothed loss of every update made. */
  lrs: number[];
  losses: number[];
  smoothed: number[];
  /** The update at which the loss diverged and the test stopped, or null when it ran every step. */
  divergedAt: number | null;
  /** The smoothed loss's minimum and its learning rate. */
  minimum: { lr: number; loss: number };
  /** The learning rate of the steepest descent of the smoothed loss (per decade of lr). */
  steepest: { lr: number; slope: number };
  /** The suggested learning rate: minimum.lr / 10. */
  suggestion: number;
  suggestionRule: 'minimum/10';
  startLr: number;
  endLr: number;
  steps: number;
}

/** Updates of the smoothed curve left out at each end when looking for its steepest slope (fastai skips 10 / 5). */
const SKIP_START = 10;
const SKIP_END = 5;

/**
 * Runs the range test on `model` with batches of `loader`; the model's weights (also BatchNorm statistics) are
 * restored before it returns. Example: `const { suggestion } = await lrFind(model, loader, { params })`.
 */
export async function lrFind(model: tfl.LayersModel, loader: DataLoader, options: LrFindOptions = {}): Promise<LrFindResult> {
  const startLr = options.startLr ?? 1e-7;
  const endLr = options.endLr ?? 10;
  const steps = options.steps ?? 100;
  const beta = options.beta ?? 0.98;
  const divergeFactor = options.divergeFactor ?? 4;
  if (!(startLr > 0 && endLr > startLr)) {
    throw ruleError('INSIGHT_E_CONFIG', 'The learning-rate range must satisfy 0 < startLr < endLr.', { startLr, endLr }, 'Pass e.g. --start-lr 1e-7 --end-lr 10.');
  }
  if (!Number.isInteger(steps) || steps < 2) {
    throw ruleError('INSIGHT_E_CONFIG', 'The range test needs at least 2 steps.', { steps }, 'Pass e.g. --steps 100.');
  }
  const params = options.params ?? paramsOf(trainableVariables(model));
  const variables = params.map((p) => p.variable);
  const [height, width] = model.inputs[0].shape.slice(1, 3) as number[];
  const saved = model.weights.map((w) => tf.keep(w.read().clone()));
  const optimizer = createOptimizer(options.optimizer ?? 'adam', params, { ...TRAIN_DEFAULTS, weightDecay: 0, ...options.optimizerSettings });
  const lrs: number[] = [];
  const losses: number[] = [];
  const smoothed: number[] = [];
  let divergedAt: number | null = null;
  let average = 0;
  let best = Infinity;
  try {
    for (let epoch = 0; lrs.length < steps && divergedAt === null; epoch++) {
      for await (const batch of loader.epoch(epoch)) {
        const i = lrs.length;
        const lr = startLr * (endLr / startLr) ** (i / (steps - 1));
        const step = await trainStep(model, variables, batch, { height, width, labelSmoothing: 0, seed: options.seed ?? 0, step: i, microBatch: 0 });
        try {
          optimizer.apply(step.grads, lr);
        } finally {
          tf.dispose(step.grads);
        }
        average = beta * average + (1 - beta) * step.loss;
        const value = average / (1 - beta ** (i + 1));
        lrs.push(lr);
        losses.push(step.loss);
        smoothed.push(value);
        best = Math.min(best, value);
        if (!Number.isFinite(value) || value > divergeFactor * best) divergedAt = i;
        if (divergedAt !== null || lrs.length >= steps) break;
      }
    }
  } finally {
    optimizer.dispose();
    model.weights.forEach((w, i) => w.write(saved[i]));
    tf.dispose(saved);
  }
  return { lrs, losses, smoothed, divergedAt, ...suggest(lrs, smoothed), suggestionRule: 'minimum/10', startLr, endLr, steps };
}

/** The minimum of the smoothed curve (/10: the suggestion) and its steepest descent per decade of lr. */
export function suggest(lrs: number[], smoothed: number[]): { minimum: LrFindResult['minimum']; steepest: LrFindResult['steepest']; suggestion: number } {
  // Only the points before divergence count: the last point is the one that crossed the threshold.
  let m = 0;
  for (let i = 0; i < smoothed.length; i++) if (Number.isFinite(smoothed[i]) && smoothed[i] < smoothed[m]) m = i;
  const minimum = { lr: lrs[m], loss: smoothed[m] };
  let steepest = { lr: lrs[m], slope: 0 };
  const first = Math.min(SKIP_START, Math.max(0, smoothed.length - SKIP_END - 2));
  for (let i = first + 1; i < smoothed.length - SKIP_END; i++) {
    const slope = (smoothed[i] - smoothed[i - 1]) / Math.log10(lrs[i] / lrs[i - 1]);
    if (Number.isFinite(slope) && slope < steepest.slope) steepest = { lr: lrs[i], slope };
  }
  return { minimum, steepest, suggestion: minimum.lr / 10 };
}
