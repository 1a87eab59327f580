// conv2d(x, filter) + bias, then ReLU or nothing (NHWC), differentiable with one backward kernel on `torch`:
// TorchConv2DBiasActivationGrad takes ReLU's mask from the output and computes dx, dfilter and dbias in one
// convolution backward, and the forward is the FusedConv2D kernel (bias inside the oneDNN convolution, ReLU in place).
// tfjs's fused.conv2d does not fuse while gradients are recorded: it runs Conv2D, Add and Relu, and five kernels
// backward (ReLU's gradient, a Sum for the bias, Conv2DBackpropInput and Conv2DBackpropFilter each reordering dy).
// With inputGradient false, x is data (a network's input): no gradient flows to it and none is computed, as tfjs's
// own gradients skip an input the tape does not need (a custom gradient computes all of its inputs').
// On a backend without the kernel (cpu) this is tf.fused.conv2d, the reference the tests check against (x keeps its
// gradient there).
//   const y = conv2dBiasActivation(x, kernel, bias, { strides: 1, pad: 'valid', dilations: 1, activation: 'relu' });
import {
  customGrad, engine, FusedConv2D, fused, getBackend, getKernel, GradSaveFunc, Tensor, Tensor1D, Tensor4D,
} from '@tensorflow/tfjs-core';

import { TorchConv2DBiasActivationAttrs, TorchConv2DBiasActivationGrad } from './kernel_names';

/** strides, pad ('valid' | 'same'), dilations, activation ('relu' | 'linear'), and inputGradient (false: x is data). */
export type Conv2DBiasActivationOptions = TorchConv2DBiasActivationAttrs;

/**
 * x: [N,H,W,Cin] float32, filter: [kh,kw,Cin,Cout], bias: [Cout] or null -> [N,OH,OW,Cout]. Gradients flow to filter
 * and bias, and to x unless options.inputGradient is false.
 */
export function conv2dBiasActivation(x: Tensor4D, filter: Tensor4D, bias: Tensor1D | null, options: Conv2DBiasActivationOptions): Tensor4D {
  const cout = filter.shape[3];
  if (x.rank !== 4 || filter.rank !== 4 || x.dtype !== 'float32' || x.shape[3] !== filter.shape[2] || (bias !== null && (bias.rank !== 1 || bias.shape[0] !== cout))) {
    throw new Error('conv2dBiasActivation needs float32 x [N,H,W,Cin], filter [kh,kw,Cin,Cout] and bias [Cout] or null. ' +
      `Received: x.shape=[${x.shape}] (${x.dtype}), filter.shape=[${filter.shape}], bias.shape=${bias === null ? 'null' : `[${bias.shape}]`}. ` +
      'Give NHWC input whose channels match the filter\'s third axis, and one bias value per output channel.');
  }
  const { strides, pad, dilations, activation } = options;
  if (getKernel(TorchConv2DBiasActivationGrad, getBackend()) === undefined) {
    return fused.conv2d({ x, filter, strides, pad, dilations, dataFormat: 'NHWC', bias: bias ?? undefined, activation });
  }
  const inputGradient = options.inputGradient ?? true;
  const attrs = { strides, pad, dilations, activation, inputGradient } as unknown as Record<string, number>;
  const convolve = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const save = args[args.length - 1] as GradSaveFunc;
    const y = engine().runKernel(FusedConv2D, { x, filter, ...(bias === null ? {} : { bias }) },
      { strides, pad, dataFormat: 'NHWC', dilations, activation } as unknown as Record<string, number>) as Tensor4D;
    save(activation === 'relu' ? [x, filter, y] : [x, filter]);
    return {
      value: y,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [savedX, savedFilter, savedY] = saved;
        const grads = engine().runKernel(TorchConv2DBiasActivationGrad,
          { dy: dy as Tensor, x: savedX, filter: savedFilter, ...(savedY === undefined ? {} : { y: savedY }) }, attrs) as Tensor[];
        // [dx?, dfilter, dbias]: one per differentiable input, in order.
        return bias === null ? grads.slice(0, grads.length - 1) : grads;
      },
    };
  });
  const differentiable = [...(inputGradient ? [x] : []), filter, ...(bias === null ? [] : [bias])];
  return convolve(...differentiable) as Tensor4D;
}
