// A model's files in each weights format compress writes, and their sizes: float32 (tfjs's own), float16 and uint8
// (tfjs-converter's quantized manifests: plain tf.loadLayersModel reads them) and sparse, sparse-float16, sparse-uint8
// (sparse_model.ts: pruned zeros left out, the kept values as float32, float16 or uint8). Sizes are
// the weight files' bytes, raw and gzipped (node:zlib, level 9, as a web server would send them), next to the dense
// float32 weights' — model.json is the same few kilobytes in every format and is not counted.
import * as zlib from 'node:zlib';

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { writeDirAtomic } from '../../run/atomic';
import { encodeModelFiles, MODEL_JSON, weightBytes } from '../../run/model_io';
import { encodeSparseModelFiles } from './sparse_model';
import { quantizeArtifacts } from '../../format/weights/tfjs_quantization';

import { WEIGHT_FORMATS, type WeightFormat } from './weight_formats';

export { WEIGHT_FORMATS, type WeightFormat };

export interface WeightSizes {
  format: WeightFormat;
  /** Bytes of the weight file(s) as written. */
  bytes: number;
  gzipBytes: number;
  /** The same weights as dense float32 (tfjs's weights.bin). */
  denseBytes: number;
  denseGzipBytes: number;
  /** bytes / denseBytes and gzipBytes / denseBytes. */
  ratio: number;
  gzipRatio: number;
}

/** The model's artifacts as `model.save` hands them to a handler (dense float32 weights). */
export async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  return saved!;
}

/** A model directory's files (name → bytes) in `format`. */
export function encodeWeightFormat(artifacts: tf.io.ModelArtifacts, format: WeightFormat): Record<string, string | Uint8Array> {
  if (format === 'sparse') return encodeSparseModelFiles(artifacts);
  if (format === 'sparse-float16') return encodeSparseModelFiles(artifacts, 'float16');
  if (format === 'sparse-uint8') return encodeSparseModelFiles(artifacts, 'uint8');
  return encodeModelFiles(format === 'float32' ? artifacts : quantizeArtifacts(artifacts, format), {});
}

const gzipSize = (bytes: Uint8Array) => zlib.gzipSync(bytes, { level: 9 }).length;

/** Sizes of the weight files among `files` (everything but model.json) against the dense float32 weights. */
export function weightSizes(artifacts: tf.io.ModelArtifacts, files: Record<string, string | Uint8Array>, format: WeightFormat): WeightSizes {
  const dense = new Uint8Array(weightBytes(artifacts));
  const weights = Object.entries(files).filter(([name]) => name !== MODEL_JSON).map(([, bytes]) => (typeof bytes === 'string' ? Buffer.from(bytes) : bytes));
  const bytes = weights.reduce((a, b) => a + b.length, 0);
  const gzipBytes = weights.reduce((a, b) => a + gzipSize(b), 0);
  const denseGzipBytes = gzipSize(dense);
  return { format, bytes, gzipBytes, denseBytes: dense.length, denseGzipBytes, ratio: bytes / dense.length, gzipRatio: gzipBytes / dense.length };
}

/**
 * Writes `model` to `dir` in `format` (atomically; `extra` files beside it) and returns the weights' sizes.
 * Example: `const sizes = await writeModelAs(model, 'out/model', 'uint8')`.
 */
export async function writeModelAs(model: tfl.LayersModel, dir: string, format: WeightFormat, extra: Record<string, string | Uint8Array> = {}): Promise<WeightSizes> {
  const artifacts = await modelArtifacts(model);
  const files = encodeWeightFormat(artifacts, format);
  const sizes = weightSizes(artifacts, files, format);
  writeDirAtomic(dir, { ...files, ...extra });
  return sizes;
}
