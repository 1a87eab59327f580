// Workers in separate processes: two local workers (`insight tune --workers 2`) on one PostgreSQL study share its
// budget — exactly maxTrials trials, none run twice, both workers did work — and ASHA's paused trials, the best
// resumed once by either worker in the run it started, the others pruned; and a worker killed with SIGKILL in the
// middle of a trial (SQLite study) leaves nothing lost or counted twice: resuming the study marks the lost trial
// failed, retries its params, and ends with exactly the budget of finished trials; with two local workers, the one
// killed is reported and the other retries its trial; Ctrl-C (SIGINT) stops a study after saving the running trial's
// checkpoint, and enqueues that trial again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { openStudyStorage } from '../../src/study/open_storage';
import type { TrialRecord } from '../../src/study/types';
import { tune } from '../../src/tune/study';
import { BIN, NODE_FLAGS, runBin, signalledBin } from '../cli/io';
import { startPostgres, type PostgresServer } from '../support/postgres_server';
import { baseConfig, runOf, sink, tempDir, writeColourFolder, writeSpace } from './helpers';

const tmp = tempDir('insight-tune-workers-');
let data: string;
let space: string;

/** `--config <file>` with the base training config (it also sets train's workers: 0, which tune's --workers cannot). */
function baseFlags(runsDir: string, epochs = 3): string[] {
  const file = path.join(tmp, `${path.basename(runsDir)}.json`);
  fs.writeFileSync(file, JSON.stringify(baseConfig(data, runsDir, epochs)));
  return ['--config', file];
}

async function trialsOf(url: string, study: string): Promise<TrialRecord[]> {
  const storage = await openStudyStorage(url);
  try {
    const record = await storage.getStudy(study);
    assert.ok(record, `study ${study} exists`);
    return await storage.trials(record.id);
  } finally {
    await storage.close();
  }
}

before(async () => {
  data = await writeColourFolder(path.join(tmp, 'colours'));
  space = writeSpace(tmp, 'space.yaml', 'lr: { type: float, low: 1e-3, high: 0.3, log: true }\noptimizer: [adam, sgd]\n');
});

