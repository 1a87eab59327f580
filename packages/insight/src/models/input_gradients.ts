// Input gradients without weight gradients. tfjs-layers runs Conv2D and Dense through tfjs-core's fused ops
// (tf.fused.conv2d / matMul), and under a gradient tape a fused op with a linear activation keeps its custom
// gradient, which computes the derivatives of the input, the kernel and the bias together, whichever are asked for.
// tf.grad with respect to the input of a CIFAR ResNet (convolutions without activation, BatchNorm after) so paid a
// kernel gradient per convolution: a fifth of its backward pass. Here those layers run as the plain ops they stand
// for (conv2d or matMul, then the bias, then the activation — the ops tfjs itself runs under a tape for any other
// activation), whose registered gradients compute only the derivatives on the path from the input.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';

type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** The fields of tfjs-layers' Conv2D and Dense that their call reads. */
interface LinearLayer {
  call: Call;
  kernel: { read(): tf.Tensor };
  bias?: { read(): tf.Tensor } | null;
  activation: { apply(x: tf.Tensor): tf.Tensor };
  rank?: number;
  strides?: [number, number];
  padding?: string;
  dataFormat?: string;
  dilationRate?: [number, number];
}

const one = (inputs: tf.Tensor | tf.Tensor[]) => (Array.isArray(inputs) ? inputs[0] : inputs);

/** y = activation(conv2d(x, kernel) + bias), NHWC, as plain ops. */
function unfusedConv2d(layer: LinearLayer): Call {
  return (inputs) => tf.tidy(() => {
    const x = one(inputs) as tf.Tensor4D;
    const y = tf.conv2d(x, layer.kernel.read() as tf.Tensor4D, layer.strides!, layer.padding as 'same' | 'valid', 'NHWC', layer.dilationRate);
    return layer.activation.apply(layer.bias == null ? y : tf.add(y, layer.bias.read()));
  });
}

/** y = activation(x · kernel + bias) for x [batch, features], as plain ops; other ranks keep the layer's own call. */
function unfusedDense(layer: LinearLayer, own: Call): Call {
  return (inputs, kwargs) => {
    const x = one(inputs);
    if (x.rank !== 2) return own.call(layer, inputs, kwargs);
    return tf.tidy(() => {
      const y = tf.matMul(x as tf.Tensor2D, layer.kernel.read() as tf.Tensor2D);
      return layer.activation.apply(layer.bias == null ? y : tf.add(y, layer.bias.read()));
    });
  };
}

/** The layer's plain-op call, or null when it has none here (other classes, channels-first or causal convolutions). */
function unfusedCall(layer: tfl.layers.Layer): Call | null {
  const linear = layer as unknown as LinearLayer;
  const name = layer.getClassName();
  if (name === 'Conv2D' && linear.rank === 2 && linear.dataFormat === 'channelsLast' && (linear.padding === 'same' || linear.padding === 'valid')) {
    return unfusedConv2d(linear);
  }
  if (name === 'Dense') return unfusedDense(linear, linear.call);
  return null;
}

/** Every layer of `model`, nested models' layers included. */
function allLayers(model: tfl.LayersModel, into: tfl.layers.Layer[] = []): tfl.layers.Layer[] {
  for (const layer of model.layers) {
    if ((layer as Partial<tfl.LayersModel>).layers !== undefined) allLayers(layer as unknown as tfl.LayersModel, into);
    else into.push(layer);
  }
  return into;
}

/**
 * Runs `differentiate` (synchronous: a tf.grad or tf.grads call through `model`) with the model's Conv2D and Dense
 * layers on plain ops, so that a gradient with respect to inputs or activations computes no weight gradient; the
 * layers get their own call back before this returns or throws. Values agree with the fused ops to rounding.
 * Not for training (it needs the weight gradients anyway).
 * Example: `const dx = withUnfusedLinearLayers(model, () => tf.grad((x) => tf.sum(model.apply(x) as tf.Tensor))(x))`.
 */
export function withUnfusedLinearLayers<T>(model: tfl.LayersModel, differentiate: () => T): T {
  const swapped: { layer: LinearLayer; own: Call }[] = [];
  try {
    for (const layer of allLayers(model)) {
      const call = unfusedCall(layer);
      if (call === null) continue;
      const linear = layer as unknown as LinearLayer;
      swapped.push({ layer: linear, own: linear.call });
      linear.call = call;
    }
    return differentiate();
  } finally {
    for (const { layer, own } of swapped) layer.call = own;
  }
}
