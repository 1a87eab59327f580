// Fine-tuning with its defaults, every method against training from scratch, in two parts (--parts).
//
// few-shot: a base is pretrained on CIFAR-10 classes 0-4 (airplane, automobile, bird, cat, deer) from the first
// 45,000 records of the training archive; it is then fine-tuned on classes 5-9 (dog, frog, horse, ship, truck) with
// 50, 100 and 500 labelled images per class, and evaluated on the held-out images of classes 5-9 among the last
// 5,000 records (never trained on, neither by the base nor by the fine-tuning). Every method runs with finetune()'s
// defaults (step budget from the data size, lr 1e-2 for the new weights, zero head, head first under full); "from
// scratch" is the same architecture trained on the few-shot images for as many updates (Adam 1e-3, cosine). "base
// task" is the forgetting report: accuracy on the held-out images of classes 0-4 with the base's original head,
// before → after fine-tuning. resnet is a CIFAR ResNet-8 (depth 6n+2 with n = 1, width 16) to fit the time budget.
//
// targets (issue 18): with defaults only, (a) ship vs truck (classes 8, 9), 100 images a class, from the reference
// model (seed-cnn by the reference recipe: Adam 1e-3, batch 64, 10 epochs, x/255, seed 0, on the first 45,000
// records) and from the same recipe on classes 0-7 only (ship and truck unseen), evaluated on the held-out ship and
// truck images among the last 5,000; (b) the 40+40 cat/dog
// images of the shared cifar10-jpg-mini folder (40 of its 50 a class, a seeded choice per --split-seeds) from the
// reference model itself (all 10 classes), evaluated on the cat and dog images among the last 5,000 records (about
// 1,000: 20 held-out images would measure nothing), against the base's own cat-vs-dog accuracy on the same images
// (its cat and dog logits only). The old defaults (Glorot head, lr 1e-3, 10 epochs, 1 warmup epoch under full, no
// head phase) are run beside them. Bases are trained here unless --base8 / --base10 name saved ones.
//
// Fixed seeds; accuracies only (no timing: the numbers must not depend on the machine's load). Prints markdown tables.
//   node --conditions=source --import tsx benchmarks/finetune.ts [--parts few-shot,targets] [--data <cifar-10 archive>]
//        [--models seed-cnn,resnet] [--sizes 50,100,500] [--base8 <model dir>] [--base10 <model dir>] [--split-seeds 0,1,2,3,4]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import sharp from 'sharp';

import {
  Adam, ConstantSchedule, CosineSchedule, DataLoader, computeMetrics, createModel, filterClasses, finetune, fit, getInsightMetadata,
  initBackend, loadCifar10, loadImageFolder, loadModel, paramsOf, runInference, saveModel, splitTrainValidation, subsetDataset, tf,
  trainableVariables, type ImageDataset,
} from '@insight/insight';
import { autoEpochs } from '@insight/insight/finetune';

