// Loading the model to fine-tune: any TensorFlow.js layers model directory. Insight's own models (a run
// directory or its model/) describe themselves; a model from elsewhere (tfjs-converter output, a Keras export)
// has no Insight metadata, so its input shape comes from the model (or --input-shape) and its preprocessing from
// --normalization, with a clear message saying what was assumed.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { Normalization } from '../data';
import { ruleError } from '../errors';
import { getInsightMetadata, type InsightModelMetadata } from '../models/metadata';
import { loadModel, resolveModelDir } from '../run/model_io';

export interface BaseModel {
  model: tfl.LayersModel;
  dir: string;
  /** Insight metadata of the base, completed from the options when the model had none. */
  metadata: InsightModelMetadata;
  /** True when the model carried Insight metadata. */
  described: boolean;
  /** What was assumed for a model without metadata (empty otherwise), to print. */
  notices: string[];
}

export interface BaseModelOptions {
  /** [height, width, 3]: required only when the model's input shape is not fully defined. */
  inputShape?: [number, number, number] | null;
  /** Overrides the preprocessing; required knowledge for models from elsewhere (default: scale, x/255). */
  normalization?: Normalization | null;
}

/**
 * Loads `target` (a model directory or a completed run) as a fine-tuning base.
 * Example: `const base = await loadBaseModel('runs/20261129-041812-a3f9')`.
 */
export async function loadBaseModel(target: string, options: BaseModelOptions = {}): Promise<BaseModel> {
  const dir = resolveModelDir(target);
  const model = await loadModel(dir);
  try {
    if (model.inputs.length !== 1 || model.outputs.length !== 1 || model.outputs[0].shape.length !== 2) {
      throw ruleError('INSIGHT_E_MODEL', 'A base model must map one image input to one [batch, classes] output.',
        { model: dir, inputs: model.inputs.map((t) => t.shape), outputs: model.outputs.map((t) => t.shape) },
        'Fine-tune an image classifier (e.g. a model trained with `insight train`).');
    }
    const described = (model.getUserDefinedMetadata() as { insight?: unknown } | undefined)?.insight !== undefined;
    const notices: string[] = [];
    const modelShape = model.inputs[0].shape.slice(1);
    let metadata: InsightModelMetadata;
    if (described) {
      metadata = getInsightMetadata(model, dir);
      if (options.normalization) metadata = { ...metadata, normalization: options.normalization };
      if (metadata.ensemble !== undefined || metadata.inference?.output === 'probabilities') {
        // Its output is averaged probabilities: a new head and every loss here expect logits, and its "features" are
        // several members' graphs side by side.
        const members = metadata.ensemble?.members.map((m) => m.path) ?? [];
        throw ruleError('INSIGHT_E_MODEL', 'A base model must output logits; an ensemble outputs its members\' averaged probabilities.',
          { model: dir, output: 'probabilities', members: members.join(', ') || '(unknown)' },
          'Fine-tune one of its members (or each, then `insight ensemble` the fine-tuned models again).');
      }
    } else {
      const inputShape = options.inputShape ?? (modelShape.every((d) => typeof d === 'number') ? modelShape as [number, number, number] : null);
      if (inputShape === null) {
        throw ruleError('INSIGHT_E_CONFIG', 'A base model without Insight metadata and without a fixed input size needs inputShape.',
          { model: dir, modelInputShape: modelShape }, 'Pass --input-shape <height>,<width>,3, e.g. --input-shape 32,32,3.');
      }
      const numClasses = model.outputs[0].shape[1] as number;
      metadata = {
        formatVersion: 1,
        architecture: model.name,
        architectureOptions: {},
        inputShape,
        classNames: Array.from({ length: numClasses }, (_, i) => String(i)),
        normalization: options.normalization ?? { kind: 'scale' },
      };
      notices.push(`The base model ${dir} has no Insight metadata: input shape ${inputShape.join('x')} (${options.inputShape ? 'from --input-shape' : 'from the model'}), ` +
        `normalization ${options.normalization ? describe(options.normalization) : 'scale (x/255), assumed: pass --normalization if it was trained otherwise'}, ` +
        `${numClasses} unnamed base classes.`);
    }
    const [h, w, c] = metadata.inputShape;
    if (c !== 3 || (typeof modelShape[0] === 'number' && (modelShape[0] !== h || modelShape[1] !== w))) {
      throw ruleError('INSIGHT_E_CONFIG', 'inputShape must be [height, width, 3] and match the model\'s own input size.',
        { inputShape: metadata.inputShape, modelInputShape: modelShape }, 'Pass the size the model was built for.');
    }
    return { model, dir, metadata, described, notices };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

function describe(n: Normalization): string {
  return n.kind === 'scale' ? 'scale (x/255)' : `meanstd (mean ${n.mean.join(',')}, std ${n.std.join(',')})`;
}
