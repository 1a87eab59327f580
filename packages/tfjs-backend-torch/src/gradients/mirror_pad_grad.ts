// MirrorPad's gradient. Replaces tfjs-core 4.22's mirrorPadGradConfig, which slices the centre out of dy (as for a
// constant pad), so the mirrored copies of x in the padding give x no gradient: for x [3], paddings [[2,1]], 'reflect'
// and dy [10,20,30,40,50,60] it gives [30,40,50]; TensorFlow's MirrorPadGrad and PyTorch give [30,120,60].
// dy: x.shape with paddings added -> dx: x.shape; each padded element's dy is added to the element it copies.
import {
  add, GradConfig, MirrorPad, MirrorPadAttrs, NamedAttrMap, pad, reverse, slice, Tensor,
} from '@tensorflow/tfjs-core';

/**
 * Folds the padding of one axis back: g has x's length n plus [before, after] along `axis`. Reflect mode (offset 1)
 * copies x[1..before] reversed in front and x[n-1-after..n-2] reversed behind; symmetric (offset 0) includes the edge.
 */
function foldAxis(g: Tensor, axis: number, [before, after]: [number, number], n: number, offset: number): Tensor {
  const begin = g.shape.map(() => 0);
  const size = g.shape.slice();
  const part = (start: number, length: number) => {
    begin[axis] = start;
    size[axis] = length;
    return slice(g, begin, size);
  };
  const noPad = g.shape.map((): [number, number] => [0, 0]);
  const placed = (t: Tensor, at: number, length: number) => {
    noPad[axis] = [at, n - at - length];
    return pad(reverse(t, axis), noPad);
  };
  let dx = part(before, n);
  if (before > 0) dx = add(dx, placed(part(0, before), offset, before));
  if (after > 0) dx = add(dx, placed(part(before + n, after), n - offset - after, after));
  return dx;
}

export const mirrorPadGradConfig: GradConfig = {
  kernelName: MirrorPad,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const x = saved[0];
    const { paddings, mode } = attrs as unknown as MirrorPadAttrs;
    const offset = mode === 'reflect' ? 1 : 0;
    // Mirror padding pads one axis after another, so its gradient folds them back one at a time.
    return {
      x: () => paddings.reduce((g, p, axis) => (p[0] === 0 && p[1] === 0 ? g : foldAxis(g, axis, p, x.shape[axis], offset)),
        dy as Tensor),
    };
  },
};
