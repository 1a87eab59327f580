// The typed config of `insight export`, validated once like every command's (flags are generated from it).
import { Type, type Static } from '@sinclair/typebox';

import { FIELDS } from '../run/config_fields';
import { Nullable, OneOf, Text, validateConfig, withOptions } from '../run/config_schema';
import { OPSETS } from './opsets';

/** Calibration methods of compress/quantize's calibrate (spelled here: a foundation cannot import the feature). */
export const EXPORT_CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;

export const EXPORT_SCHEMA = Type.Object({
  model: Text({ noFlag: true, placeholder: '<run|model>', help: 'A model directory (with model.json) or a completed run directory.',
    missing: { rule: 'A model directory or run directory is required.', fix: 'Pass it as the first argument, e.g. runs/<run-id>.' } }),
  out: Nullable(Text(), { placeholder: '<dir>',
    help: 'The directory to write (model.onnx in it, written atomically). Default: beside the model directory, <model>-onnx (fp32) or <model>-onnx-int8.' }),
  quantize: OneOf(['none', 'int8'], { default: 'none', placeholder: '<kind>',
    help: 'none: fp32 weights and activations; int8: an int8 QDQ graph (weights per output channel, activations per tensor, calibrated; a run of insight compress --qat-epochs uses its trained ranges) that ONNX Runtime runs with integer kernels.' }),
  calibrationImages: Type.Integer({ default: 512, minimum: 1, placeholder: '<n>',
    help: 'int8: how many images calibrate the activation ranges (a seeded sample of the run\'s training images or of --data; at most all of them).' }),
  calibrationMethod: OneOf(EXPORT_CALIBRATION_METHODS, { default: 'minmax', placeholder: '<method>',
    help: 'int8: minmax (observed range), percentile (99.99% of the values) or entropy (TensorRT\'s KL-divergence threshold).' }),
  opset: Type.Integer({ default: OPSETS.default, minimum: OPSETS.min, maximum: OPSETS.max, placeholder: '<n>', help: 'ONNX opset of the graph (13 to 17).' }),
  data: withOptions(FIELDS.data, { help: 'int8: calibration images (as for train). Default: the run\'s training split.' }),
  dataset: withOptions(FIELDS.dataset, { help: 'How to read --data (as for train).' }),
  backend: withOptions(FIELDS.backend, { help: 'Compute backend for loading and calibrating the model (as for train).' }),
});

export type ExportConfig = Static<typeof EXPORT_SCHEMA>;

/** Validates an export config; `model` is required. */
export function resolveExportConfig(input: unknown): ExportConfig {
  return validateConfig(EXPORT_SCHEMA, input, 'export config');
}
