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
    assert.match(header, /^id +status +created +epochs +optimizer +lr +val_accuracy +val_loss +accuracy +loss +tags$/);
    assert.deepEqual(rows(stdout).map((r) => r.slice(0, 20)), ['20260103-000000-cccc', '20260102-000000-bbbb', '20260101-000000-aaaa']);
    assert.match(rows(stdout)[2], /^20260101-000000-aaaa +completed +2026-01-01 00:00 +4\/4 +adam +0\.001 +0\.5188 +0\.6017 +0\.5388 +0\.5272 +baseline$/);
    assert.match(rows(stdout)[0], / running .* 2\/2 +sgd +0\.1 /);
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
    assert.match(limited.stdout, /^id +status +created +epochs +lr +final\.val_loss +report_accuracy +tags\n/);
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
    assert.match(missing.stderr, /^Error INSIGHT_E_RUN_NOT_FOUND: A run must be a run id \(or unique prefix\) in the runs directory\. Received: run="nope", runsDir=".*"\. Run `insight runs --runs-dir .*` to list them \(newest: 20260103-000000-cccc, 20260102-000000-bbbb, 20260101-000000-aaaa\)\.\n$/);
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
