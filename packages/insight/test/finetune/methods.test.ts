// Each method trains exactly its trainable set: after training steps, every weight outside it is unchanged bit
// for bit (dataSync arrays compared), every weight in it has moved (params at lrScale 0 count as outside); under `head` (and the other frozen-base
// methods) BatchNorm's moving statistics stay as they were; `full` trains the base at lr x baseLrFactor.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { buildFinetuneModel } from '../../src/finetune/build';
import { FINETUNE_METHODS } from '../../src/finetune/method_names';
import { configureMethod, parameterCounts } from '../../src/finetune/methods';
import { Adam, Sgd } from '../../src/train/optimizers';
import { ConstantSchedule } from '../../src/train/schedules';
import { fit } from '../../src/train/trainer';
import { tinyDataset } from '../train/tiny';
import { sameBits, tinyBase, tinyLoader, weightMap } from './tiny_base';

before(async () => {
  await initBackend();
});

describe('fine-tuning methods', () => {
  for (const method of FINETUNE_METHODS) {
    it(`${method}: only the trainable set changes`, async () => {
      const base = tinyBase(1);
      const ft = buildFinetuneModel(base, { numClasses: 2, method, rank: 2, adapterBottleneck: 2, seed: 3 });
      const params = configureMethod(ft, method, 0.1);
      const trainable = new Set(params.filter((p) => (p.lrScale ?? 1) !== 0).map((p) => p.variable.name));
      const beforeWeights = weightMap(ft.model);
      const optimizer = new Adam(params);
      const loader = tinyLoader(tinyDataset(64, 8, 2));
      await fit(ft.model, loader, { epochs: 1, optimizer, schedule: new ConstantSchedule(0.01), seed: 1 });
      await loader.close();
      optimizer.dispose();
      const after = weightMap(ft.model);
      const movingStat = (name: string) => /moving_(mean|variance)/.test(name);
      for (const [name, values] of beforeWeights) {
        if (trainable.has(name)) {
          assert.ok(!sameBits(values, after.get(name)!), `${method}: trainable ${name} changed`);
        } else if (movingStat(name) && (method === 'full' || method === 'bn+head')) {
          assert.ok(!sameBits(values, after.get(name)!), `${method}: BatchNorm in training mode updates ${name}`);
        } else {
          assert.ok(sameBits(values, after.get(name)!), `${method}: ${name} is unchanged bit for bit`);
        }
      }
      const expected: Record<string, (name: string) => boolean> = {
        full: () => true,
        head: (n) => n.startsWith('finetune_logits/'),
        'bn+head': (n) => n.startsWith('finetune_logits/') || /^bn\d\/(gamma|beta)(_\d+)?$/.test(n),
        adapter: (n) => n.startsWith('finetune_logits/') || n.includes('_adapter_'),
        lora: (n) => n.startsWith('finetune_logits/') || /_lora\/lora_[ab](_\d+)?$/.test(n),
        // The prompt strips' biases; their kernels only ever see zeros (lrScale 0) and stay zero.
        prompt: (n) => n.startsWith('finetune_logits/') || /^prompt_(top|bottom|left|right)\/bias(_\d+)?$/.test(n),
      };
      const wanted = ft.model.weights.filter((w) => !movingStat(w.name) && expected[method](w.name)).map((w) => w.name).sort();
      assert.deepEqual([...trainable].sort(), wanted);
      const counts = parameterCounts(ft.model, params);
      assert.equal(counts.trainable, params.filter((p) => (p.lrScale ?? 1) !== 0).reduce((s, p) => s + p.variable.size, 0));
      assert.ok(counts.share > 0 && counts.share <= 1);
      ft.model.dispose();
    });
  }

  it('before training, every method\'s original-head model computes exactly the base (adapters and LoRA start as identity)', () => {
    const base = tinyBase(6);
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 2);
    const reference = base.predict(x) as tf.Tensor;
    for (const method of FINETUNE_METHODS) {
      const ft = buildFinetuneModel(base, { numClasses: 2, method, rank: 2, adapterBottleneck: 2, seed: 1 });
      const original = ft.original.predict(x) as tf.Tensor;
      assert.deepEqual(Array.from(original.dataSync()), Array.from(reference.dataSync()), method);
      const logits = ft.model.predict(x) as tf.Tensor;
      assert.deepEqual(logits.shape, [3, 2]);
      tf.dispose([original, logits]);
    }
    tf.dispose([x, reference]);
  });

  it('head: BatchNorm moving statistics are frozen (the layer runs in inference mode)', async () => {
    const base = tinyBase(2);
    const ft = buildFinetuneModel(base, { numClasses: 2, method: 'head', seed: 1 });
    const params = configureMethod(ft, 'head', 0.1);
    const stats = () => ft.model.weights.filter((w) => /moving_/.test(w.name)).map((w) => (w.read().dataSync() as Float32Array).slice());
    const beforeStats = stats();
    assert.equal(beforeStats.length, 4);
    const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 7);
    // training: true must not switch a frozen BatchNorm to batch statistics.
    const a = ft.model.apply(x, { training: true }) as tf.Tensor;
    const b = ft.model.apply(x, { training: false }) as tf.Tensor;
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    const optimizer = new Sgd(params);
    const loader = tinyLoader(tinyDataset(32, 8, 2));
    await fit(ft.model, loader, { epochs: 1, optimizer, schedule: new ConstantSchedule(0.1), seed: 1 });
    await loader.close();
    stats().forEach((s, i) => assert.ok(sameBits(s, beforeStats[i]), `moving statistic ${i} unchanged`));
    tf.dispose([x, a, b]);
    ft.model.dispose();
  });

  it('full: base parameters get lrScale = baseLrFactor, the head 1 (one SGD step moves the base 10x less)', async () => {
    const base = tinyBase(3);
    const ft = buildFinetuneModel(base, { numClasses: 2, method: 'full', seed: 1 });
    const params = configureMethod(ft, 'full', 0.1);
    for (const p of params) assert.equal(p.lrScale, p.variable.name.startsWith('finetune_logits/') ? 1 : 0.1, p.variable.name);
    // Plain SGD: w ← w − lr·lrScale·g, so with a known gradient of ones each param moves by exactly lr·lrScale.
    const optimizer = new Sgd(params);
    const beforeValues = params.map((p) => (p.variable.dataSync() as Float32Array).slice());
    const grads = params.map((p) => tf.onesLike(p.variable));
    optimizer.apply(grads, 0.5);
    params.forEach((p, i) => {
      const moved = beforeValues[i][0] - p.variable.dataSync()[0];
      assert.ok(Math.abs(moved - 0.5 * p.lrScale!) < 1e-6, `${p.variable.name} moved ${moved}`);
    });
    tf.dispose(grads);
    optimizer.dispose();
    ft.model.dispose();
  });
});
