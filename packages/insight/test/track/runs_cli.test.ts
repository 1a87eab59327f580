// `insight runs`, `insight runs compare`, `insight runs tag` through the CLI's main(): output, filters, sorting,
// and every error's code, exit status and message.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { runMain } from '../cli/io';
import { tempRunsDir, writeRun } from './fixtures';

let runsDir: string;

before(async () => {
  runsDir = tempRunsDir('insight-runs-cli-');
  await writeRun(runsDir, { id: '20260101-000000-aaaa', config: { optimizer: 'adam', lr: 0.001 }, epochs: 4, ceiling: 0.6, tags: ['baseline'] });
  await writeRun(runsDir, { id: '20260102-000000-bbbb', config: { optimizer: 'adamw', lr: 0.003 }, epochs: 4, ceiling: 0.8, createdAt: '2026-01-02T00:00:00.000Z', report: true });
  await writeRun(runsDir, { id: '20260103-000000-cccc', config: { optimizer: 'sgd', lr: 0.1 }, epochs: 2, ceiling: 0.7, status: 'running', createdAt: '2026-01-03T00:00:00.000Z' });
});

const rows = (stdout: string) => stdout.split('\n').filter((line) => /^\d{8}-/.test(line));

describe('insight runs', () => {
  it('lists runs newest first with the varying hyperparameters and headline metrics', async () => {
    const { status, stdout, stderr } = await runMain(['runs', '--runs-dir', runsDir]);
    assert.equal(status, 0, stderr);
    assert.equal(stderr, '');
    const [header] = stdout.split('\n');
    assert.match(header, /^id +status +epochs +val_accuracy +val_loss +accuracy +loss +optimizer +lr +created +tags$/, 'metrics first');
    assert.deepEqual(rows(stdout).map((r) => r.slice(0, 20)), ['20260103-000000-cccc', '20260102-000000-bbbb', '20260101-000000-aaaa']);
    assert.match(rows(stdout)[2], /^20260101-000000-aaaa +completed +4\/4 +0\.5188 +0\.6017 +0\.5388 +0\.5272 +adam +0\.001 +2026-01-01 00:00 +baseline$/);
    assert.match(rows(stdout)[0], / running +2\/2 .* sgd +0\.1 +2026-01-03 00:00/);
    assert.match(stdout, /\n3 of 3 runs in .*insight-runs-cli-/);
  });

  it('sorts by a metric best first, filters with --where and --tag, limits, and picks columns', async () => {
    const sorted = await runMain(['runs', '--runs-dir', runsDir, '--sort', 'val_accuracy']);
    assert.deepEqual(rows(sorted.stdout).map((r) => r.slice(16, 20)), ['bbbb', 'aaaa', 'cccc']);
    const reversed = await runMain(['runs', '--runs-dir', runsDir, '--sort', 'val_accuracy', '--reverse']);
    assert.deepEqual(rows(reversed.stdout).map((r) => r.slice(16, 20)), ['cccc', 'aaaa', 'bbbb']);
    const filtered = await runMain(['runs', '--runs-dir', runsDir, '--where', 'optimizer=adamw']);
    assert.deepEqual(rows(filtered.stdout).map((r) => r.slice(16, 20)), ['bbbb']);
    assert.match(filtered.stdout, /1 of 3 runs/);
    const both = await runMain(['runs', '--runs-dir', runsDir, '--where', 'lr<0.05', '--where', 'val_accuracy>0.5', '--sort', 'lr']);
    assert.deepEqual(rows(both.stdout).map((r) => r.slice(16, 20)), ['aaaa', 'bbbb']);
    const tagged = await runMain(['runs', '--runs-dir', runsDir, '--tag', 'baseline']);
    assert.deepEqual(rows(tagged.stdout).map((r) => r.slice(16, 20)), ['aaaa']);
    const limited = await runMain(['runs', '--runs-dir', runsDir, '--limit', '1', '--columns', 'lr,final.val_loss,report_accuracy']);
    assert.match(limited.stdout, /^id +status +epochs +lr +final\.val_loss +report_accuracy +created +tags\n/);
    assert.equal(rows(limited.stdout).length, 1);
    const none = await runMain(['runs', '--runs-dir', runsDir, '--where', 'optimizer=lion']);
    assert.equal(none.stdout, `No runs match (of 3 in ${runsDir}).\n`);
  });

  it('--json prints every run with all params and metrics', async () => {
    const { stdout } = await runMain(['runs', '--runs-dir', runsDir, '--json', '--sort', 'id']);
    const runs = JSON.parse(stdout);
    assert.deepEqual(runs.map((r: { id: string }) => r.id), ['20260101-000000-aaaa', '20260102-000000-bbbb', '20260103-000000-cccc']);
    assert.equal(runs[1].params.optimizer, 'adamw');
    assert.equal(runs[1].final.report_accuracy, 0.8);
  });

  it('says how to start when the runs directory is empty, and warns about broken runs', async () => {
    const empty = tempRunsDir('insight-runs-empty-');
    assert.equal((await runMain(['runs', '--runs-dir', empty])).stdout,
      `No runs in ${empty} yet: train one with \`insight train --runs-dir ${empty}\`.\n`);
    const dir = tempRunsDir('insight-runs-broken-');
    const run = await writeRun(dir, { id: 'x' });
    fs.appendFileSync(path.join(run, 'metrics.jsonl'), 'garbage\n');
    const { status, stdout, stderr } = await runMain(['runs', '--runs-dir', dir]);
    assert.equal(status, 0);
    assert.match(stdout, /^x +completed/m);
    assert.equal(stderr, 'Warning: run x: metrics.jsonl line 4 is not valid JSON and was skipped: garbage\n');
  });
});

