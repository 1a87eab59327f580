// Grad-CAM and Grad-CAM++ on tfjs layers models: which layer they read (and report), the house errors when the
// model or the named layer cannot be read, shapes and freed tensors, a residual model (also a layer inside a
// block), batching by internalBatchSize, and a model whose two classes look at two different halves of the image,
// where the maps are known in closed form. Agreement with PyTorch is pytorch_fixtures.test.ts.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { InsightError } from '../../src/errors';
import type { MethodOptions } from '../../src/explain/attribution';
import { METHOD_DEFAULTS } from '../../src/explain/defaults';
import { camLayer, layerGradients, layerTap } from '../../src/explain/layer_tap';
import { gradCam, gradCamPlusPlus } from '../../src/explain/methods/grad_cam';
import { createModel } from '../../src/models';
import { tapLayer } from '../../src/models/graph';

before(async () => {
  await initBackend();
});

const OPTIONS: MethodOptions = { ...METHOD_DEFAULTS, internalBatchSize: 64 };

const seedCnn = () => createModel('seed-cnn', { inputShape: [18, 18, 3], numClasses: 5, seed: 1 });
const resnet = () => createModel('resnet', { inputShape: [16, 16, 3], numClasses: 5, depth: 8, width: 4, seed: 2 });
const images = (n: number, size: number, seed = 7) => tf.randomUniform([n, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D;

/** conv(3x3) → Activation relu → MaxPool → Flatten → Dense: the default layer is the ReLU before the pool. */
function convReluPool(): tfl.LayersModel {
  const model = tfl.sequential({ name: 'conv_relu_pool' });
  model.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', name: 'conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  model.add(tfl.layers.activation({ activation: 'relu', name: 'relu' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }));
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  model.add(tfl.layers.dense({ units: 3, name: 'logits', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }));
  return model;
}

describe('camLayer: the layer Grad-CAM reads', () => {
  it('defaults to the last convolution\'s feature map, through the layers that keep its size', () => {
    assert.equal(camLayer(seedCnn(), 'gradcam'), 'conv3');
    assert.equal(camLayer(resnet(), 'gradcam'), 'stage3_block1_out');
    assert.equal(camLayer(convReluPool(), 'gradcam'), 'relu');
  });

  it('takes a named layer with a 4D output, also one inside a residual block', () => {
    assert.equal(camLayer(resnet(), 'gradcam', 'stage3_block1_conv2'), 'stage3_block1_conv2');
    assert.equal(camLayer(seedCnn(), 'gradcam', 'pool1'), 'pool1');
  });

  it('tapLayer itself refuses an unknown layer with the house message (camLayer checks before it)', () => {
    const model = convReluPool();
    assert.throws(() => tapLayer(model, 'nope'), (e: InsightError) => e.code === 'INSIGHT_E_CONFIG'
      && e.message === 'A tapped layer must be a layer of the model. Received: model="conv_relu_pool", layer="nope". '
      + 'Tap one of: conv, relu, pool, flatten, logits.');
    model.dispose();
  });

  const mlp = () => {
    const model = tfl.sequential({ name: 'mlp' });
    model.add(tfl.layers.flatten({ inputShape: [4, 4, 3], name: 'flatten' }));
    model.add(tfl.layers.dense({ units: 2, name: 'logits' }));
    return model;
  };
  const shared = () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'twice' });
    const twice = conv.apply(conv.apply(input)) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(twice) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, name: 'logits' }).apply(pooled) as tfl.SymbolicTensor, name: 'shared' });
  };
  const cases: [string, () => tfl.LayersModel, string | undefined, string][] = [
    ['a model without a convolution', mlp, undefined,
      'Grad-CAM needs a convolutional layer (a 4D kernel and a 4D [n, h, w, c] output). Received: model="mlp", ' +
      'layers=["flatten (Flatten)","logits (Dense)"]. Use a method that needs no convolution: saliency, ig, smoothgrad or occlusion.'],
    ['a layer the model does not have', seedCnn, 'conv9',
      'layer must name a layer of the model (Grad-CAM reads its activations). Received: layer="conv9". ' +
      'Use one of the layers with a 4D output: conv1, pool1, conv2, pool2, conv3.'],
    ['a layer without a 4D output', seedCnn, 'dense1',
      'Grad-CAM needs a layer with a 4D [n, h, w, c] output (a feature map). Received: layer="dense1", outputShape=[[null,64]]. ' +
      'Use one of the layers with a 4D output: conv1, pool1, conv2, pool2, conv3.'],
    ['a named layer in a model without feature maps', mlp, 'logits',
      'Grad-CAM needs a layer with a 4D [n, h, w, c] output (a feature map). Received: layer="logits", outputShape=[[null,2]]. ' +
      'Use saliency or ig: mlp has no layer with a 4D output that is applied once.'],
    ['a layer applied twice', shared, 'twice',
      'Grad-CAM needs a layer applied once in the model (a shared layer has several outputs). Received: layer="twice". ' +
      'Use saliency or ig: shared has no layer with a 4D output that is applied once.'],
  ];
  for (const [what, build, layer, message] of cases) {
    it(`rejects ${what} (INSIGHT_E_CONFIG, house message)`, async () => {
      const model = build();
      const x = tf.zeros([1, ...model.inputs[0].shape.slice(1)] as [number, number, number, number]) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      await assert.rejects(gradCam(model, x, Int32Array.of(0), { ...OPTIONS, layer }),
        (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && e.message === message);
      assert.equal(tf.memory().numTensors, before);
      x.dispose();
    });
  }
});

