// Post-training int8 quantisation: calibrate the activations on N images, write the int8 QDQ graph with the ONNX
// writer (weights per output channel, activations per tensor; the logits stay float32: on a 256-level grid a close
// top two would round to a tie or swap — on a briefly trained seed-cnn that cost 1 pt of argmax agreement), and
// evaluate any .onnx in ONNX Runtime on a loader's batches, so the int8 model's accuracy can be set against the fp32
// tfjs model's on the same validation split.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { DataLoader } from '../../data';
import { accuracy } from '../../eval/metrics';
import { concatArrays } from '../../math/concat_arrays';
import { argmaxRows } from '../../math/top_k';
import { exportOnnx, OnnxModel, type ExportOnnxOptions } from '../../onnx';
import type { ActivationRanges } from '../../onnx/quantization_params';
import { calibrate, type CalibrateOptions } from './calibrate';
import type { CalibrationSource } from './calibration_source';
import { withFloatOutput } from './fake_quant_model';

export interface QuantizeOptions extends CalibrateOptions {
  /** ONNX opset of the written graph (default the writer's). */
  opset?: number;
  /** Metadata to embed (default the model's own). */
  metadata?: ExportOnnxOptions['metadata'];
}

export interface QuantizedModel {
  /** The int8 QDQ ONNX model. */
  onnx: Uint8Array;
  /** The activation ranges it was written with (calibrated; without the output's when it stays float). */
  ranges: ActivationRanges;
}

/**
 * Calibrates `model` on `calibrationSource` and writes its int8 ONNX graph.
 * Example: `const { onnx } = await quantizeModel(model, trainSet, { images: 512, method: 'percentile', seed: 1 })`.
 */
export async function quantizeModel(model: tfl.LayersModel, calibrationSource: CalibrationSource, options: QuantizeOptions): Promise<QuantizedModel> {
  const calibrated = await calibrate(model, calibrationSource, options);
  const ranges = withFloatOutput(model, calibrated); // the writer keeps the model's output (the logits) float
  return { onnx: exportOnnx(model, { int8: ranges, opset: options.opset, metadata: options.metadata }), ranges };
}

export interface OnnxEvaluation {
  count: number;
  numClasses: number;
  /** [count] labels and argmax predictions, in loader order. */
  labels: Int32Array;
  predictions: Int32Array;
  /** [count, numClasses] model outputs (logits for Insight's classifiers), row-major. */
  logits: Float32Array;
  accuracy: number;
}

/**
 * Runs every batch of `loader`'s epoch 0 (use shuffle: false, no augmentation, the model's normalisation) through
 * the .onnx at a path or in bytes, in ONNX Runtime (`threads` intra-op threads, default its own).
 */
export async function evaluateOnnx(onnx: string | Uint8Array, loader: DataLoader, options: { threads?: number } = {}): Promise<OnnxEvaluation> {
  const model = await OnnxModel.load(onnx, { threads: options.threads });
  const labels: Int32Array[] = [];
  const outputs: Float32Array[] = [];
  let count = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      outputs.push(Float32Array.from(await model.predict(batch.x, batch.size)));
      labels.push(batch.y);
      count += batch.size;
    }
  } finally {
    await model.dispose();
  }
  const numClasses = model.outputShape[0];
  const logits = concatArrays(outputs, Float32Array);
  const allLabels = concatArrays(labels, Int32Array);
  const predictions = argmaxRows(logits, numClasses);
  return { count, numClasses, labels: allLabels, predictions, logits, accuracy: accuracy(allLabels, predictions) };
}

/** Share of rows where two predictions agree (e.g. int8 argmax against fp32). */
export function agreement(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length === 0 ? NaN : same / a.length;
}