describe('insight runs: mixed train and fine-tune runs (complete configs, as the commands write them)', () => {
  let mixed: string;
  before(async () => {
    mixed = tempRunsDir('insight-runs-mixed-');
    await writeRun(mixed, { id: '20260201-000000-t1t1', kind: 'train', name: 'baseline', epochs: 3, ceiling: 0.6 });
    await writeRun(mixed, { id: '20260202-000000-t2t2', kind: 'train', config: { optimizer: 'sgd', lr: 0.1 }, epochs: 3, ceiling: 0.7, createdAt: '2026-02-02T00:00:00.000Z' });
    await writeRun(mixed, { id: '20260203-000000-f1f1', kind: 'finetune', name: 'lora r8', config: { method: 'lora', rank: 8 }, epochs: 2, ceiling: 0.9, createdAt: '2026-02-03T00:00:00.000Z' });
    await writeRun(mixed, { id: '20260204-000000-f2f2', kind: 'finetune', config: { method: 'full' }, epochs: 2, ceiling: 0.8, createdAt: '2026-02-04T00:00:00.000Z' });
    await writeRun(mixed, { id: '20260205-000000-f3f3', kind: 'finetune', config: { method: 'lora' }, epochs: 2, ceiling: 0.85, createdAt: '2026-02-05T00:00:00.000Z' });
  });

  it('shows metrics first, then only the hyperparameters that differ where they apply; names and kinds as columns', async () => {
    const { status, stdout, stderr } = await runMain(['runs', '--runs-dir', mixed]);
    assert.equal(status, 0, stderr);
    const header = stdout.split('\n')[0].trim().split(/ {2,}/);
    assert.deepEqual(header.slice(0, 9), ['id', 'name', 'kind', 'status', 'epochs', 'val_accuracy', 'val_loss', 'accuracy', 'loss']);
    assert.deepEqual(header.slice(-2), ['created', 'tags']);
    const params = header.slice(9, -2);
    assert.ok(params.length <= 8, `a few hyperparameters, not the ~60 keys of both commands: ${params.join(', ')}`);
    for (const key of ['optimizer', 'lr', 'method', 'rank']) assert.ok(params.includes(key), `${key} in ${params.join(', ')}`);
    for (const key of ['beta1', 'momentum', 'adapterBottleneck', 'runsDir', 'base', 'depth']) assert.ok(!params.includes(key), `${key} not shown`);
    const cell = (id: string, column: string) => {
      const line = rows(stdout).find((r) => r.startsWith(id))!;
      const starts = [...header].map((h) => stdout.split('\n')[0].indexOf(h));
      const i = header.indexOf(column);
      return line.slice(starts[i], i + 1 < header.length ? starts[i + 1] : undefined).trim();
    };
    assert.equal(cell('20260203-000000-f1f1', 'name'), 'lora r8');
    assert.equal(cell('20260203-000000-f1f1', 'kind'), 'finetune');
    assert.equal(cell('20260203-000000-f1f1', 'method'), 'lora');
    assert.equal(cell('20260203-000000-f1f1', 'rank'), '8');
    assert.equal(cell('20260204-000000-f2f2', 'rank'), '-', 'a full fine-tune has no LoRA rank');
    assert.equal(cell('20260201-000000-t1t1', 'method'), '-', 'a train run has no method');
    assert.equal(cell('20260202-000000-t2t2', 'name'), '-');
    assert.equal(cell('20260202-000000-t2t2', 'optimizer'), 'sgd');
  });

  it('filters by kind and name, and takes a name wherever a run is named', async () => {
    const kinds = await runMain(['runs', '--runs-dir', mixed, '--where', 'kind=finetune']);
    assert.deepEqual(rows(kinds.stdout).map((r) => r.slice(16, 20)), ['f3f3', 'f2f2', 'f1f1']);
    assert.doesNotMatch(kinds.stdout.split('\n')[0], / kind /, 'no kind column when all runs are of one kind');
    const named = await runMain(['runs', '--runs-dir', mixed, '--where', 'name~lora']);
    assert.deepEqual(rows(named.stdout).map((r) => r.slice(16, 20)), ['f1f1']);
    const unnamed = await runMain(['runs', '--runs-dir', mixed, '--where', 'name!=baseline', '--sort', 'id']);
    assert.deepEqual(rows(unnamed.stdout).map((r) => r.slice(16, 20)), ['t2t2', 'f1f1', 'f2f2', 'f3f3']);
    const compared = await runMain(['runs', 'compare', 'baseline', 'lora r8', '--runs-dir', mixed]);
    assert.equal(compared.status, 0, compared.stderr);
    assert.match(compared.stdout, /^run +id +name +kind +status +epochs\n[- ]+\nA +20260201-000000-t1t1 +baseline +train +completed +3\nB +20260203-000000-f1f1 +lora r8 +finetune +completed +2\n/);
    const diff = compared.stdout.slice(compared.stdout.indexOf('Config differences:'), compared.stdout.indexOf('Metrics:'));
    const diffKeys = diff.split('\n').slice(3).map((l) => l.split(/ +/)[0]).filter(Boolean);
    assert.ok(diffKeys.length <= 8, `a short config diff, only what both runs have: ${diffKeys.join(', ')}`);
    for (const key of ['batchSize', 'lr', 'schedule']) assert.ok(diffKeys.includes(key), `${key} in ${diffKeys.join(', ')}`);
    for (const key of ['beta1', 'rank', 'method', 'adapterBottleneck', 'name']) assert.ok(!diffKeys.includes(key), `${key} not in ${diffKeys.join(', ')}`);
    const loras = await runMain(['runs', 'compare', 'lora r8', '20260205', '20260204', '--runs-dir', mixed]);
    assert.match(loras.stdout, /\nmethod +lora +lora +full\n/);
    assert.match(loras.stdout, /\nrank +8 +4 +-\n/, 'a full fine-tune has no rank');
    const tagged = await runMain(['runs', 'tag', 'baseline', 'reference', '--runs-dir', mixed]);
    assert.equal(tagged.stdout, '20260201-000000-t1t1: reference\n');
  });
});

