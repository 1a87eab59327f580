// Writing a model directory with sparse weights (run/sparse_weights.ts has the layout and its reader, which every
// command's model loading uses): model.json with `insightSparse` + weights.sparse.bin.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { tf } from '../../backend';
import { encodeTensor } from '../../format/weights/sparse_tensor';
import type { ValueType } from '../../format/weights/sparse_values';
import { concatArrays } from '../../math/concat_arrays';
import { writeDirAtomic } from '../../run/atomic';
import { MODEL_JSON, readModelArtifacts, weightBytes, WEIGHTS_SPARSE_BIN } from '../../run/model_io';
import type { SparseManifest, SparseModelJson } from '../../run/sparse_weights';
import { ruleError } from '../../errors';

/**
 * The files of a sparse model directory (name → bytes) for `artifacts` (dense float32 weights, as a model saves them);
 * `values`: how the stored float32 values are kept (float32, bit for bit; float16; uint8).
 */
export function encodeSparseModelFiles(artifacts: tf.io.ModelArtifacts, values: ValueType = 'float32'): Record<string, string | Uint8Array> {
  const specs = artifacts.weightSpecs ?? [];
  const data = weightBytes(artifacts);
  const entries: SparseManifest['weights'] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw ruleError('INSIGHT_E_MODEL', 'Sparse storage keeps float32 and int32 weights.', { weight: spec.name, dtype: spec.dtype },
      'Store this model as float32 (--weights float32) or cast the weight first.');
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
  const bin = concatArrays(parts, Uint8Array);
  if (artifacts.modelTopology instanceof ArrayBuffer) throw ruleError('INSIGHT_E_MODEL', 'Sparse storage keeps layers models (a JSON topology).', { topology: 'binary (a graph model)' },
    'Store a tf.layers model.');
  const modelJson: SparseModelJson = {
    modelTopology: artifacts.modelTopology ?? {},
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [],
    insightSparse: { formatVersion: 1, paths: [`./${WEIGHTS_SPARSE_BIN}`], weights: entries },
  };
  if (artifacts.userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  return { [MODEL_JSON]: JSON.stringify(modelJson), [WEIGHTS_SPARSE_BIN]: bin };
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
 * An IOHandler that saves a model directory with sparse weights (model.json + weights.sparse.bin, atomically) and
 * loads any model directory, sparse or dense, as model_io's reader does.
 * Example: `await model.save(sparseModelHandler(dir))`; `const model = await tfl.loadLayersModel(sparseModelHandler(dir))`.
 */
export function sparseModelHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      writeDirAtomic(dir, encodeSparseModelFiles(artifacts));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    load: () => readModelArtifacts(dir),
  };
}
