// Input gradients without weight gradients. tfjs-layers runs Conv2D and Dense through tfjs-core's fused ops
// (tf.fused.conv2d / matMul). Under a gradient tape a fused op with a linear activation keeps its custom gradient,
// which computes the derivatives of the input, the kernel and the bias together, whichever are asked for: tf.grad
// with respect to the input of a CIFAR ResNet (convolutions without activation, BatchNorm after) so paid a kernel
// gradient per convolution, a fifth of its backward pass. With a ReLU the tape splits the op into three (conv2d, the
// bias, the ReLU), each recorded and differentiated on its own. Here a Conv2D with a linear or ReLU activation runs as
// one fused kernel whose gradient is the input's alone (ReLU's mask, then the transposed convolution), and a Dense
// runs as the plain ops it stands for, whose registered gradients compute only what lies on the path from the input.
// A BatchNormalization that only ever normalizes one linear Conv2D's output (a ResNet's conv → BN) is folded into
// that convolution in inference mode, as deployment tools fold it: kernel · s and shift t, with
// s = γ / √(moving variance + ε), t = β − moving mean · s (+ bias · s); it then passes its input on unchanged.
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
function inputOnlyConv2d(layer: LinearLayer, activation: 'relu' | 'linear', folded: BatchNormLayer | null): Call {
  const pad = layer.padding as 'same' | 'valid';
  const strides = layer.strides!;
  return (inputs) => tf.tidy(() => {
    let filter = layer.kernel.read() as tf.Tensor4D;
    let bias = layer.bias?.read();
    if (folded !== null) [filter, bias] = foldBatchNorm(filter, bias, folded);
    const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
      const y = tf.engine().runKernel('FusedConv2D', { x, filter, ...(bias == null ? {} : { bias }) },
        { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], activation }) as tf.Tensor4D;
      save([y, filter]); // the tape keeps them: a folded filter is made inside this call's tidy
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, [output, kept]: tf.Tensor[]) => {
          const g = activation === 'relu' ? tf.engine().runKernel(TorchReluGrad, { dy, x: output }) as tf.Tensor : dy;
          return tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter: kept },
            { strides, pad, dataFormat: 'NHWC', inputShape: x.shape }) as tf.Tensor;
        },
      };
    });
    return conv(one(inputs));
  });
}

/** What tfjs-layers' BatchNormalization keeps (its call in inference mode reads these). */
interface BatchNormLayer {
  call: Call;
  axis: number;
  epsilon: number;
  gamma?: { read(): tf.Tensor } | null;
  beta?: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor };
  movingVariance: { read(): tf.Tensor };
}

/** The kernel [kh, kw, in, out] and bias [out] of conv → BN in inference mode, as one convolution. Call inside tidy. */
function foldBatchNorm(kernel: tf.Tensor4D, bias: tf.Tensor | undefined, bn: BatchNormLayer): [tf.Tensor4D, tf.Tensor] {
  const inverseStd = tf.rsqrt(tf.add(bn.movingVariance.read(), bn.epsilon));
  const s = bn.gamma == null ? inverseStd : tf.mul(bn.gamma.read(), inverseStd);
  const shift = tf.sub(bn.beta == null ? tf.zerosLike(s) : bn.beta.read(), tf.mul(bn.movingMean.read(), s));
  return [tf.mul(kernel, s) as tf.Tensor4D, bias === undefined ? shift : tf.add(shift, tf.mul(bias, s))];
}

/**
 * The BatchNormalization that normalizes `conv`'s output and nothing else, over channels (the last axis of NHWC),
 * when both belong to `inModel`: every application of `conv` feeds it, and every application of it takes `conv`'s
 * output (views of a model apply the same layers again); null otherwise.
 */
function batchNormAfter(conv: tfl.layers.Layer, inModel: Set<tfl.layers.Layer>): BatchNormLayer | null {
  const consumers = new Set(conv.outboundNodes.map((node) => node.outboundLayer));
  if (consumers.size !== 1) return null;
  const [bn] = consumers;
  const layer = bn as unknown as BatchNormLayer;
  if (bn.getClassName() !== 'BatchNormalization' || !inModel.has(bn) || !(layer.axis === -1 || layer.axis === 3)) return null;
  return bn.inboundNodes.every((node) => node.inboundLayers.length === 1 && node.inboundLayers[0] === conv) ? layer : null;
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

/**
 * The calls that replace layers' own (a BatchNormalization folded into its convolution passes its input on), or
 * none for a layer that keeps its own (other classes; channels-first, causal or dilated convolutions; other
 * activations).
 */
function inputOnlyCalls(layer: tfl.layers.Layer, inModel: Set<tfl.layers.Layer>): [LinearLayer | BatchNormLayer, Call][] {
  const linear = layer as unknown as LinearLayer;
  const name = layer.getClassName();
  const activation = (linear.activation as { getClassName?(): string } | undefined)?.getClassName?.();
  if (name === 'Conv2D' && linear.rank === 2 && linear.dataFormat === 'channelsLast' && (linear.padding === 'same' || linear.padding === 'valid')
    && linear.dilationRate!.every((d) => d === 1) && (activation === 'relu' || activation === 'linear')) {
    const bn = activation === 'linear' ? batchNormAfter(layer, inModel) : null;
    const conv: [LinearLayer, Call] = [linear, inputOnlyConv2d(linear, activation, bn)];
    return bn === null ? [conv] : [conv, [bn, (inputs) => one(inputs)]];
  }
  if (name === 'Dense') return [[linear, unfusedDense(linear, linear.call)]];
  return [];
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
 * Runs `differentiate` (synchronous: a tf.grad or tf.grads call through `model` in inference mode, `training: false`,
 * as the explanation methods run it) with the model's Conv2D and Dense layers computing no weight gradient — only
 * gradients with respect to inputs or activations, whose values agree with the layers' own to rounding — and
 * BatchNormalization folded into the convolution before it; the layers get their own call back before this returns
 * or throws. Not for training: the weights get no gradient at all inside, and BatchNorm uses its moving statistics.
 * Example: `const dx = withUnfusedLinearLayers(model, () => tf.grad((x) => tf.sum(model.apply(x) as tf.Tensor))(x))`.
 */
export function withUnfusedLinearLayers<T>(model: tfl.LayersModel, differentiate: () => T): T {
  const swapped: { layer: { call: Call }; own: Call }[] = [];
  try {
    const layers = allLayers(model);
    const inModel = new Set(layers);
    for (const layer of layers) {
      if (swapped.some((s) => s.layer === (layer as unknown as { call: Call }))) continue; // a BatchNorm already folded
      for (const [target, call] of inputOnlyCalls(layer, inModel)) {
        swapped.push({ layer: target, own: target.call });
        target.call = call;
      }
    }
    return differentiate();
  } finally {
    for (const { layer, own } of swapped) layer.call = own;
  }
}
