// A run killed mid-epoch (SIGKILL, the worst case) keeps its last checkpoint (taken inside the epoch with
// --checkpoint-every-steps) intact, never looks complete, shows as crashed, and `insight train --resume` continues it
// to exactly the weights of an uninterrupted run. Ctrl-C (SIGINT) stops at the next update with a checkpoint, marks
// the run interrupted and says how to resume, which again gives the uninterrupted run's weights; a second Ctrl-C
// stops at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { ARCHIVE, BIN, NODE_FLAGS, runBin, runMain, signalledBin } from './io';

// 384 training images in batches of 32: 12 updates an epoch, a checkpoint every 5 (inside the epochs).
const FLAGS = ['--data', ARCHIVE, '--limit', '448', '--validation-count', '64', '--batch-size', '32', '--epochs', '2',
  '--optimizer', 'adamw', '--weight-decay', '0.01', '--schedule', 'cosine', '--warmup-epochs', '1', '--dropout', '0.2',
  '--augment', 'crop,flip', '--seed', '5', '--log-every-steps', '4', '--checkpoint-every-steps', '5'];

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const onlyRun = (runsDir: string) => path.join(runsDir, fs.readdirSync(runsDir).filter((name) => !name.startsWith('index.sqlite'))[0]);
const weights = (dir: string) => fs.readFileSync(path.join(dir, 'model', 'weights.bin'));
/** metrics.jsonl without times: each step and epoch once. */
const records = (dir: string) => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l)).map(({ type, epoch, step, loss }) => ({ type, epoch, step, loss }));
/** The status column of `insight runs` for the one run in `runsDir`. */
async function listedStatus(runsDir: string): Promise<string> {
  const listed = await runMain(['runs', '--runs-dir', runsDir]);
  assert.equal(listed.status, 0, listed.stderr);
  const row = listed.stdout.split('\n').find((line) => line.startsWith(path.basename(onlyRun(runsDir))));
  return row?.split(/\s+/)[1] ?? assert.fail(listed.stdout);
}

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
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-kill-'));
  let straightDir = '';

  it('resumes a SIGKILLed run to the same final weights as an uninterrupted one', async () => {
    const killed = await killedRun(path.join(root, 'killed'));

    // Killed mid-training: resumable, not complete; run.json still says running, the tracker says crashed.
    const info = JSON.parse(fs.readFileSync(path.join(killed, 'run.json'), 'utf8'));
    assert.equal(info.status, 'running');
    assert.equal(typeof info.pid, 'number');
    assert.equal(await listedStatus(path.join(root, 'killed')), 'crashed');
    assert.equal(fs.existsSync(path.join(killed, 'model')), false);
    const saved = readJson(path.join(killed, 'checkpoints', 'last', 'trainer.json'));
    assert.ok(saved.inEpoch !== null && saved.inEpoch.batch > 0 && saved.inEpoch.batch < 12, `killed inside an epoch: ${JSON.stringify(saved.inEpoch)}`);
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
    assert.match(refused.stderr, /^Error INSIGHT_E_RESUME: A resumed run continues with its saved config; only backend, workers, progress, logEverySteps, progressEverySeconds, checkpointEverySteps, keepSnapshots and epochs may be given\. Received: lr="0\.1"\./);

    const resumed = runBin(['train', '--resume', killed]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /^Resuming .* at epoch [12]\n/);

    const straight = runBin(['train', ...FLAGS, '--runs-dir', path.join(root, 'straight')]);
    assert.equal(straight.status, 0, straight.stderr);
    straightDir = onlyRun(path.join(root, 'straight'));

    assert.ok(weights(killed).equals(weights(straightDir)), 'final weights differ');
    assert.equal(JSON.parse(fs.readFileSync(path.join(killed, 'run.json'), 'utf8')).status, 'completed');
    assert.deepEqual(fs.readdirSync(path.join(killed, 'checkpoints')).sort(), ['best', 'last']);

    // metrics.jsonl of the resumed run holds each step and epoch once, as the straight run's.
    assert.deepEqual(records(killed), records(straightDir));

    const again = runBin(['train', '--resume', killed]);
    assert.equal(again.status, 5);
    assert.match(again.stderr, /A completed run can be resumed only to train more epochs than it was given\. Received: run=".*", status="completed", epochs=2, runEpochs=2\./);
  });

  it('Ctrl-C stops at the next update, marks the run interrupted and says how to resume; the resumed run ends as the straight one', async () => {
    assert.ok(straightDir !== '', 'runs after the straight run above');
    const runsDir = path.join(root, 'interrupted');
    // Ctrl-C once step 4's log line is out: training stops at the next update inside epoch 1.
    const stopped = await signalledBin(['train', ...FLAGS, '--runs-dir', runsDir], { when: /step 4 - / });
    const run = onlyRun(runsDir);
    assert.equal(stopped.status, 130, stopped.stderr);
    assert.match(stopped.stdout, /\nSIGINT: stopping at the next optimizer update, after saving checkpoints\/last \(press Ctrl-C again to stop at once\)\.\n/);
    const message = new RegExp(`^Error INSIGHT_E_INTERRUPTED: Training stops at SIGINT or SIGTERM, after saving its state at the next optimizer update\\. ` +
      `Received: signal="SIGINT", run=".*", savedAt="epoch 1, batch (\\d+)/12 \\(step \\1\\)"\\. Resume with: insight train --resume .*\\n$`);
    const [, batch] = message.exec(stopped.stderr) ?? assert.fail(stopped.stderr);
    const info = readJson(path.join(run, 'run.json'));
    assert.equal(info.status, 'interrupted');
    assert.equal(`Error INSIGHT_E_INTERRUPTED: ${info.error}\n`, stopped.stderr);
    assert.equal(await listedStatus(runsDir), 'interrupted');
    const saved = readJson(path.join(run, 'checkpoints', 'last', 'trainer.json'));
    assert.deepEqual([saved.epoch, saved.step, saved.inEpoch.batch], [0, Number(batch), Number(batch)]);

    const resumed = runBin(['train', '--resume', run]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /^Resuming .* at epoch 1\n/);
    assert.equal(readJson(path.join(run, 'run.json')).status, 'completed');
    assert.equal(readJson(path.join(run, 'run.json')).error, undefined);
    assert.ok(weights(run).equals(weights(straightDir)), 'final weights differ');
    assert.deepEqual(records(run), records(straightDir));
  });

  it('a second Ctrl-C stops at once (exit 130); before a first checkpoint there is nothing to resume', async () => {
    const runsDir = path.join(root, 'twice');
    // One update an epoch (12 micro-batches), at its end: the second Ctrl-C lands long before it.
    const stopped = await signalledBin(['train', ...FLAGS, '--grad-accumulation', '12', '--runs-dir', runsDir],
      { when: [/^Run .*\n/m, /^SIGINT: stopping/m] });
    assert.equal(stopped.status, 130, stopped.stderr);
    assert.match(stopped.stdout, /\nStopped at once by a second SIGINT, before the run's first checkpoint: start it again\.\n$/);
    const info = readJson(path.join(onlyRun(runsDir), 'run.json'));
    assert.deepEqual([info.status, info.error], ['interrupted', 'Stopped at once by a second SIGINT, before the run\'s first checkpoint: start it again.']);
  });
});
