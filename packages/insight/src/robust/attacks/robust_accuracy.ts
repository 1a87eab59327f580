// Robust accuracy of a model under an attack, over the first images of a loader: per batch, the clean prediction,
// the attack, and the prediction on the adversarial examples. An image counts as robust when the model classifies
// it correctly both clean and attacked (as AutoAttack and RobustBench count: a misclassified clean image is not
// robust, whatever the attack does to it).
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { DataLoader } from '../../data';
import type { Normalization } from '../../data/normalize';
import { attack } from './attack';
import { logitsOf } from './input_gradient';
import { type AttackNorm, type AttackSpec, type AttackName, resolveAttackSpec } from './spec';
import { misclassified } from './step';

/** What `metrics.json` records under `robust`. */
export interface RobustMetrics {
  attack: AttackName;
  norm: AttackNorm;
  /** Radius in pixel units ([0, 1] scale). */
  eps: number;
  steps: number;
  /** Step size in pixel units (fgsm: eps; apgd: the initial step, 2·eps). */
  alpha: number;
  restarts: number;
  seed: number;
  /** Images attacked (the first ones of the split). */
  images: number;
  /** Share of those images classified correctly both clean and under the attack. */
  accuracy: number;
  /** Clean accuracy on the same images. */
  cleanAccuracyOnSame: number;
  /** Wall time of the attacks. */
  seconds: number;
}

/**
 * The model under `spec` on the first `limit` images of `loader` (all when null; shuffle off), batch by batch.
 * Each batch's random starts are seeded by (spec.seed, batch index), so a result repeats for a given batch size.
 */
export async function robustAccuracy(
  model: tfl.LayersModel, loader: DataLoader, spec: AttackSpec, normalization: Normalization, limit: number | null = null,
): Promise<RobustMetrics> {
  const s = resolveAttackSpec(spec);
  const [h, w] = model.inputs[0].shape.slice(1, 3) as number[];
  const started = performance.now();
  let images = 0;
  let cleanCorrect = 0;
  let robustCorrect = 0;
  let batchIndex = 0;
  for await (const batch of loader.epoch(0)) {
    const take = Math.min(batch.size, limit === null ? batch.size : limit - images);
    if (take <= 0) break;
    const counts = tf.tidy(() => {
      const x = tf.tensor4d(batch.x.subarray(0, take * h * w * 3), [take, h, w, 3]);
      const y = tf.tensor1d(batch.y.subarray(0, take), 'int32');
      const options = { training: false, output: s.output };
      const clean = tf.logicalNot(misclassified(logitsOf(model, x, options), y));
      const adversarial = attack(model, x, y, spec, normalization, batchIndex);
      const robust = tf.logicalAnd(clean, tf.logicalNot(misclassified(logitsOf(model, adversarial, options), y)));
      return tf.stack([tf.sum(tf.cast(clean, 'int32')), tf.sum(tf.cast(robust, 'int32'))]);
    });
    const [clean, robust] = await counts.data();
    counts.dispose();
    cleanCorrect += clean;
    robustCorrect += robust;
    images += take;
    batchIndex++;
    if (limit !== null && images >= limit) break;
  }
  return {
    attack: s.attack, norm: s.norm, eps: s.eps, steps: s.steps, alpha: s.alpha, restarts: s.restarts, seed: s.seed, images,
    accuracy: images === 0 ? NaN : robustCorrect / images, cleanAccuracyOnSame: images === 0 ? NaN : cleanCorrect / images,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * One line for the text report, e.g. 'Robust accuracy 0.1240 under pgd-20 (linf, eps 0.03137 = 8/255, alpha 0.00392,
 * 1 restart, seed 0) on the first 500 images (clean accuracy on them 0.6820); 35.2 s'.
 */
export function formatRobust(r: RobustMetrics): string {
  const in255 = r.eps * 255;
  const eps = Math.abs(in255 - Math.round(in255)) < 1e-6 ? `${r.eps.toFixed(5)} = ${Math.round(in255)}/255` : r.eps.toPrecision(4);
  const name = r.attack === 'fgsm' ? 'fgsm' : `${r.attack}-${r.steps}`;
  const alpha = r.attack === 'apgd' ? `initial step ${r.alpha.toPrecision(3)}` : `alpha ${r.alpha.toPrecision(3)}`;
  const restarts = r.attack === 'fgsm' ? '' : `, ${r.restarts} restart${r.restarts === 1 ? '' : 's'}, seed ${r.seed}`;
  return `Robust accuracy ${r.accuracy.toFixed(4)} under ${name} (${r.norm}, eps ${eps}, ${alpha}${restarts}) on the first ${r.images} images ` +
    `(clean accuracy on them ${r.cleanAccuracyOnSame.toFixed(4)}); ${r.seconds.toFixed(1)} s`;
}
