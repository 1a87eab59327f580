// The two models of a distillation run. The teacher: a trained model with Insight metadata (a run or a model
// directory), whose classes must be the data's, in the same order — logits are compared position by position —
// and whose input size must be the data's. The student: a zoo architecture or your own model (a module or a
// model.json, as train's --model) built for the data, or a run / model directory whose weights it starts from.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { Normalization } from '../../data';
import { ruleError } from '../../errors';
import { buildCustomModel, describeCustomSource, resolveCustomModel } from '../../models/custom_model';
import { getInsightMetadata, type InsightModelMetadata } from '../../models/metadata';
import { createModel } from '../../models/registry';
import { loadModel, resolveModelDir } from '../../run/model_io';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../train/config';
import type { RunData } from '../../train/data_setup';
import type { StudentChoice } from './config';

export interface LoadedModel {
  model: tfl.LayersModel;
  /** The model directory it was loaded from. */
  dir: string;
  metadata: InsightModelMetadata;
}

/** Loads a model directory or completed run as a classifier with Insight metadata (INSIGHT_E_MODEL otherwise). */
export async function loadClassifier(target: string, role: 'teacher' | 'student'): Promise<LoadedModel> {
  const dir = resolveModelDir(target);
  const model = await loadModel(dir);
  try {
    if (model.inputs.length !== 1 || model.outputs.length !== 1 || model.outputs[0].shape.length !== 2) {
      throw ruleError('INSIGHT_E_MODEL', `A ${role} must map one image input to one [batch, classes] output of logits.`,
        { [role]: dir, inputs: model.inputs.map((t) => t.shape), outputs: model.outputs.map((t) => t.shape) },
        'Pass an image classifier, e.g. a run of `insight train`.');
    }
    return { model, dir, metadata: getInsightMetadata(model, dir) };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Throws INSIGHT_E_CONFIG unless `model` (the teacher, or a student loaded from a directory) has the data's classes in
 * the data's order and takes images of the data's size. The message names both class lists.
 */
export function checkMatchesData(loaded: LoadedModel, role: 'teacher' | 'student', data: RunData): void {
  const names = loaded.metadata.classNames;
  const dataNames = data.classNames;
  if (names.length !== dataNames.length || names.some((name, i) => name !== dataNames[i])) {
    throw ruleError('INSIGHT_E_CONFIG', `The ${role}'s classes must be the data's, with the same names in the same order (distillation compares logits position by position).`,
      { [`${role}Classes`]: names, dataClasses: dataNames, [role]: loaded.dir },
      `Distill on the data the ${role} was trained on (its --data and classes), or pass a ${role} trained on these classes.`);
  }
  const [h, w] = loaded.metadata.inputShape;
  if (h !== data.train.height || w !== data.train.width) {
    throw ruleError('INSIGHT_E_CONFIG', `The ${role} must take images of the data's size.`,
      { [`${role}Input`]: `${h}x${w}`, images: `${data.train.height}x${data.train.width}`, [role]: loaded.dir },
      `Pass --image-size ${h} for an image folder, or a ${role} built for ${data.train.height}x${data.train.width} images.`);
  }
}

export interface Student {
  model: tfl.LayersModel;
  /** e.g. 'seed-cnn', 'custom ./my_model.ts', 'runs/x/model (its trained weights)'. */
  label: string;
  /** The student's input normalization: the run's (zoo, file) or the loaded model's own (directory). */
  normalization: Normalization;
}

/** depth, width and dropout build zoo students; a student from a file or directory has its own (and a directory its normalization). */
export function checkStudentOptions(config: TrainConfig, choice: StudentChoice): void {
  if (choice.kind === 'zoo') return;
  const keys = choice.kind === 'dir' ? ['depth', 'width', 'dropout', 'normalization'] as const : ['depth', 'width', 'dropout'] as const;
  const set = keys.filter((key) => config[key] !== TRAIN_DEFAULTS[key]);
  if (set.length > 0) {
    throw ruleError('INSIGHT_E_CONFIG', `${keys.join(', ')} configure a zoo student; a student from a ${choice.kind === 'dir' ? 'directory keeps its architecture and normalization' : 'file is built as the file says'}.`,
      { student: choice.path, ...Object.fromEntries(set.map((key) => [key, config[key]])) }, 'Drop those settings, or pass a zoo student (e.g. --student seed-cnn).');
  }
}

/** The student for the data: built (zoo, file) with the run's seed and normalization, or loaded (directory). */
export async function buildStudent(choice: StudentChoice, config: TrainConfig, data: RunData): Promise<Student> {
  const inputShape: [number, number, number] = [data.train.height, data.train.width, 3];
  if (choice.kind === 'zoo') {
    const model = createModel(choice.name, {
      inputShape, numClasses: data.classNames.length, classNames: data.classNames, normalization: data.normalization,
      seed: config.seed, dropout: config.dropout, depth: config.depth, width: config.width,
    });
    return { model, label: choice.name, normalization: data.normalization };
  }
  if (choice.kind === 'dir') {
    const loaded = await loadClassifier(choice.path, 'student');
    try {
      checkMatchesData(loaded, 'student', data);
    } catch (error) {
      loaded.model.dispose();
      throw error;
    }
    return { model: loaded.model, label: `${loaded.dir} (${loaded.metadata.architecture}, from its weights)`, normalization: loaded.metadata.normalization };
  }
  const source = await resolveCustomModel(choice);
  const model = await buildCustomModel(source, { inputShape, classNames: data.classNames, normalization: data.normalization, seed: config.seed });
  return { model, label: `custom ${describeCustomSource(source)}`, normalization: data.normalization };
}
