// A batch as engine passes of bounded size. Test-time augmentation runs every view of a batch in one pass (views x
// instances rows: 6 with flip-shift), and one request may carry more instances (--max-instances) than a batch holds
// (--max-batch-size): either way a pass could hold several times the rows --max-batch-size allows, and the memory
// with them. Here a batch runs in passes of at most max(1, ⌊maxBatchSize / views⌋) instances, outputs concatenated
// in order: the same answers (to float rounding: kernels may pick batch-size-dependent paths), bounded memory.
import type { ForwardFn } from './batcher';

/** Instances per engine pass when each runs `views` rows: ⌊maxBatchSize / views⌋, at least 1. */
export function instancesPerPass(maxBatchSize: number, views: number): number {
  return Math.max(1, Math.floor(maxBatchSize / views));
}

/**
 * `forward` split into passes of at most `perPass` instances: x [rows, rowSize] → outputs [rows, numClasses] each.
 * A batch within the bound is one call, as before.
 */
export function inEnginePasses(forward: ForwardFn, rowSize: number, numClasses: number, perPass: number): ForwardFn {
  return async (x, rows, underLoad) => {
    if (rows <= perPass) return forward(x, rows, underLoad);
    const logits = new Float32Array(rows * numClasses);
    const probabilities = new Float32Array(rows * numClasses);
    for (let start = 0; start < rows; start += perPass) {
      const n = Math.min(perPass, rows - start);
      const out = await forward(x.subarray(start * rowSize, (start + n) * rowSize), n, underLoad); // a view: runners read its offset
      logits.set(out.logits, start * numClasses);
      probabilities.set(out.probabilities, start * numClasses);
    }
    return { logits, probabilities };
  };
}
