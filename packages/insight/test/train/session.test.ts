// The run session on its own: progress choice and info lines, the callbacks every run gets in their one order,
// the end of a run (report/, model/, then status 'completed' with the summary) and a failed run.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { DataLoader } from '../../src/data';
import { runInference } from '../../src/eval/inference';
import { computeMetrics } from '../../src/eval/metrics';
import { RunSession } from '../../src/train/session';
import { tinyDataset, tinyModel } from './tiny';

function sink(isTTY = false): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY, columns: 120, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const runsDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'insight-session-'));

describe('RunSession', () => {
  it('resolves progress auto against the output (bar on a terminal, log lines otherwise); none silences info lines', async () => {
    const tty = await RunSession.start({ backend: 'auto', progress: 'auto', out: sink(true) });
    assert.equal(tty.progress, 'bar');
    assert.ok(['torch', 'cpu'].includes(tty.backend));
    const piped = await RunSession.start({ backend: 'auto', progress: 'auto', out: sink(false) });
    assert.equal(piped.progress, 'log');
    const out = sink();
    const quiet = await RunSession.start({ backend: 'auto', progress: 'none', out });
    quiet.say('hello');
    assert.equal(out.text, '');
  });

  it('gives progress, metrics.jsonl, TensorBoard, the command\'s own callbacks, then the checkpoint', async () => {
    const session = await RunSession.start({ backend: 'auto', progress: 'log', out: sink() });
    assert.throws(() => session.callbacks([], { monitor: 'loss' }), /RunSession.run is used before create\(\) or resume\(\)/);
    session.create(runsDir(), { any: 'config' });
    const names = (tensorboard: boolean) => session.callbacks([{ name: 'mine' }], {
      monitor: 'loss', tensorboard: tensorboard ? { samples: null } : null,
    }).map((cb) => cb.name);
    assert.deepEqual(names(true), ['progressLog', 'metricsLog', 'tensorboard', 'mine', 'modelCheckpoint', 'runLifecycle']);
    assert.deepEqual(names(false), ['progressLog', 'metricsLog', 'mine', 'modelCheckpoint', 'runLifecycle']);
    session.fail(new Error('stop'));
  });

  it('ends a run: report/, model/, then status completed with backend, summary and the report\'s figures', async () => {
    const out = sink();
    const session = await RunSession.start({ backend: 'auto', progress: 'log', out });
    const run = session.create(runsDir(), { any: 'config' });
    const model = tinyModel(2);
    await assert.rejects(session.complete(model), /needs the report first: call report\(\) before complete\(\)/);
    const ds = tinyDataset(12);
    const loader = new DataLoader(ds, { batchSize: 8, shuffle: false, workers: 0 });
    const report = computeMetrics(await runInference(model, loader), ds.classNames, [1, 2]);
    await loader.close();
    await session.report(report, 'all 12 images');
    assert.equal(run.readInfo().status, 'running', 'the report alone does not complete the run');
    await session.complete(model, { summary: { epochs: 3 }, modelNote: ' (note)' });
    model.dispose();
    assert.ok(fs.existsSync(path.join(run.reportDir, 'metrics.json')));
    assert.ok(fs.existsSync(path.join(run.modelDir, 'model.json')));
    const info = run.readInfo();
    assert.equal(info.status, 'completed');
    assert.deepEqual(info.summary, {
      backend: session.backend, epochs: 3, report: { split: 'all 12 images', loss: report.loss, accuracy: report.accuracy, topK: report.topK },
    });
    assert.equal(out.text, `Report on all 12 images: loss ${report.loss.toFixed(4)} - accuracy ${report.accuracy.toFixed(4)} - ` +
      `top-2 ${report.topK['2'].toFixed(4)}\nModel: ${run.modelDir} (note)\n`);
  });

  it('marks an open run failed with the error message; before a run exists there is nothing to mark', async () => {
    const session = await RunSession.start({ backend: 'auto', progress: 'none', out: sink() });
    session.fail(new Error('no data'));
    const run = session.create(runsDir(), {});
    session.fail(new Error('out of memory'));
    assert.equal(run.readInfo().status, 'failed');
    assert.equal(run.readInfo().error, 'out of memory');
  });
});
