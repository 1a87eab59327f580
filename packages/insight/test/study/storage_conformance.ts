// The one conformance suite every study storage passes (SQLite and PostgreSQL run it alike): studies, the trial
// budget under concurrent workers (in-process and in several processes), claiming, reports, finishing once, the
// recovery of trials whose worker died (declared stale, retried, a late finish refused, nothing counted twice),
// ASHA's pause (no holder, counted in the budget, never declared lost) and promotion (claimed by exactly one worker),
// a grid's points enqueued once by whichever of several workers creates the study, and trial creation and claims made
// again by the same worker (a lost acknowledgement retried) returning the trial the first call took.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

import type { StudyStorage } from '../../src/study/storage';
import type { StudySpec } from '../../src/study/types';

export interface StorageUnderTest {
  /** The storage's URL as a worker on another process would pass it (password included). */
  url: string;
  /** Opens another connection to the same storage (another worker). */
  open(): Promise<StudyStorage>;
}

const NODE_FLAGS = ['--conditions=source', '--import', pathToFileURL(require.resolve('tsx')).href];
const WORKER = path.join(__dirname, 'storage_worker.ts');

let names = 0;
/** A study spec with a fresh name (every test gets its own study in the shared storage). */
export function spec(overrides: Partial<StudySpec> = {}): StudySpec {
  names += 1;
  return {
    name: `study-${names}`, metric: 'val_accuracy', direction: 'maximize',
    space: { lr: { type: 'float', low: 1e-4, high: 1, log: true }, optimizer: { type: 'categorical', choices: ['sgd', 'adam'] } },
    sampler: { name: 'tpe', seed: 1 }, pruner: { name: 'asha', minEpochs: 1, reductionFactor: 3 }, maxTrials: 5, baseConfig: { epochs: 3 },
    ...overrides,
  };
}

/** Starts test/study/storage_worker.ts (its header says what each mode does; `payload` is create's JSON). */
export function startWorker(url: string, study: string, workerId: string, mode: 'hammer' | 'hold' | 'open' | 'create',
  payload?: unknown): ChildProcessWithoutNullStreams & { lines: string[]; stderr_: string } {
  const args = [...NODE_FLAGS, WORKER, url, study, workerId, mode, ...(payload === undefined ? [] : [JSON.stringify(payload)])];
  const child = spawn(process.execPath, args, { stdio: 'pipe' }) as
    ChildProcessWithoutNullStreams & { lines: string[]; stderr_: string };
  child.lines = [];
  child.stderr_ = '';
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    child.lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    child.stderr_ += chunk.toString();
  });
  return child;
}

/** The worker's line `index` (0-based), waiting for it. */
export async function lineFrom(child: ReturnType<typeof startWorker>, index: number, timeoutMs = 30_000): Promise<string> {
  const start = Date.now();
  while (child.lines.length <= index) {
    if (child.exitCode !== null) assert.fail(`worker exited ${child.exitCode}: ${child.stderr_}`);
    if (Date.now() - start > timeoutMs) assert.fail(`worker said nothing in ${timeoutMs} ms: ${child.stderr_}`);
    await sleep(20);
  }
  return child.lines[index];
}

export const exited = (child: ReturnType<typeof startWorker>) => new Promise<number | null>((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
  else child.once('exit', (code) => resolve(code));
});

