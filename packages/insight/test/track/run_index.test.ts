// The run index (index.sqlite): built from run directories, refreshed by mtime/size fingerprints (only changed
// runs re-read, deleted runs dropped), rebuilt when deleted or corrupt; filters, sorts, tags and run lookup.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import { RUNS_INDEX_FILE } from '../../src/run/run_dir';
import { RunIndex } from '../../src/track/run_index';
import { parseCondition } from '../../src/track/run_query';
import { updateTags } from '../../src/track/run_tags';
import { appendLine, epochRecord, tempRunsDir, writeRun } from './fixtures';

let runsDir: string;
const ids = (runs: { id: string }[]) => runs.map((r) => r.id);
const where = (...conditions: string[]) => conditions.map(parseCondition);

before(async () => {
  runsDir = tempRunsDir('insight-index-');
  await writeRun(runsDir, { id: 'r1-adam', config: { optimizer: 'adam', lr: 0.001, augment: ['crop', 'flip'] }, epochs: 4, ceiling: 0.6, createdAt: '2026-01-01T00:00:00.000Z', tags: ['baseline'] });
  await writeRun(runsDir, { id: 'r2-adamw', config: { optimizer: 'adamw', lr: 0.003, weightDecay: 0.05 }, epochs: 4, ceiling: 0.8, createdAt: '2026-01-02T00:00:00.000Z', report: true });
  await writeRun(runsDir, { id: 'r3-sgd', config: { optimizer: 'sgd', lr: 0.1, schedule: { name: 'cosine', warmup: 1 } }, epochs: 2, ceiling: 0.7, status: 'running', createdAt: '2026-01-03T00:00:00.000Z' });
  fs.mkdirSync(path.join(runsDir, 'not-a-run'));
  fs.mkdirSync(path.join(runsDir, '.insight-tmp-x'));
});

