// One trial = one ordinary training run: train({ ...study.baseConfig, ...params, name }) with a reporter callback
// that, at each epoch end, records the study's metric (reportIntermediate, step = epochs done) and a heartbeat,
// then asks the pruner; a pruned trial stops training there (the run ends as an ordinary early-stopped run) and is
// finished 'pruned' with its last value; a paused one (ASHA) stops the same way and is resumed later from its run's
// last checkpoint (train's continueStopped) when it is promoted, to go on as if it had never stopped. A heartbeat timer also runs during long epochs (the training loop gives
// timers a turn every 100 ms); once a heartbeat returns false (the trial was declared lost and retried elsewhere),
// training stops at the next batch. The run is tagged study:<name> and trial:<number> as soon as it exists.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { InsightError, ruleError } from '../errors';
import { RunDir } from '../run/run_dir';
import type { StudyStorage } from '../study/storage';
import type { StudyRecord, TrialRecord } from '../study/types';
import { updateTags } from '../track/run_tags';
import type { Callback, TrainingContext } from '../train/callbacks/callback';
import { checkRobustMonitor, resolveTrainConfig, type TrainConfig } from '../train/config';
import type { EpochLogs } from '../train/state';
import { train } from '../train/train';
import type { Pruner } from './strategy';

export interface TrialRunOptions {
  storage: StudyStorage;
  study: StudyRecord;
  workerId: string;
  pruner: Pruner;
  heartbeatSeconds: number;
  /** Training output (progress lines); default process.stdout. */
  out?: NodeJS.WriteStream;
  /** Let training stop at SIGINT/SIGTERM with a checkpoint (default true). */
  handleSignals?: boolean;
  /** Problems that do not stop the trial (a failed heartbeat write). */
  warn?: (message: string) => void;
  /** The signal the worker already received, if any: one that came before training listened is passed on to it. */
  signalled?: () => NodeJS.Signals | null;
}

export interface TrialOutcome {
  state: 'completed' | 'pruned' | 'paused' | 'failed';
  /** The last reported value of the metric (null when no epoch finished). */
  value: number | null;
  runDir: string | null;
  /** Epochs trained. */
  epochs: number;
  error?: string;
  /** Stopped by SIGINT/SIGTERM: the worker stops too, and the trial is retried later. */
  interrupted: boolean;
  /** The storage said another worker holds the trial now (a heartbeat returned false): training stopped, nothing counts. */
  lost: boolean;
}

/** The run name of a trial: <study>-<number> (run names show in `insight runs` and the dashboard). */
export function trialRunName(study: string, number: number): string {
  return `${study}-${number}`;
}

/** The tags of a trial's run. */
function trialTags(study: string, number: number): string[] {
  return [`study:${study}`, `trial:${number}`];
}

/** The training config of a trial: the study's base config with the trial's params over it, named for the trial. */
function trialConfig(study: StudyRecord, trial: TrialRecord): Record<string, unknown> {
  return { ...study.baseConfig, ...trial.params, name: trialRunName(study.name, trial.number) };
}

/**
 * Throws INSIGHT_E_CONFIG unless the trainer logs `metric` every epoch under `config`: validation metrics need a
 * validation split. Checked when a study is created and before each trial trains.
 */
export function checkMetricLogged(metric: string, config: TrainConfig): void {
  if (metric.startsWith('val_') && config.validationCount === 0 && config.valData === null) {
    throw ruleError('INSIGHT_E_CONFIG', `The study's metric ${metric} is logged only with a validation split.`,
      { metric, validationCount: 0 }, 'Drop --validation-count 0 (or pass a validation set with --val-data), or tune --metric loss.');
  }
  checkRobustMonitor('metric', metric, config);
}

/**
 * The run directory train() created for the trial named `name` in this process since `since` (run ids start with
 * their UTC start time), or null. Callbacks are not told the run directory; its name and pid identify it.
 */
function findTrialRun(runsDir: string, name: string, since: string): string | null {
  let entries: string[];
  try {
    entries = fs.readdirSync(runsDir);
  } catch {
    return null;
  }
  for (const id of entries.filter((e) => e >= since).sort().reverse()) {
    const run = RunDir.tryOpen(path.join(runsDir, id));
    if (run === null) continue;
    try {
      if ((run.readConfig() as { name?: unknown }).name === name && run.readInfo().pid === process.pid) return run.dir;
    } catch {
      // a run being written by another process: not ours
    }
  }
  return null;
}

