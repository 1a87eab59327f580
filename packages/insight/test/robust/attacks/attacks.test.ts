// The attacks' maths on a small convolutional network trained here for a few steps on synthetic 8x8 images (four
// classes told apart by colour and a bright quadrant): every attack stays within eps (L∞ and L2, in pixel units)
// and inside the [0, 1] box, raises the loss over the clean images, PGD beats FGSM, a seed repeats the random
// starts, restarts are never weaker than one run, APGD's checkpoints are the paper's, and bad specs are refused with
// the house message.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../../src/backend';
import type { Normalization } from '../../../src/data/normalize';
import { InsightError } from '../../../src/errors';
import { sparseCategoricalCrossentropy, sparseCategoricalCrossentropyPerExample } from '../../../src/models/loss';
import { apgdCheckpoints } from '../../../src/robust/attacks/apgd';
import { attack } from '../../../src/robust/attacks/attack';
import {
  channelAffine, epsilonPerChannel, perExampleL2, pixelPerturbation, projectL2, projectLinf, validBox,
} from '../../../src/robust/attacks/box';
import { inputGradient } from '../../../src/robust/attacks/input_gradient';
import { type AttackSpec, resolveAttackSpec } from '../../../src/robust/attacks/spec';
import { spyOnKernels } from '../../../../tfjs-backend-torch/test/kernel_spy';

const SIZE = 8;
const CLASSES = 4;
const N = 32;
const NORMALIZATION: Normalization = { kind: 'meanstd', mean: [0.45, 0.5, 0.4], std: [0.2, 0.3, 0.25] };
const EPS = 8 / 255;

let model: tfl.LayersModel;
let x: tf.Tensor4D; // [N, 8, 8, 3] normalized
let y: tf.Tensor1D;

/** Pixels in [0, 1]: class c has channel c % 3 raised and quadrant c bright, plus seeded noise. */
function syntheticPixels(n: number, seed: number): { pixels: tf.Tensor4D; labels: tf.Tensor1D } {
  return tf.tidy(() => {
    const labels = tf.tensor1d(Array.from({ length: n }, (_, i) => i % CLASSES), 'int32');
    const channel = tf.reshape(tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i % CLASSES) % 3), 'int32'), 3), [n, 1, 1, 3]);
    const quadrants = tf.tensor4d(Array.from({ length: CLASSES * SIZE * SIZE }, (_, i) => {
      const [c, r, col] = [Math.floor(i / (SIZE * SIZE)), Math.floor(i / SIZE) % SIZE, i % SIZE];
      return Math.floor(r / (SIZE / 2)) * 2 + Math.floor(col / (SIZE / 2)) === c ? 1 : 0;
    }), [CLASSES, SIZE, SIZE, 1]);
    const quadrant = tf.gather(quadrants, labels);
    const noise = tf.randomUniform([n, SIZE, SIZE, 3], 0, 1, 'float32', seed);
    const pixels = tf.clipByValue(tf.add(tf.add(tf.mul(noise, 0.8), tf.mul(channel, 0.1)), tf.mul(quadrant, 0.1)), 0, 1) as tf.Tensor4D;
    return { pixels, labels };
  });
}

function normalize(pixels: tf.Tensor4D): tf.Tensor4D {
  const { mean, std } = channelAffine(NORMALIZATION);
  return tf.tidy(() => tf.div(tf.sub(pixels, tf.tensor1d(mean)), tf.tensor1d(std)) as tf.Tensor4D);
}

function buildModel(): tfl.LayersModel {
  const seeded = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({ layers: [
    tfl.layers.conv2d({ inputShape: [SIZE, SIZE, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(1) }),
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: CLASSES, kernelInitializer: seeded(2) }),
  ] });
}

