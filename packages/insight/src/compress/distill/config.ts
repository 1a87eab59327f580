// The one typed config of a distillation run: `insight distill` flags, --config files and `distill(config)` all go
// through resolveDistillConfig, once. A distillation run is a training run of the student whose loss also follows a
// trained teacher, so every key of the training recipe (data, split, epochs, optimizer, schedule, augmentation ...)
// is train's own, with train's defaults; `student` takes the place of train's `model`, and may also be a run.
//
// Defaults: T = 4 and alpha = 0.9 on the softened term — the KD baseline of Tian et al. 2020 (CRD's RepDistiller,
// `--kd_T 4 -r 0.1 -a 0.9`, CIFAR students), and the split of Keras's distillation example (keras.io/examples/vision/
// knowledge_distillation: `alpha=0.1` weighs *its* student (label) loss, so 0.9 goes to distillation; it softens
// with temperature=10). Hinton et al. 2015 likewise found a considerably lower weight on the hard labels best.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../../errors';
import { CUSTOM_MODEL, MODEL_MODULE_EXTENSIONS, modelChoiceOf, type ModelChoice } from '../../models/model_choice';
import { MODEL_NAMES } from '../../models/names';
import { Text, validateConfig } from '../../run/config_schema';
import { resolveTrainConfig, TRAIN_SCHEMA, type TrainConfig } from '../../train/config';

// Mixup/CutMix are train's batch transform with a loss of their own, which the distillation loss would replace: left out.
// So is adversarial training (train's other batch transform, and its guard), which distill does not run.
const {
  model: _model, mixup: _mixup, cutmix: _cutmix, mixProb: _mixProb, mixSwitchProb: _mixSwitchProb,
  adversarial: _adversarial, eps: _eps, advAlpha: _advAlpha, advSteps: _advSteps, advGuardImages: _advGuardImages, advGuardSteps: _advGuardSteps,
  advGuardDrop: _advGuardDrop, advGuardRatio: _advGuardRatio, ...TRAIN_KEYS
} = TRAIN_SCHEMA.properties;

/** Every key of a distillation run's config: type, rule, default and help. Order = order in --help and the README. */
export const DISTILL_SCHEMA = Type.Object({
  teacher: Text({ placeholder: '<run>',
    help: 'The trained teacher: a run directory or a model directory with Insight metadata (its class names must be the data\'s, in order) (required).',
    missing: { rule: 'Distillation needs a trained teacher.', fix: 'Pass --teacher <run>: a completed run directory (e.g. of a resnet) or its model/ directory.' } }),
  student: Text({ default: 'seed-cnn', placeholder: '<name|file|run>',
    help: 'The model to train: a zoo architecture (seed-cnn, resnet), your own (a .ts/.js module or a model.json, as train\'s --model), or a run or model directory to start from its weights.' }),
  temperature: Type.Number({ default: 4, exclusiveMinimum: 0, placeholder: '<T>',
    help: 'Softens both softmaxes: the KL term compares softmax(teacher/T) with softmax(student/T) and is scaled by T^2.' }),
  alpha: Type.Number({ default: 0.9, minimum: 0, maximum: 1, placeholder: '<a>',
    help: 'Weight of the distillation term; the cross-entropy with the labels gets 1 - alpha (1 = the teacher alone, 0 = plain training).' }),
  ...TRAIN_KEYS,
});

/** The one typed config of a distillation run. */
export type DistillConfig = Static<typeof DISTILL_SCHEMA>;

/** The distillation-only keys; the others make the training recipe. */
export const DISTILL_ONLY = ['teacher', 'student', 'temperature', 'alpha'] as const satisfies readonly (keyof DistillConfig)[];

/** What `student` names: a zoo architecture or a model file (as train's --model), or a run / model directory. */
export type StudentChoice = Exclude<ModelChoice, { kind: 'custom' }> | { kind: 'dir'; path: string };

/**
 * Reads a `student` setting without loading TensorFlow.js. Throws INSIGHT_E_CONFIG for anything else.
 * Example: `studentChoiceOf('runs/small')` → { kind: 'dir', path: 'runs/small' } when that directory exists.
 */
export function studentChoiceOf(student: string): StudentChoice {
  if (fs.existsSync(student) && fs.statSync(student).isDirectory()) return { kind: 'dir', path: student };
  const ext = path.extname(student).toLowerCase();
  const file = (MODEL_MODULE_EXTENSIONS as readonly string[]).includes(ext) || ext === '.json';
  if (!file && !(MODEL_NAMES as readonly string[]).includes(student)) {
    throw ruleError('INSIGHT_E_CONFIG',
      `student must be a zoo model (${MODEL_NAMES.join(', ')}), a model file (${MODEL_MODULE_EXTENSIONS.join(', ')}, .json) or an existing run or model directory.`,
      { student, exists: fs.existsSync(student) }, 'Pass e.g. --student seed-cnn, --student ./my_model.ts or --student runs/<run-id>.');
  }
  return modelChoiceOf(student) as StudentChoice;
}

/**
 * The training recipe of a distillation config: its train keys, with `model` the student when it is a zoo model or
 * a file, else 'custom' (a directory's model is loaded as it is), checked by resolveTrainConfig's rules.
 */
export function trainConfigOf(config: DistillConfig, source = 'distillation config'): TrainConfig {
  const choice = studentChoiceOf(config.student);
  const recipe: Record<string, unknown> = { ...config, model: choice.kind === 'dir' ? CUSTOM_MODEL : config.student };
  for (const key of DISTILL_ONLY) delete recipe[key];
  return resolveTrainConfig(recipe, source);
}

/**
 * Validates a (partial) distillation config and fills in the defaults; throws INSIGHT_E_CONFIG (rule,
 * `Received: key=value`, fix) on the first problem. Example: `resolveDistillConfig({ teacher: 'runs/resnet', student: 'seed-cnn' })`.
 */
export function resolveDistillConfig(input: unknown = {}, source = 'distillation config'): DistillConfig {
  const config = validateConfig(DISTILL_SCHEMA, input, source);
  trainConfigOf(config, source); // the student's kind and train's own rules (resnet depth, validation for val_ monitors ...)
  return config;
}
