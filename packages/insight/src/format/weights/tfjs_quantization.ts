// TensorFlow.js weight quantization, written exactly as tfjs-converter writes it (python/tensorflowjs/quantization.py
// and write_weights.py), so plain `tf.loadLayersModel` decodes it (tfjs-core io_utils decodeWeights):
//   uint8:   per weight, scale = (max - min) / 255 and, when 0 lies in [min, max], min nudged to -round(-min / scale)
//            · scale so 0 is exactly representable (pruned zeros stay zero); q = round((clip(w, min, max) - min) /
//            scale) with numpy's round half to even; the manifest entry gets quantization { dtype: 'uint8', min, scale }
//            and w' = q · scale + min, within scale / 2 of w.
//   float16: IEEE half precision, rounded to nearest even; quantization { dtype: 'float16' }.
// Only float32 weights are quantized (int32 ones stay as they are), as the converter does.
import { tf } from '../../backend';
import { concatArrays } from '../../math/concat_arrays';
import { toFloat16 } from './float16';
import { ruleError } from '../../errors';

export type TfjsQuantization = 'uint8' | 'float16';

/** numpy's np.round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** tfjs-converter's affine uint8 quantization of one weight: the bytes and the manifest's min and scale. */
export function quantizeUint8(values: Float32Array): { bytes: Uint8Array; min: number; scale: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const bytes = new Uint8Array(values.length);
  if (values.length === 0 || lo === hi) return { bytes, min: values.length === 0 ? 0 : lo, scale: 1 };
  const scale = (hi - lo) / 255;
  let min = lo;
  let max = hi;
  if (lo <= 0 && 0 <= hi) {
    min = -roundHalfEven((0 - lo) / scale) * scale;
    max = 255 * scale + min;
  }
  for (let i = 0; i < values.length; i++) bytes[i] = roundHalfEven((Math.min(Math.max(values[i], min), max) - min) / scale);
  return { bytes, min, scale };
}

/**
 * The artifacts with their float32 weights quantized (weightSpecs gain `quantization`, weightData holds the quantized
 * bytes in manifest order). Example: `quantizeArtifacts(artifacts, 'uint8')` before writing model.json + weights.bin.
 */
export function quantizeArtifacts(artifacts: tf.io.ModelArtifacts, dtype: TfjsQuantization): tf.io.ModelArtifacts {
  const specs = artifacts.weightSpecs ?? [];
  const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const parts: Uint8Array[] = [];
  const quantized: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization !== undefined) throw ruleError('INSIGHT_E_MODEL', 'Weights are quantized once.', { weight: spec.name, quantization: spec.quantization.dtype },
      'Quantize the float32 model (load it first: its weights come back as float32).');
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = count * 4; // float32 and int32 alike
    const raw = data.slice(offset, offset + bytes);
    offset += bytes;
    if (spec.dtype !== 'float32') {
      parts.push(new Uint8Array(raw));
      quantized.push(spec);
      continue;
    }
    const values = new Float32Array(raw);
    if (dtype === 'float16') {
      parts.push(new Uint8Array(toFloat16(values).buffer));
      quantized.push({ ...spec, quantization: { dtype: 'float16' } });
    } else {
      const { bytes: q, min, scale } = quantizeUint8(values);
      parts.push(q);
      quantized.push({ ...spec, quantization: { dtype: 'uint8', min, scale } });
    }
  }
  return { ...artifacts, weightSpecs: quantized, weightData: concatArrays(parts, Uint8Array).buffer as ArrayBuffer };
}