describe('gradCam and gradCamPlusPlus', () => {
  for (const [name, method] of [['gradcam', gradCam], ['gradcam++', gradCamPlusPlus]] as const) {
    it(`${name}: [n, H, W] maps >= 0 at input size, the layer reported, nothing else left allocated`, async () => {
      const model = seedCnn();
      const x = images(3, 18);
      const before = tf.memory().numTensors;
      const result = await method(model, x, Int32Array.of(0, 3, 4), OPTIONS);
      assert.equal(result.method, name);
      assert.equal(result.layer, 'conv3');
      assert.deepEqual(result.map.shape, [3, 18, 18]);
      assert.equal(tf.memory().numTensors, before + 1, 'only the map stays');
      const values = result.map.dataSync();
      assert.ok(values.every((v) => v >= 0 && Number.isFinite(v)));
      assert.ok(values.some((v) => v > 0));
      tf.dispose([x, result.map]);
    });
  }

  it('a residual model: the last block\'s output by default, or a convolution inside the block', async () => {
    const model = resnet();
    const x = images(2, 16);
    const targets = Int32Array.of(1, 2);
    const before = tf.memory().numTensors;
    const byDefault = await gradCam(model, x, targets, OPTIONS);
    const inside = await gradCamPlusPlus(model, x, targets, { ...OPTIONS, layer: 'stage3_block1_conv2' });
    assert.deepEqual([byDefault.layer, inside.layer], ['stage3_block1_out', 'stage3_block1_conv2']);
    assert.deepEqual([byDefault.map.shape, inside.map.shape], [[2, 16, 16], [2, 16, 16]]);
    assert.equal(tf.memory().numTensors, before + 2);
    // The tap around a layer inside a block reproduces the model: (x, A(x)) → the model's own logits.
    const tap = layerTap(model, 'stage3_block1_conv2');
    const logits = tf.tidy(() => {
      const rebuilt = tap.fromActivations.apply([x, tap.activations.apply(x) as tf.Tensor]) as tf.Tensor;
      return tf.max(tf.abs(tf.sub(rebuilt, model.apply(x) as tf.Tensor))).dataSync()[0];
    });
    assert.ok(logits < 1e-5, `tap reproduces the logits: max |diff| = ${logits}`);
    tf.dispose([x, byDefault.map, inside.map]);
  });

  it('the gradient through the tap equals a finite difference of the target logit', () => {
    const model = resnet();
    const x = images(1, 16, 9);
    const tap = layerTap(model, 'stage3_block1_conv2');
    const { activations, gradients } = layerGradients(tap, x, Int32Array.of(3));
    const target = (a: tf.Tensor) => tf.tidy(() => (tap.fromActivations.apply([x, a]) as tf.Tensor).arraySync() as number[][])[0][3];
    // Central difference along the gradient's own direction: d/dt f(A + t·u) = |g| for u = g / |g|.
    const norm = tf.tidy(() => tf.norm(gradients).dataSync()[0]);
    const eps = 1e-2;
    const [plus, minus] = [eps, -eps].map((t) => tf.tidy(() => tf.add(activations, tf.mul(gradients, t / norm))));
    const slope = (target(plus) - target(minus)) / (2 * eps);
    assert.ok(Math.abs(slope - norm) < 1e-3 * norm, `finite difference ${slope} vs |gradient| ${norm}`);
    tf.dispose([x, activations, gradients, plus, minus]);
  });

  it('internalBatchSize splits the batch without changing the maps', async () => {
    const model = seedCnn();
    const x = images(5, 18, 11);
    const targets = Int32Array.of(0, 1, 2, 3, 4);
    const whole = await gradCamPlusPlus(model, x, targets, OPTIONS);
    const before = tf.memory().numTensors;
    const split = await gradCamPlusPlus(model, x, targets, { ...OPTIONS, internalBatchSize: 2 });
    assert.equal(tf.memory().numTensors, before + 1);
    assert.deepEqual(split.map.shape, [5, 18, 18]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(whole.map, split.map))).dataSync()[0]);
    assert.ok(diff < 1e-6, `max |whole - split| = ${diff}`);
    tf.dispose([x, whole.map, split.map]);
  });
});

