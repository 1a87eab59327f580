// Checkpoints (Keras's ModelCheckpoint, both flavours at once): after every epoch the run's state goes to
// `last/`; when the monitored quantity improves it also goes to `best/`. Each is written atomically
// (complete or absent), so a run killed at any moment can resume from `last/`.
import { writeCheckpoint } from '../../run/checkpoint';
import type { EpochLogs, MonitorName } from '../state';
import type { TrainingContext } from './callback';
import { MonitorCallback } from './monitor';

export interface ModelCheckpointOptions {
  lastDir: string;
  bestDir: string;
  monitor: MonitorName;
}

export class ModelCheckpoint extends MonitorCallback {
  readonly name = 'modelCheckpoint';

  constructor(private readonly options: ModelCheckpointOptions) {
    super(options.monitor);
  }

  async onEpochEnd(logs: EpochLogs, ctx: TrainingContext): Promise<void> {
    const improved = this.observe(logs);
    const state = ctx.optimizer.getState();
    try {
      const contents = { optimizerName: ctx.optimizer.name, optimizerState: state, trainer: ctx.snapshot() };
      await writeCheckpoint(this.options.lastDir, ctx.model, contents);
      if (improved) await writeCheckpoint(this.options.bestDir, ctx.model, contents);
    } finally {
      for (const { tensor } of state) tensor.dispose();
    }
  }

  /** Only the best value: a checkpoint never waits (and checkpoints written before the base class stay readable). */
  getState(): unknown {
    return { best: this.best };
  }
}
