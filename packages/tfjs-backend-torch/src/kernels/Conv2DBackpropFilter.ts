import { backend_util, Conv2DBackpropFilter, Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';

import { nativeKernel } from '../kernel_util';
import { conv2dBackpropFilter } from './conv2d_backward';

// x: [N,H,W,Cin], dy: [N,OH,OW,Cout] -> dfilter: [kh,kw,Cin,Cout].
export const conv2DBackpropFilterConfig = nativeKernel<Conv2DBackpropFilterAttrs>(Conv2DBackpropFilter,
  ({ inputs: { x, dy }, attrs, backend }) => {
    const dataFormat = backend_util.convertConv2DDataFormat(attrs.dataFormat);
    const convInfo = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape,
      attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, dataFormat);
    return backend.makeOutput(conv2dBackpropFilter(backend, x, dy, convInfo, attrs.filterShape, false), 'float32',
      attrs.filterShape);
  });
