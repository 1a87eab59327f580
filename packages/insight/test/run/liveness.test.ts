// Telling a crashed run from a live one: run.json says 'running', but the process that wrote it is gone from this
// host, or its heartbeat is older than STALE_SECONDS; the other way round, the live process that holds a run (which
// a resume refuses). The tracker's summary shows a crashed run as 'crashed', and the index's fingerprint changes
// when a run crashes, though no file does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { hasCrashed, liveProcess, processExists, STALE_SECONDS } from '../../src/run/liveness';
import { RunDir, type RunInfo } from '../../src/run/run_dir';
import { runFingerprint, summarizeRun } from '../../src/track/run_summary';

/** The pid of a process that has exited (a child that ran `true`). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  assert.ok(child.pid && !processExists(child.pid), 'the child is gone');
  return child.pid;
}

const now = Date.parse('2026-01-01T12:00:00.000Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();
const info = (fields: Partial<RunInfo>): RunInfo =>
  ({ id: 'x', status: 'running', createdAt: ago(3600), updatedAt: ago(3600), pid: process.pid, host: os.hostname(), heartbeatAt: ago(5), ...fields });

describe('hasCrashed', () => {
  it('a live process with a fresh heartbeat is running; a vanished pid on this host has crashed at once', () => {
    assert.equal(hasCrashed(info({}), now), false);
    assert.equal(hasCrashed(info({ pid: deadPid() }), now), true);
  });

  it(`a heartbeat older than ${STALE_SECONDS} s has crashed wherever it ran; another host is judged by the heartbeat alone`, () => {
    assert.equal(hasCrashed(info({ heartbeatAt: ago(STALE_SECONDS + 1) }), now), true, 'pid alive but silent: reused or hung');
    assert.equal(hasCrashed(info({ host: 'elsewhere', pid: deadPid(), heartbeatAt: ago(60) }), now), false);
    assert.equal(hasCrashed(info({ host: 'elsewhere', heartbeatAt: ago(STALE_SECONDS + 1) }), now), true);
  });

  it('only running runs crash; runs without a heartbeat (older runs) are never called crashed', () => {
    for (const status of ['completed', 'failed', 'interrupted'] as const) assert.equal(hasCrashed(info({ status, pid: deadPid() }), now), false);
    assert.equal(hasCrashed(info({ pid: deadPid(), heartbeatAt: undefined }), now), false);
  });
});

describe('liveProcess', () => {
  it('the pid of a running run whose process is alive on this host with a fresh heartbeat; null otherwise', () => {
    assert.equal(liveProcess(info({}), now), process.pid);
    assert.equal(liveProcess(info({ pid: deadPid() }), now), null, 'crashed');
    assert.equal(liveProcess(info({ heartbeatAt: ago(STALE_SECONDS + 1) }), now), null, 'a stale heartbeat: the pid was reused');
    assert.equal(liveProcess(info({ host: 'elsewhere' }), now), null, 'another host: its pids are not ours to check');
    for (const status of ['completed', 'failed', 'interrupted'] as const) assert.equal(liveProcess(info({ status }), now), null);
    assert.equal(liveProcess(info({ pid: undefined, host: undefined, heartbeatAt: undefined }), now), null, 'written before the heartbeat');
  });
});

describe('the tracker sees crashed and interrupted runs', () => {
  it('summarizeRun: running with a dead process → crashed (with what is known); interrupted stays interrupted', () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-liveness-'));
    const run = RunDir.create(runsDir, { epochs: 3 });
    run.heartbeat({ pid: process.pid, host: os.hostname() });
    const live = runFingerprint(run.dir);
    assert.equal(summarizeRun(run.dir).status, 'running');

    const pid = deadPid();
    const beat = run.readInfo().heartbeatAt!;
    fs.writeFileSync(run.runJson, JSON.stringify({ ...run.readInfo(), pid }));
    const summary = summarizeRun(run.dir);
    assert.equal(summary.status, 'crashed');
    assert.equal(summary.error, `The training process (pid ${pid} on ${os.hostname()}) ended without a word; last heartbeat ${beat}.`);
    assert.ok(!live.endsWith('|crashed'));
    assert.ok(runFingerprint(run.dir).endsWith('|crashed'), 'the index re-reads a run that crashed');

    run.setStatus('interrupted', { error: 'Training stops at SIGINT ...' });
    const interrupted = summarizeRun(run.dir);
    assert.deepEqual([interrupted.status, interrupted.error], ['interrupted', 'Training stops at SIGINT ...']);
    assert.ok(!runFingerprint(run.dir).endsWith('|crashed'));
    fs.rmSync(runsDir, { recursive: true, force: true });
  });
});
