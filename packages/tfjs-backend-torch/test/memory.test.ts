// Native memory: tf.memory() reports native bytes, and training returns live native tensors to baseline.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { fusedAdam } from '../src/index';
import { requireBinding } from '../src/binding';

test('tf.memory() reports the bytes held natively', async () => {
  await tf.setBackend('torch');
  const before = tf.memory() as tf.MemoryInfo & { numBytesInNative: number };
  const x = tf.tidy(() => tf.add(tf.ones([256, 256]), 1));  // one native result: 256 KiB
  const after = tf.memory() as tf.MemoryInfo & { numBytesInNative: number };
  assert.equal(after.numBytesInNative - before.numBytesInNative, 256 * 256 * 4);
  x.dispose();
  assert.equal((tf.memory() as tf.MemoryInfo & { numBytesInNative: number }).numBytesInNative, before.numBytesInNative);
});

test('training steps leave no live native tensors behind', async () => {
  await tf.setBackend('torch');
  const binding = requireBinding();
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', padding: 'same' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.batchNormalization(),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3 }),
    ],
  });
  model.compile({ optimizer: fusedAdam(1e-3), loss: (y: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, p) });
  const x = tf.randomUniform([16, 8, 8, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3);
  await model.fit(x, y, { batchSize: 8, epochs: 1, verbose: 0 });  // creates optimizer state
  const tensors = tf.memory().numTensors;
  const live = binding.liveTensors();
  for (let i = 0; i < 3; i++) await model.fit(x, y, { batchSize: 8, epochs: 1, verbose: 0 });
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(binding.liveTensors(), live);
  model.dispose();
  tf.dispose([x, y]);
});
