// What every dashboard route shares: the runs directory, its index, and how often live views poll the disk.
import * as path from 'node:path';

import { ruleError } from '../../errors';
import type { RunIndex } from '../run_index';
import type { RunSummary } from '../run_summary';
import type { StudySource } from './studies';

export interface DashboardContext {
  runsDir: string;
  index: RunIndex;
  /** Milliseconds between checks of a watched run's files (live view). */
  pollMs: number;
  /** Milliseconds between SSE heartbeats (comment lines that keep proxies from closing the stream). */
  heartbeatMs: number;
  /** The hyperparameter studies shown (absent: none). */
  studies?: StudySource;
}

/** A plain directory name (no separators, not . or ..): the only run ids routes accept. */
export function isPlainName(id: string): boolean {
  return id !== '' && id !== '.' && id !== '..' && !/[/\\\0]/.test(id);
}

/** The run `id` after refreshing the index; INSIGHT_E_RUN_NOT_FOUND (HTTP 404) when it does not (or no longer) exist. */
export function findRun(ctx: DashboardContext, id: string): RunSummary {
  ctx.index.refresh();
  const run = isPlainName(id) ? ctx.index.get(id) : null;
  if (!run) {
    throw ruleError('INSIGHT_E_RUN_NOT_FOUND', 'A run page needs a run directory in the runs directory.', { run: id, runsDir: path.resolve(ctx.runsDir) },
      'It may have been deleted or renamed; go back to the runs table.');
  }
  return run;
}
