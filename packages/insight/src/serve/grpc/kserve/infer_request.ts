// A ModelInferRequest as the KServe v2 REST body that inputs/v2_body.ts parses, so both protocols share one set of
// validation rules and messages (names, datatypes, shapes against the served version, instance limits):
//   raw_input_contents[i] → the binary tensor extension's form: input i gets "parameters": {"binary_data_size": n}
//     and its bytes become the binary section (one Buffer; FP32 is decoded with a single copy, UINT8/INT32 pixels
//     are normalized with the model's metadata as over REST);
//   contents (typed) → "data": the repeated field of the input's datatype (fp32_contents for FP32, uint_contents for
//     UINT8, int_contents for INT32; bytes_contents (BYTES, encoded images) go the binary way, length-prefixed);
//   parameters maps → plain values (their set member), e.g. outputs' {"classification": 3}.
// `raw` tells the answer to send raw_output_contents (as Triton does when the request's inputs came raw).
import { serveError } from '../../../errors';
import { encodeBytesElements } from '../../inputs/binary_tensors';
import type { InferInputTensor, InferParameters, InferTensorContents, ModelInferRequest } from './messages';

/** The contents field each datatype's values travel in (FP16 has none: raw only). */
const CONTENTS_FIELD: Record<string, keyof InferTensorContents> = {
  BOOL: 'bool_contents', INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents', INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', UINT64: 'uint64_contents',
  FP32: 'fp32_contents', FP64: 'fp64_contents', BYTES: 'bytes_contents',
};

export interface V2Body {
  body: Record<string, unknown>;
  binary: Buffer | null;
  raw: boolean;
}

/** Parameters as plain values: each entry's set member (bool, int64 as a number, or string). */
function parameterValues(parameters: InferParameters | undefined): Record<string, unknown> | undefined {
  const entries = Object.entries(parameters ?? {});
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([name, p]) => [name, p.parameter_choice === undefined ? null : p[p.parameter_choice]]));
}

function hasContents(contents: InferTensorContents | null): contents is InferTensorContents {
  return contents !== null && Object.values(contents).some((values) => Array.isArray(values) && values.length > 0);
}

export function toV2Body(request: ModelInferRequest): V2Body {
  const raw = request.raw_input_contents;
  const typedAt = request.inputs.findIndex((input) => hasContents(input.contents));
  if (raw.length > 0 && typedAt >= 0) {
    throw serveError('SERVE_E_BAD_INPUT', 'A request carries its inputs either as raw_input_contents or as contents, not both.',
      { raw_input_contents: raw.length, [`inputs[${typedAt}].contents`]: 'set' }, 'Send every input raw (one raw_input_contents entry per input), or every input as contents.');
  }
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw serveError('SERVE_E_BAD_INPUT', 'raw_input_contents must have one entry per input, in the order of inputs.',
      { inputs: request.inputs.length, raw_input_contents: raw.length }, 'Send one raw_input_contents entry for each input.');
  }
  const chunks: Buffer[] = raw.length > 0 ? [...raw] : [];
  const inputs = request.inputs.map((input, i) => {
    const parameters = parameterValues(input.parameters) ?? {};
    const head = { name: input.name, datatype: input.datatype, shape: input.shape };
    if (raw.length > 0) return { ...head, parameters: { ...parameters, binary_data_size: raw[i].length } };
    const extra = Object.keys(parameters).length > 0 ? { parameters } : {};
    if (input.datatype === 'BYTES' && input.contents !== null && input.contents.bytes_contents.length > 0) {
      const bytes = encodeBytesElements(input.contents.bytes_contents);
      chunks.push(bytes);
      return { ...head, parameters: { ...parameters, binary_data_size: bytes.length } };
    }
    return { ...head, ...extra, data: typedData(input, i) };
  });
  const body: Record<string, unknown> = { inputs };
  if (request.id !== '') body.id = request.id;
  const parameters = parameterValues(request.parameters);
  if (parameters !== undefined) body.parameters = parameters;
  if (request.outputs.length > 0) {
    body.outputs = request.outputs.map((o) => {
      const values = parameterValues(o.parameters);
      return values === undefined ? { name: o.name } : { name: o.name, parameters: values };
    });
  }
  return { body, binary: chunks.length === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), raw: raw.length > 0 };
}

/** An input's typed values: the contents field of its datatype (flat, row-major). */
function typedData(input: InferInputTensor, i: number): unknown[] {
  const field = CONTENTS_FIELD[input.datatype];
  const contents = input.contents;
  if (field !== undefined && contents !== null && contents[field].length > 0) return contents[field];
  const used = contents === null ? [] : (Object.keys(contents) as (keyof InferTensorContents)[]).filter((k) => Array.isArray(contents[k]) && contents[k].length > 0);
  if (used.length > 0) {
    throw serveError('SERVE_E_BAD_INPUT', `A ${input.datatype || '(no datatype)'} input's values go in contents.${field ?? '<none: raw_input_contents only>'}.`,
      { [`inputs[${i}].datatype`]: input.datatype, [`inputs[${i}].contents`]: used.join(',') },
      field === undefined ? 'Send the tensor as raw_input_contents.' : `Move the values to contents.${field}, or send them as raw_input_contents.`);
  }
  // No values at all: v2_body.ts says what the shape needs.
  return [];
}
