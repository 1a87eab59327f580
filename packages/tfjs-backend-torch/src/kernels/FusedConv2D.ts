import { backend_util, FusedConv2D, FusedConv2DAttrs } from '@tensorflow/tfjs-core';

import { nativeKernel, runCpuKernel } from '../kernel_util';
import { conv2dForward } from './conv2d_impl';
import { applyActivation } from './fused_activation';

// conv2d(x, filter) + bias, then activation: bias rides in the oneDNN convolution, relu runs in place.
export const fusedConv2DConfig = nativeKernel<FusedConv2DAttrs>(FusedConv2D, (args) => {
  const { inputs, attrs, backend } = args;
  const { x, filter, bias, preluActivationWeights } = inputs;
  // tfjs broadcasts NCHW PReLU weights against the last (width) axis; keep its exact behaviour there.
  if (attrs.dataFormat === 'NCHW' && attrs.activation === 'prelu') return runCpuKernel(FusedConv2D, args);
  const convInfo = backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad,
    attrs.dimRoundingMode, false, backend_util.convertConv2DDataFormat(attrs.dataFormat));
  const y = conv2dForward(backend, { x, filter, bias, convInfo, depthwise: false });
  return backend.makeOutput(applyActivation(backend, y, attrs.activation, preluActivationWeights,
    attrs.leakyreluAlpha), 'float32', convInfo.outShape);
});
