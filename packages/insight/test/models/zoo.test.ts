// The model zoo: parameter counts, output shapes, options, metadata, seeded initialisation and errors.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { InsightError } from '../../src/errors';
import { createModel, getInsightMetadata, MODEL_NAMES } from '../../src/models';

const CIFAR = { inputShape: [32, 32, 3] as [number, number, number], numClasses: 10 };

before(async () => {
  await initBackend();
});

function outputShape(model: ReturnType<typeof createModel>, batch: number): number[] {
  return tf.tidy(() => (model.predict(tf.zeros([batch, ...model.inputs[0].shape.slice(1)] as number[])) as tf.Tensor).shape);
}

describe('seed-cnn', () => {
  it('is the Keras tutorial network: 122,570 parameters for 32x32x3, logits [batch, 10]', () => {
    const model = createModel('seed-cnn', CIFAR);
    assert.equal(model.countParams(), 122_570);
    assert.deepEqual(model.layers.map((l) => l.getClassName()),
      ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'Flatten', 'Dense', 'Dense']);
    assert.deepEqual(model.layers.map((l) => l.countParams()), [896, 0, 18_496, 0, 36_928, 0, 65_600, 650]);
    assert.deepEqual(outputShape(model, 3), [3, 10]);
    // The last layer is linear: logits, not probabilities.
    assert.equal((model.layers[7].getConfig() as { activation: string }).activation, 'linear');
    model.dispose();
  });

  it('adds Dropout before each Dense layer only when asked, without adding parameters', () => {
    const model = createModel('seed-cnn', { ...CIFAR, dropout: 0.3 });
    assert.deepEqual(model.layers.filter((l) => l.getClassName() === 'Dropout').map((l) => (l.getConfig() as { rate: number }).rate), [0.3, 0.3]);
    assert.equal(model.countParams(), 122_570);
    model.dispose();
  });
});

describe('resnet', () => {
  it('resnet20 (width 16): 274,042 parameters (272,474 trainable), logits [batch, 10]', () => {
    // stem 432 + 64, stage1 3 x 4,736, stage2 14,720 + 2 x 18,688, stage3 58,112 + 2 x 74,240, dense 650.
    const model = createModel('resnet', CIFAR);
    assert.equal(model.countParams(), 274_042);
    const trainable = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
    assert.equal(trainable, 272_474);
    assert.deepEqual(outputShape(model, 2), [2, 10]);
    assert.equal(model.layers.filter((l) => l.getClassName() === 'Add').length, 9);
    model.dispose();
  });

  it('depth and width are configurable (depth 8 = one block per stage)', () => {
    const model = createModel('resnet', { inputShape: [16, 16, 3], numClasses: 4, depth: 8, width: 4 });
    assert.equal(model.layers.filter((l) => l.getClassName() === 'Add').length, 3);
    assert.equal(model.layers.filter((l) => l.getClassName() === 'Conv2D').length, 1 + 3 * 2 + 2);
    assert.deepEqual(outputShape(model, 2), [2, 4]);
    model.dispose();
  });
});

describe('createModel', () => {
  it('stores input shape, class names, normalization and architecture in the metadata', () => {
    const normalization = { kind: 'meanstd' as const, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number] };
    const classNames = ['a', 'b', 'c'];
    const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 3, classNames, normalization });
    assert.deepEqual(getInsightMetadata(model, 'test'), {
      formatVersion: 1, architecture: 'seed-cnn', architectureOptions: { dropout: 0 }, inputShape: [32, 32, 3], classNames, normalization,
    });
    model.dispose();
  });

  it('same seed → same initial weights; another seed → different ones', () => {
    const weights = (seed: number) => {
      const model = createModel('seed-cnn', { ...CIFAR, seed });
      const values = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return values;
    };
    assert.deepEqual(weights(7), weights(7));
    assert.notDeepEqual(weights(7)[0], weights(8)[0]);
  });

  const errors: [string, string, Parameters<typeof createModel>[1], RegExp][] = [
    ['unknown name', 'vgg16', CIFAR, /^The model must be one of the zoo's models\. Received: model="vgg16"\. Use one of: seed-cnn, resnet; for your own model, use buildCustomModel \(or pass it to train\(\{ model \}\)\)\.$/],
    ['depth not 6n+2', 'resnet', { ...CIFAR, depth: 21 }, /resnet depth must be 6n\+2 .* Received: depth=21\./],
    ['too few classes', 'seed-cnn', { ...CIFAR, numClasses: 1 }, /numClasses must be an integer >= 2\. Received: numClasses=1\./],
    ['grayscale input', 'seed-cnn', { ...CIFAR, inputShape: [32, 32, 1] }, /inputShape must be \[height, width, 3\].*Received: inputShape=\[32,32,1\]/],
    ['image too small for seed-cnn', 'seed-cnn', { ...CIFAR, inputShape: [16, 16, 3] }, /at least 18x18 pixels\. Received: inputShape=\[16,16,3\]/],
    ['dropout out of range', 'seed-cnn', { ...CIFAR, dropout: 1 }, /dropout must be a rate in \[0, 1\)\. Received: dropout=1\./],
  ];
  for (const [what, name, options, message] of errors) {
    it(`rejects ${what} with INSIGHT_E_CONFIG`, () => {
      assert.throws(() => createModel(name, options), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && message.test(e.message));
    });
  }

  it('lists every zoo model', () => {
    assert.deepEqual([...MODEL_NAMES], ['seed-cnn', 'resnet']);
  });
});
