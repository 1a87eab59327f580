// exportOnnx: a tfjs LayersModel → an ONNX model (bytes), run by ONNX Runtime with the same input and output as
// the tfjs model: NHWC float32 images [batch, h, w, c] (batch symbolic) → the model's output. Inside, 4-D values
// are NCHW (one Transpose after the input; back to NHWC only where a layer needs tfjs's order, e.g. before
// Flatten, so Dense weights keep Keras's order). The walker visits the model's graph in topological order (nested
// models expanded in place) and calls one converter per layer (./layers); a BatchNormalization that alone follows
// a Conv2D/Dense is folded into its weights. With `int8`, weights are int8 per output channel and every calibrated
// layer output gets a QuantizeLinear/DequantizeLinear pair: the QDQ layout ONNX Runtime fuses into integer kernels.
//
// Example: `fs.writeFileSync('model.onnx', exportOnnx(await loadModel('runs/abc/model')))`.
import * as tfl from '@tensorflow/tfjs-layers';

import { InsightError, ruleError } from '../errors';
import type { InsightModelMetadata } from '../models/metadata';
import { ExportContext, type Val } from './context';
import { CONVERTERS, type Step, SUPPORTED_LAYERS } from './layers';
import { applyActivation } from './layers/activations';
import { DataType } from './onnx_proto';
import { OPSETS } from './opsets';
import type { ActivationRanges } from './quantization_params';

export { OPSETS };

/** The metadata_props key that carries the Insight metadata (JSON of models/metadata.ts's InsightModelMetadata). */
export const ONNX_METADATA_KEY = 'insight';

export interface ExportOnnxOptions {
  /** ONNX opset (13..17); default 13. */
  opset?: number;
  /** Write an int8 QDQ graph with these calibrated ranges (compress/quantize's calibrate). */
  int8?: ActivationRanges;
  /** The Insight metadata to embed; default the model's own (userDefinedMetadata.insight), if it has one. */
  metadata?: InsightModelMetadata;
}

type Node = tfl.layers.Layer['inboundNodes'][number];
type SymbolicTensor = tfl.SymbolicTensor;

/** A tfjs model as ONNX bytes. model: one input [batch, ...], one output. */
export function exportOnnx(model: tfl.LayersModel, options: ExportOnnxOptions = {}): Uint8Array {
  const opset = options.opset ?? OPSETS.default;
  if (!Number.isInteger(opset) || opset < OPSETS.min || opset > OPSETS.max) {
    throw ruleError('INSIGHT_E_CONFIG', `The ONNX opset must be an integer from ${OPSETS.min} to ${OPSETS.max}.`, { opset },
      `Pass e.g. --opset ${OPSETS.default}.`);
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw ruleError('INSIGHT_E_MODEL', 'ONNX export takes a model with one input and one output.',
      { model: model.name, inputs: model.inputs.length, outputs: model.outputs.length }, 'Export an image classifier (one image input, one logits output).');
  }
  const ctx = new ExportContext(options.int8);
  const input = model.inputs[0];
  const dims = (shape: (number | null)[]) => shape.map((d, k) => (k === 0 ? 'batch' : d ?? `dim${k}`));
  let x: Val = { name: ctx.g.input(input.name, DataType.FLOAT, dims(input.shape)), shape: input.shape };
  if (options.int8 !== undefined) x = ctx.quantize(x, options.int8.input);
  if (x.shape.length === 4) x = ctx.fromNhwc(x.name, x.shape, x);
  const [y] = convertModel(ctx, model, [x], true);
  ctx.g.output(ctx.nhwc(y), 'output', DataType.FLOAT, dims(y.shape));
  const metadata = options.metadata ?? modelMetadata(model);
  return ctx.g.toModel({
    opset,
    irVersion: opset >= 15 ? 8 : 7,
    producerName: 'insight',
    docString: `${model.name}${options.int8 ? ' (int8 QDQ)' : ''}`,
    metadata: metadata ? { [ONNX_METADATA_KEY]: JSON.stringify(metadata) } : {},
  });
}

function modelMetadata(model: tfl.LayersModel): InsightModelMetadata | undefined {
  const meta = (model.getUserDefinedMetadata() as { insight?: InsightModelMetadata } | undefined)?.insight;
  return meta ?? undefined;
}

