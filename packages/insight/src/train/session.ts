// One run of a command that trains (train and finetune today; search, explain, export and distill next), from
// start to end, so every command does it the same way: start the backend, choose the progress output, create or
// resume the run directory, install the callbacks every run has, then end in one order — report/, the model, and
// status 'completed' last — or mark the run 'failed'.
//
// It lives in train/, not run/: it builds training callbacks (progress, metrics.jsonl, TensorBoard, checkpoints)
// and writes the evaluation report, and run/ sits below train/ and eval/, so it must not import them. The run
// directory's files and run.json stay RunDir's (run/run_dir.ts); the session only decides when they are written.
//
// While a run is open the session keeps its lifecycle (train/run_lifecycle.ts): run.json's pid, host and heartbeat,
// and SIGINT/SIGTERM, which stop training at the next optimizer update with checkpoints/last saved; fail() then
// marks the run 'interrupted' (not 'failed'). The run's own config gives the settings the session applies:
// checkpointEverySteps (checkpoints inside an epoch) and progressEverySeconds (log lines on a non-terminal).
//
//   const session = await RunSession.start(config);                 // backend, progress choice
//   ...load data, build the model and optimizer (errors here leave no run directory behind)...
//   const run = session.create(config.runsDir, config);            // or session.resume(RunDir.open(dir))
//   try {
//     const state = await fit(model, loader, { ..., callbacks: session.callbacks([...own], { monitor: 'val_loss' }) });
//     await session.report(computeMetrics(...), 'validation (...)');  // report/ (+ TensorBoard), prints it
//     await session.complete(model, { summary: { epochs: state.epoch } }); // model/, then status 'completed'
//   } catch (error) {
//     session.fail(error);                                           // status 'failed', TensorBoard closed
//     throw error;
//   }
import type * as tfl from '@tensorflow/tfjs-layers';

import type { EvaluationMetrics } from '../eval/metrics';
import { writeReport } from '../eval/report';
import { startBackend } from '../run/backend_choice';
import type { BackendChoice, ProgressKind } from '../run/config_fields';
import { liveProcess } from '../run/liveness';
import { saveModel } from '../run/model_io';
import { RunDir } from '../run/run_dir';
import { runKind, type RunKind } from '../run/run_kind';
import { InsightError, ruleError } from '../errors';
import type { Callback } from './callbacks/callback';
import { MetricsLog } from './callbacks/metrics_log';
import { ModelCheckpoint } from './callbacks/model_checkpoint';
import { ProgressBar } from './callbacks/progress_bar';
import { ProgressLog } from './callbacks/progress_log';
import { TensorBoard, type TensorBoardOptions } from './callbacks/tensorboard';
import { RunLifecycle } from './run_lifecycle';
import type { MonitorName } from './state';

export interface SessionOptions {
  backend: BackendChoice;
  /** auto: a bar on a terminal, log lines otherwise; none: no progress and no info lines. */
  progress: ProgressKind;
  /** Where progress and info lines go (default process.stdout). */
  out?: NodeJS.WriteStream;
  /** Stop at SIGINT/SIGTERM with a checkpoint (default true); false leaves the process's signal handling alone. */
  handleSignals?: boolean;
}

export interface SessionCallbackOptions {
  /** The metric of the best checkpoint. */
  monitor: MonitorName;
  /** Also log (progress lines, metrics.jsonl) every this many optimizer updates; 0 = per epoch only. */
  logEverySteps?: number;
  /** Write a TensorBoard log into the run directory (null or absent: none). */
  tensorboard?: Omit<TensorBoardOptions, 'run'> | null;
  /** Also write checkpoints/last every this many optimizer updates inside an epoch. Default: the run config's checkpointEverySteps, else 0. */
  checkpointEverySteps?: number;
  /** Log lines (progress 'log') at least this often. Default: the run config's progressEverySeconds, else 30. */
  progressEverySeconds?: number;
  /** Data parallel: a signal stops training only at an update where this holds (the group agreed on it). */
  stopAgreed?: () => boolean;
}

/** The settings a run's config gives the session (absent keys: defaults). */
interface RunSettings {
  checkpointEverySteps: number;
  /** Keep the models of the last <n> epochs in snapshots/ (train's keepSnapshots; 0 = none). */
  keepSnapshots: number;
  progressEverySeconds: number;
  /** How to continue the run after an interruption (the fix of INSIGHT_E_INTERRUPTED). */
  resumeFix: string;
}

export class RunSession {
  private current: RunDir | null = null;
  private tensorboardLog: TensorBoard | null = null;
  private reported: { report: EvaluationMetrics; split: string } | null = null;
  private lifecycle: RunLifecycle | null = null;
  private settings: RunSettings | null = null;
  private progressCallback: Callback | null = null;
  /** complete() ran: the run's status stays 'completed' whatever fails after it. */
  private completed = false;

