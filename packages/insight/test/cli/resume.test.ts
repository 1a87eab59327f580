// A run killed mid-epoch (SIGKILL, the worst case) keeps its last checkpoint intact, never looks complete, and
// `insight train --resume` continues it to exactly the weights of an uninterrupted run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { ARCHIVE, BIN, NODE_FLAGS, runBin } from './io';

const FLAGS = ['--data', ARCHIVE, '--limit', '448', '--validation-count', '64', '--batch-size', '32', '--epochs', '3',
  '--optimizer', 'adamw', '--weight-decay', '0.01', '--schedule', 'cosine', '--warmup-epochs', '1', '--dropout', '0.2',
  '--augment', 'crop,flip', '--seed', '5', '--log-every-steps', '4'];

/** Starts a run and SIGKILLs it as soon as its first checkpoint exists; returns the run directory. */
async function killedRun(runsDir: string): Promise<string> {
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'train', ...FLAGS, '--runs-dir', runsDir], {
    stdio: 'ignore', env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1' },
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 180_000;
  for (;;) {
    const runs = fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : [];
    if (runs.length === 1 && fs.existsSync(path.join(runsDir, runs[0], 'checkpoints', 'last', 'trainer.json'))) {
      child.kill('SIGKILL');
      await exited;
      return path.join(runsDir, runs[0]);
    }
    assert.ok(Date.now() < deadline && child.exitCode === null, 'the run ended or stalled before its first checkpoint');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('kill and resume', () => {
  it('resumes a SIGKILLed run to the same final weights as an uninterrupted one', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-kill-'));
    const killed = await killedRun(path.join(root, 'killed'));

    // Killed mid-training: resumable, not complete.
    const info = JSON.parse(fs.readFileSync(path.join(killed, 'run.json'), 'utf8'));
    assert.equal(info.status, 'running');
    assert.equal(fs.existsSync(path.join(killed, 'model')), false);
    // Every checkpoint directory is complete; one being written at the kill is only a temporary, which the next
    // write of that checkpoint removes.
    const checkpoints = path.join(killed, 'checkpoints');
    const visible = fs.readdirSync(checkpoints).filter((name) => !name.startsWith('.insight-tmp-'));
    assert.ok(visible.includes('last'));
    for (const name of visible) {
      assert.deepEqual(fs.readdirSync(path.join(checkpoints, name)).sort(), ['model.json', 'optimizer.bin', 'optimizer.json', 'trainer.json', 'weights.bin']);
    }

    // Another config cannot be slipped in on resume.
    const refused = runBin(['train', '--resume', killed, '--lr', '0.1']);
    assert.equal(refused.status, 5);
    assert.match(refused.stderr, /^Error INSIGHT_E_RESUME: A resumed run continues with its saved config; only backend, workers, progress, logEverySteps may be given\. Received: lr="0\.1"\./);

    const resumed = runBin(['train', '--resume', killed]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /^Resuming .* at epoch [23]\n/);

    const straight = runBin(['train', ...FLAGS, '--runs-dir', path.join(root, 'straight')]);
    assert.equal(straight.status, 0, straight.stderr);
    const straightDir = path.join(root, 'straight', fs.readdirSync(path.join(root, 'straight'))[0]);

    const weights = (dir: string) => fs.readFileSync(path.join(dir, 'model', 'weights.bin'));
    assert.ok(weights(killed).equals(weights(straightDir)), 'final weights differ');
    assert.equal(JSON.parse(fs.readFileSync(path.join(killed, 'run.json'), 'utf8')).status, 'completed');
    assert.deepEqual(fs.readdirSync(path.join(killed, 'checkpoints')).sort(), ['best', 'last']);

    // metrics.jsonl of the resumed run holds each step and epoch once, as the straight run's.
    const records = (dir: string) => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l)).map(({ type, epoch, step, loss }) => ({ type, epoch, step, loss }));
    assert.deepEqual(records(killed), records(straightDir));

    const again = runBin(['train', '--resume', killed]);
    assert.equal(again.status, 5);
    assert.match(again.stderr, /Only an unfinished run can be resumed\. Received: run=".*", status="completed"\./);
  });
});
