// Conv2D forward shared by Conv2D, FusedConv2D, DepthwiseConv2dNative and FusedDepthwiseConv2D.
import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { Handle, requireBinding } from '../binding';
import { TorchBackend } from '../backend';
import { computeHandle } from './compute_dtype';
import { atenPadding, cropOutput, depthwiseToOihw, hwioToOihw, nchwToNhwc, nhwcToNchw, padInput } from './conv_util';

export interface Conv2DArgs {
  x: TensorInfo;            // [N,H,W,Cin] (or [N,Cin,H,W] when channelsFirst)
  filter: TensorInfo;       // [kh,kw,Cin,Cout], or depthwise [kh,kw,Cin,mult]
  bias?: TensorInfo;        // [Cout] (fused into the convolution); other shapes are added after
  convInfo: backend_util.Conv2DInfo;
  depthwise: boolean;
}

/**
 * Runs the convolution and returns [N,OH,OW,Cout] (or NCHW when channelsFirst); bias included. Computes in the
 * compute precision (compute_dtype.ts): in bfloat16 the result stays bfloat16.
 */
export function conv2dForward(backend: TorchBackend, { x, filter, bias, convInfo, depthwise }: Conv2DArgs): Handle {
  const channelsFirst = convInfo.dataFormat === 'channelsFirst';
  const xh = channelsFirst ? computeHandle(backend, x) : nhwcToNchw(backend, computeHandle(backend, x));
  const w = depthwise ? depthwiseToOihw(backend, computeHandle(backend, filter), filter.shape)
    : hwioToOihw(backend, computeHandle(backend, filter));
  const p = atenPadding(convInfo);
  const bias1d = bias != null && bias.shape.length === 1 && bias.shape[0] === convInfo.outChannels;
  const groups = depthwise ? convInfo.inChannels : 1;
  const input = padInput(backend, xh, p);
  const b = bias1d ? computeHandle(backend, bias!) : null;
  const stride = [convInfo.strideHeight, convInfo.strideWidth];
  const dilation = [convInfo.dilationHeight, convInfo.dilationWidth];
  let y = oneDnnForSingleImage(x.shape, groups, convInfo)
    ? aten.mkldnnConvolution(input, w, b, p.padding, stride, dilation, groups)
    : aten.convolution(input, w, b, stride, p.padding, dilation, false, [0, 0], groups);
  y = cropOutput(backend, y, p, convInfo.outHeight, convInfo.outWidth);
  if (!channelsFirst) y = nchwToNhwc(backend.tmp(y));
  if (bias != null && !bias1d) y = aten.add(backend.tmp(y), backend.handle(bias));
  return y;
}

/** ATen's own rule (ConvUtils.h, use_mkldnn) sends a float convolution of one small image to oneDNN only when it has
 * groups or both kernel sides over 3: here its reference im2col kernel then runs 3-15x slower than oneDNN (the seed
 * CNN's 3x3 layers at batch 1: ~0.8-2.1 ms vs ~0.15 ms each), which is serving's batch-1 path. */
function oneDnnForSingleImage(xShape: number[], groups: number, info: backend_util.Conv2DInfo): boolean {
  const [n, ...rest] = xShape;
  const small = n * rest[0] * rest[1] * rest[2] <= 20480;
  return n === 1 && small && groups === 1 && !(info.filterHeight > 3 && info.filterWidth > 3) && oneDnnAvailable();
}

let hasOneDnn: boolean | null = null;
/** Whether this libtorch was built with oneDNN (Debian's and PyTorch's builds are); read once from its build config. */
function oneDnnAvailable(): boolean {
  hasOneDnn ??= /\bUSE_MKLDNN=ON\b/.test(requireBinding().version().config);
  return hasOneDnn;
}
