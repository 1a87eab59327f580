// The members of an ensemble: each loaded from its directory (a run or model directory, resolved as evaluate does),
// its Insight metadata read, and checked against the first member's — input shape, class names and normalization
// must be the same, or averaging their probabilities means nothing.
import { createHash } from 'node:crypto';

import type * as tfl from '@tensorflow/tfjs-layers';

import { ruleError } from '../errors';
import { getInsightMetadata, type InsightModelMetadata } from '../models/metadata';
import { resolveInference } from '../models/inference_output';
import { loadModel, resolveModelDir } from '../run/model_io';

/** One loaded member. */
export interface LoadedMember {
  /** The model directory it was loaded from. */
  dir: string;
  /** What the user named (a run directory, a model directory, or a snapshot's directory). */
  given: string;
  model: tfl.LayersModel;
  metadata: InsightModelMetadata;
  /** Its metadata's output kind and temperature (models/inference_output.ts's reading of them). */
  output: 'logits' | 'probabilities';
  temperature: number;
  /** Snapshot ensembles: the epoch of the snapshot. */
  epoch?: number;
}

/** Loads `target` (run or model directory) as a member; `epoch` is recorded for snapshots. */
export async function loadMember(target: string, epoch?: number): Promise<LoadedMember> {
  const dir = resolveModelDir(target);
  const model = await loadModel(dir);
  try {
    const metadata = getInsightMetadata(model, dir);
    const { output, temperature } = resolveInference(metadata, dir);
    if (output === 'probabilities' && temperature !== 1) {
      throw ruleError('INSIGHT_E_MODEL', 'An ensemble member whose output is already probabilities (an ensemble) must not carry a temperature.',
        { member: dir, output, temperature }, 'Build the ensemble from that ensemble\'s own members, or from a copy saved without its temperature.');
    }
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw ruleError('INSIGHT_E_MODEL', 'An ensemble member must have one input and one output.',
        { member: dir, inputs: model.inputs.length, outputs: model.outputs.length }, 'Pass classifiers saved by insight (runs/<id>/model).');
    }
    return { dir, given: target, model, metadata, output, temperature, ...(epoch === undefined ? {} : { epoch }) };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The fields every member must share with the first, with how a difference is shown. */
const SHARED_FIELDS = ['inputShape', 'classNames', 'normalization'] as const;

/**
 * Throws INSIGHT_E_MODEL naming the first member that differs from members[0] in input shape, class names or
 * normalization, and the field.
 */
export function checkMembersAgree(members: LoadedMember[]): void {
  const first = members[0];
  for (const member of members.slice(1)) {
    for (const field of SHARED_FIELDS) {
      const a = JSON.stringify(first.metadata[field]);
      const b = JSON.stringify(member.metadata[field]);
      if (a !== b) {
        throw ruleError('INSIGHT_E_MODEL', `Ensemble members must agree on ${field}: their probabilities are averaged class by class, on the same input.`,
          { member: member.given, [field]: member.metadata[field], firstMember: first.given, [`firstMember.${field}`]: first.metadata[field] },
          'Ensemble models trained on the same data with the same classes, image size and --normalization.');
      }
    }
  }
}

/** sha256 (hex) of a model's weights: each weight's dtype and shape, then its bytes, in the model's weight order. */
export async function weightsFingerprint(model: tfl.LayersModel): Promise<string> {
  const hash = createHash('sha256');
  for (const weight of model.weights) {
    const values = await weight.read().data();
    hash.update(JSON.stringify({ dtype: weight.dtype, shape: weight.shape }));
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}
