// Checkpoints (Keras's ModelCheckpoint, both flavours at once): after every epoch the run's state goes to
// `last/`; when the monitored quantity improves it also goes to `best/`. With `everySteps`, `last/` is also
// written inside an epoch after every that many optimizer updates (the state then records how far into the epoch
// it is), so a long epoch is not lost. Each is written atomically (complete or absent), so a run killed at any
// moment can resume from `last/`.
import { writeCheckpoint } from '../../run/checkpoint';
import type { BatchLogs, EpochLogs, MonitorName } from '../state';
import type { TrainingContext } from './callback';
import { MonitorCallback } from './monitor';

export interface ModelCheckpointOptions {
  lastDir: string;
  bestDir: string;
  monitor: MonitorName;
  /** Also write `last/` every this many optimizer updates inside an epoch (0 = per epoch only). */
  everySteps?: number;
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
