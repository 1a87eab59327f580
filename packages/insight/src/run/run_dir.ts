// The run directory, `<runs dir>/<run-id>/`. This module is the only place that spells its file names; everything
// else asks a RunDir (or the constants below) for paths.
//   run.json              { id, status: 'running' | 'completed' | 'failed' | 'interrupted', pid, host, heartbeatAt,
//                         ... } — 'completed' is written last; a 'running' run whose process is gone has crashed
//   config.json           the validated config the run was started with
//   data.json             the data it used: the train/validation split (method, seed, counts per class, validation
//                         files) and the files skipped as unreadable (run/dataset_source.ts writes it)
//   metrics.jsonl         one JSON object per logged epoch (and per N steps when asked)
//   tags.json             the run's tags (a JSON list of strings), written by `insight runs tag`
//   checkpoints/          last/ and best/, each a complete checkpoint (see checkpoint.ts); robust-best/ with
//                         adversarial training (the weights of the best robust epoch, the guard's rollback)
//   snapshots/epoch-<e>/  the model after epoch e (a model directory), for the last --keep-snapshots epochs
//   model/                the final model, written only when training has finished (file names: model_io.ts)
//   report/               evaluation of the final model (REPORT_FILES), plus forgetting.json after fine-tuning
//   calibration/          `insight calibrate`: the temperature fitted on the validation split, reliability diagrams
//   predictions.png/.json the sample-prediction grid of the last epoch (for the dashboard)
//   events.out.tfevents.* TensorBoard event files
//   explain/              pictures and arrays written by `insight explain` (overlays, grids, neighbour strips, .npy),
//     dashboard/          and the dashboard's explanations panel (its PNGs and EXPLAIN_PANEL_FILES.manifest)
//   memory/               the nearest-neighbour index of the training images (MEMORY_FILES), rebuilt when stale
//   model_compressed/     `insight compress`: the model in its --weights format (float16, uint8 or sparse), beside
//                         report/sparsity.json and report/compression.json (COMPRESSION_FILES)
// The runs directory itself holds the run directories and the tracker's index (RUNS_INDEX_FILE).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ruleError } from '../errors';
import { writeFileAtomic } from './atomic';

/** Files of a report directory: report/ of a run, or any directory `insight evaluate --out` writes. */
export const REPORT_FILES = {
  metrics: 'metrics.json',
  confusionPng: 'confusion.png',
  perClassTxt: 'per_class.txt',
  confusionTxt: 'confusion.txt',
  reliabilityPng: 'reliability.png',
} as const;

/**
 * Files of memory/, the k-NN index over the penultimate-layer embeddings of a run's training images: the unit-length
 * embeddings [N, D] (float32), their labels [N] and dataset positions [N] (int32), and what they were built from.
 */
export const MEMORY_FILES = {
  embeddings: 'embeddings.npy',
  labels: 'labels.npy',
  indices: 'indices.npy',
  info: 'memory.json',
} as const;

/** Files of explain/dashboard/, the dashboard's explanations panel: its manifest (beside the PNGs it names). */
export const EXPLAIN_PANEL_FILES = {
  manifest: 'panel.json',
} as const;

/**
 * Files of `insight compress`: in a run's report/ (or beside a compressed model directory written without training),
 * the per-layer sparsity report and the sizes report. (A model directory stored sparse names its weights file in
 * model_io.ts.)
 */
export const COMPRESSION_FILES = {
  sparsity: 'sparsity.json',
  sizes: 'compression.json',
} as const;

/**
 * `insight calibrate`'s report: in CALIBRATION_DIR of a run (or of a model directory outside a run), or in its --out
 * directory beside the calibrated copy of the model (CALIBRATED_MODEL_DIR): the fitted temperature with the figures
 * before and after, and the reliability diagrams before and after.
 */
export const CALIBRATION_FILES = {
  summary: 'calibration.json',
  reliabilityBefore: 'reliability_before.png',
  reliabilityAfter: 'reliability_after.png',
} as const;
export const CALIBRATION_DIR = 'calibration';
export const CALIBRATED_MODEL_DIR = 'model';

