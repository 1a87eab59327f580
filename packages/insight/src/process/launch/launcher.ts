// `insight launch`: torchrun for Insight. Starts this node's group of workers (group.ts) with torchrun's
// environment, waits, and when a worker fails stops the others and starts the whole group again with
// TORCHELASTIC_RESTART_COUNT + 1, at most --max-restarts times (training resumes the run marked with the launch's
// INSIGHT_LAUNCH_ID from its last checkpoint); then it gives up with INSIGHT_E_DISTRIBUTED naming the failed rank and
// its last error line. A new launch resumes a run only when told to (`-- train --resume <run dir>`). SIGINT and
// SIGTERM are forwarded once to the workers (a second one kills them); an interrupted launch is not restarted. Each
// node runs its own launcher and they do not coordinate restarts, so restarts are for one node (config.ts refuses
// --max-restarts with --nnodes > 1): a failure on one node makes the others' collectives fail and every launcher
// gives up; the job scheduler restarts the job.
import { ruleError } from '../../errors';
import type { LaunchSettings } from './config';
import { describeExit, statusOf, WorkerGroup, type GroupOutcome } from './group';
import { resumeHint } from './resume_hint';

export interface LaunchOptions {
  settings: LaunchSettings;
  /** The insight command and its arguments, e.g. ['train', '--epochs', '3']. */
  args: readonly string[];
  /** A node script the workers run instead of the insight command (tests, embedding a launcher). */
  script?: string;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  /** Workers still alive this long after SIGTERM get SIGKILL (default 10 s). */
  killAfterMs?: number;
  /** The workers' base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Forward this process's SIGINT and SIGTERM to the workers (default true). */
  forwardSignals?: boolean;
}

export interface LaunchResult {
  /**
   * 0 when every worker finished; else the status of an interrupted launch: the lowest rank's that is not 0 (130 when
   * rank 0's training stopped on the signal, whatever the others' ended with).
   */
  status: number;
  /** Group restarts made. */
  restarts: number;
  /** The signal forwarded to the workers, if one arrived. */
  signal: NodeJS.Signals | null;
  /** Every attempt's outcome, first first. */
  attempts: GroupOutcome[];
}

const DEFAULT_KILL_AFTER_MS = 10_000;

/**
 * Runs the workers to the end, restarting the group after a failure while restarts remain; throws
 * INSIGHT_E_DISTRIBUTED when a worker fails with none left.
 * Example: `await launch({ settings: resolveLaunchOptions({ nprocPerNode: 2 }), args: ['train', '--epochs', '3'] })`.
 */
export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const { settings } = options;
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const result: LaunchResult = { status: 0, restarts: 0, signal: null, attempts: [] };
  let group: WorkerGroup | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (result.signal === null) {
      err.write(`${signal}: stopping the ${settings.nprocPerNode} workers (training saves a checkpoint first); send it again to kill them.\n`);
    }
    result.signal ??= signal;
    group?.stop(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
  };
  const killAll = () => group?.kill(); // the launcher itself ends (an uncaught error): no worker outlives it
  const signals = (options.forwardSignals ?? true) ? (['SIGINT', 'SIGTERM'] as const) : [];
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', killAll);
  try {
    for (let restartCount = 0; ; restartCount++) {
      group = WorkerGroup.start({
        settings, restartCount, args: options.args, script: options.script, out, err,
        killAfterMs: options.killAfterMs ?? DEFAULT_KILL_AFTER_MS, env: options.env ?? process.env,
      });
      if (result.signal !== null) group.stop(result.signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
      const outcome = await group.done;
      result.attempts.push(outcome);
      const { failed } = outcome;
      if (result.signal !== null || failed === null) {
        // By rank, not by the order of their ends: a follower killed at once by the signal (143) must not hide how
        // rank 0, which writes the run, ended.
        result.status = [...outcome.exits].sort((a, b) => a.rank - b.rank).map(statusOf).find((status) => status !== 0) ?? 0;
        return result;
      }
      const why = `rank ${failed.rank} (pid ${failed.pid}) failed with ${describeExit(failed)}${failed.lastLine ? `: ${failed.lastLine}` : ''}`;
      if (restartCount < settings.maxRestarts) {
        result.restarts++;
        err.write(`launch: ${why}\nlaunch: restarting the group of ${settings.nprocPerNode} (restart ${restartCount + 1} of ${settings.maxRestarts}).\n`);
        continue;
      }
      const hint = resumeHint(settings, options.args);
      const restarts = settings.maxRestarts === 0 && settings.nnodes === 1
        ? ', or pass --max-restarts <k> to restart the group from the last checkpoint after a failure' : '';
      const fix = `Its output is above (prefixed with its rank but for rank 0); fix the cause${hint ? ` and ${hint}` : ''}${restarts}.`;
      throw ruleError('INSIGHT_E_DISTRIBUTED', `A launched worker failed and no restarts are left (--max-restarts ${settings.maxRestarts}).`,
        { rank: failed.rank, node: settings.nodeRank, exit: describeExit(failed), status: statusOf(failed), lastLine: failed.lastLine, restarts: result.restarts }, fix);
    }
  } finally {
    for (const s of signals) process.off(s, onSignal);
    process.off('exit', killAll);
  }
}
