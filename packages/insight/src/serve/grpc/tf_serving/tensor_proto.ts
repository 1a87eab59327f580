// TensorFlow's TensorProto (tensorflow/core/framework/tensor.proto) in and out of Insight's serving path.
// In: the model's input "image" as one TensorProto, read into the instances every protocol shares (inputs/instances.ts):
//   DT_FLOAT  [N, H, W, C]  normalized floats: tensor_content (raw little-endian float32, row-major: one native copy,
//                           no per-element decoding) or float_val
//   DT_UINT8  [N, H, W, C]  raw RGB pixels in [0, 255], normalized with the model's metadata: tensor_content or int_val
//   DT_STRING [N] | [N, 1]  string_val: one encoded image file (JPEG, PNG, WebP, GIF) per element, decoded and
//                           resized as REST's {"b64": ...} images are
// Shapes are checked against the model before any value is read, so a claimed shape cannot make the server allocate.
// Out: a float32 [rows, cols] matrix as a DT_FLOAT TensorProto with tensor_content (a view of the values, not a copy).
import { serveError } from '../../../errors';
import { float32Bytes, toFloat32 } from '../../inputs/binary_tensors';
import { checkFinite, checkNumber } from '../../inputs/dense';
import { checkInstanceCount, type Instance } from '../../inputs/instances';

/** tensorflow.DataType names by number (types.proto, release 2.x); the reference types (101+) are never inputs. */
const DATA_TYPES = ['DT_INVALID', 'DT_FLOAT', 'DT_DOUBLE', 'DT_INT32', 'DT_UINT8', 'DT_INT16', 'DT_INT8', 'DT_STRING',
  'DT_COMPLEX64', 'DT_INT64', 'DT_BOOL', 'DT_QINT8', 'DT_QUINT8', 'DT_QINT32', 'DT_BFLOAT16', 'DT_QINT16', 'DT_QUINT16',
  'DT_UINT16', 'DT_COMPLEX128', 'DT_HALF', 'DT_RESOURCE', 'DT_VARIANT', 'DT_UINT32', 'DT_UINT64'];

/** The DT_FLOAT enum value, for answers. */
const DT_FLOAT = 1;

/** A TensorShapeProto as the loader decodes it (defaults on: every field present). */
interface TensorShapeMessage {
  dim: { size: number | string; name: string }[];
  unknown_rank: boolean;
}

/** The TensorProto fields Insight reads (the loader decodes the others too; they are ignored). */
export interface TensorProtoMessage {
  dtype: number | string;
  tensor_shape: TensorShapeMessage | null;
  tensor_content: Buffer;
  float_val: number[];
  int_val: number[];
  string_val: Buffer[];
}

/** A dtype as its name ('DT_FLOAT'), whether the loader gives enums as numbers or names. */
function dataTypeName(dtype: number | string): string {
  return typeof dtype === 'string' ? dtype : DATA_TYPES[dtype] ?? String(dtype);
}

/**
 * The instances a TensorProto carries for a model with input [H, W, C] (`inputShape`). `where` names the tensor in
 * messages, e.g. 'inputs["image"]'. Throws SERVE_E_BAD_INPUT (dtype, shape, value count, non-finite or out-of-range
 * values) in the house style.
 */
export function tensorInstances(tensor: TensorProtoMessage, inputShape: readonly number[], maxInstances: number, where: string): Instance[] {
  const dtype = dataTypeName(tensor.dtype);
  const shape = tensorShape(tensor.tensor_shape, where);
  switch (dtype) {
    case 'DT_FLOAT':
    case 'DT_UINT8':
      return denseInstances(tensor, dtype, shape, inputShape, maxInstances, where);
    case 'DT_STRING':
      return imageInstances(tensor, shape, maxInstances, where);
    default:
      throw serveError('SERVE_E_BAD_INPUT', `${where} must be DT_FLOAT (normalized values), DT_UINT8 (raw pixels) or DT_STRING (encoded images).`,
        { [`${where}.dtype`]: dtype }, `Send e.g. tf.make_tensor_proto(x, dtype=tf.float32) with x of shape [N, ${inputShape.join(', ')}].`);
  }
}

