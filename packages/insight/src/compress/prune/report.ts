// The per-layer sparsity report: for every kernel layer of a model (pruned or skipped), its kernel's shape, parameter
// count, zeros and sparsity, and the totals over the pruned kernels and over every weight of the model. Zeros are
// counted on the backend (one scalar read per kernel).
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { formatTable } from '../../format/table';
import { kernelLayers } from './prunable';

export interface SparsityRow {
  layer: string;
  /** The kernel's weight name, e.g. conv1/kernel. */
  weight: string;
  shape: number[];
  params: number;
  zeros: number;
  sparsity: number;
  /** False for a layer left dense (skipped). */
  pruned: boolean;
}

export interface SparsityReport {
  layers: SparsityRow[];
  /** Over the pruned kernels: what a global target is measured on. */
  pruned: { params: number; zeros: number; sparsity: number };
  /** Over every weight of the model (biases, BatchNorm, skipped layers included). */
  model: { params: number; zeros: number; sparsity: number };
}

/** Zeros of a tensor, counted on the backend. */
function zerosOf(x: tf.Tensor): number {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(x, 0), 'int32')).dataSync()[0]);
}

/** The report of `model`; `prunedLayers` names the layers that were pruned (the others show as skipped). */
export function sparsityReport(model: tfl.LayersModel, prunedLayers: readonly string[]): SparsityReport {
  const rows = kernelLayers(model).flatMap((layer) => layer.weights.filter((w) => w.shape.length >= 2 && /kernel$/.test(w.originalName)).map((w) => {
    const params = (w.shape as number[]).reduce((a, b) => a * b, 1);
    const zeros = zerosOf(w.read());
    return { layer: layer.name, weight: w.name, shape: w.shape as number[], params, zeros, sparsity: zeros / params, pruned: prunedLayers.includes(layer.name) };
  }));
  const sum = (list: SparsityRow[]) => {
    const params = list.reduce((a, r) => a + r.params, 0);
    const zeros = list.reduce((a, r) => a + r.zeros, 0);
    return { params, zeros, sparsity: params === 0 ? 0 : zeros / params };
  };
  const all = model.weights.map((w) => ({ params: (w.shape as number[]).reduce((a, b) => a * b, 1), zeros: zerosOf(w.read()) }));
  const modelParams = all.reduce((a, r) => a + r.params, 0);
  const modelZeros = all.reduce((a, r) => a + r.zeros, 0);
  return { layers: rows, pruned: sum(rows.filter((r) => r.pruned)), model: { params: modelParams, zeros: modelZeros, sparsity: modelZeros / modelParams } };
}

/** The report as an aligned table (layer, shape, params, zeros, sparsity), then the two totals. */
export function formatSparsityTable(report: SparsityReport): string {
  const pct = (s: number) => `${(s * 100).toFixed(1)}%`;
  const rows = report.layers.map((r) => [r.layer, r.shape.join('x'), String(r.params), String(r.zeros), r.pruned ? pct(r.sparsity) : `${pct(r.sparsity)} (skipped)`]);
  rows.push(['pruned kernels', '', String(report.pruned.params), String(report.pruned.zeros), pct(report.pruned.sparsity)]);
  rows.push(['whole model', '', String(report.model.params), String(report.model.zeros), pct(report.model.sparsity)]);
  return formatTable(['layer', 'shape', 'params', 'zeros', 'sparsity'], rows);
}