describe('insight runs compare', () => {
  it('prints the config differences and a metric table', async () => {
    const { status, stdout, stderr } = await runMain(['runs', 'compare', '20260101', '20260102-000000-bbbb', '--runs-dir', runsDir]);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /^run +id +status +epochs\n[- ]+\nA +20260101-000000-aaaa +completed +4\nB +20260102-000000-bbbb +completed +4\n/);
    assert.match(stdout, /Config differences:\nkey +A +B\n[- ]+\nlr +0\.001 +0\.003\noptimizer +adam +adamw\n/);
    assert.match(stdout, /Metrics:\nmetric +A final +A best +B final +B best\n/);
    assert.match(stdout, /\nval_accuracy +0\.5188 +0\.5188 +0\.6917 +0\.6917\n/);
    assert.match(stdout, /\nreport_accuracy +- +- +0\.8000 +-\n/);
  });

  it('says when configs are identical; needs two runs; unknown runs are INSIGHT_E_RUN_NOT_FOUND (exit 7)', async () => {
    const same = await runMain(['runs', 'compare', '20260101', '20260101-000000-aaaa', '--runs-dir', runsDir]);
    assert.match(same.stdout, /\nConfig: identical\.\n/);
    const one = await runMain(['runs', 'compare', '20260101', '--runs-dir', runsDir]);
    assert.equal(one.status, 2);
    assert.equal(one.stderr, 'Error INSIGHT_E_USAGE: `insight runs compare` needs at least two runs. Received: runs=["20260101"]. Pass e.g. `insight runs compare 20261129-0418 20261129-0502`.\n');
    const missing = await runMain(['runs', 'compare', '20260101', 'nope', '--runs-dir', runsDir]);
    assert.equal(missing.status, 7);
    assert.match(missing.stderr, /^Error INSIGHT_E_RUN_NOT_FOUND: A run must be a run id \(or unique prefix\) in the runs directory\. Received: run="nope", runsDir=".*"\. Run `insight runs --runs-dir .*` to list them \(newest: 20260103-000000-cccc, 20260102-000000-bbbb, 20260101-000000-aaaa\); a run's --name names it too\.\n$/);
    const ambiguous = await runMain(['runs', 'compare', '2026', '20260101', '--runs-dir', runsDir]);
    assert.equal(ambiguous.status, 7);
    assert.match(ambiguous.stderr, /A run prefix must match exactly one run\. Received: run="2026", matches=\["20260101-000000-aaaa","20260102-000000-bbbb","20260103-000000-cccc"\]/);
  });
});

