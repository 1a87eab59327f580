// A failed data-parallel launch continued by a new launch, as its error says: `insight launch --nproc-per-node 2
// -- train` (3 epochs, no restarts) loses rank 1 (SIGKILL) once epoch 1's checkpoint is written and gives up; its fix
// names `insight train --resume <run dir> --nproc 2` and `insight launch ... -- train --resume <run dir>`. The second
// one continues the run (rank 0 resumes it, the follower gets the weights, optimizer state and position by
// broadcast) to the weights of an uninterrupted 2-process run; the first then extends it by one epoch.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { freeLocalPort } from '../../../src/process/launch/free_port';
import { findLaunchRun } from '../../../src/train/distributed/launch_run';
import { BIN, MINI, NODE_FLAGS } from '../../cli/io';
import { childrenWithRank } from './proc';

/** 160 training images in global batches of 16: 10 updates an epoch. */
const TRAIN = ['--data', MINI, '--limit', '200', '--validation-count', '40', '--batch-size', '16', '--workers', '0', '--progress', 'log', '--no-tensorboard'];

/** `insight <argv>` in a child; `poll(pid)` runs every 50 ms until it ends. */
async function insight(argv: string[], poll?: (pid: number) => void): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1', INSIGHT_TORCH_THREADS: '1', OMP_NUM_THREADS: '1' },
  });
  let [stdout, stderr] = ['', ''];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const poller = poll && setInterval(() => poll(child.pid!), 50);
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  clearInterval(poller);
  return { status, stdout, stderr };
}

const epochsOf = (run: string) => fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)
  .map((line) => JSON.parse(line) as { type: string; epoch: number; step: number }).filter((m) => m.type === 'epoch').map((m) => [m.epoch, m.step]);
const infoOf = (run: string) => JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as { status: string; summary: { launchId?: string; worldSize?: number; steps?: number } };

/** The final model's weights (model/weights.bin; every weight of the seed CNN is float32). */
function weightsOf(run: string): Float32Array {
  const manifest = JSON.parse(fs.readFileSync(path.join(run, 'model', 'model.json'), 'utf8')) as { weightsManifest: { weights: { dtype: string }[] }[] };
  assert.ok(manifest.weightsManifest.every((group) => group.weights.every((w) => w.dtype === 'float32')));
  const bytes = fs.readFileSync(path.join(run, 'model', 'weights.bin'));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

describe('a failed data-parallel launch continued with train --resume', { skip: process.platform !== 'linux' && 'reads /proc to find rank 1' }, () => {
  it('launch -- train --resume <run dir> continues the run to an uninterrupted run\'s weights; train --resume --nproc 2 extends it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-resume-launch-'));
    const runsDir = path.join(dir, 'runs');
    const launchId = `failing-${process.pid}`;

    // 1. The launch that fails: rank 1 killed once epoch 1's checkpoint is there, no restarts.
    let killed: number | null = null;
    const failed = await insight(['launch', '--nproc-per-node', '2', '--master-port', String(await freeLocalPort()), '--rdzv-id', launchId, '--',
      'train', ...TRAIN, '--epochs', '3', '--runs-dir', runsDir], (launcher) => {
      if (killed !== null || findLaunchRun(runsDir, launchId) === null) return;
      const [rank1] = childrenWithRank(launcher, 1);
      if (rank1 === undefined) return;
      process.kill(rank1, 'SIGKILL');
      killed = rank1;
    });
    assert.ok(killed !== null, `rank 1 was killed after the first checkpoint\n${failed.stderr}`);
    assert.equal(failed.status, 10, failed.stderr);
    const [runName] = fs.readdirSync(runsDir);
    const run = path.join(runsDir, runName);
    assert.equal(infoOf(run).status, 'failed');
    assert.match(failed.stdout, new RegExp(`^Run ${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), 'rank 0 named the run directory');
    const lastLine = failed.stderr.trim().split('\n').pop()!;
    assert.match(lastLine, /^Error INSIGHT_E_DISTRIBUTED: A launched worker failed and no restarts are left \(--max-restarts 0\)\. Received: rank=1, node=0, exit="signal SIGKILL"/);
    assert.ok(lastLine.endsWith('fix the cause and resume its run from the last checkpoint with `insight train --resume <run dir> --nproc 2` or ' +
      '`insight launch <the same flags> -- train --resume <run dir>` (rank 0 named the run directory above), or pass --max-restarts <k> to restart ' +
      'the group from the last checkpoint after a failure.'), lastLine);
    const atFailure = epochsOf(run);
    assert.ok(atFailure.length >= 1 && atFailure.length < 3, `killed before the run ended: ${JSON.stringify(atFailure)}`);

    // 2. What the fix says, second form: a new launch (another id) given the run.
    const resumed = await insight(['launch', '--nproc-per-node', '2', '--master-port', String(await freeLocalPort()), '--rdzv-id', `resume-${process.pid}`, '--',
      'train', '--resume', run]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`^Resuming ${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at epoch ${atFailure.length + 1}$`, 'm'));
    assert.match(resumed.stdout, /^ {2}data parallel: 2 processes x 8 images a batch/m);
    assert.doesNotMatch(resumed.stdout + resumed.stderr, /\[rank 1\]/, 'rank 1 prints nothing');
    assert.deepEqual(fs.readdirSync(runsDir), [runName], 'the same run, no new one');
    assert.deepEqual(epochsOf(run), [[1, 10], [2, 20], [3, 30]]);
    assert.deepEqual([infoOf(run).status, infoOf(run).summary.worldSize, infoOf(run).summary.launchId], ['completed', 2, `resume-${process.pid}`]);

    // The same 3 epochs in 2 processes, never interrupted: the resumed run's final weights.
    const straightDir = path.join(dir, 'straight');
    const straight = await insight(['train', '--nproc', '2', ...TRAIN, '--epochs', '3', '--runs-dir', straightDir]);
    assert.equal(straight.status, 0, straight.stderr);
    const [a, b] = [weightsOf(run), weightsOf(path.join(straightDir, fs.readdirSync(straightDir)[0]))];
    assert.equal(a.length, b.length);
    let difference = 0;
    for (let i = 0; i < a.length; i++) difference = Math.max(difference, Math.abs(a[i] - b[i]));
    assert.ok(difference < 1e-5, `resumed vs uninterrupted: max |dw| = ${difference}`);

    // 3. The first form: train --resume <run dir> --nproc 2, one more epoch.
    const extended = await insight(['train', '--resume', run, '--nproc', '2', '--epochs', '4']);
    assert.equal(extended.status, 0, extended.stderr);
    assert.match(extended.stdout, /^Resuming .* at epoch 4$/m);
    assert.deepEqual(epochsOf(run), [[1, 10], [2, 20], [3, 30], [4, 40]]);
    assert.deepEqual([infoOf(run).status, infoOf(run).summary.steps], ['completed', 40]);
  });
});
