// Where an int8 graph quantises activations: the model's input and the output of every layer that ends a quantisable
// op (convolutions and Dense with their fused activation, pooling, Add, Concatenate, activation layers, BatchNorm —
// the writer folds it into the convolution before it — and the layers that only reshape or pass values on, whose
// output range equals their input's and which the writer lets keep their input's parameters). Layers inside a
// nested model are not reached (a model from the zoo, or saved by train/finetune, is flat). Calibration measures these tensors, quantisation-aware training fake-quantises
// them, and the ONNX writer reads their ranges by layer name (onnx/quantization_params.ts).
import * as tfl from '@tensorflow/tfjs-layers';

import { ruleError } from '../../errors';
import { graphSteps, type GraphStep } from '../../models/graph';

/** tfjs-layers class names whose output gets a range: the layers the ONNX writer converts (onnx/layers). */
export const QUANTIZED_LAYER_CLASSES: readonly string[] = [
  'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'InsightLora', 'BatchNormalization',
  'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D',
  'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax',
  'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate',
  'Flatten', 'Reshape', 'Permute', 'ZeroPadding2D', 'Cropping2D', 'UpSampling2D', 'Rescaling',
  'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
];

/** One quantised activation: the layer whose output it is, and that output in the source graph. */
export interface QuantizedPoint {
  /** The layer's name: the key of its range in ActivationRanges.layers. */
  layer: string;
  className: string;
  output: tfl.SymbolicTensor;
}

/**
 * The quantised activations of `model`, in topological order (the input is not one of them: it is always
 * quantised). Throws the house error for a layer applied more than once (no single output to calibrate) or a layer
 * class no int8 graph covers.
 */
export function quantizedPoints(model: tfl.LayersModel): QuantizedPoint[] {
  const steps = graphSteps(model);
  const points: QuantizedPoint[] = [];
  const seen = new Set<string>();
  for (const step of steps) {
    const className = step.layer.getClassName();
    if (!QUANTIZED_LAYER_CLASSES.includes(className)) throw unsupported(model, step, className);
    if (seen.has(step.layer.name) || step.outputs.length !== 1) {
      throw ruleError('INSIGHT_E_MODEL', 'A layer of a model to quantise must be applied once and have one output.',
        { model: model.name, layer: step.layer.name, outputs: step.outputs.length },
        'Quantise a model without shared layers (every zoo model qualifies).');
    }
    seen.add(step.layer.name);
    points.push({ layer: step.layer.name, className, output: step.outputs[0] });
  }
  return points;
}

function unsupported(model: tfl.LayersModel, step: GraphStep, className: string) {
  return ruleError('INSIGHT_E_MODEL', 'Every layer of a model to quantise must be of a class the int8 graph covers.',
    { model: model.name, layer: step.layer.name, class: className },
    `Supported: ${QUANTIZED_LAYER_CLASSES.join(', ')}.`);
}

const views = new WeakMap<tfl.LayersModel, tfl.LayersModel>();

/**
 * x [n, ...input] → [each point's output], in quantizedPoints order: a model over `model`'s own symbolic tensors
 * (it applies no layer, so the layers' reference counts are unchanged). Built once per model; never dispose it
 * (that would free the source model's weights) — it is dropped with its model.
 */
export function pointsView(model: tfl.LayersModel): tfl.LayersModel {
  let view = views.get(model);
  if (view === undefined) {
    const points = quantizedPoints(model);
    view = tfl.model({ inputs: model.inputs, outputs: points.map((p) => p.output), name: `${model.name}_quantized_points` });
    views.set(model, view);
  }
  return view;
}
