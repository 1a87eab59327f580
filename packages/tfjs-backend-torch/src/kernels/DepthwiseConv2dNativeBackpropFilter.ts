import {
  backend_util, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropFilterAttrs,
} from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { conv2dBackpropFilter } from './conv2d_backward';

// x: [N,H,W,C], dy: [N,OH,OW,C*mult] -> dfilter: [kh,kw,C,mult].
export const depthwiseConv2dNativeBackpropFilterConfig = nativeKernel<DepthwiseConv2dNativeBackpropFilterAttrs>(
  DepthwiseConv2dNativeBackpropFilter, ({ inputs: { x, dy }, attrs, backend }) => {
    const convInfo = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape,
      attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
    return backend.makeOutput(conv2dBackpropFilter(backend, x, dy, convInfo, attrs.filterShape, true), 'float32',
      attrs.filterShape);
  });
