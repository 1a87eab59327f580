// The .npy reader and writer: byte-identical to what numpy 1.24's np.save writes (npy_fixture.json, made by
// make_npy_fixture.py), reads numpy's files (v1 and v2 headers), round-trips every dtype and shape, writes files
// atomically, and refuses what it cannot represent with house-style messages.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import { decodeNpy, encodeNpy, readNpy, type NpyArray } from '../../src/format/npy';

interface Case { name: string; dtype: 'float32' | 'int32' | 'uint8'; shape: number[]; values: number[]; version: string; npy: string }
interface Refused { name: string; npy: string; says: string }
const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, 'npy_fixture.json'), 'utf8')) as { cases: Case[]; refused: Refused[] };

const TYPED = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array } as const;
const arrayOf = (c: Case): NpyArray => ({ data: new TYPED[c.dtype](c.values), shape: c.shape });
const bytesOf = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));

describe('npy', () => {
  it('writes the bytes numpy writes (np.save, version 1.0), header padded to 64 bytes', () => {
    const v1 = FIXTURE.cases.filter((c) => c.version === '1.0');
    assert.equal(v1.length, 7);
    for (const c of v1) {
      const ours = encodeNpy(arrayOf(c));
      assert.deepEqual(Buffer.from(ours), Buffer.from(bytesOf(c.npy)), c.name);
      const headerLength = ours[8] | (ours[9] << 8);
      assert.equal((10 + headerLength) % 64, 0, `${c.name}: data starts at a multiple of 64`);
      assert.equal(ours[10 + headerLength - 1], 0x0a, `${c.name}: header ends with a newline`);
    }
  });

  it('reads numpy\'s files, version 1.0 and 2.0 headers, into the right typed array, shape and values', () => {
    assert.equal(FIXTURE.cases.length, 8);
    for (const c of FIXTURE.cases) {
      const { data, shape } = decodeNpy(bytesOf(c.npy), c.name);
      assert.ok(data instanceof TYPED[c.dtype], `${c.name}: ${data.constructor.name}`);
      assert.deepEqual(shape, c.shape, c.name);
      assert.deepEqual(Array.from(data), c.values, c.name);
    }
    const v2 = decodeNpy(bytesOf(FIXTURE.cases.find((c) => c.version === '2.0')!.npy));
    assert.deepEqual({ shape: v2.shape, values: Array.from(v2.data) }, { shape: [3, 2], values: [0, 1, 2, 3, 4, 5] });
  });

  it('round-trips every dtype, including views at odd offsets, empty arrays and scalars', () => {
    const backing = new Float32Array(13).map((_, i) => Math.fround(i * 0.37 - 2));
    const cases: NpyArray[] = [
      { data: backing.subarray(1, 13), shape: [3, 4] },
      { data: new Int32Array([-2147483648, 0, 2147483647]), shape: [3] },
      { data: new Uint8Array([0, 7, 255, 128, 1, 2]).subarray(1), shape: [5, 1] },
      { data: new Float32Array([Infinity, -0, NaN]), shape: [1, 3] },
      { data: new Int32Array(0), shape: [0, 5] },
      { data: new Uint8Array([42]), shape: [] },
    ];
    for (const array of cases) {
      const bytes = encodeNpy(array);
      // Decode from an unaligned copy: the reader must not depend on the buffer's offset.
      const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
      unaligned.set(bytes);
      const back = decodeNpy(unaligned);
      assert.equal(back.data.constructor, array.data.constructor);
      assert.deepEqual(back.shape, array.shape);
      assert.deepEqual(Array.from(back.data), Array.from(array.data));
    }
  });

  it('readNpy reads back a file of encodeNpy\'s bytes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-npy-'));
    const file = path.join(dir, 'x.npy');
    fs.writeFileSync(file, encodeNpy({ data: new Float32Array([1.5, -2.5]), shape: [2] }));
    const back = readNpy(file);
    assert.ok(back.data instanceof Float32Array);
    assert.deepEqual([Array.from(back.data), back.shape], [[1.5, -2.5], [2]]);
  });

  it('refuses other dtypes, Fortran order and broken files, saying what it received', () => {
    for (const r of FIXTURE.refused) {
      assert.throws(() => decodeNpy(bytesOf(r.npy), r.name), (error: InsightError) =>
        error.code === 'INSIGHT_E_DATA' && error.message.includes(r.says) && error.message.includes(`file="${r.name}"`), r.name);
    }
    const good = bytesOf(FIXTURE.cases[0].npy);
    assert.throws(() => decodeNpy(good.subarray(0, good.length - 4), 'cut.npy'),
      /An \.npy file must be NumPy format version 1 or 2 with a valid header\. Received: file="cut\.npy", problem="20 data bytes for shape \[2, 3\] of float32 \(24 expected\)"\. The file is truncated/);
    assert.throws(() => decodeNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])), /problem="no \\\\x93NUMPY magic"/);
    assert.throws(() => readNpy(path.join(os.tmpdir(), 'missing-insight.npy')), /An \.npy file must exist and be readable\./);
    assert.throws(() => encodeNpy({ data: new Float32Array(5), shape: [2, 3] }),
      /An \.npy array needs a shape of non-negative integers whose product is the number of values\. Received: shape=\[2,3\], values=5\./);
  });
});
