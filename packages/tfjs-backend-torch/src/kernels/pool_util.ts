// Shared by the pooling kernels: tfjs's pool geometry mapped onto ATen's NCHW pooling ops.
import { backend_util, TensorInfo, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { Handle } from '../binding';
import { TorchBackend } from '../backend';
import { AtenPadding, atenPadding, padGradToAtenOutput } from './conv_util';

export interface PoolGeometry {
  info: backend_util.Conv2DInfo;
  p: AtenPadding;
  kernel: [number, number];
  stride: [number, number];
}

export function poolGeometry(info: backend_util.Conv2DInfo): PoolGeometry {
  return { info, p: atenPadding(info), kernel: [info.filterHeight, info.filterWidth], stride: [info.strideHeight, info.strideWidth] };
}

/** dy [N,OH,OW,C] as an NCHW view, zero-padded up to ATen's output size on the padded input. */
export function dyForPool(backend: TorchBackend, dy: Handle, g: PoolGeometry): Handle {
  return padGradToAtenOutput(backend, backend.tmp(aten.permute(dy, [0, 3, 1, 2])), g.p, g.info.outHeight, g.info.outWidth);
}

/**
 * For explicitly padded average pooling: how many real (unpadded) inputs each output window covers,
 * as [1,1,OH',OW'] over ATen's output grid. tfjs averages over real inputs only.
 */
export function windowCounts(backend: TorchBackend, g: PoolGeometry): Handle {
  const ones = backend.tmp(aten.full([1, 1, g.info.inHeight, g.info.inWidth], 1, ScalarType.float32));
  const padded = backend.tmp(aten.constantPad(ones, g.p.explicit!, 0));
  return backend.tmp(aten.avgPool2d(padded, g.kernel, g.stride, [0, 0], false, true, 1));
}

/**
 * A 1x1 window with stride 1 leaves x unchanged: returns x aliased (as the cpu kernels do), else null.
 */
export function identityPool(backend: TorchBackend, x: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  if (info.filterWidth !== 1 || info.filterHeight !== 1 || !util.arraysEqual(info.inShape, info.outShape)) return null;
  return backend.alias(x);
}
