// Storage of compressed models: sparse weights (bitmask or CSR per tensor, expanded by an IOHandler), tfjs's uint8 and
// float16 weight quantization, and the sizes of each format against dense float32.
export { decodeTensor, encodeTensor, encodedSizes, type EncodedTensor, type SparseEncoding } from '../../format/weights/sparse_tensor';
export { encodeSparseModelFiles, isSparseModelDir, sparseModelHandler } from './sparse_model';
export { decodeSparseArtifacts, type SparseManifest } from '../../run/sparse_weights';
export { float16Bits, fromFloat16, toFloat16 } from '../../format/weights/float16';
export { VALUE_BYTES, loadValues, storeValues, type StoredValues, type ValueType } from '../../format/weights/sparse_values';
export { quantizeArtifacts, quantizeUint8, type TfjsQuantization } from '../../format/weights/tfjs_quantization';
export { WEIGHT_FORMATS, encodeWeightFormat, modelArtifacts, weightSizes, writeModelAs, type WeightFormat, type WeightSizes } from './model_files';
