// The instances of one request, whatever protocol they came in, and their assembly into the model's input:
// dense float values (already normalized, used as they are), dense uint8 pixels (normalized here), or encoded
// images (decoded, resized and normalized here). Images decode concurrently on sharp's thread pool.
import { applyTable } from '../../data/normalize';
import { serveError } from '../../errors';
import { decodeImage } from './decode_image';
import { fillNested, type DenseKind } from './dense';

export type Instance =
  | { kind: 'nested'; value: unknown; dtype: DenseKind; where: string }
  | { kind: 'flat'; values: Float32Array; dtype: DenseKind }
  | { kind: 'image'; bytes: Buffer; where: string };

/** Refuses a request of more than --max-instances images, whatever the protocol; `field` names the count ('shape[0]'). */
export function checkInstanceCount(count: number, maxInstances: number, field: string): void {
  if (count > maxInstances) {
    throw serveError('SERVE_E_BAD_INPUT', `One request may carry at most --max-instances=${maxInstances} images.`, { [field]: count },
      'Split the images over several requests.');
  }
}

/** What assembly needs to know about the model. */
export interface InputSpec {
  /** [height, width, channels]. */
  inputShape: readonly [number, number, number];
  /** uint8 → float lookup table (3 x 256). */
  normalizationLut: Float32Array;
  maxImagePixels: number;
}

/** instances → x: [instances.length, H, W, C] float32, row-major. Throws SERVE_E_BAD_INPUT / BAD_IMAGE / IMAGE_TOO_LARGE. */
export async function assembleInput(instances: readonly Instance[], spec: InputSpec): Promise<Float32Array> {
  const [h, w, c] = spec.inputShape;
  const rowSize = h * w * c;
  const x = new Float32Array(instances.length * rowSize);
  // Dense values first: cheap, and a bad one fails the request before any image is decoded.
  instances.forEach((instance, i) => {
    if (instance.kind === 'nested') {
      fillNested(instance.value, spec.inputShape, x, i * rowSize, instance.where, instance.dtype);
      if (instance.dtype === 'uint8') normalizeInPlace(x, i * rowSize, rowSize, spec.normalizationLut);
    } else if (instance.kind === 'flat') {
      x.set(instance.values, i * rowSize);
      if (instance.dtype === 'uint8') normalizeInPlace(x, i * rowSize, rowSize, spec.normalizationLut);
    }
  });
  await Promise.all(instances.map(async (instance, i) => {
    if (instance.kind !== 'image') return;
    const pixels = await decodeImage(instance.bytes, h, w, spec.maxImagePixels, instance.where);
    applyTable(pixels, 0, pixels.length, spec.normalizationLut, x, i * rowSize);
  }));
  return x;
}

/** x[from .. from+length) holds uint8 values as floats: map them through the normalization table. */
function normalizeInPlace(x: Float32Array, from: number, length: number, lut: Float32Array): void {
  for (let i = from; i < from + length; i++) x[i] = lut[((i - from) % 3) * 256 + x[i]];
}
