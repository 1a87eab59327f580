import { Tile, TileAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// x: [d0..] -> [d0 * reps[0], ..]: x repeated reps[i] times along each axis i.
export const tileConfig = nativeKernel<TileAttrs>(Tile, ({ inputs: { x }, attrs, backend }) =>
  backend.makeOutput(aten.repeat(backend.handle(x), attrs.reps), x.dtype, x.shape.map((d, i) => d * attrs.reps[i])));
