// Dense: y = act(x·W + b) over the last axis. On [batch, in] a Gemm (W written transposed, [units, in], transB=1,
// so int8 weights are per output channel along axis 0 like a Conv's); on 4-D feature maps (NCHW in the graph) a
// 1x1 Conv, which contracts the channels exactly as Dense contracts the last NHWC axis; on 3-D a MatMul and an Add.
// writeDense also writes a LoRA Dense (lora.ts: the merged kernel W + (alpha/r)·A·B).
import { tf } from '../../backend';
import type { ExportContext, Val } from '../context';
import { weightOf } from '../context';
import { int, ints } from '../graph_builder';
import { applyActivation } from './activations';
import { activationOf, foldFollowing, writeLinear } from './linear_out';
import { configOf, type Converter, type Step } from './step';

/** Writes a Dense-shaped layer with kernel [in, units]. */
export function writeDense(ctx: ExportContext, step: Step, x: Val, kernel: tf.Tensor, config: Record<string, unknown>): Val[] {
  const [inC, units] = kernel.shape;
  const bias = (weightOf(step.layer, 'bias')?.clone() ?? tf.zeros([units])) as tf.Tensor1D;
  const rank = x.shape.length;
  const activation = activationOf(step.layer, config);
  if (rank === 2) {
    const folded = foldFollowing(step, { kernel: tf.transpose(kernel), bias }, 2, activation);
    return [writeLinear(ctx, step, x, 'Gemm', { transB: int(1) }, folded.params, folded.activation, step.outputShapes[0])];
  }
  if (rank === 4) {
    const folded = foldFollowing(step, { kernel: tf.tidy(() => tf.reshape(tf.transpose(kernel), [units, inC, 1, 1])), bias }, 4, activation);
    const attributes = { kernel_shape: ints([1, 1]), strides: ints([1, 1]), pads: ints([0, 0, 0, 0]) };
    return [writeLinear(ctx, step, x, 'Conv', attributes, folded.params, folded.activation, step.outputShapes[0])];
  }
  // Other ranks: MatMul + Add in fp32 (tfjs's order is kept for ranks other than 4).
  const name = step.layer.name;
  const mm = ctx.op('MatMul', [x.name, ctx.tensor(`${name}_kernel`, kernel)]);
  const y = ctx.op('Add', [mm, ctx.tensor(`${name}_bias`, bias)], {}, name);
  bias.dispose();
  return [applyActivation(ctx, activation, { name: y, shape: step.outputShapes[0] }, name)];
}

export const denseLayer: Converter = (ctx, step, [x]) =>
  writeDense(ctx, step, x, weightOf(step.layer, 'kernel') as tf.Tensor, configOf(step.layer));
