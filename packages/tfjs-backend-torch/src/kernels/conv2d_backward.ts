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
 * dy (a handle; NHWC, or NCHW when channelsFirst) as an NCHW view in the compute precision, zero-padded at the
 * bottom/right if ATen's output on the padded input is larger.
 */
function dyForAten(backend: TorchBackend, dy: Handle, convInfo: backend_util.Conv2DInfo, g: BackwardGeometry): Handle {
  const compute = (requireBinding().dtype(dy) === 'BFloat16') === computesInBfloat16() ? dy : backend.tmp(aten.to(dy, computeScalarType()));
  const h = convInfo.dataFormat === 'channelsFirst' ? compute : nhwcToNchw(backend, compute);
  return padGradToAtenOutput(backend, h, g.p, convInfo.outHeight, convInfo.outWidth);
}

/** x as an NCHW view in the compute precision, padded as ATen's symmetric padding cannot. */
function inputForAten(backend: TorchBackend, x: TensorInfo, convInfo: backend_util.Conv2DInfo, g: BackwardGeometry): Handle {
  const h = convInfo.dataFormat === 'channelsFirst' ? computeHandle(backend, x) : nhwcToNchw(backend, computeHandle(backend, x));
  return padInput(backend, h, g.p);
}

/** The filter as ATen's weight (OIHW, or grouped [C*mult,1,kh,kw] for depthwise) in the compute precision. */
function weightForAten(backend: TorchBackend, filter: TensorInfo, depthwise: boolean): Handle {
  const h = computeHandle(backend, filter);
  return depthwise ? depthwiseToOihw(backend, h, filter.shape) : hwioToOihw(backend, h);
}

function backward(backend: TorchBackend, dyN: Handle, input: Handle, weight: Handle, convInfo: backend_util.Conv2DInfo,
  g: BackwardGeometry, mask: [boolean, boolean, boolean]): (Handle | null)[] {
  return aten.convolutionBackward(dyN, input, weight, mask[2] ? [convInfo.outChannels] : null, [convInfo.strideHeight, convInfo.strideWidth],
    g.p.padding, [convInfo.dilationHeight, convInfo.dilationWidth], false, [0, 0], g.groups, mask);
}

/** ATen's input gradient (NCHW, of the padded input) as tfjs's: unpadded, NHWC unless channelsFirst. */
function inputGradient(backend: TorchBackend, dx: Handle, convInfo: backend_util.Conv2DInfo, g: BackwardGeometry): Handle {
  const unpadded = unpadGradient(backend, dx, g.p, convInfo.inHeight, convInfo.inWidth);
  return convInfo.dataFormat === 'channelsFirst' ? unpadded : nchwToNhwc(backend.tmp(unpadded));
}

/** ATen's weight gradient as tfjs's filter gradient (HWIO, or depthwise [kh,kw,C,mult]), float32. */
function filterGradient(backend: TorchBackend, dw: Handle, filterShape: number[], depthwise: boolean): Handle {
  const w = backend.tmp(computesInBfloat16() ? toFloat32(backend, dw) : dw);
  if (depthwise) {
    // [C*mult,1,kh,kw] -> [kh,kw,C*mult] -> [kh,kw,C,mult]
    const hwc = backend.tmp(aten.permute(backend.tmp(aten.squeeze(w, 1)), [1, 2, 0]));
    return aten.reshape(backend.tmp(aten.contiguous(hwc, MemoryFormat.contiguous)), filterShape);
  }
  return aten.contiguous(backend.tmp(aten.permute(w, [2, 3, 1, 0])), MemoryFormat.contiguous);
}

/**
 * dL/dx (NHWC, or NCHW when convInfo says channelsFirst): dy [N,OH,OW,Cout], filter [kh,kw,Cin,Cout] (or depthwise
 * [kh,kw,C,mult]) -> [N,H,W,Cin], in the compute precision (an activation gradient: bfloat16 stays).
 */
export function conv2dBackpropInput(backend: TorchBackend, dy: TensorInfo, filter: TensorInfo,
  convInfo: backend_util.Conv2DInfo, depthwise: boolean): Handle {
  const g = geometry(convInfo, depthwise);
  // Only the input's shape and dtype matter to convolution_backward: an uninitialised channels-last tensor serves.
  const input = shapeTemplate(backend, g.paddedInputNchw, computeScalarType());
  const [dx] = backward(backend, dyForAten(backend, computeHandle(backend, dy), convInfo, g), input,
    weightForAten(backend, filter, depthwise), convInfo, g, [true, false, false]);
  return inputGradient(backend, dx!, convInfo, g);
}

/**
 * dL/dfilter: x [N,H,W,Cin], dy [N,OH,OW,Cout] -> [kh,kw,Cin,Cout] (or depthwise [kh,kw,C,mult]); float32, computed
 * in the compute precision (oneDNN accumulates a bfloat16 filter gradient in float32 before rounding it).
 */
export function conv2dBackpropFilter(backend: TorchBackend, x: TensorInfo, dy: TensorInfo,
  convInfo: backend_util.Conv2DInfo, filterShape: number[], depthwise: boolean): Handle {
  const g = geometry(convInfo, depthwise);
  const [kh, kw, cin, cout] = filterShape;
  const weightShape = depthwise ? [cin * cout, 1, kh, kw] : [cout, cin, kh, kw];
  const weight = backend.tmp(aten.empty(weightShape, computeScalarType()));
  const [, dw] = backward(backend, dyForAten(backend, computeHandle(backend, dy), convInfo, g), inputForAten(backend, x, convInfo, g),
    weight, convInfo, g, [false, true, false]);
  return filterGradient(backend, dw!, filterShape, depthwise);
}

/**
 * The gradients of conv2d(x, filter) + bias in one ATen call (oneDNN computes them together): dy [N,OH,OW,Cout]
 * (NHWC; a handle in either precision) -> [dx [N,H,W,Cin] in the compute precision (null unless `withInput`),
 * dfilter [kh,kw,Cin,Cout] float32, dbias [Cout] float32]. x: [N,H,W,Cin], filter: [kh,kw,Cin,Cout]; NHWC, no groups.
 */
export function conv2dBackpropAll(backend: TorchBackend, dy: Handle, x: TensorInfo, filter: TensorInfo,
  convInfo: backend_util.Conv2DInfo, withInput: boolean): [Handle | null, Handle, Handle] {
  const g = geometry(convInfo, false);
  const [dx, dw, db] = backward(backend, dyForAten(backend, dy, convInfo, g), inputForAten(backend, x, convInfo, g),
    weightForAten(backend, filter, false), convInfo, g, [withInput, true, true]);
  return [withInput ? inputGradient(backend, dx!, convInfo, g) : null, filterGradient(backend, dw!, filter.shape, false),
    computesInBfloat16() ? toFloat32(backend, db!) : db!];
}
