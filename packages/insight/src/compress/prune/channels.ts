// Structured channel pruning (Li et al. 2017, "Pruning Filters for Efficient ConvNets"): a convolution's output
// channels are ranked by the L1 norm of their filters (times |gamma| of the BatchNorm that follows, when there is one,
// as network slimming scales them), the lowest `fraction` are removed, and a smaller model is built: the convolution
// has fewer filters, its bias and the BatchNorm parameters on the way shrink with it, and every consumer loses the
// matching inputs (the next convolution's kernel [kh, kw, cin, cout] along cin; a Dense after a global pooling along
// its rows; a Dense after Flatten the rows p·C + c of every position p, since NHWC flattens channels fastest).
//
// Which convolutions may lose channels — the rule: a convolution is pruned when its output reaches only layers that
// carry each channel on its own (BatchNorm, activations with f(0) = 0, pooling, padding, Dropout, Flatten) and then
// consumers whose inputs can shrink (Conv2D, Dense). A channel that reaches an Add or a Concatenate (a ResNet's block
// output and shortcut, the stem) is shared with another branch: removing it would need every branch of the sum pruned
// consistently, so those convolutions are kept whole. In a CIFAR ResNet the first convolution of every BasicBlock is
// pruned (its channels end inside the block), the second, the projections and the stem are not; in seed-cnn every
// convolution but the skipped ones. Removing a channel equals masking it: zeroing its filter and bias and the
// following BatchNorms' gamma and beta makes the channel 0 downstream (f(0) = 0), which the consumers ignore —
// `maskChannels` builds that masked model and the tests compare the two within 1e-5.
import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { ruleError } from '../../errors';
import { graphSteps, type GraphStep } from '../../models/graph';
import { defaultSkip } from './prunable';

type Layer = tfl.layers.Layer;

/** Layers that carry each channel on its own and map a zero channel to zero. */
const CHANNELWISE = new Set(['BatchNormalization', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Dropout', 'SpatialDropout2D',
  'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'ZeroPadding2D', 'Flatten']);
/** Activations with f(0) = 0 (a masked channel stays 0 after them). */
const ZERO_PRESERVING = new Set(['linear', 'relu', 'relu6', 'elu', 'selu', 'tanh', 'swish', 'gelu', 'gelu_new', 'mish', 'leakyRelu', undefined]);

/** How one consumer of a pruned convolution's channels shrinks. */
interface Consumer {
  layer: Layer;
  /** 'conv': kernel axis 2; 'dense': kernel rows c; 'flatten': kernel rows p·C + c for `positions` positions. */
  kind: 'conv' | 'dense' | 'flatten';
  positions: number;
}

/** One convolution whose channels can go, with the layers on the way to its consumers. */
export interface ChannelGroup {
  conv: Layer;
  channels: number;
  /** BatchNorms on the way (their parameters shrink with the channels). */
  batchNorms: Layer[];
  consumers: Consumer[];
}

/** One pruned convolution: the channels it keeps (ascending). */
export interface ChannelPlan {
  conv: string;
  channels: number;
  keep: number[];
}

function activationOf(layer: Layer): string | undefined {
  const config = layer.getConfig() as { activation?: string };
  return config.activation;
}

/** The convolution's channels' way to its consumers, or null when a channel reaches a layer that cannot shrink it. */
function channelGroup(step: GraphStep, consumersOf: Map<number, GraphStep[]>, outputs: Set<number>): ChannelGroup | null {
  const conv = step.layer;
  if (conv.inboundNodes.length !== 1 || !ZERO_PRESERVING.has(activationOf(conv))) return null;
  const channels = step.outputs[0].shape[3] as number;
  const group: ChannelGroup = { conv, channels, batchNorms: [], consumers: [] };
  // Walk forward: `positions` is 0 before a Flatten, the flattened positions after it.
  const queue: { tensor: tfl.SymbolicTensor; positions: number }[] = [{ tensor: step.outputs[0], positions: 0 }];
  while (queue.length > 0) {
    const { tensor, positions } = queue.shift()!;
    if (outputs.has(tensor.id)) return null; // a model output keeps its channels
    for (const next of consumersOf.get(tensor.id) ?? []) {
      const layer = next.layer;
      const name = layer.getClassName();
      if (layer.inboundNodes.length !== 1) return null;
      if (name === 'Conv2D' && positions === 0) {
        group.consumers.push({ layer, kind: 'conv', positions: 0 });
      } else if (name === 'Dense' && next.inputs[0].shape.length === 2) {
        group.consumers.push({ layer, kind: positions > 0 ? 'flatten' : 'dense', positions });
      } else if (CHANNELWISE.has(name) && ZERO_PRESERVING.has(activationOf(layer))) {
        if (name === 'BatchNormalization') {
          if (positions > 0) return null; // after a Flatten it normalises positions x channels, not channels
          const axis = (layer.getConfig() as { axis: number | number[] }).axis;
          if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))) return null;
          group.batchNorms.push(layer);
        }
        let nextPositions = positions;
        if (name === 'Flatten') {
          if (positions > 0) return null;
          const shape = next.inputs[0].shape;
          nextPositions = shape.slice(1, -1).reduce((a: number, b) => a * (b as number), 1);
        }
        queue.push({ tensor: next.outputs[0], positions: nextPositions });
      } else {
        return null; // Add, Concatenate, Reshape, a depthwise convolution ...: the channel is not free to go
      }
    }
  }
  return group.consumers.length > 0 ? group : null;
}

