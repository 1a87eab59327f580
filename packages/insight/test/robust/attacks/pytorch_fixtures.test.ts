// Issue 14's correctness check for the attacks: FGSM and PGD (no random start, so deterministic; L∞ and L2) on a
// small network equal PyTorch's (autograd, float64, the normalization inside the model, the attack in pixel space)
// on the same weights and images. fixtures/make_fixtures.py writes the network's weights, the images, the labels and
// the reference adversarial pixels; the network is rebuilt here layer for layer (OIHW kernels arrive as HWIO;
// PyTorch flattens NHWC by permuting first, so Dense weights need no reorder), and our attack runs in normalized
// input space with the fixture's 'meanstd' normalization, its result mapped back to pixels for the comparison.
//
// Tolerance: max |ours − PyTorch| ≤ 1e-4 in pixel units (1/39 of a grey level). Images were drawn so that no
// ReLU, max-pool window or gradient sign lies within float32's reach of a kink, so the only error is rounding (~1e-6).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../../src/backend';
import type { Normalization } from '../../../src/data/normalize';
import { sparseCategoricalCrossentropyPerExample } from '../../../src/models/loss';
import { attack } from '../../../src/robust/attacks/attack';
import type { AttackSpec } from '../../../src/robust/attacks/spec';

const TOLERANCE = 1e-4;

interface Fixture {
  inputShape: [number, number, number];
  classes: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Layer name → tfjs weights in layer.weights order (kernels HWIO, dense [in, out]). */
  weights: Record<'conv1' | 'conv2' | 'logits', number[][]>;
  /** [n, H, W, 3] pixels in [0, 1], flat. */
  images: number[];
  labels: number[];
  attacks: { name: string; attack: 'fgsm' | 'pgd'; norm: 'linf' | 'l2'; eps: number; alpha?: number; steps?: number; adversarial: number[]; loss: number[] }[];
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'attacks.json'), 'utf8')) as Fixture;
const normalization: Normalization = { kind: 'meanstd', mean: fixture.mean, std: fixture.std };
const n = fixture.labels.length;
const [H, W] = fixture.inputShape;
let model: tfl.LayersModel;

function buildCnn(f: Fixture): tfl.LayersModel {
  const m = tfl.sequential({ layers: [
    tfl.layers.conv2d({ inputShape: f.inputShape, filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1' }),
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv2' }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: f.classes, name: 'logits' }),
  ] });
  for (const name of ['conv1', 'conv2', 'logits'] as const) {
    const layer = m.getLayer(name);
    layer.setWeights(layer.weights.map((w, i) => tf.tensor(f.weights[name][i], w.shape as number[])));
  }
  return m;
}

/** Pixels [n, H, W, 3] → the model's normalized input. */
function normalized(pixels: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(pixels, tf.tensor1d(fixture.mean)), tf.tensor1d(fixture.std)) as tf.Tensor4D);
}

before(async () => {
  await initBackend();
  model = buildCnn(fixture);
});

describe('attacks equal PyTorch on the same weights and images', () => {
  for (const reference of fixture.attacks) {
    it(`${reference.name}: adversarial pixels within ${TOLERANCE}, and the same losses`, () => {
      const pixels = tf.tensor4d(fixture.images, [n, H, W, 3]);
      const x = normalized(pixels);
      const y = tf.tensor1d(fixture.labels, 'int32');
      const spec: AttackSpec = { attack: reference.attack, eps: reference.eps, norm: reference.norm };
      if (reference.attack === 'pgd') Object.assign(spec, { steps: reference.steps, alpha: reference.alpha, randomStart: false });
      const adv = attack(model, x, y, spec, normalization);
      const ours = tf.tidy(() => tf.add(tf.mul(adv, tf.tensor1d(fixture.std)), tf.tensor1d(fixture.mean)));
      const expected = tf.tensor4d(reference.adversarial, [n, H, W, 3]);
      const error = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, expected))).dataSync()[0]);
      const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(expected, pixels))).dataSync()[0]);
      assert.ok(moved > 0.01, 'the reference attack moved the images');
      assert.ok(error <= TOLERANCE, `max |ours - PyTorch| = ${error}`);
      const losses = tf.tidy(() => Array.from(sparseCategoricalCrossentropyPerExample(y, model.apply(adv, { training: false }) as tf.Tensor).dataSync()));
      losses.forEach((loss, i) => assert.ok(Math.abs(loss - reference.loss[i]) <= 1e-3 * Math.max(1, reference.loss[i]), `image ${i}: loss ${loss} vs ${reference.loss[i]}`));
      tf.dispose([pixels, x, y, adv, ours, expected]);
    });
  }
});