/** A few Adam steps on the training images: accurate on clean data, not robust. */
function fit(m: tfl.LayersModel, xs: tf.Tensor4D, ys: tf.Tensor1D, steps: number): void {
  const optimizer = tf.train.adam(0.01);
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => { optimizer.minimize(() => sparseCategoricalCrossentropy(ys, m.apply(xs, { training: true }) as tf.Tensor), false); });
  }
  optimizer.dispose();
}

function meanLoss(at: tf.Tensor4D): number {
  return tf.tidy(() => tf.mean(sparseCategoricalCrossentropyPerExample(y, model.apply(at, { training: false }) as tf.Tensor)).dataSync()[0]);
}

function fooledCount(at: tf.Tensor4D): number {
  return tf.tidy(() => tf.sum(tf.cast(tf.notEqual(tf.argMax(model.apply(at, { training: false }) as tf.Tensor, -1), y), 'int32')).dataSync()[0]);
}

/** Runs one attack and returns its result as an array (the tensor freed), checking no tensor leaked. */
function run(spec: AttackSpec, key = 0): { adv: tf.Tensor4D; leaked: number } {
  const before = tf.memory().numTensors;
  const adv = attack(model, x, y, spec, NORMALIZATION, key);
  return { adv, leaked: tf.memory().numTensors - before - 1 };
}

function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);
}

before(async () => {
  await initBackend();
  model = buildModel();
  const train = syntheticPixels(128, 7);
  const xs = normalize(train.pixels);
  fit(model, xs, train.labels, 30);
  tf.dispose([train.pixels, train.labels, xs]);
  const test = syntheticPixels(N, 11);
  x = normalize(test.pixels);
  y = test.labels;
  test.pixels.dispose();
});

describe('the attack geometry (box.ts)', () => {
  it('eps and the box in normalized units follow mean and std per channel', () => {
    assert.deepEqual(epsilonPerChannel(NORMALIZATION, 0.1).map((v) => +v.toFixed(6)), [0.5, 0.333333, 0.4]);
    const { low, high } = validBox(NORMALIZATION);
    assert.deepEqual(low.map((v) => +v.toFixed(6)), [-2.25, -1.666667, -1.6]);
    assert.deepEqual(high.map((v) => +v.toFixed(6)), [2.75, 1.666667, 2.4]);
    assert.deepEqual(validBox({ kind: 'scale' }), { low: [-0, -0, -0], high: [1, 1, 1] });
  });

  it('projections land in the ball (pixel units) and the box, and leave points inside alone', () => {
    const far = tf.add(x, tf.randomNormal(x.shape, 0, 2, 'float32', 3)) as tf.Tensor4D;
    const linf = projectLinf(far, x, EPS, NORMALIZATION);
    assert.ok(maxAbs(pixelPerturbation(linf, x, NORMALIZATION)) <= EPS * (1 + 1e-5));
    const l2 = projectL2(far, x, 0.5, NORMALIZATION);
    const norms = Array.from(perExampleL2(pixelPerturbation(l2, x, NORMALIZATION)).dataSync());
    assert.ok(norms.every((v) => v <= 0.5 * (1 + 1e-5)), `L2 norms ${Math.max(...norms)}`);
    assert.ok(norms.some((v) => v > 0.49), 'far points land on the sphere');
    for (const projected of [linf, l2]) assertInBox(projected);
    const inside = projectLinf(x, x, EPS, NORMALIZATION);
    assert.equal(maxAbs(tf.sub(inside, x)), 0);
    tf.dispose([far, linf, l2, inside]);
  });
});

