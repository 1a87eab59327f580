// What a memory index was built from, as hashes that change when it changes: the model's weights (every
// variable's name, dtype, shape and bytes — the same values weights.bin holds, but taken from the loaded model, so
// a model that is not (yet) on disk has one too), and the dataset (sizes, class names, labels, pixels, positions).
import { createHash } from 'node:crypto';

import type * as tfl from '@tensorflow/tfjs-layers';

import type { ImageDataset } from '../../data';

/** sha256 (hex) of the model's weights, in the model's weight order. */
export async function weightsFingerprint(model: tfl.LayersModel): Promise<string> {
  const hash = createHash('sha256');
  for (const weight of model.weights) {
    const values = await weight.read().data();
    hash.update(JSON.stringify({ name: weight.originalName, dtype: weight.dtype, shape: weight.shape }));
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}

/** sha256 (hex) of a dataset's images and labels, with the dataset positions recorded for them. */
export function datasetFingerprint(ds: ImageDataset, indices: Int32Array): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ count: ds.count, height: ds.height, width: ds.width, classNames: ds.classNames }));
  for (const part of [ds.labels, indices, ds.images]) hash.update(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
  return hash.digest('hex');
}
