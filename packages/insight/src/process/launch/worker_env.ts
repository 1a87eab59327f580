// The environment of one launched worker: torchrun's variables, so job scripts written for torchrun (Slurm,
// Kubernetes) and code reading them (ProcessGroup.fromEnv) work unchanged, plus Insight's own.
import type { LaunchSettings } from './config';

/** Set by the launcher for its workers' guard (parent_watch.ts): the launcher's pid and how often to check it. */
export const LAUNCHER_PID_ENV = 'INSIGHT_LAUNCHER_PID';
export const MONITOR_MS_ENV = 'INSIGHT_LAUNCH_MONITOR_MS';

/**
 * The variables of local rank `localRank` in attempt `restartCount` (0 first, +1 per group restart). Thread counts
 * the caller's environment already sets are left alone. Example: 2 nodes x 2, node 1, local rank 1 → RANK=3, WORLD_SIZE=4.
 */
export function workerEnv(settings: LaunchSettings, localRank: number, restartCount: number, parentEnv: NodeJS.ProcessEnv = process.env,
  launcherPid = process.pid): Record<string, string> {
  const worldSize = settings.nnodes * settings.nprocPerNode;
  const rank = settings.nodeRank * settings.nprocPerNode + localRank;
  const env: Record<string, string> = {
    MASTER_ADDR: settings.masterAddr,
    MASTER_PORT: String(settings.masterPort),
    RANK: String(rank),
    WORLD_SIZE: String(worldSize),
    LOCAL_RANK: String(localRank),
    LOCAL_WORLD_SIZE: String(settings.nprocPerNode),
    GROUP_RANK: String(settings.nodeRank),
    GROUP_WORLD_SIZE: String(settings.nnodes),
    ROLE_RANK: String(rank),
    ROLE_WORLD_SIZE: String(worldSize),
    ROLE_NAME: 'default',
    TORCHELASTIC_RESTART_COUNT: String(restartCount),
    TORCHELASTIC_MAX_RESTARTS: String(settings.maxRestarts),
    TORCHELASTIC_RUN_ID: settings.launchId,
    INSIGHT_LAUNCH_ID: settings.launchId,
    [LAUNCHER_PID_ENV]: String(launcherPid),
    [MONITOR_MS_ENV]: String(Math.round(settings.monitorInterval * 1000)),
  };
  for (const name of ['INSIGHT_TORCH_THREADS', 'OMP_NUM_THREADS']) {
    if (!parentEnv[name]) env[name] = String(settings.threadsPerProc);
  }
  return env;
}