/** Every TensorBoard event file's name starts with this (`events.out.tfevents.<unix seconds>.<host>`). */
export const EVENT_FILE_PREFIX = 'events.out.tfevents.';

/** The tracker's index, `<runs dir>/index.sqlite`, beside the run directories. */
export const RUNS_INDEX_FILE = 'index.sqlite';

const RUN_JSON = 'run.json';
const CONFIG_JSON = 'config.json';
const DATA_JSON = 'data.json';
const METRICS_JSONL = 'metrics.jsonl';
const TAGS_JSON = 'tags.json';
const CHECKPOINTS = 'checkpoints';
const SNAPSHOTS = 'snapshots';
const SNAPSHOT_PREFIX = 'epoch-';
const MODEL = 'model';
const REPORT = 'report';
const FORGETTING_JSON = 'forgetting.json';
const PREDICTIONS_PNG = 'predictions.png';
const PREDICTIONS_JSON = 'predictions.json';
const EXPLAIN = 'explain';
const EXPLAIN_PANEL = 'dashboard';
const MEMORY = 'memory';
const COMPRESSED_MODEL = 'model_compressed';

/** 'interrupted': stopped by SIGINT/SIGTERM after saving checkpoints/last (resumable). */
export type RunStatus = 'running' | 'completed' | 'failed' | 'interrupted';

/** Contents of run.json. */
export interface RunInfo {
  id: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  /** Set when status is 'failed' (the error) or 'interrupted' (where it stopped). */
  error?: string;
  /** The training process while it runs: its pid, its host, and the time of its last heartbeat (run/liveness.ts). */
  pid?: number;
  host?: string;
  heartbeatAt?: string;
  /** Free-form facts recorded at completion (final metrics, backend, durations). */
  summary?: Record<string, unknown>;
}

