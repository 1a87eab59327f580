import { backend_util } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';
import { TorchConv2DBiasActivationAttrs, TorchConv2DBiasActivationGrad } from '../kernel_names';
import { keptPair } from './compute_dtype';
import { conv2dBackpropAll } from './conv2d_backward';

// Gradients of conv2d + bias (+ ReLU): ReLU's mask from the output (threshold_backward), then dx, dfilter and dbias
// from one convolution_backward, where tfjs's gradients run Conv2DBackpropInput, Conv2DBackpropFilter and a Sum.
// dy: [N,OH,OW,Cout], x: [N,H,W,Cin], filter: [kh,kw,Cin,Cout], y: dy's shape (ReLU only) -> [dx (unless
// attrs.inputGradient is false), dfilter, dbias].
export const torchConv2DBiasActivationGradConfig = nativeKernel<TorchConv2DBiasActivationAttrs>(TorchConv2DBiasActivationGrad,
  ({ inputs: { dy, x, filter, y }, attrs, backend }) => {
    const convInfo = backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad, undefined, false, 'channelsLast');
    const g = attrs.activation === 'relu' ? backend.tmp(aten.thresholdBackward(...keptPair(backend, dy, y), 0)) : backend.keptHandle(dy);
    const [dx, dfilter, dbias] = conv2dBackpropAll(backend, g, x, filter, convInfo, attrs.inputGradient !== false);
    return [
      ...(dx === null ? [] : [backend.makeOutput(dx, 'float32', x.shape)]),
      backend.makeOutput(dfilter, 'float32', filter.shape),
      backend.makeOutput(dbias, 'float32', [convInfo.outChannels]),
    ];
  });
