// Fine-tuning on a real few-shot task, every method against training from scratch. A base is pretrained on
// CIFAR-10 classes 0-4 (airplane, automobile, bird, cat, deer) from the first 45,000 records of the training
// archive; it is then fine-tuned on classes 5-9 (dog, frog, horse, ship, truck) with 50, 100 and 500 labelled
// images per class, and evaluated on the held-out images of classes 5-9 among the last 5,000 records (never
// trained on, neither by the base nor by the fine-tuning). "base task" is the forgetting report: accuracy on the
// held-out images of classes 0-4 with the base's original head, before → after fine-tuning. Fixed seeds; the
// wall time is the training loop only (no per-epoch validation; not data loading, not the final evaluation).
// Prints a markdown table. resnet is a CIFAR ResNet-8 (depth 6n+2 with n = 1, width 16) to fit the time budget.
//   node --conditions=source --import tsx benchmarks/finetune.ts [--data <cifar-10 archive>] [--models seed-cnn,resnet]
//        [--sizes 50,100,500] [--pretrain-epochs 5] [--resnet-depth 8]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  Adam, CosineSchedule, DataLoader, computeMetrics, createModel, filterClasses, finetune, fit, initBackend,
  loadCifar10, paramsOf, runInference, saveModel, splitTrainValidation, subsetDataset, tf, trainableVariables, type ImageDataset,
} from '@insight/insight';

