// The guard's measurement: robust accuracy under a PGD-k L∞ attack at the training ε (random start, step 2.5 ε / k,
// model in inference mode) on a small fixed batch of held-out images — the first `count` images of the validation
// split. The batch and the attack's random start are the same every epoch (seeded once), so epochs compare alike.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { ImageDataset } from '../../data/dataset';
import { normalizeImages, type Normalization } from '../../data/normalize';
import { mixSeeds } from '../../models/seeds';
import { perturbLinf } from './perturb';
import { PGD_ALPHA_FACTOR } from './settings';

export interface RobustCheckOptions {
  /** L∞ radius, pixel units. */
  eps: number;
  /** PGD steps (α = 2.5 ε / steps). */
  steps: number;
  normalization: Normalization;
  /** The run's seed: the attack's random start is drawn from it. */
  seed: number;
  /** Images per attacked batch (memory); the result does not depend on it. */
  batchSize?: number;
}

/** Tells the check's random starts apart from training's. */
const CHECK_START = 0x67617264; // 'gard'

export class RobustCheck {
  private constructor(private readonly x: tf.Tensor4D, private readonly y: tf.Tensor1D, private readonly options: RobustCheckOptions) {}

  /** The check on the first `count` images of `dataset` (all of them when it has fewer). */
  static onFirst(dataset: ImageDataset, count: number, options: RobustCheckOptions): RobustCheck {
    const n = Math.min(count, dataset.count);
    const pixels = dataset.height * dataset.width * 3;
    const x = tf.tensor4d(normalizeImages(dataset.images.subarray(0, n * pixels), options.normalization), [n, dataset.height, dataset.width, 3]);
    const y = tf.tensor1d(dataset.labels.subarray(0, n), 'int32');
    return new RobustCheck(x, y, options);
  }

  /** Images in the check. */
  get count(): number {
    return this.y.shape[0];
  }

  /** Fraction of the batch the model still classifies correctly under the attack. */
  async accuracy(model: tfl.LayersModel): Promise<number> {
    const { eps, steps, normalization, seed } = this.options;
    const batchSize = this.options.batchSize ?? 128;
    let correct = 0;
    for (let start = 0; start < this.count; start += batchSize) {
      const size = Math.min(batchSize, this.count - start);
      const hits = tf.tidy(() => {
        const x = tf.slice(this.x, start, size);
        const y = tf.slice(this.y, start, size);
        const adversarial = perturbLinf(model, x, y, {
          eps, alpha: (PGD_ALPHA_FACTOR * eps) / steps, steps, normalization, seed: mixSeeds(seed, start, CHECK_START), training: false,
        });
        const logits = model.predict(adversarial) as tf.Tensor2D;
        return tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'int32'));
      });
      correct += (await hits.data())[0];
      hits.dispose();
    }
    return correct / this.count;
  }

  dispose(): void {
    tf.dispose([this.x, this.y]);
  }
}
