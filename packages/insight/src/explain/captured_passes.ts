// The explanation methods' passes as captured functions (tfjs-backend-torch's captureFunction: recorded over two eager
// runs per chunk shape, then replayed natively in one call), one per owner (a model, or a Grad-CAM tap of it) and
// name, kept while the owner lives: a method's chunks differ only in their inputs, and repeated explanations (a
// server) reuse the recordings. Replays read the weights' current values.
import { captureFunction, type CapturedFunction } from '@insight/tfjs-backend-torch';

import type { tf } from '../backend';

const passes = new WeakMap<object, Map<string, CapturedFunction<tf.Tensor | tf.Tensor[]>>>();

/**
 * The pass `name` of `owner`: `fn` captured on first use (later calls' `fn` is not used). `fn` must compute the same
 * thing on every call for one owner and name; everything it varies by is an input.
 * Example: `capturedPass(model, 'scores', (x, t) => scoresOf(model, x, t))(x, targets)`.
 */
export function capturedPass<T extends tf.Tensor | tf.Tensor[]>(owner: object, name: string, fn: (...inputs: tf.Tensor[]) => T): CapturedFunction<T> {
  let byName = passes.get(owner);
  if (byName === undefined) passes.set(owner, byName = new Map());
  let pass = byName.get(name);
  if (pass === undefined) byName.set(name, pass = captureFunction(fn));
  return pass as CapturedFunction<T>;
}
