// How many threads the forward passes may use. libtorch's OpenMP threads keep spinning for a while after each
// parallel region; if they occupy every core, the event loop that parses requests and writes responses is starved
// and a server gets slower under load than with one thread (measured on 2 cores: 180 vs 1,380 requests/s with
// batching). So a server leaves one core per worker to Node: cores / workers - 1 threads, at least 1.
import * as os from 'node:os';

import * as torchBackend from '@insight/tfjs-backend-torch';

import { tf } from '../backend';
import type { ServeConfig } from './config';

/** --compute-threads, else INSIGHT_TORCH_THREADS, else cores / workers - 1 (at least 1). */
export function computeThreads(config: Pick<ServeConfig, 'computeThreads' | 'workers'>, env: NodeJS.ProcessEnv = process.env,
  cores = os.availableParallelism()): number {
  if (config.computeThreads !== null) return config.computeThreads;
  if (env[torchBackend.THREADS_ENV]) return Number(env[torchBackend.THREADS_ENV]);
  return Math.max(1, Math.floor(cores / config.workers) - 1);
}

/** Applies the thread count to the active backend; returns it, or null when the backend has no thread pool (cpu). */
export function applyComputeThreads(threads: number): number | null {
  if (tf.getBackend() !== torchBackend.BACKEND_NAME) return null;
  torchBackend.setNumThreads(threads);
  return torchBackend.getNumThreads();
}
