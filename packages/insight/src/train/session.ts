// One run of a command that trains (train and finetune today; search, explain, export and distill next), from
// start to end, so every command does it the same way: start the backend, choose the progress output, create or
// resume the run directory, install the callbacks every run has, then end in one order — report/, the model, and
// status 'completed' last — or mark the run 'failed'.
//
// It lives in train/, not run/: it builds training callbacks (progress, metrics.jsonl, TensorBoard, checkpoints)
// and writes the evaluation report, and run/ sits below train/ and eval/, so it must not import them. The run
// directory's files and run.json stay RunDir's (run/run_dir.ts); the session only decides when they are written.
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
import { saveModel } from '../run/model_io';
import { RunDir } from '../run/run_dir';
import type { Callback } from './callbacks/callback';
import { MetricsLog } from './callbacks/metrics_log';
import { ModelCheckpoint } from './callbacks/model_checkpoint';
import { ProgressBar } from './callbacks/progress_bar';
import { ProgressLog } from './callbacks/progress_log';
import { TensorBoard, type TensorBoardOptions } from './callbacks/tensorboard';
import type { MonitorName } from './state';

export interface SessionOptions {
  backend: BackendChoice;
  /** auto: a bar on a terminal, log lines otherwise; none: no progress and no info lines. */
  progress: ProgressKind;
  /** Where progress and info lines go (default process.stdout). */
  out?: NodeJS.WriteStream;
}

export interface SessionCallbackOptions {
  /** The metric of the best checkpoint. */
  monitor: MonitorName;
  /** Also log (progress lines, metrics.jsonl) every this many optimizer updates; 0 = per epoch only. */
  logEverySteps?: number;
  /** Write a TensorBoard log into the run directory (null or absent: none). */
  tensorboard?: Omit<TensorBoardOptions, 'run'> | null;
}

export class RunSession {
  private current: RunDir | null = null;
  private tensorboardLog: TensorBoard | null = null;
  private reported: { report: EvaluationMetrics; split: string } | null = null;

  private constructor(
    /** The active compute backend ('torch' or 'cpu'). */
    readonly backend: string,
    /** The progress output chosen: 'auto' resolved against the output stream. */
    readonly progress: Exclude<ProgressKind, 'auto'>,
    readonly out: NodeJS.WriteStream,
  ) {}

  /** Starts the backend (INSIGHT_E_BACKEND when unavailable) and resolves the progress output. */
  static async start(options: SessionOptions): Promise<RunSession> {
    const out = options.out ?? process.stdout;
    const backend = await startBackend(options.backend);
    const progress = options.progress === 'auto' ? (out.isTTY ? 'bar' : 'log') : options.progress;
    return new RunSession(backend, progress, out);
  }

  /** Writes one info line, unless progress is 'none'. */
  say(line: string): void {
    if (this.progress !== 'none') this.out.write(`${line}\n`);
  }

  /** Creates the run directory `<runsDir>/<new id>/` (status 'running', config.json = `config`). */
  create(runsDir: string, config: unknown): RunDir {
    this.current = RunDir.create(runsDir, config);
    return this.current;
  }

  /** Continues an existing run directory (the caller has restored its checkpoint and set it running). */
  resume(run: RunDir): RunDir {
    this.current = run;
    return run;
  }

  /** The run directory (after create or resume). */
  get run(): RunDir {
    if (this.current === null) throw new Error('RunSession.run is used before create() or resume(): open the run directory first.');
    return this.current;
  }

  /**
   * Every callback of a training run in the one order that works: progress first (so notes follow the epoch
   * line), metrics.jsonl, TensorBoard (when asked), the command's `own` callbacks, and ModelCheckpoint (last/
   * and best/ of the run) last, so it stores the others' updated state.
   */
  callbacks(own: Callback[], options: SessionCallbackOptions): Callback[] {
    const run = this.run;
    const everySteps = options.logEverySteps ?? 0;
    const callbacks: Callback[] = [];
    if (this.progress === 'bar') callbacks.push(new ProgressBar(this.out));
    if (this.progress === 'log') callbacks.push(new ProgressLog(this.out, everySteps));
    callbacks.push(new MetricsLog(run, everySteps));
    if (options.tensorboard) {
      this.tensorboardLog = new TensorBoard({ ...options.tensorboard, run });
      callbacks.push(this.tensorboardLog);
    }
    callbacks.push(...own);
    callbacks.push(new ModelCheckpoint({ lastDir: run.lastCheckpoint, bestDir: run.bestCheckpoint, monitor: options.monitor }));
    return callbacks;
  }

  /**
   * Writes the final evaluation as the run's report/ (and into the TensorBoard log, which it closes) and prints
   * it: `Report on <split>: loss ... - accuracy ... - top-5 ...`. `split` names the data, e.g. 'validation (last 5000 of 50000 images)'.
   */
  async report(report: EvaluationMetrics, split: string): Promise<void> {
    const run = this.run;
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
    this.say(`Model: ${run.modelDir}${options.modelNote ?? ''}`);
  }

  /** Marks the run 'failed' with the error's message (when a run directory is open) and closes the TensorBoard log. */
  fail(error: unknown): void {
    this.current?.setStatus('failed', { error: (error as Error).message ?? String(error) });
    this.tensorboardLog?.close();
  }
}
