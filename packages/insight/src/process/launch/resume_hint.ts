// What to tell the user when a launch of `insight train` ends before its run completes. A launch resumes its run only
// within its own restarts (TORCHELASTIC_RESTART_COUNT > 0, the run marked with INSIGHT_LAUNCH_ID); a new launch,
// whatever its --rdzv-id, starts a new run unless it is given the run: `train --resume <run dir>` (rank 0 resumes it
// and broadcasts the weights, optimizer state and position to the others).
import type { LaunchSettings } from './config';

/**
 * The command that continues the launch's run, for an error's fix; null when the workers do not train.
 * Example: 2 processes on one node, ['train', ...] → 'resume its run from the last checkpoint with `insight train --resume
 * <run dir> --nproc 2` or `insight launch <the same flags> -- train --resume <run dir>` (rank 0 named the run directory above)'.
 */
export function resumeHint(settings: Pick<LaunchSettings, 'nnodes' | 'nprocPerNode'>, args: readonly string[]): string | null {
  if (args[0] !== 'train') return null;
  const launchForm = '`insight launch <the same flags> -- train --resume <run dir>`';
  if (settings.nnodes > 1) {
    return `resume its run from the last checkpoint with ${launchForm} on every node (rank 0 named the run directory above; it is on node 0)`;
  }
  const trainForm = `\`insight train --resume <run dir>${settings.nprocPerNode > 1 ? ` --nproc ${settings.nprocPerNode}` : ''}\``;
  return `resume its run from the last checkpoint with ${trainForm} or ${launchForm} (rank 0 named the run directory above)`;
}