/** A DT_FLOAT [rows, cols] TensorProto of row-major `values`: raw little-endian bytes in tensor_content. */
export function floatTensor(values: Float32Array, rows: number, cols: number): object {
  const bytes = float32Bytes(values);
  return {
    dtype: DT_FLOAT,
    tensor_shape: { dim: [{ size: rows, name: '' }, { size: cols, name: '' }], unknown_rank: false },
    tensor_content: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}

/** The shape's sizes; a tensor without a known shape is refused (Insight does not guess the batch). */
function tensorShape(shape: TensorShapeMessage | null, where: string): number[] {
  if (shape === null || shape.unknown_rank) {
    throw serveError('SERVE_E_BAD_INPUT', `${where} must have a tensor_shape with its dimensions.`,
      { [`${where}.tensor_shape`]: shape === null ? null : 'unknown_rank' }, 'Set tensor_shape (tf.make_tensor_proto does it from the array).');
  }
  return shape.dim.map((d) => Number(d.size));
}

/** DT_FLOAT or DT_UINT8 [N, H, W, C] → one flat instance per image (uint8 ones are normalized at assembly). */
function denseInstances(tensor: TensorProtoMessage, dtype: 'DT_FLOAT' | 'DT_UINT8', shape: number[], inputShape: readonly number[],
  maxInstances: number, where: string): Instance[] {
  const count = shape[0];
  if (shape.length !== inputShape.length + 1 || !(Number.isInteger(count) && count > 0) || inputShape.some((d, i) => shape[i + 1] !== d)) {
    throw serveError('SERVE_E_BAD_INPUT', `A ${dtype} input must have shape [N, ${inputShape.join(', ')}] (the model's input shape).`,
      { [`${where}.tensor_shape`]: shape }, `Send shape [N, ${inputShape.join(', ')}] with N >= 1, or DT_STRING with encoded images to have them resized.`);
  }
  checkInstanceCount(count, maxInstances, `${where}.tensor_shape[0]`);
  const size = shape.reduce((a, b) => a * b, 1);
  const elementBytes = dtype === 'DT_FLOAT' ? 4 : 1;
  const kind = dtype === 'DT_FLOAT' ? 'float' : 'uint8';
  let data: Float32Array;
  if (tensor.tensor_content.length > 0) {
    if (tensor.tensor_content.length !== size * elementBytes) {
      throw serveError('SERVE_E_BAD_INPUT', `${where}.tensor_content must hold product(tensor_shape) x ${elementBytes} bytes (${dtype}, little-endian, row-major).`,
        { [`${where}.tensor_shape`]: shape, expectedBytes: size * elementBytes, tensor_content: tensor.tensor_content.length },
        'Send the array\'s raw bytes without padding (numpy: x.astype(np.float32).tobytes()), or the values in float_val.');
    }
    data = toFloat32(tensor.tensor_content, dtype === 'DT_FLOAT' ? 'FP32' : 'UINT8', size, where);
  } else {
    const field = dtype === 'DT_FLOAT' ? 'float_val' : 'int_val';
    const values = dtype === 'DT_FLOAT' ? tensor.float_val : tensor.int_val;
    if (values.length !== size) {
      throw serveError('SERVE_E_BAD_INPUT', `${where}.${field} must hold product(tensor_shape) values, row-major (or send tensor_content).`,
        { [`${where}.tensor_shape`]: shape, expected: size, [`${field}.length`]: values.length }, 'Make tensor_shape and the values agree.');
    }
    data = Float32Array.from(values);
    // int_val is int32 on the wire: pixels may be out of range (tensor_content bytes cannot be).
    if (kind === 'uint8') {
      for (let i = 0; i < size; i++) if (!(data[i] >= 0 && data[i] <= 255)) checkNumber(data[i], `${where}.int_val[${i}]`, 'uint8', dtype);
    }
  }
  if (kind === 'float') checkFinite(data, where, dtype);
  const rowSize = size / count;
  return Array.from({ length: count }, (_, i) => ({ kind: 'flat' as const, values: data.subarray(i * rowSize, (i + 1) * rowSize), dtype: kind }));
}

/** DT_STRING [N] or [N, 1] → one encoded image per element. */
function imageInstances(tensor: TensorProtoMessage, shape: number[], maxInstances: number, where: string): Instance[] {
  const count = shape[0];
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1)) || !(Number.isInteger(count) && count > 0)) {
    throw serveError('SERVE_E_BAD_INPUT', 'A DT_STRING input (encoded images) must have shape [N] or [N, 1].', { [`${where}.tensor_shape`]: shape },
      'Send one encoded image file (JPEG, PNG, WebP or GIF bytes) per element of string_val.');
  }
  checkInstanceCount(count, maxInstances, `${where}.tensor_shape[0]`);
  if (tensor.string_val.length !== count) {
    throw serveError('SERVE_E_BAD_INPUT', `${where}.string_val must have one encoded image per element of tensor_shape.`,
      { [`${where}.tensor_shape`]: shape, 'string_val.length': tensor.string_val.length }, 'Make tensor_shape [N] with N the number of images.');
  }
  return tensor.string_val.map((bytes, i) => ({ kind: 'image' as const, bytes, where: `${where}.string_val[${i}]` }));
}
