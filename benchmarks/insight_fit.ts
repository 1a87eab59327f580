// Insight's training loop (`fit`, as insight train runs it) on random CIFAR-shaped uint8 images, for the benchmarks
// that time it: Adam 1e-3 (insight train's default), no augmentation, batches rendered inline (no worker threads).
//   const state = await fitOnRandomImages(model, { images: 3200, batchSize: 64, epochs: 3, precision: 'fp32' });
import type * as tfl from '@tensorflow/tfjs-layers';

import { DataLoader } from '../packages/insight/src/data';
import type { Precision } from '../packages/insight/src/run/config_fields';
import type { Callback } from '../packages/insight/src/train/callbacks/callback';
import { Adam, paramsOf } from '../packages/insight/src/train/optimizers';
import { ConstantSchedule } from '../packages/insight/src/train/schedules';
import type { TrainerState } from '../packages/insight/src/train/state';
import { fit, trainableVariables } from '../packages/insight/src/train/trainer';

export interface RandomFitOptions {
  images: number;
  batchSize: number;
  epochs: number;
  precision: Precision;
  callbacks?: Callback[];
}

/** Trains `model` for `epochs` epochs of `images` random 32x32 images (10 classes); the loop's final state. */
export async function fitOnRandomImages(model: tfl.LayersModel, o: RandomFitOptions): Promise<TrainerState> {
  const pixels = new Uint8Array(o.images * 32 * 32 * 3).map((_, i) => (i * 2654435761) >>> 24);
  const labels = Int32Array.from({ length: o.images }, (_, i) => (i * 7) % 10);
  const dataset = { images: pixels, labels, count: o.images, height: 32, width: 32, channels: 3 as const, classNames: [...'0123456789'] };
  const loader = new DataLoader(dataset, { batchSize: o.batchSize, seed: 1, workers: 0, shuffle: false });
  const optimizer = new Adam(paramsOf(trainableVariables(model)));
  try {
    return await fit(model, loader, { epochs: o.epochs, optimizer, schedule: new ConstantSchedule(1e-3), precision: o.precision,
      callbacks: o.callbacks });
  } finally {
    await loader.close();
    optimizer.dispose();
  }
}
