// Issue 14's calibration target: temperature scaling at least halves the expected calibration error. On the reference
// seed-cnn runs (seeds 0, 1, 2 by default; reused from --runs-dir when complete with the reference recipe, trained
// otherwise), each run's validation split (CIFAR-10's last 5,000 training images, as the run recorded it) is cut in
// two halves in its order: T is fitted on the first half only and ECE (15 bins) and NLL are reported before (T = 1)
// and after on the second half, held out from the fit, so the figure is honest. ECE measured on 2,500 images is
// itself noisy (an estimate biased up by ~1-2 points with 15 bins), so the halves are also swapped (2-fold
// cross-fitting): every image is scored with the T fitted on the other half, and ECE/NLL are reported on all 5,000
// (pooled). Also per run: `insight calibrate`'s library call on the whole split (a calibrated copy under a temporary
// folder), its T and before/after ECE (in-sample: T fitted on the images it is scored on). For scale, the "floor":
// the mean ECE of a perfectly calibrated model with the same calibrated confidences on as many images (each image
// right with probability its confidence, 50 seeded draws) — what ECE measures from sampling noise alone.
//   node --conditions=source --import tsx benchmarks/calibration.ts [--runs-dir scratch/ens/runs] [--seeds 0,1,2]
//        [--data ../shared/data/cifar-10-binary-train.tar.gz] [--bins 15]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { calibrate } from '../packages/insight/src/calibrate/calibrate';
import { calibrationOf } from '../packages/insight/src/calibrate/ece';
import { labelledLogits } from '../packages/insight/src/calibrate/logits';
import { fitTemperature, temperatureNll, temperatureSoftmax } from '../packages/insight/src/calibrate/temperature';
import { DataLoader } from '../packages/insight/src/data';
import { streamRng } from '../packages/insight/src/data/random';
import { relabelByName } from '../packages/insight/src/data/dataset';
import { resolveInference } from '../packages/insight/src/models/inference_output';
import { getInsightMetadata } from '../packages/insight/src/models/metadata';
import { startBackend } from '../packages/insight/src/run/backend_choice';
import { selectEvaluationSplit } from '../packages/insight/src/run/evaluation_split';
import { loadModel, resolveModelDir } from '../packages/insight/src/run/model_io';
import { RunDir } from '../packages/insight/src/run/run_dir';
import { benchmarkArgs, numberArg, numberListArg } from './args';
import { describeRun, referenceRuns } from './reference_runs';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/calibration.ts [options]
  --runs-dir <dir>   where to look for complete reference runs to reuse, and to train missing ones (default: a temporary folder)
  --seeds <list>     the runs' training seeds (default: 0,1,2)
  --data <path>      CIFAR-10 training archive (default: ../shared/data/cifar-10-binary-train.tar.gz)
  --bins <n>         ECE bins (default 15, as Guo et al. 2017)`;
const args = benchmarkArgs(USAGE, {
  'runs-dir': { type: 'string' },
  seeds: { type: 'string', default: '0,1,2' },
  data: { type: 'string', default: path.resolve(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz') },
  bins: { type: 'string', default: '15' },
});
const seeds = numberListArg('seeds', args.seeds);
const bins = numberArg('bins', args.bins);
const data = path.resolve(args.data);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-calibration-'));
const runsDir = args['runs-dir'] ?? path.join(scratch, 'runs');
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** Rows [from, to) of row-major [n, classes] logits and their labels. */
function rows(logits: Float32Array, labels: Int32Array, classes: number, from: number, to: number) {
  return { logits: logits.subarray(from * classes, to * classes), labels: labels.subarray(from, to) };
}

/**
 * The mean ECE of a perfectly calibrated model with these probabilities [n, classes]: per draw, each image is right
 * (label = its argmax) with probability its top-1 confidence, else labelled with another class.
 */
function eceFloor(probabilities: Float32Array, classes: number, draws = 50): number {
  const n = probabilities.length / classes;
  const top = new Int32Array(n);
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 1; k < classes; k++) if (probabilities[i * classes + k] > probabilities[i * classes + top[i]]) top[i] = k;
    confidence[i] = probabilities[i * classes + top[i]];
  }
  let sum = 0;
  for (let d = 0; d < draws; d++) {
    const rng = streamRng(0, 'ece-floor', d);
    const labels = Int32Array.from(top, (t, i) => (rng() < confidence[i] ? t : (t + 1) % classes));
    sum += calibrationOf(probabilities, labels, classes, bins).ece;
  }
  return sum / draws;
}

interface Row {
  name: string; temperature: number; fitImages: number; heldOutImages: number; accuracy: number;
  eceBefore: number; eceAfter: number; nllBefore: number; nllAfter: number; mceBefore: number; mceAfter: number;
  fullT: number; fullEceBefore: number; fullEceAfter: number; fitMs: number;
  /** 2-fold cross-fitting: the T fitted on the second half, and ECE/NLL of all images each scored with the other half's T. */
  swappedT: number; pooledEceBefore: number; pooledEceAfter: number; pooledNllBefore: number; pooledNllAfter: number;
  /** ECE of a perfectly calibrated model with the held-out half's calibrated confidences, and with all cross-fitted ones. */
  floor: number; pooledFloor: number;
}

async function measure(runDir: string, name: string): Promise<Row> {
  const modelDir = resolveModelDir(runDir);
  const model = await loadModel(modelDir);
  let measured;
  let split: string;
  try {
    const meta = getInsightMetadata(model, modelDir);
    const selected = await selectEvaluationSplit({ data: null, dataset: 'auto', split: 'validation', limit: null, validationCount: null,
      splitMethod: null, splitSeed: null }, meta.inputShape, RunDir.open(runDir));
    split = selected.description;
    const loader = new DataLoader(relabelByName(selected.dataset, meta.classNames), { batchSize: 500, shuffle: false, normalization: meta.normalization, workers: 0 });
    try {
      measured = await labelledLogits(model, loader, resolveInference(meta, modelDir));
    } finally {
      await loader.close();
    }
  } finally {
    model.dispose();
  }
  const { logits, labels, numClasses } = measured;
  const half = Math.floor(labels.length / 2);
  const fitPart = rows(logits, labels, numClasses, 0, half);
  const heldOut = rows(logits, labels, numClasses, half, labels.length);
  const started = performance.now();
  const fit = fitTemperature(fitPart.logits, fitPart.labels, numClasses);
  const fitMs = performance.now() - started;
  const before = calibrationOf(temperatureSoftmax(heldOut.logits, numClasses, 1), heldOut.labels, numClasses, bins);
  const calibrated = temperatureSoftmax(heldOut.logits, numClasses, fit.temperature);
  const after = calibrationOf(calibrated, heldOut.labels, numClasses, bins);
  // 2-fold cross-fitting: the second half's T scores the first half; pooled with the held-out second half above.
  const swapped = fitTemperature(heldOut.logits, heldOut.labels, numClasses);
  const crossFitted = new Float32Array(labels.length * numClasses);
  crossFitted.set(temperatureSoftmax(fitPart.logits, numClasses, swapped.temperature), 0);
  crossFitted.set(temperatureSoftmax(heldOut.logits, numClasses, fit.temperature), half * numClasses);
  const pooledBefore = calibrationOf(temperatureSoftmax(logits, numClasses, 1), labels, numClasses, bins);
  const pooledAfter = calibrationOf(crossFitted, labels, numClasses, bins);
  const pooledNllAfter = (half * temperatureNll(fitPart.logits, fitPart.labels, numClasses, swapped.temperature) +
    (labels.length - half) * temperatureNll(heldOut.logits, heldOut.labels, numClasses, fit.temperature)) / labels.length;
  // The command's path on the whole split: a calibrated copy (the run itself is left as it was).
  const full = await calibrate({ model: runDir, out: path.join(scratch, `calibrated-${path.basename(runDir)}`), bins, workers: 0 });
  console.log(`${name}: ${split}; fit on ${half}, held out ${labels.length - half}; T ${fit.temperature.toFixed(4)} (${fit.iterations} steps, ${fitMs.toFixed(0)} ms)`);
  return {
    name, temperature: fit.temperature, fitImages: half, heldOutImages: labels.length - half, accuracy: before.accuracy,
    eceBefore: before.ece, eceAfter: after.ece, mceBefore: before.mce, mceAfter: after.mce,
    nllBefore: temperatureNll(heldOut.logits, heldOut.labels, numClasses, 1), nllAfter: temperatureNll(heldOut.logits, heldOut.labels, numClasses, fit.temperature),
    fullT: full.fit.temperature, fullEceBefore: full.before.calibration.ece, fullEceAfter: full.after.calibration.ece, fitMs,
    swappedT: swapped.temperature, pooledEceBefore: pooledBefore.ece, pooledEceAfter: pooledAfter.ece,
    pooledNllBefore: temperatureNll(logits, labels, numClasses, 1), pooledNllAfter,
    floor: eceFloor(calibrated, numClasses), pooledFloor: eceFloor(crossFitted, numClasses),
  };
}

async function main(): Promise<void> {
  const backend = await startBackend('auto', 'training');
  const results: Row[] = [];
  for (const run of await referenceRuns(runsDir, data, seeds)) results.push(await measure(run.dir, describeRun(run)));
  console.log(`\nBackend ${backend}; T fitted on the first half of each run's validation split, figures on the second half (${bins} bins).`);
  console.log('| run | T | accuracy | ECE before | ECE after | ECE floor | MCE before | MCE after | NLL before | NLL after | ECE ratio |\n|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.name} | ${r.temperature.toFixed(3)} | ${pct(r.accuracy)} | ${pct(r.eceBefore)} | ${pct(r.eceAfter)} | ${pct(r.floor)} | ${pct(r.mceBefore)} | ` +
      `${pct(r.mceAfter)} | ${r.nllBefore.toFixed(4)} | ${r.nllAfter.toFixed(4)} | ${(r.eceAfter / r.eceBefore).toFixed(3)} |`);
  }
  const mean = (key: keyof Row) => results.reduce((s, r) => s + (r[key] as number), 0) / results.length;
  console.log(`| mean | ${mean('temperature').toFixed(3)} | ${pct(mean('accuracy'))} | ${pct(mean('eceBefore'))} | ${pct(mean('eceAfter'))} | ${pct(mean('floor'))} | ` +
    `${pct(mean('mceBefore'))} | ${pct(mean('mceAfter'))} | ${mean('nllBefore').toFixed(4)} | ${mean('nllAfter').toFixed(4)} | ${(mean('eceAfter') / mean('eceBefore')).toFixed(3)} |`);
  const halved = results.filter((r) => r.eceAfter <= r.eceBefore / 2).length;
  console.log(`\nTarget (ECE at least halved on held-out data): met on the mean (ratio ${(mean('eceAfter') / mean('eceBefore')).toFixed(3)}): ` +
    `${mean('eceAfter') <= mean('eceBefore') / 2 ? 'yes' : 'NO'}; for ${halved} of ${results.length} runs.`);
  console.log('\n2-fold cross-fitting: each half scored with the T fitted on the other, ECE and NLL on the whole split (held out throughout):');
  console.log('| run | T (first half) | T (second half) | ECE before | ECE after | ECE floor | NLL before | NLL after | ECE ratio |\n|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.name} | ${r.temperature.toFixed(3)} | ${r.swappedT.toFixed(3)} | ${pct(r.pooledEceBefore)} | ${pct(r.pooledEceAfter)} | ${pct(r.pooledFloor)} | ` +
      `${r.pooledNllBefore.toFixed(4)} | ${r.pooledNllAfter.toFixed(4)} | ${(r.pooledEceAfter / r.pooledEceBefore).toFixed(3)} |`);
  }
  console.log(`| mean | ${mean('temperature').toFixed(3)} | ${mean('swappedT').toFixed(3)} | ${pct(mean('pooledEceBefore'))} | ${pct(mean('pooledEceAfter'))} | ` +
    `${pct(mean('pooledFloor'))} | ${mean('pooledNllBefore').toFixed(4)} | ${mean('pooledNllAfter').toFixed(4)} | ${(mean('pooledEceAfter') / mean('pooledEceBefore')).toFixed(3)} |`);
  const pooledHalved = results.filter((r) => r.pooledEceAfter <= r.pooledEceBefore / 2).length;
  console.log(`Target on the cross-fitted figures: met on the mean: ${mean('pooledEceAfter') <= mean('pooledEceBefore') / 2 ? 'yes' : 'NO'}; ` +
    `for ${pooledHalved} of ${results.length} runs.`);
  console.log('\n`insight calibrate` on the whole validation split (library call, calibrated copy):');
  console.log('| run | T | ECE before | ECE after |\n|---|---|---|---|');
  for (const r of results) console.log(`| ${r.name} | ${r.fullT.toFixed(3)} | ${pct(r.fullEceBefore)} | ${pct(r.fullEceAfter)} |`);
  fs.rmSync(scratch, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
