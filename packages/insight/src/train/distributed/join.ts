// Joining the data-parallel group of a launch: the c10d Gloo process group torchrun's variables describe
// (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE; @insight/tfjs-backend-torch ProcessGroup.fromEnv), on the torch backend.
import { ProcessGroup } from '@insight/tfjs-backend-torch';

import { ruleError } from '../../errors';
import { collective } from './data_parallel';
import type { LaunchPlace } from './environment';

/**
 * The group's rendezvous and collective timeout: INSIGHT_DIST_TIMEOUT_MS when set (e.g. short in tests), else the
 * process group's default (5 minutes).
 */
export function groupTimeoutMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.INSIGHT_DIST_TIMEOUT_MS;
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'INSIGHT_DIST_TIMEOUT_MS must be a whole number of milliseconds of at least 1.', { INSIGHT_DIST_TIMEOUT_MS: text },
      'Unset it (5 minutes) or give e.g. INSIGHT_DIST_TIMEOUT_MS=60000.');
  }
  return value;
}

/** Joins this launch's group (resolves when every rank has); `backend` is the session's compute backend. */
export async function joinGroup(place: LaunchPlace, backend: string): Promise<ProcessGroup> {
  if (backend !== 'torch') {
    throw ruleError('INSIGHT_E_CONFIG', 'Data-parallel training (WORLD_SIZE > 1) runs on the torch backend: its collectives are libtorch\'s.',
      { backend, WORLD_SIZE: place.worldSize }, 'Pass --backend torch (or auto with libtorch installed), or train in one process (unset WORLD_SIZE).');
  }
  const timeoutMs = groupTimeoutMs();
  return collective(`rendezvous at ${process.env.MASTER_ADDR}:${process.env.MASTER_PORT}`, place.rank,
    (async () => ProcessGroup.fromEnv(process.env, timeoutMs))());
}