/** The nodes computing `model`'s outputs from its inputs, each after the nodes it reads. */
function topologicalNodes(model: tfl.LayersModel): Node[] {
  const inputIds = new Set(model.inputs.map((t) => t.id));
  const seen = new Set<Node>();
  const order: Node[] = [];
  const visit = (t: SymbolicTensor): void => {
    if (inputIds.has(t.id)) return;
    const node = t.sourceLayer.inboundNodes[t.nodeIndex];
    if (seen.has(node)) return;
    seen.add(node);
    for (const i of node.inputTensors) visit(i);
    order.push(node);
  };
  model.outputs.forEach(visit);
  return order;
}

/**
 * Writes `model`'s graph given its input values; returns its output values. In int8 graphs the outputs of the
 * exported (outermost) model stay float: the last Conv/Gemm then runs as an integer kernel with a float output
 * (ONNX Runtime's QGemm), and logits are not rounded to 256 levels, where near ties would swap the argmax.
 */
function convertModel(ctx: ExportContext, model: tfl.LayersModel, inputs: Val[], outermost = false): Val[] {
  const values = new Map<number, Val>();
  model.inputs.forEach((t, k) => values.set(t.id, inputs[k]));
  const nodes = topologicalNodes(model);
  const consumers = new Map<number, Node[]>();
  for (const node of nodes) for (const t of node.inputTensors) consumers.set(t.id, [...consumers.get(t.id) ?? [], node]);
  const modelOutputs = new Set(model.outputs.map((t) => t.id));
  const absorbed = new Set<Node>();
  for (const node of nodes) {
    if (absorbed.has(node)) continue;
    const layer = node.outboundLayer;
    if (layer.getClassName() === 'InputLayer') continue;
    const ins = node.inputTensors.map((t) => values.get(t.id) as Val);
    if (layer instanceof tfl.LayersModel) {
      convertModel(ctx, layer, ins).forEach((v, k) => values.set(node.outputTensors[k].id, v));
      continue;
    }
    const converter = CONVERTERS[layer.getClassName()];
    if (converter === undefined) throw unsupportedLayer(layer);
    let current = node;
    const sole = (): Node | null => {
      const outs = current.outputTensors;
      if (outs.length !== 1 || modelOutputs.has(outs[0].id)) return null;
      const next = consumers.get(outs[0].id) ?? [];
      return next.length === 1 && !(next[0].outboundLayer instanceof tfl.LayersModel) ? next[0] : null;
    };
    const step: Step = {
      layer,
      outputShapes: node.outputTensors.map((t) => t.shape),
      soleConsumer: () => sole()?.outboundLayer ?? null,
      absorbConsumer: () => {
        const next = sole() as Node;
        absorbed.add(next);
        current = next;
        step.rangeName = next.outboundLayer.name;
      },
      rangeName: layer.name,
      keepsInputQuant: false,
      reluInRange: false,
    };
    let outs: Val[];
    try {
      outs = converter(ctx, step, ins);
    } catch (error) {
      if (error instanceof InsightError) throw error;
      throw ruleError('INSIGHT_E_MODEL', 'ONNX export cannot write this layer\'s configuration.',
        { layer: layer.name, class: layer.getClassName(), reason: (error as Error).message },
        'Change the layer to a supported configuration, or remove it before exporting.', { cause: error });
    }
    const final = outermost && current.outputTensors.some((t) => modelOutputs.has(t.id));
    // A ReLU left to the output quantisation's clip at 0 needs writing when the output is the model's: it stays float.
    if (final && step.reluInRange) outs = [applyActivation(ctx, 'relu', outs[0], step.rangeName)];
    if (ctx.int8 !== undefined && !step.keepsInputQuant && outs.length === 1 && !final) {
      const range = ctx.rangeOf(step.rangeName);
      if (range !== undefined) outs = [ctx.quantize(outs[0], step.reluInRange ? { min: 0, max: range.max } : range)];
    }
    node.outputTensors.forEach((t, k) => values.set(t.id, outs[k]));
    current.outputTensors.forEach((t, k) => values.set(t.id, outs[k]));
  }
  return model.outputs.map((t) => values.get(t.id) as Val);
}

function unsupportedLayer(layer: tfl.layers.Layer): InsightError {
  return ruleError('INSIGHT_E_MODEL', 'ONNX export writes only the layer classes it knows.',
    { layer: layer.name, class: layer.getClassName() },
    `Supported classes: ${SUPPORTED_LAYERS.join(', ')}. Replace the layer with supported ones, or export a model without it.`);
}
