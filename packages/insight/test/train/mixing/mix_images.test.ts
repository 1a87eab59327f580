// Mixup's and CutMix's images: the formula on hand-made tensors, timm's box arithmetic, exact pixel copies inside
// and outside the box, and the plan's λ (always the share of the image's own pixels, ≥ 0.5) against the box.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { boxMask, cutmixBox, cutmixImages, mixupImages, planMix, type MixingSettings } from '../../../src/train/mixing';

before(async () => {
  await initBackend();
});

/** n images of size x size x 3 with distinct values: value(i, r, c, k) = i·1000 + r·100 + c·10 + k (+ 0.25). */
function handMade(n: number, size: number): { x: tf.Tensor4D; values: Float32Array } {
  const values = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) for (let k = 0; k < 3; k++) values[((i * size + r) * size + c) * 3 + k] = i * 1000 + r * 100 + c * 10 + k + 0.25;
  }
  return { x: tf.tensor4d(values, [n, size, size, 3]), values };
}

const CUTMIX: MixingSettings = { mixup: 0, cutmix: 1, mixProb: 1, mixSwitchProb: 0.5 };

describe('Mixup images', () => {
  it('equal λ·x + (1-λ)·x[perm] element by element', () => {
    const { x, values } = handMade(3, 2);
    const partners = tf.tensor1d([2, 0, 1], 'int32');
    const mixed = mixupImages(x, partners, 0.7);
    assert.deepEqual(mixed.shape, [3, 2, 2, 3]);
    const out = mixed.dataSync();
    const per = 2 * 2 * 3;
    const perm = [2, 0, 1];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < per; j++) {
        const expected = 0.7 * values[i * per + j] + 0.3 * values[perm[i] * per + j];
        assert.ok(Math.abs(out[i * per + j] - expected) <= 1e-6 * Math.abs(expected), `image ${i} element ${j}: ${out[i * per + j]} vs ${expected}`);
      }
    }
    tf.dispose([x, partners, mixed]);
  });
});

describe('CutMix box', () => {
  it('has sides ⌊H·√(1-λ)⌋ centred on the pixel, clipped to the image (timm rand_bbox)', () => {
    assert.deepEqual(cutmixBox(0.75, 8, 8, 4, 4), { top: 2, left: 2, height: 4, width: 4 });
    assert.deepEqual(cutmixBox(0.75, 8, 8, 0, 7), { top: 0, left: 5, height: 2, width: 3 }, 'clipped at the top and right edges');
    assert.deepEqual(cutmixBox(0, 8, 6, 3, 2), { top: 0, left: 0, height: 7, width: 5 }, 'λ = 0: the whole side, less one row/column when centred off the middle');
    assert.deepEqual(cutmixBox(1, 8, 8, 5, 5), { top: 5, left: 5, height: 0, width: 0 }, 'λ = 1: an empty box');
  });

  it('boxMask is true exactly inside the box', () => {
    const mask = boxMask({ top: 1, left: 2, height: 2, width: 3 }, 4, 6);
    assert.deepEqual(mask.shape, [1, 4, 6, 1]);
    const bits = Array.from(mask.dataSync());
    const expected = Array.from({ length: 24 }, (_, p) => { const r = Math.floor(p / 6); const c = p % 6; return r >= 1 && r < 3 && c >= 2 && c < 5 ? 1 : 0; });
    assert.deepEqual(bits, expected);
    mask.dispose();
  });
});

describe('CutMix images', () => {
  it('copy the box from the partner and leave every pixel outside it unchanged (and the reverse for "own")', () => {
    const { x, values } = handMade(4, 6);
    const partners = tf.tensor1d([1, 2, 3, 0], 'int32');
    const box = { top: 1, left: 2, height: 3, width: 2 };
    const perm = [1, 2, 3, 0];
    for (const pasted of ['partner', 'own'] as const) {
      const mixed = cutmixImages(x, partners, box, pasted);
      const out = mixed.dataSync();
      for (let i = 0; i < 4; i++) {
        for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) for (let k = 0; k < 3; k++) {
          const inside = r >= 1 && r < 4 && c >= 2 && c < 4;
          const fromPartner = inside === (pasted === 'partner');
          const source = fromPartner ? perm[i] : i;
          const at = ((i * 6 + r) * 6 + c) * 3 + k;
          assert.equal(out[at], values[((source * 6 + r) * 6 + c) * 3 + k], `${pasted}: image ${i} pixel (${r}, ${c}, ${k})`);
        }
      }
      mixed.dispose();
    }
    tf.dispose([x, partners]);
  });

  it('the plan\'s λ is the share of each image\'s own pixels in the output, recomputed from the clipped box, and ≥ 0.5', () => {
    const size = 8;
    const { x, values } = handMade(5, size);
    const per = size * size * 3;
    let atEdge = 0;
    let own = 0;
    for (let step = 0; step < 40; step++) {
      const plan = planMix(CUTMIX, 5, size, size, { seed: 11, step, microBatch: 0, rank: 0 });
      assert.equal(plan.kind, 'cutmix');
      if (plan.kind !== 'cutmix') continue;
      assert.ok(plan.lambda >= 0.5 && plan.lambda <= 1, `λ ${plan.lambda}`);
      const boxShare = (plan.box.height * plan.box.width) / (size * size);
      assert.equal(plan.lambda, plan.pasted === 'partner' ? 1 - boxShare : boxShare);
      if (plan.pasted === 'own') own++;
      // Boxes at an edge (most of them clipped there) are among the draws.
      if (plan.box.top === 0 || plan.box.left === 0 || plan.box.top + plan.box.height === size || plan.box.left + plan.box.width === size) atEdge++;
      const partners = tf.tensor1d(Int32Array.from(plan.permutation), 'int32');
      const mixed = cutmixImages(x, partners, plan.box, plan.pasted);
      const out = mixed.dataSync();
      for (let i = 0; i < 5; i++) {
        if (plan.permutation[i] === i) continue;
        let mine = 0;
        for (let j = 0; j < per; j += 3) if (out[i * per + j] === values[i * per + j]) mine++;
        assert.equal(mine / (size * size), plan.lambda, `step ${step} image ${i}`);
      }
      tf.dispose([partners, mixed]);
    }
    assert.ok(atEdge > 0 && own > 0 && own < 40, `at an edge ${atEdge}, own-pasted ${own} of 40`);
    x.dispose();
  });
});
