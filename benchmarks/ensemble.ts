// Issue 14's ensemble target: an ensemble of 3 seed-cnn runs (the reference recipe, seeds 0, 1, 2) gains >= 2 points of
// validation accuracy over the mean member. Trains the runs (or reuses complete ones from --runs-dir: a completed run
// with the reference recipe's config and that seed), builds the ensemble with `ensemble()` (equal weights), and scores
// every member and the ensemble on the validation split (CIFAR-10's last 5,000 training images): accuracy, NLL
// (mean -log p of the true class) and ECE (15 bins). The ensemble directory is also run through `evaluate()`, which
// must report the same accuracy (its probabilities taken as they are: output 'probabilities').
//   node --conditions=source --import tsx benchmarks/ensemble.ts [--runs-dir scratch/ens/runs] [--seeds 0,1,2]
//        [--data ../shared/data/cifar-10-binary-train.tar.gz] [--out <dir>]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../packages/insight/src/backend';
import { calibrationOf } from '../packages/insight/src/calibrate/ece';
import { normalizeImages, type ImageDataset } from '../packages/insight/src/data';
import { ensemble } from '../packages/insight/src/ensemble';
import { evaluate } from '../packages/insight/src/eval/evaluate';
import { getInsightMetadata } from '../packages/insight/src/models/metadata';
import { startBackend } from '../packages/insight/src/run/backend_choice';
import { loadRunSplit, runSplitSettings } from '../packages/insight/src/run/dataset_source';
import { loadModel } from '../packages/insight/src/run/model_io';
import { RunDir } from '../packages/insight/src/run/run_dir';
import { benchmarkArgs, numberListArg } from './args';
import { describeRun, referenceRuns } from './reference_runs';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/ensemble.ts [options]
  --runs-dir <dir>   where to look for complete runs to reuse, and to train missing ones (default: a new temporary folder)
  --seeds <list>     the members' training seeds (default: 0,1,2)
  --data <path>      CIFAR-10 training archive (default: ../shared/data/cifar-10-binary-train.tar.gz)
  --out <dir>        where the ensemble model goes (default: a temporary folder)`;
const args = benchmarkArgs(USAGE, {
  'runs-dir': { type: 'string' },
  seeds: { type: 'string', default: '0,1,2' },
  data: { type: 'string', default: path.resolve(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz') },
  out: { type: 'string' },
});
const seeds = numberListArg('seeds', args.seeds);
const data = path.resolve(args.data);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-ensemble-'));
const runsDir = args['runs-dir'] ?? path.join(scratch, 'runs');
const out = args.out ?? path.join(scratch, 'ensemble');
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** Accuracy, NLL and ECE of probabilities [n, classes] against labels. */
function score(probabilities: Float32Array, labels: Int32Array, classes: number) {
  let nll = 0;
  for (let i = 0; i < labels.length; i++) nll -= Math.log(Math.max(probabilities[i * classes + labels[i]], 1e-30));
  const calibration = calibrationOf(probabilities, labels, classes);
  return { accuracy: calibration.accuracy, nll: nll / labels.length, ece: calibration.ece };
}

/** The model's probabilities on `ds` [n, classes]: its output, or the softmax of it when its output is logits. */
async function probabilitiesOf(model: tfl.LayersModel, ds: ImageDataset, output: 'logits' | 'probabilities'): Promise<Float32Array> {
  const meta = getInsightMetadata(model, 'model');
  const stride = ds.height * ds.width * 3;
  const parts: Float32Array[] = [];
  for (let start = 0; start < ds.count; start += 500) {
    const n = Math.min(500, ds.count - start);
    const x = normalizeImages(ds.images.subarray(start * stride, (start + n) * stride), meta.normalization);
    const p = tf.tidy(() => {
      const y = model.predict(tf.tensor4d(x, [n, ds.height, ds.width, 3])) as tf.Tensor2D;
      return output === 'logits' ? tf.softmax(y) : y;
    });
    parts.push(await p.data() as Float32Array);
    p.dispose();
  }
  const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const part of parts) { all.set(part, offset); offset += part.length; }
  return all;
}

async function main(): Promise<void> {
  const backend = await startBackend('auto', 'training');
  const memberRuns = await referenceRuns(runsDir, data, seeds);

  const built = await ensemble({ members: memberRuns.map((r) => r.dir), out }, { say: (line) => console.log(line) });
  const config = RunDir.open(memberRuns[0].dir).readConfig() as Record<string, unknown>;
  const split = await loadRunSplit({ data, dataset: 'auto', imageSize: 32 }, runSplitSettings(config));
  const validation = split.validation!;
  const classes = built.metadata.classNames.length;
  const labels = validation.labels;

  const rows: { name: string; accuracy: number; nll: number; ece: number }[] = [];
  for (const run of memberRuns) {
    const model = await loadModel(run.dir);
    rows.push({ name: describeRun(run),
      ...score(await probabilitiesOf(model, validation, 'logits'), labels, classes) });
    model.dispose();
  }
  const model = await loadModel(out);
  const ens = score(await probabilitiesOf(model, validation, 'probabilities'), labels, classes);
  model.dispose();
  const mean = (key: 'accuracy' | 'nll' | 'ece') => rows.reduce((s, r) => s + r[key], 0) / rows.length;
  const evaluated = await evaluate({ model: out, data, workers: 0 });

  console.log(`\nValidation: ${split.validationDescription}; backend ${backend}; ensemble ${out}`);
  console.log('| model | accuracy | NLL | ECE (15 bins) |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${pct(r.accuracy)} | ${r.nll.toFixed(4)} | ${pct(r.ece)} |`);
  console.log(`| mean member | ${pct(mean('accuracy'))} | ${mean('nll').toFixed(4)} | ${pct(mean('ece'))} |`);
  console.log(`| ensemble (equal weights) | ${pct(ens.accuracy)} | ${ens.nll.toFixed(4)} | ${pct(ens.ece)} |`);
  const gain = 100 * (ens.accuracy - mean('accuracy'));
  console.log(`\nGain over the mean member: ${gain >= 0 ? '+' : ''}${gain.toFixed(2)} pt (target >= 2 pt: ${gain >= 2 ? 'met' : 'NOT met'}); ` +
    `over the best member: ${(100 * (ens.accuracy - Math.max(...rows.map((r) => r.accuracy)))).toFixed(2)} pt.`);
  console.log(`evaluate(${path.basename(out)}): accuracy ${pct(evaluated.metrics.accuracy)}, loss ${evaluated.metrics.loss.toFixed(4)} on ${evaluated.split}` +
    ` (${evaluated.metrics.accuracy === ens.accuracy ? 'same accuracy as above' : 'DIFFERS from the accuracy above'})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
