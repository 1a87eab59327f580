// KServe v2 / Triton inference request bodies, for a model with one input "image":
//   {"id"?: "...", "parameters"?: {"binary_data_output"?: bool},
//    "inputs": [{"name": "image", "shape": [N, H, W, C], "datatype": "FP32" | "FP16" | "UINT8" | "INT32", "data": [...]}],
//    "outputs"?: [{"name": "probabilities" | "logits", "parameters"?: {"classification": k, "binary_data"?: bool}}]}
// FP32 and FP16 data are the model's normalized input; UINT8 and INT32 data are raw RGB pixels in [0, 255],
// normalized here with the model's metadata. BYTES inputs (shape [N] or [N, 1]) carry encoded image files, one per
// element (base64 in JSON). `data` may be flat (row-major) or nested to the shape. With the binary tensor extension
// (binary_tensors.ts) the input has "parameters": {"binary_data_size": n} instead of "data", and its n bytes follow
// the JSON. An output is named at most once (Triton refuses duplicates; so do we: 400). Shapes are checked against
// the model before any data is read, so a claimed shape cannot make the server allocate.
import { serveError, typeOf } from '../../errors';
import { decodeBase64 } from './base64';
import { BinaryChunks, decodeBytesElements, ELEMENT_BYTES, tensorByteSize, toFloat32 } from './binary_tensors';
import { checkFinite, checkNumber, readTensorData } from './dense';
import { plainValue } from './dense_json';
import { checkInstanceCount, type Instance } from './instances';
import { checkKeys as keys, requireObject as object } from './json_checks';
import { INPUT_NAME } from './tf_serving_body';

export const V2_OUTPUTS = ['probabilities', 'logits'] as const;
export type V2OutputName = (typeof V2_OUTPUTS)[number];

export interface V2OutputRequest {
  name: V2OutputName;
  /** Top-k classification strings "score:index:label" instead of the tensor (Triton's classification extension). */
  classification: number | null;
  /** Answer this output as binary tensor data (its "binary_data", else the request's "binary_data_output"). */
  binary: boolean;
}

export interface V2InferRequest {
  id: string | null;
  instances: Instance[];
  outputs: V2OutputRequest[];
}

/**
 * Parses an infer body for a model with input [-1, ...inputShape] and `numClasses` outputs. `binary` is the tensor
 * data after the JSON header of a binary body (binary_tensors.ts), null for a plain JSON body.
 */
export function parseV2InferBody(body: unknown, inputShape: readonly number[], numClasses: number, maxInstances: number,
  binary: Buffer | null = null): V2InferRequest {
  const obj = object(body, 'The body of infer', '{"inputs": [{"name": "image", "shape": [1, H, W, 3], "datatype": "FP32", "data": [...]}]}');
  keys(obj, ['id', 'parameters', 'inputs', 'outputs'], 'The infer request');
  if (obj.id !== undefined && (typeof obj.id !== 'string' || obj.id.length > 256)) {
    throw serveError('SERVE_E_BAD_INPUT', '"id" must be a string of at most 256 characters.', { id: typeOf(obj.id) }, 'Send a short string id, or omit it.');
  }
  const parameters = obj.parameters === undefined ? {} : object(obj.parameters, 'parameters', '{"binary_data_output": true}');
  const binaryOutput = optionalBoolean(parameters.binary_data_output, 'parameters.binary_data_output') ?? false;
  if (!Array.isArray(obj.inputs) || obj.inputs.length !== 1) {
    throw serveError('SERVE_E_BAD_INPUT', `"inputs" must be a list with exactly one tensor, "${INPUT_NAME}".`, { inputs: typeOf(obj.inputs) },
      `Send "inputs": [{"name": "${INPUT_NAME}", "shape": [1, ${inputShape.join(', ')}], "datatype": "FP32", "data": [...]}].`);
  }
  const chunks = binary === null ? null : new BinaryChunks(binary);
  const instances = parseInput(obj.inputs[0], inputShape, maxInstances, chunks);
  chunks?.finish();
  return {
    id: (obj.id as string | undefined) ?? null,
    instances,
    outputs: parseOutputs(obj.outputs, numClasses, binaryOutput),
  };
}

/** The datatypes the input takes: normalized floats, raw pixels, or encoded images. */
const FLOAT_INPUTS = ['FP32', 'FP16'];
const PIXEL_INPUTS = ['UINT8', 'INT32'];