describe('inputGradient', () => {
  it('is the gradient of each example\'s own loss (central differences) and returns the losses and logits', () => {
    const { gradient, losses, logits } = inputGradient(model, x, y, { training: false });
    assert.deepEqual(gradient.shape, x.shape);
    assert.deepEqual(losses.shape, [N]);
    assert.deepEqual(logits.shape, [N, CLASSES]);
    const g = gradient.arraySync();
    const h = 1e-2;
    for (const [i, r, c, ch] of [[0, 1, 2, 0], [5, 6, 3, 2], [9, 0, 7, 1]]) {
      const bump = (sign: number) => tf.tidy(() => {
        const delta = tf.buffer(x.shape);
        delta.set(sign * h, i, r, c, ch);
        return sparseCategoricalCrossentropyPerExample(y, model.apply(tf.add(x, delta.toTensor()), { training: false }) as tf.Tensor).dataSync()[i];
      });
      const numeric = (bump(1) - bump(-1)) / (2 * h);
      assert.ok(Math.abs(numeric - g[i][r][c][ch]) < 2e-3 + 0.05 * Math.abs(numeric), `example ${i}: ${numeric} vs ${g[i][r][c][ch]}`);
    }
    tf.dispose([gradient, losses, logits]);
  });

  it('computes no kernel gradient, in evaluation and in training mode (convolutions differentiable for their input only)', () => {
    for (const training of [false, true]) {
      const spy = spyOnKernels(['Conv2DBackpropFilter', 'Conv2DBackpropInput'], tf.getBackend());
      try {
        const { gradient, losses, logits } = inputGradient(model, x, y, { training });
        tf.dispose([gradient, losses, logits]);
      } finally {
        spy.restore();
      }
      assert.deepEqual([spy.ran.has('Conv2DBackpropFilter'), spy.ran.has('Conv2DBackpropInput')], [false, true], `training: ${training}`);
    }
  });

  it('a model that outputs probabilities (an ensemble) gets the same gradient as its logits', () => {
    const probabilities = tfl.sequential({ layers: [...model.layers, tfl.layers.softmax()] });
    const a = inputGradient(model, x, y, { training: false });
    const b = inputGradient(probabilities, x, y, { training: false, output: 'probabilities' });
    assert.ok(maxAbs(tf.sub(a.gradient, b.gradient)) <= 1e-4 * maxAbs(a.gradient));
    assert.ok(maxAbs(tf.sub(a.losses, b.losses)) <= 1e-4);
    tf.dispose([a.gradient, a.losses, a.logits, b.gradient, b.losses, b.logits]);
  });
});

function assertInBox(t: tf.Tensor4D): void {
  const { mean, std } = channelAffine(NORMALIZATION);
  const pixels = tf.tidy(() => tf.add(tf.mul(t, tf.tensor1d(std)), tf.tensor1d(mean)));
  const [low, high] = [tf.min(pixels).dataSync()[0], tf.max(pixels).dataSync()[0]];
  pixels.dispose();
  assert.ok(low >= -1e-6 && high <= 1 + 1e-6, `pixels in [${low}, ${high}]`);
}

