// TensorFlow.js "layers" model files on the local disk: `model.json` (topology, weights manifest, Insight
// metadata) and `weights.bin`, the layout `tf.loadLayersModel` reads anywhere. tfjs-node's file:// handler is
// not available here, so this is ours; its writes are atomic (the directory appears complete or not at all).
// This module owns a model directory's file names (MODEL_JSON, WEIGHTS_BIN): a model directory lives inside a run
// (model/, each checkpoint) but also anywhere else (a serving repository, a copy); run_dir.ts owns where it sits.
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { InsightError, ruleError } from '../errors';
import { writeDirAtomic } from './atomic';
import { RunDir } from './run_dir';
import { decodeSparseArtifacts, type SparseModelJson } from './sparse_weights';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
/** The weights of a model directory stored sparse (`insight compress --weights sparse*`; sparse_weights.ts). */
export const WEIGHTS_SPARSE_BIN = 'weights.sparse.bin';
/** The ONNX version of a model directory's model (`insight export`), beside or instead of model.json. */
export const MODEL_ONNX = 'model.onnx';

/**
 * An IOHandler for a model directory, like tfjs-node's `file://` handler: `save` writes model.json +
 * weights.bin atomically, `load` reads them back.
 * Example: `await model.save(fileModelHandler('runs/x/model'))`; `await tfl.loadLayersModel(fileModelHandler(dir))`.
 */
export function fileModelHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      writeDirAtomic(dir, encodeModelFiles(artifacts, {}));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      return readModelArtifacts(dir);
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
 * (sparse_weights.ts) comes back with its dense weights.
 */
export async function readModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = path.join(dir, MODEL_JSON);
  let modelJson: SparseModelJson;
  try {
    modelJson = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as SparseModelJson;
  } catch (error) {
    throw ruleError('INSIGHT_E_MODEL', `A model directory must contain a readable, valid ${MODEL_JSON}.`,
      { model: dir, error: (error as Error).message }, 'Pass the model/ directory of a completed run, or the run directory itself.');
  }
  if (modelJson.insightSparse !== undefined) return decodeSparseArtifacts(modelJson, new Uint8Array(readWeightFiles(dir, modelJson.insightSparse.paths)));
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const joined = readWeightFiles(dir, manifest.flatMap((group) => group.paths));
    return [manifest.flatMap((group) => group.weights), joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength)];
  });
}

/** The weight files model.json lists, joined in order. */
function readWeightFiles(dir: string, paths: string[]) {
  return Buffer.concat(paths.map((relative) => {
    const file = path.join(dir, relative);
    if (!fs.existsSync(file)) {
      throw ruleError('INSIGHT_E_MODEL', `Every weight file listed in ${MODEL_JSON} must exist.`, { missing: file },
        'Copy the whole model directory, not only model.json.');
    }
    return fs.readFileSync(file);
  }));
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

/** Loads a layers model from a model directory or a completed run directory. */
export async function loadModel(target: string): Promise<tfl.LayersModel> {
  const dir = resolveModelDir(target);
  try {
    return await tfl.loadLayersModel(fileModelHandler(dir));
  } catch (error) {
    if (error instanceof InsightError) throw error;
    throw ruleError('INSIGHT_E_MODEL', 'The model directory must hold a TensorFlow.js layers model.',
      { model: dir, error: (error as Error).message }, 'Re-save the model with Insight, or pass another directory.');
  }
}

/** Saves `model` to `dir` (model.json + weights.bin), atomically. */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(fileModelHandler(dir));
}
