import {
  backend_util, DepthwiseConv2dNativeBackpropInput, DepthwiseConv2dNativeBackpropInputAttrs,
} from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { conv2dBackpropInput } from './conv2d_backward';

// dy: [N,OH,OW,C*mult], filter: [kh,kw,C,mult] -> dx: inputShape [N,H,W,C].
export const depthwiseConv2dNativeBackpropInputConfig = nativeKernel<DepthwiseConv2dNativeBackpropInputAttrs>(
  DepthwiseConv2dNativeBackpropInput, ({ inputs: { dy, filter }, attrs, backend }) => {
    const convInfo = backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number],
      attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
    return backend.makeOutput(conv2dBackpropInput(backend, dy, filter, convInfo, true), 'float32', attrs.inputShape);
  });
