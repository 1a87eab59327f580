// Request bodies of the explanation routes: the images as the inference routes take them, plus the options of
// `explain` (explain/defaults.ts EXPLAIN_OPTIONS_SCHEMA, validated by that schema; `backend` is the server's own).
//   :explain  {"instances": [<image>, ...] | "inputs": ..., "methods"?: "gradcam,ig" | [...], "classes"?: ...,
//              "steps"?: 50, ..., "png"?: false}                       (TF Serving: options beside the instances)
//   explain   {"id"?, "inputs": [<one v2 input tensor, as infer>], "parameters"?: {"methods": ..., "png": true, ...}}
// "method" and "class" are accepted for one method or one class. Nothing is decoded here.
import { Type } from '@sinclair/typebox';

import { EXPLAIN_OPTIONS_SCHEMA, resolveExplainOptions, type ExplainOptions } from '../../explain/defaults';
import { InsightError, ServeError, serveError, typeOf } from '../../errors';
import { validateConfig, withOptions } from '../../run/config_schema';
import type { Instance } from './instances';
import { checkKeys, requireObject } from './json_checks';
import { parsePredictBody } from './tf_serving_body';
import { parseV2InferBody } from './v2_body';

const { backend: _backend, ...OPTION_FIELDS } = EXPLAIN_OPTIONS_SCHEMA.properties;

/** The explain options a request may set, named as JSON keys (noFlag: messages say `steps: 50`, not `--steps 50`). */
export const EXPLAIN_REQUEST_SCHEMA = Type.Object(Object.fromEntries(Object.entries(OPTION_FIELDS)
  .map(([key, field]) => [key, withOptions(field, { noFlag: true })])) as typeof OPTION_FIELDS);

/** Keys of the options, with the singular aliases and the server's own `png`. */
export const EXPLAIN_OPTION_KEYS: readonly string[] = [...Object.keys(OPTION_FIELDS), 'method', 'class', 'png'];

export interface ExplainRequestOptions {
  /** Methods, classes, every method option (defaults filled in) and whether to return attributions. */
  options: ExplainOptions;
  /** Also return each map as a base64 PNG overlay. */
  png: boolean;
}

export interface TfServingExplainRequest extends ExplainRequestOptions {
  instances: Instance[];
}

export interface V2ExplainRequest extends ExplainRequestOptions {
  id: string | null;
  instances: Instance[];
}

/** Parses a :explain body (the images as :predict takes them, the options beside them). */
export function parseTfServingExplainBody(body: unknown, maxInstances: number): TfServingExplainRequest {
  const obj = requireObject(body, 'The body of :explain', '{"instances": [{"b64": "..."}], "methods": "gradcam,ig"}');
  checkKeys(obj, ['instances', 'inputs', ...EXPLAIN_OPTION_KEYS], 'The body of :explain');
  const { instances, inputs, ...options } = obj;
  if ((instances === undefined) === (inputs === undefined)) {
    throw serveError('SERVE_E_BAD_INPUT', 'A :explain body must have exactly one of "instances" (row format) and "inputs" (columnar format).',
      { keys: Object.keys(obj) }, 'Send {"instances": [<image>, ...], "methods": "gradcam"}.');
  }
  const images = parsePredictBody(instances !== undefined ? { instances } : { inputs }, maxInstances);
  return { instances: images.instances, ...parseExplainOptions(options) };
}

/** Parses a v2 explain body for a model with input [-1, ...inputShape]: the input as infer takes it, options in "parameters". */
export function parseV2ExplainBody(body: unknown, inputShape: readonly number[], numClasses: number, maxInstances: number): V2ExplainRequest {
  const obj = requireObject(body, 'The body of explain', '{"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": ["<base64>"]}], "parameters": {"methods": "gradcam"}}');
  checkKeys(obj, ['id', 'inputs', 'parameters'], 'The explain request');
  const parameters = obj.parameters === undefined ? {} : requireObject(obj.parameters, 'parameters', '{"methods": "gradcam,ig", "png": true}');
  checkKeys(parameters, EXPLAIN_OPTION_KEYS, '"parameters"');
  const parsed = parseV2InferBody({ id: obj.id, inputs: obj.inputs }, inputShape, numClasses, maxInstances);
  return { id: parsed.id, instances: parsed.instances, ...parseExplainOptions(parameters) };
}

/**
 * The explain options of a request object (only option keys): validated by EXPLAIN_REQUEST_SCHEMA, `classes`
 * resolved as explain() resolves it (whether classes exist is checked against the model later). Library errors
 * become SERVE_E_BAD_INPUT with the same message.
 */
export function parseExplainOptions(input: Record<string, unknown>): ExplainRequestOptions {
  const { method, class: oneClass, png = false, ...rest } = input;
  for (const [alias, key] of [['method', 'methods'], ['class', 'classes']] as const) {
    if (input[alias] !== undefined && input[key] !== undefined) {
      throw serveError('SERVE_E_BAD_INPUT', `"${alias}" and "${key}" name the same option: send one of them.`, { [alias]: input[alias], [key]: input[key] },
        `Send e.g. "${key}": ${alias === 'method' ? '"gradcam,ig"' : '[3, 5]'}, or "${alias}": ${alias === 'method' ? '"gradcam"' : '3'}.`);
    }
  }
  if (typeof png !== 'boolean') {
    throw serveError('SERVE_E_BAD_INPUT', '"png" must be true or false.', { png: typeOf(png) }, 'Send "png": true for base64 PNG overlays.');
  }
  const { classes = oneClass, methods = method, ...fields } = rest;
  try {
    // A list of classes (or one index) is parsed by resolveExplainOptions; the schema field takes the string form.
    const validated = validateConfig(EXPLAIN_REQUEST_SCHEMA, { ...fields, methods, classes: typeof classes === 'string' ? classes : undefined }, 'request');
    const classList = classes === undefined || typeof classes === 'string' ? validated.classes : typeof classes === 'number' ? [classes] : classes;
    return { options: resolveExplainOptions({ ...validated, classes: classList }), png };
  } catch (error) {
    throw asBadInput(error);
  }
}

/** An INSIGHT_E_CONFIG from the explain library as the server's 400, with the same message; anything else unchanged. */
export function asBadInput(error: unknown): unknown {
  if (error instanceof InsightError && !(error instanceof ServeError) && error.code === 'INSIGHT_E_CONFIG') {
    return new ServeError('SERVE_E_BAD_INPUT', error.message, { cause: error });
  }
  return error;
}
