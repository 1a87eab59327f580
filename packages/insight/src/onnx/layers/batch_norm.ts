// BatchNormalization at inference: y = γ·(x − mean)/√(var + ε) + β over the last tfjs axis (channels). Folded into
// the Conv2D/Dense before it when it is that layer's only consumer (foldBatchNorm); else an ONNX BatchNormalization
// (4-D, NCHW) or Mul/Add with per-channel constants (2-D and 3-D).
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { float } from '../graph_builder';
import { weightOf } from '../context';
import { configOf, type Converter } from './step';

/** Per-channel scale γ/√(var + ε) and shift β − mean·scale of a BatchNormalization layer (new tensors). */
export function batchNormAffine(layer: tfl.layers.Layer): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  return tf.tidy(() => {
    const mean = weightOf(layer, 'moving_mean') as tf.Tensor1D;
    const variance = weightOf(layer, 'moving_variance') as tf.Tensor1D;
    const gamma = weightOf(layer, 'gamma') ?? tf.onesLike(mean);
    const beta = weightOf(layer, 'beta') ?? tf.zerosLike(mean);
    const epsilon = Number(configOf(layer).epsilon ?? 1e-3);
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, epsilon))) as tf.Tensor1D;
    return { scale, shift: tf.sub(beta, tf.mul(mean, scale)) as tf.Tensor1D };
  });
}

/** Whether `layer` is a BatchNormalization over the channels (last axis) of a rank-`rank` tensor. */
export function isChannelBatchNorm(layer: tfl.layers.Layer | null, rank: number): boolean {
  if (layer === null || layer.getClassName() !== 'BatchNormalization') return false;
  const axis = Number(configOf(layer).axis ?? -1);
  return axis === -1 || axis === rank - 1;
}

/**
 * Folds a BatchNormalization into a linear layer's parameters: kernel [out, ...] (output channels first) and bias
 * [out] → kernel·scale, bias·scale + shift. Returns new tensors.
 */
export function foldBatchNorm(bn: tfl.layers.Layer, kernelOutFirst: tf.Tensor, bias: tf.Tensor1D): { kernel: tf.Tensor; bias: tf.Tensor1D } {
  const { scale, shift } = batchNormAffine(bn);
  const folded = tf.tidy(() => ({
    kernel: tf.mul(kernelOutFirst, tf.reshape(scale, [-1, ...kernelOutFirst.shape.slice(1).map(() => 1)])),
    bias: tf.add(tf.mul(bias, scale), shift) as tf.Tensor1D,
  }));
  scale.dispose();
  shift.dispose();
  return folded;
}

/** A BatchNormalization that could not be folded. */
export const batchNormLayer: Converter = (ctx, step, [x]) => {
  const rank = x.shape.length;
  if (!isChannelBatchNorm(step.layer, rank)) throw new Error('BatchNormalization over a non-channel axis is not supported');
  const { scale, shift } = batchNormAffine(step.layer);
  try {
    const name = step.layer.name;
    if (rank === 4) {
      const channels = scale.shape[0];
      const y = ctx.op('BatchNormalization', [x.name, ctx.tensor(`${name}_scale`, scale), ctx.tensor(`${name}_shift`, shift),
        ctx.floats(`${name}_mean`, new Float32Array(channels)), ctx.floats(`${name}_var`, new Float32Array(channels).fill(1))],
      { epsilon: float(0) }, name);
      return [{ name: y, shape: x.shape }];
    }
    const mul = ctx.op('Mul', [x.name, ctx.tensor(`${name}_scale`, scale)]);
    return [{ name: ctx.op('Add', [mul, ctx.tensor(`${name}_shift`, shift)], {}, name), shape: x.shape }];
  } finally {
    scale.dispose();
    shift.dispose();
  }
};

