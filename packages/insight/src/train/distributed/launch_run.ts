// The run of a launch: rank 0 marks the run it creates with the launch's id (INSIGHT_LAUNCH_ID, constant over a
// launch and its restarts) in run.json's summary, so a group the launcher restarts finds the run and resumes it from
// its last checkpoint instead of starting a new one — or, when rank 0 had completed it before a peer failed, trains
// nothing more.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { hasCheckpoint } from '../../run/checkpoint';
import { RunDir } from '../../run/run_dir';

/** Records `launchId` in `run`'s run.json (summary.launchId; the status stays). */
export function markLaunchRun(run: RunDir, launchId: string): void {
  const info = run.readInfo();
  run.setStatus(info.status, { summary: { ...info.summary, launchId } });
}

/**
 * The run under `runsDir` that launch `launchId` created, when it has a checkpoint (the newest such run if several):
 * one to continue, or one already completed; else null (the group failed before its first checkpoint: it starts again).
 */
export function findLaunchRun(runsDir: string, launchId: string): RunDir | null {
  let names: string[];
  try {
    names = fs.readdirSync(runsDir);
  } catch {
    return null;
  }
  const found = names.sort().reverse().map((name) => RunDir.tryOpen(path.join(runsDir, name))).find((run) => {
    if (run === null) return false;
    try {
      return run.readInfo().summary?.launchId === launchId && hasCheckpoint(run.lastCheckpoint);
    } catch {
      return false; // an unreadable run.json is not this launch's
    }
  });
  return found ?? null;
}
