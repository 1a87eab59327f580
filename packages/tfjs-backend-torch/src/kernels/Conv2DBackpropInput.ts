import { backend_util, Conv2DBackpropInput, Conv2DBackpropInputAttrs, util } from '@tensorflow/tfjs-core';

import { nativeKernel, runCpuKernel } from '../kernel_util';
import { conv2dBackpropInput } from './conv2d_backward';

// dy: [N,OH,OW,Cout], filter: [kh,kw,Cin,Cout] -> dx: inputShape [N,H,W,Cin].
export const conv2DBackpropInputConfig = nativeKernel<Conv2DBackpropInputAttrs>(Conv2DBackpropInput,
  (args) => {
    const { inputs: { dy, filter }, attrs, backend } = args;
    const dataFormat = backend_util.convertConv2DDataFormat(attrs.dataFormat);
    const convInfo = backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number],
      attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, dataFormat);
    // conv2dTranspose accepts a dy whose size is not the forward output of inputShape; ATen cannot.
    if (!util.arraysEqual(dy.shape, convInfo.outShape)) return runCpuKernel(Conv2DBackpropInput, args);
    return backend.makeOutput(conv2dBackpropInput(backend, dy, filter, convInfo, false), 'float32', attrs.inputShape);
  });
