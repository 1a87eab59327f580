// int8 quantisation: calibration of activation ranges, post-training quantisation to an ONNX int8 graph evaluated
// in ONNX Runtime, and quantisation-aware training (fake-quant with a straight-through estimator).
export { calibrate, checkRangeOptions, type CalibrateOptions } from './calibrate';
export { CALIBRATION_METHODS, type CalibrationMethod, type RangeOptions } from './range_collector';
export { type CalibrationSource } from './calibration_source';
export { QUANTIZED_LAYER_CLASSES, quantizedPoints, type QuantizedPoint } from './quantized_points';
export { fakeQuantize, fakeQuantizePerChannel } from './fake_quant';
export { FakeQuantization, outputLayer, withFloatOutput, type FakeQuantOptions } from './fake_quant_model';
export { quantizationAwareTraining, type QatOptions, type QatResult } from './qat';
export { quantizeModel, evaluateOnnx, agreement, type QuantizeOptions, type QuantizedModel, type OnnxEvaluation } from './ptq';