describe('RunIndex', () => {
  it('indexes every run directory (and nothing else) into index.sqlite, newest first', () => {
    const index = RunIndex.open(runsDir);
    try {
      assert.equal(index.file, path.join(runsDir, RUNS_INDEX_FILE));
      assert.ok(fs.existsSync(index.file!));
      assert.deepEqual(ids(index.list()), ['r3-sgd', 'r2-adamw', 'r1-adam']);
      const r2 = index.get('r2-adamw')!;
      assert.equal(r2.status, 'completed');
      assert.equal(r2.epochs, 4);
      assert.equal(r2.params.weightDecay, 0.05);
      assert.equal(r2.final.report_accuracy, 0.8);
      assert.ok(r2.best.val_accuracy > index.get('r1-adam')!.best.val_accuracy);
      assert.equal(index.get('r1-adam')!.params.augment, 'crop,flip');
      assert.equal(index.get('r3-sgd')!.params['schedule.warmup'], 1, 'nested config flattened');
      assert.deepEqual(index.get('r1-adam')!.tags, ['baseline']);
      const keys = index.keys();
      assert.ok(keys.params.includes('optimizer') && keys.params.includes('schedule.name'));
      assert.ok(keys.metrics.includes('val_accuracy') && keys.metrics.includes('report_accuracy'));
    } finally {
      index.close();
    }
  });

  it('filters by hyperparameter (text and number), metric, column and tag', () => {
    const index = RunIndex.open(runsDir);
    try {
      assert.deepEqual(ids(index.list({ where: where('optimizer=adamw') })), ['r2-adamw']);
      assert.deepEqual(ids(index.list({ where: where('optimizer!=adamw') })), ['r3-sgd', 'r1-adam']);
      assert.deepEqual(ids(index.list({ where: where('lr=1e-3') })), ['r1-adam'], '1e-3 equals 0.001');
      assert.deepEqual(ids(index.list({ where: where('lr>=0.003') })), ['r3-sgd', 'r2-adamw']);
      assert.deepEqual(ids(index.list({ where: where('optimizer~adam') })), ['r2-adamw', 'r1-adam']);
      assert.deepEqual(ids(index.list({ where: where('val_accuracy>0.55', 'lr<0.05') })), ['r2-adamw']);
      assert.deepEqual(ids(index.list({ where: where('status=running') })), ['r3-sgd']);
      assert.deepEqual(ids(index.list({ where: where('epochs<3') })), ['r3-sgd']);
      assert.deepEqual(ids(index.list({ where: where('augment=crop,flip') })), ['r1-adam']);
      assert.deepEqual(ids(index.list({ tags: ['baseline'] })), ['r1-adam']);
      assert.deepEqual(ids(index.list({ where: where('weightDecay>0') })), ['r2-adamw'], 'runs without the key do not match');
    } finally {
      index.close();
    }
  });

  it('sorts metrics best first (accuracy descending, loss ascending), params ascending; --reverse flips', () => {
    const index = RunIndex.open(runsDir);
    try {
      // Best val_accuracy: r2 0.69 (4 epochs towards 0.8), r1 0.52 (4 towards 0.6), r3 0.44 (2 towards 0.7).
      assert.deepEqual(ids(index.list({ sort: 'val_accuracy' })), ['r2-adamw', 'r1-adam', 'r3-sgd']);
      assert.deepEqual(ids(index.list({ sort: 'val_accuracy', reverse: true })), ['r3-sgd', 'r1-adam', 'r2-adamw']);
      // r1 and r2 tie on val_loss (same curve, 4 epochs): ties go newest first.
      assert.equal(index.get('r1-adam')!.best.val_loss, index.get('r2-adamw')!.best.val_loss);
      assert.deepEqual(ids(index.list({ sort: 'val_loss' })), ['r2-adamw', 'r1-adam', 'r3-sgd']);
      assert.deepEqual(ids(index.list({ sort: 'lr' })), ['r1-adam', 'r2-adamw', 'r3-sgd']);
      assert.deepEqual(ids(index.list({ sort: 'optimizer' })), ['r1-adam', 'r2-adamw', 'r3-sgd']);
      assert.deepEqual(ids(index.list({ sort: 'weightDecay' })), ['r2-adamw', 'r3-sgd', 'r1-adam'], 'runs without the key go last');
      assert.deepEqual(ids(index.list({ sort: 'report_accuracy' })).slice(0, 1), ['r2-adamw']);
      assert.deepEqual(ids(index.list({ sort: 'created', limit: 2 })), ['r3-sgd', 'r2-adamw']);
    } finally {
      index.close();
    }
  });

  it('rejects unknown keys and malformed filters with INSIGHT_E_QUERY, listing what is valid', () => {
    const index = RunIndex.open(runsDir);
    try {
      assert.throws(() => index.list({ where: where('optimiser=adam') }), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_QUERY' &&
        /^A --where key must be a run column, a metric or a hyperparameter of some run\. Received: where="optimiser"\. Valid keys here: id, name, kind, status, created, updated, epochs, steps, accuracy, .*optimizer/.test(e.message));
      assert.throws(() => index.list({ sort: 'nope' }), /A --sort key must be .* Received: sort="nope"/);
      assert.throws(() => index.list({ where: where('val_accuracy>high') }), /A filter on val_accuracy compares numbers .* Received: where="val_accuracy>high"/);
      assert.throws(() => parseCondition('optimizer'), (e: unknown) => e instanceof InsightError && e.message ===
        'A --where filter must be <key><operator><value> with one of != >= <= = > < ~. Received: where="optimizer". Pass e.g. --where optimizer=adamw or --where "val_accuracy>0.7" (quote < and > in the shell).');
    } finally {
      index.close();
    }
  });

  it('refresh re-reads only runs whose files changed, picks up new runs and drops deleted ones', async () => {
    const dir = tempRunsDir('insight-refresh-');
    const a = await writeRun(dir, { id: 'a', epochs: 1 });
    await writeRun(dir, { id: 'b', epochs: 1 });
    const index = RunIndex.open(dir);
    try {
      assert.deepEqual(index.refresh(), { added: [], updated: [], removed: [] }, 'nothing changed');
      appendLine(a, epochRecord(2));
      await writeRun(dir, { id: 'c', epochs: 1 });
      fs.rmSync(path.join(dir, 'b'), { recursive: true });
      assert.deepEqual(index.refresh(), { added: ['c'], updated: ['a'], removed: ['b'] });
      assert.equal(index.get('a')!.epochs, 2);
      assert.equal(index.get('b'), null);
    } finally {
      index.close();
    }
  });

  it('a deleted index is rebuilt; a corrupt one is replaced with a warning; tags survive both (they live in tags.json)', async () => {
    const dir = tempRunsDir('insight-rebuild-');
    const a = await writeRun(dir, { id: 'a' });
    updateTags(a, ['keep', 'v2']);
    let index = RunIndex.open(dir);
    index.close();
    fs.rmSync(path.join(dir, RUNS_INDEX_FILE));
    index = RunIndex.open(dir);
    assert.deepEqual(index.get('a')!.tags, ['keep', 'v2']);
    index.close();
    for (const suffix of ['-wal', '-shm']) fs.rmSync(path.join(dir, `${RUNS_INDEX_FILE}${suffix}`), { force: true });
    fs.writeFileSync(path.join(dir, RUNS_INDEX_FILE), 'this is not a database, just text that is long enough to have a header '.repeat(20));
    const warnings: string[] = [];
    index = RunIndex.open(dir, { warn: (m) => warnings.push(m) });
    try {
      assert.deepEqual(ids(index.list()), ['a']);
      assert.deepEqual(index.get('a')!.tags, ['keep', 'v2']);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /index\.sqlite was not a valid SQLite database; rebuilt it from the run directories\./);
    } finally {
      index.close();
    }
  });

  it('a run directory missing files or with bad JSON is listed with its problems, never thrown', async () => {
    const dir = tempRunsDir('insight-broken-');
    const broken = await writeRun(dir, { id: 'broken' });
    fs.rmSync(path.join(broken, 'run.json'));
    fs.writeFileSync(path.join(broken, 'config.json'), '{"optimizer": ');
    appendLine(broken, '{"type":"epoch","epoch":4,"val_acc\n');
    const empty = path.join(dir, 'only-metrics');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'metrics.jsonl'), '');
    const completed = await writeRun(dir, { id: 'no-metrics' });
    fs.rmSync(path.join(completed, 'metrics.jsonl'));
    const index = RunIndex.open(dir);
    try {
      const run = index.get('broken')!;
      assert.equal(run.status, 'unknown');
      assert.equal(run.epochs, 3, 'the intact records still count');
      assert.deepEqual(run.problems, ['run.json is missing', 'config.json is not a valid JSON object',
        'metrics.jsonl line 4 is not valid JSON and was skipped: {"type":"epoch","epoch":4,"val_acc']);
      assert.deepEqual(index.get('only-metrics')!.problems, ['run.json is missing', 'config.json is missing']);
      assert.deepEqual(index.get('no-metrics')!.problems, ['metrics.jsonl is missing']);
    } finally {
      index.close();
    }
  });

  it('resolves an id, a unique prefix or a run path; ambiguity and absence are INSIGHT_E_RUN_NOT_FOUND', () => {
    const index = RunIndex.open(runsDir);
    try {
      assert.equal(index.resolve('r2-adamw').id, 'r2-adamw');
      assert.equal(index.resolve('r3').id, 'r3-sgd');
      assert.equal(index.resolve(path.join(runsDir, 'r1-adam/')).id, 'r1-adam');
      assert.throws(() => index.resolve('r'), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_RUN_NOT_FOUND' &&
        e.message === 'A run prefix must match exactly one run. Received: run="r", matches=["r1-adam","r2-adamw","r3-sgd"]. Give more characters of the run id.');
      assert.throws(() => index.resolve('zzz'), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_RUN_NOT_FOUND' &&
        e.message.startsWith('A run must be a run id (or unique prefix) in the runs directory. Received: run="zzz"') && e.message.includes('newest: r3-sgd, r2-adamw, r1-adam'));
    } finally {
      index.close();
    }
  });

  it('indexes each run\'s name and kind: filter and sort on them, name a run by its name; an index of the old schema is rebuilt', () => {
    const dir = tempRunsDir('insight-index-names-');
    return (async () => {
      await writeRun(dir, { id: 'a-train', kind: 'train', name: 'baseline', createdAt: '2026-03-01T00:00:00.000Z' });
      await writeRun(dir, { id: 'b-finetune', kind: 'finetune', name: 'lora', config: { method: 'lora' }, createdAt: '2026-03-02T00:00:00.000Z' });
      await writeRun(dir, { id: 'c-finetune', kind: 'finetune', createdAt: '2026-03-03T00:00:00.000Z' });
      await writeRun(dir, { id: 'd-train', kind: 'train', name: 'lora', createdAt: '2026-03-04T00:00:00.000Z' });
      // An index written by the previous schema (no name or kind columns) is dropped and rebuilt.
      const old = new (await import('better-sqlite3')).default(path.join(dir, RUNS_INDEX_FILE));
      old.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema', '1'); CREATE TABLE runs (id TEXT PRIMARY KEY)");
      old.close();
      const index = RunIndex.open(dir);
      try {
        assert.deepEqual([index.get('a-train')!.name, index.get('a-train')!.kind], ['baseline', 'train']);
        assert.deepEqual([index.get('c-finetune')!.name, index.get('c-finetune')!.kind], [null, 'finetune']);
        assert.deepEqual(ids(index.list({ where: where('kind=finetune') })), ['c-finetune', 'b-finetune']);
        assert.deepEqual(ids(index.list({ where: where('name=baseline') })), ['a-train']);
        assert.deepEqual(ids(index.list({ where: where('name~LOR') })), ['d-train', 'b-finetune']);
        assert.deepEqual(ids(index.list({ where: where('name!=lora') })), ['c-finetune', 'a-train'], 'a run without a name is not named lora');
        assert.deepEqual(ids(index.list({ sort: 'name' })), ['a-train', 'd-train', 'b-finetune', 'c-finetune'], 'names ascending, then newest first; unnamed last');
        assert.equal(index.resolve('baseline').id, 'a-train');
        assert.throws(() => index.resolve('lora'), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_RUN_NOT_FOUND' &&
          e.message === 'A run name must belong to exactly one run to name it. Received: run="lora", runs=["d-train","b-finetune"]. Give the run id (or a unique prefix) instead.');
        assert.equal(index.resolve('b-fine').id, 'b-finetune', 'id prefixes still work');
      } finally {
        index.close();
      }
    })();
  });

  it('a missing runs directory is INSIGHT_E_RUNS_DIR', () => {
    assert.throws(() => RunIndex.open('/nonexistent/runs'), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_RUNS_DIR' &&
      e.message === 'The runs directory must be an existing directory. Received: runsDir="/nonexistent/runs", exists=false. ' +
        'Pass the directory `insight train` wrote runs into with --runs-dir (default: runs, relative to the working directory).');
  });
});
