// The contract between the model walker (../export.ts) and the per-layer converters of this folder.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { ExportContext, Val } from '../context';

/** One application of a layer in the model graph, as a converter sees it. */
export interface Step {
  layer: tfl.layers.Layer;
  /** The layer's output shapes in tfjs's order (batch null). */
  outputShapes: (number | null)[][];
  /** The layer that alone consumes this step's (single) output, or null (several consumers, a model output). */
  soleConsumer(): tfl.layers.Layer | null;
  /** Folds the sole consumer into this step: its output becomes this step's output, and it is not converted. */
  absorbConsumer(): void;
  /** Name of the layer whose calibrated range quantises this step's output (the last absorbed layer's). */
  rangeName: string;
  /** int8: the output keeps its input's quantisation (Transpose, Reshape, MaxPool, padding move values only). */
  keepsInputQuant: boolean;
  /** int8: a ReLU was left out because the output's quantisation (range min 0) clips at 0. */
  reluInRange: boolean;
}

/** Converts one layer application: inputs as ONNX values → output values (same order as tfjs's outputs). */
export type Converter = (ctx: ExportContext, step: Step, inputs: Val[]) => Val[];

/** Reads a layer's config (tfjs's serialised form). */
export function configOf(layer: tfl.layers.Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

/** A [a, b] pair from a number or a list. */
export function pair(v: unknown, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  if (Array.isArray(v)) return [Number(v[0]), Number(v[v.length > 1 ? 1 : 0])];
  return [Number(v), Number(v)];
}

/**
 * Explicit ONNX pads [top, left, bottom, right] for a window op on an [h, w] input, as TensorFlow pads: 'valid'
 * none, 'same' total = max((ceil(in/s) − 1)·s + (k − 1)·d + 1 − in, 0), the smaller half before.
 */
export function padsFor(padding: unknown, input: [number, number], kernel: [number, number], strides: [number, number],
  dilations: [number, number] = [1, 1]): number[] {
  if (padding !== 'same') return [0, 0, 0, 0];
  const total = [0, 1].map((k) => Math.max((Math.ceil(input[k] / strides[k]) - 1) * strides[k] + (kernel[k] - 1) * dilations[k] + 1 - input[k], 0));
  return [Math.floor(total[0] / 2), Math.floor(total[1] / 2), total[0] - Math.floor(total[0] / 2), total[1] - Math.floor(total[1] / 2)];
}
