// The channels-first view ATen's native_batch_norm ops take of a channels-last tfjs tensor, and back. Both return a
// new handle (a view) even for rank 2, so the caller may free either handle.
import { aten } from '../aten';
import { Handle } from '../binding';

/** [N, ..., C] -> [N, C, ...] (a view, no copy: for NHWC this is the channels-last NCHW layout oneDNN and ATen favour). */
export function channelsFirstView(h: Handle, rank: number): Handle {
  return aten.permute(h, [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)]);
}

/** [N, C, ...] -> [N, ..., C], the inverse of channelsFirstView. */
export function channelsLastView(h: Handle, rank: number): Handle {
  return aten.permute(h, [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1]);
}
