// `distill(config)`: one whole distillation run, as `insight distill` does it — load the trained teacher, load and
// split the data as train does, build (or load) the student, check the teacher's classes and input size against the
// data, evaluate the teacher on the split the student will be reported on, then train the student with train's loop
// and recipe, its loss the distillation loss (loss.ts) against the teacher's logits on every augmented batch
// (teacher_loss.ts), in a normal run directory: config.json (teacher, temperature, alpha and the recipe),
// metrics.jsonl, checkpoints/, report/ (the student), model/ (the student), and run.json's summary with the
// teacher's accuracy on the same images beside the student's.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { EvaluationMetrics } from '../../eval/metrics';
import { PLAIN_INFERENCE, resolveInference } from '../../models/inference_output';
import { recordRunData } from '../../run/dataset_source';
import type { Callback } from '../../train/callbacks/callback';
import type { TrainConfig } from '../../train/config';
import { createLoaders, evaluateOn, prepareData } from '../../train/data_setup';
import { createOptimizer, paramsOf, type Optimizer } from '../../train/optimizers';
import { checkPrecision } from '../../train/precision';
import { createSchedule } from '../../train/schedules';
import { RunSession } from '../../train/session';
import type { TrainerState } from '../../train/state';
import { monitorCallbacks } from '../../train/train';
import { fit, trainableVariables } from '../../train/trainer';
import { resolveDistillConfig, studentChoiceOf, trainConfigOf, type DistillConfig } from './config';
import { buildStudent, checkMatchesData, checkStudentOptions, loadClassifier, type LoadedModel } from './models';
import { teacherLoss } from './teacher_loss';

export interface DistillOptions {
  /** Where progress and info lines go (default process.stdout). */
  out?: NodeJS.WriteStream;
  /** Your callbacks, run after the built-in ones and before the checkpoint (as train()'s). */
  callbacks?: Callback[];
  /** Stop at SIGINT/SIGTERM after saving checkpoints/last (default true, as the CLI does). */
  handleSignals?: boolean;
}

export interface TeacherSummary {
  /** The teacher's model directory. */
  dir: string;
  architecture: string;
  parameters: number;
  /** The teacher on the images of the student's report (same split), its own normalization. */
  accuracy: number;
  loss: number;
}

export interface DistillResult {
  runDir: string;
  config: DistillConfig;
  backend: string;
  state: TrainerState;
  /** The student on the validation split (or the training set without one). */
  report: EvaluationMetrics;
  teacher: TeacherSummary;
  /** The trained student; the caller owns it (dispose when done). */
  model: tfl.LayersModel;
}

/**
 * Distils `config.teacher` into `config.student` per `config` (partial; train's recipe defaults, T = 4, alpha = 0.9).
 * Example: `const { report, teacher } = await distill({ teacher: 'runs/resnet20', student: 'seed-cnn', epochs: 20 })`.
 */
export async function distill(input: Partial<DistillConfig> | Record<string, unknown>, options: DistillOptions = {}): Promise<DistillResult> {
  const config = resolveDistillConfig(input);
  const recipe = trainConfigOf(config);
  const choice = studentChoiceOf(config.student);
  checkStudentOptions(recipe, choice);
  const session = await RunSession.start({ backend: config.backend, progress: config.progress, out: options.out, handleSignals: options.handleSignals });
  const teacher = await loadClassifier(config.teacher, 'teacher');
  try {
    return await distillInto(config, recipe, session, teacher, options);
  } finally {
    teacher.model.dispose();
  }
}

