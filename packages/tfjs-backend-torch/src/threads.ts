// Thread count for libtorch's intra-op pool: all cores by default (libtorch itself starts with 1 here);
// INSIGHT_TORCH_THREADS=<n> overrides it, and setNumThreads() changes it at run time.
import * as os from 'node:os';

import { requireBinding } from './binding';

export const THREADS_ENV = 'INSIGHT_TORCH_THREADS';

/** The thread count from INSIGHT_TORCH_THREADS, or the number of cores. Throws on a malformed value. */
export function defaultThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[THREADS_ENV];
  if (raw === undefined || raw === '') return os.availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`${THREADS_ENV} must be a positive integer (the number of libtorch threads). ` +
      `Received: ${THREADS_ENV}=${JSON.stringify(raw)}. Unset it to use all ${os.availableParallelism()} cores.`);
  }
  return n;
}

/** Sets libtorch's intra-op thread count. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`The thread count must be a positive integer. Received: n=${n}.`);
  }
  requireBinding().setNumThreads(n);
}

export function getNumThreads(): number {
  return requireBinding().getNumThreads();
}