/** `20261129-041812-a3f9`: UTC start time, then 4 random hex digits so parallel runs never collide. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export class RunDir {
  private constructor(readonly dir: string) {}

  get id(): string { return path.basename(this.dir); }
  get runJson(): string { return path.join(this.dir, RUN_JSON); }
  get configJson(): string { return path.join(this.dir, CONFIG_JSON); }
  /** data.json: the run's split and skipped files (run/dataset_source.ts DataRecord). */
  get dataJson(): string { return path.join(this.dir, DATA_JSON); }
  get metricsJsonl(): string { return path.join(this.dir, METRICS_JSONL); }
  get tagsJson(): string { return path.join(this.dir, TAGS_JSON); }
  get checkpointsDir(): string { return path.join(this.dir, CHECKPOINTS); }
  get lastCheckpoint(): string { return path.join(this.checkpointsDir, 'last'); }
  get bestCheckpoint(): string { return path.join(this.checkpointsDir, 'best'); }
  /** Adversarial training: the weights of the epoch with the best robust accuracy, the guard's rollback (robust/adversarial/best_weights.ts). */
  get robustBestCheckpoint(): string { return path.join(this.checkpointsDir, 'robust-best'); }
  /** snapshots/: the models of the last epochs (train --keep-snapshots), one model directory per epoch. */
  get snapshotsDir(): string { return path.join(this.dir, SNAPSHOTS); }
  /** snapshots/epoch-<epoch>/: the model after epoch `epoch` (from 1). */
  snapshotDir(epoch: number): string { return path.join(this.snapshotsDir, `${SNAPSHOT_PREFIX}${epoch}`); }
  /** The epochs whose snapshots are on disk, ascending (temporaries of a killed writer left out). */
  snapshotEpochs(): number[] {
    if (!fs.existsSync(this.snapshotsDir)) return [];
    return fs.readdirSync(this.snapshotsDir)
      .filter((name) => name.startsWith(SNAPSHOT_PREFIX) && /^\d+$/.test(name.slice(SNAPSHOT_PREFIX.length)))
      .map((name) => Number(name.slice(SNAPSHOT_PREFIX.length)))
      .sort((a, b) => a - b);
  }
  get modelDir(): string { return path.join(this.dir, MODEL); }
  get reportDir(): string { return path.join(this.dir, REPORT); }
  /** calibration/: `insight calibrate`'s report on the run's model (CALIBRATION_FILES). */
  get calibrationDir(): string { return path.join(this.dir, CALIBRATION_DIR); }
  /** report/metrics.json: the final evaluation (written by eval/report.ts). */
  get reportMetricsJson(): string { return path.join(this.reportDir, REPORT_FILES.metrics); }
  /** report/confusion.png: the final confusion matrix as an image. */
  get confusionPng(): string { return path.join(this.reportDir, REPORT_FILES.confusionPng); }
  /** report/sparsity.json: the per-layer sparsity of a compressed run's model (compress/prune/report.ts). */
  get sparsityJson(): string { return path.join(this.reportDir, COMPRESSION_FILES.sparsity); }
  /** report/compression.json: a compressed run's sizes (raw, gzip, dense float32), parameters, FLOPs and accuracy. */
  get compressionJson(): string { return path.join(this.reportDir, COMPRESSION_FILES.sizes); }
  /** model_compressed/: the compressed run's model in its --weights format (model/ keeps float32 for every reader). */
  get compressedModelDir(): string { return path.join(this.dir, COMPRESSED_MODEL); }
  /** report/forgetting.json: base-task accuracy before/after fine-tuning. */
  get forgettingJson(): string { return path.join(this.reportDir, FORGETTING_JSON); }
  get predictionsPng(): string { return path.join(this.dir, PREDICTIONS_PNG); }
  get predictionsJson(): string { return path.join(this.dir, PREDICTIONS_JSON); }
  /** explain/: where `insight explain` writes its pictures and arrays for this run. */
  get explainDir(): string { return path.join(this.dir, EXPLAIN); }
  /** explain/dashboard/: the dashboard's explanations panel, written as one directory (complete or absent). */
  get explainPanelDir(): string { return path.join(this.explainDir, EXPLAIN_PANEL); }
  /** explain/dashboard/panel.json: the panel's manifest. */
  get explainPanelJson(): string { return path.join(this.explainPanelDir, EXPLAIN_PANEL_FILES.manifest); }
  /** memory/: the nearest-neighbour index (MEMORY_FILES), written as one directory so it is complete or absent. */
  get memoryDir(): string { return path.join(this.dir, MEMORY); }
  /** memory/memory.json: the weights, layer and dataset the index was built from. */
  get memoryJson(): string { return path.join(this.memoryDir, MEMORY_FILES.info); }

  /**
   * The files whose changes change what a tracker shows of the run (run.json, config.json, metrics.jsonl,
   * tags.json, report/metrics.json): equal stats of these, equal summaries.
   */
  get trackedFiles(): string[] {
    return [this.runJson, this.configJson, this.metricsJsonl, this.tagsJson, this.reportMetricsJson];
  }

  /** Names of the TensorBoard event files in the run directory (empty when it is gone). */
  eventFiles(): string[] {
    try {
      return fs.readdirSync(this.dir).filter((name) => name.startsWith(EVENT_FILE_PREFIX));
    } catch {
      return [];
    }
  }

  /**
   * A view of `dir` as a run directory, checking nothing: for reading runs that may be partial, broken or still
   * being written (tracking, the dashboard). Writers use `create`; resuming uses `open`.
   * Example: `fs.existsSync(RunDir.at('runs/x').reportMetricsJson)`.
   */
  static at(dir: string): RunDir {
    return new RunDir(dir);
  }

  /** True for a directory that looks like a run: it has any of run.json, config.json, metrics.jsonl. */
  static looksLikeRun(dir: string): boolean {
    const run = new RunDir(dir);
    return [run.runJson, run.configJson, run.metricsJsonl].some((file) => fs.existsSync(file));
  }

  /** The run directory `dir` when it has both run.json and config.json, else null (no error: for probing). */
  static tryOpen(dir: string): RunDir | null {
    const run = new RunDir(dir);
    return fs.existsSync(run.runJson) && fs.existsSync(run.configJson) ? run : null;
  }

  /** The run that holds model directory `modelDir` (its model/, or a checkpoint under checkpoints/), else null. */
  static ofModelDir(modelDir: string): RunDir | null {
    return RunDir.tryOpen(path.dirname(modelDir)) ?? RunDir.tryOpen(path.dirname(path.dirname(modelDir)));
  }

  /** Creates `<runsDir>/<new id>/` with run.json (status 'running') and config.json. */
  static create(runsDir: string, config: unknown): RunDir {
    fs.mkdirSync(runsDir, { recursive: true });
    let dir: string;
    do dir = path.join(runsDir, newRunId()); while (fs.existsSync(dir));
    fs.mkdirSync(dir);
    const run = new RunDir(dir);
    const now = new Date().toISOString();
    writeFileAtomic(run.configJson, `${JSON.stringify(config, null, 2)}\n`);
    run.writeInfo({ id: run.id, status: 'running', createdAt: now, updatedAt: now });
    return run;
  }

  /** Opens an existing run directory (for resume or inspection). */
  static open(dir: string): RunDir {
    const run = RunDir.tryOpen(dir);
    if (run === null) {
      throw ruleError('INSIGHT_E_RESUME', `A run directory must contain ${RUN_JSON} and ${CONFIG_JSON}.`,
        { run: dir, exists: fs.existsSync(dir) }, 'Pass a directory created by `insight train`, e.g. runs/<run-id>.');
    }
    return run;
  }

  /** The path of a run-relative file as messages name it, e.g. 'report/metrics.json'. */
  relative(file: string): string {
    return path.relative(this.dir, file).split(path.sep).join('/');
  }

  readInfo(): RunInfo {
    return JSON.parse(fs.readFileSync(this.runJson, 'utf8')) as RunInfo;
  }

  readConfig(): unknown {
    return JSON.parse(fs.readFileSync(this.configJson, 'utf8'));
  }

  /** Updates run.json atomically; only the trainer's very last act sets status 'completed'. */
  setStatus(status: RunStatus, extra: Partial<Pick<RunInfo, 'error' | 'summary'>> = {}): void {
    const info = this.readInfo();
    this.writeInfo({ ...info, ...extra, status, updatedAt: new Date().toISOString() });
  }

  /**
   * Renews run.json's heartbeat time (status and updatedAt unchanged), recording `fields` with it — the process
   * (pid, host) when a process takes the run on, `error: undefined` to drop a previous interruption's.
   */
  heartbeat(fields: Partial<Pick<RunInfo, 'pid' | 'host' | 'error'>> = {}): void {
    this.writeInfo({ ...this.readInfo(), ...fields, heartbeatAt: new Date().toISOString() });
  }

  /** Rewrites config.json (a resumed run given a new epoch target records it). */
  writeConfig(config: unknown): void {
    writeFileAtomic(this.configJson, `${JSON.stringify(config, null, 2)}\n`);
  }

  private writeInfo(info: RunInfo): void {
    writeFileAtomic(this.runJson, `${JSON.stringify(info, null, 2)}\n`);
  }

  /** Appends one record to metrics.jsonl (one line, flushed). */
  appendMetrics(record: Record<string, unknown>): void {
    const fd = fs.openSync(this.metricsJsonl, 'a');
    try {
      fs.writeSync(fd, `${JSON.stringify(record)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** All complete records of metrics.jsonl (a torn last line from a killed process is skipped). */
  readMetrics(): Record<string, unknown>[] {
    if (!fs.existsSync(this.metricsJsonl)) return [];
    const records: Record<string, unknown>[] = [];
    for (const line of fs.readFileSync(this.metricsJsonl, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line cut short by a kill; everything after the checkpoint is dropped on resume anyway.
      }
    }
    return records;
  }

  /**
   * Keeps only the records logged up to and including optimizer step `step` (rewritten atomically), so a
   * resumed run does not log the epochs a killed process had started twice.
   */
  truncateMetrics(step: number): void {
    const kept = this.readMetrics().filter((record) => typeof record.step === 'number' && record.step <= step);
    writeFileAtomic(this.metricsJsonl, kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
  }
}
