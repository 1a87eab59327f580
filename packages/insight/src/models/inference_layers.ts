// A model's layers on inference ops, for the explanation methods' and the attacks' many forward and input-gradient
// passes (gradients with respect to inputs or activations only; models in inference mode, or for the attacks of
// adversarial training in training mode with `batchStatistics`). tfjs-layers runs Conv2D and Dense through
// tfjs-core's fused ops (tf.fused.conv2d / matMul). Under a gradient tape a fused op with a linear activation keeps its custom gradient,
// which computes the derivatives of the input, the kernel and the bias together, whichever are asked for: tf.grad
// with respect to the input of a CIFAR ResNet (convolutions without activation, BatchNorm after) so paid a kernel
// gradient per convolution, a fifth of its backward pass. With a ReLU the tape splits the op into three (conv2d, the
// bias, the ReLU), each recorded and differentiated on its own. Here a Conv2D with a linear or ReLU activation runs as
// one fused kernel whose gradient is the input's alone (ReLU's mask, then the transposed convolution), and a Dense
// runs as the plain ops it stands for, whose registered gradients compute only what lies on the path from the input.
// A BatchNormalization that only ever normalizes one linear Conv2D's output (a ResNet's conv → BN) is folded into
// that convolution in inference mode, as deployment tools fold it: kernel · s and shift t, with
// s = γ / √(moving variance + ε), t = β − moving mean · s (+ bias · s); it then passes its input on unchanged, and so
// does a ReLU Activation layer that only ever follows it (the ReLU runs inside the convolution's kernel). Forward
// passes gain as much as gradients: one kernel where there were three.
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
 * The layer that takes `layer`'s output and nothing else, when it belongs to `inModel` and `accepts` it: every
 * application of `layer` feeds it, and every application of it takes `layer`'s output alone (views of a model apply
 * the same layers again, so all applications count); null otherwise.
 */
function soleConsumer(layer: tfl.layers.Layer, inModel: Set<tfl.layers.Layer>, accepts: (next: tfl.layers.Layer) => boolean): tfl.layers.Layer | null {
  const consumers = new Set(layer.outboundNodes.map((node) => node.outboundLayer));
  if (consumers.size !== 1) return null;
  const [next] = consumers;
  if (!inModel.has(next) || !accepts(next)) return null;
  return next.inboundNodes.every((node) => node.inboundLayers.length === 1 && node.inboundLayers[0] === layer) ? next : null;
}

/** A BatchNormalization over channels (the last axis of NHWC). */
const isChannelBatchNorm = (layer: tfl.layers.Layer) =>
  layer.getClassName() === 'BatchNormalization' && [-1, 3].includes((layer as unknown as BatchNormLayer).axis);
/** An Activation layer applying ReLU. */
const isReluLayer = (layer: tfl.layers.Layer) =>
  layer.getClassName() === 'Activation' && (layer as unknown as LinearLayer).activation.getClassName() === 'relu';

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

/** A call that passes its input on: a layer folded into the convolution before it. */
const passOn: Call = (inputs) => one(inputs);

/**
 * The calls that replace layers' own: a convolution's (with the BatchNormalization and ReLU after it folded in: they
 * pass their input on), a Dense's; none for a layer that keeps its own (other classes; channels-first, causal or
 * dilated convolutions; other activations).
 */
function inferenceCalls(layer: tfl.layers.Layer, inModel: Set<tfl.layers.Layer>, batchStatistics: boolean): [{ call: Call }, Call][] {
  const linear = layer as unknown as LinearLayer;
  const name = layer.getClassName();
  const activation = (linear.activation as { getClassName?(): string } | undefined)?.getClassName?.();
  if (name === 'Conv2D' && linear.rank === 2 && linear.dataFormat === 'channelsLast' && (linear.padding === 'same' || linear.padding === 'valid')
    && linear.dilationRate!.every((d) => d === 1) && (activation === 'relu' || activation === 'linear')) {
    const bn = activation === 'linear' && !batchStatistics ? soleConsumer(layer, inModel, isChannelBatchNorm) : null;
    const relu = bn === null ? null : soleConsumer(bn, inModel, isReluLayer);
    const fused = relu === null ? activation : 'relu';
    const calls: [{ call: Call }, Call][] = [[linear, inputOnlyConv2d(linear, fused, bn as unknown as BatchNormLayer | null)]];
    for (const folded of [bn, relu]) if (folded !== null) calls.push([folded as unknown as { call: Call }, passOn]);
    return calls;
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

/** Layers whose call is replaced now: a nested call (a forward pass inside a gradient) leaves them as they are. */
const replaced = new Set<{ call: Call }>();

/** How withInferenceLayers treats BatchNorm. */
export interface InferenceLayersOptions {
  /**
   * The pass runs in training mode (`training: true`, e.g. an attack during adversarial training): BatchNorm
   * normalizes with the batch's statistics, so it is not folded and keeps its call; convolutions and Dense layers are
   * still differentiable for their input only. Default false.
   */
  batchStatistics?: boolean;
}

/**
 * Runs `pass` (synchronous: a forward pass through `model` in inference mode, `training: false`, or a tf.grad or
 * tf.grads call through it, as the explanation methods and the attacks run them) with the model's layers on inference
 * ops: a Conv2D as one fused kernel with the BatchNormalization (moving statistics) and ReLU after it folded in,
 * differentiable for its input only, and a Dense as plain ops — so a gradient with respect to inputs or activations
 * computes no weight gradient. Values agree with the layers' own to rounding. The layers get their own call back
 * before this returns or throws. Not for training: the weights get no gradient at all inside, and BatchNorm uses its
 * moving statistics (unless options.batchStatistics).
 * Example: `const dx = withInferenceLayers(model, () => tf.grad((x) => tf.sum(model.apply(x) as tf.Tensor))(x))`.
 */
export function withInferenceLayers<T>(model: tfl.LayersModel, pass: () => T, options: InferenceLayersOptions = {}): T {
  const swapped: { layer: { call: Call }; own: Call }[] = [];
  try {
    const layers = allLayers(model);
    const inModel = new Set(layers);
    for (const layer of layers) {
      const target = layer as unknown as { call: Call };
      if (replaced.has(target)) continue; // folded into a convolution above, or replaced by an enclosing call
      for (const [each, call] of inferenceCalls(layer, inModel, options.batchStatistics ?? false)) {
        swapped.push({ layer: each, own: each.call });
        replaced.add(each);
        each.call = call;
      }
    }
    return pass();
  } finally {
    for (const { layer, own } of swapped) {
      layer.call = own;
      replaced.delete(layer);
    }
  }
}
