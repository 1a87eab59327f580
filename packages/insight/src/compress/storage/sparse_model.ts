// A model directory with sparse weights: model.json (topology, Insight metadata, and `insightSparse`, the manifest of
// the sparse weights) + weights.sparse.bin (each tensor in its smallest encoding, sparse_tensor.ts, one after the
// other; the stored values float32, or float16 / uint8 as tfjs quantizes weights). Its `weightsManifest` is empty on purpose: plain TensorFlow.js refuses the directory (weights missing)
// instead of loading random weights; `sparseModelHandler(dir)` expands it back to the dense float32 weights (bit for
// bit with float32 values), so `tf.loadLayersModel(sparseModelHandler(dir))` gives the model.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { tf } from '../../backend';
import { ruleError } from '../../errors';
import { writeDirAtomic } from '../../run/atomic';
import { MODEL_JSON, readModelArtifacts } from '../../run/model_io';
import { COMPRESSION_FILES } from '../../run/run_dir';
import { decodeTensor, encodeTensor, type SparseEncoding } from './sparse_tensor';
import type { StoredValues, ValueType } from './sparse_values';

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

type SparseModelJson = tf.io.ModelJSON & { insightSparse?: SparseManifest };

/**
 * The files of a sparse model directory (name → bytes) for `artifacts` (dense float32 weights, as a model saves them);
 * `values`: how the stored float32 values are kept (float32, bit for bit; float16; uint8).
 */
export function encodeSparseModelFiles(artifacts: tf.io.ModelArtifacts, values: ValueType = 'float32'): Record<string, string | Uint8Array> {
  const specs = artifacts.weightSpecs ?? [];
  const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const entries: SparseManifest['weights'] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new Error(`Sparse storage keeps float32 and int32 weights; ${spec.name} is ${spec.dtype}.`);
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const raw = data.slice(offset, offset + 4 * count);
    offset += 4 * count;
    // int32 weights are bit patterns too: stored whole.
    const encoded = spec.dtype === 'float32'
      ? encodeTensor(new Float32Array(raw), spec.shape.length === 0 ? 1 : spec.shape[spec.shape.length - 1], values)
      : { encoding: 'dense' as const, nnz: count, bytes: new Uint8Array(raw), values: { type: 'float32' as const } };
    parts.push(encoded.bytes);
    entries.push({
      name: spec.name, shape: spec.shape, dtype: spec.dtype, encoding: encoded.encoding, nnz: encoded.nnz, byteLength: encoded.bytes.length,
      ...encoded.values.type === 'float32' ? {} : { values: encoded.values },
    });
  }
  const bin = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bin.set(p, at);
    at += p.length;
  }
  if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('Sparse storage keeps layers models (a JSON topology).');
  const modelJson: SparseModelJson = {
    modelTopology: artifacts.modelTopology ?? {},
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [],
    insightSparse: { formatVersion: 1, paths: [`./${COMPRESSION_FILES.sparseWeights}`], weights: entries },
  };
  if (artifacts.userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  return { [MODEL_JSON]: JSON.stringify(modelJson), [COMPRESSION_FILES.sparseWeights]: bin };
}

/** Dense ModelArtifacts from a sparse model.json and its weight bytes. */
export function decodeSparseArtifacts(modelJson: SparseModelJson, bin: Uint8Array): tf.io.ModelArtifacts {
  const manifest = modelJson.insightSparse!;
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

/** True when `dir`'s model.json stores its weights sparse. */
export function isSparseModelDir(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), 'utf8')) as SparseModelJson).insightSparse !== undefined;
  } catch {
    return false;
  }
}

/**
 * An IOHandler for a sparse model directory: `save` writes model.json + weights.sparse.bin atomically, `load` expands
 * them to the dense weights (any other model directory loads as model_io's reader loads it).
 * Example: `await model.save(sparseModelHandler(dir))`; `const model = await tfl.loadLayersModel(sparseModelHandler(dir))`.
 */
export function sparseModelHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      writeDirAtomic(dir, encodeSparseModelFiles(artifacts));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!isSparseModelDir(dir)) return readModelArtifacts(dir);
      const modelJson = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), 'utf8')) as SparseModelJson;
      const files = modelJson.insightSparse!.paths.map((p) => path.join(dir, p));
      const missing = files.filter((f) => !fs.existsSync(f));
      if (missing.length > 0) {
        throw ruleError('INSIGHT_E_MODEL', `Every weight file listed in ${MODEL_JSON} must exist.`, { missing: missing.join(',') },
          'Copy the whole model directory, not only model.json.');
      }
      return decodeSparseArtifacts(modelJson, new Uint8Array(Buffer.concat(files.map((f) => fs.readFileSync(f)))));
    },
  };
}