describe('class-specific maps in closed form', () => {
  // Two input channels: channel 0 carries a square on the left half, channel 1 one on the right half. A 1x1
  // convolution copies them (A = x), global average pooling and an identity Dense make logit c = mean of channel c.
  // So ∂y_c/∂A = 1/64 on channel c and 0 on the other: Grad-CAM's cam for class c is A_c / 64, Grad-CAM++'s is
  // 64 α g · A_c with α = g² / (2g² + ΣA_c·g³ + 1e-6), g = 1/64: the square of class c's half, nothing elsewhere.
  function halves(): { model: tfl.LayersModel; x: tf.Tensor4D; left: Float32Array; right: Float32Array } {
    const model = tfl.sequential({ name: 'halves' });
    model.add(tfl.layers.conv2d({ inputShape: [8, 8, 2], filters: 2, kernelSize: 1, useBias: false, name: 'copy' }));
    model.add(tfl.layers.globalAveragePooling2d({ name: 'gap' }));
    model.add(tfl.layers.dense({ units: 2, useBias: false, name: 'logits', kernelInitializer: 'identity' }));
    const copy = tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]);
    model.getLayer('copy').setWeights([copy]);
    copy.dispose();
    const left = new Float32Array(64);
    const right = new Float32Array(64);
    for (let r = 2; r < 6; r++) for (let c = 0; c < 3; c++) [left[r * 8 + c], right[r * 8 + 7 - c]] = [1 + r, 2 + c];
    const pixels = new Float32Array(128);
    for (let i = 0; i < 64; i++) [pixels[2 * i], pixels[2 * i + 1]] = [left[i], right[i]];
    return { model, x: tf.tensor4d(pixels, [1, 8, 8, 2]), left, right };
  }

  it('Grad-CAM: class 0 shows the left square, class 1 the right one', async () => {
    const { model, x, left, right } = halves();
    const both = tf.concat([x, x]) as tf.Tensor4D;
    const { map, layer } = await gradCam(model, both, Int32Array.of(0, 1), OPTIONS);
    assert.equal(layer, 'copy');
    const values = map.dataSync();
    assert.deepEqual(Array.from(values.slice(0, 64), (v) => Math.round(v * 64 * 1e4) / 1e4), Array.from(left));
    assert.deepEqual(Array.from(values.slice(64), (v) => Math.round(v * 64 * 1e4) / 1e4), Array.from(right));
    tf.dispose([x, both, map]);
  });

  it('Grad-CAM++: the same squares, scaled by 64 α g', async () => {
    const { model, x, left, right } = halves();
    const both = tf.concat([x, x]) as tf.Tensor4D;
    const { map } = await gradCamPlusPlus(model, both, Int32Array.of(0, 1), OPTIONS);
    const values = map.dataSync();
    const g = 1 / 64;
    for (const [image, channel] of [[0, left], [1, right]] as const) {
      const sumA = channel.reduce((s, v) => s + v, 0);
      const scale = 64 * g * (g * g / (2 * g * g + sumA * g ** 3 + 1e-6));
      channel.forEach((a, i) => assert.ok(Math.abs(values[image * 64 + i] - scale * a) <= 1e-6 + 1e-5 * scale * a,
        `image ${image} pixel ${i}: ${values[image * 64 + i]} vs ${scale * a}`));
    }
    tf.dispose([x, both, map]);
  });
});

describe('layerGradients on inference ops (BatchNorm and ReLU folded into convolutions)', () => {
  it('Grad-CAM\'s tap on a convolution, its BatchNorm or its ReLU: the activations and their gradients are the layers\' own', async () => {
    const model = createModel('resnet', { inputShape: [20, 20, 3], numClasses: 10, seed: 3 });
    const x = tf.randomUniform([3, 20, 20, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const targets = Int32Array.of(1, 5, 9);
    for (const layer of ['stage2_block1_conv1', 'stage2_block1_bn1', 'stage2_block1_relu1', 'stage3_block3_out']) {
      const tap = layerTap(model, layer);
      const pick = tf.oneHot(tf.tensor1d(targets, 'int32'), 10);
      const own = tf.tidy(() => {
        const a = tap.activations.apply(x, { training: false }) as tf.Tensor;
        const logits = (t: tf.Tensor) => tf.sum(tf.mul(tap.fromActivations.apply([x, t], { training: false }) as tf.Tensor, pick));
        return [a, tf.grad(logits)(a)];
      });
      const { activations, gradients } = layerGradients(tap, x, targets);
      for (const [mine, theirs] of [[activations, own[0]], [gradients, own[1]]]) {
        const [a, b] = [await theirs.data(), await mine.data()];
        const scale = Math.max(...Array.from(a, Math.abs));
        assert.ok(scale > 0 && a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 * scale), layer);
      }
      tf.dispose([...own, activations, gradients, pick]);
    }
    tf.dispose(x);
    model.dispose();
  });
});
