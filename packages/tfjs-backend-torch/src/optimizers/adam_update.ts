// One Adam step (Kingma & Ba) of one variable through the FusedAdamUpdate kernel: native on `torch`, the plain
// formula on `cpu`. The only place that folds the bias correction into the kernel's step size and puts epsilon
// where an optimizer's convention wants it; tfjs's AdamOptimizer (fusedAdam) and Insight's Adam/AdamW call it.
//   adamUpdate({ variable, gradient, m, v }, { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7,
//     epsilonConvention: 'epsilon-hat', step: 1 });
import { dispose, engine, Tensor, Variable } from '@tensorflow/tfjs-core';

import { FusedAdamUpdate, FusedAdamUpdateAttrs } from '../kernel_names';

/**
 * Where epsilon enters the update, with m' and v' the new moments and c1 = 1 - beta1^t, c2 = 1 - beta2^t:
 * - 'bias-corrected': x -= lr * (m'/c1) / (sqrt(v'/c2) + epsilon)  (the paper's Algorithm 1; tf.train.adam,
 *   PyTorch)
 * - 'epsilon-hat': x -= lr * sqrt(c2)/c1 * m' / (sqrt(v') + epsilon)  (the paper's "epsilon hat" form, end of
 *   section 2; Keras and TensorFlow)
 */
export type AdamEpsilonConvention = 'bias-corrected' | 'epsilon-hat';

export interface AdamStep {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  epsilonConvention: AdamEpsilonConvention;
  /** The 1-based step number t of this update (bias correction uses it). */
  step: number;
  /** Multiplies the variable before the step: 1 - lr * weightDecay for AdamW's decoupled decay (default 1). */
  decay?: number;
}

/** The variable to update, its gradient and its two moment slots: same shape, float32. */
export interface AdamSlots {
  variable: Variable;
  gradient: Tensor;
  m: Variable;
  v: Variable;
}

/** FusedAdamUpdate's attributes for one step of `s`. */
export function adamUpdateAttrs(s: AdamStep): FusedAdamUpdateAttrs {
  if (!(Number.isInteger(s.step) && s.step >= 1)) {
    throw new Error(`The Adam step number is 1-based: it must be an integer >= 1. Received: step=${s.step}. ` +
      'Pass the optimizer\'s iterations + 1.');
  }
  const c1 = 1 - s.beta1 ** s.step;
  const sqrtC2 = Math.sqrt(1 - s.beta2 ** s.step);
  return {
    beta1: s.beta1,
    beta2: s.beta2,
    alpha: (s.learningRate * sqrtC2) / c1,
    epsilon: s.epsilonConvention === 'bias-corrected' ? s.epsilon * sqrtC2 : s.epsilon,
    decay: s.decay ?? 1,
  };
}

/** Updates variable, m and v in place with one Adam step. */
export function adamUpdate(slots: AdamSlots, s: AdamStep): void {
  runAdamUpdate(slots, {}, adamUpdateAttrs(s));
}

/**
 * The values of one step that change from step to step, as float32 scalar tensors: the step size with the bias
 * correction folded in (adamUpdateAttrs(step).alpha) and, optionally, the decay factor. Epsilon is added as in the
 * 'epsilon-hat' convention.
 */
export interface AdamStepTensors {
  beta1: number;
  beta2: number;
  epsilon: number;
  alpha: Tensor;
  decay?: Tensor;
}

/**
 * Updates variable, m and v in place with one Adam step whose step size (and decay) are tensors: the form a captured
 * training step (capture/) needs, where whatever changes from step to step must be data, not a number in JS.
 */
export function adamUpdateWithTensors(slots: AdamSlots, s: AdamStepTensors): void {
  const scalars: Record<string, Tensor> = s.decay === undefined ? { alpha: s.alpha } : { alpha: s.alpha, decay: s.decay };
  runAdamUpdate(slots, scalars, { beta1: s.beta1, beta2: s.beta2, epsilon: s.epsilon, alpha: 0, decay: 1 });
}

function runAdamUpdate({ variable, gradient, m, v }: AdamSlots, scalars: Record<string, Tensor>, attrs: FusedAdamUpdateAttrs): void {
  const [x2, m2, v2] = engine().runKernel(FusedAdamUpdate, { variable, gradient, m, v, ...scalars },
    attrs as unknown as Record<string, number>) as Tensor[];
  // The variables keep their own references to the new values: the kernel's outputs go right away (no tidy scope
  // per variable on the optimizer's hot path).
  try {
    m.assign(m2);
    v.assign(v2);
    variable.assign(x2);
  } finally {
    dispose([x2, m2, v2]);
  }
}