  private constructor(
    /** The active compute backend ('torch' or 'cpu'). */
    readonly backend: string,
    /** The progress output chosen: 'auto' resolved against the output stream. */
    readonly progress: Exclude<ProgressKind, 'auto'>,
    readonly out: NodeJS.WriteStream,
    private readonly handleSignals = true,
  ) {}

  /** Starts the backend (INSIGHT_E_BACKEND when unavailable) and resolves the progress output. */
  static async start(options: SessionOptions): Promise<RunSession> {
    const out = options.out ?? process.stdout;
    const backend = await startBackend(options.backend, 'training');
    const progress = options.progress === 'auto' ? (out.isTTY ? 'bar' : 'log') : options.progress;
    return new RunSession(backend, progress, out, options.handleSignals ?? true);
  }

  /** Whether SIGINT/SIGTERM asked training to stop (the run's lifecycle heard it). */
  get stopRequested(): boolean {
    return (this.lifecycle?.stopRequested ?? null) !== null;
  }

  /** Writes one info line, unless progress is 'none'. */
  say(line: string): void {
    if (this.progress !== 'none') this.out.write(`${line}\n`);
  }

  /**
   * Creates the run directory `<runsDir>/<new id>/` (status 'running', config.json = `config`) and starts its
   * lifecycle (heartbeat, signals).
   */
  create(runsDir: string, config: unknown): RunDir {
    this.current = RunDir.create(runsDir, config);
    this.begin(this.current, config);
    return this.current;
  }

  /**
   * Throws INSIGHT_E_RESUME unless `run` may continue to an epoch target of `epochs` (its saved config had
   * `savedEpochs`): an unfinished run (crashed, interrupted, failed) always, but not one a live process on this host
   * still trains (run/liveness.ts liveProcess); a completed run only to more epochs, as Keras's initial_epoch —
   * training continues from its last checkpoint, the schedule defined for the new total — or, with `continueStopped`, to
   * the same target when a callback stopped it before its last epoch.
   * Example: `RunSession.checkResumable(RunDir.open('runs/x'), 10, 20)`.
   */
  static checkResumable(run: RunDir, savedEpochs: number, epochs: number, continueStopped = false): void {
    const info = run.readInfo();
    const { status } = info;
    const pid = liveProcess(info);
    if (pid !== null) {
      throw ruleError('INSIGHT_E_RESUME', 'A run can be resumed only when no process trains it; this one is running in a live process on this host.',
        { run: run.dir, status, pid, host: info.host, heartbeatAt: info.heartbeatAt },
        `Let it finish, or stop it first — kill ${pid} (SIGTERM) or Ctrl-C in its terminal saves checkpoints/last and marks the run interrupted — then resume it.`);
    }
    if (status === 'completed' && epochs <= savedEpochs && !continueStopped) {
      throw ruleError('INSIGHT_E_RESUME', 'A completed run can be resumed only to train more epochs than it was given.',
        { run: run.dir, status, epochs, runEpochs: savedEpochs },
        `Pass --epochs with more than ${savedEpochs} to extend it (the schedule is then defined for the new total), or start a new run.`);
    }
  }

  /**
   * Continues an existing run directory (the caller has restored its checkpoint and set it running) and starts its
   * lifecycle. `config`, when given and not the saved one (a new epoch target), is written as its config.json.
   */
  resume(run: RunDir, config?: unknown): RunDir {
    this.current = run;
    if (config !== undefined && JSON.stringify(config) !== JSON.stringify(run.readConfig())) run.writeConfig(config);
    this.begin(run, config ?? run.readConfig());
    return run;
  }

  private begin(run: RunDir, config: unknown): void {
    this.settings = settingsOf(run, config);
    this.lifecycle?.stop();
    this.lifecycle = new RunLifecycle(run, { notify: (line) => this.notify(line), resumeFix: this.settings.resumeFix, signals: this.handleSignals });
    this.lifecycle.start();
  }

  /** A line for the user between progress lines (a note of the progress output, which keeps a bar intact). */
  private notify(line: string): void {
    if (this.progressCallback?.onNote) this.progressCallback.onNote(line);
    else this.say(line);
  }

  /** The run directory (after create or resume). */
  get run(): RunDir {
    if (this.current === null) throw new Error('RunSession.run is used before create() or resume(): open the run directory first.');
    return this.current;
  }