describe('two local workers on one PostgreSQL study', () => {
  let pg: PostgresServer;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });

  it('share the budget: exactly 4 trials, none run twice, both workers ran trials', async () => {
    const runsDir = path.join(tmp, 'pg-runs');
    const result = runBin(['tune', '--study', 'shared', '--space', space, '--storage', pg.url, '--workers', '2', '--trials', '4', '--sampler', 'random',
      '--pruner', 'none', '--seed', '3', ...baseFlags(runsDir)], { timeout: 240_000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /^Study shared: 2 local workers on postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/insight\n/);
    assert.equal(result.stdout.includes(pg.password), false, 'the password is never printed');

    const trials = await trialsOf(pg.url, 'shared');
    assert.equal(trials.length, 4);
    assert.deepEqual(trials.map((t) => t.number), [0, 1, 2, 3]);
    assert.deepEqual(trials.map((t) => t.state), ['completed', 'completed', 'completed', 'completed']);
    const workers = new Set(trials.map((t) => t.workerId));
    assert.equal(workers.size, 2, `both workers ran trials: ${[...workers].join(', ')}`);
    // Each trial started once: one "Trial <n>:" line in all the output, one run directory with its tags.
    for (const trial of trials) {
      const starts = result.stdout.match(new RegExp(`^\\[w[12]\\] Trial ${trial.number}: `, 'gm')) ?? [];
      assert.equal(starts.length, 1, `trial ${trial.number} started once`);
      assert.deepEqual(runOf(trial.runDir!).tags, ['study:shared', `trial:${trial.number}`]);
    }
    assert.equal(fs.readdirSync(runsDir).length, 4);
    assert.equal(new Set(trials.map((t) => t.runDir)).size, 4);
    for (const label of ['w1', 'w2']) assert.match(result.stdout, new RegExp(`^\\[${label}\\] Trial \\d completed: val_accuracy`, 'm'));
    assert.match(result.stdout, /\nStudy shared: maximize val_accuracy, sampler random, pruner none, 4\/4 trials/);
  });

  it('promote paused ASHA trials across workers: the rung\'s best two resumed once each in the run they started, the rest pruned', async () => {
    // 3 epochs, η = 3: one rung, at epoch 1. A grid in this order: lr 0.1 and 0.05 (learn), then four that do not.
    // Trials 0 and 1 are claimed first; the first to reach the rung finds fewer than 3 values there and pauses; once
    // the rung ranks it among its best ⌊n/3⌋ it is promoted (by either worker) and resumed in its own run; at 6 values
    // the two are the rung's best 2, and the four others pause and end pruned after epoch 1.
    const runsDir = path.join(tmp, 'pg-asha-runs');
    const grid = writeSpace(tmp, 'asha-grid.yaml', 'lr: { type: categorical, choices: [0.1, 0.05, 1.0e-7, 2.0e-7, 5.0e-7, 1.0e-6] }\n');
    const result = runBin(['tune', '--study', 'asha', '--space', grid, '--storage', pg.url, '--workers', '2', '--trials', '6', '--sampler', 'grid',
      '--pruner', 'asha', '--metric', 'val_loss', ...baseFlags(runsDir)], { timeout: 240_000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const trials = await trialsOf(pg.url, 'asha');
    assert.deepEqual(trials.map((t) => [t.number, t.state, t.intermediate.length]),
      [[0, 'completed', 3], [1, 'completed', 3], [2, 'pruned', 1], [3, 'pruned', 1], [4, 'pruned', 1], [5, 'pruned', 1]]);
    const lines = (pattern: string) => result.stdout.match(new RegExp(`^\\[w[12]\\] ${pattern}`, 'gm')) ?? [];
    for (const trial of trials) {
      const run = runOf(trial.runDir!);
      assert.deepEqual(run.epochs.map((e) => e.epoch), trial.state === 'completed' ? [1, 2, 3] : [1], `trial ${trial.number} (${trial.state})`);
      assert.deepEqual(trial.intermediate, run.epochs.map((e) => ({ step: e.epoch, value: e.val_loss })));
      assert.equal(lines(`Trial ${trial.number}: `).length, 1, `trial ${trial.number} started once`);
      // Each good trial paused once and was promoted once (the first to reach the rung always; the second unless two
      // others got there first); the others never promoted.
      const paused = lines(`Trial ${trial.number} paused: val_loss \\d\\.\\d{4} after 1 epoch$`).length;
      const promoted = lines(`Trial ${trial.number} promoted: resumed after epoch 1 `).length;
      if (trial.number < 2) assert.ok(paused === promoted && promoted <= 1, `trial ${trial.number}: paused ${paused}, promoted ${promoted}`);
      else assert.deepEqual([paused, promoted], [1, 0], `trial ${trial.number}`);
    }
    assert.ok(lines('Trial [01] promoted: ').length >= 1, result.stdout);
    assert.equal(new Set(trials.map((t) => t.runDir)).size, 6);
    assert.equal(fs.readdirSync(runsDir).length, 6);
    assert.equal(lines('Trial \\d pruned: paused at epoch 1 and never promoted').length, 4);
    assert.match(result.stdout, /\nStudy asha: minimize val_loss, sampler grid, pruner asha, 6\/6 trials/);
  });
});

describe('a worker killed with SIGKILL mid-trial', () => {
  it('loses nothing: resuming marks its trial failed, retries the params, and finishes exactly the budget', async () => {
    const runsDir = path.join(tmp, 'kill-runs');
    const killed = await signalledBin(['tune', '--study', 'killed', '--space', space, '--trials', '3', '--sampler', 'random', '--pruner', 'none',
      '--heartbeat-seconds', '0.5', ...baseFlags(runsDir)], { signal: 'SIGKILL', when: /^Trial 1: [\s\S]*^epoch 1\/3 /m, timeout: 120_000 });
    assert.equal(killed.signal, 'SIGKILL', killed.stdout + killed.stderr);
    const url = `sqlite:${path.join(runsDir, 'tune.db')}`;
    const before = await trialsOf(url, 'killed');
    assert.deepEqual(before.map((t) => [t.number, t.state]), [[0, 'completed'], [1, 'running']]);
    const lost = before[1];
    assert.ok(lost.runDir, 'the lost trial recorded its run');

    const out = sink();
    const resumed = await tune({ study: 'killed', heartbeatSeconds: 0.5, baseConfig: { runsDir } }, { out, err: out, handleSignals: false });
    const trials = resumed.trials;
    const failed = trials.filter((t) => t.state === 'failed');
    assert.deepEqual(failed.map((t) => t.number), [1]);
    assert.match(failed[0].error ?? '', /worker|heartbeat/i);
    const retry = trials.find((t) => t.retryOf === 1);
    assert.ok(retry, `a retry of trial 1: ${JSON.stringify(trials.map((t) => [t.number, t.state, t.retryOf]))}`);
    assert.deepEqual(retry.params, lost.params);
    assert.equal(retry.state, 'completed');
    assert.match(out.text, /Trial 1 lost its worker .* marked failed, retried as a new trial\./);
    assert.match(out.text, new RegExp(`Trial ${retry.number} \\(retry of trial 1\\): `));

    // The budget: exactly 3 finished trials, each number once, each with its own run; the killed run stays behind.
    assert.equal(resumed.counts.completed + resumed.counts.pruned, 3);
    assert.equal(resumed.counts.running + resumed.counts.waiting, 0);
    assert.equal(new Set(trials.map((t) => t.number)).size, trials.length);
    const finishedRuns = trials.filter((t) => t.state === 'completed').map((t) => t.runDir);
    assert.equal(new Set(finishedRuns).size, 3);
    assert.ok(!finishedRuns.includes(lost.runDir));
    assert.equal(runOf(lost.runDir).status, 'running'); // its process died without a word: trackers show it crashed
    assert.deepEqual(runOf(lost.runDir).tags, ['study:killed', 'trial:1']);
    assert.equal(fs.readdirSync(runsDir).filter((e) => !e.startsWith('tune.db')).length, 4);
  });
});

describe('SIGINT during a trial', () => {
  it('stops the study with INSIGHT_E_INTERRUPTED: the trial\'s run is interrupted, the trial failed and enqueued again', async () => {
    const runsDir = path.join(tmp, 'sigint-runs');
    const stopped = await signalledBin(['tune', '--study', 'stopped', '--space', space, '--trials', '3', '--sampler', 'random', '--pruner', 'none',
      ...baseFlags(runsDir, 10)], { signal: 'SIGINT', when: /^Trial 1: [\s\S]*^Run /m, timeout: 120_000 });
    assert.equal(stopped.status, 130, stopped.stdout + stopped.stderr);
    assert.match(stopped.stderr, /Error INSIGHT_E_INTERRUPTED: A study runs until its budget of trials is spent; this one was stopped before\./);
    assert.match(stopped.stderr, /Resume it with `insight tune --study stopped`/);
    const trials = await trialsOf(`sqlite:${path.join(runsDir, 'tune.db')}`, 'stopped');
    assert.deepEqual(trials.map((t) => [t.number, t.state]), [[0, 'completed'], [1, 'failed'], [2, 'waiting']]);
    assert.match(trials[1].error ?? '', /^interrupted \(SIGINT\): Training stops at SIGINT or SIGTERM/);
    assert.equal(trials[2].retryOf, trials[1].id);
    assert.deepEqual(trials[2].params, trials[1].params);
    assert.equal(runOf(trials[1].runDir!).status, 'interrupted');
  });
});

describe('one of two local workers killed with SIGKILL', () => {
  it('is reported, and the other worker retries its trial and finishes the budget', async () => {
    const runsDir = path.join(tmp, 'half-runs');
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'tune', '--study', 'half', '--space', space, '--workers', '2', '--trials', '4',
      '--sampler', 'random', '--pruner', 'none', '--heartbeat-seconds', '0.5', ...baseFlags(runsDir, 5)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INSIGHT_QUIET_BACKEND_WARNING: '1' } });
    let [stdout, stderr, victim] = ['', '', ''];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const mid = /^\[(w[12])\] epoch 1\/5 /m.exec(stdout);
      if (victim === '' && mid) {
        victim = mid[1];
        process.kill(Number(new RegExp(`^Worker ${victim}: pid (\\d+)$`, 'm').exec(stdout)![1]), 'SIGKILL'); // in the middle of its trial
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(status, 0, `${stdout}\n${stderr}`);
    assert.match(stderr, new RegExp(`^Worker ${victim} \\(pid \\d+\\) died \\(signal SIGKILL\\): a trial it held is marked failed and retried`, 'm'));

    const trials = await trialsOf(`sqlite:${path.join(runsDir, 'tune.db')}`, 'half');
    const failed = trials.filter((t) => t.state === 'failed');
    assert.equal(failed.length, 1, JSON.stringify(trials.map((t) => [t.number, t.state, t.retryOf])));
    const retry = trials.find((t) => t.retryOf === failed[0].id);
    assert.ok(retry && retry.state === 'completed' && retry.workerId !== failed[0].workerId);
    assert.deepEqual(retry.params, failed[0].params);
    assert.equal(trials.filter((t) => t.state === 'completed').length, 4);
    assert.equal(trials.length, 5);
    assert.match(stdout, /\nStudy half: maximize val_accuracy, sampler random, pruner none, 4\/4 trials/);
  });
});
