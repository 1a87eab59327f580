// A batch normalized for one model, as another model's normalization would have made it: both are affine per
// channel on the [0, 1] scale (data/normalize.ts: scale is mean 0, std 1), so the teacher sees exactly the pixels the
// student sees — the same augmented batch — under its own preprocessing, e.g. a meanstd resnet teaching a scale seed-cnn.
//   p = x * std_from + mean_from;  x' = (p - mean_to) / std_to = x * (std_from / std_to) + (mean_from - mean_to) / std_to
import { tf } from '../../backend';
import type { Normalization } from '../../data';

type Affine = { mean: [number, number, number]; std: [number, number, number] };

function affineOf(n: Normalization): Affine {
  return n.kind === 'scale' ? { mean: [0, 0, 0], std: [1, 1, 1] } : { mean: n.mean, std: n.std };
}

/**
 * The conversion of x: [batch, H, W, 3] normalized per `from` into the normalization `to` (a new tensor; the caller
 * disposes it), or null when the two are the same (use x as it is).
 * Example: `renormalizer({ kind: 'scale' }, teacherMeta.normalization)?.(x) ?? x`.
 */
export function renormalizer(from: Normalization, to: Normalization): ((x: tf.Tensor4D) => tf.Tensor4D) | null {
  const a = affineOf(from);
  const b = affineOf(to);
  const scale = [0, 1, 2].map((c) => a.std[c] / b.std[c]);
  const shift = [0, 1, 2].map((c) => (a.mean[c] - b.mean[c]) / b.std[c]);
  if (scale.every((s) => s === 1) && shift.every((s) => s === 0)) return null;
  return (x) => tf.tidy(() => tf.add(tf.mul(x, tf.tensor1d(scale)), tf.tensor1d(shift)) as tf.Tensor4D);
}