  /**
   * Every callback of a training run in the one order that works: progress first (so notes follow the epoch
   * line), metrics.jsonl, TensorBoard (when asked), the command's `own` callbacks, ModelCheckpoint (last/ and
   * best/ of the run, and last/ every N steps when asked) so it stores the others' updated state, and the run's
   * lifecycle last (it stops training at a signal, after having the checkpoint saved).
   */
  callbacks(own: Callback[], options: SessionCallbackOptions): Callback[] {
    const run = this.run;
    const everySteps = options.logEverySteps ?? 0;
    const settings = this.settings ?? settingsOf(run, null);
    const callbacks: Callback[] = [];
    this.progressCallback = null;
    if (this.progress === 'bar') this.progressCallback = new ProgressBar(this.out);
    if (this.progress === 'log') {
      this.progressCallback = new ProgressLog(this.out, { everySteps, everySeconds: options.progressEverySeconds ?? settings.progressEverySeconds });
    }
    if (this.progressCallback) callbacks.push(this.progressCallback);
    callbacks.push(new MetricsLog(run, everySteps));
    if (options.tensorboard) {
      this.tensorboardLog = new TensorBoard({ ...options.tensorboard, run });
      callbacks.push(this.tensorboardLog);
    }
    callbacks.push(...own);
    const checkpoint = new ModelCheckpoint({
      lastDir: run.lastCheckpoint, bestDir: run.bestCheckpoint, monitor: options.monitor,
      everySteps: options.checkpointEverySteps ?? settings.checkpointEverySteps,
      snapshots: { keep: settings.keepSnapshots, run },
    });
    callbacks.push(checkpoint);
    if (this.lifecycle) callbacks.push(this.lifecycle.callback(checkpoint, options.stopAgreed));
    return callbacks;
  }

  /**
   * Writes the final evaluation as the run's report/ (and into the TensorBoard log, which it closes) and prints
   * it: `Report on <split>: loss ... - accuracy ... - top-5 ...`. `split` names the data, e.g. 'validation (last 5000 of 50000 images)'.
   */
  async report(report: EvaluationMetrics, split: string): Promise<void> {
    const run = this.run;
    this.lifecycle?.throwIfRequested('the end of training, before the report');
    await writeReport(run.reportDir, report, { split, model: run.modelDir });
    await this.tensorboardLog?.logReport(report);
    this.reported = { report, split };
    this.say(`Report on ${split}: loss ${report.loss.toFixed(4)} - accuracy ${report.accuracy.toFixed(4)}` +
      `${Object.entries(report.topK).filter(([k]) => k !== '1').map(([k, v]) => ` - top-${k} ${v.toFixed(4)}`).join('')}`);
  }

  /**
   * Saves `model` as the run's model/ and then, as the run's very last act, sets status 'completed' with
   * `summary` (after the backend and before the report's figures). Call report() first.
   */
  async complete(model: tfl.LayersModel, options: { summary?: Record<string, unknown>; modelNote?: string } = {}): Promise<void> {
    const run = this.run;
    if (this.reported === null) throw new Error('RunSession.complete() needs the report first: call report() before complete().');
    const { report, split } = this.reported;
    await saveModel(model, run.modelDir);
    run.setStatus('completed', {
      summary: {
        backend: this.backend, ...options.summary,
        report: { split, loss: report.loss, accuracy: report.accuracy, topK: report.topK },
      },
    });
    this.completed = true;
    this.say(`Model: ${run.modelDir}${options.modelNote ?? ''}`);
    this.end();
  }

  /**
   * Marks the run 'failed' with the error's message (when a run directory is open) — 'interrupted' for
   * INSIGHT_E_INTERRUPTED, a stop at a signal with checkpoints/last saved — and closes the TensorBoard log. A run
   * complete() finished stays 'completed'.
   */
  fail(error: unknown): void {
    const interrupted = error instanceof InsightError && error.code === 'INSIGHT_E_INTERRUPTED';
    if (!this.completed) this.current?.setStatus(interrupted ? 'interrupted' : 'failed', { error: (error as Error).message ?? String(error) });
    this.tensorboardLog?.close();
    this.end();
  }

  /** Ends the lifecycle: no more heartbeats, the process's own signal handling back. */
  private end(): void {
    this.lifecycle?.stop();
    this.lifecycle = null;
  }
}

/** How the runs that do not resume are called in the advice to start them again. */
const NOT_RESUMED: Readonly<Record<Exclude<RunKind, 'train'>, string>> = { finetune: 'Fine-tuning', distill: 'Distillation', compress: 'Compression' };

/**
 * The session's settings from a run's config: checkpointEverySteps and progressEverySeconds when it has them (train
 * and finetune configs do), and how to continue it — `insight train --resume` (fine-tuning, distillation and
 * compression runs start again instead).
 */
function settingsOf(run: RunDir, config: unknown): RunSettings {
  const c = (typeof config === 'object' && config !== null ? config : {}) as Record<string, unknown>;
  const count = (value: unknown, fallback: number) => typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
  const kind = runKind(c);
  return {
    checkpointEverySteps: count(c.checkpointEverySteps, 0),
    keepSnapshots: count(c.keepSnapshots, 0),
    progressEverySeconds: count(c.progressEverySeconds, 30),
    resumeFix: kind === 'train'
      ? `Resume with: insight train --resume ${run.dir}`
      : `${NOT_RESUMED[kind]} runs do not resume: start it again (${run.dir} keeps its last checkpoint).`,
  };
}
