// Convolutions, NCHW in the graph: Conv2D (strides, dilation, same/valid, bias, fused activation), DepthwiseConv2D
// (a grouped Conv, group = input channels), SeparableConv2D (depthwise, then a 1x1 Conv with the bias) and a LoRA
// Conv2D (InsightLora: its merged kernel W + (alpha/r)·A·B). TensorFlow's 'same' padding is written as explicit
// pads (the smaller half before), so the graph needs no auto_pad.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { ExportContext, Val } from '../context';
import { weightOf } from '../context';
import { int, ints } from '../graph_builder';
import { activationOf, foldFollowing, writeLinear } from './linear_out';
import { configOf, type Converter, padsFor, pair, type Step } from './step';

/** Conv attributes for a tfjs conv config on an NHWC input shape. */
function convAttributes(config: Record<string, unknown>, inputShape: (number | null)[], kernel: [number, number], group = 1) {
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') throw new Error('only channelsLast convolutions are supported');
  if (config.padding === 'causal') throw new Error('causal padding is not supported');
  const strides = pair(config.strides, 1);
  const dilations = pair(config.dilationRate, 1);
  const [h, w] = [inputShape[1], inputShape[2]];
  if (config.padding === 'same' && (h === null || w === null)) throw new Error('same padding needs a fixed input height and width');
  const pads = padsFor(config.padding, [h ?? 0, w ?? 0], kernel, strides, dilations);
  return { kernel_shape: ints(kernel), strides: ints(strides), dilations: ints(dilations), pads: ints(pads), group: int(group) };
}

/** tfjs conv kernel [kh, kw, in, out] → ONNX weight [out, in, kh, kw] (a new tensor). */
function toOihw(kernel: tf.Tensor): tf.Tensor {
  return tf.transpose(kernel, [3, 2, 0, 1]);
}

function biasOrZeros(layer: tfl.layers.Layer, channels: number): tf.Tensor1D {
  const bias = weightOf(layer, 'bias');
  return (bias ? bias.clone() : tf.zeros([channels])) as tf.Tensor1D;
}

/** Writes a Conv2D-shaped layer whose kernel is `kernel` [kh, kw, in, out] and config `config`. */
export function writeConv2d(ctx: ExportContext, step: Step, x: Val, kernel: tf.Tensor, config: Record<string, unknown>): Val[] {
  const [kh, kw, , out] = kernel.shape;
  const attributes = convAttributes(config, x.shape, [kh, kw]);
  const folded = foldFollowing(step, { kernel: toOihw(kernel), bias: biasOrZeros(step.layer, out) }, 4, activationOf(step.layer, config));
  return [writeLinear(ctx, step, x, 'Conv', attributes, folded.params, folded.activation, step.outputShapes[0])];
}

export const conv2dLayer: Converter = (ctx, step, [x]) =>
  writeConv2d(ctx, step, x, weightOf(step.layer, 'kernel') as tf.Tensor, configOf(step.layer));

/** depthwise kernel [kh, kw, in, m] → grouped Conv weight [in·m, 1, kh, kw] (output channel i·m + j, as tfjs). */
function depthwiseWeight(kernel: tf.Tensor): tf.Tensor {
  const [kh, kw, inC, m] = kernel.shape;
  return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(kernel, [kh, kw, inC * m]), [2, 0, 1]), [inC * m, 1, kh, kw]));
}

export const depthwiseConv2dLayer: Converter = (ctx, step, [x]) => {
  const config = configOf(step.layer);
  const kernel = weightOf(step.layer, 'depthwise_kernel') as tf.Tensor;
  const [kh, kw, inC, m] = kernel.shape;
  const attributes = convAttributes(config, x.shape, [kh, kw], inC);
  const folded = foldFollowing(step, { kernel: depthwiseWeight(kernel), bias: biasOrZeros(step.layer, inC * m) }, 4, activationOf(step.layer, config));
  return [writeLinear(ctx, step, x, 'Conv', attributes, folded.params, folded.activation, step.outputShapes[0])];
};

/** SeparableConv2D: the depthwise Conv (no bias, fp32 output), then the pointwise 1x1 Conv with bias and activation. */
export const separableConv2dLayer: Converter = (ctx, step, [x]) => {
  const config = configOf(step.layer);
  const dk = weightOf(step.layer, 'depthwise_kernel') as tf.Tensor;
  const pk = weightOf(step.layer, 'pointwise_kernel') as tf.Tensor;
  const [kh, kw, inC, m] = dk.shape;
  const depthwise = depthwiseWeight(dk);
  const mid = ctx.op('Conv', [x.name, ctx.tensor(`${step.layer.name}_depthwise`, depthwise)], convAttributes(config, x.shape, [kh, kw], inC),
    `${step.layer.name}_depthwise`);
  depthwise.dispose();
  const midShape: (number | null)[] = [...step.outputShapes[0].slice(0, 3), inC * m];
  const out = pk.shape[3] as number;
  const folded = foldFollowing(step, { kernel: toOihw(pk), bias: biasOrZeros(step.layer, out) }, 4, activationOf(step.layer, config));
  const pointwise = { kernel_shape: ints([1, 1]), strides: ints([1, 1]), pads: ints([0, 0, 0, 0]) };
  return [writeLinear(ctx, step, { name: mid, shape: midShape }, 'Conv', pointwise, folded.params, folded.activation, step.outputShapes[0])];
};