async function distillInto(config: DistillConfig, recipe: TrainConfig, session: RunSession, teacher: LoadedModel, options: DistillOptions): Promise<DistillResult> {
  const say = (line: string) => session.say(line);
  checkPrecision(recipe.precision, session.backend);
  const prepared = await prepareData(recipe);
  checkMatchesData(teacher, 'teacher', prepared);
  const student = await buildStudent(studentChoiceOf(config.student), recipe, prepared);
  const data = { ...prepared, normalization: student.normalization };
  const loaders = createLoaders(recipe, data);
  let optimizer: Optimizer | null = null;
  try {
    optimizer = createOptimizer(recipe.optimizer, paramsOf(trainableVariables(student.model)), recipe);
    const stepsPerEpoch = Math.ceil(loaders.train.batchesPerEpoch / recipe.gradAccumulation);
    const schedule = createSchedule(recipe.schedule, { lr: recipe.lr, stepsPerEpoch, totalSteps: stepsPerEpoch * recipe.epochs }, recipe);
    const reportSplit = data.validation === null ? 'training images (no validation split)' : data.validationDescription;
    // An ensemble teacher outputs probabilities: its soft targets and its reported loss come from their log.
    const teacherOutput = resolveInference(teacher.metadata, teacher.dir).output;
    const teacherReport = await evaluateOn(teacher.model, recipe, data.validation ?? data.train, teacher.metadata.normalization, data.classNames,
      { ...PLAIN_INFERENCE, output: teacherOutput });
    const summary: TeacherSummary = {
      dir: teacher.dir, architecture: teacher.metadata.architecture, parameters: teacher.model.countParams(),
      accuracy: teacherReport.accuracy, loss: teacherReport.loss,
    };
    const run = session.create(recipe.runsDir, config);
    const callbacks = session.callbacks([...monitorCallbacks(recipe), ...(options.callbacks ?? [])], {
      monitor: recipe.monitor, logEverySteps: recipe.logEverySteps,
      tensorboard: recipe.tensorboard ? {
        stepEvery: recipe.logEverySteps || 10,
        samples: { dataset: data.validation ?? data.train, normalization: data.normalization, classNames: data.classNames },
      } : null,
    });

    say(`Run ${run.dir}`);
    say(`  teacher ${teacher.dir} (${summary.architecture}, ${summary.parameters.toLocaleString('en-US')} parameters): accuracy ${summary.accuracy.toFixed(4)} on ${reportSplit}`);
    say(`  student ${student.label} (${student.model.countParams().toLocaleString('en-US')} parameters), backend ${session.backend}`);
    say(`  loss ${config.alpha} x T^2 x KL(teacher/T || student/T) + ${Number((1 - config.alpha).toPrecision(6))} x cross-entropy, T = ${config.temperature}`);
    say(`  data: ${data.train.count} training images, ${data.validationDescription}, ${data.classNames.length} classes`);
    recordRunData(run, data.record, say);
    say(`  ${recipe.optimizer} lr ${recipe.lr} (${recipe.schedule}), batch ${recipe.batchSize}` +
      `${recipe.gradAccumulation > 1 ? ` x ${recipe.gradAccumulation} accumulated` : ''}, ${recipe.epochs} epoch${recipe.epochs === 1 ? '' : 's'}, seed ${recipe.seed}`);

    const state = await fit(student.model, loaders.train, {
      epochs: recipe.epochs, optimizer, schedule, gradAccumulation: recipe.gradAccumulation, seed: recipe.seed,
      validation: loaders.validation, callbacks, adaptiveThreads: recipe.adaptiveThreads, precision: recipe.precision,
      loss: teacherLoss(teacher.model, {
        temperature: config.temperature, alpha: config.alpha, labelSmoothing: recipe.labelSmoothing,
        studentNormalization: data.normalization, teacherNormalization: teacher.metadata.normalization, teacherOutput,
      }),
    });

    const report = await evaluateOn(student.model, recipe, data.validation ?? data.train, data.normalization, data.classNames);
    await session.report(report, reportSplit);
    say(`Teacher on the same images: accuracy ${summary.accuracy.toFixed(4)} (student ${report.accuracy >= summary.accuracy ? '+' : ''}${((report.accuracy - summary.accuracy) * 100).toFixed(2)} pt)`);
    await session.complete(student.model, {
      summary: {
        epochs: state.epoch, steps: state.step, final: state.history[state.history.length - 1] ?? null,
        distillation: { temperature: config.temperature, alpha: config.alpha }, teacher: summary,
      },
    });
    return { runDir: run.dir, config, backend: session.backend, state, report, teacher: summary, model: student.model };
  } catch (error) {
    session.fail(error);
    student.model.dispose();
    throw error;
  } finally {
    optimizer?.dispose();
    await loaders.train.close();
    await loaders.validation?.close();
  }
}
