import { backend_util, GatherV2, GatherV2Attrs, util } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { TorchBackend } from '../backend';
import { Handle } from '../binding';
import { recording } from '../capture/recorder';
import { nativeKernel } from '../kernel_util';

// x: [batch.., outer.., d (axis), inner..], indices: int32 [batch.., i..] with values in [0, d)
//   -> [batch.., outer.., i.., inner..]; the first batchDims axes of x and indices are matched pairwise.
export const gatherV2Config = nativeKernel<GatherV2Attrs>(GatherV2, ({ inputs: { x, indices }, attrs, backend }) => {
  const axis = util.parseAxisParam(attrs.axis, x.shape)[0];
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x, indices, axis, attrs.batchDims ?? 0);
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const n = util.sizeFromShape(indices.shape) / batchSize;
  let idx = backend.tmp(aten.reshape(backend.handle(indices), [batchSize, n]));
  checkBounds(backend, idx, n * batchSize, dimSize, batchSize);
  // Batches are folded into the gathered axis: batch b's indices are offset by b * d.
  let xs = backend.tmp(aten.reshape(backend.handle(x), [batchSize, outerSize, dimSize, sliceSize]));
  xs = backend.tmp(aten.reshape(backend.tmp(aten.permute(xs, [1, 0, 2, 3])), [outerSize, batchSize * dimSize, sliceSize]));
  if (batchSize > 1) {
    const offsets = backend.tmp(aten.arange(0, batchSize * dimSize, dimSize, ScalarType.int32));
    idx = backend.tmp(aten.add(idx, backend.tmp(aten.unsqueeze(offsets, 1))));
  }
  let out = backend.tmp(aten.indexSelect(xs, 1, backend.tmp(aten.reshape(idx, [-1]))));
  out = backend.tmp(aten.permute(backend.tmp(aten.reshape(out, [outerSize, batchSize, n, sliceSize])), [1, 0, 2, 3]));
  return backend.makeOutput(aten.reshape(out, info.outputShape), x.dtype, info.outputShape);
});

// tfjs rejects out-of-range indices (ATen would too, but with a message that names no index).
function checkBounds(backend: TorchBackend, idx: Handle, size: number, dimSize: number, batchSize: number): void {
  if (size === 0) return;
  // The read only decides whether to throw. With one batch a captured function's replay (capture/) can leave
  // out-of-range indices to index_select's own check, so it is not counted as a read of data into JS; with several,
  // an index past its batch's range would select from the next batch (offsets below), so it is.
  if (batchSize > 1) recording.active?.read('GatherV2 checks batched indices');
  const [lo, hi] = aten.aminmax(idx).map((h) => backend.binding.toTypedArray(backend.tmp(h))[0]);
  const bad = lo < 0 ? lo : hi >= dimSize ? hi : null;
  if (bad !== null) throw new Error(`GatherV2: the index value ${bad} is not in [0, ${dimSize - 1}]`);
}
