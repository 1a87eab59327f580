// Structured channel pruning: which convolutions may lose channels (the Add rule), that the smaller model computes
// exactly what the masked big model does (seed-cnn through Flatten → Dense, a CIFAR ResNet with BatchNorm and Add),
// and that parameters and FLOPs shrink by what the plan says.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import type * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../../src/backend';
import { InsightError } from '../../../src/errors';
import { createModel } from '../../../src/models';
import { channelGroups, channelPlan, countFlops, maskChannels, pruneChannels } from '../../../src/compress/prune';

before(async () => {
  await initBackend();
});

/** Gives every BatchNorm seeded non-trivial gamma, beta and moving statistics (a fresh one is the identity). */
function randomizeBatchNorms(model: tfl.LayersModel, seed: number): void {
  model.layers.filter((l) => l.getClassName() === 'BatchNormalization').forEach((bn, i) => {
    const c = bn.getWeights()[0].shape[0];
    bn.setWeights([
      tf.randomUniform([c], 0.5, 1.5, 'float32', seed + 4 * i), tf.randomUniform([c], -0.5, 0.5, 'float32', seed + 4 * i + 1),
      tf.randomUniform([c], -0.2, 0.2, 'float32', seed + 4 * i + 2), tf.randomUniform([c], 0.5, 2, 'float32', seed + 4 * i + 3),
    ]);
  });
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('structured channel pruning', () => {
  it('seed-cnn: conv2 and conv3 lose half their filters; the small model equals the masked one within 1e-5', async () => {
    const big = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 4, seed: 3 });
    assert.deepEqual(channelGroups(big).map((g) => g.conv.name), ['conv2', 'conv3']); // conv1 skipped by default
    assert.deepEqual(channelGroups(big, []).map((g) => g.conv.name), ['conv1', 'conv2', 'conv3']);
    const { model: small, plan } = await pruneChannels(big, 0.5);
    assert.deepEqual(plan.map((p) => [p.conv, p.channels, p.keep.length]), [['conv2', 64, 32], ['conv3', 64, 32]]);
    // Kept channels are the highest L1 norms of conv2's filters.
    const norms = tf.tidy(() => Array.from(tf.sum(tf.abs(big.getLayer('conv2').getWeights()[0]), [0, 1, 2]).dataSync()));
    const threshold = [...norms].sort((a, b) => b - a)[31];
    assert.deepEqual(plan[0].keep, norms.map((n, c) => (n >= threshold ? c : -1)).filter((c) => c >= 0));
    assert.deepEqual(small.getLayer('conv2').getWeights()[0].shape, [3, 3, 32, 32]);
    assert.deepEqual(small.getLayer('conv3').getWeights()[0].shape, [3, 3, 32, 32]);
    assert.deepEqual(small.getLayer('dense1').getWeights()[0].shape, [4 * 32, 64]); // Flatten rows p·C + c
    assert.deepEqual(small.getUserDefinedMetadata(), big.getUserDefinedMetadata());

    const x = tf.randomUniform([3, 24, 24, 3], 0, 1, 'float32', 7);
    maskChannels(big, plan);
    const [yBig, ySmall] = [big.predict(x) as tf.Tensor, small.predict(x) as tf.Tensor];
    assert.ok(maxAbsDiff(yBig, ySmall) < 1e-5, `max diff ${maxAbsDiff(yBig, ySmall)}`);
    // conv2 3·3·32·64+64 → 3·3·32·32+32, conv3 3·3·64·64+64 → 3·3·32·32+32, dense1 256·64+64 → 128·64+64.
    assert.equal(big.countParams() - small.countParams(), (9 * 32 * 32 + 32) + (9 * 64 * 64 + 64 - 9 * 32 * 32 - 32) + 128 * 64);
    const flopsBig = countFlops(big);
    const flopsSmall = countFlops(small);
    // conv1 22x22, conv2 9x9, conv3 2x2 outputs (24x24 input, valid 3x3 convs, 2x2 pools).
    assert.equal(flopsBig, 2 * (27 * 32 * 484 + 288 * 64 * 81 + 576 * 64 * 4 + 256 * 64 + 64 * 4));
    assert.equal(flopsSmall, 2 * (27 * 32 * 484 + 288 * 32 * 81 + 288 * 32 * 4 + 128 * 64 + 64 * 4));
    tf.dispose([x, yBig, ySmall]);
    big.dispose();
    small.dispose();
  });

  it('resnet: only each block\'s first convolution is free (the others reach an Add); equal outputs with BatchNorm', async () => {
    const big = createModel('resnet', { inputShape: [16, 16, 3], numClasses: 3, depth: 8, width: 8, seed: 5 });
    randomizeBatchNorms(big, 11);
    assert.deepEqual(channelGroups(big, []).map((g) => g.conv.name), ['stage1_block1_conv1', 'stage2_block1_conv1', 'stage3_block1_conv1']);
    const plan = channelPlan(big, 0.75, []);
    assert.deepEqual(plan.map((p) => p.keep.length), [2, 4, 8]); // 8, 16, 32 channels
    const { model: small } = await pruneChannels(big, 0.75, []);
    assert.deepEqual(small.getLayer('stage2_block1_bn1').getWeights()[0].shape, [4]);
    assert.deepEqual(small.getLayer('stage2_block1_conv2').getWeights()[0].shape, [3, 3, 4, 16]);
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 8);
    maskChannels(big, plan, []);
    const [yBig, ySmall] = [big.predict(x) as tf.Tensor, small.predict(x) as tf.Tensor];
    assert.ok(maxAbsDiff(yBig, ySmall) < 1e-5, `max diff ${maxAbsDiff(yBig, ySmall)}`);
    assert.ok(countFlops(small) < countFlops(big));
    tf.dispose([x, yBig, ySmall]);
    big.dispose();
    small.dispose();
  });

  it('a model with no free convolution is refused with the rule', async () => {
    const big = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 4, seed: 3 });
    await assert.rejects(pruneChannels(big, 0.5, ['conv1', 'conv2', 'conv3']), (e: InsightError) =>
      e.code === 'INSIGHT_E_MODEL' && /Structured pruning needs a convolution/.test(e.message) && /convolutions="conv1,conv2,conv3"/.test(e.message));
    big.dispose();
  });
});
