import { backend_util, DepthwiseConv2dNative, DepthwiseConv2dNativeAttrs } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { conv2dForward } from './conv2d_impl';

// x: [N,H,W,C], filter: [kh,kw,C,mult] -> [N,OH,OW,C*mult], as a grouped convolution (groups = C).
export const depthwiseConv2dNativeConfig = nativeKernel<DepthwiseConv2dNativeAttrs>(DepthwiseConv2dNative,
  ({ inputs: { x, filter }, attrs, backend }) => {
    const dilations = attrs.dilations == null ? 1 : attrs.dilations;
    const convInfo = backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number], attrs.strides, dilations, attrs.pad,
      attrs.dimRoundingMode, true);
    return backend.makeOutput(conv2dForward(backend, { x, filter, convInfo, depthwise: true }), 'float32',
      convInfo.outShape);
  });
