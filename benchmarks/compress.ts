// Issue 13's tables: int8 post-training quantisation (ONNX Runtime) against fp32 tfjs on torch, pruning at several
// sparsities (unstructured and structured), and distillation (student alone vs distilled), all on the validation split
// of the runs given (CIFAR-10's last 5,000 training images for the reference recipe).
//   node --conditions=source --import tsx benchmarks/compress.ts --run <reference run> [--teacher <run>]
//        [--parts int8,prune,distill] [--calibration-images 512] [--speed-images 6400] [--rounds 5] [--threads 2]
// Speed: batch 64 over --speed-images validation images, rounds alternating tfjs (torch, fp32), ONNX Runtime fp32 and
// ONNX Runtime int8, each with --threads intra-op threads; the table gives the median of the rounds. Run it alone.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../packages/insight/src/backend';
import { compress } from '../packages/insight/src/compress/compress';
import { distill } from '../packages/insight/src/compress/distill';
import { agreement, evaluateOnnx, quantizeModel, type CalibrationMethod } from '../packages/insight/src/compress/quantize';
import { DataLoader, normalizeImages, subsetDataset, type ImageDataset } from '../packages/insight/src/data';
import { runInference } from '../packages/insight/src/eval/inference';
import { argmaxRows, topKAccuracy } from '../packages/insight/src/math/top_k';
import { getInsightMetadata } from '../packages/insight/src/models/metadata';
import { exportOnnx, OnnxModel } from '../packages/insight/src/onnx';
import { startBackend } from '../packages/insight/src/run/backend_choice';
import { loadRunSplit, runSplitSettings, type DatasetSource } from '../packages/insight/src/run/dataset_source';
import { loadModel, resolveModelDir, WEIGHTS_BIN } from '../packages/insight/src/run/model_io';
import { RunDir } from '../packages/insight/src/run/run_dir';
import { train } from '../packages/insight/src/train/train';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/compress.ts --run <run> [options]
  --run <dir>                 the model to compress (a completed run of insight train; its data and split)
  --teacher <dir>             distill: the teacher run (same data and classes)
  --parts <list>              int8,prune,distill (default: all three; distill needs --teacher)
  --calibration-images <n>    int8: calibration images from the run's training split (default: 512)
  --speed-images <n>          images per speed round (default: 6400)
  --rounds <n>                alternating speed rounds (default: 5)
  --threads <n>               torch and ONNX Runtime intra-op threads (default: all cores)
  --prune-epochs <n>          fine-tuning epochs of each pruning row (default: 2)
  --students <list>           distill: students, zoo names or model files (default: seed-cnn,benchmarks/small_cnn.ts)`;
const args = benchmarkArgs(USAGE, {
  run: { type: 'string' },
  teacher: { type: 'string' },
  parts: { type: 'string', default: 'int8,prune,distill' },
  'calibration-images': { type: 'string', default: '512' },
  'speed-images': { type: 'string', default: '6400' },
  rounds: { type: 'string', default: '5' },
  threads: { type: 'string', default: String(os.availableParallelism()) },
  'prune-epochs': { type: 'string', default: '2' },
  students: { type: 'string', default: 'seed-cnn,benchmarks/small_cnn.ts' },
});
if (args.run === undefined) {
  console.error(`--run is required.\n\n${USAGE}`);
  process.exit(2);
}
const runDir = args.run;
const parts = new Set(args.parts.split(','));
const threads = numberArg('threads', args.threads);
const rounds = numberArg('rounds', args.rounds);
const speedImages = numberArg('speed-images', args['speed-images']);
const calibrationImages = numberArg('calibration-images', args['calibration-images']);
const pruneEpochs = numberArg('prune-epochs', args['prune-epochs']);
const BATCH = 64;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const gzipBytes = (bytes: Uint8Array) => zlib.gzipSync(bytes, { level: 9 }).length;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-bench-compress-'));
const quiet = { progress: 'none' as const, runsDir: path.join(scratch, 'runs') };
const silent = { out: fs.createWriteStream('/dev/null') as unknown as NodeJS.WriteStream, handleSignals: false };

/** The run's train and validation images, as the run split them. */
async function runSplit(dir: string): Promise<{ train: ImageDataset; validation: ImageDataset; description: string }> {
  const config = RunDir.open(dir).readConfig() as Record<string, unknown>;
  const source: DatasetSource = { data: typeof config.data === 'string' ? config.data : null, dataset: 'auto', imageSize: 32, imageWidth: 32 };
  const split = await loadRunSplit(source, runSplitSettings(config));
  if (split.validation === null) throw new Error(`${dir} has no validation split`);
  return { train: split.train, validation: split.validation, description: split.validationDescription };
}

/** Images/s of `predict` over `x` in batches of 64, after one warm-up batch. */
async function rate(predict: (x: Float32Array, n: number) => Promise<void>, x: Float32Array, count: number): Promise<number> {
  const stride = x.length / count;
  await predict(x.subarray(0, BATCH * stride), BATCH);
  const t0 = performance.now();
  for (let start = 0; start < count; start += BATCH) {
    const n = Math.min(BATCH, count - start);
    await predict(x.subarray(start * stride, (start + n) * stride), n);
  }
  return count / ((performance.now() - t0) / 1000);
}

/** One batch through the model as `insight serve` runs it (serve/repository/servable.ts): apply in inference mode. */
function tfjsPredictor(model: tfl.LayersModel, shape: [number, number, number]) {
  return async (x: Float32Array, n: number) => {
    const y = tf.tidy(() => model.apply(tf.tensor4d(x, [n, ...shape]), { training: false }) as tf.Tensor);
    await y.data();
    y.dispose();
  };
}

async function int8Part(): Promise<void> {
  const model = await loadModel(runDir);
  const metadata = getInsightMetadata(model, runDir);
  const split = await runSplit(runDir);
  const loader = () => new DataLoader(split.validation, { batchSize: 256, shuffle: false, normalization: metadata.normalization, workers: 0 });
  const fp32 = await runInference(model, loader());
  const fp32Predictions = argmaxRows(fp32.probabilities, fp32.numClasses);
  const fp32Accuracy = topKAccuracy(fp32.probabilities, fp32.labels, fp32.numClasses, 1);
  const weightsBin = fs.readFileSync(path.join(resolveModelDir(runDir), WEIGHTS_BIN));
  const fp32Onnx = exportOnnx(model, { metadata });
  const fp32Ort = await evaluateOnnx(fp32Onnx, loader(), { threads });
  const rows: string[][] = [
    ['tfjs on torch, fp32', pct(fp32Accuracy), '—', '—', `${kb(weightsBin.length)} (gzip ${kb(gzipBytes(weightsBin))})`, '1.00x'],
    ['ONNX Runtime, fp32', pct(fp32Ort.accuracy), pct(agreement(fp32Ort.predictions, fp32Predictions)), '—',
      `${kb(fp32Onnx.length)} (gzip ${kb(gzipBytes(fp32Onnx))})`, `${(weightsBin.length / fp32Onnx.length).toFixed(2)}x`],
  ];
  let int8Bytes: Uint8Array | null = null;
  for (const method of ['minmax', 'percentile', 'entropy'] as CalibrationMethod[]) {
    const t0 = performance.now();
    const { onnx } = await quantizeModel(model, split.train, { images: calibrationImages, method, seed: 0, metadata });
    const seconds = (performance.now() - t0) / 1000;
    const result = await evaluateOnnx(onnx, loader(), { threads });
    rows.push([`ONNX Runtime, int8 (${method})`, pct(result.accuracy), pct(agreement(result.predictions, fp32Predictions)),
      `${(100 * (fp32Accuracy - result.accuracy)).toFixed(2)} pt, ${seconds.toFixed(1)} s`, `${kb(onnx.length)} (gzip ${kb(gzipBytes(onnx))})`,
      `${(weightsBin.length / onnx.length).toFixed(2)}x`]);
    if (method === 'minmax') int8Bytes = onnx;
  }
  console.log(`\n### int8 post-training quantisation (${split.description}; ${calibrationImages} calibration images from the training split)\n`);
  console.log('| model | validation accuracy | argmax agreement with fp32 | drop, calibration time | file | smaller than the tfjs weights |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);

  // Speed: one normalised block of validation images, batch 64, alternating rounds.
  const count = Math.min(speedImages, split.validation.count);
  const block = normalizeImages(subsetDataset(split.validation, Array.from({ length: count }, (_, i) => i)).images, metadata.normalization);
  const shape = metadata.inputShape as [number, number, number];
  const sessions = { fp32: await OnnxModel.load(fp32Onnx, { threads }), int8: await OnnxModel.load(int8Bytes!, { threads }) };
  const rates: Record<'tfjs' | 'fp32' | 'int8', number[]> = { tfjs: [], fp32: [], int8: [] };
  for (let r = 0; r < rounds; r++) {
    rates.tfjs.push(await rate(tfjsPredictor(model, shape), block, count));
    rates.fp32.push(await rate(async (x, n) => { await sessions.fp32.predict(x, n); }, block, count));
    rates.int8.push(await rate(async (x, n) => { await sessions.int8.predict(x, n); }, block, count));
  }
  await sessions.fp32.dispose();
  await sessions.int8.dispose();
  const base = median(rates.tfjs);
  console.log(`\n### Inference speed, batch 64, ${count} images x ${rounds} alternating rounds, ${threads} threads each (median images/s)\n`);
  console.log('| engine | images/s | vs tfjs on torch fp32 | rounds |');
  console.log('|---|---|---|---|');
  for (const [name, key] of [['tfjs on torch, fp32', 'tfjs'], ['ONNX Runtime, fp32', 'fp32'], ['ONNX Runtime, int8 (minmax)', 'int8']] as const) {
    console.log(`| ${name} | ${median(rates[key]).toFixed(0)} | ${(median(rates[key]) / base).toFixed(2)}x | ${rates[key].map((x) => x.toFixed(0)).join(', ')} |`);
  }
  model.dispose();
}

