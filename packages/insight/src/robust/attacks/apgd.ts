// APGD-CE (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
// parameter-free attacks", Algorithm 1) on the cross-entropy: PGD whose step size starts at 2·eps and is halved,
// per example, at checkpoints where progress stalled, with a momentum update
//   z = P(x_k + η ∇),  x_{k+1} = P(x_k + 0.75 (z - x_k) + 0.25 (x_k - x_{k-1}))   (the first step: x_1 = z).
// Checkpoints w_j = ceil(p_j N): p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06). At w_j the
// step size of an example is halved, and it restarts from its best point, when
//   1. the loss went up in fewer than ρ = 0.75 of the steps since w_{j-1} (each iterate's loss against the previous
//      iterate's, across a restart too: AutoAttack's check_oscillation over its loss history), or
//   2. its step size was not halved at w_{j-1} and its best loss did not improve since w_{j-1}.
// The result per example: a point that fooled the model, if any iterate did (the last such), else the point of
// highest loss. Every example runs every iteration (examples already fooled are not dropped from the batch).
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Normalization } from '../../data/normalize';
import { inputGradient } from './input_gradient';
import type { ResolvedAttackSpec } from './spec';
import { ascend, misclassified, project, selectRows } from './step';

const MOMENTUM = 0.75;
const RHO = 0.75;

/** The iterations (1..steps) after which APGD checks its step sizes, e.g. 100 → [22, 41, 57, 70, 80, 87, 93, 99]. */
export function apgdCheckpoints(steps: number): number[] {
  const p = [0, 0.22];
  for (;;) {
    const [before, last] = p.slice(-2);
    const next = last + Math.max(last - before - 0.03, 0.06);
    if (next > 1) break;
    p.push(next);
  }
  // Rounded before ceil: 0.22 + 0.19 is 0.41000000000000003 in floating point.
  const points = p.slice(1).map((q) => Math.ceil(Math.round(q * steps * 1e9) / 1e9)).filter((w) => w >= 1 && w <= steps);
  return [...new Set(points)];
}

/** The tensors APGD carries from one iteration to the next (all per example). */
interface State {
  x: tf.Tensor4D;
  previous: tf.Tensor4D;
  gradient: tf.Tensor4D;
  loss: tf.Tensor1D;
  best: tf.Tensor4D;
  bestGradient: tf.Tensor4D;
  bestLoss: tf.Tensor1D;
  fooling: tf.Tensor4D;
  fooled: tf.Tensor1D;
  step: tf.Tensor1D;
  increases: tf.Tensor1D;
  bestLossAtCheck: tf.Tensor1D;
  reducedAtCheck: tf.Tensor1D;
}

/**
 * x0: [n, H, W, 3] normalized clean input, y: [n] int32, start: the first iterate (not disposed) → the adversarial
 * examples (the caller disposes them). spec.steps iterations, one forward and backward pass each, plus one at start.
 */
export function apgd(model: tfl.LayersModel, x0: tf.Tensor4D, y: tf.Tensor1D, spec: ResolvedAttackSpec, normalization: Normalization, start: tf.Tensor4D): tf.Tensor4D {
  const options = { training: spec.training, output: spec.output };
  const n = x0.shape[0];
  const checkpoints = new Set(apgdCheckpoints(spec.steps));
  const s = tf.tidy(() => {
    const first = inputGradient(model, start, y, options);
    return {
      x: tf.clone(start), previous: tf.clone(start), gradient: first.gradient, loss: first.losses,
      best: tf.clone(start), bestGradient: tf.clone(first.gradient), bestLoss: tf.clone(first.losses),
      fooling: tf.clone(start), fooled: misclassified(first.logits, y),
      step: tf.fill([n], spec.alpha) as tf.Tensor1D, increases: tf.zeros([n]) as tf.Tensor1D,
      bestLossAtCheck: tf.clone(first.losses), reducedAtCheck: tf.zeros([n], 'bool') as tf.Tensor1D,
    } satisfies State;
  });
  // Replaces some of the state; frees the tensors no key holds any more (the old x lives on as `previous`).
  const update = (next: Partial<State>) => {
    const replaced = (Object.keys(next) as (keyof State)[]).map((key) => s[key]);
    Object.assign(s, next);
    const live = new Set<tf.Tensor>(Object.values(s));
    for (const tensor of replaced) if (!live.has(tensor)) tensor.dispose();
  };
  try {
    let lastCheckpoint = 0;
    for (let i = 0; i < spec.steps; i++) {
      update(tf.tidy(() => {
        const a = i === 0 ? 1 : MOMENTUM;
        const z = project(ascend(s.x, s.gradient, s.step, spec.norm, normalization), x0, spec.eps, spec.norm, normalization);
        const moved = tf.add(tf.add(s.x, tf.mul(tf.sub(z, s.x), a)), tf.mul(tf.sub(s.x, s.previous), 1 - a)) as tf.Tensor4D;
        const x = project(moved, x0, spec.eps, spec.norm, normalization);
        const { gradient, losses, logits } = inputGradient(model, x, y, options);
        const wrong = misclassified(logits, y);
        const improved = tf.greater(losses, s.bestLoss) as tf.Tensor1D;
        return {
          previous: s.x, x, gradient, loss: losses,
          fooling: selectRows(wrong, x, s.fooling), fooled: tf.logicalOr(s.fooled, wrong) as tf.Tensor1D,
          best: selectRows(improved, x, s.best), bestGradient: selectRows(improved, gradient, s.bestGradient),
          bestLoss: tf.maximum(losses, s.bestLoss) as tf.Tensor1D,
          increases: tf.add(s.increases, tf.cast(tf.greater(losses, s.loss), 'float32')) as tf.Tensor1D,
        };
      }));
      if (!checkpoints.has(i + 1)) continue;
      const interval = i + 1 - lastCheckpoint;
      lastCheckpoint = i + 1;
      update(tf.tidy(() => {
        const stalled = tf.less(s.increases, RHO * interval);
        const noProgress = tf.logicalAnd(tf.logicalNot(s.reducedAtCheck), tf.lessEqual(s.bestLoss, s.bestLossAtCheck));
        const reduce = tf.logicalOr(stalled, noProgress) as tf.Tensor1D;
        return {
          step: tf.where(reduce, tf.div(s.step, 2), s.step) as tf.Tensor1D,
          // `loss` stays the last iterate's: the first step after a restart is counted against it, as AutoAttack does.
          x: selectRows(reduce, s.best, s.x), gradient: selectRows(reduce, s.bestGradient, s.gradient),
          reducedAtCheck: reduce, bestLossAtCheck: tf.clone(s.bestLoss), increases: tf.zerosLike(s.increases),
        };
      }));
    }
    return selectRows(s.fooled, s.fooling, s.best);
  } finally {
    tf.dispose(Object.values(s));
  }
}
