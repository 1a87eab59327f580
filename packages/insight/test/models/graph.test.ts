// Graph surgery on layers models: where the default cut falls and the blocks of the zoo's models, which layers
// a cut may use, and that rebuilding a graph re-applies the same layers (shared weights, same outputs) and lets a
// hook add a layer after one step.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { InsightError } from '../../src/errors';
import { createModel } from '../../src/models';
import { blocksOf, checkCutLayer, defaultCutLayer, graphSteps, rebuild } from '../../src/models/graph';

before(async () => {
  await initBackend();
});

describe('blocks and cut points', () => {
  it('seed-cnn and resnet: default cut before the classifier, blocks at graph boundaries', () => {
    const cnn = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 5, seed: 1 });
    assert.equal(defaultCutLayer(cnn), 'dense1');
    assert.deepEqual(blocksOf(cnn, 'dense1').map((b) => b.layers.map((l) => l.name)),
      [['conv1', 'pool1'], ['conv2', 'pool2'], ['conv3', 'flatten'], ['dense1']]);
    const resnet = createModel('resnet', { inputShape: [32, 32, 3], numClasses: 5, depth: 8, seed: 1 });
    assert.equal(defaultCutLayer(resnet), 'pool');
    const blocks = blocksOf(resnet, 'pool');
    assert.deepEqual(blocks.map((b) => b.adapterSite), ['stem_relu', 'stage1_block1_out', 'stage2_block1_out', 'stage3_block1_out']);
    assert.equal(blocks[2].layers.length, 9); // conv1 bn1 relu1 conv2 proj bn2 proj_bn add out
  });
});

describe('checkCutLayer', () => {
  const resnet = () => createModel('resnet', { inputShape: [32, 32, 3], numClasses: 5, depth: 8, seed: 1 });

  it('accepts a block boundary and returns its name', () => {
    assert.equal(checkCutLayer(resnet(), 'stage2_block1_out'), 'stage2_block1_out');
  });

  const cases: [string, string, RegExp][] = [
    ['an unknown layer', 'nope', /^cutAt must name a layer of the base model\. Received: cutAt="nope"\./],
    ['the output layer', 'logits', /^cutAt must be a layer before the output layer/],
    ['a layer inside a residual block', 'stage2_block1_conv1', /^cutAt must be a layer every path from input to output passes through/],
  ];
  for (const [what, name, message] of cases) {
    it(`rejects ${what}`, () => {
      const model = resnet();
      const layer = name === 'logits' ? model.layers[model.layers.length - 1].name : name;
      assert.throws(() => checkCutLayer(model, layer), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && message.test(e.message));
    });
  }
});

describe('rebuild', () => {
  it('re-applies the same layers: same weights, same output, up to `until`', () => {
    const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 5, seed: 1 });
    const steps = graphSteps(model);
    assert.equal(steps.length, model.layers.length);
    const input = tfl.input({ shape: [32, 32, 3] });
    const rebuilt = tfl.model({ inputs: input, outputs: rebuild(model, input).output });
    assert.equal(rebuilt.weights.length, model.weights.length);
    rebuilt.weights.forEach((w, i) => assert.equal(w, model.weights[i], 'weights are shared, not copied'));
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 3);
    const [a, b] = [model.predict(x) as tf.Tensor, rebuilt.predict(x) as tf.Tensor];
    assert.deepEqual(a.arraySync(), b.arraySync());
    const features = rebuild(model, tfl.input({ shape: [32, 32, 3] }), { until: defaultCutLayer(model) }).output;
    assert.deepEqual(features.shape, steps.find((s) => s.layer.name === defaultCutLayer(model))!.outputs[0].shape);
    tf.dispose([x, a, b]);
  });

  it('a hook can add a layer after one step', () => {
    const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 5, seed: 1 });
    const input = tfl.input({ shape: [32, 32, 3] });
    const extra = tfl.layers.activation({ activation: 'linear', name: 'tap' });
    const { output } = rebuild(model, input, {
      hook: (step, inputs, apply) => (step.layer.name === 'pool1' ? [extra.apply(apply(inputs)[0]) as tfl.SymbolicTensor] : undefined),
    });
    const rebuilt = tfl.model({ inputs: input, outputs: output });
    const names = rebuilt.layers.map((l) => l.name);
    assert.equal(names[names.indexOf('pool1') + 1], 'tap');
  });
});
