// Rebuilding a layers model's graph: every layer of a loaded model (Sequential or functional) is re-applied, in
// topological order, to new symbolic tensors. A hook may replace a layer's application (wrap it in LoRA) or add
// layers after it (an adapter); layers that are re-applied as they are keep sharing their weights with the source
// model. This is how a base is cut at a layer and how adapters and LoRA enter a model without copying weights;
// explanations (tapping a layer's output) and compression (replacing a layer) use it the same way.
import * as tfl from '@tensorflow/tfjs-layers';

type SymbolicTensor = tfl.SymbolicTensor;
type Layer = tfl.layers.Layer;

/** A tfjs-layers graph node (the engine's Node class is not exported). */
interface GraphNode {
  outboundLayer: Layer;
  inputTensors: SymbolicTensor[];
  outputTensors: SymbolicTensor[];
}

/** One layer application of the source graph, in topological order. */
export interface GraphStep {
  layer: Layer;
  /** Symbolic inputs of the source graph (their ids key the rebuilt tensors). */
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
}

/**
 * The layer applications of `model`'s own graph, in topological order (input layers excluded). A Sequential
 * applies each layer once, when it is added; a functional model lists its own nodes by depth (layers shared
 * with other models have nodes of those models too, which are not part of this graph).
 */
export function graphSteps(model: tfl.LayersModel): GraphStep[] {
  if (model instanceof tfl.Sequential) {
    return model.layers.map((layer) => {
      const node = layer.inboundNodes[0];
      return { layer, inputs: node.inputTensors, outputs: node.outputTensors };
    });
  }
  const byDepth = (model as unknown as { nodesByDepth: Record<string, GraphNode[]> }).nodesByDepth;
  const depths = Object.keys(byDepth).map(Number).sort((a, b) => b - a);
  return depths
    .flatMap((depth) => byDepth[depth])
    .filter((node) => node.outboundLayer.getClassName() !== 'InputLayer')
    .map((node) => ({ layer: node.outboundLayer, inputs: node.inputTensors, outputs: node.outputTensors }));
}

/**
 * What to do with one step: return the rebuilt output(s) for the step, or undefined to re-apply the layer as is.
 * `apply` re-applies the original layer to the given inputs.
 */
export type StepHook = (step: GraphStep, inputs: SymbolicTensor[], apply: (inputs: SymbolicTensor[]) => SymbolicTensor[]) => SymbolicTensor[] | undefined;

/**
 * Re-applies `model`'s layers to `input` up to and including the layer named `until` (all layers when undefined),
 * and returns the rebuilt output of that last layer plus the map from source tensor ids to rebuilt tensors.
 * input: a new symbolic input of the model's input shape → the rebuilt output tensor of `until`.
 */
export function rebuild(
  model: tfl.LayersModel, input: SymbolicTensor, options: { until?: string; hook?: StepHook } = {},
): { output: SymbolicTensor; tensors: Map<number, SymbolicTensor> } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`Rebuilding a model's graph needs a model with one input and one output; ${model.name} has ${model.inputs.length} and ${model.outputs.length}.`);
  }
  const tensors = new Map<number, SymbolicTensor>([[model.inputs[0].id, input]]);
  let last: SymbolicTensor | undefined;
  for (const step of graphSteps(model)) {
    const inputs = step.inputs.map((t) => {
      const rebuilt = tensors.get(t.id);
      if (rebuilt === undefined) throw new Error(`Layer ${step.layer.name} consumes a tensor that is not rebuilt yet.`);
      return rebuilt;
    });
    const apply = (xs: SymbolicTensor[]) => asList(step.layer.apply(xs.length === 1 ? xs[0] : xs) as SymbolicTensor | SymbolicTensor[]);
    const outputs = options.hook?.(step, inputs, apply) ?? apply(inputs);
    step.outputs.forEach((t, i) => tensors.set(t.id, outputs[i]));
    last = tensors.get(step.outputs[0].id);
    if (step.layer.name === options.until) break;
  }
  if (last === undefined) throw new Error(`Model ${model.name} has no layers to rebuild.`);
  return { output: last, tensors };
}

function asList<T>(x: T | T[]): T[] {
  return Array.isArray(x) ? x : [x];
}

/** The layers of `model` that have weights of their own (kernels, biases, BatchNorm). */
export function hasWeights(layer: Layer): boolean {
  return layer.weights.length > 0;
}
