// exportOnnx (fp32): exported models run in ONNX Runtime (onnxruntime-node) and give tfjs's outputs within 1e-4
// (max abs difference), and python3-onnx's onnx.checker (full_check) accepts them: the zoo's seed-cnn and resnet,
// a functional model with every supported layer class and activation, nested models, fine-tuned models (LoRA
// exported merged, adapters, a visual prompt), the spatial layers. Unsupported layers and options get the house
// error naming the layer and listing the supported classes.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { buildFinetuneModel } from '../../src/finetune/build';
import { createModel } from '../../src/models';
import { exportOnnx, readOnnxMetadata, SUPPORTED_LAYERS } from '../../src/onnx';
import { tinyBase } from '../finetune/tiny_base';
import { checkOnnx, opCounts, randomizeWeights, runBoth } from './onnx_helpers';

type SymbolicTensor = tfl.SymbolicTensor;

const TOLERANCE = 1e-4;

before(async () => {
  await initBackend();
});

const images = (n: number, size: number, seed: number) => tf.randomUniform([n, size, size, 3], 0, 1, 'float32', seed);

/** Exports `model`, checks the file, compares with tfjs on `x`; returns the max abs difference. */
async function matches(model: tfl.LayersModel, x: tf.Tensor, opset?: number): Promise<Record<string, number>> {
  const result = await runBoth(model, x, opset === undefined ? {} : { opset });
  assert.equal(result.onnx.length, result.tfjs.length);
  assert.ok(result.maxDiff <= TOLERANCE, `max |tfjs - onnx| = ${result.maxDiff} > ${TOLERANCE}`);
  if (process.env.INSIGHT_ONNX_REPORT) console.log(`${model.name}: max |tfjs - onnx| = ${result.maxDiff}`);
  checkOnnx(result.bytes);
  return opCounts(result.bytes);
}

/** A functional model with every supported layer class and activation function. */
function everyLayerModel(): tfl.LayersModel {
  const L = tfl.layers;
  const input = tfl.input({ shape: [12, 12, 3], name: 'image' });
  const ap = <T extends tfl.layers.Layer>(layer: T, x: SymbolicTensor | SymbolicTensor[]) => layer.apply(x) as SymbolicTensor;
  let x = ap(L.rescaling({ scale: 2, offset: -1, name: 'rescale' }), input);
  x = ap(L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_relu' }), x);
  const bnAfterRelu = ap(L.batchNormalization({ name: 'bn_unfolded' }), x); // not foldable: the conv has an activation
  const strided = ap(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv_s2' }), bnAfterRelu);
  const folded = ap(L.batchNormalization({ name: 'bn_folded' }), strided); // folded into conv_s2
  const dilated = ap(L.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', name: 'conv_dilated' }), folded);
  const depthwise = ap(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'depthwise' }), folded);
  const separable = ap(L.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'elu', name: 'separable' }), folded);
  const pointwise = ap(L.dense({ units: 8, name: 'dense_on_maps' }), depthwise); // Dense on [b, h, w, c]
  const added = ap(L.add({ name: 'add' }), [dilated, separable, pointwise]);
  const merged = [
    ap(L.multiply({ name: 'multiply' }), [dilated, separable]),
    ap(L.average({ name: 'average' }), [dilated, separable]),
    ap(L.maximum({ name: 'maximum' }), [dilated, pointwise]),
    ap(L.minimum({ name: 'minimum' }), [separable, pointwise]),
  ];
  // Every activation function, on the same maps, concatenated along channels.
  const activations = ['relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'linear', 'elu', 'selu', 'swish', 'softplus', 'softsign',
    'hardSigmoid', 'gelu', 'gelu_new', 'mish'] as const;
  const branches = activations.map((a) => ap(L.activation({ activation: a as 'relu', name: `act_${a}` }), added));
  const layerActivations = [
    ap(L.reLU({ maxValue: 0.5, name: 'relu_layer' }), added),
    ap(L.leakyReLU({ alpha: 0.2, name: 'leaky' }), added),
    ap(L.elu({ name: 'elu_layer' }), added),
    ap(L.softmax({ axis: -1, name: 'softmax_layer' }), added),
  ];
  let maps = ap(L.concatenate({ axis: -1, name: 'concat_channels' }), [...merged, ...branches, ...layerActivations]);
  maps = ap(L.batchNormalization({ name: 'bn_after_concat' }), maps);
  maps = ap(L.dropout({ rate: 0.5, name: 'dropout' }), maps);
  maps = ap(L.gaussianNoise({ stddev: 0.1, name: 'noise' }), maps);
  const maxPooled = ap(L.maxPooling2d({ poolSize: 2, padding: 'valid', name: 'max_valid' }), maps);
  const avgSame = ap(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg_same' }), maps); // padded cells not counted
  const vectors = [
    ap(L.globalAveragePooling2d({ name: 'gap' }), maxPooled),
    ap(L.globalMaxPooling2d({ name: 'gmp' }), avgSame),
    ap(L.flatten({ name: 'flatten' }), ap(L.permute({ dims: [2, 1, 3], name: 'permute' }), avgSame)),
    ap(L.flatten({ name: 'flatten_reshaped' }), ap(L.reshape({ targetShape: [9, 8, 23], name: 'reshape' }), maxPooled)),
  ];
  let v = ap(L.concatenate({ name: 'concat_vectors' }), vectors);
  v = ap(L.dense({ units: 16, activation: 'gelu', name: 'dense_gelu' }), v);
  v = ap(L.batchNormalization({ name: 'bn_dense_unfolded' }), v);
  v = ap(L.dense({ units: 16, name: 'dense_linear' }), v);
  v = ap(L.batchNormalization({ name: 'bn_dense_folded' }), v);
  const logits = ap(L.dense({ units: 5, name: 'logits' }), v);
  return tfl.model({ inputs: input, outputs: logits, name: 'every_layer' });
}

