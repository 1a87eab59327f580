// NHWC tensors reach oneDNN as channels-last NCHW views, so convolutions and pooling copy no activations:
// the native results are contiguous NHWC tensors whose NCHW view is channels-last.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import '../src/index';
import type { TorchBackend } from '../src/backend';
import { aten } from '../src/aten';

test('conv2d and maxPool take and give NHWC without layout copies', async () => {
  await tf.setBackend('torch');
  const backend = tf.backend() as TorchBackend;
  const x = tf.randomUniform([16, 12, 12, 8]);
  const filter = tf.randomUniform([3, 3, 8, 16]);
  const xh = backend.handle({ dataId: x.dataId, shape: x.shape, dtype: x.dtype });
  const view = aten.permute(xh, [0, 3, 1, 2]);
  assert.match(backend.binding.describe(view), /channels_last/);  // the NCHW view oneDNN sees is channels-last
  backend.binding.dispose(view);
  for (const y of [tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')]) {
    const h = backend.handle({ dataId: y.dataId, shape: y.shape, dtype: y.dtype });
    assert.match(backend.binding.describe(h), / contiguous/, `${y.shape}: ${backend.binding.describe(h)}`);
    y.dispose();
  }
  tf.dispose([x, filter]);
});
