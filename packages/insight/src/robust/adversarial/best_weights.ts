// The weights of the guard's best epoch, to roll back to when robust accuracy collapses: a copy in memory, and — in a
// run directory — on disk (checkpoints/robust-best, weights only), so a resumed run can still roll back to an epoch
// before its interruption.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { hasCheckpoint, readCheckpoint, restoreWeights, writeCheckpoint } from '../../run/checkpoint';

/** What the on-disk copy records beside the weights (its trainer.json). */
export interface BestWeightsRecord {
  epoch: number;
  robustAccuracy: number;
}

export class BestWeights {
  private saved: tf.Tensor[] | null = null;

  /** `dir`: where to keep the on-disk copy (null: memory only). */
  constructor(private readonly dir: string | null = null) {}

  /** Copies every weight of `model` (trainable and moving statistics) as the best, epoch `epoch` (1-based). */
  async capture(model: tfl.LayersModel, record: BestWeightsRecord): Promise<void> {
    const copy = model.weights.map((w) => tf.clone(w.read()));
    this.dispose();
    this.saved = copy;
    if (this.dir !== null) await writeCheckpoint<BestWeightsRecord>(this.dir, model, { optimizerName: 'none', optimizerState: [], trainer: record });
  }

  /**
   * Puts the best weights back into `model`: the copy in memory, else the one on disk (a resumed run). Returns the
   * epoch they are from, or null when there are none (the run had no best epoch yet).
   */
  async restore(model: tfl.LayersModel, bestEpoch: number | null): Promise<number | null> {
    if (this.saved !== null) {
      model.setWeights(this.saved);
      return bestEpoch;
    }
    if (this.dir === null || !hasCheckpoint(this.dir)) return null;
    const checkpoint = await readCheckpoint<BestWeightsRecord>(this.dir);
    try {
      restoreWeights(model, checkpoint.weights, checkpoint.dir);
      return checkpoint.trainer.epoch;
    } finally {
      tf.dispose(checkpoint.weights);
    }
  }

  dispose(): void {
    if (this.saved !== null) tf.dispose(this.saved);
    this.saved = null;
  }
}
