// Layers that move values without computing: Flatten, Reshape, Permute. They work in tfjs's order (a 4-D input
// is transposed NCHW → NHWC first, so Flatten gives Keras's order and Dense weights need no permutation) and keep
// an int8 input's quantisation parameters.
import type { Val } from '../context';
import { int, ints } from '../graph_builder';
import { configOf, type Converter } from './step';

export const flattenLayer: Converter = (ctx, step, [x]) => {
  step.keepsInputQuant = true;
  const y = ctx.op('Flatten', [ctx.nhwc(x)], { axis: int(1) }, step.layer.name);
  return [requantized(ctx, y, step.outputShapes[0], x)];
};

export const reshapeLayer: Converter = (ctx, step, [x]) => {
  step.keepsInputQuant = true;
  const target = (configOf(step.layer).targetShape as number[]).map(Number);
  const shape = ctx.int64s(`${step.layer.name}_shape`, [0, ...target]);
  const y = ctx.op('Reshape', [ctx.nhwc(x), shape], {}, step.layer.name);
  return [ctx.fromNhwc(requantized(ctx, y, step.outputShapes[0], x).name, step.outputShapes[0], x)];
};

export const permuteLayer: Converter = (ctx, step, [x]) => {
  step.keepsInputQuant = true;
  const dims = (configOf(step.layer).dims as number[]).map(Number);
  const y = ctx.op('Transpose', [ctx.nhwc(x)], { perm: ints([0, ...dims]) }, step.layer.name);
  return [ctx.fromNhwc(requantized(ctx, y, step.outputShapes[0], x).name, step.outputShapes[0], x)];
};

/** `name` with `like`'s int8 parameters re-applied (so ONNX Runtime can run the move on int8 values). */
function requantized(ctx: Parameters<Converter>[0], name: string, shape: (number | null)[], like: Val): Val {
  if (like.quant === undefined) return { name, shape };
  return { name: ctx.requantize(name, like.quant), shape, quant: like.quant };
}
