// Fine-tuning defaults that work on small data (issue 18 item 2): the step budget follows the data size (at least
// 500 updates and 3 epochs, at most 200 epochs), full trains the head alone first and then restarts the learning-rate
// curve with a warmup for the whole model, the new head starts at zero (loss ln(classes) at the first step), and
// the head-alone epochs leave the base bit for bit as it was (BatchNorm statistics too) while the head learns; a new
// class the base already has starts from the base classifier's weights, so its logit is the base's own.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { autoEpochs, planTraining } from '../../src/finetune/budget';
import { buildFinetuneModel } from '../../src/finetune/build';
import { resolveFinetuneConfig } from '../../src/finetune/config';
import { HeadFirst } from '../../src/finetune/head_first';
import { configureMethod } from '../../src/finetune/methods';
import { PhasedSchedule } from '../../src/finetune/phased_schedule';
import type { Callback } from '../../src/train/callbacks/callback';
import { Adam } from '../../src/train/optimizers';
import { fit } from '../../src/train/trainer';
import { tinyDataset } from '../train/tiny';
import { sameBits, tinyBase, tinyLoader, weightMap } from './tiny_base';

before(async () => {
  await initBackend();
});

describe('fine-tuning budget', () => {
  it('epochs from the data: max(ceil(500 / updates per epoch), 3), at most 200', () => {
    // 40+40 images at batch 32: 3 updates an epoch; 2 x 100: 7; 5 x 500: 79; 45,000: 1,407; 8 images: 1.
    assert.deepEqual([3, 7, 79, 1407, 1, 2].map(autoEpochs), [167, 72, 7, 3, 200, 200]);
  });

  it('head: one cosine curve from lr to 0 over the whole budget, no warmup', () => {
    const plan = planTraining(resolveFinetuneConfig({ base: 'x', method: 'head' }), 3);
    assert.deepEqual([plan.epochs, plan.totalSteps, plan.headEpochs, plan.warmupSteps], [167, 501, 0, 0]);
    assert.equal(plan.schedule.lrAt(0), 0.01);
    assert.ok(Math.abs(plan.schedule.lrAt(250) - 0.005) < 1e-4);
    assert.ok(plan.schedule.lrAt(500) < 1e-6);
    assert.match(plan.description, /^167 epochs \(501 updates: at least 500 updates and 3 epochs, at most 200 epochs\)$/);
  });

  it('full: the head alone for a fifth of the epochs at a constant lr, then warmup over a tenth of the rest and cosine to 0', () => {
    const plan = planTraining(resolveFinetuneConfig({ base: 'x', method: 'full' }), 3);
    assert.equal(plan.epochs, 167);
    assert.equal(plan.headEpochs, 33); // round(167 x 0.2)
    const head = 33 * 3;
    const rest = 501 - head;
    assert.equal(plan.warmupSteps, Math.round(rest * 0.1));
    assert.deepEqual([0, 50, head - 1].map((s) => plan.schedule.lrAt(s)), [0.01, 0.01, 0.01]);
    // The curve restarts at the unfreeze: a linear warmup from lr / warmup, peak lr at its end, then down to 0.
    assert.equal(plan.schedule.lrAt(head), 0.01 / plan.warmupSteps);
    assert.equal(plan.schedule.lrAt(head + plan.warmupSteps - 1), 0.01);
    assert.ok(plan.schedule.lrAt(500) < 1e-6);
    assert.match(plan.description, /head alone for the first 33 \(then the base at lr x 0\.1\)/);
  });

  it('given epochs, head epochs and warmup are kept; gradual unfreezing has no separate head phase', () => {
    const given = planTraining(resolveFinetuneConfig({ base: 'x', method: 'full', epochs: 10, headEpochs: 2, warmupEpochs: 1 }), 5);
    assert.deepEqual([given.epochs, given.totalSteps, given.headEpochs, given.warmupSteps], [10, 50, 2, 5]);
    assert.equal(planTraining(resolveFinetuneConfig({ base: 'x', method: 'full', unfreezeEvery: 2 }), 5).headEpochs, 0);
    assert.equal(planTraining(resolveFinetuneConfig({ base: 'x', method: 'full', headEpochs: 0 }), 5).headEpochs, 0);
    assert.throws(() => resolveFinetuneConfig({ base: 'x', method: 'lora', headEpochs: 2 }),
      /Training the head alone first is a schedule of method full without gradual unfreezing[^]*Received: method="lora", headEpochs=2, unfreezeEvery=0/);
    assert.throws(() => resolveFinetuneConfig({ base: 'x', method: 'head', promptWidth: 2 }),
      /promptWidth sets the visual prompt of method prompt\. Received: method="head", promptWidth=2\. Pass --method prompt, or drop --prompt-width\./);
  });

  it('a phased schedule refuses phases out of order with the house error', () => {
    const constant = planTraining(resolveFinetuneConfig({ base: 'x', method: 'head' }), 3).schedule;
    assert.throws(() => new PhasedSchedule([{ start: 0, schedule: constant }, { start: 0, schedule: constant }]), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'INSIGHT_E_CONFIG');
      assert.match(e.message, /^A phased schedule needs phases in increasing order of start, the first at step 0\. Received: starts=\[0,0\]\. /);
      return true;
    });
  });
});

