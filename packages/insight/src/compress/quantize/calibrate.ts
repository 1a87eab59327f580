// Post-training calibration: the value range of every quantised activation (quantized_points.ts) measured on N
// images, as onnxruntime.quantization's calibrators and TensorRT do it (range_collector.ts):
// - 'minmax': the running minimum and maximum over all images;
// - 'percentile': the range keeping `percentile`% of the values — both tails of the signed values cut by half the
//   rest each (or of |x| with symmetric: true, giving [-t, t]);
// - 'entropy': TensorRT's threshold t minimising the KL divergence between the histogram of |x| and its int8 version
//   (thresholds.ts), giving [-t, t] within the observed range, or [0, t] for a non-negative tensor.
// Histograms have 2048 bins over the range measured in a first pass, so the second pass's batches add up exactly and
// memory stays flat; both passes read the same batches. Every range contains 0, so a post-ReLU output has min 0.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Batch } from '../../data';
import { ruleError } from '../../errors';
import type { ActivationRanges } from '../../onnx/quantization_params';
import { calibrationBatches, type CalibrationBatchesOptions, type CalibrationSource } from './calibration_source';
import { pointsView, quantizedPoints } from './quantized_points';
import { CALIBRATION_METHODS, RangeCollector, type RangeOptions } from './range_collector';

export interface CalibrateOptions extends CalibrationBatchesOptions, RangeOptions {}

/**
 * Calibrated ranges of `model`'s input and quantised layer outputs over `options.images` images of `source` (layers in
 * topological order). Deterministic for a seed (a dataset source) or a loader's seed.
 * Example: `const ranges = await calibrate(model, validation, { images: 512, method: 'entropy', seed: 1 })`.
 */
export async function calibrate(model: tfl.LayersModel, source: CalibrationSource, options: CalibrateOptions): Promise<ActivationRanges> {
  checkRangeOptions(options);
  const names = quantizedPoints(model).map((p) => p.layer);
  const view = pointsView(model);
  const batches = calibrationBatches(model, source, options);
  const collector = new RangeCollector(names.length + 1, options);
  try {
    for await (const batch of batches.read()) await withActivations(view, batch, (a) => collector.observe(a));
    if (collector.needsHistograms) {
      for await (const batch of batches.read()) await withActivations(view, batch, (a) => collector.bin(a));
    }
  } finally {
    await batches.close();
  }
  const [input, ...layers] = collector.ranges();
  return { input, layers: Object.fromEntries(names.map((name, t) => [name, layers[t]])) };
}

/** Throws the house error unless the method and percentile are valid. */
export function checkRangeOptions(options: RangeOptions): void {
  if (!CALIBRATION_METHODS.includes(options.method)) {
    throw ruleError('INSIGHT_E_CONFIG', `The calibration method must be one of ${CALIBRATION_METHODS.join(', ')}.`,
      { method: options.method }, "Pass method: 'minmax', 'percentile' or 'entropy'.");
  }
  const percentile = options.percentile ?? 99.99;
  if (!(percentile > 0 && percentile <= 100)) {
    throw ruleError('INSIGHT_E_CONFIG', 'percentile must be in (0, 100].', { percentile }, 'Pass e.g. percentile: 99.99.');
  }
}

/** Runs `use` on [x, ...every quantised layer's output] of one batch (inference mode), then frees them. */
async function withActivations(view: tfl.LayersModel, batch: Batch, use: (activations: tf.Tensor[]) => Promise<void>): Promise<void> {
  const [h, w] = view.inputs[0].shape.slice(1, 3) as number[];
  const activations = tf.tidy(() => {
    const x = tf.tensor4d(batch.x, [batch.size, h, w, 3]);
    return [x, ...(view.apply(x, { training: false }) as tf.Tensor[])];
  });
  try {
    await use(activations);
  } finally {
    tf.dispose(activations);
  }
}
