// A model directory whose weights are stored sparse (`insight compress --weights sparse*`): model.json carries
// `insightSparse`, the manifest of its weights file (model_io.ts WEIGHTS_SPARSE_BIN) (each tensor in its smallest encoding, format/weights/
// sparse_tensor.ts, one after the other; the stored values float32, or float16 / uint8 as tfjs quantizes weights).
// Its `weightsManifest` is empty on purpose: plain TensorFlow.js refuses the directory (weights missing) instead of
// loading random weights; Insight's reader (model_io.ts readModelArtifacts) expands it to the dense float32 weights,
// bit for bit with float32 values, so every command loads it like any model directory.
import { tf } from '../backend';
import { ruleError } from '../errors';
import { decodeTensor, type SparseEncoding } from '../format/weights/sparse_tensor';
import type { StoredValues } from '../format/weights/sparse_values';

/** model.json's `insightSparse`: one entry per weight, in the order of the bytes. */
export interface SparseManifest {
  formatVersion: 1;
  paths: string[];
  weights: {
    name: string; shape: number[]; dtype: 'float32' | 'int32'; encoding: SparseEncoding; nnz: number; byteLength: number;
    /** How the stored values are kept (absent: float32). */
    values?: StoredValues;
  }[];
}

export type SparseModelJson = tf.io.ModelJSON & { insightSparse?: SparseManifest };

/** Dense ModelArtifacts from a sparse model.json and its weight bytes (the files of `insightSparse.paths`, joined). */
export function decodeSparseArtifacts(modelJson: SparseModelJson, bin: Uint8Array): tf.io.ModelArtifacts {
  const manifest = modelJson.insightSparse!;
  const expected = manifest.weights.reduce((sum, w) => sum + w.byteLength, 0);
  if (bin.length !== expected) {
    throw ruleError('INSIGHT_E_MODEL', 'A sparse model directory\'s weight files must hold the bytes its model.json lists.',
      { files: manifest.paths.join(','), expectedBytes: expected, bytes: bin.length }, 'Copy the whole model directory again, or write it again with `insight compress`.');
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const dense = new Uint8Array(manifest.weights.reduce((a, w) => a + 4 * w.shape.reduce((x, y) => x * y, 1), 0));
  let read = 0;
  let written = 0;
  for (const w of manifest.weights) {
    const count = w.shape.reduce((a, b) => a * b, 1);
    const bytes = bin.subarray(read, read + w.byteLength);
    read += w.byteLength;
    const values = decodeTensor(bytes, w.encoding, count, w.nnz, w.shape.length === 0 ? 1 : w.shape[w.shape.length - 1], w.values);
    dense.set(new Uint8Array(values.buffer), written);
    written += 4 * count;
    specs.push({ name: w.name, shape: w.shape, dtype: w.dtype });
  }
  return {
    modelTopology: modelJson.modelTopology, format: modelJson.format, generatedBy: modelJson.generatedBy, convertedBy: modelJson.convertedBy,
    userDefinedMetadata: modelJson.userDefinedMetadata, weightSpecs: specs, weightData: dense.buffer,
  };
}
