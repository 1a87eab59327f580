// Where a batch-1 forward pass of seed-cnn goes, op by op, as `insight serve` runs it (a Sequential model as its
// layers' own calls, inference mode, one compute thread): every call into the addon is timed by ATen operator name
// (and the tensor copies in and out), median pass time beside the sum. Used by BENCHMARKS.md section 5 to show
// what limits serving at concurrency 1.
//   node --conditions=source --import tsx benchmarks/forward_ops.ts [--passes 2000] [--batch 1]
import { createModel, initBackend, tf } from '@insight/insight';
import type * as tfl from '@tensorflow/tfjs-layers';

import { requireBinding } from '../packages/tfjs-backend-torch/src/binding';
import { benchmarkArgs, numberArg } from './args';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/forward_ops.ts [options]
  --passes <n>   timed passes (default: 2000)
  --batch <n>    images per pass (default: 1)`;
const args = benchmarkArgs(USAGE, { passes: { type: 'string', default: '2000' }, batch: { type: 'string', default: '1' } });
const passes = numberArg('passes', args.passes);
const batch = numberArg('batch', args.batch);

type Binding = { resolveOp(name: string, overload: string): number; call(id: number, args: unknown[], keepDtype: boolean): unknown } & Record<string, unknown>;

async function main() {
  process.env.INSIGHT_TORCH_THREADS ??= '1';
  await initBackend();
  const b = requireBinding() as unknown as Binding;
  // Wrap the addon's entry points: operator calls by name, and the copies in and out.
  const names = new Map<number, string>();
  const resolve = b.resolveOp.bind(b);
  b.resolveOp = (name, overload) => {
    const id = resolve(name, overload);
    names.set(id, overload === '' ? name : `${name}.${overload}`);
    return id;
  };
  const stats = new Map<string, { ms: number; calls: number }>();
  let timing = false;
  const timed = <A extends unknown[], R>(label: (...a: A) => string, f: (...a: A) => R) => (...a: A): R => {
    if (!timing) return f(...a);
    const t = performance.now();
    const r = f(...a);
    const s = stats.get(label(...a)) ?? { ms: 0, calls: 0 };
    s.ms += performance.now() - t;
    s.calls++;
    stats.set(label(...a), s);
    return r;
  };
  b.call = timed((...a: [number, unknown[], boolean]) => names.get(a[0]) ?? `op ${a[0]}`, b.call.bind(b));
  for (const copy of ['fromTypedArray', 'toTypedArray']) b[copy] = timed(() => copy, (b[copy] as (...a: unknown[]) => unknown).bind(b));

  const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 }) as tfl.Sequential;
  const x = new Float32Array(batch * 32 * 32 * 3).fill(0.5);
  const pass = () => {
    const [logits, probabilities] = tf.tidy(() => {
      const out = model.layers.reduce((h: tf.Tensor, layer) => layer.call(h, { training: false }) as tf.Tensor, tf.tensor4d(x, [batch, 32, 32, 3]));
      return [out, tf.softmax(out)];
    });
    logits.dataSync();
    probabilities.dataSync();
    tf.dispose([logits, probabilities]);
  };
  for (let i = 0; i < 200; i++) pass();
  timing = true;
  const times: number[] = [];
  for (let i = 0; i < passes; i++) {
    const t = performance.now();
    pass();
    times.push(performance.now() - t);
  }
  times.sort((p, q) => p - q);
  const median = times[Math.floor(times.length / 2)] * 1000;
  console.log(`\nseed-cnn forward pass, batch ${batch}, ${process.env.INSIGHT_TORCH_THREADS} compute thread(s), ${passes} passes (node ${process.version}): median ${median.toFixed(0)} µs per pass\n`);
  console.log('| Addon call | µs per pass | calls per pass |');
  console.log('|---|---:|---:|');
  let total = 0;
  for (const [name, s] of [...stats].sort((p, q) => q[1].ms - p[1].ms)) {
    total += s.ms;
    console.log(`| ${name} | ${(s.ms / passes * 1000).toFixed(1)} | ${(s.calls / passes).toFixed(0)} |`);
  }
  console.log(`| **all addon calls** | **${(total / passes * 1000).toFixed(0)}** | |`);
  model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
