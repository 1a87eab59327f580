// Conv2D layers on the backend's fused convolution while training. While gradients are recorded, tfjs's fused conv2d
// does not fuse: a Conv2D layer with a bias and ReLU runs Conv2D, Add and Relu forward and five kernels backward
// (ReLU's gradient, a Sum for the bias gradient, then the input and filter gradients, each reordering dy for oneDNN).
// `useNativeConv` gives each eligible Conv2D layer a call through the backend's conv2dBiasActivation: on `torch` the
// bias rides in the oneDNN convolution and ReLU runs in place, and one backward kernel computes the three gradients
// from one convolution backward; elsewhere it is tfjs's fused conv2d. Eligible: 2-D, channels last, 'valid' or 'same'
// padding, no dilation, linear or ReLU activation, and the class's own call (a layer whose call something else
// replaced, as quantisation-aware training's fake quantisation, keeps it). A layer fed by the model's input alone
// takes it as data: no input gradient is computed (the training batch needs none), so use this around a step's
// gradient pass only, not around an attack that differentiates the input. Values agree with tfjs-layers' own to float
// rounding.
import type * as tfl from '@tensorflow/tfjs-layers';

import { conv2dBiasActivation } from '@insight/tfjs-backend-torch';

import { tf } from '../backend';

type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** What tfjs-layers' Conv2D keeps and its call reads. */
interface ConvLayer {
  call: Call;
  rank: number;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  activation: { getClassName(): string };
  kernel: { read(): tf.Tensor };
  bias?: { read(): tf.Tensor } | null;
  inboundNodes: { inboundLayers: { getClassName(): string }[] }[];
}

/** Every Conv2D layer of `model`, nested models' included, and whether its input is the outermost model's input. */
function convLayers(model: tfl.LayersModel, outermost = true, into: [ConvLayer, boolean][] = []): [ConvLayer, boolean][] {
  for (const layer of model.layers) {
    if ((layer as Partial<tfl.LayersModel>).layers !== undefined) convLayers(layer as unknown as tfl.LayersModel, false, into);
    else if (layer.getClassName() === 'Conv2D') into.push([layer as unknown as ConvLayer, outermost && readsModelInput(layer as unknown as ConvLayer)]);
  }
  return into;
}

/** True when every layer feeding `layer` is an input layer (for a layer of the outermost model: the data). */
function readsModelInput(layer: ConvLayer): boolean {
  const nodes = layer.inboundNodes;
  return nodes.length > 0 && nodes.every((n) => n.inboundLayers.every((l) => l.getClassName() === 'InputLayer'));
}

const ACTIVATIONS: Record<string, 'relu' | 'linear'> = { relu: 'relu', linear: 'linear' };  // by class name

/** One fused call per layer, the same function at every step (a captured training step is selected by its calls). */
const nativeCalls = new WeakMap<ConvLayer, Call>();

/** The fused call for `layer`, or null when the layer is not eligible (see the header). */
function nativeCall(layer: ConvLayer, inputIsData: boolean): Call | null {
  const activation = ACTIVATIONS[layer.activation.getClassName()];
  const dilations = typeof layer.dilationRate === 'number' ? [layer.dilationRate] : layer.dilationRate;
  const eligible = activation !== undefined && layer.rank === 2 && layer.dataFormat === 'channelsLast' &&
    (layer.padding === 'valid' || layer.padding === 'same') && dilations.every((d) => d === 1) &&
    layer.call === (Object.getPrototypeOf(layer) as ConvLayer).call;
  if (!eligible) return null;
  let native = nativeCalls.get(layer);
  if (native === undefined) nativeCalls.set(layer, native = fusedCall(layer, activation, inputIsData));
  return native;
}

/** `layer`'s call through conv2dBiasActivation (its own call for inputs that are not float32 [N,H,W,C]). */
function fusedCall(layer: ConvLayer, activation: 'relu' | 'linear', inputIsData: boolean): Call {
  const own = layer.call;
  const options = { strides: layer.strides as [number, number], pad: layer.padding as 'valid' | 'same', dilations: 1, activation,
    inputGradient: !inputIsData };
  return (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (x.rank !== 4 || x.dtype !== 'float32' || (Array.isArray(inputs) && inputs.length !== 1)) return own.call(layer, inputs, kwargs);
    return tf.tidy(() => conv2dBiasActivation(x as tf.Tensor4D, layer.kernel.read() as tf.Tensor4D,
      (layer.bias?.read() ?? null) as tf.Tensor1D | null, options));
  };
}

/**
 * Gives `model`'s eligible Conv2D layers the fused call (see the header) until the returned function puts their calls
 * back. Example: `const restore = useNativeConv(model); try { step() } finally { restore() }`.
 */
export function useNativeConv(model: tfl.LayersModel): () => void {
  const swapped: { layer: ConvLayer; own: Call }[] = [];
  for (const [layer, inputIsData] of convLayers(model)) {
    const native = nativeCall(layer, inputIsData);
    if (native === null) continue;
    swapped.push({ layer, own: layer.call });
    layer.call = native;
  }
  return () => {
    for (const { layer, own } of swapped) layer.call = own;
  };
}