import { benchmarkArgs, numberArg, numberListArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/finetune.ts [options]
  --parts <list>                   few-shot, targets (default: both)
  --data <archive>                 CIFAR-10 archive or folder (default: ../shared/data/cifar-10-binary-train.tar.gz)
  --images <folder>                the cat/dog image folder's source (default: ../shared/data/cifar10-jpg-mini)
  --models <list>                  few-shot: models to compare (default: seed-cnn,resnet)
  --sizes <list>                   few-shot: labelled images per class (default: 50,100,500)
  --pretrain-epochs <n>            few-shot: seed-cnn pretraining epochs on classes 0-4 (default: 5)
  --resnet-pretrain-epochs <n>     few-shot: resnet pretraining epochs (default: 3)
  --resnet-depth <n>               few-shot: CIFAR ResNet depth, 6n+2 (default: 8)
  --base8 <model dir>              targets: a seed-cnn trained by the reference recipe on classes 0-7 (default: train it)
  --base10 <model dir>             targets: the reference model, all 10 classes (default: train it)
  --split-seeds <list>             targets: cat/dog training subsets (default: 0,1,2,3,4)
  --methods <list>                 only these rows (method labels' first word, e.g. head,lora; default: all)`;
const args = benchmarkArgs(USAGE, {
  parts: { type: 'string', default: 'few-shot,targets' },
  data: { type: 'string', default: path.resolve(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz') },
  images: { type: 'string', default: path.resolve(__dirname, '..', '..', 'shared', 'data', 'cifar10-jpg-mini') },
  models: { type: 'string', default: 'seed-cnn,resnet' },
  sizes: { type: 'string', default: '50,100,500' },
  'pretrain-epochs': { type: 'string', default: '5' },
  'resnet-pretrain-epochs': { type: 'string', default: '3' },
  'resnet-depth': { type: 'string', default: '8' },
  base8: { type: 'string' },
  base10: { type: 'string' },
  'split-seeds': { type: 'string', default: '0,1,2,3,4' },
  methods: { type: 'string', default: '' },
});
const PARTS = args.parts.split(',');
const DATA = args.data;
const MODELS = args.models.split(',');
const SIZES = numberListArg('sizes', args.sizes);
const PRETRAIN_EPOCHS: Record<string, number> = {
  'seed-cnn': numberArg('pretrain-epochs', args['pretrain-epochs']), resnet: numberArg('resnet-pretrain-epochs', args['resnet-pretrain-epochs']),
};
const RESNET_DEPTH = numberArg('resnet-depth', args['resnet-depth']);
const SPLIT_SEEDS = numberListArg('split-seeds', args['split-seeds']);
const SEED = 1;
/** The targets' bases are the reference recipe's own run: seed 0 (as `insight train` with its defaults). */
const REFERENCE_SEED = 0;
const HELD_OUT = 5000;
const BATCH = 32;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-finetune-'));
const runsDir = path.join(tmp, 'runs');

/** Every method, with the finetune() options that select it (everything else: defaults). */
const ALL_METHODS: { label: string; options: Record<string, unknown>; needsBatchNorm?: boolean }[] = [
  { label: 'full', options: { method: 'full' } },
  { label: 'full + gradual unfreezing', options: { method: 'full', unfreezeEvery: 1 } },
  { label: 'full + L2-SP 0.01', options: { method: 'full', l2sp: 0.01 } },
  { label: 'head (linear probe)', options: { method: 'head' } },
  { label: 'bn+head', options: { method: 'bn+head' }, needsBatchNorm: true },
  { label: 'adapter (bottleneck 8)', options: { method: 'adapter', adapterBottleneck: 8 } },
  { label: 'lora (r 4, alpha 4)', options: { method: 'lora', rank: 4 } },
  { label: 'prompt (padding, 4 px)', options: { method: 'prompt' } },
];
const METHODS = args.methods === '' ? ALL_METHODS : ALL_METHODS.filter((m) => args.methods.split(',').includes(m.label.split(' ')[0]));
/** What finetune() did before issue 18 (for the targets' comparison): Glorot head (never from the base), lr 1e-3, 10 epochs, no head phase. */
const OLD_DEFAULTS = (method: string): Record<string, unknown> => ({
  headInit: 'glorot', headFromBase: false, lr: 1e-3, epochs: 10, ...(method === 'full' ? { headEpochs: 0, warmupEpochs: 1 } : {}),
});

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

/**
 * Trains `name` on `train` (Adam 1e-3, batch 64; cosine decay, or constant as the reference recipe) and saves it;
 * returns its directory and held-out accuracy.
 */
async function pretrain(name: string, train: ImageDataset, heldOut: ImageDataset, epochs: number, recipe: 'cosine' | 'reference', dir: string): Promise<{ dir: string; accuracy: number }> {
  const seed = recipe === 'reference' ? REFERENCE_SEED : SEED;
  const model = createModel(name, { inputShape: [32, 32, 3], numClasses: train.classNames.length, classNames: train.classNames, seed, depth: RESNET_DEPTH });
  const loader = new DataLoader(train, { batchSize: 64, seed, workers: 1 });
  const optimizer = new Adam(paramsOf(trainableVariables(model)));
  const schedule = recipe === 'reference' ? new ConstantSchedule(1e-3) : new CosineSchedule(1e-3, epochs * loader.batchesPerEpoch, 0, 0);
  await fit(model, loader, { epochs, optimizer, schedule, seed });
  await loader.close();
  optimizer.dispose();
  await saveModel(model, dir);
  const accuracy = await accuracyOf(model, heldOut);
  model.dispose();
  return { dir, accuracy };
}

interface Row { model: string; method: string; perClass: number; accuracy: number; trainable: number; share: number; updates: number; base: string }

/** The same architecture trained from scratch on the few-shot images for as many updates as the defaults give (Adam 1e-3, cosine). */
async function fromScratch(name: string, train: ImageDataset, heldOut: ImageDataset): Promise<Row> {
  const model = createModel(name, { inputShape: [32, 32, 3], numClasses: train.classNames.length, classNames: train.classNames, seed: SEED, depth: RESNET_DEPTH });
  const loader = new DataLoader(train, { batchSize: BATCH, seed: SEED, workers: 1 });
  const optimizer = new Adam(paramsOf(trainableVariables(model)));
  const epochs = autoEpochs(loader.batchesPerEpoch);
  await fit(model, loader, { epochs, optimizer, schedule: new CosineSchedule(1e-3, epochs * loader.batchesPerEpoch, 0, 0), seed: SEED });
  const accuracy = await accuracyOf(model, heldOut);
  const trainable = model.countParams();
  await loader.close();
  optimizer.dispose();
  model.dispose();
  return { model: name, method: 'from scratch', perClass: train.count / train.classNames.length, accuracy, trainable, share: 1, updates: epochs * loader.batchesPerEpoch, base: '—' };
}

async function fewShot(all: ImageDataset): Promise<void> {
  const { train: pool, validation: heldOutPool } = splitTrainValidation(all, { validationCount: HELD_OUT });
  const baseTrain = filterClasses(pool, [0, 1, 2, 3, 4]);
  const baseHeldOut = filterClasses(heldOutPool, [0, 1, 2, 3, 4]);
  const newTrain = filterClasses(pool, [5, 6, 7, 8, 9]);
  const newHeldOut = filterClasses(heldOutPool, [5, 6, 7, 8, 9]);
  console.log(`few-shot: base task ${baseTrain.count} training / ${baseHeldOut.count} held-out images (classes 0-4); new task: held-out ${newHeldOut.count} images (classes 5-9)`);
  const rows: Row[] = [];
  const bases: string[] = [];
  for (const name of MODELS) {
    const label = name === 'resnet' ? `resnet${RESNET_DEPTH}` : name;
    const base = await pretrain(name, baseTrain, baseHeldOut, PRETRAIN_EPOCHS[name], 'cosine', path.join(tmp, `base-${name}`));
    bases.push(`${label}: pretrained ${PRETRAIN_EPOCHS[name]} epochs on ${baseTrain.count} images, held-out accuracy on classes 0-4 ${(base.accuracy * 100).toFixed(1)}%`);
    console.log(bases[bases.length - 1]);
    for (const perClass of SIZES) {
      rows.push({ ...(await fromScratch(name, firstPerClass(newTrain, perClass), newHeldOut)), model: label });
      console.log(format(rows[rows.length - 1]));
      for (const method of METHODS) {
        if (method.needsBatchNorm && name === 'seed-cnn') continue;
        const result = await finetune({
          base: base.dir, data: DATA, classes: '5,6,7,8,9', perClass, validationCount: HELD_OUT, forgettingClasses: '0,1,2,3,4',
          batchSize: BATCH, seed: SEED, workers: 1, progress: 'none', epochValidation: false, runsDir, ...method.options,
        });
        const f = result.forgetting!;
        rows.push({
          model: label, method: method.label, perClass, accuracy: result.report.accuracy, trainable: result.trainableParams,
          share: result.trainableShare, updates: result.state.step, base: `${(f.before * 100).toFixed(1)} → ${(f.after * 100).toFixed(1)}`,
        });
        result.model.dispose();
        console.log(format(rows[rows.length - 1]));
      }
    }
  }
  console.log('');
  for (const line of bases) console.log(`- ${line}`);
  console.log('\n| model | method | images/class | accuracy (classes 5-9, held-out) | trainable params (share) | updates | base task acc. % before → after |');
  console.log('|---|---|---:|---:|---:|---:|---|');
  for (const row of rows) console.log(format(row));
}

function format(r: Row): string {
  const share = r.share < 0.01 ? (r.share * 100).toFixed(2) : (r.share * 100).toFixed(1);
  return `| ${r.model} | ${r.method} | ${r.perClass} | ${(r.accuracy * 100).toFixed(1)}% | ${r.trainable.toLocaleString('en-US')} (${share}%) | ${r.updates} | ${r.base} |`;
}

/** A seeded choice of 40 of the 50 images of the cat and dog folders, as a folder of symlinks. */
function catDogTraining(seed: number): string {
  const root = path.join(tmp, `catdog-${seed}`);
  let state = (seed * 2654435761 + 1) >>> 0;
  const random = () => {
    state = (Math.imul(state ^ (state >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return state / 2 ** 32;
  };
  for (const c of ['cat', 'dog']) {
    const files = fs.readdirSync(path.join(args.images, c)).sort();
    for (let i = files.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [files[i], files[j]] = [files[j], files[i]];
    }
    fs.mkdirSync(path.join(root, c), { recursive: true });
    for (const file of files.slice(0, 40)) fs.symlinkSync(path.join(args.images, c, file), path.join(root, c, file));
  }
  return root;
}

/** The images of `ds` as an image folder of PNGs (`<class>/<index>.png`), lossless. */
async function writeImageFolder(ds: ImageDataset, dir: string): Promise<string> {
  const stride = ds.height * ds.width * 3;
  for (let i = 0; i < ds.count; i++) {
    const classDir = path.join(dir, ds.classNames[ds.labels[i]]);
    fs.mkdirSync(classDir, { recursive: true });
    const pixels = Buffer.from(ds.images.subarray(i * stride, (i + 1) * stride));
    await sharp(pixels, { raw: { width: ds.width, height: ds.height, channels: 3 } }).png().toFile(path.join(classDir, `${i}.png`));
  }
  return dir;
}

/** The base's accuracy on an image folder of some of its classes, by the argmax over those classes' logits only. */
async function restrictedAccuracy(baseDir: string, folder: string): Promise<number> {
  const model = await loadModel(baseDir);
  const names = getInsightMetadata(model, baseDir).classNames;
  const ds = await loadImageFolder(folder, { height: 32, width: 32 });
  const columns = ds.classNames.map((c) => names.indexOf(c));
  const loader = new DataLoader(ds, { batchSize: 256, shuffle: false, workers: 1 });
  const result = await runInference(model, loader);
  await loader.close();
  model.dispose();
  let correct = 0;
  for (let i = 0; i < result.count; i++) {
    let best = 0;
    columns.forEach((column, k) => { if (result.probabilities[i * result.numClasses + column] > result.probabilities[i * result.numClasses + columns[best]]) best = k; });
    if (best === result.labels[i]) correct++;
  }
  return correct / result.count;
}

async function targets(all: ImageDataset): Promise<void> {
  const { train: pool, validation: heldOutPool } = splitTrainValidation(all, { validationCount: HELD_OUT });
  const eight = [0, 1, 2, 3, 4, 5, 6, 7];
  const trained = async (given: string | undefined, name: string, train: ImageDataset, heldOut: ImageDataset, dir: string) => {
    if (given !== undefined) return given;
    const base = await pretrain('seed-cnn', train, heldOut, 10, 'reference', dir);
    console.log(`base ${name}: ${(base.accuracy * 100).toFixed(2)}% on its ${heldOut.count} held-out images`);
    return base.dir;
  };
  const base8 = await trained(args.base8, 'classes 0-7', filterClasses(pool, eight), filterClasses(heldOutPool, eight), path.join(tmp, 'base8'));
  const base10 = await trained(args.base10, 'the reference model', pool, heldOutPool, path.join(tmp, 'base10'));
  const methods = METHODS.filter((m) => !m.needsBatchNorm && !m.label.includes('+'));
  const lines: string[] = [];
  for (const [task, base] of [['ship vs truck, 100 a class (base: the reference model)', base10], ['ship vs truck, 100 a class (base: classes 0-7 only)', base8]]) {
    for (const method of methods) {
      for (const [setting, extra] of [['defaults', {}], ['old defaults', OLD_DEFAULTS(method.options.method as string)]] as const) {
        const result = await finetune({
          base, data: DATA, classes: '8,9', perClass: 100, validationCount: HELD_OUT, seed: SEED, workers: 1, progress: 'none',
          epochValidation: false, runsDir, ...method.options, ...extra,
        });
        lines.push(`| ${task} | ${method.label} | ${setting} | ${result.state.step} | ${(result.report.accuracy * 100).toFixed(1)}% (${result.report.count} images) |`);
        console.log(lines[lines.length - 1]);
        result.model.dispose();
      }
    }
  }
  const heldOut = await writeImageFolder(filterClasses(heldOutPool, [3, 5]), path.join(tmp, 'catdog-held-out'));
  const baseLevel = await restrictedAccuracy(base10, heldOut);
  const accuracies = new Map<string, number[]>();
  const updates = new Map<string, number>();
  let heldOutCount = 0;
  for (const seed of SPLIT_SEEDS) {
    const train = catDogTraining(seed);
    for (const method of methods) {
      for (const [setting, extra] of [['defaults', {}], ['old defaults', OLD_DEFAULTS(method.options.method as string)]] as const) {
        const result = await finetune({
          base: base10, data: train, valData: heldOut, seed: SEED, workers: 1, progress: 'none', epochValidation: false, runsDir,
          ...method.options, ...extra,
        });
        heldOutCount = result.report.count;
        const key = `${method.label} | ${setting}`;
        accuracies.set(key, [...(accuracies.get(key) ?? []), result.report.accuracy]);
        updates.set(key, result.state.step);
        result.model.dispose();
      }
    }
    console.log(`cat/dog training subset ${seed}: base ${baseLevel}; ${[...accuracies].map(([k, v]) => `${k}: ${v[v.length - 1]}`).join('; ')}`);
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const pct = (v: number[]) => `${(mean(v) * 100).toFixed(1)}% (${v.map((a) => (a * 100).toFixed(1)).join(', ')})`;
  const task = `cat vs dog, 40+40 images (base: the reference model)`;
  lines.push(`| ${task} | the base itself, cat and dog logits only | — | — | ${(baseLevel * 100).toFixed(1)}% |`);
  for (const [key, values] of accuracies) lines.push(`| ${task} | ${key} | ${updates.get(key)} | ${pct(values)} |`);
  console.log(`\ncat/dog: ${SPLIT_SEEDS.length} training subsets (seeds ${SPLIT_SEEDS.join(',')}) of 40+40 images, ${heldOutCount} held-out images; accuracy: mean (per subset)\n`);
  console.log('| task | method | settings | updates | held-out accuracy |');
  console.log('|---|---|---|---:|---:|');
  for (const line of lines) console.log(line);
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const all = await loadCifar10({ path: DATA });
  console.log(`backend ${backend}; ${os.availableParallelism()} cores`);
  if (PARTS.includes('targets')) await targets(all);
  if (PARTS.includes('few-shot')) await fewShot(all);
  console.log(`\ntensors alive ${tf.memory().numTensors}`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
