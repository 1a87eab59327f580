// How sparse storage keeps the values it stores: float32 (bit for bit), float16 (rounded to nearest even) or uint8
// (tfjs-converter's affine quantization of the stored values of one tensor: w' = q · scale + min, within scale / 2;
// pruned zeros are not stored, so the range covers only what remains). Sparse float16/uint8 combine pruning's zeros
// with tfjs weight quantization: at 75% sparsity a bitmask (1/32 of float32) plus a byte per kept value.
import { fromFloat16, toFloat16 } from './float16';
import { quantizeUint8 } from './tfjs_quantization';

export type ValueType = 'float32' | 'float16' | 'uint8';

export const VALUE_BYTES: Record<ValueType, number> = { float32: 4, float16: 2, uint8: 1 };

/** The manifest's record of how a tensor's stored values are kept. */
export type StoredValues = { type: 'float32' } | { type: 'float16' } | { type: 'uint8'; min: number; scale: number };

/** The bytes of `values` kept as `type`, and what decoding needs. */
export function storeValues(values: Float32Array, type: ValueType): { bytes: Uint8Array; values: StoredValues } {
  if (type === 'float32') return { bytes: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + 4 * values.length)), values: { type } };
  if (type === 'float16') return { bytes: new Uint8Array(toFloat16(values).buffer), values: { type } };
  const { bytes, min, scale } = quantizeUint8(values);
  return { bytes, values: { type, min, scale } };
}

/** `count` float32 values from their stored bytes (an aligned copy). */
export function loadValues(bytes: Uint8Array, count: number, values: StoredValues): Float32Array {
  if (values.type === 'float32') return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  if (values.type === 'float16') return fromFloat16(new Uint16Array(bytes.buffer, bytes.byteOffset, count));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes[i] * values.scale + values.min; // as tfjs-core's decodeWeights
  return out;
}
