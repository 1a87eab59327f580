// Elastic restart end to end: `insight launch --nproc-per-node 2 --max-restarts 1 -- train` (data parallel, tiny
// image folder, 3 epochs, a checkpoint every 4 updates); once the run has its first checkpoint, rank 1 is killed with
// SIGKILL. The launcher stops rank 0, starts the group again with TORCHELASTIC_RESTART_COUNT=1, rank 0 finds the
// launch's run and resumes it, and the launch ends with the run completed — one run, 3 epochs in its metrics.
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

describe('insight launch: elastic restart of data-parallel training', { skip: process.platform !== 'linux' && 'reads /proc to find rank 1' }, () => {
  it('survives a SIGKILL of rank 1 after the first checkpoint: the group restarts and the run resumes and completes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-elastic-'));
    const runsDir = path.join(dir, 'runs');
    const launchId = `elastic-${process.pid}`;
    const port = String(await freeLocalPort()); // kept over the restart: the launcher reuses it
    const launcher = spawn(process.execPath, [...NODE_FLAGS, BIN, 'launch', '--nproc-per-node', '2', '--max-restarts', '1', '--master-port', port,
      '--rdzv-id', launchId, '--threads-per-proc', '1', '--', 'train', '--data', MINI, '--limit', '400', '--validation-count', '40', '--batch-size', '16',
      '--epochs', '3', '--checkpoint-every-steps', '4', '--workers', '0', '--progress', 'log', '--no-tensorboard', '--runs-dir', runsDir], {
      cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1' },
    });
    let [stdout, stderr] = ['', ''];
    launcher.stdout.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
    launcher.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
    const ended = new Promise<number | null>((resolve) => launcher.on('close', resolve));
    const timer = setTimeout(() => launcher.kill('SIGKILL'), 240_000);
    try {
      let killed: number | null = null;
      while (killed === null && launcher.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (findLaunchRun(runsDir, launchId) === null) continue; // no checkpoint yet
        const [rank1] = childrenWithRank(launcher.pid!, 1);
        if (rank1 !== undefined) {
          process.kill(rank1, 'SIGKILL');
          killed = rank1;
        }
      }
      const status = await ended;
      assert.equal(status, 0, `${stdout}\n${stderr}`);
      assert.ok(killed !== null, 'rank 1 was killed after the first checkpoint, before the run ended');
      assert.match(stderr, new RegExp(`launch: rank 1 \\(pid ${killed}\\) failed with signal SIGKILL\\nlaunch: restarting the group of 2 \\(restart 1 of 1\\)\\.\\n`));
      const runs = fs.readdirSync(runsDir);
      assert.equal(runs.length, 1, 'the restarted group resumed the run instead of starting another');
      const run = path.join(runsDir, runs[0]);
      const info = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as { status: string; summary: { launchId?: string; worldSize?: number } };
      assert.equal(info.status, 'completed');
      assert.equal(info.summary.launchId, launchId);
      assert.equal(info.summary.worldSize, 2);
      const epochs = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)
        .map((line) => JSON.parse(line) as { type: string; epoch: number; step: number }).filter((m) => m.type === 'epoch');
      // 360 training images in global batches of 16: 23 updates an epoch, each epoch logged once across the restart.
      assert.deepEqual(epochs.map((m) => [m.epoch, m.step]), [[1, 23], [2, 46], [3, 69]]);
      assert.match(stdout, /^Resuming /m, 'rank 0 of the restarted group resumed');
      assert.doesNotMatch(stdout, /^\[rank 1\]/m, 'rank 1 prints nothing but errors');
    } finally {
      clearTimeout(timer);
    }
  });
});
