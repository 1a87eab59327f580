// Activation functions (a Conv2D/Dense's fused `activation`, the Activation layer) and the activation layers
// (ReLU, LeakyReLU, ELU, Softmax), each as the ONNX ops that compute tfjs's formula.
import type { ExportContext, Val } from '../context';
import { float, int } from '../graph_builder';
import { configOf, type Converter } from './step';

/** tfjs's SELU constants (activations.ts). */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Normalised tfjs activation names this writer supports. */
export const ACTIVATIONS = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'swish', 'softplus',
  'softsign', 'hardsigmoid', 'gelu', 'gelunew', 'mish'];

/** 'hardSigmoid', 'hard_sigmoid', 'gelu_new' → 'hardsigmoid', 'gelunew'. */
export function normaliseActivation(name: unknown): string {
  return String(name ?? 'linear').toLowerCase().replace(/_/g, '');
}

/** The last tfjs axis of `v` in the graph's layout (channels: 1 for NCHW values). */
function lastAxis(v: Val): number {
  return v.shape.length === 4 ? 1 : v.shape.length - 1;
}

/** `activation` (a normalised name from ACTIVATIONS) applied to `v`. */
export function applyActivation(ctx: ExportContext, activation: string, v: Val, base: string): Val {
  const out = (name: string): Val => ({ name, shape: v.shape });
  const x = v.name;
  const scalar = (value: number) => ctx.floats(`${base}_const`, [value], []);
  switch (activation) {
    case 'linear': return v;
    case 'relu': return out(ctx.op('Relu', [x], {}, `${base}_relu`));
    case 'relu6': return out(ctx.op('Clip', [x, scalar(0), scalar(6)], {}, `${base}_relu6`));
    case 'sigmoid': return out(ctx.op('Sigmoid', [x], {}, `${base}_sigmoid`));
    case 'tanh': return out(ctx.op('Tanh', [x], {}, `${base}_tanh`));
    case 'softmax': return out(ctx.op('Softmax', [x], { axis: int(lastAxis(v)) }, `${base}_softmax`));
    case 'elu': return out(ctx.op('Elu', [x], { alpha: float(1) }, `${base}_elu`));
    case 'selu': return out(ctx.op('Selu', [x], { alpha: float(SELU_ALPHA), gamma: float(SELU_SCALE) }, `${base}_selu`));
    case 'swish': return out(ctx.op('Mul', [x, ctx.op('Sigmoid', [x])], {}, `${base}_swish`));
    case 'softplus': return out(ctx.op('Softplus', [x], {}, `${base}_softplus`));
    case 'softsign': return out(ctx.op('Softsign', [x], {}, `${base}_softsign`));
    case 'hardsigmoid': return out(ctx.op('HardSigmoid', [x], { alpha: float(0.2), beta: float(0.5) }, `${base}_hard_sigmoid`));
    case 'mish': return out(ctx.op('Mul', [x, ctx.op('Tanh', [ctx.op('Softplus', [x])])], {}, `${base}_mish`));
    case 'gelu': {
      // 0.5·x·(1 + erf(x/√2))
      const erf = ctx.op('Erf', [ctx.op('Div', [x, scalar(Math.SQRT2)])]);
      return out(ctx.op('Mul', [ctx.op('Mul', [x, scalar(0.5)]), ctx.op('Add', [erf, scalar(1)])], {}, `${base}_gelu`));
    }
    case 'gelunew': {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const cube = ctx.op('Mul', [ctx.op('Mul', [x, x]), x]);
      const inner = ctx.op('Mul', [ctx.op('Add', [x, ctx.op('Mul', [cube, scalar(0.044715)])]), scalar(Math.sqrt(2 / Math.PI))]);
      return out(ctx.op('Mul', [ctx.op('Mul', [x, scalar(0.5)]), ctx.op('Add', [ctx.op('Tanh', [inner]), scalar(1)])], {}, `${base}_gelu`));
    }
    default: throw new Error(`unsupported activation ${activation}`);
  }
}

/** The Activation layer: its function. A ReLU on an int8 output with a calibrated range is left to the range. */
export const activationLayer: Converter = (ctx, step, [x]) => {
  const activation = normaliseActivation(configOf(step.layer).activation);
  if (activation === 'relu' && ctx.rangeOf(step.layer.name) !== undefined && x.quant !== undefined) {
    step.reluInRange = true;
    return [{ name: x.name, shape: x.shape }];
  }
  return [applyActivation(ctx, activation, x, step.layer.name)];
};

/** ReLU(maxValue?): Relu, or Clip(0, maxValue). */
export const reluLayer: Converter = (ctx, step, [x]) => {
  const maxValue = configOf(step.layer).maxValue as number | null | undefined;
  if (maxValue === null || maxValue === undefined) return [applyActivation(ctx, 'relu', x, step.layer.name)];
  const lo = ctx.floats(`${step.layer.name}_min`, [0], []);
  const hi = ctx.floats(`${step.layer.name}_max`, [maxValue], []);
  return [{ name: ctx.op('Clip', [x.name, lo, hi], {}, step.layer.name), shape: x.shape }];
};

export const leakyReluLayer: Converter = (ctx, step, [x]) =>
  [{ name: ctx.op('LeakyRelu', [x.name], { alpha: float(Number(configOf(step.layer).alpha ?? 0.3)) }, step.layer.name), shape: x.shape }];

export const eluLayer: Converter = (ctx, step, [x]) =>
  [{ name: ctx.op('Elu', [x.name], { alpha: float(Number(configOf(step.layer).alpha ?? 1)) }, step.layer.name), shape: x.shape }];

/** Softmax over a tfjs axis (default the last), mapped through the layout. */
export const softmaxLayer: Converter = (ctx, step, [x]) => {
  const rank = x.shape.length;
  const raw = configOf(step.layer).axis;
  const axisList = Array.isArray(raw) ? raw : [raw ?? -1];
  if (axisList.length !== 1) throw new Error('Softmax over several axes is not supported');
  const tfAxis = (Number(axisList[0]) + rank) % rank;
  const axis = rank === 4 ? [0, 2, 3, 1][tfAxis] : tfAxis;
  return [{ name: ctx.op('Softmax', [x.name], { axis: int(axis) }, step.layer.name), shape: x.shape }];
};

/** Identity layers at inference (Dropout, noise): the input passes through. */
export const identityLayer: Converter = (_ctx, step, inputs) => {
  step.keepsInputQuant = true;
  return [inputs[0]];
};

