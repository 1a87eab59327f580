// JS numbers (kernel attributes) that become ATen Scalars for a tensor, converted in one place the way tfjs stores
// them in that tensor's typed array. ATen refuses a double its tensor's type cannot hold ("value cannot be converted
// to type float without overflow"), where tfjs stores ±Infinity in a Float32Array and wraps in an Int32Array:
// tf.clipByValue(x, eps, Number.MAX_VALUE) (tfjs-layers' MAPE and MSLE losses) and tf.fill(shape, 1e300) must work.
import { DataType } from '@tensorflow/tfjs-core';

/**
 * v as an element of a `dtype` tensor, as tfjs's typed arrays store it:
 *   float32: rounded to float32 (Math.fround): beyond ±3.4028235e38 it is ±Infinity, NaN stays NaN;
 *   int32: ToInt32 (Int32Array): truncated and wrapped modulo 2^32, NaN and ±Infinity 0;
 *   bool: ToUint8 (Uint8Array): truncated and wrapped modulo 256 (a bool kernel runs on cpu for a result above 1).
 * Example: scalarAs(1e300, 'float32') === Infinity; scalarAs(2 ** 32 + 5, 'int32') === 5.
 */
export function scalarAs(v: number, dtype: DataType): number {
  if (dtype === 'int32') return v | 0;
  if (dtype === 'bool') return v & 255;
  return Math.fround(v);
}
