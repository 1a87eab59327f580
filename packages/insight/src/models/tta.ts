// Test-time augmentation (TTA): the views of a batch whose class probabilities evaluate, predict and serve average
// (models/inference_output.ts does the averaging). The views, for `{ flip, shift: s }`, in this order:
//   original; if s > 0: the image translated by (+s, +s) (content moves down and right) and by (-s, -s) (up and
//   left), both cut from the image padded by reflection (PyTorch's 'reflect': the edge pixel is not repeated);
//   with flip: after each of those, its horizontal mirror.
// So 1, 2 (flip), 3 (shift) or 6 (flip + shift) views. This is airbench's set (Keller Jordan's CIFAR-10 speedruns:
// mirror, and one-pixel diagonal translations of the reflect-padded image, each with its mirror), with every view
// weighted equally. The settings' parser (`--tta`) and checks: models/tta_settings.ts.
import { tf } from '../backend';
import type { TtaSettings } from './metadata';

/** How many views `tta` makes: (1 + 2 if shifted) x (2 if flipped). */
export function ttaViewCount(tta: TtaSettings): number {
  return (tta.shift > 0 ? 3 : 1) * (tta.flip ? 2 : 1);
}

/**
 * The views of a batch, concatenated along the batch axis, view-major: x [n, H, W, C] → [views * n, H, W, C], rows
 * k*n .. k*n + n - 1 being view k of every image (order: see the header). Without augmentation it returns x itself.
 * Runs in tfjs ops (mirrorPad, slice, reverse, concat); call it inside tf.tidy.
 */
export function ttaViews(x: tf.Tensor4D, tta: TtaSettings): tf.Tensor4D {
  if (tta.shift === 0 && !tta.flip) return x;
  const [, height, width] = x.shape;
  const s = tta.shift;
  const base: tf.Tensor4D[] = [x];
  if (s > 0) {
    const padded = tf.mirrorPad(x, [[0, 0], [s, s], [s, s], [0, 0]], 'reflect');
    base.push(tf.slice(padded, [0, 0, 0, 0], [-1, height, width, -1]), tf.slice(padded, [0, 2 * s, 2 * s, 0], [-1, height, width, -1]));
  }
  const views = tta.flip ? base.flatMap((view) => [view, tf.reverse(view, 2)]) : base;
  return tf.concat(views, 0);
}
