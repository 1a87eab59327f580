// The run directory: creation, status, metrics.jsonl appends, torn lines and truncation for resume; the paths
// of every file of the layout and the probes tracking uses.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import { EVENT_FILE_PREFIX, newRunId, REPORT_FILES, RunDir } from '../../src/run/run_dir';

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

describe('RunDir paths and probes', () => {
  it('names every file of the layout, relative to the run directory', () => {
    const run = RunDir.at(path.join('runs', 'x'));
    const rel = (file: string) => run.relative(file);
    assert.deepEqual([run.runJson, run.configJson, run.metricsJsonl, run.tagsJson, run.predictionsPng, run.predictionsJson].map(rel),
      ['run.json', 'config.json', 'metrics.jsonl', 'tags.json', 'predictions.png', 'predictions.json']);
    assert.deepEqual([run.lastCheckpoint, run.bestCheckpoint, run.modelDir, run.reportDir].map(rel), ['checkpoints/last', 'checkpoints/best', 'model', 'report']);
    assert.deepEqual([run.reportMetricsJson, run.confusionPng, run.forgettingJson].map(rel), ['report/metrics.json', 'report/confusion.png', 'report/forgetting.json']);
    assert.deepEqual(run.trackedFiles.map(rel), ['run.json', 'config.json', 'metrics.jsonl', 'tags.json', 'report/metrics.json']);
    assert.equal(run.id, 'x');
  });

  it('at() checks nothing; looksLikeRun and tryOpen probe without throwing', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-runs-'));
    const dir = path.join(root, 'partial');
    assert.equal(RunDir.at(dir).dir, dir);
    assert.equal(RunDir.looksLikeRun(dir), false);
    assert.equal(RunDir.tryOpen(dir), null);
    fs.mkdirSync(dir);
    fs.writeFileSync(RunDir.at(dir).metricsJsonl, '');
    assert.equal(RunDir.looksLikeRun(dir), true, 'metrics.jsonl alone makes a (broken) run');
    assert.equal(RunDir.tryOpen(dir), null, 'opening needs run.json and config.json');
    const created = RunDir.create(root, { epochs: 1 });
    assert.equal(RunDir.tryOpen(created.dir)?.id, created.id);
    assert.deepEqual(RunDir.tryOpen(created.dir)?.readConfig(), { epochs: 1 });
  });

  it('eventFiles lists TensorBoard files by prefix, and nothing for a missing directory', () => {
    const run = RunDir.create(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-runs-')), {});
    fs.writeFileSync(path.join(run.dir, `${EVENT_FILE_PREFIX}1700000000.box`), '');
    assert.deepEqual(run.eventFiles(), [`${EVENT_FILE_PREFIX}1700000000.box`]);
    assert.deepEqual(RunDir.at(path.join(run.dir, 'gone')).eventFiles(), []);
  });

  it('report file names are the ones eval/report.ts writes', () => {
    assert.deepEqual(Object.values(REPORT_FILES).sort(), ['confusion.png', 'confusion.txt', 'metrics.json', 'per_class.txt', 'reliability.png']);
  });
});
