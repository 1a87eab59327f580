// What every layer converter works with while a model is written: the graph builder, the values (tfjs tensors as
// ONNX names, with their layout) and the int8 ranges. Layout rule: a 4-D tfjs tensor [batch, h, w, c] is held in
// the ONNX graph as NCHW [batch, c, h, w] (ONNX's Conv and pools are NCHW); every other rank keeps tfjs's order.
// Converters that need tfjs's order (Flatten, Reshape, Permute) ask for it with `nhwc` and come back with `fromNhwc`.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { GraphBuilder, ints, type TensorBytes } from './graph_builder';
import { DataType, type DataTypeId } from './onnx_proto';
import type { ActivationRanges, ValueRange } from './quantization_params';
import { activationParams, type QuantParams } from './quant';

/** A tfjs tensor as an ONNX value. shape: the tfjs shape (NHWC for 4-D, batch null); 4-D values are NCHW in the graph. */
export interface Val {
  name: string;
  shape: (number | null)[];
  /** Set when the value is the output of a DequantizeLinear with these parameters (int8 graphs). */
  quant?: QuantParams;
}

/** NHWC axis → NCHW axis for 4-D values. */
export const NCHW_AXIS = [0, 2, 3, 1];

export class ExportContext {
  readonly g = new GraphBuilder();
  private readonly nhwcCache = new Map<string, string>();

  constructor(readonly int8: ActivationRanges | undefined) {}

  /** A float32 initializer from a tfjs tensor (its values in row-major order). */
  tensor(base: string, t: tf.Tensor): string {
    return this.g.initializer(base, DataType.FLOAT, t.shape, t.dataSync() as Float32Array);
  }

  floats(base: string, values: number[] | Float32Array, dims: number[] = [values.length]): string {
    return this.g.initializer(base, DataType.FLOAT, dims, Float32Array.from(values));
  }

  int64s(base: string, values: number[], dims: number[] = [values.length]): string {
    return this.g.initializer(base, DataType.INT64, dims, BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  raw(base: string, type: DataTypeId, dims: number[], data: TensorBytes): string {
    return this.g.initializer(base, type, dims, data);
  }

  /** One op with one output; returns the output's name. */
  op(op: string, inputs: string[], attributes: Parameters<GraphBuilder['node']>[2] = {}, base = op): string {
    return this.g.node(op, inputs, attributes, [this.g.unique(base)])[0];
  }

  /** The name of `v` in tfjs's order (a Transpose NCHW → NHWC for 4-D values, made once per value). */
  nhwc(v: Val): string {
    if (v.shape.length !== 4) return v.name;
    let name = this.nhwcCache.get(v.name);
    if (name === undefined) {
      name = this.op('Transpose', [v.name], { perm: ints([0, 2, 3, 1]) }, `${v.name}_nhwc`);
      if (v.quant) name = this.requantize(name, v.quant);
      this.nhwcCache.set(v.name, name);
    }
    return name;
  }

  /** A value from a tensor in tfjs's order: 4-D ones are transposed to NCHW. `like` passes int8 parameters on. */
  fromNhwc(name: string, shape: (number | null)[], like?: Val): Val {
    const quant = like?.quant;
    if (shape.length !== 4) return { name, shape, quant };
    const nchw = this.op('Transpose', [name], { perm: ints([0, 3, 1, 2]) }, `${name}_nchw`);
    return { name: quant ? this.requantize(nchw, quant) : nchw, shape, quant };
  }

  /** The range calibrated for a layer's output, if int8 and calibrated. */
  rangeOf(layerName: string): ValueRange | undefined {
    return this.int8?.layers[layerName];
  }

  /** QuantizeLinear → DequantizeLinear of `v` with uint8 parameters of `range`. */
  quantize(v: Val, range: ValueRange): Val {
    const params = activationParams(range);
    return { ...v, name: this.requantize(v.name, params), quant: params };
  }

  /** QuantizeLinear → DequantizeLinear of a value with known parameters; returns the dequantised name. */
  requantize(name: string, params: QuantParams): string {
    const scale = this.floats(`${name}_scale`, [params.scale], []);
    const zero = this.raw(`${name}_zero_point`, DataType.UINT8, [], Uint8Array.of(params.zeroPoint));
    const q = this.op('QuantizeLinear', [name, scale, zero], {}, `${name}_quantized`);
    return this.op('DequantizeLinear', [q, scale, zero], {}, `${name}_dequantized`);
  }
}

/** The weight of `layer` whose name ends with `suffix` ('kernel', 'bias', 'gamma', ...), or undefined. */
export function weightOf(layer: tfl.layers.Layer, suffix: string): tf.Tensor | undefined {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`) || v.originalName === suffix || v.name.endsWith(`/${suffix}`));
  return w?.read();
}
