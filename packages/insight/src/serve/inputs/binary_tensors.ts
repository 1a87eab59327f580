// The binary tensor data extension of the KServe v2 / Open Inference Protocol (Triton's `binary_tensor_data`), both
// ways. A binary body is a JSON header followed by raw tensor bytes:
//   Inference-Header-Content-Length: <n>         (bytes of the JSON header; the rest of the body is tensor data)
//   <n bytes of JSON>{"inputs": [{..., "parameters": {"binary_data_size": 48}}, ...]}<48 bytes><next tensor's bytes>...
// Tensors appear in the order of the JSON's inputs (request) or outputs (response) that carry binary_data_size;
// their data is little-endian, row-major, unpadded; a BYTES element is a 4-byte little-endian length + its bytes.
// This module knows bytes only (no HTTP, no model): split a body, take each tensor's chunk, decode a chunk into a
// Float32Array (one native copy for FP32; FP16 through a 64 K table), and build a response body. decodeReference is
// the plain DataView decoder the fast paths are checked against (and used on a big-endian host).
//
//   const { json, binary } = splitBinaryBody(body, headerLength);     // JSON text + tensor bytes
//   const chunks = new BinaryChunks(binary);
//   const x = toFloat32(chunks.take(48, 'inputs[0]'), 'FP32', 12);   // Float32Array(12)
//   chunks.finish();                                                  // no bytes left over
//   const out = encodeBinaryBody({outputs: [...]}, [float32Bytes(probabilities)]);
import { endianness } from 'node:os';

import { serveError } from '../../errors';

/** The header that marks a binary body and gives its JSON part's length (lower case, as node reports headers). */
export const BINARY_HEADER = 'inference-header-content-length';

/** The fixed-size datatypes of the protocol and their bytes per element (BYTES is variable). */
export const ELEMENT_BYTES = {
  BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8,
} as const;
export type FixedDatatype = keyof typeof ELEMENT_BYTES;

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Bytes of a fixed-size tensor of `shape`: product(shape) * bytes per element. */
export function tensorByteSize(datatype: FixedDatatype, shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1) * ELEMENT_BYTES[datatype];
}

/**
 * Splits a binary body at its JSON header's length (the Inference-Header-Content-Length value, a decimal string).
 * Throws SERVE_E_BAD_INPUT when the header is not an integer in [0, body length].
 */
export function splitBinaryBody(body: Buffer, headerLength: string | number): { json: string; binary: Buffer } {
  const n = typeof headerLength === 'number' ? headerLength : /^\d{1,15}$/.test(headerLength.trim()) ? Number(headerLength.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > body.length) {
    throw serveError('SERVE_E_BAD_INPUT', 'Inference-Header-Content-Length must be the byte length of the JSON at the start of the body.',
      { 'inference-header-content-length': String(headerLength).slice(0, 32), bodyBytes: body.length },
      'Set it to the length of the JSON header in bytes (UTF-8); the tensor bytes follow it.');
  }
  return { json: body.subarray(0, n).toString('utf8'), binary: body.subarray(n) };
}

/** The binary section, handed out tensor by tensor in order; `finish` checks nothing is left over. */
export class BinaryChunks {
  private offset = 0;

  constructor(private readonly binary: Buffer) {}

  /** The next `size` bytes, for the tensor named `where` (e.g. 'inputs[0]'). A view, not a copy. */
  take(size: number, where: string): Buffer {
    if (this.offset + size > this.binary.length) {
      throw serveError('SERVE_E_BAD_INPUT', 'The binary tensor data must hold every binary_data_size the JSON header declares, in order.',
        { tensor: where, binary_data_size: size, bytesLeft: this.binary.length - this.offset },
        'Append each tensor\'s bytes after the JSON, in the order of its inputs, and check Inference-Header-Content-Length.');
    }
    const chunk = this.binary.subarray(this.offset, this.offset + size);
    this.offset += size;
    return chunk;
  }

  /** Throws when bytes remain after the last declared tensor. */
  finish(): void {
    if (this.offset !== this.binary.length) {
      throw serveError('SERVE_E_BAD_INPUT', 'The body must end where the last binary tensor ends.',
        { declaredBytes: this.offset, binaryBytes: this.binary.length },
        'Make the binary_data_size values add up to the bytes after the JSON header (Inference-Header-Content-Length).');
    }
  }
}

/** `bytes` copied into a fresh, aligned ArrayBuffer (typed-array views need their element alignment). */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}

let halfTable: Float32Array | null = null;

/** float16 bits → float32 value, for all 65536 patterns (subnormals, infinities and NaN included). */
function halfToFloatTable(): Float32Array {
  if (halfTable !== null) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  return halfTable;
}

/** One IEEE 754 half-precision value from its 16 bits (the reference the table is built from). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * A fixed-size tensor's bytes as float32 values (`count` elements, row-major), written into `out` (default: a new
 * array; pass e.g. a batch buffer's subarray to decode in place). FP32 is one copy; the integer types and FP64
 * convert natively (TypedArray.set); FP16 goes through a lookup table; INT64/UINT64 through BigInt arrays.
 * Throws SERVE_E_BAD_INPUT when the byte count does not match.
 */
