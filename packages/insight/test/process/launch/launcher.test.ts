// The launcher with a tiny worker script (launch_worker.ts): torchrun's environment for every worker, rank-prefixed
// output, a SIGKILLed worker restarting the whole group (TORCHELASTIC_RESTART_COUNT + 1), giving up with the failed
// rank and its last error line, SIGKILL for a worker that ignores SIGTERM; and, with the launcher in its own process
// (launch_driver.ts), SIGTERM forwarded to the workers and no orphans when the launcher itself is SIGKILLed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { InsightError } from '../../../src/errors';
import { resolveLaunchOptions } from '../../../src/process/launch/config';
import { launch, type LaunchOptions } from '../../../src/process/launch/launcher';
import { NODE_FLAGS } from '../../cli/io';
import { alive } from './proc';

const WORKER = path.join(__dirname, 'launch_worker.ts');
const DRIVER = path.join(__dirname, 'launch_driver.ts');

function sink(): NodeJS.WritableStream & { text: string } {
  const stream = { text: '', write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WritableStream & { text: string };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'insight-launch-'));
}

/** launch() of the test worker in `mode`, output captured. */
function run(dir: string, mode: string, flags: Record<string, unknown>, extra: Partial<LaunchOptions> = {}) {
  const out = sink();
  const err = sink();
  const env: NodeJS.ProcessEnv = { ...process.env, LAUNCH_TEST_DIR: dir, LAUNCH_TEST_MODE: mode };
  delete env.INSIGHT_TORCH_THREADS;
  delete env.OMP_NUM_THREADS;
  const done = launch({ settings: resolveLaunchOptions(flags, 4), args: ['--flag', 'value'], script: WORKER, out, err, env, forwardSignals: false, ...extra });
  return { done, out, err };
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as { env: Record<string, string | null>; argv: string[]; pid: number };

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('launch (the launcher module)', () => {
  it('gives every worker torchrun\'s environment: ranks of node 1 of 2, the master, the launch id, threads', async () => {
    const dir = tempDir();
    const { done, out } = run(dir, 'env', { nprocPerNode: 2, nnodes: 2, nodeRank: 1, masterAddr: '10.9.8.7', masterPort: 29612, rdzvId: 'job-4711' });
    const result = await done;
    assert.deepEqual({ status: result.status, restarts: result.restarts }, { status: 0, restarts: 0 });
    for (const localRank of [0, 1]) {
      const { env, argv } = readJson(path.join(dir, `env-0-${2 + localRank}.json`));
      assert.deepEqual(env, {
        MASTER_ADDR: '10.9.8.7', MASTER_PORT: '29612', RANK: String(2 + localRank), WORLD_SIZE: '4', LOCAL_RANK: String(localRank), LOCAL_WORLD_SIZE: '2',
        GROUP_RANK: '1', GROUP_WORLD_SIZE: '2', TORCHELASTIC_RESTART_COUNT: '0', TORCHELASTIC_MAX_RESTARTS: '0', TORCHELASTIC_RUN_ID: 'job-4711',
        INSIGHT_LAUNCH_ID: 'job-4711', INSIGHT_TORCH_THREADS: '2', OMP_NUM_THREADS: '2',
        INSIGHT_LAUNCHER_PID: null, // read and removed by the worker's guard (its own children are not watched)
      });
      assert.deepEqual(argv, ['--flag', 'value']);
    }
    assert.deepEqual(out.text.split('\n').filter(Boolean).sort(), ['[rank 2] worker 2 up', '[rank 3] worker 3 up'], 'ranks other than 0 are prefixed');
  });

  it('on one node: 127.0.0.1:29500, a new launch id per launch, rank 0 unprefixed; thread counts the environment sets are kept', async () => {
    const dir = tempDir();
    const { done, out } = run(dir, 'env', { nprocPerNode: 2 }, { env: { ...process.env, LAUNCH_TEST_DIR: dir, LAUNCH_TEST_MODE: 'env', INSIGHT_TORCH_THREADS: '3', OMP_NUM_THREADS: '5' } });
    await done;
    const [rank0, rank1] = [0, 1].map((rank) => readJson(path.join(dir, `env-0-${rank}.json`)).env);
    assert.equal(rank0.MASTER_ADDR, '127.0.0.1');
    assert.equal(rank0.MASTER_PORT, '29500');
    assert.match(rank0.INSIGHT_LAUNCH_ID!, /^launch-\d{8}-\d{6}-[0-9a-f]{6}$/);
    assert.equal(rank1.INSIGHT_LAUNCH_ID, rank0.INSIGHT_LAUNCH_ID);
    assert.deepEqual([rank0.INSIGHT_TORCH_THREADS, rank0.OMP_NUM_THREADS], ['3', '5']);
    assert.deepEqual(out.text.split('\n').filter(Boolean).sort(), ['[rank 1] worker 1 up', 'worker 0 up']);
  });

  it('restarts the whole group when a worker is SIGKILLed, with TORCHELASTIC_RESTART_COUNT 1, and finishes', async () => {
    const dir = tempDir();
    const { done, err } = run(dir, 'kill-me', { nprocPerNode: 2, maxRestarts: 1, rdzvId: 'elastic-1' });
    await waitFor(() => fs.existsSync(path.join(dir, 'pid-1')) && fs.existsSync(path.join(dir, 'env-0-0.json')), 'both workers');
    process.kill(Number(fs.readFileSync(path.join(dir, 'pid-1'), 'utf8')), 'SIGKILL');
    const result = await done;
    assert.deepEqual({ status: result.status, restarts: result.restarts, attempts: result.attempts.length }, { status: 0, restarts: 1, attempts: 2 });
    const failed = result.attempts[0].failed!;
    assert.deepEqual({ rank: failed.rank, code: failed.code, signal: failed.signal }, { rank: 1, code: null, signal: 'SIGKILL' });
    assert.ok(fs.existsSync(path.join(dir, 'stopped-0-0-SIGTERM')), 'the surviving rank 0 was stopped with SIGTERM');
    for (const rank of [0, 1]) {
      const { env } = readJson(path.join(dir, `env-1-${rank}.json`));
      assert.deepEqual([env.TORCHELASTIC_RESTART_COUNT, env.TORCHELASTIC_MAX_RESTARTS, env.INSIGHT_LAUNCH_ID], ['1', '1', 'elastic-1']);
    }
    assert.equal(result.attempts[1].failed, null);
    assert.match(err.text, /launch: rank 1 \(pid \d+\) failed with signal SIGKILL\nlaunch: restarting the group of 2 \(restart 1 of 1\)\.\n/);
  });

  it('with --max-restarts 0 gives up with INSIGHT_E_DISTRIBUTED naming the failed rank, its status and last error line', async () => {
    const dir = tempDir();
    const { done, err } = run(dir, 'error', { nprocPerNode: 2 });
    await assert.rejects(done, (error: InsightError) => {
      assert.equal(error.code, 'INSIGHT_E_DISTRIBUTED');
      assert.equal(error.message, 'A launched worker failed and no restarts are left (--max-restarts 0). Received: rank=1, node=0, exit="exit status 3", status=3, ' +
        'lastLine="Error INSIGHT_E_DATA: broken shard. Received: shard=1. Fix it.", restarts=0. Its output is above (prefixed with its rank but for rank 0); ' +
        'fix the cause, or pass --max-restarts <k> to restart the group from the last checkpoint after a failure.');
      return true;
    });
    assert.ok(fs.existsSync(path.join(dir, 'stopped-0-0-SIGTERM')), 'rank 0 was stopped');
    assert.ok(!fs.existsSync(path.join(dir, 'env-1-0.json')), 'no restart');
    assert.match(err.text, /^\[rank 1\] Error INSIGHT_E_DATA: broken shard/m);
  });

  it('giving up on a training launch says how to resume its run: train --resume <run dir> --nproc N, or launch -- train --resume (a new launch never resumes by itself)', async () => {
    const dir = tempDir();
    const { done, err } = run(dir, 'error', { nprocPerNode: 2, maxRestarts: 1 }, { args: ['train', '--epochs', '3'] });
    await assert.rejects(done, (error: InsightError) => {
      assert.equal(error.code, 'INSIGHT_E_DISTRIBUTED');
      assert.match(error.message, /^A launched worker failed and no restarts are left \(--max-restarts 1\)\. Received: rank=1, node=0, exit="exit status 3", status=3, .*, restarts=1\. /);
      assert.ok(error.message.endsWith('Its output is above (prefixed with its rank but for rank 0); fix the cause and resume its run from the last checkpoint with ' +
        '`insight train --resume <run dir> --nproc 2` or `insight launch <the same flags> -- train --resume <run dir>` (rank 0 named the run directory above).'), error.message);
      assert.doesNotMatch(error.message, /rdzv/);
      return true;
    });
    assert.ok(fs.existsSync(path.join(dir, 'env-1-1.json')), 'restarted once first');
    assert.deepEqual(readJson(path.join(dir, 'env-1-1.json')).argv, ['train', '--epochs', '3']);
    assert.match(err.text, /restart 1 of 1/);
  });

  it('kills a worker that ignores SIGTERM once the grace period is over', async () => {
    const dir = tempDir();
    const started = Date.now();
    const { done } = run(dir, 'stubborn', { nprocPerNode: 2 }, { killAfterMs: 300 });
    await assert.rejects(done, /rank=1, node=0, exit="exit status 1", status=1/);
    assert.ok(Date.now() - started < 15_000);
    assert.ok(!fs.readdirSync(dir).some((name) => name.startsWith('stopped-0-0')), 'rank 0 ignored SIGTERM');
  });
});

describe('launch (the launcher in its own process)', { skip: process.platform !== 'linux' && 'reads /proc to see the workers end' }, () => {
  /** A launcher of 2 test workers in its own process; rank 1 installs no signal handlers, as training's followers. */
  function startDriver(dir: string, mode: string) {
    const child = spawn(process.execPath, [...NODE_FLAGS, DRIVER, 'launch_worker.ts', '{"nprocPerNode":2}'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAUNCH_TEST_DIR: dir, LAUNCH_TEST_MODE: mode, LAUNCH_TEST_FOLLOWERS: 'plain' },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    return { child, ended, stdout: () => stdout };
  }
  const pids = (dir: string) => [0, 1].map((rank) => Number(fs.readFileSync(path.join(dir, `pid-${rank}`), 'utf8')));

  it('forwards SIGTERM to every worker once and ends with rank 0\'s status (130), not that of the follower the signal killed first; no restart', async () => {
    const dir = tempDir();
    const driver = startDriver(dir, 'wait');
    await waitFor(() => fs.existsSync(path.join(dir, 'pid-0')) && fs.existsSync(path.join(dir, 'pid-1')) && fs.existsSync(path.join(dir, 'ready-0-0')), 'both workers');
    driver.child.kill('SIGTERM');
    assert.deepEqual(await driver.ended, { code: 0, signal: null });
    // Rank 1 (no handler) ended at once with SIGTERM (status 143), rank 0 300 ms later through its handler (130).
    assert.deepEqual(JSON.parse(driver.stdout().trim().split('\n').pop()!), { status: 130, signal: 'SIGTERM', restarts: 0 });
    assert.deepEqual(fs.readdirSync(dir).filter((name) => name.startsWith('stopped-')).sort(), ['stopped-0-0-SIGTERM']);
  });

  it('leaves no orphans when the launcher is SIGKILLed: each worker sees it gone, gets SIGTERM and ends', async () => {
    const dir = tempDir();
    const driver = startDriver(dir, 'wait');
    await waitFor(() => fs.existsSync(path.join(dir, 'pid-0')) && fs.existsSync(path.join(dir, 'pid-1')), 'both workers');
    const workers = pids(dir);
    assert.ok(workers.every(alive));
    driver.child.kill('SIGKILL');
    await driver.ended;
    await waitFor(() => !workers.some(alive), 'the workers to end', 8000);
    assert.deepEqual(fs.readdirSync(dir).filter((name) => name.startsWith('stopped-')).sort(), ['stopped-0-0-SIGTERM'],
      'rank 0 stopped through its SIGTERM handler (training would save a checkpoint); rank 1, with none, by the signal itself');
  });
});
