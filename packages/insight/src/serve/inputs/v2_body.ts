// KServe v2 / Triton inference request bodies (JSON), for a model with one input "image":
//   {"id"?: "...", "inputs": [{"name": "image", "shape": [N, H, W, C], "datatype": "FP32" | "UINT8", "data": [...]}],
//    "outputs"?: [{"name": "probabilities" | "logits", "parameters"?: {"classification": k}}]}
// FP32 data is the model's normalized input; UINT8 data is raw RGB pixels, normalized here with the model's
// metadata. BYTES inputs (shape [N] or [N, 1]) carry base64-encoded image files, one per element.
// `data` may be flat (row-major) or nested to the shape. Shapes are checked against the model before any
// data is read, so a claimed shape cannot make the server allocate.
import { serveError, typeOf } from '../../errors';
import { decodeBase64 } from './base64';
import { readTensorData } from './dense';
import type { Instance } from './instances';
import { checkKeys as keys, requireObject as object } from './json_checks';
import { INPUT_NAME } from './tf_serving_body';

export const V2_OUTPUTS = ['probabilities', 'logits'] as const;
export type V2OutputName = (typeof V2_OUTPUTS)[number];

export interface V2OutputRequest {
  name: V2OutputName;
  /** Top-k classification strings "score:index:label" instead of the tensor (Triton's classification extension). */
  classification: number | null;
}

export interface V2InferRequest {
  id: string | null;
  instances: Instance[];
  outputs: V2OutputRequest[];
}

/** Parses an infer body for a model with input [-1, ...inputShape] and `numClasses` outputs. */
export function parseV2InferBody(body: unknown, inputShape: readonly number[], numClasses: number, maxInstances: number): V2InferRequest {
  const obj = object(body, 'The body of infer', '{"inputs": [{"name": "image", "shape": [1, H, W, 3], "datatype": "FP32", "data": [...]}]}');
  keys(obj, ['id', 'parameters', 'inputs', 'outputs'], 'The infer request');
  if (obj.id !== undefined && (typeof obj.id !== 'string' || obj.id.length > 256)) {
    throw serveError('SERVE_E_BAD_INPUT', '"id" must be a string of at most 256 characters.', { id: typeOf(obj.id) }, 'Send a short string id, or omit it.');
  }
  if (obj.parameters !== undefined) object(obj.parameters, 'parameters', '{}');
  if (!Array.isArray(obj.inputs) || obj.inputs.length !== 1) {
    throw serveError('SERVE_E_BAD_INPUT', `"inputs" must be a list with exactly one tensor, "${INPUT_NAME}".`, { inputs: typeOf(obj.inputs) },
      `Send "inputs": [{"name": "${INPUT_NAME}", "shape": [1, ${inputShape.join(', ')}], "datatype": "FP32", "data": [...]}].`);
  }
  return {
    id: (obj.id as string | undefined) ?? null,
    instances: parseInput(obj.inputs[0], inputShape, maxInstances),
    outputs: parseOutputs(obj.outputs, numClasses),
  };
}

function parseInput(value: unknown, inputShape: readonly number[], maxInstances: number): Instance[] {
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
  if (count > maxInstances) {
    throw serveError('SERVE_E_BAD_INPUT', `One request may carry at most --max-instances=${maxInstances} images.`, { 'shape[0]': count },
      'Split the images over several requests.');
  }
  switch (input.datatype) {
    case 'FP32':
    case 'UINT8': {
      const expected = [count, ...inputShape];
      if (JSON.stringify(shape) !== JSON.stringify(expected)) {
        throw serveError('SERVE_E_BAD_INPUT', `An ${input.datatype} input must have shape [N, ${inputShape.join(', ')}] (the model's input shape).`,
          { 'inputs[0].shape': shape }, `Send shape ${JSON.stringify(expected)}, or BYTES with encoded images to have them resized.`);
      }
      const dtype = input.datatype === 'FP32' ? 'float' : 'uint8';
      const data = readTensorData(input.data, expected, 'inputs[0]', dtype);
      const rowSize = data.length / count;
      return Array.from({ length: count }, (_, i) => ({ kind: 'flat' as const, values: data.subarray(i * rowSize, (i + 1) * rowSize), dtype }));
    }
    case 'BYTES': {
      if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
        throw serveError('SERVE_E_BAD_INPUT', 'A BYTES input (encoded images) must have shape [N] or [N, 1].', { 'inputs[0].shape': shape },
          'Send one base64-encoded image file per element.');
      }
      const data = Array.isArray(input.data) && input.data.length > 0 && Array.isArray(input.data[0]) ? (input.data as unknown[]).flat() : input.data;
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
      throw serveError('SERVE_E_BAD_INPUT', 'The input datatype must be FP32 (normalized), UINT8 (raw pixels) or BYTES (encoded images).',
        { 'inputs[0].datatype': input.datatype ?? null }, 'Set "datatype" to one of them.');
  }
}

function parseOutputs(value: unknown, numClasses: number): V2OutputRequest[] {
  if (value === undefined) return V2_OUTPUTS.map((name) => ({ name, classification: null }));
  if (!Array.isArray(value) || value.length === 0 || value.length > V2_OUTPUTS.length) {
    throw serveError('SERVE_E_BAD_INPUT', `"outputs" must be a non-empty list of requested outputs (${V2_OUTPUTS.join(', ')}).`, { outputs: typeOf(value) },
      'Omit it for all outputs, or send e.g. [{"name": "probabilities"}].');
  }
  return value.map((item, i) => {
    const out = object(item, `outputs[${i}]`, '{"name": "probabilities"}');
    keys(out, ['name', 'parameters'], `outputs[${i}]`);
    if (!(V2_OUTPUTS as readonly unknown[]).includes(out.name)) {
      throw serveError('SERVE_E_BAD_INPUT', `An output name must be one of: ${V2_OUTPUTS.join(', ')}.`, { [`outputs[${i}].name`]: out.name ?? null },
        'Fix the name (see GET /v2/models/<model>).');
    }
    let classification: number | null = null;
    if (out.parameters !== undefined) {
      const params = object(out.parameters, `outputs[${i}].parameters`, '{"classification": 3}');
      keys(params, ['classification', 'binary_data'], `outputs[${i}].parameters`);
      if (params.binary_data === true) {
        throw serveError('SERVE_E_BAD_INPUT', 'Binary tensor data is not supported; outputs are JSON.', { binary_data: true }, 'Omit binary_data.');
      }
      if (params.classification !== undefined) {
        const k = params.classification;
        if (!Number.isInteger(k) || (k as number) < 1 || (k as number) > numClasses) {
          throw serveError('SERVE_E_BAD_INPUT', `"classification" must be an integer in [1, ${numClasses}] (the number of top classes).`,
            { classification: k }, 'Send e.g. {"classification": 3}.');
        }
        classification = k as number;
      }
    }
    return { name: out.name as V2OutputName, classification };
  });
}
