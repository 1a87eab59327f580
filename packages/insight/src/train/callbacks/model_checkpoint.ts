// Checkpoints (Keras's ModelCheckpoint, both flavours at once): after every epoch the run's state goes to
// `last/`; when the monitored quantity improves it also goes to `best/`. With `everySteps`, `last/` is also
// written inside an epoch after every that many optimizer updates (the state then records how far into the epoch
// it is), so a long epoch is not lost. Each is written atomically (complete or absent), so a run killed at any
// moment can resume from `last/`. With `snapshots`, the model of each of the last `keep` epochs is also kept as a model
// directory (snapshots/epoch-<e>/, for snapshot ensembles: `insight ensemble --snapshots`); older ones are deleted.
import * as fs from 'node:fs';

import { writeCheckpoint } from '../../run/checkpoint';
import { saveModel } from '../../run/model_io';
import type { RunDir } from '../../run/run_dir';
import type { BatchLogs, EpochLogs, MonitorName } from '../state';
import type { TrainingContext } from './callback';
import { MonitorCallback } from './monitor';

export interface ModelCheckpointOptions {
  lastDir: string;
  bestDir: string;
  monitor: MonitorName;
  /** Also write `last/` every this many optimizer updates inside an epoch (0 = per epoch only). */
  everySteps?: number;
  /** Keep the model of each of the last `keep` epochs in `run`'s snapshots/ (keep 0 or absent: none). */
  snapshots?: { keep: number; run: RunDir };
}

export class ModelCheckpoint extends MonitorCallback {
  readonly name = 'modelCheckpoint';
  /** The optimizer step `last/` was last written at (-1: not yet). */
  private savedStep = -1;

  constructor(private readonly options: ModelCheckpointOptions) {
    super(options.monitor);
  }

  /** True when the batch just ended with an optimizer update inside its epoch (not the epoch's last batch). */
  static atUpdateInEpoch(logs: BatchLogs, ctx: TrainingContext): boolean {
    return logs.batch < logs.batchesPerEpoch && ctx.state.inEpoch?.batch === logs.batch;
  }

  async onBatchEnd(logs: BatchLogs, ctx: TrainingContext): Promise<void> {
    const every = this.options.everySteps ?? 0;
    if (every > 0 && logs.step % every === 0 && ModelCheckpoint.atUpdateInEpoch(logs, ctx)) await this.saveLast(ctx);
  }

  async onEpochEnd(logs: EpochLogs, ctx: TrainingContext): Promise<void> {
    const improved = this.observe(logs);
    await this.write(ctx, improved);
    await this.snapshot(logs.epoch, ctx);
  }

  /** snapshots/epoch-<epoch>/ = the model now; snapshots older than the last `keep` epochs are deleted. */
  private async snapshot(epoch: number, ctx: TrainingContext): Promise<void> {
    const { keep = 0, run } = this.options.snapshots ?? {};
    if (run === undefined || keep <= 0) return;
    await saveModel(ctx.model, run.snapshotDir(epoch));
    for (const old of run.snapshotEpochs()) {
      if (old <= epoch - keep) fs.rmSync(run.snapshotDir(old), { recursive: true, force: true });
    }
  }

  /**
   * Writes `last/` now, unless it already holds this optimizer step. Call it at an update (inside an epoch, as
   * onBatchEnd does, or after onEpochEnd), never between the micro-batches of one.
   */
  async saveLast(ctx: TrainingContext): Promise<void> {
    if (this.savedStep !== ctx.state.step) await this.write(ctx, false);
  }

  private async write(ctx: TrainingContext, best: boolean): Promise<void> {
    const state = ctx.optimizer.getState();
    try {
      const contents = { optimizerName: ctx.optimizer.name, optimizerState: state, trainer: ctx.snapshot() };
      await writeCheckpoint(this.options.lastDir, ctx.model, contents);
      this.savedStep = ctx.state.step;
      if (best) await writeCheckpoint(this.options.bestDir, ctx.model, contents);
    } finally {
      for (const { tensor } of state) tensor.dispose();
    }
  }

  /** Only the best value: a checkpoint never waits (and checkpoints written before the base class stay readable). */
  getState(): unknown {
    return { best: this.best };
  }
}
