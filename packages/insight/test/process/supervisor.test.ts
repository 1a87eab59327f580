// The generic worker supervisor with a tiny worker script: ranks through env, readiness, graceful stop (SIGTERM),
// restart of a crashed worker with its rank, giving up after too many crashes, fail-fast without restarts, and
// SIGKILL for a worker that ignores SIGTERM.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { Supervisor, type SupervisorOptions } from '../../src/process/supervisor';

const WORKER = path.join(__dirname, 'tiny_worker.ts');

function start(mode: string, options: Partial<SupervisorOptions> = {}, extraEnv: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-supervisor-'));
  const lines: string[] = [];
  const log = { info: (_: object, msg: string) => lines.push(msg), error: (_: object, msg: string) => lines.push(msg) };
  const supervisor = Supervisor.start({
    workers: 2, log, exec: WORKER, restartDelayMs: 50, stopOnSignal: false,
    env: (rank) => ({ RANK: String(rank), WORKER_DIR: dir, WORKER_MODE: mode, ...extraEnv }), ...options,
  });
  const marks = (prefix: string) => fs.readdirSync(dir).filter((name) => name.startsWith(prefix)).sort();
  return { supervisor, lines, marks };
}

describe('Supervisor', () => {
  it('starts N ranked workers, tells when all are ready, passes their messages on, and stops them gracefully', async () => {
    const hello: unknown[] = [];
    const { supervisor, lines, marks } = start('serve', { onMessage: (_, message) => hello.push(message) });
    assert.equal(await supervisor.ready, true);
    assert.deepEqual(supervisor.workers().map((w) => supervisor.rankOf(w)).sort(), [0, 1]);
    assert.equal(await supervisor.stop(), 0);
    assert.equal(await supervisor.done, 0);
    assert.deepEqual(marks('stopped-'), ['stopped-0', 'stopped-1'], 'each worker received SIGTERM');
    assert.deepEqual(hello.map((m) => (m as { rank: string }).rank).sort(), ['0', '1'], 'readiness is not passed on, other messages are');
    assert.deepEqual(lines, ['starting workers', 'workers ready']);
  });

  it('restarts a crashed worker with its rank', async () => {
    const { supervisor, lines, marks } = start('crash-once');
    assert.equal(await supervisor.ready, true);
    assert.equal(marks('started-0-').length, 2);
    assert.equal(marks('started-1-').length, 2);
    assert.equal(lines.filter((l) => l === 'worker exited unexpectedly').length, 2);
    assert.equal(await supervisor.stop(), 0);
  });

  it('refuses a worker count that is not a whole number >= 1, in the house format', () => {
    const log = { info: () => undefined, error: () => undefined };
    for (const workers of [0, 1.5]) {
      assert.throws(() => Supervisor.start({ workers, log }),
        { code: 'INSIGHT_E_CONFIG', message: `A supervisor needs a whole number of workers, at least 1. Received: workers=${workers}. Pass workers: 1 or more.` });
    }
  });

  it('gives up with status 1 when workers keep crashing', async () => {
    const { supervisor, lines } = start('crash', { maxCrashes: 3 });
    assert.equal(await supervisor.done, 1);
    assert.equal(await supervisor.ready, false);
    assert.ok(lines.includes('workers keep crashing (3 in a minute); stopping'));
  });

  it('without restarts: workers that finish end it with 0; a failing one stops the others with its code', async () => {
    assert.equal(await start('finish', { restart: false }).supervisor.done, 0);
    const failing = start('finish', { restart: false, workers: 3 }, { EXIT_1: '7' });
    assert.equal(await failing.supervisor.done, 7);
    assert.ok(failing.lines.includes('worker failed; stopping the others'));
  });

  it('kills a worker that ignores SIGTERM after killAfterMs', async () => {
    const { supervisor } = start('stubborn', { workers: 1, killAfterMs: 200 });
    assert.equal(await supervisor.ready, true);
    const begun = Date.now();
    assert.equal(await supervisor.stop(), 0);
    assert.ok(Date.now() - begun >= 150);
  });

  it('checks its worker count', () => {
    assert.throws(() => Supervisor.start({ workers: 0, log: { info() {}, error() {} } }), /at least 1\. Received: workers=0\./);
  });
});
