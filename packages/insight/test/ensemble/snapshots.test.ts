// Snapshot ensembles: train --keep-snapshots keeps the models of the last epochs (snapshots/epoch-<e>/, older ones
// deleted; the last one is the final model), and insight ensemble --snapshots averages them, as chosen by --last or
// --epochs; a run without snapshots, or without the epochs asked for, is refused with the house message.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { ensemble } from '../../src/ensemble';
import { rejectsWith } from './helpers';
import { getInsightMetadata } from '../../src/models/metadata';
import { loadModel } from '../../src/run/model_io';
import { RunDir } from '../../src/run/run_dir';
import { train } from '../../src/train/train';
import { JPG_MINI } from '../shared_data';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-ensemble-snapshots-'));
const sink = () => ({ isTTY: false, write: () => true }) as unknown as NodeJS.WriteStream;
let runDir: string;
let plainRun: string;

before(async () => {
  await initBackend();
  const common = { data: JPG_MINI, batchSize: 32, limit: 160, validationCount: 32, workers: 0, progress: 'none' as const, tensorboard: false, runsDir: path.join(tmp, 'runs') };
  const result = await train({ ...common, epochs: 4, keepSnapshots: 3, seed: 1 }, { out: sink() });
  result.model.dispose();
  runDir = result.runDir;
  const plain = await train({ ...common, epochs: 1, seed: 2 }, { out: sink() });
  plain.model.dispose();
  plainRun = plain.runDir;
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('train --keep-snapshots', () => {
  it('keeps the models of the last n epochs only; the last snapshot is the final model', async () => {
    const run = RunDir.at(runDir);
    assert.deepEqual(run.snapshotEpochs(), [2, 3, 4]);
    assert.deepEqual(fs.readdirSync(run.snapshotsDir).sort(), ['epoch-2', 'epoch-3', 'epoch-4']);
    const [last, final, second] = [await loadModel(run.snapshotDir(4)), await loadModel(run.modelDir), await loadModel(run.snapshotDir(2))];
    assert.deepEqual(getInsightMetadata(last, 'snapshot').classNames, getInsightMetadata(final, 'model').classNames);
    const same = last.getWeights().every((w, i) => tf.util.arraysEqual(w.dataSync(), final.getWeights()[i].dataSync()));
    const differs = second.getWeights().some((w, i) => !tf.util.arraysEqual(w.dataSync(), final.getWeights()[i].dataSync()));
    assert.ok(same, 'epoch-4 holds the final weights');
    assert.ok(differs, 'epoch-2 holds earlier weights');
    [last, final, second].forEach((m) => m.dispose());
    assert.deepEqual(RunDir.at(plainRun).snapshotEpochs(), [], 'none by default');
  });
});

describe('insight ensemble --snapshots', () => {
  it('averages the chosen snapshots (--last; --epochs), recording their epochs', async () => {
    const out = path.join(tmp, 'snap');
    const { metadata } = await ensemble({ snapshots: runDir, last: 2, out });
    assert.equal(metadata.ensemble?.kind, 'snapshots');
    const run = RunDir.at(runDir);
    assert.deepEqual(metadata.ensemble?.members.map((m) => [m.epoch, m.path, m.weight]), [[3, run.snapshotDir(3), 0.5], [4, run.snapshotDir(4), 0.5]]);

    const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const [model, three, four] = [await loadModel(out), await loadModel(run.snapshotDir(3)), await loadModel(run.snapshotDir(4))];
    const [got, expected] = tf.tidy(() => [(model.predict(x) as tf.Tensor).dataSync(),
      tf.mul(tf.add(tf.softmax(three.predict(x) as tf.Tensor), tf.softmax(four.predict(x) as tf.Tensor)), 0.5).dataSync()]);
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-6, `${i}: ${got[i]} vs ${expected[i]}`);
    [model, three, four, x].forEach((t) => t.dispose());

    const chosen = await ensemble({ snapshots: runDir, epochs: [4, 2], weights: '1,3', out: path.join(tmp, 'chosen') });
    assert.deepEqual(chosen.metadata.ensemble?.members.map((m) => [m.epoch, m.weight]), [[2, 0.25], [4, 0.75]]);
    const all = await ensemble({ snapshots: runDir, out: path.join(tmp, 'all') });
    assert.deepEqual(all.metadata.ensemble?.members.map((m) => m.epoch), [2, 3, 4]);
  });

  it('refuses a run without snapshots, epochs it did not keep, and --last beyond them', async () => {
    await assert.rejects(ensemble({ snapshots: plainRun, out: path.join(tmp, 'x') }), rejectsWith('INSIGHT_E_MODEL',
      /^A snapshot ensemble needs a run that kept at least two per-epoch snapshots\. Received: .*keptEpochs="none"\. Train the run with --keep-snapshots <n>/));
    await assert.rejects(ensemble({ snapshots: runDir, epochs: '1,3', out: path.join(tmp, 'x') }), rejectsWith('INSIGHT_E_MODEL',
      /^Every epoch passed to --epochs must have a snapshot in the run\. Received: .*missing="1", keptEpochs="2,3,4"/));
    await assert.rejects(ensemble({ snapshots: runDir, last: 4, out: path.join(tmp, 'x') }), rejectsWith('INSIGHT_E_MODEL',
      /^--last must not exceed the number of snapshots the run kept\. .* Pass --last 3 or less\./));
    await assert.rejects(ensemble({ snapshots: runDir, members: [runDir], out: path.join(tmp, 'x') }),
      rejectsWith('INSIGHT_E_CONFIG', /^An ensemble takes either member directories or --snapshots <run>, not both\./));
    await assert.rejects(ensemble({ snapshots: path.join(tmp, 'nowhere'), out: path.join(tmp, 'x') }),
      rejectsWith('INSIGHT_E_MODEL', /^--snapshots takes a run directory\./));
    await assert.rejects(ensemble({ snapshots: runDir, out: runDir }), rejectsWith('INSIGHT_E_CONFIG', /^--out must not be a member's model or run directory/));
    assert.ok(fs.existsSync(path.join(runDir, 'run.json')));
  });
});
