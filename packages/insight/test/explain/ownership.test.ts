// Who frees what (explain/model_views.ts): explain() frees everything of a model it loaded, Grad-CAM's taps and the
// memory's embedding cut included; a caller's model keeps working through any number of explanations, builds each
// view once (its layers' node lists do not grow), and its own dispose() then frees every weight — for a Sequential
// model, a ResNet tapped inside a residual block (layers in both halves of the tap), and a faithfulness copy.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { explain, explainBatch } from '../../src/explain/explain';
import { cloneModel } from '../../src/explain/faithfulness';
import { layerTap } from '../../src/explain/layer_tap';
import { embed, embeddingModel } from '../../src/explain/memory/embedding';
import { viewKeys } from '../../src/explain/model_views';
import { createModel } from '../../src/models';
import { saveModel } from '../../src/run/model_io';
import { SIZE, tinyExplainModel } from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-explain-ownership-'));
const modelDir = path.join(tmp, 'model');
const PIXELS = { pixels: Uint8Array.from({ length: SIZE * SIZE * 3 }, (_, i) => (i * 37) % 256), height: SIZE, width: SIZE };

/** Every method that builds a view (Grad-CAM, Grad-CAM++), and one per-pixel gradient method, a few times over. */
async function explainRepeatedly(model: tfl.LayersModel, x: tf.Tensor4D, times: number, layer?: string): Promise<void> {
  for (let i = 0; i < times; i++) {
    const results = await explainBatch(model, x, Array.from({ length: x.shape[0] }, (_, r) => r % 2), ['gradcam', 'gradcam++', 'saliency'], { layer });
    tf.dispose(results.map((r) => r.map));
  }
}

/** The model's logits on x, as plain numbers. */
function logits(model: tfl.LayersModel, x: tf.Tensor4D): number[] {
  return tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
}

before(async () => {
  await initBackend();
  const model = tinyExplainModel(5);
  await saveModel(model, modelDir);
  model.dispose();
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('explanations own nothing of the model', () => {
  it('explain() on a model path frees the model it loaded, with its taps: no tensor is left, call after call', async () => {
    await explain({ model: modelDir, images: [PIXELS], methods: ['saliency'] }); // warm-up: kernels and caches created once
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const result = await explain({ model: modelDir, images: [PIXELS, PIXELS], methods: ['gradcam', 'gradcam++', 'ig'], steps: 4 });
      assert.equal(result.images[0].methods.gradcam?.layer, 'c2');
      assert.equal(tf.memory().numTensors, before, `call ${i + 1}: the 4 weights of the loaded model and its tap are freed`);
    }
  });

  it('a caller\'s model keeps working and builds each view once; its dispose() frees every weight', async () => {
    const empty = tf.memory().numTensors;
    const model = tinyExplainModel(9);
    const x = tf.randomUniform([3, SIZE, SIZE, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
    const expected = logits(model, x);
    const nodes = model.layers.map((layer) => layer.inboundNodes.length);
    await explainRepeatedly(model, x, 3);
    embed(embeddingModel(model), x).dispose();
    embed(embeddingModel(model), x).dispose();
    assert.equal(layerTap(model, 'c2'), layerTap(model, 'c2'), 'the tap is built once and reused');
    assert.deepEqual(viewKeys(model), ['tap c2', 'embedding pool']);
    assert.deepEqual(model.layers.map((layer) => layer.inboundNodes.length), nodes.map((n) => n + 1), 'one tap: one node more per layer, not one per call');
    assert.deepEqual(logits(model, x), expected, 'the model computes what it computed before');
    x.dispose();
    model.dispose();
    assert.equal(tf.memory().numTensors, empty, 'model.dispose() freed the weights the views share');
  });

  it('a ResNet tapped inside a residual block (layers in both halves of the tap) and at its default layer: dispose() frees it all', async () => {
    const empty = tf.memory().numTensors;
    const model = createModel('resnet', { inputShape: [16, 16, 3], numClasses: 5, depth: 8, width: 4, seed: 2 });
    const weights = model.weights.length;
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    await explainRepeatedly(model, x, 2);
    await explainRepeatedly(model, x, 2, 'stage3_block1_conv2');
    await explainRepeatedly(model, x, 1, 'stage2_block1_conv1');
    embed(embeddingModel(model), x).dispose();
    assert.deepEqual(viewKeys(model), ['tap stage3_block1_out', 'tap stage3_block1_conv2', 'tap stage2_block1_conv1', 'embedding pool']);
    assert.equal(tf.memory().numTensors, empty + weights + 1, 'only the weights and x are held');
    x.dispose();
    model.dispose();
    assert.equal(tf.memory().numTensors, empty);
  });

  it('a faithfulness copy (cloneModel) explained with Grad-CAM is freed by its dispose(); the original is untouched', async () => {
    const model = tinyExplainModel(11);
    const x = tf.randomUniform([2, SIZE, SIZE, 3], -1, 1, 'float32', 8) as tf.Tensor4D;
    const expected = logits(model, x);
    const before = tf.memory().numTensors;
    const copy = await cloneModel(model);
    await explainRepeatedly(copy, x, 2);
    copy.dispose();
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(logits(model, x), expected);
    x.dispose();
    model.dispose();
  });
});
