// The gradient and perturbation methods on tiny seeded models: saliency against finite differences, Integrated
// Gradients' completeness, internal batching against one big batch, seeded noise tunnels, occlusion against the
// analytic map of a linear model, the baselines against plain references, tensor leaks and the option errors.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import type { Attribution, MethodOptions } from '../../src/explain/attribution';
import { blackImages, gaussianBlur, igBaseline, pixelRange, uniformNoiseImages } from '../../src/explain/baselines';
import { METHOD_DEFAULTS, resolveMethodOptions } from '../../src/explain/defaults';
import { METHODS, integratedGradients, occlusion, saliency, smoothGrad, smoothGradSquared, varGrad } from '../../src/explain/methods';
import { trapezoidRule } from '../../src/explain/methods/integrated_gradients';
import { patchCorners } from '../../src/explain/methods/occlusion';
import { EXPLAIN_METHODS } from '../../src/explain/method_names';
import { houseError } from './helpers';

const SIZE = 8;

/** image [b, 8, 8, 3] → conv3x3(4, tanh) → conv3x3(4, tanh) → flatten → dense(3) logits; smooth, so finite differences and the trapezoid rule converge. */
function tinyConv(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });
  return tfl.sequential({
    name: 'tiny_conv',
    layers: [
      tfl.layers.conv2d({ inputShape: [SIZE, SIZE, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: init(seed), name: 'c1' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: init(seed + 1), name: 'c2' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, kernelInitializer: init(seed + 2), biasInitializer: tfl.initializers.constant({ value: 0.1 }), name: 'logits' }),
    ],
  });
}

/** Deterministic inputs [n, 8, 8, 3] in [-1, 1). */
function images(n: number, seed = 1): tf.Tensor4D {
  return tf.randomUniform([n, SIZE, SIZE, 3], -1, 1, 'float32', seed) as tf.Tensor4D;
}

const options = (over: Partial<MethodOptions> = {}): MethodOptions => resolveMethodOptions(over);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function disposeAttribution(result: Attribution): void {
  tf.dispose([result.map, ...(result.attributions ? [result.attributions] : [])]);
}

let model: tfl.LayersModel;

before(async () => {
  await initBackend();
  model = tinyConv(7);
});

describe('saliency', () => {
  it('equals the central finite difference of the target logit, and maps max |gradient| over channels', async () => {
    const x = images(1, 3);
    const target = 2;
    const result = await saliency(model, x, Int32Array.of(target), options());
    assert.deepEqual(result.map.shape, [1, SIZE, SIZE]);
    assert.deepEqual(result.attributions?.shape, [1, SIZE, SIZE, 3]);
    // Every input value perturbed by ±eps, all 2 × 192 copies in one forward pass.
    const eps = 1e-2;
    const count = SIZE * SIZE * 3;
    const estimate = tf.tidy(() => {
      const bump = tf.reshape(tf.mul(tf.eye(count), eps), [count, SIZE, SIZE, 3]);
      const logit = (rows: tf.Tensor) => tf.gather(model.predict(rows) as tf.Tensor2D, [target], 1);
      return tf.div(tf.sub(logit(tf.add(x, bump)), logit(tf.sub(x, bump))), 2 * eps).dataSync();
    });
    const gradient = result.attributions?.dataSync() as Float32Array;
    const scale = Math.max(...Array.from(gradient, Math.abs));
    assert.ok(scale > 1e-3, `gradients should not vanish: ${scale}`);
    assert.ok(maxAbsDiff(gradient, estimate) < 2e-3 * scale + 1e-5, `finite difference off by ${maxAbsDiff(gradient, estimate)} (scale ${scale})`);
    const expectedMap = tf.tidy(() => tf.max(tf.abs(tf.tensor4d(gradient, [1, SIZE, SIZE, 3])), 3).dataSync());
    assert.ok(maxAbsDiff(result.map.dataSync(), expectedMap) === 0);
    disposeAttribution(result);
    x.dispose();
  });
});

