// Where a training step of Insight's own loop goes (issue 10's step profile, for the captured step): trains the zoo's
// seed-cnn (batch 64) or resnet20 (batch 128) with `fit` (packages/insight/src/train/trainer.ts: Adam, the gradient
// step and the update replayed natively as captured functions) on random uint8 images, and prints
//   1. per step: the wall time, the time inside the two native programs (gradient step, optimizer update) and the rest
//      (batch rendering and upload, the loop, callbacks, reading the loss back), from epochs with capture on;
//   2. the ATen operators those programs run, with their time per step, from one epoch with capture off (the replay
//      makes the same ATen calls; here each is timed around the addon's call).
//   MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=536870912 \
//   node --conditions=source --import tsx benchmarks/captured_step_profile.ts [--model resnet] [--images 3200] [--precision bf16]
import * as torchBackend from '@insight/tfjs-backend-torch';
import * as tf from '@tensorflow/tfjs-core';

import { createModel } from '../packages/insight/src/models/registry';
import { PRECISIONS, type Precision } from '../packages/insight/src/run/config_fields';
import { requireBinding } from '../packages/tfjs-backend-torch/src/binding';
import { benchmarkArgs, numberArg } from './args';
import { fitOnRandomImages } from './insight_fit';

const USAGE = `Usage: [MALLOC_*=...] node --conditions=source --import tsx benchmarks/captured_step_profile.ts [options]
  --model <name>      seed-cnn (default, batch 64) or resnet (resnet20, batch 128)
  --images <n>        random CIFAR-shaped images per epoch (default: 3200)
  --precision <name>  fp32 (default) or bf16
  --top <n>           operator rows (default: 30)`;
const args = benchmarkArgs(USAGE, {
  model: { type: 'string', default: 'seed-cnn' }, images: { type: 'string', default: '3200' },
  precision: { type: 'string', default: 'fp32' }, top: { type: 'string', default: '30' },
});
if (args.model !== 'seed-cnn' && args.model !== 'resnet') {
  console.error(`--model must be seed-cnn or resnet. Received: model=${JSON.stringify(args.model)}.`);
  process.exit(2);
}
if (!PRECISIONS.includes(args.precision as Precision)) {
  console.error(`--precision must be fp32 or bf16. Received: precision=${JSON.stringify(args.precision)}.`);
  process.exit(2);
}
const model = args.model;
const precision = args.precision as Precision;
const images = numberArg('images', args.images);
const top = numberArg('top', args.top);
const batch = model === 'resnet' ? 128 : 64;
const steps = Math.ceil(images / batch);

type Binding = { programRun(p: unknown, h: unknown[]): unknown; call(id: number, a: unknown[], keep: boolean): unknown;
  schemaOf(id: number): string; shape(h: unknown): number[]; dtype(h: unknown): string };
const binding = requireBinding() as unknown as Binding;

/** Trains `epochs` epochs of a fresh model on the same images and returns each epoch's seconds. */
async function train(epochs: number, onEpoch: (epoch: number) => void): Promise<number[]> {
  const net = createModel(model, { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  const state = await fitOnRandomImages(net, { images, batchSize: batch, epochs, precision,
    callbacks: [{ name: 'profile', onEpochBegin: (epoch: number) => onEpoch(epoch) }] });
  net.dispose();
  return state.history.map((h) => h.seconds);
}

async function main() {
  await tf.setBackend('torch');
  // 1. Capture on: time inside programRun per epoch (epoch 0 records and warms up).
  const runProgram = binding.programRun.bind(binding);
  let programMs = 0;
  const programByEpoch: number[] = [];
  binding.programRun = (p, h) => {
    const t0 = performance.now();
    const out = runProgram(p, h);
    programMs += performance.now() - t0;
    return out;
  };
  const seconds = await train(4, (epoch) => {
    if (epoch > 0) programByEpoch.push(programMs);
    programMs = 0;
  });
  programByEpoch.push(programMs);
  binding.programRun = runProgram;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const stepMs = median(seconds.slice(1)) * 1000 / steps;
  const inPrograms = median(programByEpoch.slice(1)) / steps;

  // 2. Capture off: each ATen call timed, in the second epoch.
  torchBackend.setCaptureEnabled(false);
  const call = binding.call.bind(binding);
  const totals = new Map<string, { calls: number; ms: number }>();
  let timing = false;
  binding.call = (id, a, keep) => {
    if (!timing) return call(id, a, keep);
    const t0 = performance.now();
    const out = call(id, a, keep);
    const ms = performance.now() - t0;
    const shapes = a.filter((v) => typeof v === 'object' && v !== null && !Array.isArray(v))
      .map((h) => `${binding.dtype(h) === 'BFloat16' ? 'bf16' : binding.dtype(h).toLowerCase()}[${binding.shape(h)}]`).join(', ');
    const key = `${binding.schemaOf(id).split('(')[0]} | ${shapes}`;
    const entry = totals.get(key) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += ms;
    totals.set(key, entry);
    return out;
  };
  await train(2, (epoch) => { timing = epoch === 1; });
  binding.call = call;
  const opMs = [...totals.values()].reduce((s, e) => s + e.ms, 0) / steps;

  console.log(`${model} batch ${batch}, ${precision}, ${images} images per epoch, ${torchBackend.getNumThreads()} threads: ` +
    `${stepMs.toFixed(2)} ms per step (${(batch * 1000 / stepMs).toFixed(0)} img/s, median of 3 epochs after 1 that records), ` +
    `${inPrograms.toFixed(2)} ms in the native programs, ${(stepMs - inPrograms).toFixed(2)} ms outside them. ` +
    `Eager with each ATen call timed: ${opMs.toFixed(2)} ms per step in ATen calls.\n`);
  console.log('| ATen operator | operands | calls/step | ms/step | share of the ATen time |\n|---|---|---:|---:|---:|');
  for (const [key, e] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    const [op, shapes] = key.split(' | ');
    console.log(`| ${op} | ${shapes} | ${(e.calls / steps).toFixed(0)} | ${(e.ms / steps).toFixed(3)} | ${(100 * e.ms / steps / opMs).toFixed(1)}% |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
