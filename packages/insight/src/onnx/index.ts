// ONNX: our own writer (tfjs LayersModel → .onnx, fp32 or int8 QDQ), its metadata, and a small ONNX Runtime wrapper.
export { exportOnnx, ONNX_METADATA_KEY, OPSETS } from './export';
export type { ExportOnnxOptions } from './export';
export { readOnnxMetadata } from './metadata';
export { OnnxModel } from './runtime';
export type { OnnxLoadOptions } from './runtime';
export type { ActivationRanges, ValueRange } from './quantization_params';
export { SUPPORTED_LAYERS } from './layers';