/**
 * The convolutions of `model` whose output channels are free to go (see the rule above), without those named in
 * `skip` (null: the first kernel layer, as for magnitude pruning).
 */
export function channelGroups(model: tfl.LayersModel, skip: readonly string[] | null = null): ChannelGroup[] {
  const steps = graphSteps(model);
  const consumersOf = new Map<number, GraphStep[]>();
  for (const step of steps) {
    for (const input of step.inputs) consumersOf.set(input.id, [...consumersOf.get(input.id) ?? [], step]);
  }
  const outputs = new Set(model.outputs.map((t) => t.id));
  const skipped = skip ?? defaultSkip(model);
  return steps.filter((s) => s.layer.getClassName() === 'Conv2D' && !skipped.includes(s.layer.name))
    .map((s) => channelGroup(s, consumersOf, outputs)).filter((g): g is ChannelGroup => g !== null);
}

/** Channel scores [C]: L1 norm of each filter, times |gamma| of the first BatchNorm after it. */
function channelScores(group: ChannelGroup): Float32Array {
  return tf.tidy(() => {
    let scores = tf.sum(tf.abs(group.conv.getWeights()[0]), [0, 1, 2]);
    const bn = group.batchNorms[0];
    if (bn !== undefined && (bn.getConfig() as { scale: boolean }).scale) scores = tf.mul(scores, tf.abs(bn.getWeights()[0]));
    return scores.dataSync() as Float32Array;
  });
}

/**
 * Which channels each prunable convolution keeps: the round((1 - fraction) · C) of highest score (at least 1),
 * ties to the lower index. Example: `channelPlan(model, 0.5, null)`.
 */
export function channelPlan(model: tfl.LayersModel, fraction: number, skip: readonly string[] | null = null): ChannelPlan[] {
  return channelGroups(model, skip).map((group) => {
    const scores = channelScores(group);
    const keepCount = Math.max(1, Math.round((1 - fraction) * group.channels));
    const order = [...scores.keys()].sort((a, b) => scores[b] - scores[a] || a - b);
    return { conv: group.conv.name, channels: group.channels, keep: order.slice(0, keepCount).sort((a, b) => a - b) };
  });
}

/** The kept indices of one consumer's input axis (rows of a Dense after Flatten: p·C + c for every position). */
function consumerIndices(consumer: Consumer, plan: ChannelPlan): number[] {
  if (consumer.kind !== 'flatten') return plan.keep;
  const rows: number[] = [];
  for (let p = 0; p < consumer.positions; p++) for (const c of plan.keep) rows.push(p * plan.channels + c);
  return rows;
}

/** Per layer name, per weight index: [axis, kept indices][] to gather (applied in order). */
type Slices = Map<string, Map<number, [number, number[]][]>>;

function slicesOf(groups: ChannelGroup[], plans: ChannelPlan[]): Slices {
  const slices: Slices = new Map();
  const add = (layer: string, weight: number, axis: number, keep: number[]) => {
    const byWeight = slices.get(layer) ?? new Map<number, [number, number[]][]>();
    byWeight.set(weight, [...byWeight.get(weight) ?? [], [axis, keep]]);
    slices.set(layer, byWeight);
  };
  groups.forEach((group, g) => {
    const plan = plans[g];
    group.conv.getWeights().forEach((w, i) => add(group.conv.name, i, w.rank - 1, plan.keep)); // kernel's cout, bias
    for (const bn of group.batchNorms) bn.getWeights().forEach((_, i) => add(bn.name, i, 0, plan.keep));
    for (const consumer of group.consumers) add(consumer.layer.name, 0, consumer.kind === 'conv' ? 2 : 0, consumerIndices(consumer, plan));
  });
  return slices;
}

/** The layer configs of a serialized model topology (Sequential or functional), by layer name. */
function layerConfigs(topology: { config: { layers: { config: { name: string; filters?: number } }[] } }): Map<string, { filters?: number }> {
  return new Map(topology.config.layers.map((l) => [l.config.name, l.config]));
}

export interface ChannelPruneResult {
  /** The smaller model (a new model; the caller owns it), with the source model's metadata. */
  model: tfl.LayersModel;
  plan: ChannelPlan[];
}