describe('Integrated Gradients', () => {
  it('uses the trapezoid rule on steps points: alphas 0..1, weights 1/(steps-1) halved at both ends', () => {
    const { alphas, weights } = trapezoidRule(5);
    assert.deepEqual(Array.from(alphas), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(Array.from(weights), [0.125, 0.25, 0.25, 0.25, 0.125]);
  });

  it('is complete: Σ attributions ≈ logit(x) − logit(baseline), |delta| small against it, for each baseline', async () => {
    const x = images(2, 5);
    const targets = Int32Array.of(0, 1);
    const range = pixelRange({ kind: 'meanstd', mean: [0.5, 0.4, 0.3], std: [0.25, 0.25, 0.3] });
    for (const baseline of ['black', 'blurred', 'noise'] as const) {
      const result = await integratedGradients(model, x, targets, options({ steps: 64, baseline, ...range }));
      assert.deepEqual(result.map.shape, [2, SIZE, SIZE]);
      const delta = result.convergenceDelta as Float32Array;
      assert.equal(delta.length, 2);
      // f(x) − f(baseline) directly
      const base = igBaseline(x, options({ baseline, ...range }));
      const gap = tf.tidy(() => {
        const scores = (t: tf.Tensor4D) => tf.sum(tf.mul(model.predict(t) as tf.Tensor2D, tf.oneHot(tf.tensor1d(targets, 'int32'), 3)), 1);
        return tf.sub(scores(x), scores(base)).dataSync();
      });
      base.dispose();
      const totals = tf.tidy(() => tf.sum(result.attributions as tf.Tensor4D, [1, 2, 3]).dataSync());
      const mapTotals = tf.tidy(() => tf.sum(result.map, [1, 2]).dataSync());
      for (let i = 0; i < 2; i++) {
        assert.ok(Math.abs(gap[i]) > 0.05, `${baseline}: the logit must move along the path (${gap[i]})`);
        assert.ok(Math.abs(delta[i]) < 1e-3 * Math.abs(gap[i]), `${baseline} image ${i}: delta ${delta[i]} vs f(x) - f(x') ${gap[i]}`);
        assert.ok(Math.abs(totals[i] - delta[i] - gap[i]) < 1e-4, 'delta = Σ attributions − (f(x) − f(baseline))');
        assert.ok(Math.abs(mapTotals[i] - totals[i]) < 1e-4, 'map = signed sum over channels');
      }
      disposeAttribution(result);
    }
    x.dispose();
  });

  it('gives the same map with internal batches of 7 rows as with one batch of all rows (within 1e-5)', async () => {
    const x = images(3, 9);
    const targets = Int32Array.of(2, 0, 1);
    const small = await integratedGradients(model, x, targets, options({ steps: 10, internalBatchSize: 7 }));
    const large = await integratedGradients(model, x, targets, options({ steps: 10, internalBatchSize: 1000 }));
    assert.ok(maxAbsDiff(small.map.dataSync(), large.map.dataSync()) < 1e-5);
    assert.ok(maxAbsDiff(small.convergenceDelta as Float32Array, large.convergenceDelta as Float32Array) < 1e-5);
    [small, large].forEach(disposeAttribution);
    x.dispose();
  });
});

describe('noise tunnels', () => {
  it('the same seed reproduces the maps bit for bit; another seed changes them; batching and batch-mates do not', async () => {
    const x = images(2, 11);
    const targets = Int32Array.of(1, 2);
    const run = async (over: Partial<MethodOptions>, input = x, t = targets) => {
      const result = await smoothGrad(model, input, t, options({ samples: 6, noiseLevel: 0.2, ...over }));
      const map = Float32Array.from(result.map.dataSync());
      disposeAttribution(result);
      return map;
    };
    const first = await run({ seed: 4 });
    assert.deepEqual(await run({ seed: 4 }), first);
    assert.ok(maxAbsDiff(await run({ seed: 5 }), first) > 1e-4, 'another seed, other noise');
    assert.ok(maxAbsDiff(await run({ seed: 4, internalBatchSize: 5 }), first) < 1e-5, 'chunks of 5 rows (spanning images)');
    const second = tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]);
    assert.ok(maxAbsDiff(await run({ seed: 4 }, second, Int32Array.of(2)), first.subarray(SIZE * SIZE)) < 1e-5, 'alone = in a batch');
    tf.dispose([x, second]);
  });

  it('with noiseLevel 0, SmoothGrad is saliency, SmoothGrad² its square and VarGrad 0', async () => {
    const x = images(2, 13);
    const targets = Int32Array.of(0, 2);
    const plain = await saliency(model, x, targets, options());
    const gradient = plain.map.dataSync();
    const quiet = options({ noiseLevel: 0, samples: 3 });
    const sg = await smoothGrad(model, x, targets, quiet);
    const sg2 = await smoothGradSquared(model, x, targets, quiet);
    const vg = await varGrad(model, x, targets, quiet);
    assert.ok(maxAbsDiff(sg.map.dataSync(), gradient) < 1e-6);
    assert.ok(maxAbsDiff(sg2.map.dataSync(), Array.from(gradient, (g) => g * g)) < 1e-6);
    assert.ok(Math.max(...vg.map.dataSync()) < 1e-6);
    [plain, sg, sg2, vg].forEach(disposeAttribution);
    x.dispose();
  });

  it('VarGrad = SmoothGrad² − SmoothGrad² of the mean, per value, with noise on', async () => {
    const x = images(1, 17);
    const targets = Int32Array.of(1);
    const noisy = options({ noiseLevel: 0.3, samples: 5, seed: 2 });
    const [sg, sg2, vg] = [await smoothGrad(model, x, targets, noisy), await smoothGradSquared(model, x, targets, noisy), await varGrad(model, x, targets, noisy)];
    const expected = tf.tidy(() => tf.relu(tf.sub(sg2.attributions as tf.Tensor, tf.square(sg.attributions as tf.Tensor))).dataSync());
    assert.ok(maxAbsDiff(vg.attributions?.dataSync() as Float32Array, expected) < 1e-6);
    assert.ok(Math.max(...vg.map.dataSync()) > 1e-6, 'noise spreads the gradients');
    [sg, sg2, vg].forEach(disposeAttribution);
    x.dispose();
  });
});

