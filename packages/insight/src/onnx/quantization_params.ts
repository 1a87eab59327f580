// The seam between calibration (compress/quantize, which measures) and the ONNX writer (onnx/export, which
// writes int8 QDQ graphs): the value range of the model's input and of each layer's output, in float32 units.
// Keys of `layers` are tfjs layer names (`layer.name`); each range covers that layer's output tensor (after its
// fused activation). The writer turns a range into a per-tensor uint8 asymmetric scale and zero point.

/** A closed value range [min, max] of one tensor, in the tensor's own (float) units. */
export interface ValueRange {
  min: number;
  max: number;
}

/** Calibrated activation ranges: the model input's, and each tfjs layer's output's, by layer name. */
export interface ActivationRanges {
  input: ValueRange;
  layers: Record<string, ValueRange>;
}
