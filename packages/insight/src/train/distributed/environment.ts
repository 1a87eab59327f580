// Data-parallel training's place in a launch, read from torchrun's environment variables (set by `insight launch`,
// torchrun, Slurm or Kubernetes job scripts): RANK, WORLD_SIZE, TORCHELASTIC_RESTART_COUNT, and INSIGHT_LAUNCH_ID
// (constant over a launch and its restarts: the run rank 0 creates is marked with it, so a restarted group finds
// it), and where the group meets: MASTER_ADDR, MASTER_PORT and GLOO_SOCKET_IFNAME. Each is parsed once, here.
import { ruleError } from '../../errors';

export interface LaunchPlace {
  rank: number;
  /** 1 for a one-worker launch: no group to join, but a restart still resumes the launch's run. */
  worldSize: number;
  /** Restarts of the group before this one (0 at the first start). */
  restartCount: number;
  /** The launch's id, or null when the launcher gave none (a restart then starts a new run). */
  launchId: string | null;
}

/**
 * This process's place in a launch, or null when it is not a launched worker: WORLD_SIZE unset, or 1 without
 * INSIGHT_LAUNCH_ID (one process trains on its own).
 * Example: `launchPlace({ WORLD_SIZE: '2', RANK: '1' })` → { rank: 1, worldSize: 2, restartCount: 0, launchId: null };
 * `launchPlace({ WORLD_SIZE: '1', RANK: '0', INSIGHT_LAUNCH_ID: 'job-7' })` → { rank: 0, worldSize: 1, ... launchId: 'job-7' }.
 */
export function launchPlace(env: NodeJS.ProcessEnv = process.env): LaunchPlace | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '') return null;
  const launchId = env.INSIGHT_LAUNCH_ID ? env.INSIGHT_LAUNCH_ID : null;
  if (env.WORLD_SIZE.trim() === '1' && launchId === null) return null;
  const worldSize = count(env, 'WORLD_SIZE', 1);
  const rank = env.RANK === undefined && worldSize === 1 ? 0 : count(env, 'RANK', 0);
  if (rank >= worldSize) {
    throw ruleError('INSIGHT_E_CONFIG', 'RANK must be below WORLD_SIZE (ranks are 0 .. WORLD_SIZE-1).', { RANK: rank, WORLD_SIZE: worldSize },
      'Start the workers with `insight launch` (or torchrun), which sets both.');
  }
  const restartCount = env.TORCHELASTIC_RESTART_COUNT ? count(env, 'TORCHELASTIC_RESTART_COUNT', 0) : 0;
  return { rank, worldSize, restartCount, launchId };
}

/** Where a group meets: rank 0's store at masterAddr:masterPort; ifname, the network interface Gloo binds to. */
export interface Rendezvous {
  masterAddr: string;
  masterPort: number;
  ifname?: string;
}

/**
 * MASTER_ADDR, MASTER_PORT and (when set) GLOO_SOCKET_IFNAME; throws INSIGHT_E_CONFIG for a missing address or a
 * port that is not 1-65535. Example: `rendezvousOf({ MASTER_ADDR: '10.0.0.1', MASTER_PORT: '29500' })`.
 */
export function rendezvousOf(env: NodeJS.ProcessEnv = process.env): Rendezvous {
  const masterAddr = env.MASTER_ADDR?.trim() ?? '';
  if (masterAddr === '') {
    throw ruleError('INSIGHT_E_CONFIG', 'MASTER_ADDR must name the host of rank 0 in data-parallel training.', { MASTER_ADDR: env.MASTER_ADDR ?? '(unset)' },
      'Start the workers with `insight launch` (or torchrun), which sets MASTER_ADDR and MASTER_PORT for each.');
  }
  const masterPort = count(env, 'MASTER_PORT', 1);
  if (masterPort > 65535) {
    throw ruleError('INSIGHT_E_CONFIG', 'MASTER_PORT must be a TCP port, 1 to 65535.', { MASTER_PORT: env.MASTER_PORT },
      'Pass e.g. --master-port 29500 to `insight launch`.');
  }
  const ifname = env.GLOO_SOCKET_IFNAME ? env.GLOO_SOCKET_IFNAME : undefined;
  return { masterAddr, masterPort, ...(ifname !== undefined ? { ifname } : {}) };
}

function count(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const text = env[name];
  const value = text !== undefined && /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw ruleError('INSIGHT_E_CONFIG', `${name} must be an integer of at least ${min} in data-parallel training.`, { [name]: text ?? '(unset)' },
      'Start the workers with `insight launch` (or torchrun), which sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for each.');
  }
  return value;
}

/**
 * Throws INSIGHT_E_CONFIG unless the global batch `batchSize` splits evenly over `worldSize` ranks.
 * Example: `checkBatchSplits(64, 2)` passes; `checkBatchSplits(63, 2)` throws.
 */
export function checkBatchSplits(batchSize: number, worldSize: number): void {
  if (batchSize % worldSize !== 0) {
    throw ruleError('INSIGHT_E_CONFIG', '--batch-size is the global batch in data-parallel training: it must split evenly over the ranks (WORLD_SIZE).',
      { batchSize, WORLD_SIZE: worldSize },
      `Pass a multiple of ${worldSize}, e.g. --batch-size ${Math.max(worldSize, Math.round(batchSize / worldSize) * worldSize)}, or launch ${divisorsNear(batchSize, worldSize)}.`);
  }
}

/** 'with --nproc-per-node 4' style advice: the world size nearest below that divides the batch. */
function divisorsNear(batchSize: number, worldSize: number): string {
  for (let n = worldSize - 1; n >= 2; n--) if (batchSize % n === 0) return `${n} processes instead`;
  return 'one process';
}
