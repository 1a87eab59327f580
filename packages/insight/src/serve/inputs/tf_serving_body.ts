// TensorFlow Serving's REST request bodies, as its API documents them, for a model with one input named
// "image" ([-1, H, W, C] float32, normalized as the model's metadata says):
//   :predict   {"signature_name"?, "instances": [inst, ...]}                  row format → "predictions"
//              {"signature_name"?, "inputs": [inst, ...] | {"image": [...]}} columnar   → "outputs"
//   :classify  {"signature_name"?, "context"?: {"image": v}, "examples": [{"image": v}, ...]}
// where inst is a value, or {"image": value}, and a value is a nested [H][W][C] list of numbers or an
// encoded image {"b64": "<base64 JPEG/PNG/WebP/GIF>"} (decoded and preprocessed with the model's own steps).
import { serveError, typeOf } from '../../errors';
import { decodeBase64 } from './base64';
import { DenseList } from './dense_json';
import { checkInstanceCount, type Instance } from './instances';
import { checkKeys, requireObject } from './json_checks';

export const INPUT_NAME = 'image';
/** Signatures every served model has: the output each returns. */
export const SIGNATURES = { serving_default: 'probabilities', logits: 'logits' } as const;
export type SignatureName = keyof typeof SIGNATURES;

export interface PredictRequest {
  signature: SignatureName;
  /** true: "instances" in, "predictions" out; false: "inputs" in, "outputs" out. */
  rowFormat: boolean;
  instances: Instance[];
}

export interface ClassifyRequest {
  signature: SignatureName;
  instances: Instance[];
}

/** Parses a :predict body. */
export function parsePredictBody(body: unknown, maxInstances: number): PredictRequest {
  const obj = requireObject(body, 'The body of :predict', '{"instances": [...]} (row format) or {"inputs": ...} (columnar format)');
  checkKeys(obj, ['signature_name', 'instances', 'inputs'], 'The body of :predict');
  const signature = parseSignature(obj.signature_name);
  const hasInstances = obj.instances !== undefined;
  if (hasInstances === (obj.inputs !== undefined)) {
    throw serveError('SERVE_E_BAD_INPUT', 'A :predict body must have exactly one of "instances" (row format) and "inputs" (columnar format).',
      { keys: Object.keys(obj) }, 'Send {"instances": [<image>, ...]}.');
  }
  if (hasInstances) return { signature, rowFormat: true, instances: parseList(obj.instances, 'instances', maxInstances) };
  let inputs = obj.inputs;
  if (inputs !== null && typeof inputs === 'object' && !Array.isArray(inputs) && !(inputs instanceof DenseList)) {
    checkKeys(inputs as Record<string, unknown>, [INPUT_NAME], '"inputs"');
    inputs = (inputs as Record<string, unknown>)[INPUT_NAME];
    if (inputs === undefined) {
      throw serveError('SERVE_E_BAD_INPUT', `Named "inputs" must include the model's input "${INPUT_NAME}".`, { inputs: Object.keys(obj.inputs as object) },
        `Send {"inputs": {"${INPUT_NAME}": [<image>, ...]}}.`);
    }
  }
  return { signature, rowFormat: false, instances: parseList(inputs, 'inputs', maxInstances) };
}

/** Parses a :classify body (tf.Example-style feature dicts with one feature, "image"). */
export function parseClassifyBody(body: unknown, maxInstances: number): ClassifyRequest {
  const obj = requireObject(body, 'The body of :classify', `{"examples": [{"${INPUT_NAME}": <image>}, ...]}`);
  checkKeys(obj, ['signature_name', 'context', 'examples'], 'The body of :classify');
  const signature = parseSignature(obj.signature_name);
  let context: Record<string, unknown> = {};
  if (obj.context !== undefined) {
    context = requireObject(obj.context, 'context', `{"${INPUT_NAME}": <image>}`);
    checkKeys(context, [INPUT_NAME], '"context"');
  }
  const examples = requireList(obj.examples, 'examples', maxInstances);
  const instances = examples.map((example, i) => {
    const features = { ...context, ...requireObject(example, `examples[${i}]`, `{"${INPUT_NAME}": <image>}`) };
    checkKeys(features, [INPUT_NAME], `examples[${i}]`);
    if (features[INPUT_NAME] === undefined) {
      throw serveError('SERVE_E_BAD_INPUT', `Every example (with "context") must have the feature "${INPUT_NAME}".`, { [`examples[${i}]`]: Object.keys(features) },
        `Send {"examples": [{"${INPUT_NAME}": {"b64": "..."}}]}.`);
    }
    return parseValue(features[INPUT_NAME], `examples[${i}].${INPUT_NAME}`);
  });
  return { signature, instances };
}

function parseList(value: unknown, name: string, maxInstances: number): Instance[] {
  return requireList(value, name, maxInstances).map((item, i) => {
    const where = `${name}[${i}]`;
    if (item !== null && typeof item === 'object' && !Array.isArray(item) && !(item instanceof DenseList) && !('b64' in item)) {
      const named = item as Record<string, unknown>;
      checkKeys(named, [INPUT_NAME], where);
      return parseValue(named[INPUT_NAME], `${where}.${INPUT_NAME}`);
    }
    return parseValue(item, where);
  });
}

/** One input value: {"b64": ...} → an image; anything else is checked as a dense [H][W][C] list later. */
function parseValue(value: unknown, where: string): Instance {
  if (value instanceof DenseList) return { kind: 'nested', value, dtype: 'float', where };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    checkKeys(value as Record<string, unknown>, ['b64'], where);
    return { kind: 'image', bytes: decodeBase64((value as { b64?: unknown }).b64, `${where}.b64`), where: `${where}.b64` };
  }
  if (!Array.isArray(value)) {
    throw serveError('SERVE_E_BAD_INPUT', 'An input value must be a nested list of numbers or {"b64": "<encoded image>"}.',
      { [where]: typeOf(value) }, 'Send e.g. {"instances": [{"b64": "/9j/4AAQ..."}]}.');
  }
  return { kind: 'nested', value, dtype: 'float', where };
}

function requireList(given: unknown, name: string, maxInstances: number): unknown[] {
  const value = given instanceof DenseList ? given.items() : given;
  if (!Array.isArray(value) || value.length === 0) {
    throw serveError('SERVE_E_BAD_INPUT', `"${name}" must be a non-empty list with one entry per image.`, { [name]: typeOf(value) },
      `Send "${name}": [<image>, ...].`);
  }
  checkInstanceCount(value.length, maxInstances, `${name}.length`);
  return value;
}

/** A request's signature_name: absent or '' → serving_default. */
export function parseSignature(value: unknown): SignatureName {
  if (value === undefined || value === '') return 'serving_default';
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(SIGNATURES, value)) return value as SignatureName;
  throw serveError('SERVE_E_BAD_INPUT', `signature_name must be one of: ${Object.keys(SIGNATURES).join(', ')}.`, { signature_name: value },
    'Omit it for serving_default (probabilities), or pass "logits".');
}
