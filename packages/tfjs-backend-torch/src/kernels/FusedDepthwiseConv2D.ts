import { backend_util, FusedDepthwiseConv2D, FusedDepthwiseConv2DAttrs } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { conv2dForward } from './conv2d_impl';
import { applyActivation } from './fused_activation';

// depthwiseConv2d(x, filter) + bias, then activation.
export const fusedDepthwiseConv2DConfig = nativeKernel<FusedDepthwiseConv2DAttrs>(FusedDepthwiseConv2D,
  ({ inputs, attrs, backend }) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    const dilations = attrs.dilations == null ? 1 : attrs.dilations;
    const convInfo = backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number], attrs.strides, dilations, attrs.pad,
      attrs.dimRoundingMode, true);
    const y = conv2dForward(backend, { x, filter, bias, convInfo, depthwise: true });
    return backend.makeOutput(applyActivation(backend, y, attrs.activation, preluActivationWeights,
      attrs.leakyreluAlpha), 'float32', convInfo.outShape);
  });