describe('attack: every attack stays in the threat model and raises the loss', () => {
  const specs: AttackSpec[] = [
    { attack: 'fgsm', eps: EPS },
    { attack: 'pgd', eps: EPS, steps: 5 },
    { attack: 'apgd', eps: EPS, steps: 10 },
    { attack: 'fgsm', eps: 0.5, norm: 'l2' },
    { attack: 'pgd', eps: 0.5, norm: 'l2', steps: 5 },
    { attack: 'apgd', eps: 0.5, norm: 'l2', steps: 10 },
  ];
  for (const spec of specs) {
    it(`${spec.attack} ${spec.norm ?? 'linf'} eps=${spec.eps.toFixed(4)}`, () => {
      const { adv, leaked } = run(spec);
      assert.equal(leaked, 0, 'no tensor left behind');
      assert.deepEqual(adv.shape, x.shape);
      const delta = pixelPerturbation(adv, x, NORMALIZATION);
      if ((spec.norm ?? 'linf') === 'linf') {
        const largest = maxAbs(delta);
        assert.ok(largest <= spec.eps * (1 + 1e-5), `max |delta| ${largest}`);
        assert.ok(largest >= spec.eps * 0.99, 'the attack uses its budget');
      } else {
        const norms = Array.from(perExampleL2(delta).dataSync());
        assert.ok(norms.every((v) => v <= spec.eps * (1 + 1e-5)), `max L2 ${Math.max(...norms)}`);
      }
      assertInBox(adv);
      const [clean, attacked] = [meanLoss(x), meanLoss(adv)];
      assert.ok(attacked > clean * 1.2, `loss ${clean} → ${attacked}`);
      tf.dispose([adv, delta]);
    });
  }

  it('PGD-10 reaches a higher loss than FGSM on the trained model, and fools at least as many', () => {
    const f = run({ attack: 'fgsm', eps: EPS }).adv;
    const p = run({ attack: 'pgd', eps: EPS, steps: 10 }).adv;
    assert.ok(meanLoss(p) > meanLoss(f), `PGD ${meanLoss(p)} vs FGSM ${meanLoss(f)}`);
    assert.ok(fooledCount(p) >= fooledCount(f));
    assert.ok(fooledCount(x) <= N / 8, `the clean model is accurate (${fooledCount(x)} of ${N} wrong)`);
    assert.ok(fooledCount(p) >= fooledCount(x) + N / 8, `and not robust (${fooledCount(p)} wrong under PGD)`);
    tf.dispose([f, p]);
  });

  it('a seed repeats the random starts; another seed or batch key changes them; no random start is seed-free', () => {
    const spec: AttackSpec = { attack: 'pgd', eps: EPS, steps: 2, seed: 5 };
    const [a, b] = [run(spec).adv, run(spec).adv];
    assert.equal(maxAbs(tf.sub(a, b)), 0, 'same seed, same result');
    const c = run({ ...spec, seed: 6 }).adv;
    const d = run(spec, 1).adv;
    assert.ok(maxAbs(tf.sub(a, c)) > 0 && maxAbs(tf.sub(a, d)) > 0);
    const e = run({ attack: 'pgd', eps: EPS, steps: 2, randomStart: false, seed: 1 }).adv;
    const f = run({ attack: 'pgd', eps: EPS, steps: 2, randomStart: false, seed: 2 }).adv;
    assert.equal(maxAbs(tf.sub(e, f)), 0);
    for (const norm of ['l2', 'linf'] as const) {
      const spec2: AttackSpec = { attack: 'apgd', eps: norm === 'l2' ? 0.5 : EPS, norm, steps: 4, seed: 9 };
      const [g, h] = [run(spec2).adv, run(spec2).adv];
      assert.equal(maxAbs(tf.sub(g, h)), 0, `apgd ${norm} repeats`);
      tf.dispose([g, h]);
    }
    tf.dispose([a, b, c, d, e, f]);
  });

  it('restarts are never weaker than one run, per example (fooled stays fooled, else the loss does not drop)', () => {
    for (const name of ['pgd', 'apgd'] as const) {
      const spec: AttackSpec = { attack: name, eps: 2 / 255, steps: 3, seed: 3 };
      const one = run(spec).adv;
      const { adv: three, leaked } = run({ ...spec, restarts: 3 });
      assert.equal(leaked, 0);
      const score = (at: tf.Tensor4D) => tf.tidy(() => {
        const logits = model.apply(at, { training: false }) as tf.Tensor2D;
        const fooled = tf.notEqual(tf.argMax(logits, -1), y);
        return Array.from(tf.where(fooled, tf.fill([N], Infinity), sparseCategoricalCrossentropyPerExample(y, logits)).dataSync());
      });
      const [s1, s3] = [score(one), score(three)];
      s1.forEach((v, i) => assert.ok(s3[i] >= v - 1e-6, `${name} example ${i}: ${v} → ${s3[i]}`));
      tf.dispose([one, three]);
    }
  });
});

