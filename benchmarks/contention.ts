// Training next to one competing busy process (issue 10, item 3): the share of its quiet throughput each side keeps.
// Each configuration trains the reference CNN at batch 64 quiet, then with one busy-looping process (a node loop,
// started just before and killed right after the run), alternating; medians of --rounds. Sides: tfjs on torch
// (tfjs_fit_child.ts: model.fit + tf.train.adam) and PyTorch (reference_cnn.py, /usr/bin/python3), both with the
// same MALLOC_* settings and thread counts; configurations vary libgomp's wait policy and the thread count. Also
// `insight train` (3 epochs of --steps x 64 images, images/s of epochs 2-3) with a fixed thread count and adapting it.
//   node --conditions=source --import tsx benchmarks/contention.ts [--steps 100] [--rounds 3]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { benchmarkArgs, numberArg } from './args';
import { FIT_CHILD, type FitChildResult } from './tfjs_fit_child';

const USAGE = `Usage: node --conditions=source --import tsx benchmarks/contention.ts [options]
  --steps <n>      timed training steps per run (PyTorch: an epoch of as many batches, median of 2 after 1) (default: 100)
  --rounds <n>     alternating quiet/contended rounds per configuration (default: 3)
  --configs <list> which configurations (default: all; names as printed)`;
const args = benchmarkArgs(USAGE, {
  steps: { type: 'string', default: '100' },
  rounds: { type: 'string', default: '3' },
  configs: { type: 'string', default: '' },
});
const steps = numberArg('steps', args.steps);
const rounds = numberArg('rounds', args.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MALLOC = { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '68719476736', MALLOC_TOP_PAD_: '536870912' };

interface Config { side: 'tfjs on torch' | 'PyTorch' | 'insight train'; threads: number; env: NodeJS.ProcessEnv; label: string; flags?: string[] }
const CONFIGS: Config[] = [
  { side: 'insight train', threads: 2, env: {}, label: 'default (fixed threads)' },
  { side: 'insight train', threads: 2, env: {}, label: '--adaptive-threads', flags: ['--adaptive-threads'] },
  { side: 'tfjs on torch', threads: 2, env: {}, label: 'default' },
  { side: 'tfjs on torch', threads: 2, env: { OMP_WAIT_POLICY: 'PASSIVE' }, label: 'OMP_WAIT_POLICY=PASSIVE' },
  { side: 'tfjs on torch', threads: 2, env: { GOMP_SPINCOUNT: '10000' }, label: 'GOMP_SPINCOUNT=10000' },
  { side: 'tfjs on torch', threads: 1, env: {}, label: '1 thread' },
  { side: 'PyTorch', threads: 2, env: {}, label: 'default' },
  { side: 'PyTorch', threads: 2, env: { OMP_WAIT_POLICY: 'PASSIVE' }, label: 'OMP_WAIT_POLICY=PASSIVE' },
  { side: 'PyTorch', threads: 1, env: {}, label: '1 thread' },
];

function busy(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

const DATA = path.join(__dirname, '..', '..', 'shared', 'data', 'cifar-10-binary-train.tar.gz');

/** `insight train` on steps x 64 images (no validation split), 3 epochs: images/s of epochs 2-3 from metrics.jsonl. */
function insightTrain(config: Config): number {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-contention-'));
  try {
    // The thread count is left to the trainer (no INSIGHT_TORCH_THREADS: pinning it turns the adaptation off).
    const env: NodeJS.ProcessEnv = { ...process.env, ...MALLOC, ...config.env };
    delete env.INSIGHT_TORCH_THREADS;
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(__dirname, '..', 'packages', 'insight', 'bin', 'insight.js'),
      'train', '--data', DATA, '--limit', String(steps * 64), '--validation-count', '0', '--monitor', 'loss', '--epochs', '3',
      '--runs-dir', runsDir, '--progress', 'log', '--no-tensorboard', ...(config.flags ?? [])], { env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`insight train: exit ${run.status}\n${run.stderr}`);
    const [dir] = fs.readdirSync(runsDir);
    const epochs = fs.readFileSync(path.join(runsDir, dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l) as { type: string; imagesPerSecond: number }).filter((e) => e.type === 'epoch').slice(1);
    return median(epochs.map((e) => e.imagesPerSecond));
  } finally {
    fs.rmSync(runsDir, { recursive: true, force: true });
  }
}

function measure(config: Config): number {
  if (config.side === 'insight train') return insightTrain(config);
  const env = { ...process.env, ...MALLOC, ...config.env, INSIGHT_TORCH_THREADS: String(config.threads), OMP_NUM_THREADS: String(config.threads) };
  if (config.side === 'tfjs on torch') {
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', FIT_CHILD, String(steps)], { env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`tfjs child: exit ${run.status}\n${run.stderr}`);
    return (JSON.parse(run.stdout.trim().split('\n').pop()!) as FitChildResult).imagesPerSecond;
  }
  const run = spawnSync('/usr/bin/python3', [path.join(__dirname, 'reference_cnn.py'), '--threads', String(config.threads), '--batch-size', '64',
    '--images', String(steps * 64), '--epochs', '2'], { env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`PyTorch: exit ${run.status}\n${run.stderr}`);
  return (JSON.parse(run.stdout.trim().split('\n').pop()!) as { train: number }).train;
}

function main(): void {
  const wanted = args.configs === '' ? CONFIGS : CONFIGS.filter((c) => args.configs.split(',').includes(`${c.side}: ${c.label}`));
  const quiet = new Map<Config, number[]>();
  const contended = new Map<Config, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const config of wanted) {
      (quiet.get(config) ?? quiet.set(config, []).get(config)!).push(measure(config));
      const competitor = busy();
      try {
        (contended.get(config) ?? contended.set(config, []).get(config)!).push(measure(config));
      } finally {
        competitor.kill('SIGKILL');
      }
      console.log(`  round ${r + 1}, ${config.side}, ${config.label} (${config.threads} threads): quiet ${quiet.get(config)!.at(-1)!.toFixed(0)}, ` +
        `with a busy process ${contended.get(config)!.at(-1)!.toFixed(0)} img/s`);
    }
  }
  console.log(`\nreference CNN, batch 64, training; one busy process as competitor; median of ${rounds} alternating rounds; MALLOC_* set for both sides\n`);
  console.log('| side | configuration | threads | quiet (img/s) | with a busy process (img/s) | kept |\n|---|---|---:|---:|---:|---:|');
  for (const config of wanted) {
    const q = median(quiet.get(config)!);
    const c = median(contended.get(config)!);
    console.log(`| ${config.side} | ${config.label} | ${config.threads} | ${q.toFixed(0)} | ${c.toFixed(0)} | ${(100 * c / q).toFixed(0)}% |`);
  }
}

main();
