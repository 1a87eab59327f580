// Input gradients without weight gradients. tfjs-layers runs Conv2D and Dense through tfjs-core's fused ops
// (tf.fused.conv2d / matMul). Under a gradient tape a fused op with a linear activation keeps its custom gradient,
// which computes the derivatives of the input, the kernel and the bias together, whichever are asked for: tf.grad
// with respect to the input of a CIFAR ResNet (convolutions without activation, BatchNorm after) so paid a kernel
// gradient per convolution, a fifth of its backward pass. With a ReLU the tape splits the op into three (conv2d, the
// bias, the ReLU), each recorded and differentiated on its own. Here a Conv2D with a linear or ReLU activation runs as
// one fused kernel whose gradient is the input's alone (ReLU's mask, then the transposed convolution), and a Dense
// runs as the plain ops it stands for, whose registered gradients compute only what lies on the path from the input.
import type * as tfl from '@tensorflow/tfjs-layers';

import { TorchReluGrad } from '@insight/tfjs-backend-torch';

import { tf } from '../backend';

type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** The fields of tfjs-layers' Conv2D and Dense that their call reads. */
interface LinearLayer {
  call: Call;
  kernel: { read(): tf.Tensor };
  bias?: { read(): tf.Tensor } | null;
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string };
  rank?: number;
  strides?: [number, number];
  padding?: string;
  dataFormat?: string;
  dilationRate?: [number, number];
}

const one = (inputs: tf.Tensor | tf.Tensor[]) => (Array.isArray(inputs) ? inputs[0] : inputs);

/**
 * y = activation(conv2d(x, kernel) + bias), NHWC, one FusedConv2D kernel, differentiable with respect to x only:
 * dx = conv2DBackpropInput(dy ⊙ [y > 0] under ReLU). The kernel and bias are read as constants.
 */
function inputOnlyConv2d(layer: LinearLayer, activation: 'relu' | 'linear'): Call {
  const pad = layer.padding as 'same' | 'valid';
  const strides = layer.strides!;
  return (inputs) => tf.tidy(() => {
    const filter = layer.kernel.read() as tf.Tensor4D;
    const bias = layer.bias?.read();
    const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
      const y = tf.engine().runKernel('FusedConv2D', { x, filter, ...(bias == null ? {} : { bias }) },
        { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], activation }) as tf.Tensor4D;
      save([y]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, [output]: tf.Tensor[]) => {
          const g = activation === 'relu' ? tf.engine().runKernel(TorchReluGrad, { dy, x: output }) as tf.Tensor : dy;
          return tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter },
            { strides, pad, dataFormat: 'NHWC', inputShape: x.shape }) as tf.Tensor;
        },
      };
    });
    return conv(one(inputs));
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

/** The layer's input-gradient-only call, or null when it keeps its own (other classes, channels-first, causal or dilated convolutions, other activations). */
function unfusedCall(layer: tfl.layers.Layer): Call | null {
  const linear = layer as unknown as LinearLayer;
  const name = layer.getClassName();
  const activation = (linear.activation as { getClassName?(): string } | undefined)?.getClassName?.();
  if (name === 'Conv2D' && linear.rank === 2 && linear.dataFormat === 'channelsLast' && (linear.padding === 'same' || linear.padding === 'valid')
    && linear.dilationRate!.every((d) => d === 1) && (activation === 'relu' || activation === 'linear')) {
    return inputOnlyConv2d(linear, activation);
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
 * layers computing no weight gradient — only gradients with respect to inputs or activations, whose values agree with
 * the layers' own to rounding; the layers get their own call back before this returns or throws. Not for training:
 * the weights get no gradient at all inside.
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
