// Stores a fitted temperature in a model directory's metadata (model.json → userDefinedMetadata.insight.inference
// .temperature), where evaluate, predict and serve read it (models/inference_output.ts). Only model.json changes:
// in place it is replaced atomically (run/atomic.ts) and the weight files are not touched; a copy is a new model
// directory written atomically with the weight files copied byte for byte.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ruleError } from '../errors';
import type { InsightModelMetadata } from '../models/metadata';
import { TEMP_PREFIX, writeDirAtomic, writeFileAtomic } from '../run/atomic';
import { MODEL_JSON } from '../run/model_io';

/** model.json of `modelDir` with inference.temperature set to `temperature` (other settings kept), as text. */
export function modelJsonWithTemperature(modelDir: string, temperature: number): string {
  const file = path.join(modelDir, MODEL_JSON);
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { userDefinedMetadata?: { insight?: InsightModelMetadata } };
  const insight = json.userDefinedMetadata?.insight;
  if (insight === undefined || typeof insight !== 'object') {
    throw ruleError('INSIGHT_E_MODEL', 'A model must carry Insight metadata in model.json to store its temperature.', { model: modelDir },
      'Calibrate a model saved by Insight (runs/<run-id>/model).');
  }
  insight.inference = { ...(insight.inference ?? {}), temperature };
  return JSON.stringify(json);
}

/**
 * Sets the temperature of the model in `modelDir`: in place (`copyTo` null: model.json replaced atomically, weights
 * untouched), or in a new model directory `copyTo` (every file of `modelDir` copied, model.json with the temperature).
 * Returns the directory written.
 */
export function storeTemperature(modelDir: string, temperature: number, copyTo: string | null): string {
  const modelJson = modelJsonWithTemperature(modelDir, temperature);
  if (copyTo === null) {
    writeFileAtomic(path.join(modelDir, MODEL_JSON), modelJson);
    return modelDir;
  }
  if (path.resolve(copyTo) === path.resolve(modelDir)) {
    throw ruleError('INSIGHT_E_CONFIG', 'A calibrated copy must go to another directory than the model itself.', { out: copyTo },
      'Leave --out away to calibrate the model in place, or pass a new directory.');
  }
  const files: Record<string, string | Uint8Array> = {};
  for (const entry of fs.readdirSync(modelDir, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name.startsWith(TEMP_PREFIX)) continue; // the model's own files (weights, optimizer state ...)
    files[entry.name] = entry.name === MODEL_JSON ? modelJson : fs.readFileSync(path.join(modelDir, entry.name));
  }
  writeDirAtomic(copyTo, files);
  return copyTo;
}