import { benchmarkArgs, numberArg, numberListArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/finetune.ts [options]
  --data <archive>                 CIFAR-10 archive or folder (default: ../shared/data/cifar-10-binary-train.tar.gz)
  --models <list>                  models to compare (default: seed-cnn,resnet)
  --sizes <list>                   labelled images per class (default: 50,100,500)
  --pretrain-epochs <n>            seed-cnn pretraining epochs on classes 0-4 (default: 5)
  --resnet-pretrain-epochs <n>     resnet pretraining epochs (default: 3)
  --resnet-depth <n>               CIFAR ResNet depth, 6n+2 (default: 8)`;
const args = benchmarkArgs(USAGE, {
  data: { type: 'string', default: path.resolve(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz') },
  models: { type: 'string', default: 'seed-cnn,resnet' },
  sizes: { type: 'string', default: '50,100,500' },
  'pretrain-epochs': { type: 'string', default: '5' },
  'resnet-pretrain-epochs': { type: 'string', default: '3' },
  'resnet-depth': { type: 'string', default: '8' },
});
const DATA = args.data;
const MODELS = args.models.split(',');
const SIZES = numberListArg('sizes', args.sizes);
const PRETRAIN_EPOCHS: Record<string, number> = {
  'seed-cnn': numberArg('pretrain-epochs', args['pretrain-epochs']), resnet: numberArg('resnet-pretrain-epochs', args['resnet-pretrain-epochs']),
};
const RESNET_DEPTH = numberArg('resnet-depth', args['resnet-depth']);
/** Few-shot epochs by images per class: more passes over fewer images, ~160-400 updates of 32 each. */
const EPOCHS: Record<number, number> = { 50: 20, 100: 12, 500: 5 };
const SEED = 1;
const HELD_OUT = 5000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-finetune-'));

interface Row { model: string; method: string; perClass: number; accuracy: number; trainable: number; share: number; seconds: number; base: string }

/** The first n images of each class, in record order (as finetune's --per-class picks them). */
function firstPerClass(ds: ImageDataset, n: number): ImageDataset {
  const taken = new Array(ds.classNames.length).fill(0);
  const keep: number[] = [];
  for (let i = 0; i < ds.count; i++) if (taken[ds.labels[i]]++ < n) keep.push(i);
  return subsetDataset(ds, keep);
}

async function accuracyOf(model: Parameters<typeof runInference>[0], ds: ImageDataset): Promise<number> {
  const loader = new DataLoader(ds, { batchSize: 256, shuffle: false, workers: 1 });
  try {
    return computeMetrics(await runInference(model, loader), ds.classNames, [1]).accuracy;
  } finally {
    await loader.close();
  }
}

/** Pretrains `name` on classes 0-4 and saves it; returns the model directory and its held-out accuracy. */
async function pretrain(name: string, train: ImageDataset, heldOut: ImageDataset): Promise<{ dir: string; accuracy: number; seconds: number }> {
  const model = createModel(name, { inputShape: [32, 32, 3], numClasses: 5, classNames: train.classNames, seed: SEED, depth: RESNET_DEPTH });
  const loader = new DataLoader(train, { batchSize: 64, seed: SEED, workers: 1 });
  const optimizer = new Adam(paramsOf(trainableVariables(model)));
  const epochs = PRETRAIN_EPOCHS[name];
  const started = performance.now();
  await fit(model, loader, { epochs, optimizer, schedule: new CosineSchedule(1e-3, epochs * loader.batchesPerEpoch, 0, 0), seed: SEED });
  const seconds = (performance.now() - started) / 1000;
  await loader.close();
  optimizer.dispose();
  const dir = path.join(tmp, `base-${name}`);
  await saveModel(model, dir);
  const accuracy = await accuracyOf(model, heldOut);
  model.dispose();
  return { dir, accuracy, seconds };
}

/** The same architecture trained from scratch on the few-shot images (same epochs, Adam 1e-3, cosine). */
async function fromScratch(name: string, train: ImageDataset, heldOut: ImageDataset, epochs: number): Promise<Row> {
  const model = createModel(name, { inputShape: [32, 32, 3], numClasses: 5, classNames: train.classNames, seed: SEED, depth: RESNET_DEPTH });
  const loader = new DataLoader(train, { batchSize: 32, seed: SEED, workers: 1 });
  const optimizer = new Adam(paramsOf(trainableVariables(model)));
  const started = performance.now();
  await fit(model, loader, { epochs, optimizer, schedule: new CosineSchedule(1e-3, epochs * loader.batchesPerEpoch, 0, 0), seed: SEED });
  const seconds = (performance.now() - started) / 1000;
  const accuracy = await accuracyOf(model, heldOut);
  const trainable = model.countParams();
  await loader.close();
  optimizer.dispose();
  model.dispose();
  return { model: name, method: 'from scratch', perClass: train.count / 5, accuracy, trainable, share: 1, seconds, base: '—' };
}

const METHODS: { label: string; options: Record<string, unknown>; needsBatchNorm?: boolean }[] = [
  { label: 'full', options: { method: 'full' } },
  { label: 'full + gradual unfreezing', options: { method: 'full', unfreezeEvery: 1 } },
  { label: 'full + L2-SP 0.01', options: { method: 'full', l2sp: 0.01 } },
  { label: 'head (linear probe)', options: { method: 'head' } },
  { label: 'bn+head', options: { method: 'bn+head' }, needsBatchNorm: true },
  { label: 'adapter (bottleneck 8)', options: { method: 'adapter', adapterBottleneck: 8 } },
  { label: 'lora (r 4, alpha 4)', options: { method: 'lora', rank: 4 } },
];

async function main(): Promise<void> {
  const backend = await initBackend();
  const all = await loadCifar10({ path: DATA });
  const { train: pool, validation: heldOutPool } = splitTrainValidation(all, { validationCount: HELD_OUT });
  const baseTrain = filterClasses(pool, [0, 1, 2, 3, 4]);
  const baseHeldOut = filterClasses(heldOutPool, [0, 1, 2, 3, 4]);
  const newTrain = filterClasses(pool, [5, 6, 7, 8, 9]);
  const newHeldOut = filterClasses(heldOutPool, [5, 6, 7, 8, 9]);
  console.log(`backend ${backend}; base task: ${baseTrain.count} training / ${baseHeldOut.count} held-out images (classes 0-4); ` +
    `new task: held-out ${newHeldOut.count} images (classes 5-9); ${os.availableParallelism()} cores`);
  const rows: Row[] = [];
  const bases: string[] = [];
  const started = performance.now();
  for (const name of MODELS) {
    const label = name === 'resnet' ? `resnet${RESNET_DEPTH}` : name;
    const base = await pretrain(name, baseTrain, baseHeldOut);
    bases.push(`${label}: pretrained ${PRETRAIN_EPOCHS[name]} epochs on ${baseTrain.count} images in ${base.seconds.toFixed(0)} s, held-out accuracy on classes 0-4 ${(base.accuracy * 100).toFixed(1)}%`);
    console.log(bases[bases.length - 1]);
    for (const perClass of SIZES) {
      const epochs = EPOCHS[perClass] ?? 10;
      rows.push({ ...(await fromScratch(name, firstPerClass(newTrain, perClass), newHeldOut, epochs)), model: label });
      console.log(format(rows[rows.length - 1]));
      for (const method of METHODS) {
        if (method.needsBatchNorm && name === 'seed-cnn') continue;
        const result = await finetune({
          base: base.dir, data: DATA, classes: '5,6,7,8,9', perClass, validationCount: HELD_OUT, forgettingClasses: '0,1,2,3,4',
          epochs, batchSize: 32, seed: SEED, workers: 1, progress: 'none', epochValidation: false, runsDir: path.join(tmp, 'runs'), ...method.options,
        });
        const f = result.forgetting!;
        rows.push({
          model: label, method: method.label, perClass, accuracy: result.report.accuracy, trainable: result.trainableParams,
          share: result.trainableShare, seconds: result.trainSeconds, base: `${(f.before * 100).toFixed(1)} → ${(f.after * 100).toFixed(1)}`,
        });
        result.model.dispose();
        console.log(format(rows[rows.length - 1]));
      }
    }
  }
  console.log(`\nTotal ${((performance.now() - started) / 1000 / 60).toFixed(1)} min; tensors alive ${tf.memory().numTensors}.\n`);
  for (const line of bases) console.log(`- ${line}`);
  console.log('\n| model | method | images/class | accuracy (classes 5-9, held-out) | trainable params (share) | train s | base task acc. % before → after |');
  console.log('|---|---|---:|---:|---:|---:|---|');
  for (const row of rows) console.log(format(row));
  fs.rmSync(tmp, { recursive: true, force: true });
}

function format(r: Row): string {
  const share = r.share < 0.01 ? (r.share * 100).toFixed(2) : (r.share * 100).toFixed(1);
  return `| ${r.model} | ${r.method} | ${r.perClass} | ${(r.accuracy * 100).toFixed(1)}% | ${r.trainable.toLocaleString('en-US')} (${share}%) | ${r.seconds.toFixed(1)} | ${r.base} |`;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
