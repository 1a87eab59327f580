// Splitting a chain model into pipeline stages: contiguous runs of layers, one stage per rank. The cut points are
// given (layer indices) or chosen to balance the stages' cost: estimated forward FLOPs (the default: the slowest
// stage sets the pipeline's pace) or parameter count (memory).
import type * as tfl from '@tensorflow/tfjs-layers';

import { ruleError } from '../../errors';
import { chainLayers } from './chain';

/** What a balanced split equalises: estimated forward FLOPs per example, or trainable parameter count. */
export type StageBalance = 'flops' | 'params';

export interface SplitOptions {
  /** Number of stages S (one per rank of the pipeline's group). */
  stages: number;
  /**
   * Where stages 1..S-1 start: S-1 strictly increasing indices into the chain's layers (InputLayer excluded),
   * e.g. [5] runs layers 0-4 on stage 0 and 5.. on stage 1. Default: chosen by `balance`.
   */
  boundaries?: number[];
  /** Default 'flops'. */
  balance?: StageBalance;
}

/** One stage: layers [start, end) of the chain. Shapes exclude the batch dimension. */
export interface StagePlan {
  index: number;
  start: number;
  end: number;
  layerNames: string[];
  /** Trainable parameters of the stage's layers. */
  params: number;
  /** Estimated forward FLOPs per example (2 per multiply-add of a kernel, 1 per output element otherwise). */
  flops: number;
  /** What the stage receives from stage index-1 (the model's input for stage 0) and sends to index+1. */
  inputShape: number[];
  outputShape: number[];
}

/**
 * Splits `model` (a Sequential or functional chain) into `options.stages` stages at layer boundaries.
 * Example: `splitModel(buildSeedCnn({ inputShape: [32, 32, 3], numClasses: 10, dropout: 0 }), { stages: 2 })`.
 */
export function splitModel(model: tfl.LayersModel, options: SplitOptions): StagePlan[] {
  const layers = chainLayers(model);
  const { stages } = options;
  if (!Number.isInteger(stages) || stages < 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'A pipeline needs a whole number of stages >= 1.', { stages }, 'Pass e.g. stages: 2.');
  }
  if (layers.length < stages) {
    throw ruleError('INSIGHT_E_CONFIG', 'A pipeline stage holds at least one layer: the model needs as many layers as stages.',
      { model: model.name, layers: layers.length, stages }, `Use at most ${layers.length} stages, or a deeper model.`);
  }
  const cost = layers.map(options.balance === 'params' ? (l) => l.countParams() : layerFlops);
  const starts = options.boundaries === undefined ? balancedStarts(cost, stages) : checkedStarts(options.boundaries, layers.length, stages);
  return starts.map((start, index) => {
    const end = starts[index + 1] ?? layers.length;
    const own = layers.slice(start, end);
    return {
      index, start, end,
      layerNames: own.map((l) => l.name),
      params: own.reduce((n, l) => n + trainableParams(l), 0),
      flops: own.reduce((n, l) => n + layerFlops(l), 0),
      inputShape: withoutBatch(inputShapeOf(own[0]), own[0].name),
      outputShape: withoutBatch(own[own.length - 1].outputShape, own[own.length - 1].name),
    };
  });
}

function trainableParams(layer: tfl.layers.Layer): number {
  return layer.trainableWeights.reduce((n, w) => n + elements(w.shape), 0);
}

/** Kernel layers: 2 x kernel size x output positions (conv: H x W, dense: 1); others: output elements. */
function layerFlops(layer: tfl.layers.Layer): number {
  const out = withoutBatch(layer.outputShape, layer.name);
  const kernel = layer.trainableWeights.find((w) => w.shape.length >= 2);
  if (kernel === undefined) return out.reduce((a, b) => a * b, 1);
  const kernelSize = elements(kernel.shape);
  const positions = out.slice(0, -1).reduce((a, b) => a * b, 1);
  return 2 * kernelSize * positions;
}

/** Elements of a weight's (fully known) shape. */
function elements(shape: (number | null)[]): number {
  return shape.reduce<number>((a, b) => a * (b ?? 1), 1);
}

function inputShapeOf(layer: tfl.layers.Layer): tfl.Shape | tfl.Shape[] {
  return (layer.input as tfl.SymbolicTensor).shape;
}

function withoutBatch(shape: tfl.Shape | tfl.Shape[], layer: string): number[] {
  if (Array.isArray(shape[0])) {
    throw ruleError('INSIGHT_E_CONFIG', 'A pipeline stage\'s layers each take one tensor and give one (a chain).',
      { layer, shape: JSON.stringify(shape) }, 'Split a Sequential model or a functional chain; train a model with multi-tensor layers data-parallel instead.');
  }
  return (shape as tfl.Shape).slice(1).map((d) => d ?? -1);
}

function checkedStarts(boundaries: number[], layers: number, stages: number): number[] {
  const ok = boundaries.length === stages - 1 &&
    boundaries.every((b, i) => Number.isInteger(b) && b > (i === 0 ? 0 : boundaries[i - 1]) && b < layers);
  if (!ok) {
    throw ruleError('INSIGHT_E_CONFIG', 'Stage boundaries are stages-1 strictly increasing layer indices in 1..layers-1 (where stages 1.. start).',
      { boundaries, stages, layers }, `Pass e.g. boundaries: [${Math.floor(layers / 2)}] for 2 stages, or leave them out to balance.`);
  }
  return [0, ...boundaries];
}

/**
 * The contiguous split of `cost` into `stages` non-empty runs whose largest total is smallest (dynamic
 * programming over prefix sums; models have tens of layers). Ties go to the earliest cut. Returns run starts.
 */
export function balancedStarts(cost: number[], stages: number): number[] {
  const n = cost.length;
  const prefix = [0];
  for (const c of cost) prefix.push(prefix[prefix.length - 1] + c);
  // best[s][i]: smallest max-run-cost of splitting the first i layers into s runs; cut[s][i]: where the last run starts.
  const best = Array.from({ length: stages + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const cut = Array.from({ length: stages + 1 }, () => new Array<number>(n + 1).fill(0));
  best[0][0] = 0;
  for (let s = 1; s <= stages; s++) {
    for (let i = s; i <= n; i++) {
      for (let j = s - 1; j < i; j++) {
        const worst = Math.max(best[s - 1][j], prefix[i] - prefix[j]);
        if (worst < best[s][i]) {
          best[s][i] = worst;
          cut[s][i] = j;
        }
      }
    }
  }
  const starts: number[] = [];
  for (let s = stages, i = n; s >= 1; s--) {
    starts.unshift(cut[s][i]);
    i = cut[s][i];
  }
  return starts;
}
