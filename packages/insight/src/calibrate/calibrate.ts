// `calibrate(config)`: temperature scaling of a saved model. The validation images are chosen as evaluate chooses
// them (a run's own validation split by default: run/evaluation_split.ts), their logits computed at T = 1
// (calibrate/logits.ts), T fitted by minimising their NLL (calibrate/temperature.ts), and stored in the model's
// metadata (inference.temperature), which evaluate, predict and serve apply (models/inference_output.ts).
// Where it goes: in place by default — the temperature is metadata, model.json is replaced atomically and the weights
// are not touched, so `insight predict/serve runs/<id>` use it at once, and calibrating again refits from T = 1;
// with `out`, a calibrated copy (out/model, the source left as it was) for a model directory that must not change.
// The report (calibration.json, reliability diagrams before and after) goes to the run's calibration/ directory, to
// calibration/ inside a model directory outside a run, or to `out`.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { DataLoader } from '../data';
import { relabelByName } from '../data/dataset';
import { ruleError } from '../errors';
import { resolveInference } from '../models/inference_output';
import { getInsightMetadata } from '../models/metadata';
import { writeDirAtomic } from '../run/atomic';
import { startBackend } from '../run/backend_choice';
import { checkImageSize, selectEvaluationSplit } from '../run/evaluation_split';
import { loadModel, MODEL_JSON, resolveModelDir } from '../run/model_io';
import { CALIBRATED_MODEL_DIR, CALIBRATION_DIR, CALIBRATION_FILES, RunDir } from '../run/run_dir';
import { resolveCalibrateConfig, type CalibrateConfig } from './config';
import { calibrationOf, type Calibration } from './ece';
import { labelledLogits } from './logits';
import { reliabilityPng } from './reliability_png';
import { storeTemperature } from './store_temperature';
import { fitTemperature, temperatureSoftmax, type TemperatureFit } from './temperature';

/** The figures of one side (before: T = 1, after: the fitted T) of the calibration. */
export interface CalibrationSide {
  temperature: number;
  nll: number;
  calibration: Calibration;
}

export interface CalibrateResult {
  /** The model calibrated (its directory) and the directory now holding the temperature (the same, or out/model). */
  sourceModelDir: string;
  modelDir: string;
  /** Where calibration.json and the reliability diagrams were written. */
  reportDir: string;
  /** The images the temperature was fitted on, e.g. 'validation (last 5000 images)'. */
  split: string;
  /** The temperature the model carried before (1 when none). */
  previousTemperature: number;
  fit: TemperatureFit;
  before: CalibrationSide;
  after: CalibrationSide;
}

/**
 * Example: `const { fit, before, after } = await calibrate({ model: 'runs/x' })` — T in runs/x/model/model.json,
 * the report in runs/x/calibration/.
 */
