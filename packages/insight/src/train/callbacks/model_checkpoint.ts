// Checkpoints (Keras's ModelCheckpoint, both flavours at once): after every epoch the run's state goes to
// `last/`; when the monitored quantity improves it also goes to `best/`. Each is written atomically
// (complete or absent), so a run killed at any moment can resume from `last/`.
import { writeCheckpoint } from '../../run/checkpoint';
import type { EpochLogs, MonitorName } from '../state';
import type { Callback, TrainingContext } from './callback';
import { Monitor } from './monitor';

export interface ModelCheckpointOptions {
  lastDir: string;
  bestDir: string;
  monitor: MonitorName;
}

export class ModelCheckpoint implements Callback {
  readonly name = 'modelCheckpoint';
  private readonly monitor: Monitor;
  private best: number | null = null;

  constructor(private readonly options: ModelCheckpointOptions) {
    this.monitor = new Monitor(options.monitor);
  }

  async onEpochEnd(logs: EpochLogs, ctx: TrainingContext): Promise<void> {
    const value = this.monitor.read(logs);
    const improved = this.monitor.improves(value, this.best);
    if (improved) this.best = value;
    const state = ctx.optimizer.getState();
    try {
      const contents = { optimizerName: ctx.optimizer.name, optimizerState: state, trainer: ctx.snapshot() };
      await writeCheckpoint(this.options.lastDir, ctx.model, contents);
      if (improved) await writeCheckpoint(this.options.bestDir, ctx.model, contents);
    } finally {
      for (const { tensor } of state) tensor.dispose();
    }
  }

  getState(): unknown {
    return { best: this.best };
  }

  setState(state: unknown): void {
    this.best = (state as { best: number | null }).best;
  }
}