describe('exportOnnx fp32: ONNX Runtime gives tfjs\'s outputs', () => {
  it('seed-cnn (the zoo), with its Insight metadata in metadata_props', async () => {
    const model = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 10, seed: 3 });
    const ops = await matches(model, images(4, 24, 1));
    // NCHW inside: one Transpose after the input, one before Flatten (Dense weights keep Keras's order).
    assert.deepEqual([ops.Transpose, ops.Conv, ops.MaxPool, ops.Gemm, ops.Relu], [2, 3, 2, 2, 4]);
    const meta = readOnnxMetadata(exportOnnx(model));
    assert.deepEqual(meta?.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.deepEqual(meta?.inputShape, [24, 24, 3]);
    assert.equal(meta?.architecture, 'seed-cnn');
  });

  it('resnet (the zoo) with random BatchNorm statistics, folded into its convolutions; opset 17 too', async () => {
    const model = createModel('resnet', { inputShape: [16, 16, 3], numClasses: 10, seed: 3 });
    randomizeWeights(model, 2);
    const ops = await matches(model, images(3, 16, 2));
    assert.equal(ops.BatchNormalization, undefined);
    assert.equal(ops.Conv, 21);
    await matches(model, images(2, 16, 3), 17);
  });

  it('a functional model with every supported layer class and activation', async () => {
    const model = everyLayerModel();
    randomizeWeights(model, 3);
    const ops = await matches(model, images(3, 12, 4));
    const live = tf.memory().numTensors;
    exportOnnx(model);
    assert.equal(tf.memory().numTensors, live, 'the writer frees every tensor it makes');
    assert.equal(ops.BatchNormalization, 2); // bn_unfolded, bn_after_concat (4-D); the 2-D one is Mul/Add
    for (const op of ['AveragePool', 'GlobalMaxPool', 'Concat', 'Erf', 'HardSigmoid', 'Selu', 'LeakyRelu', 'Softmax', 'Clip']) {
      assert.ok((ops[op] ?? 0) > 0, `${op} missing`);
    }
  });

  it('nested models: a Sequential and a functional model used as layers', async () => {
    const block = tfl.sequential({ name: 'block' });
    block.add(tfl.layers.conv2d({ inputShape: [10, 10, 4], filters: 6, kernelSize: 3, name: 'inner_conv' }));
    block.add(tfl.layers.batchNormalization({ name: 'inner_bn' }));
    block.add(tfl.layers.activation({ activation: 'relu', name: 'inner_relu' }));
    const innerIn = tfl.input({ shape: [8, 8, 6] });
    const innerOut = tfl.layers.maxPooling2d({ poolSize: 2, name: 'inner_pool' }).apply(innerIn) as SymbolicTensor;
    const inner = tfl.model({ inputs: innerIn, outputs: tfl.layers.flatten({ name: 'inner_flatten' }).apply(innerOut) as SymbolicTensor, name: 'head_block' });
    const input = tfl.input({ shape: [10, 10, 3], name: 'image' });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'outer_conv' }).apply(input) as SymbolicTensor;
    x = inner.apply(block.apply(x)) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3, name: 'logits' }).apply(x) as SymbolicTensor });
    randomizeWeights(model, 4);
    await matches(model, images(2, 10, 5));
  });

  for (const method of ['lora', 'adapter', 'prompt'] as const) {
    it(`a fine-tuned model (${method}${method === 'lora' ? ', exported merged' : ''})`, async () => {
      const ft = buildFinetuneModel(tinyBase(5), { numClasses: 2, method, rank: 2, loraAlpha: 4, adapterBottleneck: 2, promptWidth: 2, seed: 9 });
      randomizeWeights(ft.model, 5); // LoRA's B nonzero: the merge matters
      if (method === 'lora') assert.ok(ft.model.layers.some((l) => l.getClassName() === 'InsightLora'));
      await matches(ft.model, images(3, 8, 6));
    });
  }

  it('ZeroPadding2D, Cropping2D, UpSampling2D (nearest and bilinear)', async () => {
    const input = tfl.input({ shape: [6, 7, 3], name: 'image' });
    let x = tfl.layers.zeroPadding2d({ padding: [[1, 2], [0, 3]], name: 'pad' }).apply(input) as SymbolicTensor;
    x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv' }).apply(x) as SymbolicTensor;
    x = tfl.layers.cropping2D({ cropping: [[1, 0], [2, 1]], name: 'crop' }).apply(x) as SymbolicTensor;
    const near = tfl.layers.upSampling2d({ size: [2, 3], name: 'up_nearest' }).apply(x) as SymbolicTensor;
    const bilinear = tfl.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear', name: 'up_bilinear' }).apply(x) as SymbolicTensor;
    const out = tfl.layers.concatenate({ name: 'concat' }).apply([near, bilinear]) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    randomizeWeights(model, 6);
    const result = await runBoth(model, tf.randomUniform([2, 6, 7, 3], 0, 1, 'float32', 7));
    assert.equal(result.onnx.length, 2 * 12 * 15 * 8);
    assert.ok(result.maxDiff <= TOLERANCE, `max diff ${result.maxDiff}`);
    checkOnnx(result.bytes);
  });
});