describe('occlusion', () => {
  /** logit_k = Σ w[k] · x + b: flatten → dense with set weights. */
  function linearModel(): { model: tfl.LayersModel; weights: Float32Array } {
    const linear = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [SIZE, SIZE, 3] }), tfl.layers.dense({ units: 2 })] });
    const weights = Float32Array.from({ length: SIZE * SIZE * 3 * 2 }, (_, i) => Math.sin(i * 0.7) * 0.5);
    linear.layers[1].setWeights([tf.tensor2d(weights, [SIZE * SIZE * 3, 2]), tf.tensor1d([0.3, -0.2])]);
    return { model: linear, weights };
  }

  it('on a linear model gives the analytic map: the mean over covering patches of Σ w (x − black) inside the patch', async () => {
    const { model: linear, weights } = linearModel();
    const black = [-1.2, -0.5, 0.3];
    const x = images(2, 19);
    const values = x.dataSync();
    const targets = Int32Array.of(1, 0);
    const [window, stride] = [3, 2];
    const result = await occlusion(linear, x, targets, options({ window, stride, blackValue: black, whiteValue: [1, 1, 1], internalBatchSize: 5 }));
    assert.equal(result.attributions, undefined);
    const corners = patchCorners(SIZE, window, stride);
    assert.deepEqual(corners, [0, 2, 4]); // rows/columns 7 are covered by no patch
    const expected = new Float32Array(2 * SIZE * SIZE);
    const counts = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < 2; i++) {
      for (const top of corners) {
        for (const left of corners) {
          let drop = 0;
          for (let h = top; h < top + window; h++) {
            for (let w = left; w < left + window; w++) {
              for (let c = 0; c < 3; c++) {
                const j = (h * SIZE + w) * 3 + c;
                drop += weights[j * 2 + targets[i]] * (values[i * SIZE * SIZE * 3 + j] - black[c]);
              }
            }
          }
          for (let h = top; h < top + window; h++) {
            for (let w = left; w < left + window; w++) {
              expected[i * SIZE * SIZE + h * SIZE + w] += drop;
              if (i === 0) counts[h * SIZE + w]++;
            }
          }
        }
      }
    }
    for (let p = 0; p < 2 * SIZE * SIZE; p++) expected[p] = counts[p % (SIZE * SIZE)] > 0 ? expected[p] / counts[p % (SIZE * SIZE)] : 0;
    assert.ok(maxAbsDiff(result.map.dataSync(), expected) < 1e-5, `off by ${maxAbsDiff(result.map.dataSync(), expected)}`);
    assert.equal(result.map.dataSync()[SIZE * SIZE - 1], 0, 'an uncovered pixel maps to 0');
    disposeAttribution(result);
    x.dispose();
    linear.dispose();
  });

  it('gives the same map in chunks of 3 rows as in one batch, and refuses a window larger than the image', async () => {
    const x = images(2, 23);
    const targets = Int32Array.of(0, 1);
    const small = await occlusion(model, x, targets, options({ window: 4, stride: 2, internalBatchSize: 3 }));
    const large = await occlusion(model, x, targets, options({ window: 4, stride: 2, internalBatchSize: 500 }));
    assert.ok(maxAbsDiff(small.map.dataSync(), large.map.dataSync()) < 1e-5);
    [small, large].forEach(disposeAttribution);
    await assert.rejects(occlusion(model, x, targets, options({ window: 9 })), houseError('INSIGHT_E_CONFIG',
      'occlusion\'s window must fit in the image (window <= height and width). Received: window=9, height=8, width=8. Pass a window of at most 8 pixels, e.g. --window 2.'));
    x.dispose();
  });
});

