// Conv2D forward shared by Conv2D, FusedConv2D, DepthwiseConv2dNative and FusedDepthwiseConv2D.
import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { Handle } from '../binding';
import { TorchBackend } from '../backend';
import { atenPadding, cropOutput, depthwiseToOihw, hwioToOihw, nchwToNhwc, nhwcToNchw, padInput } from './conv_util';

export interface Conv2DArgs {
  x: TensorInfo;            // [N,H,W,Cin] (or [N,Cin,H,W] when channelsFirst)
  filter: TensorInfo;       // [kh,kw,Cin,Cout], or depthwise [kh,kw,Cin,mult]
  bias?: TensorInfo;        // [Cout] (fused into the convolution); other shapes are added after
  convInfo: backend_util.Conv2DInfo;
  depthwise: boolean;
}

/** Runs the convolution and returns [N,OH,OW,Cout] (or NCHW when channelsFirst); bias included. */
export function conv2dForward(backend: TorchBackend, { x, filter, bias, convInfo, depthwise }: Conv2DArgs): Handle {
  const channelsFirst = convInfo.dataFormat === 'channelsFirst';
  const xh = channelsFirst ? backend.handle(x) : nhwcToNchw(backend, backend.handle(x));
  const w = depthwise ? depthwiseToOihw(backend, backend.handle(filter), filter.shape)
    : hwioToOihw(backend, backend.handle(filter));
  const p = atenPadding(convInfo);
  const bias1d = bias != null && bias.shape.length === 1 && bias.shape[0] === convInfo.outChannels;
  const groups = depthwise ? convInfo.inChannels : 1;
  let y = aten.convolution(padInput(backend, xh, p), w, bias1d ? backend.handle(bias!) : null,
    [convInfo.strideHeight, convInfo.strideWidth], p.padding, [convInfo.dilationHeight, convInfo.dilationWidth],
    false, [0, 0], groups);
  y = cropOutput(backend, y, p, convInfo.outHeight, convInfo.outWidth);
  if (!channelsFirst) y = nchwToNhwc(backend.tmp(y));
  if (bias != null && !bias1d) y = aten.add(backend.tmp(y), backend.handle(bias));
  return y;
}
