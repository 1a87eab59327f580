// Gradients of conv2d through ATen's convolution_backward, shared by Conv2DBackpropInput/Filter and the
// depthwise variants. Padding that ATen cannot express symmetrically is applied to a padded input shape
// and removed from the input gradient afterwards.
import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';

import { aten, MemoryFormat } from '../aten';
import { Handle, requireBinding } from '../binding';
import { TorchBackend } from '../backend';
import { computeHandle, computeScalarType, computesInBfloat16, toFloat32 } from './compute_dtype';
import {
  AtenPadding, atenPadding, depthwiseToOihw, hwioToOihw, nchwToNhwc, nhwcToNchw, padGradToAtenOutput, padInput,
  shapeTemplate, unpadGradient,
} from './conv_util';

interface BackwardGeometry {
  p: AtenPadding;
  paddedInputNchw: number[];   // [N, Cin, Hp, Wp]
  groups: number;
}

function geometry(convInfo: backend_util.Conv2DInfo, depthwise: boolean): BackwardGeometry {
  const p = atenPadding(convInfo);
  return {
    p,
    paddedInputNchw: [convInfo.batchSize, convInfo.inChannels, ...p.paddedHW],
    groups: depthwise ? convInfo.inChannels : 1,
  };
}

/**
 * dy as an NCHW view in the compute precision, zero-padded at the bottom/right if ATen's output on the padded input
 * is larger.
 */
function dyForAten(backend: TorchBackend, dy: TensorInfo, convInfo: backend_util.Conv2DInfo, g: BackwardGeometry): Handle {
  const h = convInfo.dataFormat === 'channelsFirst' ? computeHandle(backend, dy) : nhwcToNchw(backend, computeHandle(backend, dy));
  return padGradToAtenOutput(backend, h, g.p, convInfo.outHeight, convInfo.outWidth);
}

function backward(backend: TorchBackend, dyN: Handle, input: Handle, weight: Handle, convInfo: backend_util.Conv2DInfo,
  g: BackwardGeometry, mask: [boolean, boolean, boolean]): (Handle | null)[] {
  return aten.convolutionBackward(dyN, input, weight, null, [convInfo.strideHeight, convInfo.strideWidth],
    g.p.padding, [convInfo.dilationHeight, convInfo.dilationWidth], false, [0, 0], g.groups, mask);
}

/**
 * dL/dx (NHWC, or NCHW when convInfo says channelsFirst): dy [N,OH,OW,Cout], filter [kh,kw,Cin,Cout] (or depthwise
 * [kh,kw,C,mult]) -> [N,H,W,Cin], in the compute precision (an activation gradient: bfloat16 stays).
 */
export function conv2dBackpropInput(backend: TorchBackend, dy: TensorInfo, filter: TensorInfo,
  convInfo: backend_util.Conv2DInfo, depthwise: boolean): Handle {
  const g = geometry(convInfo, depthwise);
  const w = depthwise ? depthwiseToOihw(backend, computeHandle(backend, filter), filter.shape)
    : hwioToOihw(backend, computeHandle(backend, filter));
  // Only the input's shape and dtype matter to convolution_backward: an uninitialised channels-last tensor serves.
  const input = shapeTemplate(backend, g.paddedInputNchw, computeScalarType());
  const [dx] = backward(backend, dyForAten(backend, dy, convInfo, g), input, w, convInfo, g, [true, false, false]);
  const unpadded = unpadGradient(backend, dx!, g.p, convInfo.inHeight, convInfo.inWidth);
  return convInfo.dataFormat === 'channelsFirst' ? unpadded : nchwToNhwc(backend.tmp(unpadded));
}

/**
 * dL/dfilter: x [N,H,W,Cin], dy [N,OH,OW,Cout] -> [kh,kw,Cin,Cout] (or depthwise [kh,kw,C,mult]); float32, computed
 * in the compute precision (oneDNN accumulates a bfloat16 filter gradient in float32 before rounding it).
 */
export function conv2dBackpropFilter(backend: TorchBackend, x: TensorInfo, dy: TensorInfo,
  convInfo: backend_util.Conv2DInfo, filterShape: number[], depthwise: boolean): Handle {
  const g = geometry(convInfo, depthwise);
  const bf16 = computesInBfloat16();
  let xh = convInfo.dataFormat === 'channelsFirst' ? computeHandle(backend, x) : nhwcToNchw(backend, computeHandle(backend, x));
  if (g.p.explicit !== null) xh = backend.tmp(aten.constantPad(xh, g.p.explicit, 0));
  const [kh, kw, cin, cout] = filterShape;
  const weightShape = depthwise ? [cin * cout, 1, kh, kw] : [cout, cin, kh, kw];
  const weight = backend.tmp(aten.empty(weightShape, computeScalarType()));
  let [, dw] = backward(backend, dyForAten(backend, dy, convInfo, g), xh, weight, convInfo, g, [false, true, false]);
  if (bf16) dw = toFloat32(backend, dw!);
  backend.tmp(dw!);
  if (depthwise) {
    // [C*mult,1,kh,kw] -> [kh,kw,C*mult] -> [kh,kw,C,mult]
    const hwc = backend.tmp(aten.permute(backend.tmp(aten.squeeze(dw, 1)), [1, 2, 0]));
    return aten.reshape(backend.tmp(aten.contiguous(hwc, MemoryFormat.contiguous)), filterShape);
  }
  return aten.contiguous(backend.tmp(aten.permute(dw, [2, 3, 1, 0])), MemoryFormat.contiguous);
}

/**
 * The gradients of conv2d(x, filter) + bias in one ATen call (oneDNN computes them together): dy [N,OH,OW,Cout]
 * (NHWC; a handle in either precision) -> [dx [N,H,W,Cin] in the compute precision (null unless `inputGradient`),
 * dfilter [kh,kw,Cin,Cout] float32, dbias [Cout] float32]. x: [N,H,W,Cin], filter: [kh,kw,Cin,Cout]; NHWC, no groups.
 */
export function conv2dBackpropAll(backend: TorchBackend, dy: Handle, x: TensorInfo, filter: TensorInfo,
  convInfo: backend_util.Conv2DInfo, inputGradient: boolean): [Handle | null, Handle, Handle] {
  const g = geometry(convInfo, false);
  const bf16 = computesInBfloat16();
  const dyCompute = bf16 === (requireBinding().dtype(dy) === 'BFloat16') ? dy : backend.tmp(aten.to(dy, computeScalarType()));
  const dyN = padGradToAtenOutput(backend, nhwcToNchw(backend, dyCompute), g.p, convInfo.outHeight, convInfo.outWidth);
  const xh = padInput(backend, nhwcToNchw(backend, computeHandle(backend, x)), g.p);
  const w = hwioToOihw(backend, computeHandle(backend, filter));
  const [dx, dw, db] = aten.convolutionBackward(dyN, xh, w, [convInfo.outChannels], [convInfo.strideHeight, convInfo.strideWidth],
    g.p.padding, [convInfo.dilationHeight, convInfo.dilationWidth], false, [0, 0], 1, [inputGradient, true, true]);
  const dxNhwc = inputGradient ? nchwToNhwc(backend.tmp(unpadGradient(backend, dx!, g.p, convInfo.inHeight, convInfo.inWidth))) : null;
  const dwHwio = aten.contiguous(backend.tmp(aten.permute(bf16 ? backend.tmp(toFloat32(backend, dw!)) : backend.tmp(dw!), [2, 3, 1, 0])),
    MemoryFormat.contiguous);
  return [dxNhwc, dwHwio, bf16 ? toFloat32(backend, db!) : db!];
}
