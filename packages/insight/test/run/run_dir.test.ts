// The run directory: creation, status, metrics.jsonl appends, torn lines and truncation for resume.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import { newRunId, RunDir } from '../../src/run/run_dir';

describe('RunDir', () => {
  it('run ids are a UTC timestamp plus 4 hex digits', () => {
    assert.match(newRunId(new Date('2026-11-29T04:18:12Z')), /^20261129-041812-[0-9a-f]{4}$/);
  });

  it('creates run.json (running) and config.json; status changes are atomic and keep the rest', () => {
    const runs = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-runs-'));
    const run = RunDir.create(runs, { epochs: 3 });
    assert.deepEqual(fs.readdirSync(run.dir).sort(), ['config.json', 'run.json']);
    assert.equal(run.readInfo().status, 'running');
    assert.deepEqual(run.readConfig(), { epochs: 3 });
    run.setStatus('completed', { summary: { accuracy: 0.5 } });
    const info = run.readInfo();
    assert.equal(info.status, 'completed');
    assert.deepEqual(info.summary, { accuracy: 0.5 });
    assert.equal(info.id, path.basename(run.dir));
  });

  it('metrics.jsonl: skips a torn last line; truncation keeps records up to a step', () => {
    const run = RunDir.create(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-runs-')), {});
    run.appendMetrics({ type: 'epoch', epoch: 1, step: 10 });
    run.appendMetrics({ type: 'epoch', epoch: 2, step: 20 });
    fs.appendFileSync(run.metricsJsonl, '{"type":"step","ep');
    assert.deepEqual(run.readMetrics().map((r) => r.step), [10, 20]);
    run.truncateMetrics(10);
    assert.equal(fs.readFileSync(run.metricsJsonl, 'utf8'), '{"type":"epoch","epoch":1,"step":10}\n');
  });

  it('opening something that is not a run is INSIGHT_E_RESUME', () => {
    assert.throws(() => RunDir.open(os.tmpdir()), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_RESUME' &&
      /A run directory must contain run.json and config.json\. Received: run=".*", exists=true\./.test(e.message));
  });
});
