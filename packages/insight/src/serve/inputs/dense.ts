// Dense tensors in JSON: nested lists of numbers checked against the model's shape and copied into a
// Float32Array. The walk descends only as deep as the expected rank, so arbitrarily nested or huge input costs
// no more than one level past the first mismatch; every value must be a finite number (JSON has no NaN, but
// 1e400 parses as Infinity), and uint8 values must be integers in [0, 255].
import { serveError, typeOf } from '../../errors';
import { DenseList } from './dense_json';

export type DenseKind = 'float' | 'uint8';

/**
 * Copies `value`, a nested list of shape `shape` (e.g. [32, 32, 3]), into out[offset ...] row-major.
 * `where` names the value in errors, e.g. 'instances[2]'.
 * Example: fillNested([[1, 2], [3, 4]], [2, 2], out, 0, 'x', 'float') → out = [1, 2, 3, 4].
 */
export function fillNested(given: unknown, shape: readonly number[], out: Float32Array, offset: number, where: string, kind: DenseKind, datatype = 'UINT8'): void {
  if (given instanceof DenseList && sameShape(given.shape, shape)) {
    copyChecked(given.values, out, offset, (k) => where + indexPath(shape, k), kind, datatype);
    return;
  }
  // Nested arrays, or a DenseList of another shape: the walk names the first mismatch.
  const value = given instanceof DenseList ? given.toNested() : given;
  let o = offset;
  // The indices of the list being walked; a path such as 'x[3][7]' is spelled only for an error message.
  const at: number[] = [];
  const pathOf = (depth: number) => where + at.slice(0, depth).map((i) => `[${i}]`).join('');
  const walk = (v: unknown, dim: number): void => {
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw serveError('SERVE_E_BAD_INPUT', `${where} must be a nested list of shape [${shape.join(', ')}] (the model's input shape).`,
        { [pathOf(dim)]: typeOf(v), expectedLength: shape[dim], dimension: dim },
        'Send one value per pixel channel in height, width, channel order, or an encoded image as {"b64": "..."}.');
    }
    if (dim === shape.length - 1) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        // The common case without a call: a finite float (uint8 values are range-checked by checkNumber).
        if (kind === 'float' && typeof x === 'number' && x - x === 0) out[o++] = x;
        else out[o++] = checkNumber(x, `${pathOf(dim)}[${i}]`, kind, datatype);
      }
      return;
    }
    for (let i = 0; i < v.length; i++) {
      at[dim] = i;
      walk(v[i], dim + 1);
    }
  };
  walk(value, 0);
}

/**
 * A v2 tensor's `data`: either flat (row-major, length = product of shape) or nested to `shape`.
 * Returns the values as float32.
 */
export function readTensorData(given: unknown, shape: readonly number[], where: string, kind: DenseKind, datatype = 'UINT8'): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  if (given instanceof DenseList) {
    const flat = given.shape.length === 1 && given.length === size;
    if (flat || sameShape(given.shape, shape)) {
      copyChecked(given.values, out, 0, (k) => `${where}.data${flat ? `[${k}]` : indexPath(shape, k)}`, kind, datatype);
      return out;
    }
  }
  // Plain arrays, or a DenseList of another shape: the checks below name the mismatch.
  const data = given instanceof DenseList ? given.toNested() : given;
  if (!Array.isArray(data)) {
    throw serveError('SERVE_E_BAD_INPUT', `${where}.data must be a list of numbers (flat, row-major) or nested to the shape.`,
      { [`${where}.data`]: typeOf(data) }, `Send "data": [ ... ${size} numbers ... ].`);
  }
  if (data.length > 0 && Array.isArray(data[0])) {
    fillNested(data, shape, out, 0, `${where}.data`, kind, datatype);
    return out;
  }
  if (data.length !== size) {
    throw serveError('SERVE_E_BAD_INPUT', `${where}.data must hold exactly product(shape) values.`,
      { shape, expected: size, 'data.length': data.length }, 'Make shape and data agree (data is flattened row-major).');
  }
  for (let i = 0; i < size; i++) out[i] = checkNumber(data[i], `${where}.data[${i}]`, kind, datatype);
  return out;
}

/**
 * `data` when every value is finite; else SERVE_E_BAD_INPUT naming the first NaN or ±Infinity (binary floats can
 * carry them, JSON cannot). A plain comparison per element: the message is built only for the first bad one.
 */
export function checkFinite(data: Float32Array, where: string, datatype: string): Float32Array {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) checkNumber(data[i], `${where} element ${i}`, 'float', datatype);
  return data;
}

/** `x` as a finite number (an integer in [0, 255] for uint8 pixels; `datatype` names them in the message). */
export function checkNumber(x: unknown, path: string, kind: DenseKind, datatype = 'UINT8'): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw serveError('SERVE_E_BAD_INPUT', 'Every tensor value must be a finite number.',
      { [path]: typeof x === 'number' ? x : typeOf(x) }, 'Send numbers (not strings, null, nested lists or values beyond float range).');
  }
  if (kind === 'uint8' && !(Number.isInteger(x) && x >= 0 && x <= 255)) {
    throw serveError('SERVE_E_BAD_INPUT', `${datatype} tensor values must be integers in [0, 255].`, { [path]: x },
      'Send raw pixel values, or use datatype FP32 for already-normalized input.');
  }
  return x;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** '[i][j][k]': the indices of row-major element k of a tensor of `shape`. */
function indexPath(shape: readonly number[], k: number): string {
  const indices: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    indices.unshift(k % shape[d]);
    k = Math.floor(k / shape[d]);
  }
  return indices.map((i) => `[${i}]`).join('');
}

/** Copies already-parsed numbers into out[offset ...], with checkNumber's rules; `path(k)` names element k in errors. */
function copyChecked(values: Float64Array, out: Float32Array, offset: number, path: (k: number) => string, kind: DenseKind, datatype: string): void {
  for (let k = 0; k < values.length; k++) {
    const x = values[k];
    const valid = kind === 'float' ? x - x === 0 : Number.isInteger(x) && x >= 0 && x <= 255;
    out[offset + k] = valid ? x : checkNumber(x, path(k), kind, datatype);
  }
}
