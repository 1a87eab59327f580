// Splitting a model into pipeline stages: the default FLOPs balance and the params balance on the seed CNN,
// given boundaries, a functional chain split like a Sequential one, the balanced partition itself, micro-batch
// sizes and message tags, and the errors for models and options that cannot be split.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend } from '../../../src/backend';
import { buildSeedCnn } from '../../../src/models';
import { balancedStarts, microBatchSizes, pipelineTag, splitModel } from '../../../src/train/pipeline';

before(async () => {
  await initBackend();
});

const seedCnn = () => buildSeedCnn({ inputShape: [32, 32, 3], numClasses: 10, dropout: 0, seed: 1 });

/** input [8] → dense(16) → dense(12) → dense(4), as a functional model. */
function functionalChain(): tfl.LayersModel {
  const input = tfl.input({ shape: [8] });
  let h = tfl.layers.dense({ units: 16, name: 'fa' }).apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.dense({ units: 12, name: 'fb' }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 4, name: 'fc' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: 'chain' });
}

describe('splitModel', () => {
  it('balances the seed CNN by FLOPs by default: conv1+pool1 | the rest, with every parameter in one stage', () => {
    const model = seedCnn();
    const [first, last] = splitModel(model, { stages: 2 });
    assert.deepEqual([first.start, first.end, last.start, last.end], [0, 2, 2, 8]);
    assert.deepEqual(first.layerNames, ['conv1', 'pool1']);
    assert.deepEqual([first.params, last.params], [896, 121_674]);
    assert.equal(first.params + last.params, model.countParams());
    // conv1: 2 x (3·3·3·32) x 30·30 = 1,555,200 + pool1's 15·15·32 = 7,200 outputs.
    assert.equal(first.flops, 1_562_400);
    assert.deepEqual([first.inputShape, first.outputShape, last.inputShape, last.outputShape], [[32, 32, 3], [15, 15, 32], [15, 15, 32], [10]]);
    model.dispose();
  });

  it('balances by parameter count on request, and takes given boundaries', () => {
    const model = seedCnn();
    const byParams = splitModel(model, { stages: 2, balance: 'params' });
    assert.deepEqual(byParams.map((s) => s.layerNames[0]), ['conv1', 'flatten']);
    assert.deepEqual(byParams.map((s) => s.params), [56_320, 66_250]);
    const three = splitModel(model, { stages: 3, boundaries: [2, 6] });
    assert.deepEqual(three.map((s) => s.layerNames), [['conv1', 'pool1'], ['conv2', 'pool2', 'conv3', 'flatten'], ['dense1', 'logits']]);
    assert.deepEqual(three.map((s) => s.inputShape), [[32, 32, 3], [15, 15, 32], [1024]]);
    model.dispose();
  });

  it('splits a functional chain like a Sequential model (its InputLayer is not a layer of any stage)', () => {
    const model = functionalChain();
    const stages = splitModel(model, { stages: 3 });
    assert.deepEqual(stages.map((s) => s.layerNames), [['fa'], ['fb'], ['fc']]);
    assert.deepEqual(stages.map((s) => s.params), [8 * 16 + 16, 16 * 12 + 12, 12 * 4 + 4]);
    model.dispose();
  });

  it('balancedStarts minimises the costliest stage, ties to the earliest cut', () => {
    assert.deepEqual(balancedStarts([1, 1, 1, 1], 2), [0, 2]);
    assert.deepEqual(balancedStarts([5, 1, 1, 1, 1, 1], 2), [0, 1]);
    assert.deepEqual(balancedStarts([1, 2, 3, 4, 5, 6], 3), [0, 3, 5]); // 6 | 9 | 6
    assert.deepEqual(balancedStarts([7, 7, 7], 3), [0, 1, 2]);
    assert.deepEqual(balancedStarts([3, 0, 0, 3], 2), [0, 1]);
  });

  it('refuses a model with fewer layers than stages', () => {
    const model = functionalChain();
    assert.throws(() => splitModel(model, { stages: 4 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INSIGHT_E_CONFIG');
      assert.match(error.message, /A pipeline stage holds at least one layer: the model needs as many layers as stages\. Received: model="chain", layers=3, stages=4\. Use at most 3 stages/);
      return true;
    });
    model.dispose();
  });

  it('refuses a model with a skip connection, naming the layer that breaks the chain', () => {
    const input = tfl.input({ shape: [8] });
    const a = tfl.layers.dense({ units: 8, name: 'a' }).apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({ units: 8, name: 'b' }).apply(a) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({ name: 'skip' }).apply([a, b]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: sum, name: 'residual' });
    assert.throws(() => splitModel(model, { stages: 2 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INSIGHT_E_CONFIG');
      assert.match(error.message, /^A pipeline splits a sequential model \(a chain of layers/);
      assert.match(error.message, /Received: model="residual", why="layer \\"skip\\" takes \[\\"a\\",\\"b\\"\], not just \\"b\\""/);
      assert.match(error.message, /cannot be split; train it data-parallel instead\.$/);
      return true;
    });
    model.dispose();
  });

  it('refuses a chain with a layer of several outputs (INSIGHT_E_CONFIG naming it), not a plain Error', () => {
    // An LSTM returning its states: the next layer takes only its output, so the chain holds, but no stage can cut there.
    const input = tfl.input({ shape: [4, 3] });
    const [sequence] = tfl.layers.lstm({ units: 5, returnState: true, recurrentInitializer: 'glorotUniform', name: 'lstm' }).apply(input) as tfl.SymbolicTensor[];
    const out = tfl.layers.dense({ units: 2, name: 'head' }).apply(sequence) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out, name: 'stateful' });
    assert.throws(() => splitModel(model, { stages: 2 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INSIGHT_E_CONFIG');
      assert.match(error.message, /^A pipeline stage's layers each take one tensor and give one \(a chain\)\. Received: layer="lstm", shape="\[\[null,5\],\[null,5\],\[null,5\]\]"\. Split a Sequential model/);
      return true;
    });
    model.dispose();
  });

  it('refuses boundaries that are not stages-1 increasing indices inside the model', () => {
    const model = seedCnn();
    const bad: [number, number[]][] = [[2, [0]], [2, [8]], [3, [3, 3]], [3, [5, 2]], [3, [2]], [2, [2.5]]];
    for (const [stages, boundaries] of bad) {
      assert.throws(() => splitModel(model, { stages, boundaries }),
        new RegExp(`Stage boundaries are stages-1 strictly increasing layer indices in 1\\.\\.layers-1 \\(where stages 1\\.\\. start\\)\\. Received: boundaries=${JSON.stringify(boundaries).replace(/[[\]]/g, '\\$&')}, stages=${stages}, layers=8\\.`));
    }
    assert.throws(() => splitModel(model, { stages: 0 }), /A pipeline needs a whole number of stages >= 1\. Received: stages=0\./);
    model.dispose();
  });
});

describe('micro-batches and tags', () => {
  it('cuts a batch into M micro-batches whose sizes differ by at most one, and refuses M > batch', () => {
    assert.deepEqual(microBatchSizes(10, 4), [3, 3, 2, 2]);
    assert.deepEqual(microBatchSizes(8, 1), [8]);
    assert.throws(() => microBatchSizes(3, 4), /Micro-batches per step must be a whole number from 1 to the batch size\. Received: microBatches=4, batchSize=3\./);
  });

  it('gives every message of a step its own tag, different from the next step\'s', () => {
    const tags = [0, 1].flatMap((step) => [0, 1, 2, 3].flatMap((m) => [pipelineTag(step, 4, m, 'forward'), pipelineTag(step, 4, m, 'backward')]));
    assert.equal(new Set(tags).size, 16);
    assert.ok(tags.every((tag) => Number.isInteger(tag) && tag >= 0));
  });
});