function parseInput(value: unknown, inputShape: readonly number[], maxInstances: number, chunks: BinaryChunks | null): Instance[] {
  const input = object(value, 'inputs[0]', `{"name": "${INPUT_NAME}", "shape": [...], "datatype": "FP32", "data": [...]}`);
  keys(input, ['name', 'shape', 'datatype', 'data', 'parameters'], 'inputs[0]');
  if (input.name !== INPUT_NAME) {
    throw serveError('SERVE_E_BAD_INPUT', `The model's input is named "${INPUT_NAME}".`, { 'inputs[0].name': input.name ?? null }, `Set "name": "${INPUT_NAME}".`);
  }
  const shape = input.shape;
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw serveError('SERVE_E_BAD_INPUT', '"shape" must be a list of positive integers.', { 'inputs[0].shape': shape ?? null },
      `Send e.g. "shape": [1, ${inputShape.join(', ')}].`);
  }
  const count = shape[0] as number;
  checkInstanceCount(count, maxInstances, 'shape[0]');
  const binarySize = binaryDataSize(input.parameters, input.data !== undefined, chunks);
  const datatype = input.datatype;
  if (typeof datatype === 'string' && (FLOAT_INPUTS.includes(datatype) || PIXEL_INPUTS.includes(datatype))) {
    const expected = [count, ...inputShape];
    if (JSON.stringify(shape) !== JSON.stringify(expected)) {
      throw serveError('SERVE_E_BAD_INPUT', `An ${datatype} input must have shape [N, ${inputShape.join(', ')}] (the model's input shape).`,
        { 'inputs[0].shape': shape }, `Send shape ${JSON.stringify(expected)}, or BYTES with encoded images to have them resized.`);
    }
    const dtype = FLOAT_INPUTS.includes(datatype) ? 'float' : 'uint8';
    let data: Float32Array;
    if (binarySize === null) {
      data = readTensorData(input.data, expected, 'inputs[0]', dtype, datatype);
    } else {
      const fixed = datatype as 'FP32' | 'FP16' | 'UINT8' | 'INT32';
      const size = tensorByteSize(fixed, expected);
      if (binarySize !== size) {
        throw serveError('SERVE_E_BAD_INPUT', 'binary_data_size must be product(shape) x the datatype\'s element size.',
          { 'inputs[0].datatype': datatype, 'inputs[0].shape': shape, binary_data_size: binarySize, expected: size },
          'Send the tensor\'s raw little-endian bytes, row-major, without padding.');
      }
      data = toFloat32(chunks!.take(size, 'inputs[0]'), fixed, size / ELEMENT_BYTES[fixed], 'inputs[0]');
      // INT32 pixels may be out of range; UINT8 cannot be; FP32/FP16 bytes may encode NaN or ±Infinity, which JSON
      // cannot carry (a plain comparison per element, as JSON's parse does: the message is built only for the first bad one).
      if (datatype === 'INT32') {
        for (let i = 0; i < data.length; i++) if (data[i] < 0 || data[i] > 255) checkNumber(data[i], `inputs[0] element ${i}`, 'uint8', datatype);
      } else if (dtype === 'float') {
        checkFinite(data, 'inputs[0]', datatype);
      }
    }
    const rowSize = data.length / count;
    return Array.from({ length: count }, (_, i) => ({ kind: 'flat' as const, values: data.subarray(i * rowSize, (i + 1) * rowSize), dtype }));
  }
  switch (datatype) {
    case 'BYTES': {
      if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
        throw serveError('SERVE_E_BAD_INPUT', 'A BYTES input (encoded images) must have shape [N] or [N, 1].', { 'inputs[0].shape': shape },
          'Send one base64-encoded image file per element.');
      }
      if (binarySize !== null) {
        const files = decodeBytesElements(chunks!.take(binarySize, 'inputs[0]'), count, 'inputs[0]');
        return files.map((bytes, i) => ({ kind: 'image' as const, bytes, where: `inputs[0] element ${i}` }));
      }
      const given = plainValue(input.data);
      const data = Array.isArray(given) && given.length > 0 && Array.isArray(given[0]) ? (given as unknown[]).flat() : given;
      if (!Array.isArray(data) || data.length !== count) {
        throw serveError('SERVE_E_BAD_INPUT', 'A BYTES input must have one element per image (shape[0]).', { 'shape[0]': count, data: typeOf(data) },
          'Make shape and data agree.');
      }
      return data.map((item, i) => {
        const text = item !== null && typeof item === 'object' && 'b64' in item ? (item as { b64: unknown }).b64 : item;
        const where = `inputs[0].data[${i}]`;
        return { kind: 'image' as const, bytes: decodeBase64(text, where), where };
      });
    }
    default:
      throw serveError('SERVE_E_BAD_INPUT', 'The input datatype must be FP32 or FP16 (normalized), UINT8 or INT32 (raw pixels) or BYTES (encoded images).',
        { 'inputs[0].datatype': input.datatype ?? null }, 'Set "datatype" to one of them.');
  }
}