describe('insight runs tag', () => {
  it('adds and removes tags (stored in the run directory) and filters by them', async () => {
    const dir = tempRunsDir('insight-runs-tag-');
    await writeRun(dir, { id: '20260105-000000-eeee' });
    const added = await runMain(['runs', 'tag', '20260105', 'best', 'lr-sweep', '--runs-dir', dir]);
    assert.equal(added.stdout, '20260105-000000-eeee: best, lr-sweep\n');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, '20260105-000000-eeee', 'tags.json'), 'utf8')), ['best', 'lr-sweep']);
    assert.equal(rows((await runMain(['runs', '--runs-dir', dir, '--tag', 'lr-sweep'])).stdout).length, 1);
    const removed = await runMain(['runs', 'tag', '20260105', 'best', '--remove', '--runs-dir', dir]);
    assert.equal(removed.stdout, '20260105-000000-eeee: lr-sweep\n');
    const bad = await runMain(['runs', 'tag', '20260105', 'no spaces!', '--runs-dir', dir]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'Error INSIGHT_E_QUERY: A tag must be 1-64 characters: a letter or digit, then letters, digits, _ . : or -. Received: tag="no spaces!". Pass e.g. baseline, best-lr or v2.\n');
  });
});

describe('insight runs: bad input', () => {
  const cases: [string, string[], string, number, RegExp][] = [
    ['missing runs directory', ['runs', '--runs-dir', '/nonexistent/runs'], 'INSIGHT_E_RUNS_DIR', 7,
      /^The runs directory must be an existing directory\. Received: runsDir="\/nonexistent\/runs", exists=false\. Pass the directory `insight train` wrote runs into with --runs-dir/],
    ['malformed --where', ['runs', '--where', 'optimizer'], 'INSIGHT_E_QUERY', 2, /^A --where filter must be <key><operator><value> with one of != >= <= = > < ~\. Received: where="optimizer"\./],
    ['unknown --where key', ['runs', '--where', 'optimiser=adam'], 'INSIGHT_E_QUERY', 2,
      /^A --where key must be a run column, a metric or a hyperparameter of some run\. Received: where="optimiser"\. Valid keys here: .*optimizer/],
    ['unknown --sort key', ['runs', '--sort', 'val_acc'], 'INSIGHT_E_QUERY', 2, /^A --sort key must be .* Received: sort="val_acc"\./],
    ['unknown column', ['runs', '--columns', 'lr,nope'], 'INSIGHT_E_QUERY', 2, /^A --columns key must be .* Received: columns="nope"\./],
    ['bad --limit', ['runs', '--limit', '0'], 'INSIGHT_E_QUERY', 2, /^--limit must be an integer >= 1\. Received: limit="0"\. Pass e\.g\. --limit 20\.$/],
    ['stray argument', ['runs', 'lst'], 'INSIGHT_E_USAGE', 2, /too many arguments for 'runs'.*Run `insight runs --help` for the usage\.$/],
  ];
  for (const [name, argv, code, exit, message] of cases) {
    it(name, async () => {
      const args = argv.includes('--runs-dir') ? argv : [...argv, '--runs-dir', runsDir];
      const { status, stdout, stderr } = await runMain(args);
      assert.equal(status, exit);
      assert.equal(stdout, '');
      const match = /^Error (INSIGHT_E_[A-Z_]+): (.*)\n$/s.exec(stderr);
      assert.ok(match, stderr);
      assert.equal(match[1], code);
      assert.match(match[2], message);
    });
  }
});
