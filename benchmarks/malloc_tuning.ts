// What the addon's allocator tuning at load (binding/addon.cc TuneMalloc) is worth to a plain TensorFlow.js program:
// the reference CNN trained with tfjs's own model.fit and tf.train.adam on the torch backend, in child processes,
// with glibc's defaults (INSIGHT_MALLOC_TUNING=0), with the addon's tuning (no variables: what users get), and with
// the MALLOC_* variables the other benchmarks set for both sides; alternating rounds, median images/s, the largest
// RSS, and the share of CPU time spent in the kernel (system time / CPU time).
//   node --conditions=source --import tsx benchmarks/malloc_tuning.ts [--steps 150] [--rounds 3]
import { spawnSync } from 'node:child_process';

import { benchmarkArgs, numberArg } from './args';
import { FIT_CHILD, type FitChildResult } from './tfjs_fit_child';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/malloc_tuning.ts [options]
  --steps <n>     training steps of batch 64 per run, after 20 warm-up steps (default: 150)
  --rounds <n>    alternating rounds of the three settings (default: 3)`;
const args = benchmarkArgs(USAGE, {
  steps: { type: 'string', default: '150' },
  rounds: { type: 'string', default: '3' },
});
const steps = numberArg('steps', args.steps);
const rounds = numberArg('rounds', args.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const SETTINGS: Record<string, NodeJS.ProcessEnv> = {
  'glibc defaults (INSIGHT_MALLOC_TUNING=0)': { INSIGHT_MALLOC_TUNING: '0' },
  'addon tuning (no variables)': {},
  'MALLOC_* variables': { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '68719476736', MALLOC_TOP_PAD_: '536870912' },
};

function main(): void {
  const results: Record<string, FitChildResult[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, env] of Object.entries(SETTINGS)) {
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'INSIGHT_MALLOC_TUNING'));
      const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', FIT_CHILD, String(steps)], {
        env: { ...clean, ...env }, encoding: 'utf8',
      });
      if (run.status !== 0) throw new Error(`${name}: exit ${run.status}\n${run.stderr}`);
      const line = JSON.parse(run.stdout.trim().split('\n').pop()!) as FitChildResult;
      console.log(`  round ${r + 1}, ${name}: ${line.imagesPerSecond.toFixed(0)} img/s, max RSS ${line.maxRssMiB.toFixed(0)} MiB, ` +
        `kernel ${(100 * line.systemShare).toFixed(0)}% of CPU time (${line.malloc ?? 'no tuning report'})`);
      (results[name] ??= []).push(line);
    }
  }
  console.log(`\nreference CNN, tfjs model.fit + tf.train.adam on torch, batch 64, ${steps} steps a run, median of ${rounds} alternating rounds\n`);
  console.log('| allocator setting | images/s | max RSS (MiB) | kernel share of CPU time |\n|---|---:|---:|---:|');
  for (const [name, runs] of Object.entries(results)) {
    console.log(`| ${name} | ${median(runs.map((x) => x.imagesPerSecond)).toFixed(0)} | ${Math.max(...runs.map((x) => x.maxRssMiB)).toFixed(0)} | ` +
      `${(100 * median(runs.map((x) => x.systemShare))).toFixed(0)}% |`);
  }
}

main();
