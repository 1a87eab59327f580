// Normalization values: [0, 1] scaling (the reference x / 255) and per-channel mean/std.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeImages } from '../../src/data';

describe('normalizeImages', () => {
  const bytes = new Uint8Array([0, 51, 255, 255, 128, 1]);

  it('scale: x / 255 rounded once to float32', () => {
    const out = normalizeImages(bytes, { kind: 'scale' });
    assert.deepEqual(Array.from(out), [0, 0.2, 1, 1, 128 / 255, 1 / 255].map(Math.fround));
    assert.ok(out.every((v) => v >= 0 && v <= 1));
  });

  it('meanstd: (x / 255 - mean) / std per channel of interleaved RGB', () => {
    const mean: [number, number, number] = [0.5, 0.25, 0];
    const std: [number, number, number] = [0.5, 0.25, 2];
    const out = normalizeImages(bytes, { kind: 'meanstd', mean, std });
    const expected = Array.from(bytes, (v, i) => Math.fround((v / 255 - mean[i % 3]) / std[i % 3]));
    assert.deepEqual(Array.from(out), expected);
    assert.equal(out[0], -1);
    assert.equal(out[3], 1);
  });

  it('writes into out when given', () => {
    const out = new Float32Array(6).fill(9);
    assert.equal(normalizeImages(bytes, { kind: 'scale' }, out), out);
    assert.equal(out[2], 1);
  });

  it('rejects bad inputs with the rule, the received value and the fix', () => {
    assert.throws(() => normalizeImages(bytes, { kind: 'meanstd', mean: [0, 0, 0], std: [1, 0, 1] }),
      /std > 0\. Received: mean=\[0,0,0\], std=\[1,0,1\]\. Pass values on the \[0, 1\] scale/);
    assert.throws(() => normalizeImages(bytes, { kind: 'zscore' } as never), /normalization\.kind must be 'scale' or 'meanstd'\. Received: kind="zscore"\./);
    assert.throws(() => normalizeImages(new Uint8Array(4), { kind: 'scale' }), /length a multiple of 3\)\. Received: images\.length=4\./);
    assert.throws(() => normalizeImages(bytes, { kind: 'scale' }, new Float32Array(3)), /out must have the same length as images\. Received: out\.length=3, images\.length=6\./);
  });
});