describe('baselines', () => {
  it('pixelRange gives the normalized black and white of each normalization', () => {
    assert.deepEqual(pixelRange({ kind: 'scale' }), { blackValue: [0, 0, 0], whiteValue: [1, 1, 1] });
    const { blackValue, whiteValue } = pixelRange({ kind: 'meanstd', mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] });
    assert.deepEqual(blackValue.map((v) => Math.round(v * 1e6) / 1e6), [-1, -1, 0]);
    assert.deepEqual(whiteValue.map((v) => Math.round(v * 1e6) / 1e6), [1, 3, 0.5]);
  });

  it('black images hold blackValue per channel; noise is seeded and within [black, white] per channel', () => {
    const black = blackImages([2, 2, 2, 3], [-1, 0, 2]);
    assert.deepEqual(Array.from(black.dataSync().slice(0, 6)), [-1, 0, 2, -1, 0, 2]);
    const range = { seed: 3, blackValue: [-1, 0, 2], whiteValue: [1, 0.5, 4] };
    const noise = uniformNoiseImages([2, SIZE, SIZE, 3], range);
    const again = uniformNoiseImages([2, SIZE, SIZE, 3], range);
    const values = noise.dataSync();
    assert.deepEqual(values, again.dataSync());
    for (let c = 0; c < 3; c++) {
      const channel = values.filter((_, i) => i % 3 === c);
      assert.ok(Math.min(...channel) >= range.blackValue[c] && Math.max(...channel) <= range.whiteValue[c]);
      assert.ok(Math.max(...channel) - Math.min(...channel) > 0.5 * (range.whiteValue[c] - range.blackValue[c]), 'spread over the range');
    }
    assert.deepEqual(values.subarray(0, SIZE * SIZE * 3), values.subarray(SIZE * SIZE * 3), 'one noise field for every image');
    tf.dispose([black, noise, again]);
  });

  it('the Gaussian blur matches a plain reflect-padded, normalized, separable reference and keeps constants constant', () => {
    const [h, w, sigma] = [6, 7, 1.1];
    const x = tf.randomUniform([1, h, w, 3], -1, 1, 'float32', 29) as tf.Tensor4D;
    const values = x.dataSync();
    const blurred = gaussianBlur(x, sigma).dataSync();
    const r = Math.min(Math.ceil(3 * sigma), Math.min(h, w) - 1);
    const kernel = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
    const total = kernel.reduce((a, b) => a + b);
    const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
    const alongH = new Float64Array(h * w * 3);
    for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let c = 0; c < 3; c++) {
      for (let d = -r; d <= r; d++) alongH[(y * w + z) * 3 + c] += kernel[d + r] / total * values[(reflect(y + d, h) * w + z) * 3 + c];
    }
    const expected = new Float64Array(h * w * 3);
    for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let c = 0; c < 3; c++) {
      for (let d = -r; d <= r; d++) expected[(y * w + z) * 3 + c] += kernel[d + r] / total * alongH[(y * w + reflect(z + d, w)) * 3 + c];
    }
    assert.ok(maxAbsDiff(blurred, expected) < 1e-5);
    const constant = tf.fill([1, h, w, 3], 0.7) as tf.Tensor4D;
    const flat = gaussianBlur(constant, sigma);
    assert.ok(maxAbsDiff(flat.dataSync(), new Array(h * w * 3).fill(0.7)) < 1e-6);
    tf.dispose([x, constant, flat]);
  });
});

