// The `insight export` workflow: load a saved model (a model directory or a run's), optionally calibrate int8 ranges
// on images (the run's training split or --data) with the calibrator it is given (compress/quantize's calibrate;
// passed in because this foundation folder cannot import the feature), write the ONNX model into a directory
// atomically, and report the sizes.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type * as tfl from '@tensorflow/tfjs-layers';

import type { ImageDataset } from '../data';
import { ruleError } from '../errors';
import { getInsightMetadata, type InsightModelMetadata } from '../models/metadata';
import { startBackend } from '../run/backend_choice';
import { type DatasetSource, loadDataset, loadRunSplit, runSelection, runSplitSettings, selectedImages } from '../run/dataset_source';
import { loadModel, MODEL_ONNX, resolveModelDir, WEIGHTS_BIN } from '../run/model_io';
import { writeDirAtomic } from '../run/atomic';
import { RunDir } from '../run/run_dir';
import { exportOnnx } from './export';
import { type ExportConfig, resolveExportConfig } from './export_config';
import type { ActivationRanges } from './quantization_params';

/** Calibrates activation ranges: compress/quantize's `calibrate` has this shape. */
export type Calibrator = (model: tfl.LayersModel, source: ImageDataset,
  options: { images: number; method: ExportConfig['calibrationMethod']; seed?: number }) => Promise<ActivationRanges>;

export interface ExportResult {
  /** The directory written, and its ONNX file. */
  outDir: string;
  onnxFile: string;
  onnxBytes: number;
  /** The source model's weights.bin size (null when it has none, e.g. sparse storage). */
  tfjsWeightBytes: number | null;
  quantize: ExportConfig['quantize'];
  /** int8: how many images calibrated the ranges, and which. */
  calibration: { images: number; description: string; method: string } | null;
}

/**
 * Example: `await exportModel({ model: 'runs/x', quantize: 'int8' }, { calibrate })` → runs/x/model-onnx-int8/model.onnx.
 */
export async function exportModel(input: Partial<ExportConfig> & { model: string },
  options: { calibrate?: Calibrator; say?: (line: string) => void } = {}): Promise<ExportResult> {
  const config = resolveExportConfig(input);
  const say = options.say ?? (() => undefined);
  await startBackend(config.backend);
  const modelDir = resolveModelDir(config.model);
  const model = await loadModel(modelDir);
  try {
    const metadata = getInsightMetadata(model, modelDir);
    let int8: ActivationRanges | undefined;
    let calibration: ExportResult['calibration'] = null;
    const qat = config.quantize === 'int8' && config.data === null ? qatRangesOf(modelDir) : null;
    if (qat !== null) {
      // `insight compress --qat-epochs` trained this model with fake quantisation: its learned ranges are the ones.
      int8 = qat;
      calibration = { images: 0, description: 'quantisation-aware training (the run\'s report/compression.json)', method: 'qat' };
      say('int8 ranges from the run\'s quantisation-aware training (no calibration)');
    } else if (config.quantize === 'int8') {
      if (options.calibrate === undefined) throw ruleError('INSIGHT_E_CONFIG', 'An int8 export calibrates its ranges with a calibrator.', { quantize: config.quantize, calibrate: 'none' },
        'Call exportToOnnx (from @insight/insight) or pass { calibrate } from compress/quantize.');
      const { dataset, description } = await calibrationImages(config, modelDir, metadata);
      const images = Math.min(config.calibrationImages, dataset.count);
      say(`Calibrating int8 ranges (${config.calibrationMethod}) on ${images} images of ${description}`);
      int8 = await options.calibrate(model, dataset, { images, method: config.calibrationMethod, seed: 0 });
      calibration = { images, description, method: config.calibrationMethod };
    }
    const bytes = exportOnnx(model, { opset: config.opset, int8, metadata });
    const outDir = path.resolve(config.out ?? `${modelDir}-onnx${int8 ? '-int8' : ''}`);
    writeDirAtomic(outDir, { [MODEL_ONNX]: bytes });
    const weights = path.join(modelDir, WEIGHTS_BIN);
    const tfjsWeightBytes = fs.existsSync(weights) ? fs.statSync(weights).size : null;
    const onnxFile = path.join(outDir, MODEL_ONNX);
    say(`Wrote ${onnxFile}: ${formatBytes(bytes.length)} (${config.quantize === 'int8' ? 'int8 QDQ' : 'fp32'}, opset ${config.opset})` +
      (tfjsWeightBytes === null ? '' : `; the tfjs weights are ${formatBytes(tfjsWeightBytes)} (${(tfjsWeightBytes / bytes.length).toFixed(2)}x this file)`));
    return { outDir, onnxFile, onnxBytes: bytes.length, tfjsWeightBytes, quantize: config.quantize, calibration };
  } finally {
    model.dispose();
  }
}

/** '1.23 MB', '456.7 kB', '89 B'. */
function formatBytes(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** The activation ranges `insight compress --qat-epochs` stored for the model of its run, or null. */
function qatRangesOf(modelDir: string): ActivationRanges | null {
  const run = RunDir.ofModelDir(modelDir);
  if (run === null || path.resolve(run.modelDir) !== path.resolve(modelDir) || !fs.existsSync(run.compressionJson)) return null;
  const summary = JSON.parse(fs.readFileSync(run.compressionJson, 'utf8')) as { qat?: { ranges?: ActivationRanges } };
  return summary.qat?.ranges ?? null;
}

/** Calibration images: --data (all of it), else the run's training split (its data, limit, split and classes). */
async function calibrationImages(config: ExportConfig, modelDir: string, metadata: InsightModelMetadata): Promise<{ dataset: ImageDataset; description: string }> {
  const [height, width] = metadata.inputShape;
  if (config.data !== null) {
    const dataset = await loadDataset({ data: config.data, dataset: config.dataset, imageSize: height, imageWidth: width }, 'train', { minClasses: 1 });
    return { dataset, description: config.data };
  }
  const run = RunDir.ofModelDir(modelDir);
  if (run === null) {
    throw ruleError('INSIGHT_E_CONFIG', 'An int8 export calibrates on images: a run\'s training split, or --data for a bare model directory.',
      { model: config.model, quantize: config.quantize, data: null }, 'Pass --data <path> (a few hundred images like the training ones), or export the run directory.');
  }
  const saved = run.readConfig() as Record<string, unknown>;
  const source: DatasetSource = {
    data: typeof saved.data === 'string' ? saved.data : null,
    dataset: (saved.dataset as DatasetSource['dataset'] | undefined) ?? 'auto',
    imageSize: height, imageWidth: width,
  };
  const split = await loadRunSplit(source, runSplitSettings(saved), { minClasses: 1 });
  const dataset = selectedImages(split.train, runSelection(saved), 'train');
  return { dataset, description: `the run's ${split.trainDescription}` };
}
