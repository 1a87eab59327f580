// The guard's measurement: robust accuracy under PGD-k L∞ at the training ε (random start, step 2.5 ε / k, model in
// inference mode; robust/attacks/ robustAccuracy, so an image counts when it is classified correctly both clean and
// attacked, as RobustBench counts) on a small fixed batch of held-out images — the first `count` images of the
// validation split. The images and the attack's random starts are the same every epoch (seeded once by the run's
// seed), so epochs compare alike; it is the figure `insight evaluate --attack pgd --steps k` gives on those images.
import type * as tfl from '@tensorflow/tfjs-layers';

import { DataLoader, subsetDataset, type ImageDataset, type Normalization } from '../../data';
import { robustAccuracy } from '../attacks/robust_accuracy';

export interface RobustCheckOptions {
  /** L∞ radius, pixel units. */
  eps: number;
  /** PGD steps (α = 2.5 ε / steps). */
  steps: number;
  normalization: Normalization;
  /** The run's seed: the attack's random starts are drawn from it. */
  seed: number;
  /** Images per attacked batch (memory). Default 128. */
  batchSize?: number;
}

export class RobustCheck {
  private constructor(private readonly loader: DataLoader, readonly count: number, private readonly options: RobustCheckOptions) {}

  /** The check on the first `count` images of `dataset` (all of them when it has fewer). */
  static onFirst(dataset: ImageDataset, count: number, options: RobustCheckOptions): RobustCheck {
    const n = Math.min(count, dataset.count);
    const images = subsetDataset(dataset, Array.from({ length: n }, (_, i) => i));
    const loader = new DataLoader(images, { batchSize: options.batchSize ?? 128, shuffle: false, normalization: options.normalization, workers: 0 });
    return new RobustCheck(loader, n, options);
  }

  /** Share of the images the model classifies correctly both clean and under the attack. */
  async accuracy(model: tfl.LayersModel): Promise<number> {
    const { eps, steps, normalization, seed } = this.options;
    const result = await robustAccuracy(model, this.loader, { attack: 'pgd', norm: 'linf', eps, steps, randomStart: true, seed }, normalization);
    return result.accuracy;
  }

  async dispose(): Promise<void> {
    await this.loader.close();
  }
}
