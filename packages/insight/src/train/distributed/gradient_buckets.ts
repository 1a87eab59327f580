// Gradient buckets, as PyTorch DDP's Reducer makes them: the gradients of a step flattened into a few 1-D tensors of
// about `bucketBytes` each, filled in reverse layer order (the order backward produces them), so one allreduce moves
// many small tensors at once. `flatten` packs (times a scale), `split` unpacks (times a scale) into the shapes.
import { tf } from '../../backend';

/** PyTorch DDP's first bucket is 1 MB and the rest 25 MB (for GPUs); on CPUs over Gloo a few MB each keep the calls few. */
export const DEFAULT_BUCKET_BYTES = 4 * 1024 * 1024;

export class GradientBuckets {
  /** Variable indices per bucket: the last variables first. */
  readonly buckets: number[][];

  /** shapes: the variables' shapes in model order; float32 (4 bytes an element). */
  constructor(private readonly shapes: readonly number[][], bucketBytes = DEFAULT_BUCKET_BYTES) {
    this.buckets = [];
    let current: number[] = [];
    let bytes = 0;
    for (let i = shapes.length - 1; i >= 0; i--) {
      const size = 4 * sizeOf(shapes[i]);
      if (current.length > 0 && bytes + size > bucketBytes) {
        this.buckets.push(current);
        current = [];
        bytes = 0;
      }
      current.push(i);
      bytes += size;
    }
    if (current.length > 0) this.buckets.push(current);
  }

  /** grads[i] (shape of variable i) → one 1-D tensor per bucket, times `scale`. The caller owns them. */
  flatten(grads: readonly tf.Tensor[], scale: number): tf.Tensor1D[] {
    return tf.tidy(() => this.buckets.map((bucket) => {
      const flat = tf.concat(bucket.map((i) => tf.reshape(grads[i], [-1])));
      return (scale === 1 ? flat : tf.mul(flat, scale)) as tf.Tensor1D;
    }));
  }

  /** The inverse of flatten: one tensor per variable (in model order, in its shape), times `scale`. The caller owns them. */
  split(flats: readonly tf.Tensor[], scale: number): tf.Tensor[] {
    return tf.tidy(() => {
      const out: tf.Tensor[] = new Array(this.shapes.length);
      this.buckets.forEach((bucket, b) => {
        const scaled = scale === 1 ? flats[b] : tf.mul(flats[b], scale);
        const parts = tf.split(scaled, bucket.map((i) => sizeOf(this.shapes[i])));
        bucket.forEach((i, k) => {
          out[i] = tf.reshape(parts[k], this.shapes[i]);
        });
      });
      return out;
    });
  }
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
