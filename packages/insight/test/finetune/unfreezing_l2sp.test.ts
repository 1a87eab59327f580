// Gradual unfreezing thaws one block from the top every N epochs (frozen blocks unchanged bit for bit until their
// epoch), and the L2-SP penalty equals a hand computation. (Blocks and cut points: test/models/graph.test.ts.)
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { buildFinetuneModel } from '../../src/finetune/build';
import { GradualUnfreezing } from '../../src/finetune/gradual_unfreezing';
import { inInferenceMode } from '../../src/finetune/freeze';
import { L2SP } from '../../src/finetune/l2sp';
import { configureMethod } from '../../src/finetune/methods';
import type { Callback } from '../../src/train/callbacks/callback';
import { Adam } from '../../src/train/optimizers';
import { ConstantSchedule } from '../../src/train/schedules';
import { fit } from '../../src/train/trainer';
import { tinyDataset } from '../train/tiny';
import { sameBits, tinyBase, tinyLoader } from './tiny_base';

before(async () => {
  await initBackend();
});

describe('gradual unfreezing', () => {
  it('thaws one block from the top every 2 epochs; frozen blocks stay bit-identical until then', async () => {
    const ft = buildFinetuneModel(tinyBase(4), { numClasses: 2, method: 'full', seed: 2 });
    assert.deepEqual(ft.blocks.map((b) => b.layers.map((l) => l.name)), [['c1', 'bn1', 'r1'], ['c2', 'bn2', 'r2', 'flatten'], ['features']]);
    const params = configureMethod(ft, 'full', 0.1);
    const unfreezing = new GradualUnfreezing(ft.blocks, params, 2, 0.1);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 9].map((e) => unfreezing.thawedAt(e)), [0, 0, 1, 1, 2, 2, 3, 3]);
    const kernel = (name: string) => ft.model.getLayer(name).getWeights()[0];
    const snapshot = () => Object.fromEntries(['c1', 'c2', 'features', 'finetune_logits'].map((n) => [n, kernel(n).dataSync().slice() as Float32Array]));
    const history: Record<string, Float32Array>[] = [snapshot()];
    const recorder: Callback = { name: 'recorder', onEpochEnd: () => { history.push(snapshot()); } };
    const inference: boolean[][] = [];
    const probe: Callback = { name: 'probe', onEpochBegin: () => { inference.push(['bn1', 'bn2'].map((n) => inInferenceMode(ft.model.getLayer(n)))); } };
    unfreezing.apply(0);
    const optimizer = new Adam(params);
    const loader = tinyLoader(tinyDataset(32, 8, 2));
    await fit(ft.model, loader, { epochs: 6, optimizer, schedule: new ConstantSchedule(0.01), seed: 1, callbacks: [unfreezing, probe, recorder] });
    await loader.close();
    optimizer.dispose();
    // history[e] = weights after e epochs; a layer of the block thawed at epoch t changes from epoch t+1 on.
    const changed = (name: string, epoch: number) => !sameBits(history[epoch - 1][name], history[epoch][name]);
    const firstChange = (name: string) => [1, 2, 3, 4, 5, 6].find((e) => changed(name, e));
    assert.equal(firstChange('finetune_logits'), 1);
    assert.equal(firstChange('features'), 3, 'top block thaws at epoch index 2');
    assert.equal(firstChange('c2'), 5, 'second block at epoch index 4');
    assert.equal(firstChange('c1'), undefined, 'the bottom block would thaw at epoch index 6');
    assert.deepEqual(inference, [[true, true], [true, true], [true, true], [true, true], [true, false], [true, false]]);
    ft.model.dispose();
  });
});

describe('L2-SP', () => {
  it('penalty = alpha * sum ||w - w0||^2, by hand; zero at the pretrained weights', () => {
    const a = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const b = tf.variable(tf.tensor1d([0.5, -1]));
    const l2sp = new L2SP([a, b], 0.3);
    assert.equal(l2sp.penalty().dataSync()[0], 0);
    a.assign(tf.tensor2d([[1.5, 2], [3, 3]]));
    b.assign(tf.tensor1d([0.5, 1]));
    // (0.5² + 0 + 0 + 1²) + (0 + 2²) = 5.25; × 0.3 = 1.575
    const value = l2sp.penalty().dataSync()[0];
    assert.ok(Math.abs(value - 0.3 * 5.25) < 1e-6, `penalty ${value}`);
    // Its gradient is 2·alpha·(w − w0).
    const { grads: g } = tf.variableGrads(() => l2sp.penalty(), [a, b]);
    assert.deepEqual(Array.from(g[a.name].dataSync()).map((v) => +v.toFixed(6)), [0.3, 0, 0, -0.6]);
    l2sp.dispose();
    tf.dispose([a, b]);
  });
});
