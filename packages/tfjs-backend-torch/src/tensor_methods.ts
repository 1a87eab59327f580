// tfjs-core's gradients of Prod and of gather(batchDims) call tensor methods — `x.reshape`, `x.split`, `dy.slice` —
// that only the union package @tensorflow/tfjs registers (its dist/public/chained_ops files are extensionless ES
// modules that plain Node cannot load from a CommonJS program). A program of tfjs-core + tfjs-layers + this backend
// lacks them, and those gradients threw `x.reshape is not a function`. These three are the only chained ops
// tfjs-core's gradients use; each is registered when missing, as tfjs-core's chained_ops/<op> files do.
import * as tf from '@tensorflow/tfjs-core';

type Op = (x: tf.Tensor, ...args: never[]) => unknown;
const METHODS: Record<'reshape' | 'split' | 'slice', Op> = { reshape: tf.reshape, split: tf.split, slice: tf.slice };

export function registerGradientTensorMethods(): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  for (const [name, op] of Object.entries(METHODS)) {
    if (typeof proto[name] === 'function') continue;
    proto[name] = function method(this: tf.Tensor, ...args: never[]) {
      this.throwIfDisposed();
      return op(this, ...args);
    };
  }
}
