// LoRA merges back into plain layers with the same outputs (1e-5), and fine-tuned models — unmerged LoRA (a
// registered custom layer), merged LoRA, adapters — save, reload with Insight's loadModel and predict the same.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { buildFinetuneModel, type FinetuneModel } from '../../src/finetune/build';
import { loraLayersOf, mergeLora } from '../../src/finetune/lora';
import { LoraLayer } from '../../src/finetune/lora_layer';
import { configureMethod } from '../../src/finetune/methods';
import { getInsightMetadata, setInsightMetadata } from '../../src/models/metadata';
import { loadModel, saveModel } from '../../src/run/model_io';
import { Adam } from '../../src/train/optimizers';
import { ConstantSchedule } from '../../src/train/schedules';
import { fit } from '../../src/train/trainer';
import { tinyDataset } from '../train/tiny';
import { tinyBase, tinyLoader } from './tiny_base';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-lora-'));

before(async () => {
  await initBackend();
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fine-tuned tiny model after a few Adam steps (so B ≠ 0), with metadata. */
async function trained(method: 'lora' | 'adapter', options: { rank?: number; loraAlpha?: number } = {}): Promise<FinetuneModel> {
  const ft = buildFinetuneModel(tinyBase(5), { numClasses: 2, method, rank: options.rank ?? 2, loraAlpha: options.loraAlpha ?? 4, adapterBottleneck: 2, seed: 9 });
  const params = configureMethod(ft, method, 0.1);
  const optimizer = new Adam(params);
  const loader = tinyLoader(tinyDataset(48, 8, 2));
  await fit(ft.model, loader, { epochs: 1, optimizer, schedule: new ConstantSchedule(0.05), seed: 1 });
  await loader.close();
  optimizer.dispose();
  setInsightMetadata(ft.model, { ...getInsightMetadata(tinyBase(1), 'tiny'), classNames: ['a', 'b'] });
  return ft;
}

function maxDiff(a: tfl.LayersModel, b: tfl.LayersModel, x: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a.predict(x) as tf.Tensor, b.predict(x) as tf.Tensor))).dataSync()[0]);
}

describe('LoRA merge and saved fine-tuned models', () => {
  const x = tf.randomUniform([5, 8, 8, 3], 0, 1, 'float32', 11);

  it('merging LoRA (conv and dense targets) gives a plain model with the same outputs within 1e-5', async () => {
    const ft = await trained('lora');
    const lora = loraLayersOf(ft.model);
    assert.deepEqual(lora.map((l) => l.target.className).sort(), ['Conv2D', 'Conv2D', 'Dense']);
    const b = lora[0].getWeights().find((w) => w.shape.length === 4 && w.shape[2] === 2);
    assert.ok(b !== undefined && tf.max(tf.abs(b)).dataSync()[0] > 0, 'training moved B away from zero');
    const merged = mergeLora(ft.model);
    assert.equal(loraLayersOf(merged).length, 0);
    assert.deepEqual(merged.layers.map((l) => l.getClassName()).filter((c) => c === 'InsightLora'), []);
    assert.ok(maxDiff(ft.model, merged, x) < 1e-5, `max |difference| ${maxDiff(ft.model, merged, x)}`);
    // Same architecture and size as the base with a new head: the merge costs nothing at inference.
    const plain = buildFinetuneModel(tinyBase(5), { numClasses: 2, method: 'head' }).model;
    assert.equal(merged.countParams(), plain.countParams());
    assert.deepEqual(getInsightMetadata(merged, 'merged').classNames, ['a', 'b']);
  });

  it('the folded kernel equals the two-branch reference x·W + (alpha/r)·(x·A)·B (conv and dense)', async () => {
    const ft = await trained('lora', { rank: 2, loraAlpha: 3 });
    for (const layer of loraLayersOf(ft.model)) {
      const [a, b, w, bias] = ['lora_a', 'lora_b', 'kernel', 'bias'].map((n) => layer.weights.find((v) => v.originalName.endsWith(n))!.read());
      const inputs = w.shape[w.shape.length - 2]; // kernel [in, out] (dense) or [kh, kw, in, out] (conv)
      const input = tf.randomUniform(layer.target.className === 'Dense' ? [3, inputs] : [3, 8, 8, inputs], -1, 1, 'float32', 4);
      const reference = tf.tidy(() => {
        const c = layer.target.config;
        let y: tf.Tensor;
        if (layer.target.className === 'Dense') {
          y = tf.add(tf.matMul(input as tf.Tensor2D, w as tf.Tensor2D), tf.mul(tf.matMul(tf.matMul(input as tf.Tensor2D, a as tf.Tensor2D), b as tf.Tensor2D), layer.scale));
        } else {
          const conv = (x: tf.Tensor, k: tf.Tensor, strides: number, padding: 'same' | 'valid') => tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, strides, padding);
          const padding = c.padding as 'same' | 'valid';
          y = tf.add(conv(input, w, 1, padding), tf.mul(conv(conv(input, a, 1, padding), b, 1, 'valid'), layer.scale));
        }
        y = tf.add(y, bias);
        return c.activation === 'relu' ? tf.relu(y) : y;
      });
      const got = layer.apply(input) as tf.Tensor;
      const diff = tf.max(tf.abs(tf.sub(got, reference))).dataSync()[0];
      assert.ok(diff < 1e-5, `${layer.name}: max |difference| ${diff}`);
      tf.dispose([input, reference, got]);
    }
  });

  it('LoRA with alpha/rank != 1: the scale enters the forward pass and the merge alike', async () => {
    const ft = await trained('lora', { rank: 3, loraAlpha: 1.5 });
    assert.equal(loraLayersOf(ft.model)[0].scale, 0.5);
    assert.ok(maxDiff(ft.model, mergeLora(ft.model), x) < 1e-5);
  });

  it('an unmerged LoRA model saves and reloads with loadModel (registered class) and predicts the same', async () => {
    const ft = await trained('lora');
    const dir = path.join(tmp, 'lora-unmerged');
    await saveModel(ft.model, dir);
    const reloaded = await loadModel(dir);
    assert.equal(reloaded.layers.filter((l) => l instanceof LoraLayer).length, 3);
    assert.equal(maxDiff(ft.model, reloaded, x), 0);
    for (const layer of reloaded.layers.filter((l) => l instanceof LoraLayer)) {
      assert.deepEqual(layer.trainableWeights.map((w) => w.originalName.split('/').pop()), ['lora_a', 'lora_b'], 'W and b stay frozen after reloading');
    }
    reloaded.dispose();
  });

  it('a merged LoRA model and an adapter model save, reload and predict the same', async () => {
    for (const method of ['lora', 'adapter'] as const) {
      const ft = await trained(method);
      const model = method === 'lora' ? mergeLora(ft.model) : ft.model;
      const dir = path.join(tmp, method);
      await saveModel(model, dir);
      const reloaded = await loadModel(dir);
      assert.equal(maxDiff(model, reloaded, x), 0, method);
      assert.deepEqual(getInsightMetadata(reloaded, dir).classNames, ['a', 'b']);
      reloaded.dispose();
    }
  });
});