/** The callback that reports a trial's metric each epoch, keeps its heartbeat and prunes it. */
class TrialReporter implements Callback {
  readonly name = 'tuneTrial';
  runDir: string | null = null;
  lastValue: number | null = null;
  epochs = 0;
  decision: 'continue' | 'prune' | 'pause' = 'continue';
  /** The storage says another worker holds the trial now (this worker was declared lost): stop, nothing counts. */
  lost = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly trial: TrialRecord, private readonly options: TrialRunOptions, private readonly runsDir: string,
    private readonly since: string, private readonly resumedRun: string | null) {
    const last = trial.intermediate.at(-1);
    if (resumedRun !== null && last !== undefined) [this.epochs, this.lastValue] = [last.step, last.value];
  }

  async onTrainBegin(): Promise<void> {
    const { study, storage, workerId, heartbeatSeconds } = this.options;
    this.runDir = this.resumedRun ?? findTrialRun(path.resolve(this.runsDir), trialRunName(study.name, this.trial.number), this.since);
    if (this.runDir !== null) updateTags(this.runDir, trialTags(study.name, this.trial.number));
    this.lost = !(await storage.heartbeat(this.trial.id, workerId, this.runDir ?? undefined));
    this.stopIfLost();
    // A Ctrl-C while the trial was claimed or its data loaded reached only the worker: training listens now, so it
    // stops at its first update with a checkpoint, as for a signal during training.
    const pending = this.options.signalled?.() ?? null;
    if (pending !== null && (this.options.handleSignals ?? true)) process.emit(pending, pending);
    this.timer = setInterval(() => {
      storage.heartbeat(this.trial.id, workerId).then((held) => void (this.lost ||= !held),
        (error: Error) => this.options.warn?.(`trial ${this.trial.number}: heartbeat failed: ${error.message}`));
    }, heartbeatSeconds * 1000);
    this.timer.unref();
  }

  /** The heartbeat timer found the trial held by no one (declared lost): stop at this batch, not at the epoch's end. */
  onBatchEnd(): void {
    this.stopIfLost();
  }

  /**
   * Throws when the storage no longer lets this worker hold the trial: it was declared lost and retried elsewhere, so
   * nothing it trains counts. The error ends training (the run fails with it) and the outcome is failed, not counted.
   */
  private stopIfLost(): void {
    if (!this.lost) return;
    const { study, heartbeatSeconds } = this.options;
    throw ruleError('INSIGHT_E_CONFIG', `A trial's worker must send a heartbeat within the study's stale time; trial ${this.trial.number} was declared lost and is retried by another worker.`,
      { study: study.name, trial: this.trial.number, heartbeatSeconds },
      'Nothing to do for this trial. If it happens often, pass a larger --stale-seconds (it must exceed the longest pause of a worker, e.g. a slow validation pass).');
  }

  async onEpochEnd(logs: EpochLogs, ctx: TrainingContext): Promise<void> {
    const { study, storage, workerId, pruner } = this.options;
    const value = (logs as unknown as Record<string, unknown>)[study.metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw ruleError('INSIGHT_E_CONFIG', `A trial must log the study's metric ${study.metric} as a finite number after every epoch.`,
        { trial: this.trial.number, epoch: logs.epoch, [study.metric]: value === undefined ? 'not logged' : value },
        'Check that the base config has a validation split for val_* metrics; a NaN loss means the trial diverged (e.g. too large an lr).');
    }
    this.lastValue = value;
    this.epochs = logs.epoch;
    await storage.reportIntermediate(this.trial.id, logs.epoch, value);
    this.lost ||= !(await storage.heartbeat(this.trial.id, workerId));
    this.stopIfLost();
    // The last epoch completes the trial; so does a stop another callback asked for (early stopping, the robust guard):
    // the trial ends there as an ordinary early-stopped run, never paused to be trained past that stop.
    if (logs.epoch >= ctx.epochs || ctx.state.stopTraining) return;
    const trials = await storage.trials(study.id);
    const self = trials.find((t) => t.id === this.trial.id) ?? { ...this.trial, intermediate: [{ step: logs.epoch, value }] };
    this.decision = pruner.decide(self, trials, study.direction);
    if (this.decision === 'continue') return;
    ctx.state.stopTraining = true;
    ctx.note(this.decision === 'prune' ? `Trial ${this.trial.number} pruned after epoch ${logs.epoch}: ${study.metric} ${value.toFixed(4)} is not promising.`
      : `Trial ${this.trial.number} paused after epoch ${logs.epoch}: ${study.metric} ${value.toFixed(4)} is not among the best at this rung yet (resumed if it is promoted).`);
  }

  onTrainEnd(): void {
    this.stop();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * Trains `trial` (held by options.workerId) and returns how it ended; never throws for a failed training (the
 * outcome says 'failed' with the message). The caller finishes (or pauses) the trial in the storage. A promoted
 * trial (`resume`: it was paused) continues its run from its last checkpoint.
 */
export async function runTrial(trial: TrialRecord, options: TrialRunOptions, resume = false): Promise<TrialOutcome> {
  const config = trialConfig(options.study, trial);
  let resolved: TrainConfig;
  try {
    resolved = resolveTrainConfig(config, `config of trial ${trial.number}`);
    checkMetricLogged(options.study.metric, resolved);
  } catch (error) {
    return { state: 'failed', value: null, runDir: null, epochs: 0, error: (error as Error).message, interrupted: false, lost: false };
  }
  const since = new Date(Date.now() - 1000).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const resumedRun = resume ? trial.runDir : null;
  if (resume && resumedRun === null) {
    return { state: 'failed', value: null, runDir: null, epochs: 0, error: `Trial ${trial.number} was paused without a run to resume.`, interrupted: false, lost: false };
  }
  const reporter = new TrialReporter(trial, options, resolved.runsDir, since, resumedRun);
  const common = { callbacks: [reporter], handleSignals: options.handleSignals ?? true, out: options.out };
  try {
    const result = await (resumedRun === null ? train(resolved, common) : train({}, { ...common, resume: resumedRun, continueStopped: true }));
    result.model.dispose();
    const ended = { continue: 'completed', prune: 'pruned', pause: 'paused' } as const;
    return {
      state: ended[reporter.decision], value: reporter.lastValue, runDir: result.runDir, epochs: reporter.epochs, interrupted: false,
      lost: reporter.lost,
    };
  } catch (error) {
    const interrupted = error instanceof InsightError && error.code === 'INSIGHT_E_INTERRUPTED';
    return {
      state: 'failed', value: reporter.lastValue, runDir: reporter.runDir, epochs: reporter.epochs, error: (error as Error).message, interrupted,
      lost: reporter.lost,
    };
  } finally {
    reporter.stop();
  }
}
