// A checkpoint is a directory: the model (model.json + weights.bin, itself a loadable model directory), the
// optimizer's state (optimizer.json + optimizer.bin) and the trainer's state (trainer.json: epoch, step,
// schedule position, callback state, seeds). It is written with `writeDirAtomic`, so it is complete or absent.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { ruleError } from '../errors';
import { resolveCompleteDir, writeDirAtomic } from './atomic';
import { encodeModelFiles, readModelArtifacts } from './model_io';

const OPTIMIZER_JSON = 'optimizer.json';
const OPTIMIZER_BIN = 'optimizer.bin';
const TRAINER_JSON = 'trainer.json';

/** A tensor with a name (tfjs-core's NamedTensor, which its package index does not export). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** What a checkpoint holds besides the model. `trainer` is any JSON the trainer needs to continue exactly. */
export interface CheckpointContents<TrainerState> {
  optimizerName: string;
  /** The optimizer's tensors (moments, iteration ...), by name. */
  optimizerState: NamedTensor[];
  trainer: TrainerState;
}

/** Writes model + optimizer + trainer state to `dir` atomically. */
export async function writeCheckpoint<T>(dir: string, model: tfl.LayersModel, contents: CheckpointContents<T>): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
  }));
  const optimizer = await tf.io.encodeWeights(contents.optimizerState);
  const files = encodeModelFiles(artifacts!, {
    [OPTIMIZER_JSON]: JSON.stringify({ name: contents.optimizerName, weights: optimizer.specs }),
    [OPTIMIZER_BIN]: new Uint8Array(tf.io.CompositeArrayBuffer.join(optimizer.data)),
    [TRAINER_JSON]: JSON.stringify(contents.trainer, null, 2),
  });
  writeDirAtomic(dir, files);
}

/** True when `dir` (or the complete copy a killed writer left beside it) holds a complete checkpoint. */
export function hasCheckpoint(dir: string): boolean {
  const complete = resolveCompleteDir(dir);
  return complete !== null && fs.existsSync(path.join(complete, TRAINER_JSON));
}

/** A checkpoint read back: weights in model.weights order, optimizer tensors by name, trainer state. */
export interface LoadedCheckpoint<T> {
  dir: string;
  weights: tf.Tensor[];
  optimizerName: string;
  optimizerState: tf.NamedTensorMap;
  trainer: T;
}

/**
 * Reads the checkpoint at `dir` (or the complete copy a killed writer left beside it). The caller owns (and
 * must dispose) the returned tensors.
 */
export async function readCheckpoint<T>(dir: string): Promise<LoadedCheckpoint<T>> {
  const complete = resolveCompleteDir(dir);
  if (complete === null || !hasCheckpoint(complete)) {
    throw ruleError('INSIGHT_E_RESUME', 'Resuming needs a complete checkpoint directory.', { checkpoint: dir },
      'The run was stopped before its first epoch ended: start it again instead of resuming.');
  }
  try {
    const artifacts = await readModelArtifacts(complete);
    const weightMap = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
    const optimizerJson = JSON.parse(fs.readFileSync(path.join(complete, OPTIMIZER_JSON), 'utf8')) as {
      name: string; weights: tf.io.WeightsManifestEntry[];
    };
    const optimizerBytes = fs.readFileSync(path.join(complete, OPTIMIZER_BIN));
    const optimizerState = tf.io.decodeWeights(
      optimizerBytes.buffer.slice(optimizerBytes.byteOffset, optimizerBytes.byteOffset + optimizerBytes.byteLength),
      optimizerJson.weights);
    const trainer = JSON.parse(fs.readFileSync(path.join(complete, TRAINER_JSON), 'utf8')) as T;
    const weights = artifacts.weightSpecs!.map((spec) => weightMap[spec.name]);
    return { dir: complete, weights, optimizerName: optimizerJson.name, optimizerState, trainer };
  } catch (error) {
    throw ruleError('INSIGHT_E_RESUME', 'A checkpoint\'s files must be readable and consistent.',
      { checkpoint: complete, error: (error as Error).message }, 'The checkpoint was altered after it was written: restore it, or start the run again.');
  }
}

/**
 * Copies checkpoint weights into `model` by position (variable names differ between model instances in one
 * process), checking every shape.
 */
export function restoreWeights(model: tfl.LayersModel, weights: tf.Tensor[], source: string): void {
  const targets = model.weights;
  if (targets.length !== weights.length || targets.some((w, i) => !tf.util.arraysEqual(w.shape as number[], weights[i].shape))) {
    throw ruleError('INSIGHT_E_RESUME', 'A checkpoint must match the model it is restored into, weight for weight.',
      { checkpoint: source, checkpointWeights: weights.length, modelWeights: targets.length },
      'Resume with the run\'s own config (do not change the model or its options).');
  }
  model.setWeights(weights);
}
