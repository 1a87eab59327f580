// The blends themselves, as backend ops on a normalized batch x [n, H, W, 3] (normalization is an affine map per
// channel, so blending normalized inputs is blending pixels). partners: [n] int32, image i's partner is x[partners[i]].
import { tf } from '../../backend';
import type { PixelBox } from './plan';

/** Mixup: λ·x + (1-λ)·x[partners] → [n, H, W, 3]. */
export function mixupImages(x: tf.Tensor4D, partners: tf.Tensor1D, lambda: number): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.mul(x, lambda), tf.mul(tf.gather(x, partners), 1 - lambda)) as tf.Tensor4D);
}

/**
 * CutMix: pasted 'partner' → x with `box` copied from x[partners]; 'own' → x[partners] with `box` copied from x.
 * Pixels are copied, not blended: every output pixel equals an input pixel exactly. → [n, H, W, 3].
 */
export function cutmixImages(x: tf.Tensor4D, partners: tf.Tensor1D, box: PixelBox, pasted: 'partner' | 'own'): tf.Tensor4D {
  return tf.tidy(() => {
    const [, height, width] = x.shape;
    const partner = tf.gather(x, partners) as tf.Tensor4D;
    const inside = tf.broadcastTo(boxMask(box, height, width), x.shape);
    return (pasted === 'partner' ? tf.where(inside, partner, x) : tf.where(inside, x, partner)) as tf.Tensor4D;
  });
}

/** [1, H, W, 1] bool: true inside the box (an outer product of a row and a column range test). */
export function boxMask(box: PixelBox, height: number, width: number): tf.Tensor4D {
  return tf.tidy(() => {
    const within = (length: number, start: number, size: number) => {
      const index = tf.range(0, length, 1, 'int32');
      return tf.logicalAnd(tf.greaterEqual(index, start), tf.less(index, start + size));
    };
    const rows = tf.reshape(within(height, box.top, box.height), [height, 1]);
    const columns = tf.reshape(within(width, box.left, box.width), [1, width]);
    return tf.reshape(tf.logicalAnd(rows, columns), [1, height, width, 1]) as tf.Tensor4D;
  });
}
