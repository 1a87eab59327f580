// Data-parallel training's place in a launch, read from torchrun's environment variables (set by `insight launch`,
// torchrun, Slurm or Kubernetes job scripts): RANK, WORLD_SIZE, TORCHELASTIC_RESTART_COUNT, and INSIGHT_LAUNCH_ID
// (constant over a launch and its restarts, so a restarted group finds its run). MASTER_ADDR and MASTER_PORT are
// read by ProcessGroup.fromEnv.
import { ruleError } from '../../errors';

export interface LaunchPlace {
  rank: number;
  worldSize: number;
  /** Restarts of the group before this one (0 at the first start). */
  restartCount: number;
  /** The launch's id, or null when the launcher gave none (a restart then starts a new run). */
  launchId: string | null;
}

/**
 * This process's place in a data-parallel group, or null when WORLD_SIZE is unset or 1 (one process trains).
 * Example: `launchPlace({ WORLD_SIZE: '2', RANK: '1' })` → { rank: 1, worldSize: 2, restartCount: 0, launchId: null }.
 */
export function launchPlace(env: NodeJS.ProcessEnv = process.env): LaunchPlace | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '' || env.WORLD_SIZE === '1') return null;
  const worldSize = count(env, 'WORLD_SIZE', 2);
  const rank = count(env, 'RANK', 0);
  if (rank >= worldSize) {
    throw ruleError('INSIGHT_E_CONFIG', 'RANK must be below WORLD_SIZE (ranks are 0 .. WORLD_SIZE-1).', { RANK: rank, WORLD_SIZE: worldSize },
      'Start the workers with `insight launch` (or torchrun), which sets both.');
  }
  const restartCount = env.TORCHELASTIC_RESTART_COUNT ? count(env, 'TORCHELASTIC_RESTART_COUNT', 0) : 0;
  const launchId = env.INSIGHT_LAUNCH_ID ? env.INSIGHT_LAUNCH_ID : null;
  return { rank, worldSize, restartCount, launchId };
}

function count(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const text = env[name];
  const value = text !== undefined && /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw ruleError('INSIGHT_E_CONFIG', `${name} must be an integer of at least ${min} in data-parallel training.`, { [name]: text ?? '(unset)' },
      'Start the workers with `insight launch` (or torchrun), which sets RANK and WORLD_SIZE for each.');
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