/** The input's parameters.binary_data_size (null: its data is in the JSON). */
function binaryDataSize(value: unknown, hasData: boolean, chunks: BinaryChunks | null): number | null {
  if (value === undefined) return null;
  const params = object(value, 'inputs[0].parameters', '{"binary_data_size": 1024}');
  keys(params, ['binary_data_size'], 'inputs[0].parameters');
  const size = params.binary_data_size;
  if (size === undefined) return null;
  if (!Number.isSafeInteger(size) || (size as number) < 0) {
    throw serveError('SERVE_E_BAD_INPUT', 'binary_data_size must be a non-negative integer (bytes).', { binary_data_size: typeOf(size) === 'number' ? size : typeOf(size) },
      'Set it to the byte length of the tensor data that follows the JSON header.');
  }
  if (chunks === null) {
    throw serveError('SERVE_E_BAD_INPUT', 'An input with binary_data_size needs a binary body: the JSON header, then the tensor bytes.',
      { 'inference-header-content-length': null }, 'Send the header Inference-Header-Content-Length: <bytes of the JSON> (Content-Type: application/octet-stream).');
  }
  if (hasData) {
    throw serveError('SERVE_E_BAD_INPUT', 'An input has either "data" (JSON) or binary_data_size (binary), not both.', { data: 'present', binary_data_size: size },
      'Drop "data" when the tensor comes as binary data.');
  }
  return size as number;
}

function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw serveError('SERVE_E_BAD_INPUT', `${name} must be true or false.`, { [name]: typeOf(value) === 'string' ? value : typeOf(value) }, `Send "${name.split('.').pop()}": true.`);
}

function parseOutputs(value: unknown, numClasses: number, binaryOutput: boolean): V2OutputRequest[] {
  if (value === undefined) return V2_OUTPUTS.map((name) => ({ name, classification: null, binary: binaryOutput }));
  // A longer list than the outputs repeats one: the walk below stops at the first repeat.
  if (!Array.isArray(value) || value.length === 0) {
    throw serveError('SERVE_E_BAD_INPUT', `"outputs" must be a non-empty list of requested outputs (${V2_OUTPUTS.join(', ')}).`, { outputs: typeOf(value) },
      'Omit it for all outputs, or send e.g. [{"name": "probabilities"}].');
  }
  const seen = new Set<unknown>();
  return value.map((item, i) => {
    const out = object(item, `outputs[${i}]`, '{"name": "probabilities"}');
    keys(out, ['name', 'parameters'], `outputs[${i}]`);
    if (!(V2_OUTPUTS as readonly unknown[]).includes(out.name)) {
      throw serveError('SERVE_E_BAD_INPUT', `An output name must be one of: ${V2_OUTPUTS.join(', ')}.`, { [`outputs[${i}].name`]: out.name ?? null },
        'Fix the name (see GET /v2/models/<model>).');
    }
    if (seen.has(out.name)) {
      throw serveError('SERVE_E_BAD_INPUT', 'Each output may be requested once.', { [`outputs[${i}].name`]: out.name },
        'Drop the repeated entry (one entry per output, with all its parameters).');
    }
    seen.add(out.name);
    let classification: number | null = null;
    let binary = binaryOutput;
    if (out.parameters !== undefined) {
      const params = object(out.parameters, `outputs[${i}].parameters`, '{"classification": 3}');
      keys(params, ['classification', 'binary_data'], `outputs[${i}].parameters`);
      binary = optionalBoolean(params.binary_data, `outputs[${i}].parameters.binary_data`) ?? binaryOutput;
      if (params.classification !== undefined) {
        const k = params.classification;
        if (!Number.isInteger(k) || (k as number) < 1 || (k as number) > numClasses) {
          throw serveError('SERVE_E_BAD_INPUT', `"classification" must be an integer in [1, ${numClasses}] (the number of top classes).`,
            { classification: k }, 'Send e.g. {"classification": 3}.');
        }
        classification = k as number;
      }
    }
    return { name: out.name as V2OutputName, classification, binary };
  });
}
