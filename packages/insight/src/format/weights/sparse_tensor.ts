// One tensor's sparse encodings, the smallest picked per tensor (w: bytes per stored value, 4 for float32, 2 for
// float16, 1 for uint8 values — see sparse_values.ts):
//   dense:   every value                                                           w·n bytes
//   bitmask: a bit per value (1 = stored, LSB first), then the stored values       ceil(n / 8) + w·nnz
//   csr:     the tensor as [rows = n / last dim, cols = last dim]: row pointers (uint32, rows + 1), column indices
//            (uint8 when cols <= 256, uint16 when <= 65536, else uint32), then the values   4·(rows+1) + b·nnz + w·nnz
// A value is stored when its bits are not +0 (so -0 survives, and float32 decoding gives back every bit). Bitmask
// wins at moderate sparsity; CSR on very sparse tensors with few, long rows (a bit per value beats it otherwise).
import { concatArrays } from '../../math/concat_arrays';
import { storeValues, loadValues, VALUE_BYTES, type StoredValues, type ValueType } from './sparse_values';

export type SparseEncoding = 'dense' | 'bitmask' | 'csr';

export interface EncodedTensor {
  encoding: SparseEncoding;
  /** Values stored (nonzero, or -0; every value when dense). */
  nnz: number;
  bytes: Uint8Array;
  /** How the stored values are kept (uint8: with the min and scale to decode them). */
  values: StoredValues;
}

/** Bytes per CSR column index for `cols` columns. */
function indexBytes(cols: number): 1 | 2 | 4 {
  return cols <= 256 ? 1 : cols <= 65536 ? 2 : 4;
}

function stored(bits: Uint32Array, i: number): boolean {
  return bits[i] !== 0; // +0 has all bits 0; -0 is 0x80000000 and is stored
}

/** The bytes each encoding would take for `n` values, `nnz` stored, last dimension `cols`, `w` bytes a value. */
export function encodedSizes(n: number, nnz: number, cols: number, w = 4): Record<SparseEncoding, number> {
  const rows = cols === 0 ? 0 : n / cols;
  return { dense: w * n, bitmask: Math.ceil(n / 8) + w * nnz, csr: 4 * (rows + 1) + indexBytes(cols) * nnz + w * nnz };
}

/** Encodes float32 `values` of a tensor whose last dimension is `cols`, in its smallest encoding, values as `type`. */
export function encodeTensor(values: Float32Array, cols: number, type: ValueType = 'float32'): EncodedTensor {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  let nnz = 0;
  for (let i = 0; i < n; i++) if (stored(bits, i)) nnz++;
  const sizes = encodedSizes(n, nnz, cols, VALUE_BYTES[type]);
  const encoding = (['dense', 'bitmask', 'csr'] as const).reduce((best, e) => (sizes[e] < sizes[best] ? e : best), 'dense' as SparseEncoding);
  if (encoding === 'dense') {
    const { bytes, values: kept } = storeValues(values, type);
    return { encoding, nnz: n, bytes, values: kept };
  }
  const nonzero = new Float32Array(nnz);
  if (encoding === 'bitmask') {
    const mask = new Uint8Array(Math.ceil(n / 8));
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (!stored(bits, i)) continue;
      mask[i >> 3] |= 1 << (i & 7);
      nonzero[k++] = values[i];
    }
    const { bytes, values: kept } = storeValues(nonzero, type);
    return { encoding, nnz, bytes: concatArrays([mask, bytes], Uint8Array), values: kept };
  }
  const rows = n / cols;
  const rowPtr = new Uint32Array(rows + 1);
  const width = indexBytes(cols);
  const colIdx = width === 1 ? new Uint8Array(nnz) : width === 2 ? new Uint16Array(nnz) : new Uint32Array(nnz);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (!stored(bits, i)) continue;
      colIdx[k] = c;
      nonzero[k++] = values[i];
    }
    rowPtr[r + 1] = k;
  }
  const { bytes, values: kept } = storeValues(nonzero, type);
  return { encoding, nnz, bytes: concatArrays([new Uint8Array(rowPtr.buffer), new Uint8Array(colIdx.buffer), bytes], Uint8Array), values: kept };
}

/** Decodes one tensor's bytes back into its n float32 values (bit for bit for float32 values). */
export function decodeTensor(bytes: Uint8Array, encoding: SparseEncoding, n: number, nnz: number, cols: number, values: StoredValues = { type: 'float32' }): Float32Array {
  const copy = (offset: number, length: number) => new Uint8Array(bytes.subarray(offset, offset + length)); // aligned copy
  const w = VALUE_BYTES[values.type];
  if (encoding === 'dense') return loadValues(copy(0, w * n), n, values);
  const out = new Float32Array(n);
  if (encoding === 'bitmask') {
    const maskBytes = Math.ceil(n / 8);
    const stored = loadValues(copy(maskBytes, w * nnz), nnz, values);
    let k = 0;
    for (let i = 0; i < n; i++) if ((bytes[i >> 3] >> (i & 7)) & 1) out[i] = stored[k++];
    return out;
  }
  const rows = n / cols;
  const width = indexBytes(cols);
  const rowPtr = new Uint32Array(copy(0, 4 * (rows + 1)).buffer);
  const idxBuffer = copy(4 * (rows + 1), width * nnz).buffer;
  const colIdx = width === 1 ? new Uint8Array(idxBuffer) : width === 2 ? new Uint16Array(idxBuffer) : new Uint32Array(idxBuffer);
  const stored = loadValues(copy(4 * (rows + 1) + width * nnz, w * nnz), nnz, values);
  for (let r = 0; r < rows; r++) {
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) out[r * cols + colIdx[k]] = stored[k];
  }
  return out;
}
