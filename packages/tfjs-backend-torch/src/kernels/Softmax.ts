import { Softmax, SoftmaxAttrs } from '@tensorflow/tfjs-core';

import { aten } from '../aten';
import { nativeKernel } from '../kernel_util';

// logits: float32 [.., n] -> exp(logits) / sum(exp(logits)) over the last axis (tfjs supports only that one).
export const softmaxConfig = nativeKernel<SoftmaxAttrs>(Softmax, ({ inputs: { logits }, attrs, backend }) => {
  const rank = logits.shape.length;
  const dim = attrs.dim === -1 ? rank - 1 : attrs.dim;
  if (dim !== rank - 1) {
    throw new Error('Softmax along a non-last dimension is not yet supported. ' +
      `Logits was rank ${rank} and dim was ${dim}`);
  }
  return backend.makeOutput(aten.softmax(backend.handle(logits), dim, false), 'float32', logits.shape);
});
