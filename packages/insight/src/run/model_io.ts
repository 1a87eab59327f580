// TensorFlow.js "layers" model files on the local disk: `model.json` (topology, weights manifest, Insight
// metadata) and `weights.bin`, the layout `tf.loadLayersModel` reads anywhere. tfjs-node's file:// handler is
// not available here, so this is ours; its writes are atomic (the directory appears complete or not at all).
// This module owns a model directory's file names (MODEL_JSON, WEIGHTS_BIN): a model directory lives inside a run
// (model/, each checkpoint) but also anywhere else (a serving repository, a copy); run_dir.ts owns where it sits.
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { InsightError, ruleError, typeOf } from '../errors';
import { writeDirAtomic } from './atomic';
import { RunDir } from './run_dir';
import { MAX_JSON_BYTES, ModelFileError, ModelFileReader, type ModelReadOptions } from './safe_files';
import { decodeSparseArtifacts, type SparseModelJson } from './sparse_weights';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
/** The weights of a model directory stored sparse (`insight compress --weights sparse*`; sparse_weights.ts). */
export const WEIGHTS_SPARSE_BIN = 'weights.sparse.bin';
/** The ONNX version of a model directory's model (`insight export`), beside or instead of model.json. */
export const MODEL_ONNX = 'model.onnx';

/**
 * An IOHandler for a model directory, like tfjs-node's `file://` handler: `save` writes model.json +
 * weights.bin atomically, `load` reads them back (checked as `read` says: safe_files.ts).
 * Example: `await model.save(fileModelHandler('runs/x/model'))`; `await tfl.loadLayersModel(fileModelHandler(dir))`.
 */
export function fileModelHandler(dir: string, read: ModelReadOptions = {}): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      writeDirAtomic(dir, encodeModelFiles(artifacts, {}));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      return readModelArtifacts(dir, read);
    },
  };
}

/**
 * The files of a model directory as name → bytes; `extra` files (e.g. a checkpoint's optimizer state) are added.
 * Weight data of any layout (one buffer or several) is joined into one `weights.bin`.
 */
export function encodeModelFiles(artifacts: tf.io.ModelArtifacts, extra: Record<string, string | Uint8Array>): Record<string, string | Uint8Array> {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new Error('Saving a model with a binary (GraphDef) topology is not supported; only layers models are.');
  }
  const weights = weightBytes(artifacts);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology ?? {},
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.trainingConfig !== undefined) modelJson.trainingConfig = artifacts.trainingConfig;
  return { [MODEL_JSON]: JSON.stringify(modelJson), [WEIGHTS_BIN]: new Uint8Array(weights), ...extra };
}

/** A model's weight data as one buffer, in manifest order (tfjs may hand it over in several parts). */
export function weightBytes(artifacts: tf.io.ModelArtifacts): ArrayBuffer {
  return artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
}

/**
 * Reads model.json and its weight files from `dir` into ModelArtifacts; a directory stored sparse
 * (sparse_weights.ts) comes back with its dense weights. Every file goes through one ModelFileReader (safe_files.ts):
 * regular files inside `dir` only, read asynchronously within `read.timeoutMs`, model.json under 64 MiB, and each
 * group of weight files exactly the bytes its manifest declares (shapes x dtype sizes; a sparse manifest's byteLengths).
 */
export async function readModelArtifacts(dir: string, read: ModelReadOptions = {}): Promise<tf.io.ModelArtifacts> {
  const files = new ModelFileReader(dir, read);
  let modelJson: SparseModelJson;
  try {
    modelJson = JSON.parse((await files.read(MODEL_JSON, { max: MAX_JSON_BYTES, what: `the ${MODEL_JSON} cap (64 MiB)` })).toString('utf8')) as SparseModelJson;
    if (typeof modelJson !== 'object' || modelJson === null) throw new Error(`${MODEL_JSON} holds ${typeOf(modelJson)}, not an object`);
  } catch (error) {
    if (error instanceof ModelFileError && error.problem !== 'missing') throw error;
    throw ruleError('INSIGHT_E_MODEL', `A model directory must contain a readable, valid ${MODEL_JSON}.`,
      { model: files.shown(dir), error: (error as Error).message }, 'Pass the model/ directory of a completed run, or the run directory itself.');
  }
  const sparse = modelJson.insightSparse;
  if (sparse !== undefined) {
    const declared = Array.isArray(sparse.weights) ? sparse.weights.reduce((sum, w) => sum + (Number.isSafeInteger(w.byteLength) && w.byteLength >= 0 ? w.byteLength : NaN), 0) : NaN;
    return decodeSparseArtifacts(modelJson, await readWeightFiles(files, sparse.paths, declared, `${MODEL_JSON}'s insightSparse`));
  }
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const groups: Buffer<ArrayBuffer>[] = [];
    for (const group of manifest) groups.push(await readWeightFiles(files, group.paths, declaredBytes(group.weights), `${MODEL_JSON}'s weightsManifest`));
    const joined = groups.length === 1 ? groups[0] : Buffer.concat(groups);
    return [manifest.flatMap((group) => group.weights), joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength)];
  });
}

