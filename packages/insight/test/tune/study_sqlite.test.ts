// `insight tune` end to end on one machine (SQLite), in this process: a study of 4 trials (random sampler, ASHA)
// whose trials are ordinary runs tagged study:<name> and trial:<n>, whose reported values are the runs' own logged
// metrics, and whose state counts add up to the budget; ASHA pauses trials at its rung, resumes the best from its
// checkpoint (its run then equals one that never paused) and prunes the others at the study's end; `tune show` (text and --json) and `tune list` read it
// back; and the CLI refuses a missing space file, an unknown space key, a study that does not exist and tune's
// flags given to a subcommand that would ignore them.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { openStudyStorage } from '../../src/study/open_storage';
import { train } from '../../src/train/train';
import { tune, type TuneResult } from '../../src/tune/study';
import { runMain } from '../cli/io';
import { baseConfig, runOf, sink, tempDir, writeColourFolder, writeSpace } from './helpers';

const tmp = tempDir('insight-tune-sqlite-');
const runsDir = path.join(tmp, 'runs');
let data: string;
let result: TuneResult;

before(async () => {
  data = await writeColourFolder(path.join(tmp, 'colours'));
});

describe('a SQLite study (random sampler, ASHA)', () => {
  const out = sink();

  before(async () => {
    const space = writeSpace(tmp, 'space.yaml', 'lr: { type: float, low: 1e-4, high: 0.3, log: true }\noptimizer: [adam, sgd]\n');
    result = await tune({ study: 'colours', space, sampler: 'random', pruner: 'asha', trials: 4, seed: 7, baseConfig: baseConfig(data, runsDir) },
      { out, err: out, handleSignals: false });
  });

  it('runs exactly the budget: every trial completed or pruned, counts adding up', () => {
    const { counts, trials, study } = result;
    assert.equal(study.maxTrials, 4);
    assert.equal(trials.length, 4);
    assert.deepEqual(trials.map((t) => t.number), [0, 1, 2, 3]);
    assert.equal(counts.completed + counts.pruned, 4, JSON.stringify(counts));
    assert.equal(counts.failed + counts.running + counts.waiting + counts.paused, 0);
    assert.equal(result.storage, `sqlite:${path.join(runsDir, 'tune.db')}`);
    assert.ok(fs.existsSync(path.join(runsDir, 'tune.db')));
  });

  it('makes every trial an ordinary run, tagged and named, whose logged metric is what the trial reported', () => {
    const dirs = result.trials.map((t) => t.runDir);
    assert.equal(new Set(dirs).size, 4);
    assert.deepEqual(fs.readdirSync(runsDir).filter((e) => e !== 'tune.db' && !e.startsWith('tune.db-')).sort(), dirs.map((d) => path.basename(d!)).sort());
    for (const trial of result.trials) {
      const run = runOf(trial.runDir!);
      assert.deepEqual(run.tags, ['study:colours', `trial:${trial.number}`]);
      assert.equal(run.status, 'completed');
      assert.equal(run.config.name, `colours-${trial.number}`);
      assert.equal(run.config.lr, trial.params.lr);
      assert.equal(run.config.optimizer, trial.params.optimizer);
      assert.deepEqual(trial.intermediate, run.epochs.map((e) => ({ step: e.epoch, value: e.val_accuracy })));
      assert.equal(trial.epochs, run.epochs.length);
      assert.equal(trial.value, run.epochs[run.epochs.length - 1].val_accuracy);
      assert.equal(run.epochs.length === 3, trial.state === 'completed', `trial ${trial.number}: ${trial.state} after ${run.epochs.length} epochs`);
    }
  });

  it('reports the best completed trial and the importance of both parameters', () => {
    const completed = result.trials.filter((t) => t.state === 'completed');
    const bestValue = Math.max(...completed.map((t) => t.value!));
    assert.equal(result.best?.value, bestValue);
    assert.deepEqual(Object.keys(result.importance).sort(), ['lr', 'optimizer']);
    assert.ok(Math.abs(Object.values(result.importance).reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.match(out.text, /Trial 0: lr=[\d.e-]+, optimizer=(adam|sgd)\n/);
    assert.match(out.text, /Trial 3 (completed|paused): val_accuracy \d\.\d{4} after [1-3] epochs?/);
  });

  it('`tune show` prints the trials, counts, best trial and importance; --json has the same summary', async () => {
    const text = await runMain(['tune', 'show', '--study', 'colours', '--runs-dir', runsDir]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^Study colours: maximize val_accuracy, sampler random, pruner asha, 4\/4 trials \(sqlite:.*tune\.db\)\n/);
    assert.match(text.stdout, new RegExp(`completed ${result.counts.completed}, pruned ${result.counts.pruned}, failed 0, running 0, paused 0, waiting 0`));
    assert.match(text.stdout, /\n#\s+state\s+val_accuracy\s+epochs\s+lr\s+optimizer\s+run\n/);
    for (const trial of result.trials) assert.ok(text.stdout.includes(trial.runDir!), `trial ${trial.number}'s run`);
    assert.match(text.stdout, new RegExp(`Best trial ${result.best!.number}: val_accuracy ${result.best!.value!.toFixed(4)} \\(lr=`));
    assert.match(text.stdout, /Parameter importance:\n {2}(lr|optimizer)\s+\d\.\d{2}\s+#*\n {2}(lr|optimizer)\s+\d\.\d{2}/);

    const json = await runMain(['tune', 'show', '--study', 'colours', '--runs-dir', runsDir, '--json']);
    assert.equal(json.status, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as TuneResult;
    assert.deepEqual(Object.keys(parsed).sort(), ['best', 'counts', 'importance', 'storage', 'study', 'trials']);
    assert.deepEqual(parsed.counts, result.counts);
    assert.deepEqual(parsed.best, result.best);
    assert.deepEqual(parsed.importance, result.importance);
    assert.deepEqual(parsed.trials.map((t) => [t.number, t.state, t.value, t.epochs, t.runDir]), result.trials.map((t) => [t.number, t.state, t.value, t.epochs, t.runDir]));
    assert.equal(parsed.study.baseConfig.epochs, 3);
    assert.equal('name' in parsed.study.baseConfig, false);

    const list = await runMain(['tune', 'list', '--runs-dir', runsDir]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^study\s+objective\s+sampler\s+pruner\s+trials/);
    assert.match(list.stdout, /\ncolours\s+maximize val_accuracy\s+random\s+asha\s+4\/4\s/);
    assert.match(list.stdout, /1 study in sqlite:/);
  });

  it('resuming a finished study runs nothing more; a different base config is noted and the study keeps its own', async () => {
    const again = await tune({ study: 'colours', trials: 4, baseConfig: { runsDir } }, { out: sink(), err: sink(), handleSignals: false });
    assert.equal(again.trials.length, 4);
    assert.deepEqual(again.worker?.trials, []);

    const err = sink();
    const changed = await tune({ study: 'colours', space: path.join(tmp, 'space.yaml'), sampler: 'random', seed: 7, trials: 6, baseConfig: baseConfig(data, runsDir, 5) },
      { out: sink(), err, handleSignals: false });
    assert.deepEqual(changed.worker?.trials, []);
    assert.equal(changed.study.baseConfig.epochs, 3);
    assert.match(err.text, /Note: study colours exists with a budget of 4 trials; it keeps it \(--trials 6 is ignored\)\.\n/);
    assert.match(err.text, /Note: study colours exists; its trials keep its own base config \(epochs=3; given: epochs=5\)\.\n/);
  });

  it('finds the storage in $INSIGHT_TUNE_STORAGE when --storage is not given', async () => {
    process.env.INSIGHT_TUNE_STORAGE = `sqlite:${path.join(runsDir, 'tune.db')}`;
    try {
      const list = await runMain(['tune', 'list', '--runs-dir', path.join(tmp, 'elsewhere')]);
      assert.match(list.stdout, /\ncolours\s+maximize val_accuracy/);
    } finally {
      delete process.env.INSIGHT_TUNE_STORAGE;
    }
  });
});

describe('ASHA: pause, promotion, pruning at the end', () => {
  it('pauses trials at the rung until it fills, resumes the best from its checkpoint as if never stopped, prunes the rest', async () => {
    // 3 epochs, η = 3: one rung, at epoch 1. Grid order: lr 0.1 (learns), then 1e-7 and 1e-6 (do not). Trials 0 and 1
    // find fewer than 3 values at the rung and pause; trial 2 fills it (⌊3/3⌋ = 1 goes on) but is not the best and
    // pauses too; the worker then promotes trial 0, which resumes at epoch 2 and completes; the budget spent and
    // nothing running, trials 1 and 2 are pruned with their epoch-1 values.
    const space = writeSpace(tmp, 'prune.yaml', 'lr: { type: categorical, choices: [0.1, 1.0e-7, 1.0e-6] }\n');
    const out = sink();
    const study = await tune({ study: 'prune', space, sampler: 'grid', pruner: 'asha', metric: 'val_loss', trials: 3,
      baseConfig: baseConfig(data, path.join(tmp, 'prune-runs')) }, { out, err: out, handleSignals: false });
    assert.equal(study.study.direction, 'minimize');
    const [first, second, third] = study.trials;
    assert.deepEqual([first.params, second.params, third.params], [{ lr: 0.1 }, { lr: 1e-7 }, { lr: 1e-6 }]);
    assert.deepEqual(study.trials.map((t) => [t.state, t.epochs]), [['completed', 3], ['pruned', 1], ['pruned', 1]]);
    assert.deepEqual(study.counts, { waiting: 0, running: 0, paused: 0, completed: 1, pruned: 2, failed: 0 });
    const lines = out.text.split('\n');
    const order = ['Trial 0 paused after epoch 1', 'Trial 1 paused after epoch 1', 'Trial 2 paused after epoch 1', 'Trial 0 promoted: resumed after epoch 1',
      'Trial 0 completed: val_loss', 'Trial 1 pruned: paused at epoch 1 and never promoted', 'Trial 2 pruned: paused at epoch 1 and never promoted'];
    const at = order.map((text) => lines.findIndex((l) => l.includes(text)));
    assert.ok(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1])), `in this order: ${JSON.stringify(at)}\n${out.text}`);
    for (const trial of [second, third]) {
      const run = runOf(trial.runDir!);
      assert.deepEqual([run.epochs.length, run.config.epochs, run.status], [1, 3, 'completed']); // an ordinary run that stopped early
      assert.equal(trial.value, run.epochs[0].val_loss);
      assert.ok(trial.value! > first.intermediate[0].value, `${trial.value} vs ${first.intermediate[0].value}`);
    }
    assert.equal(study.best?.number, 0);

    // The promoted trial's one run holds all 3 epochs, equal to a run of its config that never paused.
    const resumed = runOf(first.runDir!);
    assert.deepEqual([resumed.status, resumed.epochs.map((e) => e.epoch)], ['completed', [1, 2, 3]]);
    assert.deepEqual(first.intermediate, resumed.epochs.map((e) => ({ step: e.epoch, value: e.val_loss })));
    const straight = await train({ ...baseConfig(data, path.join(tmp, 'straight-runs')), lr: 0.1, progress: 'none' }, { handleSignals: false });
    straight.model.dispose();
    const uninterrupted = runOf(straight.runDir).epochs;
    for (const key of ['loss', 'val_loss', 'val_accuracy']) {
      for (let e = 0; e < 3; e++) assert.ok(Math.abs(resumed.epochs[e][key] - uninterrupted[e][key]) <= 1e-6, `${key} at epoch ${e + 1}: ${resumed.epochs[e][key]} vs ${uninterrupted[e][key]}`);
    }
  });
});

describe('tune CLI errors', () => {
  it('refuses a missing space file, an unknown space key, a study that does not exist, and a bad study name', async () => {
    const missing = await runMain(['tune', '--study', 'x', '--space', path.join(tmp, 'nope.yaml'), '--runs-dir', path.join(tmp, 'err-runs')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /INSIGHT_E_CONFIG_FILE: The --space file must exist and be readable\.[\s\S]*Received: space=".*nope\.yaml"/);
    assert.equal(fs.existsSync(path.join(tmp, 'err-runs')), false, 'nothing created');

    const unknown = writeSpace(tmp, 'unknown.yaml', 'lr: { type: float, low: 1e-4, high: 1e-2, log: true }\nlearningRate: [0.1, 0.2]\n');
    const bad = await runMain(['tune', '--study', 'x', '--space', unknown, '--runs-dir', path.join(tmp, 'err-runs')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /INSIGHT_E_CONFIG: A search space \(.*unknown\.yaml\) may only use known keys\.[\s\S]*Received: learningRate=/);
    assert.match(bad.stderr, /Valid keys: /);

    const absent = await runMain(['tune', 'show', '--study', 'nope', '--runs-dir', runsDir]);
    assert.equal(absent.status, 2);
    assert.match(absent.stderr, /INSIGHT_E_CONFIG: `insight tune show` needs a study of the storage\.[\s\S]*studies="colours"[\s\S]*--study colours/);
    // Reading or joining a storage that does not exist refuses, and leaves no empty tune.db behind.
    const empty = path.join(tmp, 'no-studies-here');
    for (const argv of [['tune', 'show', '--study', 'colours', '--runs-dir', empty], ['tune', 'list', '--runs-dir', empty],
      ['tune', 'worker', '--study', 'colours', '--runs-dir', empty]]) {
      const missing = await runMain(argv);
      assert.equal(missing.status, 9, argv.join(' '));
      assert.match(missing.stderr, /INSIGHT_E_STORAGE: A study storage that is read or joined must already exist\.[\s\S]*Received: storage="sqlite:.*no-studies-here\/tune\.db"/);
      assert.ok(!fs.existsSync(path.join(empty, 'tune.db')), argv.join(' '));
    }

    for (const argv of [['tune', 'worker', '--study', 'colours', '--epochs', '3', '--runs-dir', runsDir],
      ['tune', '--epochs', '3', '--config', 'base.json', 'worker', '--study', 'colours', '--runs-dir', runsDir]]) {
      const ignored = await runMain(argv); // tune's own flags that the worker would ignore
      assert.equal(ignored.status, 2, argv.join(' '));
      assert.match(ignored.stderr, /INSIGHT_E_USAGE: `insight tune worker` takes only its own flags;[\s\S]*Received: flags="(--epochs|--config --epochs)"/);
    }
    const listFlags = await runMain(['tune', 'list', '--study', 'colours', '--runs-dir', runsDir]);
    assert.match(listFlags.stderr, /INSIGHT_E_USAGE: `insight tune list` takes only its own flags;[\s\S]*Received: flags="--study"/);

    const join = await runMain(['tune', 'worker', '--study', 'nope', '--runs-dir', runsDir]);
    assert.equal(join.status, 2);
    assert.match(join.stderr, /A study must exist in the storage before workers join it\./);

    const name = await runMain(['tune', '--study', 'a b', '--space', unknown]);
    assert.equal(name.status, 2);
    assert.match(name.stderr, /A study name must be 1-58 characters/);

    const noValidation = await runMain(['tune', '--study', 'v', '--space', writeSpace(tmp, 'ok.yaml', 'lr: [0.1, 0.01]\n'), '--validation-count', '0',
      '--monitor', 'loss', '--runs-dir', path.join(tmp, 'err-runs')]);
    assert.equal(noValidation.status, 2);
    assert.match(noValidation.stderr, /The study's metric val_accuracy is logged only with a validation split\./);
  });

  it('keeps the storage readable by another connection (WAL) after the studies', async () => {
    const storage = await openStudyStorage(`sqlite:${path.join(runsDir, 'tune.db')}`);
    try {
      assert.deepEqual((await storage.listStudies()).map((s) => s.name), ['colours']);
    } finally {
      await storage.close();
    }
  });
});