export async function calibrate(input: Partial<CalibrateConfig> & { model: string }): Promise<CalibrateResult> {
  const config = resolveCalibrateConfig(input);
  await startBackend(config.backend);
  const sourceModelDir = resolveModelDir(config.model);
  if (config.out !== null) checkOut(config.out, sourceModelDir);
  const model = await loadModel(sourceModelDir);
  let measured: { split: string; previousTemperature: number; logits: Float32Array; labels: Int32Array; numClasses: number };
  try {
    const meta = getInsightMetadata(model, sourceModelDir);
    const settings = resolveInference(meta, sourceModelDir);
    const run = config.data === null ? RunDir.ofModelDir(sourceModelDir) : null;
    const selected = await selectEvaluationSplit(config, meta.inputShape, run);
    checkImageSize(selected.dataset, meta.inputShape);
    const dataset = relabelByName(selected.dataset, meta.classNames);
    const loader = new DataLoader(dataset, {
      batchSize: config.batchSize, shuffle: false, normalization: meta.normalization, workers: config.workers ?? undefined,
    });
    try {
      measured = { split: selected.description, previousTemperature: settings.temperature, ...await labelledLogits(model, loader, settings) };
    } finally {
      await loader.close();
    }
  } finally {
    model.dispose();
  }
  const { logits, labels, numClasses } = measured;
  const fit = fitTemperature(logits, labels, numClasses);
  const side = (temperature: number, nll: number): CalibrationSide =>
    ({ temperature, nll, calibration: calibrationOf(temperatureSoftmax(logits, numClasses, temperature), labels, numClasses, config.bins) });
  const before = side(1, fit.nllBefore);
  const after = side(fit.temperature, fit.nllAfter);

  const reportDir = config.out ?? reportDirOf(sourceModelDir);
  const result: CalibrateResult = {
    sourceModelDir, modelDir: config.out === null ? sourceModelDir : path.join(config.out, CALIBRATED_MODEL_DIR),
    reportDir, split: measured.split, previousTemperature: measured.previousTemperature, fit, before, after,
  };
  const [beforePng, afterPng] = await Promise.all([
    reliabilityPng(before.calibration, `${measured.split}, uncalibrated (T = 1)`),
    reliabilityPng(after.calibration, `${measured.split}, temperature ${fit.temperature.toFixed(3)}`),
  ]);
  // The report first (writeDirAtomic replaces the whole directory), then the model: in place, or out/model.
  writeDirAtomic(reportDir, {
    [CALIBRATION_FILES.summary]: `${JSON.stringify(calibrationSummary(result), null, 2)}\n`,
    [CALIBRATION_FILES.reliabilityBefore]: beforePng,
    [CALIBRATION_FILES.reliabilityAfter]: afterPng,
  });
  storeTemperature(sourceModelDir, fit.temperature, config.out === null ? null : result.modelDir);
  return result;
}

/**
 * --out is replaced as a whole: it must not hold (or be) the model, a run or another model directory, and an existing
 * one may hold only what calibrate writes there (an earlier calibrated copy), so no other file is deleted with it.
 */
function checkOut(out: string, modelDir: string): void {
  const inside = !path.relative(path.resolve(out), path.resolve(modelDir)).startsWith('..');
  if (inside || fs.existsSync(path.join(out, MODEL_JSON)) || RunDir.looksLikeRun(out)) {
    throw ruleError('INSIGHT_E_CONFIG', '--out is replaced by the calibrated copy and its report: it must be a new directory, not the model, a run or a directory holding them.',
      { out, model: modelDir }, 'Pass a new directory, e.g. --out calibrated/, or leave --out away to calibrate the model in place.');
  }
  if (!fs.existsSync(out)) return;
  const ours = new Set<string>([...Object.values(CALIBRATION_FILES), CALIBRATED_MODEL_DIR]);
  const other = fs.statSync(out).isDirectory() ? fs.readdirSync(out).find((name) => !ours.has(name)) : '(it is a file)';
  if (other !== undefined) {
    throw ruleError('INSIGHT_E_CONFIG', '--out is replaced as a whole by the calibrated copy and its report: an existing --out must be an empty directory or an earlier calibrated copy.',
      { out, holds: other }, 'Pass a new directory, e.g. --out calibrated/, or leave --out away to calibrate the model in place.');
  }
}

/** The report directory of an in-place calibration: the run's calibration/, else calibration/ in the model directory. */
function reportDirOf(modelDir: string): string {
  const run = RunDir.ofModelDir(modelDir);
  return run !== null && path.resolve(run.modelDir) === path.resolve(modelDir) ? run.calibrationDir : path.join(modelDir, CALIBRATION_DIR);
}

/** calibration.json: what was fitted on what, and the figures before and after. */
export function calibrationSummary(result: CalibrateResult): Record<string, unknown> {
  const figures = (s: CalibrationSide) => ({
    temperature: s.temperature, nll: s.nll, ece: s.calibration.ece, mce: s.calibration.mce,
    accuracy: s.calibration.accuracy, confidence: s.calibration.confidence, bins: s.calibration.bins,
  });
  return {
    model: result.sourceModelDir,
    calibratedModel: result.modelDir,
    split: result.split,
    images: result.before.calibration.count,
    temperature: result.fit.temperature,
    previousTemperature: result.previousTemperature,
    fit: { method: 'newton on 1/T (NLL convex in 1/T), bracketed', iterations: result.fit.iterations, atBound: result.fit.atBound },
    before: figures(result.before),
    after: figures(result.after),
  };
}
