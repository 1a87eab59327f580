// `insight train --resume` refuses a run that a live process on this host still trains (run.json's pid, host and
// heartbeat, run/liveness.ts), naming the pid and how to stop it; once that process is gone (SIGKILL: run.json still
// says running, the tracker says crashed) the same command resumes the run to completion, as before.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { summarizeRun } from '../../src/track/run_summary';
import { ARCHIVE, NODE_FLAGS, runMain } from './io';

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Starts hold_run_child.ts on `runsDir`; resolves once it holds its run (after its first checkpoint). */
async function holdingChild(runsDir: string) {
  const child = spawn(process.execPath, [...NODE_FLAGS, path.join(__dirname, 'hold_run_child.ts'), runsDir, ARCHIVE], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1' },
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the child did not hold its run within 120 s')), 120_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('held')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before holding its run: ${stderr}`)));
  });
  return { child, exited };
}

describe('resuming a run a live process holds', { timeout: 240_000 }, () => {
  it('is refused with the pid and how to stop it; after the process dies (crashed) it resumes and completes', async () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-resume-live-'));
    const { child, exited } = await holdingChild(runsDir);
    try {
      const [id] = fs.readdirSync(runsDir).filter((name) => !name.startsWith('index.sqlite'));
      const run = path.join(runsDir, id);
      const info = readJson(path.join(run, 'run.json'));
      assert.deepEqual([info.status, info.pid, info.host], ['running', child.pid, os.hostname()]);
      assert.equal(summarizeRun(run).status, 'running');

      const refused = await runMain(['train', '--resume', run]);
      assert.equal(refused.status, 5);
      assert.equal(refused.stderr, 'Error INSIGHT_E_RESUME: A run can be resumed only when no process trains it; this one is running in a live process on this host. ' +
        `Received: run=${JSON.stringify(run)}, status="running", pid=${child.pid}, host=${JSON.stringify(os.hostname())}, heartbeatAt=${JSON.stringify(info.heartbeatAt)}. ` +
        `Let it finish, or stop it first — kill ${child.pid} (SIGTERM) or Ctrl-C in its terminal saves checkpoints/last and marks the run interrupted — then resume it.\n`);
      assert.equal(refused.stdout, '');
      assert.deepEqual(readJson(path.join(run, 'run.json')), info, 'the refused resume leaves run.json alone');

      child.kill('SIGKILL');
      await exited;
      assert.equal(readJson(path.join(run, 'run.json')).status, 'running');
      assert.equal(summarizeRun(run).status, 'crashed');
      const saved = readJson(path.join(run, 'checkpoints', 'last', 'trainer.json'));
      assert.deepEqual([saved.epoch, saved.step, saved.inEpoch.batch], [0, 1, 1]);

      const resumed = await runMain(['train', '--resume', run, '--progress', 'log']);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stdout, /^Resuming .* at epoch 1\n/);
      const done = readJson(path.join(run, 'run.json'));
      assert.deepEqual([done.status, done.pid, done.summary.epochs, done.summary.steps], ['completed', process.pid, 2, 6]);
    } finally {
      child.kill('SIGKILL');
      await exited;
      fs.rmSync(runsDir, { recursive: true, force: true });
    }
  });
});
