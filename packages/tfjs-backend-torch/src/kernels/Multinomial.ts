import { Multinomial, MultinomialAttrs } from '@tensorflow/tfjs-core';
import * as seedrandom from 'seedrandom';

import { aten, ScalarType } from '../aten';
import { nativeKernel } from '../kernel_util';
import { float32Const } from './const_util';

// logits: [batch, n] (probabilities when `normalized`) -> int32 [batch, numSamples] outcome indices.
// Sampling is inverse-CDF, natively: outcome = how many of the first n-1 cumulative probabilities are <= u
// (searchsorted, right side). The uniforms u come from seedrandom's alea(seed), the generator and stream
// the cpu kernel uses (restarted for every row, as it does), so a seed gives the same samples on both
// backends. ATen's multinomial would draw from libtorch's global generator, which the boxed call cannot
// be handed a seeded generator for.
export const multinomialConfig = nativeKernel<MultinomialAttrs>(Multinomial, ({ inputs: { logits }, attrs, backend }) => {
  const { numSamples, seed, normalized } = attrs;
  const [batch, n] = logits.shape;
  let probs = backend.handle(logits);
  if (logits.dtype !== 'float32') probs = backend.tmp(aten.to(probs, ScalarType.float32));
  if (!normalized) probs = backend.tmp(aten.softmax(probs, -1, false));
  const cdf = backend.tmp(aten.cumsum(backend.tmp(aten.narrow(probs, 1, 0, n - 1)), 1));
  const random = seedrandom.alea(seed.toString());
  const u = float32Const(backend, Array.from({ length: numSamples }, () => random()), [1, numSamples]);
  const draws = backend.tmp(aten.contiguous(backend.tmp(aten.expand(u, [batch, numSamples]))));
  return backend.makeOutput(aten.searchsorted(cdf, draws, true, true), 'int32', [batch, numSamples]);
});
