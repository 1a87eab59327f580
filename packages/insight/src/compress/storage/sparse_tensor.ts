// One tensor's sparse encodings, the smallest picked per tensor:
//   dense:   the float32 values                                   4·n bytes
//   bitmask: a bit per value (1 = stored, LSB first), then the nonzero values       ceil(n / 8) + 4·nnz
//   csr:     the tensor as [rows = n / last dim, cols = last dim]: row pointers (uint32, rows + 1), column indices
//            (uint8 when cols <= 256, uint16 when <= 65536, else uint32), then the values   4·(rows+1) + b·nnz + 4·nnz
// A value is stored when its bits are not +0 (so -0 survives, and decoding gives back every bit). Bitmask wins at
// moderate sparsity; CSR wins on very sparse tensors with narrow rows (a 1 bit per value beats it otherwise).

export type SparseEncoding = 'dense' | 'bitmask' | 'csr';

export interface EncodedTensor {
  encoding: SparseEncoding;
  /** Values stored (nonzero, or -0). */
  nnz: number;
  bytes: Uint8Array;
}

/** Bytes per CSR column index for `cols` columns. */
function indexBytes(cols: number): 1 | 2 | 4 {
  return cols <= 256 ? 1 : cols <= 65536 ? 2 : 4;
}

function stored(bits: Uint32Array, i: number): boolean {
  return bits[i] !== 0; // +0 has all bits 0; -0 is 0x80000000 and is stored
}

/** The bytes each encoding would take for `n` values, `nnz` stored, last dimension `cols`. */
export function encodedSizes(n: number, nnz: number, cols: number): Record<SparseEncoding, number> {
  const rows = cols === 0 ? 0 : n / cols;
  return { dense: 4 * n, bitmask: Math.ceil(n / 8) + 4 * nnz, csr: 4 * (rows + 1) + indexBytes(cols) * nnz + 4 * nnz };
}

/** Encodes float32 `values` of a tensor whose last dimension is `cols`, in its smallest encoding. */
export function encodeTensor(values: Float32Array, cols: number): EncodedTensor {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  let nnz = 0;
  for (let i = 0; i < n; i++) if (stored(bits, i)) nnz++;
  const sizes = encodedSizes(n, nnz, cols);
  const encoding = (['dense', 'bitmask', 'csr'] as const).reduce((best, e) => (sizes[e] < sizes[best] ? e : best), 'dense' as SparseEncoding);
  const out = new Uint8Array(sizes[encoding]);
  if (encoding === 'dense') {
    out.set(new Uint8Array(values.buffer, values.byteOffset, 4 * n));
    return { encoding, nnz, bytes: out };
  }
  const nonzero = new Float32Array(nnz);
  if (encoding === 'bitmask') {
    const maskBytes = Math.ceil(n / 8);
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (!stored(bits, i)) continue;
      out[i >> 3] |= 1 << (i & 7);
      nonzero[k++] = values[i];
    }
    out.set(new Uint8Array(nonzero.buffer), maskBytes);
    return { encoding, nnz, bytes: out };
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
  out.set(new Uint8Array(rowPtr.buffer), 0);
  out.set(new Uint8Array(colIdx.buffer), 4 * (rows + 1));
  out.set(new Uint8Array(nonzero.buffer), 4 * (rows + 1) + width * nnz);
  return { encoding, nnz, bytes: out };
}

/** Decodes one tensor's bytes back into its n float32 values (bit for bit). */
export function decodeTensor(bytes: Uint8Array, encoding: SparseEncoding, n: number, nnz: number, cols: number): Float32Array {
  const copy = (offset: number, length: number) => new Uint8Array(bytes.subarray(offset, offset + length)).buffer; // aligned copy
  if (encoding === 'dense') return new Float32Array(copy(0, 4 * n));
  const out = new Float32Array(n);
  if (encoding === 'bitmask') {
    const maskBytes = Math.ceil(n / 8);
    const values = new Float32Array(copy(maskBytes, 4 * nnz));
    let k = 0;
    for (let i = 0; i < n; i++) if ((bytes[i >> 3] >> (i & 7)) & 1) out[i] = values[k++];
    return out;
  }
  const rows = n / cols;
  const width = indexBytes(cols);
  const rowPtr = new Uint32Array(copy(0, 4 * (rows + 1)));
  const idxBuffer = copy(4 * (rows + 1), width * nnz);
  const colIdx = width === 1 ? new Uint8Array(idxBuffer) : width === 2 ? new Uint16Array(idxBuffer) : new Uint32Array(idxBuffer);
  const values = new Float32Array(copy(4 * (rows + 1) + width * nnz, 4 * nnz));
  for (let r = 0; r < rows; r++) {
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) out[r * cols + colIdx[k]] = values[k];
  }
  return out;
}