async function prunePart(): Promise<void> {
  const split = await runSplit(runDir);
  const rows = [
    { sparsity: 0, structured: false }, { sparsity: 0.5, structured: false }, { sparsity: 0.75, structured: false }, { sparsity: 0.9, structured: false },
    { sparsity: 0.25, structured: true }, { sparsity: 0.5, structured: true }, { sparsity: 0.75, structured: true },
  ];
  const count = Math.min(speedImages, split.validation.count);
  // Every compressed model keeps the source's normalization: one block of pixels serves all rows.
  const source = await loadModel(runDir);
  const { normalization, inputShape } = getInsightMetadata(source, runDir);
  source.dispose();
  const block = normalizeImages(subsetDataset(split.validation, Array.from({ length: count }, (_, i) => i)).images, normalization);
  console.log(`\n### Pruning (${pruneEpochs} fine-tuning epochs each, Adam 1e-4, polynomial schedule for unstructured; ${split.description})\n`);
  console.log('| pruning | validation accuracy | parameters | MFLOPs/image | sparsity of pruned layers | sparse file (gzip) | tfjs images/s (batch 64) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const t0 = performance.now();
    const result = await compress({ model: runDir, sparsity: row.sparsity, structured: row.structured, epochs: pruneEpochs, weights: 'sparse', ...quiet }, silent);
    const seconds = (performance.now() - t0) / 1000;
    const s = result.summary;
    const speeds: number[] = [];
    for (let r = 0; r < rounds; r++) speeds.push(await rate(tfjsPredictor(result.model, inputShape as [number, number, number]), block, count));
    const name = row.sparsity === 0 ? 'none (fine-tuned alike)' : `${row.structured ? 'structured' : 'unstructured, global'} ${Math.round(100 * row.sparsity)}%`;
    console.log(`| ${name} | ${pct(s.accuracy!.float32)} | ${s.parameters.after.toLocaleString('en-US')} | ${(s.flops.after / 1e6).toFixed(2)} | ` +
      `${pct(s.sparsity.sparsity)} | ${kb(s.weights.bytes)} (${kb(s.weights.gzipBytes)}) | ${median(speeds).toFixed(0)} | <!-- ${seconds.toFixed(0)} s -->`);
    result.model.dispose();
  }
}

