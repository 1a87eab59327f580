// The common tail of Conv2D/Dense-like layers: fold a BatchNormalization that alone consumes the output, write the
// weights (fp32, or int8 per output channel behind a DequantizeLinear with an int32 bias), then the activation — in
// int8 graphs a ReLU whose output is calibrated is left to the output's quantisation (range min 0 clips at 0).
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { ExportContext, Val } from '../context';
import { int } from '../graph_builder';
import { DataType } from '../onnx_proto';
import { biasScaleFloors, quantizeBias, quantizeWeights } from '../quant';
import { ACTIVATIONS, applyActivation, normaliseActivation } from './activations';
import { foldBatchNorm, isChannelBatchNorm } from './batch_norm';
import { configOf, type Step } from './step';

/** A linear layer's parameters with output channels first: kernel [out, ...], bias [out]. */
export interface LinearParams {
  kernel: tf.Tensor;
  bias: tf.Tensor1D;
}

/**
 * Folds the following BatchNormalization (when it alone consumes a linear-activation output) into `params`
 * (disposing the old tensors) and returns the activation still to apply.
 */
export function foldFollowing(step: Step, params: LinearParams, rank: number, activation: string): { params: LinearParams; activation: string } {
  let result = params;
  const next = step.soleConsumer();
  if (activation === 'linear' && isChannelBatchNorm(next, rank)) {
    result = foldBatchNorm(next as tfl.layers.Layer, params.kernel, params.bias);
    params.kernel.dispose();
    params.bias.dispose();
    step.absorbConsumer();
  }
  return { params: result, activation };
}

/** Whether a layer is a plain ReLU (Activation('relu') or ReLU without maxValue). */
function isPlainRelu(layer: tfl.layers.Layer | null): boolean {
  if (layer === null) return false;
  const c = configOf(layer);
  if (layer.getClassName() === 'Activation') return normaliseActivation(c.activation) === 'relu';
  return layer.getClassName() === 'ReLU' && (c.maxValue === null || c.maxValue === undefined);
}

/**
 * Writes `op` (Conv or Gemm) with `params`: weights [out, ...] per output channel along axis 0, bias [out]; in
 * int8 graphs the weights are int8 and, when the input is quantised, the bias int32 (scale s_input·s_weight).
 * Then the activation. Returns the output value (shape: outShape).
 */
export function writeLinear(ctx: ExportContext, step: Step, x: Val, op: string, attributes: Parameters<ExportContext['op']>[2],
  params: LinearParams, activation: string, outShape: (number | null)[]): Val {
  const name = step.layer.name;
  let weight: string;
  let bias: string;
  if (ctx.int8 === undefined) {
    weight = ctx.tensor(`${name}_weight`, params.kernel);
    bias = ctx.tensor(`${name}_bias`, params.bias);
  } else {
    const out = params.kernel.shape[0];
    const biasValues = params.bias.dataSync() as Float32Array;
    const biasFloors = x.quant === undefined ? undefined : biasScaleFloors(biasValues, x.quant.scale);
    const q = quantizeWeights(params.kernel, 0, biasFloors);
    const wq = ctx.raw(`${name}_weight_quantized`, DataType.INT8, params.kernel.shape, q.values);
    const ws = ctx.floats(`${name}_weight_scale`, q.scales);
    const wz = ctx.raw(`${name}_weight_zero_point`, DataType.INT8, [out], new Int8Array(out));
    weight = ctx.op('DequantizeLinear', [wq, ws, wz], { axis: int(0) }, `${name}_weight`);
    if (x.quant !== undefined) {
      const b = quantizeBias(biasValues, x.quant.scale, q.scales);
      const bq = ctx.raw(`${name}_bias_quantized`, DataType.INT32, [out], b.values);
      const bs = ctx.floats(`${name}_bias_scale`, b.scales);
      const bz = ctx.raw(`${name}_bias_zero_point`, DataType.INT32, [out], new Int32Array(out));
      bias = ctx.op('DequantizeLinear', [bq, bs, bz], { axis: int(0) }, `${name}_bias`);
    } else {
      bias = ctx.tensor(`${name}_bias`, params.bias);
    }
  }
  params.kernel.dispose();
  params.bias.dispose();
  const y: Val = { name: ctx.op(op, [x.name, weight, bias], attributes, name), shape: outShape };
  if (ctx.int8 !== undefined) {
    // A ReLU after a calibrated output is the output quantisation's clip at 0: fused relu, or a ReLU layer next.
    const next = step.soleConsumer();
    if (activation === 'linear' && next !== null && isPlainRelu(next)) {
      if (ctx.rangeOf(next.name) !== undefined) {
        step.absorbConsumer();
        step.reluInRange = true;
        return y;
      }
    }
    if (activation === 'relu' && ctx.rangeOf(step.rangeName) !== undefined) {
      step.reluInRange = true;
      return y;
    }
  }
  return applyActivation(ctx, activation, y, name);
}

/** The layer's activation, checked against the supported list. */
export function activationOf(layer: tfl.layers.Layer, config: Record<string, unknown> = configOf(layer)): string {
  const activation = normaliseActivation(config.activation);
  if (!ACTIVATIONS.includes(activation)) throw new Error(`unsupported activation ${String(config.activation)}`);
  return activation;
}