describe('every method', () => {
  it('maps [n, H, W], leaves no tensor behind, and is registered under its name', async () => {
    assert.deepEqual(Object.keys(METHODS).sort(), [...EXPLAIN_METHODS].sort());
    const x = images(2, 31);
    const targets = Int32Array.of(1, 2);
    const small = options({ steps: 4, samples: 2, window: 4, stride: 4, internalBatchSize: 3 });
    for (const name of EXPLAIN_METHODS) {
      const before = tf.memory().numTensors;
      const result = await METHODS[name](model, x, targets, small);
      assert.equal(result.method, name);
      assert.deepEqual(result.map.shape, [2, SIZE, SIZE], name);
      assert.ok(result.map.dataSync().every(Number.isFinite), name);
      const hasAttributions = ['saliency', 'ig', 'smoothgrad', 'smoothgrad2', 'vargrad'].includes(name);
      assert.equal(result.attributions !== undefined, hasAttributions, name);
      if (hasAttributions) assert.deepEqual(result.attributions?.shape, [2, SIZE, SIZE, 3]);
      disposeAttribution(result);
      assert.equal(tf.memory().numTensors, before, `${name} leaks tensors`);
    }
    x.dispose();
  });
});

describe('method options', () => {
  it('defaults: steps 50, black baseline, 50 samples at 15% noise, 8x8 patches every 4 pixels, 64 rows per pass, seed 0', () => {
    assert.deepEqual({ ...METHOD_DEFAULTS }, {
      layer: undefined, steps: 50, baseline: 'black', samples: 50, noiseLevel: 0.15, window: 8, stride: 4, internalBatchSize: 64, seed: 0,
      blackValue: [0, 0, 0], whiteValue: [1, 1, 1],
    });
  });

  const cases: [Record<string, unknown>, string][] = [
    [{ steps: 0 }, 'steps must be an integer >= 2. Received: steps=0. Pass e.g. --steps 50 (default: 50).'],
    [{ steps: 2.5 }, 'steps must be an integer >= 2. Received: steps=2.5. Pass e.g. --steps 50 (default: 50).'],
    [{ samples: 0 }, 'samples must be an integer >= 1. Received: samples=0. Pass e.g. --samples 50 (default: 50).'],
    [{ samples: -3 }, 'samples must be an integer >= 1. Received: samples=-3. Pass e.g. --samples 50 (default: 50).'],
    [{ internalBatchSize: 0 }, 'internalBatchSize must be an integer >= 1. Received: internalBatchSize=0. Pass e.g. --internal-batch-size 64 (default: 64).'],
    [{ noiseLevel: -0.1 }, 'noiseLevel must be a number >= 0. Received: noiseLevel=-0.1. Pass e.g. --noise-level 0.15 (default: 0.15).'],
    [{ baseline: 'white' }, 'baseline must be one of: black, blurred, noise. Received: baseline="white". Pass e.g. --baseline black (default: black).'],
    [{ window: 0 }, 'window must be an integer >= 1. Received: window=0. Pass e.g. --window 8 (default: 8).'],
    [{ stepz: 3 }, 'A method config may only use known keys. Received: stepz=3. Did you mean \'steps\'? Valid keys: layer, steps, baseline, samples, noiseLevel, window, stride, internalBatchSize, seed.'],
    [{ blackValue: [0, 0] }, 'blackValue and whiteValue must be lists of finite numbers, one per input channel. Received: blackValue=[0,0], whiteValue=[1,1,1]. Pass the normalized values of byte 0 and byte 255 (pixelRange(normalization) computes them), or omit both for x / 255.'],
  ];
  for (const [input, message] of cases) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => resolveMethodOptions(input as Partial<MethodOptions>), houseError('INSIGHT_E_CONFIG', message));
    });
  }
});
