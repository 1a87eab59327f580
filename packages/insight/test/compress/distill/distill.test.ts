// distill() and `insight distill` on real images (three classes of the shared cifar10-jpg-mini folder, 150 CIFAR
// images at 32x32): a run with the teacher, T and alpha in its config, the student's report, and the teacher's
// accuracy on the same validation images in the summary (a resnet with meanstd preprocessing teaching a seed-cnn on
// x/255); with alpha = 1 and a teacher that is the student's own initial weights the loss starts at 0 and stays
// there (plain SGD: no gradient, no step); a student from a run starts from its weights; the errors.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { distill } from '../../../src/compress/distill/distill';
import { evaluate } from '../../../src/eval/evaluate';
import { getInsightMetadata } from '../../../src/models/metadata';
import { createModel } from '../../../src/models/registry';
import { loadModel, saveModel } from '../../../src/run/model_io';
import { RunDir } from '../../../src/run/run_dir';
import { runMain } from '../../cli/io';
import { JPG_MINI } from '../../shared_data';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-distill-'));
const data = path.join(tmp, 'data');
const CLASSES = ['airplane', 'automobile', 'bird'];
const resnetTeacher = path.join(tmp, 'resnet-teacher');
const twinTeacher = path.join(tmp, 'twin-teacher');
const otherClasses = path.join(tmp, 'other-classes');
const MEANSTD = { kind: 'meanstd' as const, mean: [0.49, 0.48, 0.45] as [number, number, number], std: [0.25, 0.24, 0.26] as [number, number, number] };

before(async () => {
  await initBackend();
  fs.mkdirSync(data);
  for (const c of CLASSES) fs.symlinkSync(path.join(JPG_MINI, c), path.join(data, c));
  const inputShape: [number, number, number] = [32, 32, 3];
  const save = async (dir: string, model: ReturnType<typeof createModel>) => {
    await saveModel(model, dir);
    model.dispose();
  };
  await save(resnetTeacher, createModel('resnet', { inputShape, numClasses: 3, classNames: CLASSES, normalization: MEANSTD, depth: 8, width: 4, seed: 2 }));
  // The student's initial weights: createModel('seed-cnn') with the run's seed (11) gives the same ones.
  await save(twinTeacher, createModel('seed-cnn', { inputShape, numClasses: 3, classNames: CLASSES, seed: 11 }));
  await save(otherClasses, createModel('seed-cnn', { inputShape, numClasses: 3, classNames: ['airplane', 'bird', 'automobile'], seed: 1 }));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const quick = { data, validationCount: 30, epochs: 1, batchSize: 32, workers: 0, tensorboard: false, progress: 'none', runsDir: path.join(tmp, 'runs') } as const;

describe('distill', () => {
  it('writes a run: config (teacher, T, alpha, recipe), report and model of the student, the teacher\'s accuracy on the same images', async () => {
    const result = await distill({ ...quick, teacher: resnetTeacher, student: 'seed-cnn', epochs: 2, augment: ['flip'], seed: 3 });
    const run = RunDir.at(result.runDir);
    const config = run.readConfig() as Record<string, unknown>;
    assert.equal(config.teacher, resnetTeacher);
    assert.equal(config.student, 'seed-cnn');
    assert.equal(config.temperature, 4);
    assert.equal(config.alpha, 0.9);
    assert.deepEqual(config.augment, ['flip']);
    const info = run.readInfo() as unknown as {
      status: string;
      summary: { distillation: unknown; epochs: number; report: { accuracy: number }; teacher: { dir: string; architecture: string; accuracy: number; loss: number } };
    };
    assert.equal(info.status, 'completed');
    assert.deepEqual(info.summary.distillation, { temperature: 4, alpha: 0.9 });
    assert.equal(info.summary.report.accuracy, result.report.accuracy);
    assert.equal(info.summary.epochs, 2);
    assert.equal(result.report.count, 30); // 10 held out per class (stratified)
    assert.ok(fs.existsSync(path.join(run.reportDir)), 'report/');

    // The teacher's figure is the teacher evaluated on the same 30 images with its own (meanstd) preprocessing.
    assert.equal(info.summary.teacher.dir, resnetTeacher);
    assert.equal(info.summary.teacher.architecture, 'resnet');
    const teacherEval = await evaluate({ model: resnetTeacher, data, validationCount: 30, split: 'validation', workers: 0 });
    assert.equal(teacherEval.metrics.count, 30);
    assert.equal(info.summary.teacher.accuracy, teacherEval.metrics.accuracy);
    assert.ok(Math.abs(info.summary.teacher.loss - teacherEval.metrics.loss) < 1e-6);
    // evaluate <run> finds the run's split from its config and agrees with the report.
    const studentEval = await evaluate({ model: result.runDir, workers: 0 });
    assert.equal(studentEval.metrics.count, 30);
    assert.equal(studentEval.metrics.accuracy, result.report.accuracy);

    // model/ is the student: seed-cnn, scale preprocessing, the data's classes.
    const saved = await loadModel(result.runDir);
    const meta = getInsightMetadata(saved, result.runDir);
    assert.equal(meta.architecture, 'seed-cnn');
    assert.deepEqual(meta.classNames, CLASSES);
    assert.deepEqual(meta.normalization, { kind: 'scale' });
    saved.dispose();
    result.model.dispose();
  });

  it('alpha = 1 with the student\'s own initial weights as teacher: the loss is 0 (to float32 rounding) from the first step and nothing moves (CLI)', async () => {
    const runsDir = path.join(tmp, 'runs-twin');
    const { status, stderr } = await runMain(['distill', '--teacher', twinTeacher, '--student', 'seed-cnn', '--seed', '11', '--alpha', '1',
      '--optimizer', 'sgd', '--momentum', '0', '--lr', '0.1', '--log-every-steps', '1', '--data', data, '--validation-count', '30',
      '--epochs', '1', '--batch-size', '40', '--workers', '0', '--no-tensorboard', '--progress', 'none', '--runs-dir', runsDir]);
    assert.equal(stderr, '');
    assert.equal(status, 0);
    const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]);
    const lines = fs.readFileSync(RunDir.at(runDir).metricsJsonl, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; step: number; loss: number });
    const steps = lines.filter((l) => l.type === 'step');
    assert.deepEqual(steps.map((l) => l.step), [1, 2, 3]); // 120 training images in batches of 40
    for (const step of steps) assert.ok(Math.abs(step.loss) < 1e-6, `step ${step.step}: loss ${step.loss}`);
    const [student, teacher] = [await loadModel(runDir), await loadModel(twinTeacher)];
    const drift = Math.max(...student.getWeights().map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, teacher.getWeights()[i]))).dataSync()[0])));
    assert.ok(drift < 1e-6, `weights moved by ${drift}`);
    student.dispose();
    teacher.dispose();
  });

  it('a student from a run starts from its weights: at alpha = 0 and lr ~ 0 it is reported as it was', async () => {
    const twin = await loadModel(twinTeacher);
    const before = await evaluate({ model: twinTeacher, data, validationCount: 30, split: 'validation', workers: 0 });
    const result = await distill({ ...quick, teacher: resnetTeacher, student: twinTeacher, alpha: 0, optimizer: 'sgd', momentum: 0, lr: 1e-12 });
    assert.equal(result.report.accuracy, before.metrics.accuracy);
    assert.ok(Math.abs(result.report.loss - before.metrics.loss) < 1e-5);
    assert.equal(getInsightMetadata(result.model, 'student').architecture, 'seed-cnn');
    result.model.dispose();
    twin.dispose();
  });
});