/**
 * Removes the lowest-scoring `fraction` of the output channels of every prunable convolution (see the rule above)
 * and returns a new, smaller model; `model` is left as it was. Throws INSIGHT_E_MODEL when no convolution can lose
 * channels. Example: `const { model: small, plan } = await pruneChannels(model, 0.5)`.
 */
export async function pruneChannels(model: tfl.LayersModel, fraction: number, skip: readonly string[] | null = null): Promise<ChannelPruneResult> {
  const groups = channelGroups(model, skip);
  if (groups.length === 0) {
    throw ruleError('INSIGHT_E_MODEL', 'Structured pruning needs a convolution whose channels reach only channel-wise layers and then Conv2D or Dense consumers (not an Add or Concatenate).',
      { model: model.name, convolutions: graphSteps(model).filter((s) => s.layer.getClassName() === 'Conv2D').map((s) => s.layer.name).join(',') || 'none' },
      'Use unstructured pruning (drop --structured), or skip fewer layers.');
  }
  const plans = channelPlan(model, fraction, skip);
  const topology = model.toJSON(null, false) as unknown as { config: { layers: { config: { name: string; filters?: number } }[] } };
  const configs = layerConfigs(topology);
  for (const plan of plans) configs.get(plan.conv)!.filters = plan.keep.length;
  const small = await tfl.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] } as tf.io.ModelJSON);
  const slices = slicesOf(groups, plans);
  for (const layer of small.layers) {
    const source = model.getLayer(layer.name);
    const byWeight = slices.get(layer.name);
    const weights = tf.tidy(() => source.getWeights().map((w, i) => {
      let x: tf.Tensor = w;
      for (const [axis, keep] of byWeight?.get(i) ?? []) x = tf.gather(x, tf.tensor1d(keep, 'int32'), axis);
      return x === w ? w.clone() : x;
    }));
    layer.setWeights(weights);
    tf.dispose(weights);
  }
  const metadata = model.getUserDefinedMetadata();
  if (metadata !== undefined) small.setUserDefinedMetadata(metadata);
  return { model: small, plan: plans };
}

/**
 * Masks the planned channels of `model` in place instead of removing them: the pruned filters' kernel and bias and the
 * following BatchNorms' gamma and beta become 0, so each pruned channel is 0 downstream. The masked model computes what
 * the pruned one does.
 */
export function maskChannels(model: tfl.LayersModel, plans: readonly ChannelPlan[], skip: readonly string[] | null = null): void {
  const groups = channelGroups(model, skip);
  for (const plan of plans) {
    const group = groups.find((g) => g.conv.name === plan.conv);
    if (group === undefined) throw ruleError('INSIGHT_E_CONFIG', 'A channel plan names convolutions whose filters are free to go.', { layer: plan.conv, model: model.name },
      'Make the plan with channelPlan(model, ...) for this model.');
    const mask = tf.tidy(() => tf.scatterND(tf.tensor2d(plan.keep, [plan.keep.length, 1], 'int32'), tf.ones([plan.keep.length]), [plan.channels]));
    const zeroChannels = (layer: Layer, which: number[]) => {
      layer.setWeights(tf.tidy(() => layer.getWeights().map((w, i) => (which.includes(i) ? tf.mul(w, mask) : w.clone()))));
    };
    zeroChannels(group.conv, group.conv.getWeights().map((_, i) => i)); // kernel (cout last) and bias
    for (const bn of group.batchNorms) {
      const config = bn.getConfig() as { scale: boolean; center: boolean };
      // gamma, beta come first when present (tfjs-layers' order: gamma, beta, moving mean, moving variance)
      const count = (config.scale ? 1 : 0) + (config.center ? 1 : 0);
      zeroChannels(bn, [...Array(count).keys()]);
    }
    mask.dispose();
  }
}

/** Multiply-adds × 2 of one forward pass of one image through the Conv2D, DepthwiseConv2D and Dense layers. */
export function countFlops(model: tfl.LayersModel): number {
  let flops = 0;
  for (const step of graphSteps(model)) {
    const layer = step.layer;
    const name = layer.getClassName();
    const out = step.outputs[0].shape as number[];
    const inp = step.inputs[0].shape as number[];
    const kernel = layer.weights.find((w) => /kernel$/.test(w.originalName))?.shape as number[] | undefined;
    if (kernel === undefined) continue;
    if (name === 'Conv2D') flops += 2 * kernel[0] * kernel[1] * kernel[2] * kernel[3] * out[1] * out[2];
    else if (name === 'DepthwiseConv2D') flops += 2 * kernel[0] * kernel[1] * kernel[2] * kernel[3] * out[1] * out[2];
    else if (name === 'Dense') flops += 2 * inp[inp.length - 1] * out[out.length - 1];
  }
  return flops;
}
