import { backend_util, Conv2D, Conv2DAttrs } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { conv2dForward } from './conv2d_impl';

// x: [N,H,W,Cin], filter: [kh,kw,Cin,Cout] -> [N,OH,OW,Cout] through oneDNN on channels-last views.
export const conv2DConfig = nativeKernel<Conv2DAttrs>(Conv2D, ({ inputs: { x, filter }, attrs, backend }) => {
  const convInfo = backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad,
    attrs.dimRoundingMode, false, backend_util.convertConv2DDataFormat(attrs.dataFormat));
  return backend.makeOutput(conv2dForward(backend, { x, filter, convInfo, depthwise: false }), 'float32',
    convInfo.outShape);
});
