// Shared by the convolution and pooling kernels: tfjs is NHWC with HWIO filters; ATen is NCHW with OIHW
// weights. An NHWC tensor permuted to NCHW is a channels-last view, which is exactly the layout oneDNN
// runs fastest, so activations are never copied; only weights are reordered (as PyTorch does).
import { backend_util, engine } from '@tensorflow/tfjs-core';

import { aten, MemoryFormat, ScalarType } from '../aten';
import { Handle } from '../binding';
import { TorchBackend } from '../backend';

/** [N,H,W,C] -> [N,C,H,W] channels-last view (no copy). */
export function nhwcToNchw(backend: TorchBackend, h: Handle): Handle {
  return backend.tmp(aten.permute(h, [0, 3, 1, 2]));
}

/** [N,C,H,W] (channels-last memory) -> [N,H,W,C] (contiguous view). */
export function nchwToNhwc(h: Handle): Handle {
  return aten.permute(h, [0, 2, 3, 1]);
}

/** Filter [kh,kw,in,out] -> weight [out,in,kh,kw]. */
export function hwioToOihw(backend: TorchBackend, h: Handle): Handle {
  return backend.tmp(aten.permute(h, [3, 2, 0, 1]));
}

/** Depthwise filter [kh,kw,C,mult] -> grouped weight [C*mult,1,kh,kw] (output channel c*mult+m). */
export function depthwiseToOihw(backend: TorchBackend, h: Handle, filterShape: number[]): Handle {
  const [kh, kw, c, m] = filterShape;
  const flat = backend.tmp(aten.reshape(h, [kh, kw, c * m]));
  return backend.tmp(aten.unsqueeze(backend.tmp(aten.permute(flat, [2, 0, 1])), 1));
}

/**
 * How to pad for ATen so that its output has tfjs's size: `padding` is passed to the ATen op when the
 * padding is symmetric and gives the expected output size; otherwise `explicit` ([left,right,top,bottom]
 * for constant_pad_nd) pads the input first and the output is cropped to outHeight x outWidth.
 */
export interface AtenPadding {
  padding: [number, number];
  explicit: [number, number, number, number] | null;
  /** Input height/width after the explicit padding. */
  paddedHW: [number, number];
  /** ATen's output height/width on the padded input: tfjs's, or larger when `explicit` over-pads. */
  atenOutHW: [number, number];
}

/** floor((size + 2 pad - k) / s) + 1: the output length of an ATen convolution or pooling. */
function atenOutputSize(size: number, pad: number, k: number, s: number): number {
  return Math.floor((size + 2 * pad - k) / s) + 1;
}

export function atenPadding(info: {
  inHeight: number; inWidth: number; outHeight: number; outWidth: number; strideHeight: number;
  strideWidth: number; effectiveFilterHeight: number; effectiveFilterWidth: number;
  padInfo: { top: number; bottom: number; left: number; right: number };
}): AtenPadding {
  const { top, left } = info.padInfo;
  const kh = info.effectiveFilterHeight;
  const kw = info.effectiveFilterWidth;
  // Bottom/right padding that makes floor((H + pads - k) / s) + 1 == outHeight.
  const bottom = Math.max(0, (info.outHeight - 1) * info.strideHeight + kh - info.inHeight - top);
  const right = Math.max(0, (info.outWidth - 1) * info.strideWidth + kw - info.inWidth - left);
  const symmetric = top === bottom && left === right &&
    atenOutputSize(info.inHeight, top, kh, info.strideHeight) === info.outHeight &&
    atenOutputSize(info.inWidth, left, kw, info.strideWidth) === info.outWidth;
  if (symmetric) {
    return { padding: [top, left], explicit: null, paddedHW: [info.inHeight, info.inWidth],
      atenOutHW: [info.outHeight, info.outWidth] };
  }
  const paddedHW: [number, number] = [info.inHeight + top + bottom, info.inWidth + left + right];
  return {
    padding: [0, 0], explicit: [left, right, top, bottom], paddedHW,
    atenOutHW: [atenOutputSize(paddedHW[0], 0, kh, info.strideHeight), atenOutputSize(paddedHW[1], 0, kw, info.strideWidth)],
  };
}

/**
 * An output gradient [N,C,OH,OW] (NCHW) zero-padded at the bottom/right up to ATen's output size on the padded
 * input, which the backward ops expect.
 */
export function padGradToAtenOutput(backend: TorchBackend, dy: Handle, p: AtenPadding, outHeight: number,
  outWidth: number): Handle {
  const [oh, ow] = p.atenOutHW;
  if (oh === outHeight && ow === outWidth) return dy;
  return backend.tmp(aten.constantPad(dy, [0, ow - outWidth, 0, oh - outHeight], 0));
}

/** Pads an NCHW tensor with `value` as `p.explicit` says (no-op when symmetric). */
export function padInput(backend: TorchBackend, x: Handle, p: AtenPadding, value = 0): Handle {
  return p.explicit === null ? x : backend.tmp(aten.constantPad(x, p.explicit, value));
}

/** Crops an NCHW result to [.., outHeight, outWidth] when the input was padded explicitly. */
export function cropOutput(backend: TorchBackend, y: Handle, p: AtenPadding, outHeight: number, outWidth: number): Handle {
  if (p.explicit === null) return y;
  const rows = backend.tmp(aten.narrow(backend.tmp(y), 2, 0, outHeight));
  return aten.narrow(rows, 3, 0, outWidth);
}

/** Removes the explicit padding from a gradient w.r.t. a padded NCHW input. */
export function unpadGradient(backend: TorchBackend, dx: Handle, p: AtenPadding, inHeight: number, inWidth: number): Handle {
  if (p.explicit === null) return dx;
  const [left, , top] = p.explicit;
  const rows = backend.tmp(aten.narrow(backend.tmp(dx), 2, top, inHeight));
  return aten.narrow(rows, 3, left, inWidth);
}

export type Conv2DInfo = backend_util.Conv2DInfo;

/** True when tfjs is recording gradients (a tape is active): pooling then keeps its argmax indices. */
export function isRecordingGradients(): boolean {
  return (engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}

/**
 * An uninitialised NCHW tensor in channels-last memory (float32 unless `dtype` says otherwise): the `input`/`self`
 * argument of ATen's backward ops, which read only its shape and dtype.
 */
export function shapeTemplate(backend: TorchBackend, nchwShape: number[], dtype: number = ScalarType.float32): Handle {
  return backend.tmp(aten.empty(nchwShape, dtype, null, null, null, MemoryFormat.channelsLast));
}
