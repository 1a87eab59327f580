// Faithfulness of the explanation methods on trained models, as a Markdown table for BENCHMARKS.md: per model and
// method the deletion and insertion AUC (RISE) against seeded random maps on the grid the method's map was computed on
// (per pixel, or Grad-CAM's layer grid upsampled), the share of images where the method's deletion AUC beats them, the cascading model-randomisation sanity check (Spearman ρ at the pass depth)
// and IG's completeness error; then the issue's checks (Grad-CAM and IG beat random on deletion AUC; saliency and
// Grad-CAM pass the sanity check). Each zoo model is trained briefly on CIFAR-10 unless --run or --model dirs are given.
// Every model is evaluated on the same images: the first --images of the last 5,000 of the 50,000 training images
// (Insight's default validation split, which no model trained here with --limit <= 45000 sees), explaining each
// image's predicted class.
//   node --conditions=source --import tsx benchmarks/explain_faithfulness.ts [--models seed-cnn,resnet] [--epochs 5]
//        [--limit 10000] [--images 64] [--run runs/<id> ...] [--model <model dir> ...]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../packages/insight/src/backend';
import { normalizeImages, subsetDataset } from '../packages/insight/src/data';
import { pixelRange } from '../packages/insight/src/explain/baselines';
import { METHOD_DEFAULTS, resolveMethods } from '../packages/insight/src/explain/defaults';
import { evaluateFaithfulness, type FaithfulnessReport } from '../packages/insight/src/explain/faithfulness';
import { METHODS } from '../packages/insight/src/explain/methods';
import { getInsightMetadata } from '../packages/insight/src/models/metadata';
import { startBackend } from '../packages/insight/src/run/backend_choice';
import { loadDataset, splitForRun } from '../packages/insight/src/run/dataset_source';
import { loadModel } from '../packages/insight/src/run/model_io';
import { train } from '../packages/insight/src/train/train';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/explain_faithfulness.ts [options]
  --data <archive>        CIFAR-10 archive or folder (default: ../shared/data/cifar-10-binary-train.tar.gz)
  --models <list>         zoo models to train and evaluate (default: seed-cnn,resnet)
  --epochs <n>            training epochs per model (default: 5)
  --limit <n>             training images (the first <n>, 10% of them validate; at most 45000) (default: 10000)
  --run <dir>             evaluate this completed run instead of training (repeatable)
  --model <dir>           evaluate this model directory instead of training (repeatable)
  --images <n>            images evaluated (default: 64)
  --methods <list>        explanation methods (default: saliency,gradcam,ig,smoothgrad,occlusion)
  --steps <n>             ig: points on the path (default: 50)
  --samples <n>           smoothgrad family: noisy copies (default: 50)
  --curve-steps <n>       points on each deletion/insertion curve (default: 25)
  --seed <n>              training, random maps and re-initialised weights (default: 0)`;
const args = benchmarkArgs(USAGE, {
  data: { type: 'string', default: path.join(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz') },
  models: { type: 'string', default: 'seed-cnn,resnet' },
  epochs: { type: 'string', default: '5' },
  limit: { type: 'string', default: '10000' },
  run: { type: 'string', multiple: true, default: [] },
  model: { type: 'string', multiple: true, default: [] },
  images: { type: 'string', default: '64' },
  methods: { type: 'string', default: 'saliency,gradcam,ig,smoothgrad,occlusion' },
  steps: { type: 'string', default: String(METHOD_DEFAULTS.steps) },
  samples: { type: 'string', default: String(METHOD_DEFAULTS.samples) },
  'curve-steps': { type: 'string', default: '25' },
  seed: { type: 'string', default: '0' },
});
const data = path.resolve(args.data);
const epochs = numberArg('epochs', args.epochs);
const limit = numberArg('limit', args.limit);
const images = numberArg('images', args.images);
const steps = numberArg('steps', args.steps);
const samples = numberArg('samples', args.samples);
const curveSteps = numberArg('curve-steps', args['curve-steps']);
const seed = numberArg('seed', args.seed);
const methods = resolveMethods(args.methods);
/** Insight's default validation split of CIFAR-10's 50,000 training images. */
const HELD_OUT = 5000;
if (limit > 50000 - HELD_OUT) {
  console.error(`--limit must be at most ${50000 - HELD_OUT}, so that the evaluated images stay unseen. Received: limit=${limit}.`);
  process.exit(2);
}

interface Subject {
  /** Short name for the table, e.g. 'seed-cnn'. */
  name: string;
  /** How it came about, e.g. '5 epochs on 10,000 images, val accuracy 0.52' or the directory. */
  about: string;
  model: tfl.LayersModel;
}

/** The models to evaluate: the given runs and model directories, else each zoo model trained briefly. */
async function* subjects(runsDir: string): AsyncGenerator<Subject> {
  const given = [...args.run, ...args.model];
  for (const dir of given) {
    const model = await loadModel(dir);
    yield { name: getInsightMetadata(model, dir).architecture, about: dir, model };
  }
  if (given.length > 0) return;
  for (const name of args.models.split(',')) {
    const started = performance.now();
    const result = await train({ data, model: name, epochs, limit, seed, runsDir, progress: 'none', tensorboard: false });
    const minutes = ((performance.now() - started) / 60000).toFixed(1);
    const about = `${epochs} epoch${epochs === 1 ? '' : 's'} on ${limit.toLocaleString('en-US')} images (${minutes} min), val accuracy ${result.report.accuracy.toFixed(3)}`;
    console.error(`trained ${name}: ${about}`);
    yield { name, about, model: result.model };
  }
}

/** [n, 32, 32, 3] RGB bytes and labels of the evaluated images. */
async function evaluationImages(): Promise<{ bytes: Uint8Array; labels: Int32Array; height: number; width: number }> {
  const split = splitForRun(await loadDataset({ data, dataset: 'auto', imageSize: 32 }, 'train'), null, HELD_OUT);
  const ds = subsetDataset(split.validation!, Array.from({ length: Math.min(images, split.validation!.count) }, (_, i) => i));
  return { bytes: ds.images, labels: ds.labels, height: ds.height, width: ds.width };
}

async function evaluateOne(model: tfl.LayersModel, evalSet: Awaited<ReturnType<typeof evaluationImages>>): Promise<{ report: FaithfulnessReport; accuracy: number }> {
  const meta = getInsightMetadata(model, model.name);
  const n = evalSet.labels.length;
  const x = tf.tensor4d(normalizeImages(evalSet.bytes, meta.normalization), [n, evalSet.height, evalSet.width, 3]);
  try {
    const predictedT = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor2D, 1));
    const targets = Int32Array.from(await predictedT.data());
    predictedT.dispose();
    const accuracy = targets.filter((t, i) => t === evalSet.labels[i]).length / n;
    const options = { ...METHOD_DEFAULTS, steps, samples, seed, ...pixelRange(meta.normalization) };
    const report = await evaluateFaithfulness(model, x, targets, methods.map((name) => ({ name, method: METHODS[name] })), options,
      { images: n, steps: curveSteps, seed });
    return { report, accuracy };
  } finally {
    x.dispose();
  }
}

async function main() {
  const backend = await startBackend('auto');
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-faithfulness-'));
  const evalSet = await evaluationImages();
  const rows: string[] = [];
  const notes: string[] = [];
  const checks: string[] = [];
  try {
    for await (const subject of subjects(runsDir)) {
      const { report, accuracy } = await evaluateOne(subject.model, evalSet).finally(() => subject.model.dispose());
      const depth = report.sanity.passDepth;
      const layers = report.rows[0].sanitySpearman.slice(0, depth).flatMap((d) => d.layers);
      notes.push(`- ${subject.name}: ${subject.about}; accuracy on the evaluated images ${accuracy.toFixed(3)}; sanity pass depth ${depth} ` +
        `(re-initialised: ${layers.length <= 4 ? layers.join(', ') : `${layers[0]} .. ${layers[layers.length - 1]}, ${layers.length} layers`})`);
      for (const row of report.rows) {
        const atPass = row.sanitySpearman[depth - 1];
        const grid = `${row.randomGrid[0]}x${row.randomGrid[1]}`;
        rows.push(`| ${subject.name} | ${row.method} | ${row.deletionAuc.toFixed(3)} | ${row.insertionAuc.toFixed(3)} | ` +
          `${row.randomDeletionAuc.toFixed(3)} (${grid}) | ${row.deletionWins.toFixed(2)} | ` +
          `${atPass.mean.toFixed(2)} ± ${atPass.sd.toFixed(2)} | ${Number.isNaN(row.sanityFloor) ? '-' : row.sanityFloor.toFixed(2)} | ` +
          `${row.sanityLimit.toFixed(2)} | ${row.sanityPassed ? 'pass' : 'FAIL'} | ` +
          `${row.completeness ? `${row.completeness.mean.toExponential(1)} / ${row.completeness.max.toExponential(1)}` : '-'} | ${row.seconds.toFixed(1)} |`);
      }
      for (const [key, random] of [['per pixel', report.random] as const, ...Object.entries(report.randomOnGrids)]) {
        rows.push(`| ${subject.name} | random (${key}) | ${random.deletionAuc.toFixed(3)} | ${random.insertionAuc.toFixed(3)} | - | - | - | - | - | - | - | - |`);
      }
      const byMethod = new Map(report.rows.map((row) => [row.method, row]));
      for (const method of ['gradcam', 'ig'].filter((m) => byMethod.has(m))) {
        const row = byMethod.get(method)!;
        const beats = row.deletionAuc < row.randomDeletionAuc;
        const perPixel = row.deletionAuc < report.random.deletionAuc;
        checks.push(`${subject.name}: ${method} deletion AUC ${row.deletionAuc.toFixed(3)} vs random on its grid ` +
          `(${row.randomGrid.join('x')}) ${row.randomDeletionAuc.toFixed(3)}: ${beats ? 'beats random' : 'does NOT beat random'}` +
          (row.randomGrid[0] === evalSet.height ? '' : `; vs per-pixel random ${report.random.deletionAuc.toFixed(3)}: ${perPixel ? 'beats it' : 'does not beat it'}`));
      }
      for (const method of ['saliency', 'gradcam'].filter((m) => byMethod.has(m))) {
        const row = byMethod.get(method)!;
        checks.push(`${subject.name}: ${method} sanity ρ@${depth} ${row.sanitySpearman[depth - 1].mean.toFixed(2)} (pass below ` +
          `${row.sanityLimit.toFixed(2)}): ${row.sanityPassed ? 'passes' : 'FAILS'}`);
      }
    }
  } finally {
    fs.rmSync(runsDir, { recursive: true, force: true });
  }
  console.log(`explanation faithfulness on the first ${evalSet.labels.length} of the last ${HELD_OUT.toLocaleString('en-US')} CIFAR-10 training images ` +
    `(unseen in training), explaining each image's predicted class; ${backend} backend; ig ${steps} steps (black baseline), smoothgrad ${samples} ` +
    `samples; curves of ${curveSteps} points; random maps and re-initialised weights seeded with ${seed}. Sanity: mean ± sd of Spearman ρ ` +
    'between |map| of the trained model and of the model with the head down to the last convolution block re-initialised (the pass depth); ' +
    'the floor f is the mean ρ between maps of different images on the trained model; pass when ρ < f + 0.5·(1 − f) (f taken as 0 when ' +
    'negative). Random maps are drawn on the grid of the method\'s map (per pixel, or Grad-CAM\'s layer grid, upsampled alike).\n');
  console.log(notes.join('\n'));
  console.log('\n| model | method | deletion AUC ↓ | insertion AUC ↑ | random deletion AUC (grid) | beats random (share of images) | sanity ρ | ' +
    'between-images floor f | pass below | sanity | IG completeness mean / max | s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log(`\n${checks.map((c) => `- ${c}`).join('\n')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
