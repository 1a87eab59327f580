// NumPy's .npy format, version 1.0 (numpy/lib/format.py; NEP 1): the 6-byte magic "\x93NUMPY", version bytes 1 0, a
// little-endian uint16 header length, then an ASCII Python dict literal
// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and ended by '\n' so that the data
// starts at a multiple of 64 bytes, then the values in C (row-major) order. We write the header byte for byte as
// numpy 1.24's np.save does (including its spare spaces for growing the first axis), and read any v1/v2 header numpy
// writes for the three dtypes we use: float32, int32 (little-endian) and uint8.
import * as fs from 'node:fs';
import * as os from 'node:os';

import { ruleError } from '../errors';

/** An n-d array: `data` holds prod(shape) values in C order. shape [] is a scalar (one value). */
export interface NpyArray {
  data: Float32Array | Int32Array | Uint8Array;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/** numpy >= 1.23 leaves room to rewrite the first axis's length with up to 21 digits in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

const DESCR = { float32: '<f4', int32: '<i4', uint8: '|u1' } as const;
type NpyDtype = keyof typeof DESCR;
/** descr → dtype: numpy writes '|u1' for bytes; '<u1' and '=' orders mean the same on a little-endian file. */
const DTYPE_OF: Record<string, NpyDtype> = { '<f4': 'float32', '<i4': 'int32', '|u1': 'uint8', '<u1': 'uint8' };

function dtypeOf(data: NpyArray['data']): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  return 'uint8';
}

/** Python's repr of a tuple of ints: (), (3,), (2, 3). */
function shapeRepr(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** The header as np.save writes it, padded so that magic + version + length + header is a multiple of 64. */
function headerText(dtype: NpyDtype, shape: number[]): string {
  let dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  return `${dict}${' '.repeat((ALIGN - (unpadded % ALIGN)) % ALIGN)}\n`;
}

/** Copies typed-array values into little-endian bytes (a copy either way: the result owns its buffer). */
function littleEndianBytes(data: NpyArray['data']): Uint8Array {
  const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  if (os.endianness() === 'BE' && data.BYTES_PER_ELEMENT === 4) Buffer.from(bytes.buffer).swap32();
  return bytes;
}

/**
 * The .npy bytes of `array` (v1.0, C order, little-endian).
 * Example: `encodeNpy({ data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] })` → what np.save writes for
 * `np.arange(1, 7, dtype='<f4').reshape(2, 3)`.
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  const { data, shape } = array;
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== data.length) {
    throw ruleError('INSIGHT_E_CONFIG', 'An .npy array needs a shape of non-negative integers whose product is the number of values.',
      { shape, values: data.length }, 'Pass the shape of the data, e.g. [rows, columns] with rows * columns = data.length.');
  }
  const header = headerText(dtypeOf(data), shape);
  const out = new Uint8Array(MAGIC.length + 4 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(littleEndianBytes(data), 10 + header.length);
  return out;
}

function malformed(source: string, problem: string, fix = 'Write the file with numpy.save or Insight\'s encodeNpy.'): Error {
  return ruleError('INSIGHT_E_DATA', 'An .npy file must be NumPy format version 1 or 2 with a valid header.', { file: source, problem }, fix);
}

/** The dtype, order and shape of a header dict literal (numpy's own output, or any equivalent spacing). */
function parseHeader(text: string, source: string): { dtype: NpyDtype; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw malformed(source, `header ${JSON.stringify(text.trim())}`);
  const dtype = DTYPE_OF[descr];
  if (dtype === undefined) {
    throw ruleError('INSIGHT_E_DATA', 'An .npy file must hold float32, int32 (little-endian) or uint8 values.', { file: source, descr },
      'Convert it first, e.g. np.save(path, array.astype(np.float32)).');
  }
  if (fortran === 'True') {
    throw ruleError('INSIGHT_E_DATA', 'An .npy file must be in C order (fortran_order False).', { file: source, fortran_order: true },
      'Save np.ascontiguousarray(array) instead.');
  }
  const parts = shapeText.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (!parts.every((p) => /^\d+$/.test(p))) throw malformed(source, `shape (${shapeText})`);
  return { dtype, shape: parts.map(Number) };
}

/** Reads .npy bytes. `source` names the file in errors. */
export function decodeNpy(bytes: Uint8Array, source = '<bytes>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw malformed(source, 'no \\x93NUMPY magic');
  const major = bytes[6];
  if (major !== 1 && major !== 2) throw malformed(source, `version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  const length = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (start + length > bytes.length) throw malformed(source, `header of ${length} bytes in a file of ${bytes.length}`);
  const { dtype, shape } = parseHeader(Buffer.from(bytes.subarray(start, start + length)).toString('latin1'), source);
  const count = shape.reduce((a, b) => a * b, 1);
  const width = dtype === 'uint8' ? 1 : 4;
  const offset = start + length;
  if (bytes.length - offset !== count * width) {
    throw malformed(source, `${bytes.length - offset} data bytes for shape [${shape.join(', ')}] of ${dtype} (${count * width} expected)`,
      'The file is truncated or was not written completely; write it again.');
  }
  // A copy into a fresh buffer: aligned for the typed array whatever the source's offset, and owned by the result.
  const values = new Uint8Array(bytes.subarray(offset));
  if (width === 4 && os.endianness() === 'BE') Buffer.from(values.buffer).swap32();
  const data = dtype === 'float32' ? new Float32Array(values.buffer) : dtype === 'int32' ? new Int32Array(values.buffer) : values;
  return { data, shape };
}

/** Reads an .npy file (float32, int32 or uint8). */
export function readNpy(file: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw ruleError('INSIGHT_E_DATA', 'An .npy file must exist and be readable.', { file, error: (error as Error).message },
      'Check the path.');
  }
  return decodeNpy(bytes, file);
}