describe('distill errors', () => {
  async function cliError(args: string[]): Promise<string> {
    const { status, stderr } = await runMain(['distill', ...args, '--data', data, '--workers', '0', '--progress', 'none', '--runs-dir', path.join(tmp, 'runs-errors')]);
    assert.equal(status, 2, stderr);
    return stderr;
  }

  it('a teacher with other classes (or another order) is refused, naming both lists', async () => {
    const stderr = await cliError(['--teacher', otherClasses]);
    assert.match(stderr, /^Error INSIGHT_E_CONFIG: The teacher's classes must be the data's, with the same names in the same order/);
    assert.ok(stderr.includes('teacherClasses=["airplane","bird","automobile"]'), stderr);
    assert.ok(stderr.includes('dataClasses=["airplane","automobile","bird"]'), stderr);
    assert.equal(fs.existsSync(path.join(tmp, 'runs-errors')), false, 'no run directory is left behind');
  });

  it('bad options fail before anything loads, with the rule, the value and a fix', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Distillation needs a trained teacher\. Received: teacher=null\. Pass --teacher <run>/],
      [['--teacher', resnetTeacher, '--temperature', '0'], /temperature must be a number > 0\. Received: temperature=0\. Pass e\.g\. --temperature 4/],
      [['--teacher', resnetTeacher, '--alpha', '1.5'], /alpha must be a number >= 0 and <= 1\. Received: alpha=1\.5/],
      [['--teacher', resnetTeacher, '--student', 'vgg16'], /student must be a zoo model \(seed-cnn, resnet\), a model file .* or an existing run or model directory\. Received: student="vgg16", exists=false\. Pass e\.g\. --student seed-cnn/],
      [['--teacher', resnetTeacher, '--student', twinTeacher, '--dropout', '0.2'], /depth, width, dropout, normalization configure a zoo student; a student from a directory keeps its architecture and normalization\. Received: student=".*", dropout=0\.2/],
      [['--teacher', resnetTeacher, '--student', 'resnet', '--depth', '9'], /resnet depth must be 6n\+2/],
    ];
    for (const [args, message] of cases) assert.match(await cliError(args), message);
    const typo = await distill({ teacher: resnetTeacher, temprature: 2 } as Record<string, unknown>).catch((error: Error) => error.message);
    assert.match(String(typo), /temprature.*temperature/);
  });

  it('a teacher that is not a model directory is INSIGHT_E_MODEL', async () => {
    const { status, stderr } = await runMain(['distill', '--teacher', path.join(tmp, 'nowhere'), '--data', data, '--progress', 'none', '--runs-dir', path.join(tmp, 'runs-errors')]);
    assert.equal(status, 4, stderr);
    assert.match(stderr, /^Error INSIGHT_E_MODEL: /);
  });
});
