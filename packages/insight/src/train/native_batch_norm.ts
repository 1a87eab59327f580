// Training-mode BatchNormalization on the backend's fused kernels. tfjs-layers' BatchNormalization computes the batch
// statistics with tf.moments and normalizes with tf.batchNorm: six kernels forward and about twenty in their
// gradients, per layer and step, most of them passes over the whole activation. In a ResNet-20 step at batch 128 they
// took more time than the convolutions. `useNativeBatchNorm` gives each channels-last BatchNormalization a call that,
// in training mode, runs the backend's batchNormTraining (one kernel forward, one backward on `torch`; the same ops
// as tfjs-layers elsewhere) and then updates the moving mean and variance exactly as tfjs-layers does. Inference
// calls, layers over another axis and layers whose call is already replaced (frozen ones) keep their call; code that
// replaces calls for a whole fit (fake quantisation) wraps `nativeBatchNormCall` instead of the layer's own.
import type * as tfl from '@tensorflow/tfjs-layers';

import { batchNormTraining } from '@insight/tfjs-backend-torch';

import { tf } from '../backend';

type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** What tfjs-layers' BatchNormalization keeps and its training call reads and writes. */
interface BatchNormLayer {
  call: Call;
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: { read(): tf.Tensor } | null;
  beta?: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor; write(value: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): void };
}

/** Every BatchNormalization of `model`, nested models' included. */
function batchNormLayers(model: tfl.LayersModel, into: BatchNormLayer[] = []): BatchNormLayer[] {
  for (const layer of model.layers) {
    if ((layer as Partial<tfl.LayersModel>).layers !== undefined) batchNormLayers(layer as unknown as tfl.LayersModel, into);
    else if (layer.getClassName() === 'BatchNormalization') into.push(layer as unknown as BatchNormLayer);
  }
  return into;
}

/** moving ← moving − (moving − value)·(1 − momentum): tfjs-layers' update, op for op. */
function movingAverage(variable: BatchNormLayer['movingMean'], value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const previous = variable.read();
    variable.write(tf.sub(previous, tf.mul(tf.sub(previous, value), 1 - momentum)));
  });
}

/** The layer's call with training mode on the fused kernels; other calls go to `own`. */
function nativeTrainingCall(layer: BatchNormLayer, own: Call): Call {
  return (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = layer.axis === -1 || layer.axis === x.rank - 1;
    if (kwargs.training !== true || !lastAxis || x.rank < 2 || x.dtype !== 'float32' || (Array.isArray(inputs) && inputs.length !== 1)) {
      return own.call(layer, inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, layer.gamma?.read() ?? null, layer.beta?.read() ?? null, layer.epsilon);
      movingAverage(layer.movingMean, mean, layer.momentum);
      movingAverage(layer.movingVariance, variance, layer.momentum);
      return y;
    });
  };
}

/** True when the layer runs its class's own call: not frozen in inference mode (finetune/freeze.ts), not swapped already. */
const hasOwnClassCall = (layer: BatchNormLayer) => layer.call === (Object.getPrototypeOf(layer) as BatchNormLayer).call;

/**
 * `layer`'s call with training mode on the fused kernels, for code that wraps layer calls for a whole fit (quantisation-
 * aware training's fake quantisation): a BatchNormalization running its class's own call gets it, any other layer (or a
 * frozen one) keeps `layer.call`. Wrap the result; trainStep's own swap then leaves the layer alone.
 */
export function nativeBatchNormCall(layer: tfl.layers.Layer): Call {
  const norm = layer as unknown as BatchNormLayer;
  if (layer.getClassName() !== 'BatchNormalization' || !hasOwnClassCall(norm)) return norm.call;
  let native = nativeCalls.get(norm);
  if (native === undefined) nativeCalls.set(norm, native = nativeTrainingCall(norm, norm.call));
  return native;
}

/** One fused call per layer, the same function at every step (a captured training step is selected by its calls). */
const nativeCalls = new WeakMap<BatchNormLayer, Call>();

/**
 * Gives `model`'s BatchNormalization layers the fused training call (see the header) until the returned function puts
 * their calls back. A layer whose call something else has replaced (a frozen layer that always runs in inference mode,
 * or this function's own swap in a nested use) keeps it. Values agree with tfjs-layers' own to float rounding.
 * Example: `const restore = useNativeBatchNorm(model); try { step() } finally { restore() }`.
 */
export function useNativeBatchNorm(model: tfl.LayersModel): () => void {
  const swapped: { layer: BatchNormLayer; own: Call }[] = [];
  for (const layer of batchNormLayers(model)) {
    const native = nativeBatchNormCall(layer as unknown as tfl.layers.Layer);
    if (native === layer.call) continue;
    swapped.push({ layer, own: layer.call });
    layer.call = native;
  }
  return () => {
    for (const { layer, own } of swapped) layer.call = own;
  };
}