describe('exportOnnx: errors', () => {
  it('an unsupported layer: the house error names it and lists the supported classes', () => {
    const input = tfl.input({ shape: [4, 4, 3] });
    const norm = tfl.layers.layerNormalization({ name: 'my_norm' }).apply(input) as SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.flatten().apply(norm) as SymbolicTensor });
    assert.throws(() => exportOnnx(model), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INSIGHT_E_MODEL');
      assert.match(error.message, /^ONNX export writes only the layer classes it knows\. Received: layer="my_norm", class="LayerNormalization"\./);
      assert.match(error.message, /Supported classes: Conv2D, DepthwiseConv2D, .*Dense.*BatchNormalization.*Concatenate/);
      assert.equal(SUPPORTED_LAYERS.includes('LayerNormalization'), false);
      return true;
    });
  });

  it('an unsupported configuration of a supported layer, and a bad opset', () => {
    const model = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [3, 6, 6], filters: 2, kernelSize: 3, dataFormat: 'channelsFirst', name: 'nchw_conv' })] });
    assert.throws(() => exportOnnx(model), /cannot write this layer's configuration\. Received: layer="nchw_conv", class="Conv2D", reason="only channelsLast convolutions are supported"/);
    assert.throws(() => exportOnnx(createModel('seed-cnn', { inputShape: [20, 20, 3], numClasses: 2, seed: 1 }), { opset: 11 }),
      /The ONNX opset must be an integer from 13 to 17\. Received: opset=11\./);
  });
});