export function toFloat32(bytes: Uint8Array, datatype: FixedDatatype, count: number, where = 'tensor', out = new Float32Array(count)): Float32Array {
  const expected = count * ELEMENT_BYTES[datatype];
  if (bytes.length !== expected) {
    throw serveError('SERVE_E_BAD_INPUT', 'A binary tensor must have product(shape) x the datatype\'s element size bytes.',
      { tensor: where, datatype, elements: count, expectedBytes: expected, binary_data_size: bytes.length },
      'Send the tensor\'s raw little-endian bytes without padding, with binary_data_size set to their length.');
  }
  if (out.length !== count) throw new RangeError(`toFloat32: out has ${out.length} elements, the tensor ${count}`);
  if (!LITTLE_ENDIAN_HOST) {
    out.set(decodeReference(bytes, datatype));
    return out;
  }
  switch (datatype) {
    case 'FP32':
      new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
      return out;
    case 'FP16': {
      const bits = new Uint16Array(aligned(bytes));
      const table = halfToFloatTable();
      for (let i = 0; i < count; i++) out[i] = table[bits[i]];
      return out;
    }
    case 'BOOL':
    case 'UINT8':
      out.set(bytes);
      return out;
    case 'INT8': out.set(new Int8Array(bytes.buffer, bytes.byteOffset, count)); return out;
    case 'UINT16': out.set(new Uint16Array(aligned(bytes))); return out;
    case 'INT16': out.set(new Int16Array(aligned(bytes))); return out;
    case 'UINT32': out.set(new Uint32Array(aligned(bytes))); return out;
    case 'INT32': out.set(new Int32Array(aligned(bytes))); return out;
    case 'FP64': out.set(new Float64Array(aligned(bytes))); return out;
    case 'INT64':
    case 'UINT64': {
      const big = datatype === 'INT64' ? new BigInt64Array(aligned(bytes)) : new BigUint64Array(aligned(bytes));
      for (let i = 0; i < count; i++) out[i] = Number(big[i]);
      return out;
    }
  }
}

/** The plain reference decoder: element by element through a DataView, little-endian. */
export function decodeReference(bytes: Uint8Array, datatype: FixedDatatype): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = ELEMENT_BYTES[datatype];
  const read: (offset: number) => number = {
    BOOL: (o: number) => view.getUint8(o), UINT8: (o: number) => view.getUint8(o), INT8: (o: number) => view.getInt8(o),
    UINT16: (o: number) => view.getUint16(o, true), INT16: (o: number) => view.getInt16(o, true), FP16: (o: number) => halfToFloat(view.getUint16(o, true)),
    UINT32: (o: number) => view.getUint32(o, true), INT32: (o: number) => view.getInt32(o, true), FP32: (o: number) => view.getFloat32(o, true),
    UINT64: (o: number) => Number(view.getBigUint64(o, true)), INT64: (o: number) => Number(view.getBigInt64(o, true)), FP64: (o: number) => view.getFloat64(o, true),
  }[datatype];
  return Array.from({ length: bytes.length / size }, (_, i) => read(i * size));
}

/** A BYTES tensor's elements (each a 4-byte little-endian length, then the bytes), as views. Expects `count` of them. */
export function decodeBytesElements(bytes: Buffer, count: number, where = 'tensor'): Buffer[] {
  const items: Buffer[] = [];
  let o = 0;
  while (o < bytes.length && items.length < count) {
    const length = o + 4 <= bytes.length ? bytes.readUInt32LE(o) : -1;
    if (length < 0 || o + 4 + length > bytes.length) break;
    items.push(bytes.subarray(o + 4, o + 4 + length));
    o += 4 + length;
  }
  if (items.length !== count || o !== bytes.length) {
    throw serveError('SERVE_E_BAD_INPUT', 'A binary BYTES tensor must be product(shape) elements, each a 4-byte little-endian length and that many bytes.',
      { tensor: where, expectedElements: count, elementsRead: items.length, bytesRead: o, binary_data_size: bytes.length },
      'Prefix every element with its length (uint32, little-endian) and make binary_data_size the total.');
  }
  return items;
}

/** BYTES elements (strings as UTF-8) in the binary form: length-prefixed, concatenated. */
export function encodeBytesElements(items: readonly (string | Uint8Array)[]): Buffer {
  const parts = items.flatMap((item) => {
    const data = typeof item === 'string' ? Buffer.from(item, 'utf8') : item;
    const length = Buffer.alloc(4);
    length.writeUInt32LE(data.length, 0);
    return [length, data];
  });
  return Buffer.concat(parts);
}

/** A float32 tensor's bytes, little-endian: a view of `values` on a little-endian host, a copy otherwise. */
export function float32Bytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

/** A binary body: the JSON header, then `chunks` in order. headerLength goes into Inference-Header-Content-Length. */
export function encodeBinaryBody(header: unknown, chunks: readonly Uint8Array[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return { body: Buffer.concat([json, ...chunks]), headerLength: json.length };
}
