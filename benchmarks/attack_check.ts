// Issue 14's check of the attacks against PyTorch: robust accuracy of one trained model (a seed-cnn run) on the first
// --images validation images, from Insight (robustAccuracy, the loop behind `insight evaluate --attack`) and from a PyTorch implementation (attack_check.py) on the same weights and the same images, with the
// same definition (an image is robust when classified correctly both clean and attacked). Rows:
//   fgsm           one step of eps along the gradient's sign
//   pgd-K          K steps of alpha (default 2.5·eps/K) from x itself (no random start): deterministic on both sides,
//                  so the two should agree image for image up to float32 rounding
//   pgd-K-rs       the same from a uniform random start (each side its own random numbers: agreement is statistical)
// It prints a table (robust accuracy of each side, the difference in points, wall time of each side) and one JSON
// line. Target (issue 14): |difference| ≤ 0.5 pt on 500 images for PGD-20, eps 8/255.
//   node --conditions=source --import tsx benchmarks/attack_check.ts --run scratch/ens/runs/<id> [--images 500]
//     [--eps 8/255] [--steps 20] [--alpha <a>] [--batch 250]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { tf } from '../packages/insight/src/backend';
import { DataLoader } from '../packages/insight/src/data';
import { subsetDataset } from '../packages/insight/src/data/dataset';
import { getInsightMetadata } from '../packages/insight/src/models/metadata';
import { robustAccuracy } from '../packages/insight/src/robust/attacks/robust_accuracy';
import type { AttackSpec } from '../packages/insight/src/robust/attacks/spec';
import { startBackend } from '../packages/insight/src/run/backend_choice';
import { selectEvaluationSplit } from '../packages/insight/src/run/evaluation_split';
import { loadModel, resolveModelDir } from '../packages/insight/src/run/model_io';
import { RunDir } from '../packages/insight/src/run/run_dir';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/attack_check.ts --run <run dir> [options]
  --run <dir>       a completed seed-cnn run (its model and its own validation images)
  --images <n>      the first <n> validation images (default: 500)
  --eps <eps>       L-inf radius in pixel units, a number or a fraction (default: 8/255)
  --steps <n>       PGD steps (default: 20)
  --alpha <a>       PGD step size (default: 2.5 * eps / steps)
  --batch <n>       images per attacked batch, both sides (default: 250)
  --seed <n>        random starts (Insight's attack seed; PyTorch's torch.manual_seed) (default: 0)`;
const args = benchmarkArgs(USAGE, {
  run: { type: 'string' },
  images: { type: 'string', default: '500' },
  eps: { type: 'string', default: '8/255' },
  steps: { type: 'string', default: '20' },
  alpha: { type: 'string' },
  batch: { type: 'string', default: '250' },
  seed: { type: 'string', default: '0' },
});

/** '8/255' or '0.03' → the number. */
function fractionArg(name: string, value: string): number {
  const parts = value.split('/');
  return parts.length === 2 ? numberArg(name, parts[0]) / numberArg(name, parts[1]) : numberArg(name, value);
}

interface Row { name: string; spec: AttackSpec; python: Record<string, unknown> }
interface Side { accuracy: number; clean: number; seconds: number }

async function main(): Promise<void> {
  if (args.run === undefined) {
    console.error(`--run is required.\n\n${USAGE}`);
    process.exit(2);
  }
  const images = numberArg('images', args.images);
  const eps = fractionArg('eps', args.eps);
  const steps = numberArg('steps', args.steps);
  const alpha = args.alpha === undefined ? (2.5 * eps) / steps : fractionArg('alpha', args.alpha);
  const batch = numberArg('batch', args.batch);
  const seed = numberArg('seed', args.seed);
  await startBackend('auto');

  // The run's model and its validation images, chosen as `insight evaluate <run>` chooses them.
  const modelDir = resolveModelDir(args.run);
  const model = await loadModel(modelDir);
  const meta = getInsightMetadata(model, modelDir);
  if (meta.architecture !== 'seed-cnn') throw new Error(`attack_check.py rebuilds seed-cnn only. Received: architecture=${meta.architecture}.`);
  const run = RunDir.ofModelDir(modelDir);
  const { dataset, description } = await selectEvaluationSplit(
    { data: null, dataset: 'auto', split: 'validation', limit: null, validationCount: null, splitMethod: null, splitSeed: null }, meta.inputShape, run);
  const count = Math.min(images, dataset.count);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-attack-check-'));
  try {
    fs.writeFileSync(path.join(dir, 'weights.json'), JSON.stringify(model.getWeights().map((w) => ({ shape: w.shape, values: Array.from(w.dataSync()) }))));
    fs.writeFileSync(path.join(dir, 'images.u8'), dataset.images.subarray(0, count * 32 * 32 * 3));
    fs.writeFileSync(path.join(dir, 'labels.json'), JSON.stringify(Array.from(dataset.labels.subarray(0, count))));
    const normalization = meta.normalization.kind === 'scale' ? { mean: [0, 0, 0], std: [1, 1, 1] } : meta.normalization;

    const rows: Row[] = [
      { name: 'fgsm', spec: { attack: 'fgsm', eps }, python: { attack: 'fgsm' } },
      { name: `pgd-${steps}`, spec: { attack: 'pgd', eps, steps, alpha, randomStart: false }, python: { attack: 'pgd', steps, alpha, randomStart: false } },
      { name: `pgd-${steps}-rs`, spec: { attack: 'pgd', eps, steps, alpha, seed }, python: { attack: 'pgd', steps, alpha, randomStart: true } },
    ];
    const results: { name: string; insight: Side; pytorch: Side; agree?: number }[] = [];
    console.error(`${modelDir} on the first ${count} images of ${description}; eps ${eps.toFixed(5)}, ${os.cpus().length} cores`);
    for (const row of rows) {
      // Insight: robustAccuracy, the loop behind `insight evaluate --attack` (evaluate() takes no randomStart).
      const loader = new DataLoader(subsetDataset(dataset, Array.from({ length: count }, (_, i) => i)), {
        batchSize: batch, shuffle: false, normalization: meta.normalization, workers: 0,
      });
      const robust = await robustAccuracy(model, loader, row.spec, meta.normalization, count);
      await loader.close();
      const insight = { accuracy: robust.accuracy, clean: robust.cleanAccuracyOnSame, seconds: robust.seconds };
      const out = execFileSync('/usr/bin/python3', [path.join(__dirname, 'attack_check.py'), '--dir', dir, '--eps', String(eps),
        '--batch', String(batch), '--seed', String(seed), '--mean', normalization.mean.join(','), '--std', normalization.std.join(','),
        '--spec', JSON.stringify(row.python)], { encoding: 'utf8', env: process.env });
      const py = JSON.parse(out.trim().split('\n').pop()!) as Side;
      results.push({ name: row.name, insight, pytorch: py });
      console.error(`  ${row.name}: Insight ${(100 * insight.accuracy).toFixed(2)}% (clean ${(100 * insight.clean).toFixed(2)}%, ${insight.seconds.toFixed(1)} s), ` +
        `PyTorch ${(100 * py.accuracy).toFixed(2)}% (clean ${(100 * py.clean).toFixed(2)}%, ${py.seconds.toFixed(1)} s)`);
    }
    console.log('\n| attack | Insight robust acc. | PyTorch robust acc. | difference (pt) | clean (Insight / PyTorch) | seconds (Insight / PyTorch) |');
    console.log('|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(`| ${r.name} | ${(100 * r.insight.accuracy).toFixed(2)}% | ${(100 * r.pytorch.accuracy).toFixed(2)}% | ` +
        `${(100 * (r.insight.accuracy - r.pytorch.accuracy)).toFixed(2)} | ${(100 * r.insight.clean).toFixed(2)}% / ${(100 * r.pytorch.clean).toFixed(2)}% | ` +
        `${r.insight.seconds.toFixed(1)} / ${r.pytorch.seconds.toFixed(1)} |`);
    }
    model.dispose();
    console.log(JSON.stringify({ run: args.run, images: count, eps, steps, alpha, batch, seed, tfBackend: tf.getBackend(), results }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