/** Runs the suite against the storage `under` gives. */
export function storageConformance(kind: string, under: () => StorageUnderTest): void {
  describe(`${kind} study storage (conformance)`, () => {
    let a: StudyStorage;
    let b: StudyStorage;
    before(async () => {
      [a, b] = [await under().open(), await under().open()];
    });
    after(async () => {
      await a?.close();
      await b?.close();
    });

    it('creates a study, finds it by name, and lets a second worker join it with the same definition', async () => {
      const definition = spec({ maxTrials: 7 });
      const study = await a.createStudy(definition);
      assert.equal(study.name, definition.name);
      assert.equal(study.maxTrials, 7);
      assert.deepEqual(study.space, definition.space);
      assert.deepEqual(study.pruner, definition.pruner);
      assert.deepEqual(study.baseConfig, { epochs: 3 });
      assert.ok(Math.abs(Date.parse(study.createdAt) - Date.now()) < 60_000, study.createdAt);
      assert.deepEqual(await b.getStudy(definition.name), study);
      assert.equal(await b.getStudy('no-such-study'), null);
      assert.ok((await b.listStudies()).some((s) => s.id === study.id && s.name === definition.name));
      // the same space written in another key order is the same study; a joiner's budget does not replace the stored one
      const reordered = { optimizer: { choices: ['sgd', 'adam'], type: 'categorical' }, lr: { log: true, high: 1, low: 1e-4, type: 'float' } };
      const joined = await b.createStudy({ ...definition, space: reordered, maxTrials: 99 });
      assert.equal(joined.id, study.id);
      assert.equal(joined.maxTrials, 7);
    });

    it('refuses a different definition under the same name, and a malformed one', async () => {
      const definition = spec();
      await a.createStudy(definition);
      await assert.rejects(b.createStudy({ ...definition, direction: 'minimize', space: { lr: { type: 'float', low: 0, high: 1 } } }), (error: Error & { code: string }) => {
        assert.equal(error.code, 'INSIGHT_E_CONFIG');
        assert.match(error.message, /^A study joined or resumed must keep the metric, direction and search space it was created with\. Received: study="study-\d+", storage="(sqlite|postgres)[^"]*", differs=\["direction","space"\], stored=\{"metric":"val_accuracy","direction":"maximize"\}/);
        assert.match(error.message, /or choose another --study name for a new study\.$/);
        return true;
      });
      await assert.rejects(a.createStudy(spec({ maxTrials: 0 })), { code: 'INSIGHT_E_CONFIG', message: /^A study's trial budget must be an integer >= 1\. Received: study="study-\d+", maxTrials=0\. Pass e\.g\. --trials 20\.$/ });
      await assert.rejects(a.createStudy(spec({ direction: 'up' as 'maximize' })), { code: 'INSIGHT_E_CONFIG' });
    });

    it('numbers trials 0, 1, 2 ... and stops at the budget, where failed trials do not count', async () => {
      const study = await a.createStudy(spec({ maxTrials: 3 }));
      const trials = [await a.createTrial(study.id, { lr: 0.1 }, 'w1'), await b.createTrial(study.id, { lr: 0.2 }, 'w2'), await a.createTrial(study.id, { lr: 0.3 }, 'w1')];
      assert.deepEqual(trials.map((t) => t?.number), [0, 1, 2]);
      assert.deepEqual(trials.map((t) => [t?.state, t?.workerId]), [['running', 'w1'], ['running', 'w2'], ['running', 'w1']]);
      assert.deepEqual(trials[1]!.params, { lr: 0.2 });
      assert.ok(trials[0]!.startedAt !== null && trials[0]!.heartbeatAt !== null && trials[0]!.finishedAt === null);
      assert.equal(await b.createTrial(study.id, { lr: 0.4 }, 'w2'), null, 'budget of 3 spent');
      assert.equal(await a.finishTrial(trials[1]!.id, 'w2', 'failed', null, 'out of memory'), true);
      const fourth = await b.createTrial(study.id, { lr: 0.4 }, 'w2');
      assert.equal(fourth?.number, 3, 'a failed trial frees its place in the budget');
      assert.equal(await a.createTrial(study.id, { lr: 0.5 }, 'w1'), null);
      const failed = await a.trial(trials[1]!.id);
      assert.deepEqual([failed?.state, failed?.error, failed?.value], ['failed', 'out of memory', null]);
      await assert.rejects(a.createTrial(987_654, {}, 'w1'), (e: Error & { code: string }) => e.code === 'INSIGHT_E_STORAGE' && /holds no study with this id\. Received: storage=.*, studyId=987654/.test(e.message));
    });

    it('never overshoots the budget under many concurrent createTrial calls from two workers', async () => {
      const study = await a.createStudy(spec({ maxTrials: 7 }));
      const calls = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? a : b).createTrial(study.id, { lr: i / 100 }, `w${i % 2}`));
      const made = (await Promise.all(calls)).filter((t) => t !== null);
      assert.equal(made.length, 7);
      assert.deepEqual(made.map((t) => t.number).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6]);
      assert.equal((await a.trials(study.id)).length, 7);
    });

    it('never overshoots the budget with worker processes hammering createTrial; no "database is locked" escapes', async () => {
      const { url } = under();
      const study = await a.createStudy(spec({ maxTrials: 45 }));
      const workers = ['p0', 'p1', 'p2'].map((id) => startWorker(url, study.name, id, 'hammer'));
      try {
        for (const worker of workers) assert.equal(await lineFrom(worker, 0), 'ready');
        for (const worker of workers) worker.stdin.write('go\n');
        const got = await Promise.all(workers.map(async (worker) => JSON.parse(await lineFrom(worker, 1)) as number[]));
        for (const worker of workers) {
          assert.equal(await exited(worker), 0);
          assert.equal(worker.stderr_, '');
        }
        const all = got.flat().sort((x, y) => x - y);
        assert.deepEqual(all, Array.from({ length: 45 }, (_, i) => i), 'each number once, 45 in all');
        const trials = await a.trials(study.id);
        assert.equal(trials.length, 45);
        for (const trial of trials) {
          assert.equal(trial.runDir?.startsWith(`runs/${trial.workerId}-`), true);
          assert.equal(trial.intermediate.length, 1);
        }
      } finally {
        for (const worker of workers) worker.kill('SIGKILL');
      }
    });

    it('gives a waiting trial to exactly one of two concurrent claimers, oldest first', async () => {
      const study = await a.createStudy(spec());
      const first = await a.enqueueTrial(study.id, { lr: 0.01, optimizer: 'adam' });
      assert.deepEqual([first.state, first.number, first.workerId, first.startedAt], ['waiting', 0, null, null]);
      const second = await b.enqueueTrial(study.id, { lr: 0.02, optimizer: 'sgd' });
      assert.equal(second.number, 1);
      const claims = await Promise.all([a.claimWaitingTrial(study.id, 'wa'), b.claimWaitingTrial(study.id, 'wb'), a.claimWaitingTrial(study.id, 'wa2')]);
      const won = claims.filter((t) => t !== null);
      assert.equal(won.length, 2, 'two waiting trials, three claimers');
      assert.deepEqual(won.map((t) => t.number).sort(), [0, 1]);
      assert.deepEqual(new Set(won.map((t) => t.workerId)).size, 2);
      for (const trial of won) assert.equal(trial.state, 'running');
      const solo = await a.enqueueTrial(study.id, { lr: 0.03 });
      const race = await Promise.all([a.claimWaitingTrial(study.id, 'x'), b.claimWaitingTrial(study.id, 'y')]);
      assert.equal(race.filter((t) => t !== null).length, 1);
      assert.equal(race.find((t) => t !== null)!.id, solo.id);
      assert.equal(await a.claimWaitingTrial(study.id, 'z'), null); // not x or y: the winner asking again gets its own trial back
    });

    it('records intermediate values in step order, a repeated step overwriting, exactly as given', async () => {
      const study = await a.createStudy(spec());
      const trial = (await a.createTrial(study.id, { lr: 0.1 }, 'w1'))!;
      await a.reportIntermediate(trial.id, 2, 0.25);
      await a.reportIntermediate(trial.id, 1, 0.5);
      await b.reportIntermediate(trial.id, 1, 0.1 + 0.2);
      await a.reportIntermediate(trial.id, 3, 1 / 3);
      assert.deepEqual((await b.trial(trial.id))!.intermediate, [{ step: 1, value: 0.30000000000000004 }, { step: 2, value: 0.25 }, { step: 3, value: 1 / 3 }]);
      assert.deepEqual((await a.trials(study.id))[0].intermediate.map((v) => v.step), [1, 2, 3]);
      await assert.rejects(a.reportIntermediate(trial.id, 4, Number.NaN), { code: 'INSIGHT_E_CONFIG', message: /^A trial's intermediate value must be a finite number\. Received: trial=\d+, value=NaN\./ });
      await assert.rejects(a.reportIntermediate(trial.id, 1.5, 0.1), { code: 'INSIGHT_E_CONFIG' });
      await assert.rejects(a.reportIntermediate(987_654, 1, 0.1), { code: 'INSIGHT_E_STORAGE' });
    });

    it('heartbeats and finishes a trial only for its holder, and only once', async () => {
      const study = await a.createStudy(spec());
      const trial = (await a.createTrial(study.id, { lr: 0.1 }, 'w1'))!;
      await sleep(15);
      assert.equal(await b.heartbeat(trial.id, 'w2'), false, 'not the holder');
      assert.equal(await a.heartbeat(trial.id, 'w1', 'runs/abc'), true);
      const beaten = (await b.trial(trial.id))!;
      assert.equal(beaten.runDir, 'runs/abc');
      assert.ok(beaten.heartbeatAt! > trial.heartbeatAt!, `${beaten.heartbeatAt} after ${trial.heartbeatAt}`);
      assert.equal(await a.heartbeat(trial.id, 'w1'), true);
      assert.equal((await b.trial(trial.id))!.runDir, 'runs/abc', 'kept when not given again');
      assert.equal(await b.finishTrial(trial.id, 'w2', 'completed', 0.9), false, 'not the holder');
      assert.equal((await a.trial(trial.id))!.state, 'running');
      assert.equal(await a.finishTrial(trial.id, 'w1', 'pruned', 0.41), true);
      assert.equal(await a.finishTrial(trial.id, 'w1', 'completed', 0.9), false, 'finished once');
      assert.equal(await a.heartbeat(trial.id, 'w1'), false, 'finished: nothing to heartbeat');
      await a.reportIntermediate(trial.id, 5, 0.99); // ignored: reports count only while running
      const done = (await b.trial(trial.id))!;
      assert.deepEqual([done.state, done.value, done.error, done.intermediate], ['pruned', 0.41, null, []]);
      assert.ok(done.finishedAt !== null && done.finishedAt >= done.startedAt!);
      assert.deepEqual((await a.trials(study.id, ['pruned'])).map((t) => t.id), [trial.id]);
      assert.deepEqual(await a.trials(study.id, ['completed', 'running']), []);
      assert.equal(await a.trial(987_654), null);
    });

    it('declares running trials without a recent heartbeat lost, retries them, and refuses the lost worker\'s late finish', async () => {
      const study = await a.createStudy(spec({ maxTrials: 2 }));
      const lost = (await a.createTrial(study.id, { lr: 0.1, optimizer: 'adam' }, 'dead'))!;
      const alive = (await b.createTrial(study.id, { lr: 0.2 }, 'alive'))!;
      await a.reportIntermediate(lost.id, 1, 0.3);
      await sleep(700);
      assert.equal(await b.heartbeat(alive.id, 'alive'), true);
      const marked = await b.failStaleTrials(study.id, 0.5);
      assert.deepEqual(marked.map((t) => [t.id, t.state, t.error]), [[lost.id, 'failed', 'worker lost: no heartbeat for 0.5 s']]);
      assert.deepEqual(marked[0].intermediate, [{ step: 1, value: 0.3 }]);
      assert.deepEqual(await a.failStaleTrials(study.id, 0.5), [], 'marked once');
      const retry = (await a.trials(study.id, ['waiting']))[0];
      assert.deepEqual([retry.number, retry.retryOf, retry.params], [2, lost.id, { lr: 0.1, optimizer: 'adam' }]);
      // the lost worker comes back: its reports, heartbeats and finish count for nothing
      await a.reportIntermediate(lost.id, 2, 0.9);
      assert.equal(await a.heartbeat(lost.id, 'dead'), false);
      assert.equal(await a.finishTrial(lost.id, 'dead', 'completed', 0.9), false);
      assert.equal(await a.finishTrial(lost.id, 'dead', 'failed', null, 'interrupted (SIGTERM)'), false, 'failed by the sweep, not by it');
      const after = (await b.trial(lost.id))!;
      assert.deepEqual([after.state, after.value, after.intermediate.length], ['failed', null, 1]);
      assert.equal(await a.createTrial(study.id, { lr: 0.3 }, 'w'), null, 'the retry holds the lost trial\'s place in the budget');
      const claimed = (await b.claimWaitingTrial(study.id, 'new'))!;
      assert.equal(claimed.id, retry.id);
      assert.equal(await b.finishTrial(claimed.id, 'new', 'completed', 0.8), true);
      assert.equal(await a.finishTrial(alive.id, 'alive', 'completed', 0.7), true);
      const states = (await a.trials(study.id)).map((t) => [t.number, t.state, t.value]);
      assert.deepEqual(states, [[0, 'failed', null], [1, 'completed', 0.7], [2, 'completed', 0.8]]);
      await assert.rejects(a.failStaleTrials(study.id, -1), { code: 'INSIGHT_E_CONFIG' });
    });

    it('retries the trial of a worker killed with SIGKILL once its heartbeat is staleSeconds old', async () => {
      const study = await a.createStudy(spec());
      const worker = startWorker(under().url, study.name, 'doomed', 'hold');
      let id: number;
      try {
        id = (JSON.parse(await lineFrom(worker, 0)) as { id: number }).id;
        await sleep(700);
        assert.deepEqual(await a.failStaleTrials(study.id, 0.5), [], 'alive: heartbeats every 100 ms');
      } finally {
        worker.kill('SIGKILL');
      }
      await exited(worker);
      assert.equal(worker.signalCode, 'SIGKILL');
      assert.equal((await a.trial(id))!.state, 'running', 'nobody knows yet');
      await sleep(700);
      const marked = await b.failStaleTrials(study.id, 0.5);
      assert.deepEqual(marked.map((t) => [t.id, t.workerId, t.state]), [[id, 'doomed', 'failed']]);
      const retry = (await a.claimWaitingTrial(study.id, 'heir'))!;
      assert.deepEqual([retry.retryOf, retry.params, retry.number, retry.workerId], [id, { lr: 0.5, optimizer: 'sgd' }, 1, 'heir']);
    });

    it('pauses a running trial for its holder only: nobody holds it, its value kept, counted in the budget, never declared lost', async () => {
      const study = await a.createStudy(spec({ maxTrials: 2 }));
      const trial = (await a.createTrial(study.id, { lr: 0.1 }, 'w1'))!;
      assert.equal(await a.heartbeat(trial.id, 'w1', 'runs/t0'), true);
      await a.reportIntermediate(trial.id, 1, 0.4);
      await a.reportIntermediate(trial.id, 3, 0.55);
      assert.equal(await b.pauseTrial(trial.id, 'w2', 0.55), false, 'not the holder');
      assert.deepEqual([(await b.trial(trial.id))!.state, (await b.trial(trial.id))!.workerId], ['running', 'w1']);
      await assert.rejects(a.pauseTrial(trial.id, 'w1', Number.POSITIVE_INFINITY), { code: 'INSIGHT_E_CONFIG', message: /^A trial's value must be a finite number\. Received: trial=\d+, value=Infinity\./ });
      assert.equal(await a.pauseTrial(trial.id, 'w1', 0.55), true);
      assert.equal(await a.pauseTrial(trial.id, 'w1', 0.6), false, 'paused once');
      assert.equal(await b.pauseTrial(trial.id, 'w2', 0.55), false, 'paused by w1, not w2');
      const paused = (await b.trial(trial.id))!;
      assert.deepEqual([paused.state, paused.value, paused.workerId, paused.heartbeatAt, paused.finishedAt, paused.error, paused.runDir],
        ['paused', 0.55, 'w1', null, null, null, 'runs/t0'], 'workerId: who paused it');
      assert.equal(paused.startedAt, trial.startedAt);
      assert.deepEqual(paused.intermediate, [{ step: 1, value: 0.4 }, { step: 3, value: 0.55 }]);
      assert.deepEqual((await a.trials(study.id, ['paused'])).map((t) => t.id), [trial.id]);
      assert.deepEqual(await a.trials(study.id, ['running']), []);
      // a paused trial holds its place in the budget (it is not failed)
      const other = (await b.createTrial(study.id, { lr: 0.2 }, 'w2'))!;
      assert.equal(other.number, 1);
      assert.equal(await a.createTrial(study.id, { lr: 0.3 }, 'w1'), null, 'budget of 2: one paused, one running');
      // its former holder's heartbeats, reports and finish count for nothing
      assert.equal(await a.heartbeat(trial.id, 'w1'), false);
      await a.reportIntermediate(trial.id, 4, 0.9);
      await b.reportIntermediate(trial.id, 3, 0.1);
      assert.equal(await a.finishTrial(trial.id, 'w1', 'completed', 0.9), false);
      // the stale sweep takes running trials only, however stale: the paused one has no heartbeat to miss
      await sleep(30);
      assert.deepEqual((await b.failStaleTrials(study.id, 0)).map((t) => [t.id, t.state]), [[other.id, 'failed']]);
      const still = (await a.trial(trial.id))!;
      assert.deepEqual([still.state, still.value, still.workerId, still.error, still.finishedAt], ['paused', 0.55, 'w1', null, null]);
      assert.deepEqual(still.intermediate, [{ step: 1, value: 0.4 }, { step: 3, value: 0.55 }]);
      assert.deepEqual((await a.trials(study.id, ['waiting'])).map((t) => t.retryOf), [other.id], 'one retry, of the running trial');
      assert.equal(await a.pauseTrial(987_654, 'w1', 0.5), false);
    });

    it('gives a paused trial to exactly one claimer: running again, first start and reports kept, finished by its new holder', async () => {
      const study = await a.createStudy(spec());
      const trial = (await a.createTrial(study.id, { lr: 0.1 }, 'w1'))!;
      await a.reportIntermediate(trial.id, 1, 0.4);
      assert.equal(await a.pauseTrial(trial.id, 'w1', 0.4), true);
      await sleep(15);
      const claims = await Promise.all([a.claimPausedTrial(trial.id, 'wa'), b.claimPausedTrial(trial.id, 'wb'), a.claimPausedTrial(trial.id, 'wc')]);
      const won = claims.filter((t) => t !== null);
      assert.equal(won.length, 1, 'three claimers, one paused trial');
      const resumed = won[0];
      const holder = resumed.workerId!;
      assert.ok(['wa', 'wb', 'wc'].includes(holder), holder);
      assert.deepEqual([resumed.id, resumed.state, resumed.number, resumed.params, resumed.value, resumed.finishedAt, resumed.error],
        [trial.id, 'running', 0, { lr: 0.1 }, null, null, null]);
      assert.equal(resumed.startedAt, trial.startedAt, 'the first start kept');
      assert.ok(resumed.heartbeatAt! > trial.heartbeatAt!, `a fresh heartbeat: ${resumed.heartbeatAt} after ${trial.heartbeatAt}`);
      assert.deepEqual(resumed.intermediate, [{ step: 1, value: 0.4 }]);
      assert.deepEqual(await b.trial(trial.id), resumed);
      assert.equal(await a.claimPausedTrial(trial.id, 'wd'), null, 'claimed once');
      // the new holder reports, heartbeats and finishes it; nobody else can
      assert.equal(await a.heartbeat(trial.id, 'w1'), false, 'the worker that paused it no longer holds it');
      assert.equal(await b.heartbeat(trial.id, holder), true);
      await b.reportIntermediate(trial.id, 3, 0.5);
      assert.equal(await a.finishTrial(trial.id, 'w1', 'pruned', 0.5), false);
      assert.equal(await a.finishTrial(trial.id, holder, 'pruned', 0.5), true);
      const done = (await b.trial(trial.id))!;
      assert.deepEqual([done.state, done.value, done.workerId, done.intermediate], ['pruned', 0.5, holder, [{ step: 1, value: 0.4 }, { step: 3, value: 0.5 }]]);
      assert.ok(done.finishedAt !== null && done.finishedAt >= done.startedAt!);
      // only a paused trial is claimed: not a running, waiting or finished one, nor one that does not exist
      const running = (await a.createTrial(study.id, { lr: 0.2 }, 'w1'))!;
      const waiting = await a.enqueueTrial(study.id, { lr: 0.3 });
      for (const id of [running.id, waiting.id, trial.id, 987_654]) assert.equal(await b.claimPausedTrial(id, 'thief'), null, `trial ${id}`);
      assert.deepEqual([(await a.trial(running.id))!.workerId, (await a.trial(waiting.id))!.state, (await a.trial(trial.id))!.state], ['w1', 'waiting', 'pruned']);
      // a pause is pauseTrial's, never a finish
      // a JavaScript caller's mistake, past the types
      await assert.rejects(a.finishTrial(running.id, 'w1', 'paused' as 'pruned', 0.3), { code: 'INSIGHT_E_CONFIG',
        message: /^A trial can only be finished as completed, pruned or failed\. Received: trial=\d+, state="paused"\. Pause a running trial with pauseTrial\.$/ });
      assert.equal((await a.trial(running.id))!.state, 'running');
    });

    it('pauses a promoted trial again at the next rung, and declares its new holder lost like any running trial\'s', async () => {
      const study = await a.createStudy(spec());
      const trial = (await a.createTrial(study.id, { lr: 0.1, optimizer: 'sgd' }, 'w1'))!;
      await a.reportIntermediate(trial.id, 1, 0.4);
      assert.equal(await a.pauseTrial(trial.id, 'w1', 0.4), true);
      assert.equal((await b.claimPausedTrial(trial.id, 'w2'))?.workerId, 'w2');
      await b.reportIntermediate(trial.id, 3, 0.45);
      assert.equal(await b.pauseTrial(trial.id, 'w2', 0.45), true);
      assert.deepEqual([(await a.trial(trial.id))!.state, (await a.trial(trial.id))!.value], ['paused', 0.45]);
      const ghost = (await a.claimPausedTrial(trial.id, 'ghost'))!;
      assert.equal(ghost.startedAt, trial.startedAt);
      await sleep(30);
      const lost = await b.failStaleTrials(study.id, 0.01);
      assert.deepEqual(lost.map((t) => [t.id, t.state, t.value, t.workerId, t.error]), [[trial.id, 'failed', null, 'ghost', 'worker lost: no heartbeat for 0.01 s']]);
      assert.deepEqual(lost[0].intermediate.map((v) => v.step), [1, 3]);
      const retry = (await a.trials(study.id, ['waiting']))[0];
      assert.deepEqual([retry.retryOf, retry.params], [trial.id, { lr: 0.1, optimizer: 'sgd' }]);
      assert.equal(await a.claimPausedTrial(trial.id, 'late'), null);
    });

    it('enqueues a grid\'s points with the study, once, when several workers create it at the same moment; joining enqueues nothing', async () => {
      const definition = spec({ maxTrials: 5, sampler: { name: 'grid' }, pruner: { name: 'none' } });
      const points = Array.from({ length: 7 }, (_, i) => ({ lr: 10 ** -(1 + (i % 4)), optimizer: i < 4 ? 'sgd' : 'adam' }));
      const workers = ['c0', 'c1', 'c2'].map((id) => startWorker(under().url, definition.name, id, 'create', { spec: definition, enqueue: points }));
      try {
        for (const worker of workers) assert.equal(await lineFrom(worker, 0), 'ready');
        for (const worker of workers) worker.stdin.write('go\n');
        const here = await Promise.all([a.createStudy(definition, { enqueue: points }), b.createStudy(definition, { enqueue: points })]);
        const ids = [...here.map((study) => study.id), ...await Promise.all(workers.map(async (worker) => JSON.parse(await lineFrom(worker, 1)) as number))];
        for (const worker of workers) {
          assert.equal(await exited(worker), 0);
          assert.equal(worker.stderr_, '');
        }
        assert.equal(new Set(ids).size, 1, `five creators, one study: ${ids.join(', ')}`);
        const trials = await a.trials(ids[0]);
        assert.deepEqual(trials.map((t) => [t.number, t.state, t.params]), points.slice(0, 5).map((p, i) => [i, 'waiting', p]),
          'one set of points, numbered 0..4 in order, capped at the budget of 5');
        assert.deepEqual([trials[0].workerId, trials[0].startedAt, trials[0].heartbeatAt, trials[0].retryOf, trials[0].value], [null, null, null, null, null]);
        // a worker joining later with the points enqueues nothing, whether the study has trials or none
        assert.equal((await b.createStudy(definition, { enqueue: points })).id, ids[0]);
        assert.equal((await a.trials(ids[0])).length, 5);
        const bareSpec = spec({ maxTrials: 5, sampler: { name: 'grid' } });
        const bare = await a.createStudy(bareSpec);
        assert.equal((await b.createStudy(bareSpec, { enqueue: points })).id, bare.id);
        assert.deepEqual(await a.trials(bare.id), []);
        // a study created with fewer points than its budget gets them all; none given, none enqueued
        const small = await b.createStudy(spec({ maxTrials: 9 }), { enqueue: points.slice(0, 2) });
        assert.deepEqual((await a.trials(small.id)).map((t) => [t.number, t.params]), [[0, points[0]], [1, points[1]]]);
        assert.deepEqual(await a.trials((await a.createStudy(spec(), { enqueue: [] })).id), []);
      } finally {
        for (const worker of workers) worker.kill('SIGKILL');
      }
    });

    it('createTrial made again by the same worker with the same params returns the trial it holds, even with the budget spent', async () => {
      const study = await a.createStudy(spec({ maxTrials: 3 }));
      const params = { lr: 0.01, optimizer: 'adam' };
      const first = (await a.createTrial(study.id, params, 'w1'))!;
      assert.deepEqual(await b.createTrial(study.id, params, 'w1'), first, 'the lost acknowledgement\'s retry: the same trial');
      assert.deepEqual((await a.trials(study.id)).map((t) => [t.id, t.number, t.workerId]), [[first.id, 0, 'w1']]);
      // another worker with the same params gets a trial of its own; the same worker with other params too
      const other = (await b.createTrial(study.id, params, 'w2'))!;
      assert.deepEqual([other.number, other.workerId], [1, 'w2']);
      await a.reportIntermediate(first.id, 1, 0.4);
      const third = (await a.createTrial(study.id, { lr: 0.02, optimizer: 'adam' }, 'w3'))!;
      assert.equal(third.number, 2);
      // the budget of 3 is spent, by these trials among others: made again, the call still returns its own
      const again = (await b.createTrial(study.id, params, 'w1'))!;
      assert.deepEqual([again.id, again.intermediate], [first.id, [{ step: 1, value: 0.4 }]]);
      assert.equal(await a.createTrial(study.id, { lr: 0.03 }, 'w1'), null, 'other params: budget spent');
      assert.equal(await a.createTrial(study.id, params, 'w4'), null, 'another worker: budget spent');
      // once it no longer runs, it is not given back: a new trial when the budget allows
      assert.equal(await a.finishTrial(first.id, 'w1', 'failed', null, 'out of memory'), true);
      const fresh = (await b.createTrial(study.id, params, 'w1'))!;
      assert.deepEqual([fresh.number, fresh.state, fresh.workerId], [3, 'running', 'w1']);
      assert.equal((await a.trials(study.id)).length, 4);
    });

    it('claimWaitingTrial made again by the same worker returns the trial it claimed; a begun, created or promoted trial is not one', async () => {
      const study = await a.createStudy(spec({ maxTrials: 9 }));
      const waiting = [await a.enqueueTrial(study.id, { lr: 0.1 }), await a.enqueueTrial(study.id, { lr: 0.2 })];
      await sleep(5); // SQLite's clock counts milliseconds: a claim is told from a creation by starting later (storage.ts)
      const claimed = (await a.claimWaitingTrial(study.id, 'w1'))!;
      assert.deepEqual([claimed.id, claimed.state, claimed.workerId], [waiting[0].id, 'running', 'w1']);
      assert.deepEqual(await b.claimWaitingTrial(study.id, 'w1'), claimed, 'the lost acknowledgement\'s retry: the same trial');
      assert.deepEqual((await a.trials(study.id, ['waiting'])).map((t) => t.id), [waiting[1].id], 'the other still waits');
      assert.equal((await b.claimWaitingTrial(study.id, 'w2'))?.id, waiting[1].id);
      assert.equal(await a.claimWaitingTrial(study.id, 'w3'), null);
      // rules for a worker holding several trials (a tune worker never does): a trial it has heartbeated was not just claimed,
      await sleep(5);
      assert.equal(await a.heartbeat(claimed.id, 'w1'), true);
      const next = await a.enqueueTrial(study.id, { lr: 0.3 });
      await sleep(5);
      assert.equal((await b.claimWaitingTrial(study.id, 'w1'))?.id, next.id);
      // a trial it created running was never waiting,
      const created = (await a.createTrial(study.id, { lr: 0.4 }, 'w5'))!;
      const fifth = await a.enqueueTrial(study.id, { lr: 0.5 });
      await sleep(5);
      assert.equal((await b.claimWaitingTrial(study.id, 'w5'))?.id, fifth.id, `not trial ${created.id}`);
      // and a promoted (paused, claimed) trial keeps its first start: its heartbeat is later
      assert.equal(await a.pauseTrial(next.id, 'w1', 0.3), true);
      await sleep(5);
      assert.equal((await a.claimPausedTrial(next.id, 'w6'))?.workerId, 'w6');
      assert.equal(await b.claimWaitingTrial(study.id, 'w6'), null);
    });

    it('claimPausedTrial made again by the same worker returns the trial it claimed; another worker still gets nothing', async () => {
      const study = await a.createStudy(spec());
      const trial = (await a.createTrial(study.id, { lr: 0.1 }, 'w1'))!;
      await a.reportIntermediate(trial.id, 1, 0.4);
      assert.equal(await a.pauseTrial(trial.id, 'w1', 0.4), true);
      const claimed = (await a.claimPausedTrial(trial.id, 'w2'))!;
      assert.deepEqual([claimed.state, claimed.workerId, claimed.intermediate], ['running', 'w2', [{ step: 1, value: 0.4 }]]);
      assert.deepEqual(await b.claimPausedTrial(trial.id, 'w2'), claimed, 'the lost acknowledgement\'s retry: the same trial, not null');
      assert.equal(await b.claimPausedTrial(trial.id, 'w3'), null);
      assert.equal(await a.claimPausedTrial(trial.id, 'w1'), null, 'the worker that paused it does not hold it');
      assert.equal(await b.finishTrial(trial.id, 'w2', 'pruned', 0.4), true);
      assert.equal(await a.claimPausedTrial(trial.id, 'w2'), null, 'finished: nothing to claim or hold');
    });

    it('prunes a paused trial in one step (the study\'s end): its paused value kept, finished by the pruning worker, once', async () => {
      const study = await a.createStudy(spec());
      const trial = (await a.createTrial(study.id, { lr: 0.1 }, 'w1'))!;
      await a.reportIntermediate(trial.id, 1, 0.4);
      const running = (await b.createTrial(study.id, { lr: 0.2 }, 'w2'))!;
      assert.equal(await b.prunePausedTrial(trial.id, 'w3'), null, 'running: not paused');
      assert.equal(await a.pauseTrial(trial.id, 'w1', 0.4), true);
      const pruned = await Promise.all([a.prunePausedTrial(trial.id, 'w3'), b.prunePausedTrial(trial.id, 'w4')]);
      const done = pruned.filter((p) => p !== null);
      assert.equal(done.length, 1, 'two pruners, one prune');
      assert.deepEqual([done[0].id, done[0].state, done[0].value, done[0].intermediate, done[0].error], [trial.id, 'pruned', 0.4, [{ step: 1, value: 0.4 }], null]);
      assert.ok(['w3', 'w4'].includes(done[0].workerId!));
      assert.ok(done[0].finishedAt !== null && done[0].finishedAt >= done[0].startedAt!);
      assert.deepEqual(await b.trial(trial.id), done[0]);
      assert.equal(await a.claimPausedTrial(trial.id, 'w5'), null, 'pruned: nothing to promote');
      for (const id of [running.id, 987_654]) assert.equal(await a.prunePausedTrial(id, 'w3'), null);
      assert.equal((await a.trial(running.id))!.state, 'running');
    });

    it('finishTrial, pauseTrial and a retry\'s enqueueTrial made again by the same worker give what the first call did', async () => {
      const study = await a.createStudy(spec());
      const trial = (await a.createTrial(study.id, { lr: 0.1 }, 'w1'))!;
      await a.reportIntermediate(trial.id, 1, 0.4);
      assert.equal(await a.pauseTrial(trial.id, 'w1', 0.4), true);
      const paused = (await a.trial(trial.id))!;
      assert.equal(await b.pauseTrial(trial.id, 'w1', 0.4), true, 'the lost acknowledgement\'s retry: paused, as the first call said');
      assert.deepEqual(await a.trial(trial.id), paused, 'and nothing changed');
      assert.equal(await b.pauseTrial(trial.id, 'w1', 0.5), false, 'another value is another pause: refused');
      // promoted and paused again by another worker with the same value: the first pauser's call made again is refused
      assert.equal((await a.claimPausedTrial(trial.id, 'w4'))?.workerId, 'w4');
      assert.equal(await a.pauseTrial(trial.id, 'w4', 0.4), true);
      assert.equal(await b.pauseTrial(trial.id, 'w1', 0.4), false, 'w4 paused it last');
      // finished: true again for the same state, value and error by the same worker, its first finish time kept
      assert.equal((await a.claimPausedTrial(trial.id, 'w2'))?.workerId, 'w2');
      await sleep(5);
      assert.equal(await a.finishTrial(trial.id, 'w2', 'failed', null, 'interrupted (SIGTERM)'), true);
      const failed = (await a.trial(trial.id))!;
      await sleep(5);
      assert.equal(await b.finishTrial(trial.id, 'w2', 'failed', null, 'interrupted (SIGTERM)'), true);
      assert.deepEqual(await a.trial(trial.id), failed, 'the finish time and everything else as the first call left them');
      for (const [worker, state, value, error] of [['w1', 'failed', null, 'interrupted (SIGTERM)'], ['w2', 'completed', null, 'interrupted (SIGTERM)'],
        ['w2', 'failed', 0.4, 'interrupted (SIGTERM)'], ['w2', 'failed', null, 'another error'], ['w2', 'failed', null, undefined]] as const) {
        assert.equal(await b.finishTrial(trial.id, worker, state, value, error), false, `${worker} ${state} ${value} ${error}`);
      }
      assert.deepEqual(await a.trial(trial.id), failed);
      // its retry enqueued twice is one trial; another trial's retry is another
      const retry = await a.enqueueTrial(study.id, trial.params, trial.id);
      assert.deepEqual(await b.enqueueTrial(study.id, trial.params, trial.id), retry);
      const completed = (await a.createTrial(study.id, { lr: 0.2 }, 'w3'))!;
      assert.equal(await a.finishTrial(completed.id, 'w3', 'completed', 0.7), true);
      assert.equal(await b.finishTrial(completed.id, 'w3', 'completed', 0.7), true);
      assert.equal(await b.finishTrial(completed.id, 'w3', 'completed', 0.71), false);
      const other = await a.enqueueTrial(study.id, { lr: 0.2 }, completed.id);
      assert.notEqual(other.id, retry.id);
      const plain = await Promise.all([a.enqueueTrial(study.id, { lr: 0.3 }), b.enqueueTrial(study.id, { lr: 0.3 })]);
      assert.notEqual(plain[0].id, plain[1].id, 'without retryOf every call enqueues');
      assert.deepEqual((await a.trials(study.id, ['waiting'])).map((t) => [t.retryOf, t.params]),
        [[trial.id, { lr: 0.1 }], [completed.id, { lr: 0.2 }], [null, { lr: 0.3 }], [null, { lr: 0.3 }]]);
    });
  });
}