describe('APGD checkpoints and the spec', () => {
  it('checkpoints are ceil(p_j N) with p = 0.22, 0.41, 0.57, ... (Croce & Hein 2020)', () => {
    assert.deepEqual(apgdCheckpoints(100), [22, 41, 57, 70, 80, 87, 93, 99]);
    assert.deepEqual(apgdCheckpoints(10), [3, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(apgdCheckpoints(1), [1]);
  });

  it('fills in defaults: PGD alpha 2.5·eps/steps, random start, one restart, seed 0', () => {
    const pgd = resolveAttackSpec({ attack: 'pgd', eps: 8 / 255, steps: 20 });
    assert.equal(pgd.alpha, (2.5 * 8) / 255 / 20);
    assert.deepEqual([pgd.norm, pgd.randomStart, pgd.restarts, pgd.seed, pgd.training], ['linf', true, 1, 0, false]);
    assert.equal(resolveAttackSpec({ attack: 'fgsm', eps: 0.1 }).alpha, 0.1);
    assert.equal(resolveAttackSpec({ attack: 'apgd', eps: 0.1 }).alpha, 0.2);
    assert.equal(resolveAttackSpec({ attack: 'apgd', eps: 0.1 }).steps, 10);
  });

  it('bad specs are refused with the rule, the value and the fix', () => {
    const refused = (spec: unknown, message: string) => assert.throws(() => resolveAttackSpec(spec as AttackSpec),
      (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && e.message === message, message);
    refused({ attack: 'pgd', eps: -1 }, 'eps must be a number > 0 in pixel units (the [0, 1] scale). Received: eps=-1. Pass e.g. eps: 8/255 (= 0.03137).');
    refused({ attack: 'pgd', eps: '8/255' }, 'eps must be a number > 0 in pixel units (the [0, 1] scale). Received: eps="8/255". Pass e.g. eps: 8/255 (= 0.03137).');
    refused({ attack: 'cw', eps: 0.1 }, 'attack must be one of: fgsm, pgd, apgd. Received: attack="cw". Pass e.g. attack: \'pgd\'.');
    refused({ attack: 'pgd', eps: 0.1, norm: 'l1' }, 'norm must be one of: linf, l2. Received: norm="l1". Pass norm: \'linf\' or \'l2\'.');
    refused({ attack: 'pgd', eps: 8 }, 'An L-inf eps must be at most 1 (pixels are on the [0, 1] scale). Received: eps=8. Pass e.g. eps: 8/255.');
    refused({ attack: 'pgd', eps: 0.1, steps: 0 }, 'steps must be an integer >= 1. Received: steps=0. Pass e.g. steps: 10.');
    refused({ attack: 'pgd', eps: 0.1, restarts: 1.5 }, 'restarts must be an integer >= 1. Received: restarts=1.5. Pass e.g. restarts: 1.');
    refused({ attack: 'pgd', eps: 0.1, restarts: 3, randomStart: false }, 'Restarts differ only in their random starts: without one, every restart '
      + 'repeats the first. Received: restarts=3. Pass restarts: 1, or leave randomStart on.');
    refused({ attack: 'fgsm', eps: 0.1, steps: 5 }, 'fgsm is one step of size eps from x: it takes no steps. Received: steps=5. '
      + "Leave it out, or use attack 'pgd' (FGSM with a random start is pgd with steps 1 and alpha 1.25·eps).");
    refused({ attack: 'apgd', eps: 0.1, alpha: 0.01 }, 'apgd chooses its own step size (2·eps, halved when progress stalls): it takes no alpha. '
      + "Received: alpha=0.01. Leave alpha out, or use attack 'pgd' for a fixed step size.");
    refused({ attack: 'pgd', eps: 0.1, alpha: 0 }, 'alpha must be a number > 0 in pixel units (the [0, 1] scale). Received: alpha=0. Pass e.g. alpha: 8/255 (= 0.03137).');
    assert.throws(() => attack(model, x, y, { attack: 'pgd', eps: Number.NaN }, NORMALIZATION), /eps must be a number > 0/);
  });
});
