// `insight export` as a library call: onnx/export_model.ts's workflow (load, optionally calibrate int8 ranges, write
// model.onnx atomically) with compress/quantize's calibrator wired in — the onnx/ foundation cannot import it itself.
import { exportModel, type ExportResult } from '../onnx/export_model';
import type { ExportConfig } from '../onnx/export_config';
import { calibrate } from './quantize/calibrate';

/**
 * Exports a model directory or completed run to ONNX, fp32 or int8 (calibrated on the run's training split or `data`,
 * or with a QAT run's ranges). Example: `const { onnxFile } = await exportToOnnx({ model: 'runs/x', quantize: 'int8' })`.
 */
export function exportToOnnx(input: Partial<ExportConfig> & { model: string }, options: { say?: (line: string) => void } = {}): Promise<ExportResult> {
  return exportModel(input, { calibrate, say: options.say });
}