/** Bytes per value of a weight's stored dtype (its quantization dtype when quantized). */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** The bytes a manifest group's weights take (product of shape x dtype size each); NaN when a spec cannot say. */
function declaredBytes(weights: tf.io.WeightsManifestEntry[]): number {
  if (!Array.isArray(weights)) return NaN;
  return weights.reduce((sum, w) => {
    const shape = Array.isArray(w?.shape) && w.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ? w.shape : null;
    const size = DTYPE_BYTES[w?.quantization?.dtype ?? w?.dtype];
    return sum + (shape === null || size === undefined ? NaN : shape.reduce((a, d) => a * d, 1) * size);
  }, 0);
}

/** One group of weight files (`paths`, in order), joined: together exactly `declared` bytes, as `what` declares. */
async function readWeightFiles(files: ModelFileReader, paths: unknown, declared: number, what: string): Promise<Buffer<ArrayBuffer>> {
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string') || !Number.isSafeInteger(declared)) {
    throw ruleError('INSIGHT_E_MODEL', `${what} must list weight file paths and weights whose sizes it declares (shape and a numeric dtype each).`,
      { model: files.shown(files.dir), paths: Array.isArray(paths) ? paths.length : typeOf(paths), declaredBytes: declared },
      'Re-save the model with Insight (or tfjs), or copy the whole model directory again.');
  }
  files.checkBudget(declared, what);
  const parts: Buffer<ArrayBuffer>[] = [];
  let left = declared;
  for (const relative of paths as string[]) {
    const bytes = await files.read(relative, { max: left, what, declared: true });
    parts.push(bytes);
    left -= bytes.length;
  }
  if (left !== 0) {
    throw new ModelFileError('size_mismatch', `A model directory's weight files must hold the bytes its ${MODEL_JSON} lists.`,
      { files: paths.map((p) => files.shown(path.join(files.dir, p))).join(','), manifest: what, expectedBytes: declared, bytes: declared - left },
      'Copy the whole model directory again; its weights and model.json must come from one save.');
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * The model directory for `target`: `target` itself when it holds model.json, else `target/model` (a completed
 * run directory). Throws INSIGHT_E_MODEL otherwise, saying what was found.
 */
export function resolveModelDir(target: string): string {
  if (fs.existsSync(path.join(target, MODEL_JSON))) return target;
  const run = RunDir.at(target);
  if (fs.existsSync(path.join(run.modelDir, MODEL_JSON))) return run.modelDir;
  if (fs.existsSync(run.runJson)) {
    throw ruleError('INSIGHT_E_MODEL', 'A run has a model/ directory only once it has completed.', { run: target },
      'Wait for the run to finish, resume it with `insight train --resume <run dir>`, or pass a checkpoint ' +
      `directory (e.g. ${RunDir.at('<run dir>').bestCheckpoint}), which is a model directory too.`);
  }
  throw ruleError('INSIGHT_E_MODEL', `The model path must be a directory with ${MODEL_JSON}, or a completed run directory.`,
    { model: target, exists: fs.existsSync(target) }, 'Pass e.g. runs/<run-id> or runs/<run-id>/model.');
}

/** Loads a layers model from a model directory or a completed run directory (its files read as `read` says). */
export async function loadModel(target: string, read: ModelReadOptions = {}): Promise<tfl.LayersModel> {
  const dir = resolveModelDir(target);
  try {
    return await tfl.loadLayersModel(fileModelHandler(dir, read));
  } catch (error) {
    if (error instanceof InsightError) throw error;
    throw ruleError('INSIGHT_E_MODEL', 'The model directory must hold a TensorFlow.js layers model.',
      { model: read.shownFrom === undefined ? dir : path.relative(read.shownFrom, dir), error: (error as Error).message },
      'Re-save the model with Insight, or pass another directory.');
  }
}

/** Saves `model` to `dir` (model.json + weights.bin), atomically. */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(fileModelHandler(dir));
}