describe('head first, zero head', () => {
  it('the head-alone epochs keep the base bit for bit (BatchNorm statistics too); then the base trains; the first loss is ln 2', async () => {
    const ft = buildFinetuneModel(tinyBase(2), { numClasses: 2, method: 'full', seed: 1 });
    const params = configureMethod(ft, 'full', 0.1);
    const headFirst = new HeadFirst(ft.baseLayers, params, 2, 0.1);
    headFirst.apply(0);
    const baseNames = new Set(ft.baseLayers.flatMap((l) => l.weights.map((w) => w.name)));
    const snapshots: Map<string, Float32Array>[] = [weightMap(ft.model)];
    const notes: string[] = [];
    const snapshot: Callback = { name: 'snapshot', onEpochEnd: () => { snapshots.push(weightMap(ft.model)); } };
    const noter: Callback = { name: 'notes', onNote: (line: string) => { notes.push(line); } };
    const optimizer = new Adam(params);
    const loader = tinyLoader(tinyDataset(64, 8, 2));
    const state = await fit(ft.model, loader, {
      epochs: 3, optimizer, schedule: { name: 'constant', lrAt: () => 0.01 }, seed: 1, callbacks: [noter, headFirst, snapshot],
    });
    await loader.close();
    optimizer.dispose();
    const changed = (a: Map<string, Float32Array>, b: Map<string, Float32Array>, names: (n: string) => boolean) =>
      [...a.keys()].filter((n) => names(n) && !sameBits(a.get(n)!, b.get(n)!));
    const isBase = (n: string) => baseNames.has(n);
    const isHead = (n: string) => n.startsWith('finetune_logits/');
    assert.deepEqual(changed(snapshots[0], snapshots[2], isBase), [], 'epochs 1-2: the base (weights and moving statistics) is unchanged');
    assert.equal(changed(snapshots[0], snapshots[1], isHead).length, 2, 'the head learns from the first epoch');
    assert.deepEqual(changed(snapshots[2], snapshots[3], isBase).sort(), [...baseNames].sort(), 'epoch 3: every base weight moves (BatchNorm in training mode)');
    assert.ok(Math.abs(state.history[0].loss - Math.log(2)) < 0.05, `a zero head starts at ln 2: ${state.history[0].loss}`);
    assert.equal(params.filter((p) => isBase(p.variable.name)).every((p) => p.lrScale === 0.1), true);
    assert.match(notes.join('\n'), /head first: epoch 3 unfreezes the base \(\d+ weight tensors at lr x 0\.1\)/);
    ft.model.dispose();
  });
});

describe('head from the base', () => {
  it('a new class named like a base class starts from the base classifier (its logit is the base\'s); the others at zero', () => {
    const base = tinyBase(8); // classes base0, base1, base2; classifier 'logits' on the 6 'features'
    const ft = buildFinetuneModel(base, { numClasses: 2, method: 'head', classNames: ['base2', 'new'], baseClassNames: ['base0', 'base1', 'base2'] });
    assert.deepEqual(ft.fromBase, ['base2']);
    const x = tf.randomUniform([5, 8, 8, 3], 0, 1, 'float32', 4);
    const [own, fine] = [base.predict(x) as tf.Tensor2D, ft.model.predict(x) as tf.Tensor2D];
    const ownRows = own.arraySync();
    const fineRows = fine.arraySync();
    ownRows.forEach((row, i) => {
      assert.ok(Math.abs(fineRows[i][0] - row[2]) < 1e-5, `row ${i}: the head's base2 logit is the base's`);
      assert.equal(fineRows[i][1], 0, 'a class the base does not have starts at zero');
    });
    tf.dispose([x, own, fine]);
    ft.model.dispose();
  });

  it('a head taken whole from the base trains as pretrained weights (lr x baseLrFactor); a head with a new class at lr', () => {
    const names = { numClasses: 2, method: 'head' as const, baseClassNames: ['base0', 'base1', 'base2'] };
    const whole = buildFinetuneModel(tinyBase(8), { ...names, classNames: ['base2', 'base0'] });
    const mixed = buildFinetuneModel(tinyBase(8), { ...names, classNames: ['base2', 'new'] });
    assert.deepEqual([whole.headPretrained, mixed.headPretrained], [true, false]);
    assert.deepEqual(configureMethod(whole, 'head', 0.1).map((p) => [p.variable.name.replace(/_\d+$/, ''), p.lrScale]), [['finetune_logits/kernel', 0.1], ['finetune_logits/bias', 0.1]]);
    assert.deepEqual(configureMethod(mixed, 'head', 0.1).map((p) => p.lrScale), [1, 1]);
    whole.model.dispose();
    mixed.model.dispose();
  });

  it('nothing is copied with another cut, without base names, or when turned off', () => {
    const names = { numClasses: 2, method: 'head' as const, classNames: ['base0', 'base1'], baseClassNames: ['base0', 'base1', 'base2'] };
    const cut = buildFinetuneModel(tinyBase(8), { ...names, cutAt: 'flatten' });
    const unnamed = buildFinetuneModel(tinyBase(8), { ...names, classNames: ['0', '1'], baseClassNames: ['0', '1', '2'] });
    const off = buildFinetuneModel(tinyBase(8), { ...names, headFromBase: false });
    for (const ft of [cut, unnamed, off]) {
      assert.deepEqual(ft.fromBase, []);
      assert.ok(ft.model.getLayer('finetune_logits').getWeights().every((w) => w.dataSync().every((v) => v === 0)), 'a zero head');
      ft.model.dispose();
    }
  });
});
