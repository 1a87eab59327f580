// `attack(model, x, y, spec, normalization)`: adversarial examples for one batch, whichever attack the spec names.
// Restarts: each from its own seeded random start; per example the restart whose result fools the model is kept
// (the first such), else the one of highest loss, so more restarts are never weaker than one (restart 0 is the
// single run's start).
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Normalization } from '../../data/normalize';
import { sparseCategoricalCrossentropyPerExample } from '../../models/loss';
import { apgd } from './apgd';
import { fgsm } from './fgsm';
import { logitsOf } from './input_gradient';
import { pgd } from './pgd';
import { randomStart, startSeed } from './random_start';
import { type AttackSpec, type ResolvedAttackSpec, resolveAttackSpec } from './spec';
import { misclassified, selectRows } from './step';

/**
 * x: [n, H, W, 3] normalized input (as the model takes it), y: [n] int32 labels → adversarial x of the same shape,
 * within spec.eps of x (pixel units, spec.norm) and inside the valid image box. `key` names the batch, so batches
 * get different random starts under one seed (e.g. the batch index). The caller disposes the result.
 * Example: `attack(model, x, y, { attack: 'pgd', eps: 8 / 255, steps: 20 }, meta.normalization)`.
 */
export function attack(model: tfl.LayersModel, x: tf.Tensor4D, y: tf.Tensor1D, spec: AttackSpec, normalization: Normalization, key = 0): tf.Tensor4D {
  const s = resolveAttackSpec(spec);
  if (s.attack === 'fgsm') return fgsm(model, x, y, s, normalization);
  const run = s.attack === 'pgd' ? pgd : apgd;
  let best: Best | null = null;
  try {
    for (let restart = 0; restart < s.restarts; restart++) {
      const start = s.randomStart ? randomStart(x, s.eps, s.norm, normalization, startSeed(s.seed, key, restart)) : tf.clone(x);
      let candidate: tf.Tensor4D;
      try {
        candidate = run(model, x, y, s, normalization, start);
      } finally {
        start.dispose();
      }
      if (s.restarts === 1) return candidate;
      let score: tf.Tensor1D;
      try {
        score = scoreOf(model, candidate, y, s);
      } catch (error) {
        candidate.dispose();
        throw error;
      }
      const previous: Best | null = best;
      let next: Best = { x: candidate, score };
      if (previous !== null) {
        next = keepBetter(previous, next);
        tf.dispose([previous.x, previous.score, candidate, score]);
      }
      best = next;
      // Every example fooled: a later restart cannot do better (the first fooling result is kept).
      if (restart < s.restarts - 1 && allFooled(next.score)) break;
    }
    const result: tf.Tensor4D = best!.x;
    best!.score.dispose();
    best = null;
    return result;
  } finally {
    if (best !== null) tf.dispose([best.x, best.score]);
  }
}

/** A result and its per-example score [n] (+Infinity where it fools the model, else the loss). */
interface Best {
  x: tf.Tensor4D;
  score: tf.Tensor1D;
}

/** Per example the better of two results (a's on ties: the earlier restart). */
function keepBetter(a: Best, b: Best): Best {
  return tf.tidy(() => {
    const better = tf.greater(b.score, a.score) as tf.Tensor1D;
    return { x: selectRows(better, b.x, a.x), score: tf.maximum(a.score, b.score) as tf.Tensor1D };
  });
}

/** Per example: +Infinity where the model is fooled at xAdv, else the loss there ([n]). */
function scoreOf(model: tfl.LayersModel, xAdv: tf.Tensor4D, y: tf.Tensor1D, s: ResolvedAttackSpec): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = logitsOf(model, xAdv, { training: s.training, output: s.output });
    return tf.where(misclassified(logits, y), tf.fill([xAdv.shape[0]], Infinity), sparseCategoricalCrossentropyPerExample(y, logits)) as tf.Tensor1D;
  });
}

function allFooled(score: tf.Tensor1D): boolean {
  return tf.tidy(() => tf.all(tf.equal(score, Infinity)).dataSync()[0] === 1);
}