async function distillPart(): Promise<void> {
  if (args.teacher === undefined) throw new Error('--parts distill needs --teacher <run>');
  const config = RunDir.open(runDir).readConfig() as Record<string, unknown>;
  const recipe = { data: config.data, epochs: config.epochs, ...quiet };
  console.log(`\n### Distillation (teacher ${args.teacher}; T 4, alpha 0.9; the reference recipe otherwise)\n`);
  console.log('| student | parameters | alone | distilled | teacher |');
  console.log('|---|---|---|---|---|');
  for (const student of args.students.split(',')) {
    const alone = await train({ ...recipe, model: student }, silent);
    const distilled = await distill({ ...recipe, teacher: args.teacher, student }, silent);
    console.log(`| ${student} | ${alone.model.countParams().toLocaleString('en-US')} | ${pct(alone.report.accuracy)} | ${pct(distilled.report.accuracy)} | ` +
      `${pct(distilled.teacher.accuracy)} (${distilled.teacher.architecture}, ${distilled.teacher.parameters.toLocaleString('en-US')}) |`);
    alone.model.dispose();
    distilled.model.dispose();
  }
}

async function main(): Promise<void> {
  await startBackend('auto');
  console.log(`compress benchmark: run ${runDir}, ${threads} threads, ${os.cpus()[0].model}; MALLOC settings: ${process.env.MALLOC_MMAP_THRESHOLD_ ? 'set' : 'default'}`);
  if (parts.has('int8')) await int8Part();
  if (parts.has('prune')) await prunePart();
  if (parts.has('distill')) await distillPart();
  fs.rmSync(scratch, { recursive: true, force: true });
}

void main();
