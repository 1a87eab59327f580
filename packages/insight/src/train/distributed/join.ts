// Joining the data-parallel group of a launch: the c10d Gloo process group (@insight/tfjs-backend-torch
// ProcessGroup.init) of this place's rank and world size (launchPlace), meeting at MASTER_ADDR:MASTER_PORT over
// GLOO_SOCKET_IFNAME when set (rendezvousOf), on the torch backend.
import { ProcessGroup } from '@insight/tfjs-backend-torch';

import { ruleError } from '../../errors';
import { collective } from './data_parallel';
import { rendezvousOf, type LaunchPlace } from './environment';

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
  const { masterAddr, masterPort, ifname } = rendezvousOf();
  return collective(`rendezvous at ${masterAddr}:${masterPort}`, place.rank,
    ProcessGroup.init({ masterAddr, masterPort, rank: place.rank, worldSize: place.worldSize, timeoutMs, ifname }));
}
