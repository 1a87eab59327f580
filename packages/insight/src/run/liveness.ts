// Is a run's process still alive? A training process records its pid and host in run.json and renews a heartbeat
// time there every HEARTBEAT_SECONDS (train/run_lifecycle.ts). A run still marked 'running' has crashed (SIGKILL,
// out of memory, power loss: nothing could write its status) when, W&B-style:
//   - on this host, its pid no longer exists (known at once), or
//   - its heartbeat is older than STALE_SECONDS (another host, or a pid reused by another program).
// Runs written before the heartbeat existed (no pid or heartbeat) are never called crashed: nothing tells.
// The other way round, a run whose pid is alive on this host with a fresh heartbeat is held by a live process
// (liveProcess), which a resume must not take over.
import * as os from 'node:os';

import type { RunInfo } from './run_dir';

/** How often a training process renews run.json's heartbeat. */
export const HEARTBEAT_SECONDS = 30;
/** A heartbeat older than this (10 missed beats) means the process is gone, wherever it ran. */
export const STALE_SECONDS = 300;

/** True when process `pid` exists on this machine (signal 0 checks without sending; EPERM: it exists, not ours). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when run.json says 'running' but the process that wrote it is gone (see the rules above). `now` is in
 * milliseconds since the epoch.
 * Example: `hasCrashed(RunDir.at('runs/x').readInfo())`.
 */
export function hasCrashed(info: Pick<RunInfo, 'status' | 'pid' | 'host' | 'heartbeatAt'>, now = Date.now()): boolean {
  if (info.status !== 'running' || typeof info.heartbeatAt !== 'string') return false;
  const beat = Date.parse(info.heartbeatAt);
  if (Number.isFinite(beat) && now - beat > STALE_SECONDS * 1000) return true;
  return info.host === os.hostname() && typeof info.pid === 'number' && !processExists(info.pid);
}

/**
 * The pid of the process on this host that holds run.json's run now — status 'running', its pid alive here and its
 * heartbeat not stale (hasCrashed's rules) — or null: not running, crashed, held on another host (which this host
 * cannot check), or written before the heartbeat existed. `insight train --resume` refuses a run that has one.
 * Example: `liveProcess(RunDir.at('runs/x').readInfo())` → 41207 while `insight train` (pid 41207) trains it.
 */
export function liveProcess(info: Pick<RunInfo, 'status' | 'pid' | 'host' | 'heartbeatAt'>, now = Date.now()): number | null {
  if (info.status !== 'running' || info.host !== os.hostname() || typeof info.pid !== 'number') return null;
  return processExists(info.pid) && !hasCrashed(info, now) ? info.pid : null;
}
