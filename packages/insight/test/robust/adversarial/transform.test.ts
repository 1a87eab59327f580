// Adversarial training's batch transform on tiny data: the perturbation it trains on stays in the ε ball and the
// image box (per-channel normalization too), raises the loss, is a pure function of (seed, step, micro-batch, rank),
// leaves BatchNorm's moving statistics alone, and makes a fit repeatable and resumable bit for bit.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../../src/backend';
import { DataLoader, normalizeImages, type Normalization } from '../../../src/data';
import { sparseCategoricalCrossentropy } from '../../../src/models/loss';
import { attack } from '../../../src/robust/attacks/attack';
import { keepingMovingStatistics } from '../../../src/robust/adversarial/moving_statistics';
import { adversarialSettingsOf } from '../../../src/robust/adversarial/settings';
import { adversarialTransform } from '../../../src/robust/adversarial/transform';
import { readCheckpoint, restoreWeights } from '../../../src/run/checkpoint';
import { ModelCheckpoint } from '../../../src/train/callbacks/model_checkpoint';
import { Adam, paramsOf } from '../../../src/train/optimizers';
import { ConstantSchedule } from '../../../src/train/schedules';
import type { TrainerState } from '../../../src/train/state';
import { fit, trainableVariables, type FitOptions } from '../../../src/train/trainer';
import { tinyDataset, tinyModel, weightsOf } from '../../train/tiny';

before(async () => {
  await initBackend();
});

const EPS = 8 / 255;
const MEANSTD: Normalization = { kind: 'meanstd', mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
const SCALE: Normalization = { kind: 'scale' };
const FGSM_RS = adversarialSettingsOf({ adversarial: 'fgsm-rs', eps: EPS, advAlpha: null, advSteps: 7 })!;
const PGD = adversarialSettingsOf({ adversarial: 'pgd', eps: EPS, advAlpha: null, advSteps: 5 })!;

/** 16 tiny images (8 x 8) normalized per `normalization`, and their labels. */
function batch(normalization: Normalization): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const ds = tinyDataset(16);
  return { x: tf.tensor4d(normalizeImages(ds.images, normalization), [16, 8, 8, 3]), y: tf.tensor1d(ds.labels, 'int32') };
}

/** conv → BatchNorm → relu → flatten → dense: a model with moving statistics. */
function batchNormModel(seed: number): tfl.LayersModel {
  return tfl.sequential({ layers: [
    tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
    tfl.layers.batchNormalization(),
    tfl.layers.activation({ activation: 'relu' }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
  ] });
}

/** (xAdv - x) in pixel units and xAdv in pixels, as flat arrays. */
function pixels(xAdv: tf.Tensor4D, x: tf.Tensor4D, normalization: Normalization): { delta: Float32Array; image: Float32Array } {
  const [mean, std] = normalization.kind === 'scale' ? [[0, 0, 0], [1, 1, 1]] : [normalization.mean, normalization.std];
  return tf.tidy(() => ({
    delta: tf.mul(tf.sub(xAdv, x), tf.tensor1d(std)).dataSync() as Float32Array,
    image: tf.add(tf.mul(xAdv, tf.tensor1d(std)), tf.tensor1d(mean)).dataSync() as Float32Array,
  }));
}

const AT = { seed: 7, step: 3, microBatch: 0, rank: 0 };

describe('adversarial batch transform', () => {
  for (const [name, normalization] of [['scale', SCALE], ['meanstd', MEANSTD]] as const) {
    it(`fgsm-rs and pgd perturb within eps and the [0, 1] box (${name} normalization)`, () => {
      const model = batchNormModel(1);
      const { x, y } = batch(normalization);
      for (const settings of [FGSM_RS, PGD]) {
        const out = adversarialTransform(settings, normalization)(x, y, model, AT);
        const { delta, image } = pixels(out.x, x, normalization);
        const absolute = delta.map(Math.abs);
        assert.ok(Math.max(...absolute) <= EPS + 1e-6, `${settings.method}: max |delta| ${Math.max(...absolute)} <= eps`);
        assert.ok(Math.max(...absolute) > EPS - 1e-5, `${settings.method}: some coordinate reaches eps`);
        // Most coordinates sit at the ball's edge after a step of 1.25 eps (fgsm-rs) or 5 steps of eps/2 (pgd).
        assert.ok(absolute.reduce((s, v) => s + v, 0) / absolute.length > 0.6 * EPS, `${settings.method}: mean |delta| is most of eps`);
        assert.ok(Math.min(...image) >= -1e-6 && Math.max(...image) <= 1 + 1e-6, `${settings.method}: x + delta stays a valid image`);
        out.dispose();
      }
      tf.dispose([x, y]);
      model.dispose();
    });
  }

  it('raises the loss it ascends', () => {
    const model = tinyModel(2);
    const { x, y } = batch(SCALE);
    const lossAt = (input: tf.Tensor4D) => tf.tidy(() => sparseCategoricalCrossentropy(y, model.predict(input) as tf.Tensor2D, 0).dataSync()[0]);
    for (const settings of [FGSM_RS, PGD]) {
      const out = adversarialTransform(settings, SCALE)(x, y, model, AT);
      assert.ok(lossAt(out.x) > lossAt(x) + 1e-3, `${settings.method}: loss ${lossAt(out.x)} > clean ${lossAt(x)}`);
      out.dispose();
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('is a pure function of (seed, step, micro-batch, rank): the same position repeats, another differs', () => {
    const model = tinyModel(3);
    const { x, y } = batch(SCALE);
    const transform = adversarialTransform(FGSM_RS, SCALE);
    const at = (position: typeof AT) => {
      const out = transform(x, y, model, position);
      const values = Array.from(out.x.dataSync());
      out.dispose();
      return values;
    };
    const first = at(AT);
    assert.deepEqual(at(AT), first);
    for (const other of [{ ...AT, step: 4 }, { ...AT, microBatch: 1 }, { ...AT, rank: 1 }, { ...AT, seed: 8 }]) {
      assert.notDeepEqual(at(other), first, JSON.stringify(other));
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('leaves BatchNorm\'s moving statistics as they were (the attack\'s passes run in training mode)', () => {
    const model = batchNormModel(4);
    const { x, y } = batch(MEANSTD);
    const moving = () => model.nonTrainableWeights.map((w) => Array.from(w.read().dataSync()));
    const before = moving();
    const out = adversarialTransform(PGD, MEANSTD)(x, y, model, AT);
    assert.deepEqual(moving(), before);
    // Without the guard the same passes would have moved them: the check above is not vacuous.
    const moved = attack(model, x, y, { attack: 'pgd', eps: EPS, steps: 2, seed: 1, training: true }, MEANSTD);
    assert.notDeepEqual(moving(), before);
    // keepingMovingStatistics puts back whatever its passes changed.
    const now = moving();
    keepingMovingStatistics(model, () => tf.dispose(model.apply(x, { training: true }) as tf.Tensor));
    assert.deepEqual(moving(), now);
    tf.dispose([x, y, moved]);
    out.dispose();
    model.dispose();
  });

  it('a fit with it repeats bit for bit, resumes bit for bit from a checkpoint, and differs from plain training', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-adv-resume-'));
    const setup = (adversarial = true) => {
      const model = batchNormModel(5);
      const optimizer = new Adam(paramsOf(trainableVariables(model)));
      const train = new DataLoader(tinyDataset(48), { batchSize: 16, seed: 1, shuffle: true, workers: 0, normalization: MEANSTD });
      const options: FitOptions = {
        epochs: 2, optimizer, schedule: new ConstantSchedule(0.01), seed: 9, transform: adversarial ? adversarialTransform(FGSM_RS, MEANSTD) : undefined,
      };
      return { model, optimizer, train, options };
    };
    const finish = (s: ReturnType<typeof setup>) => {
      const weights = weightsOf(s.model);
      s.optimizer.dispose();
      s.model.dispose();
      return weights;
    };
    const straight = setup();
    await fit(straight.model, straight.train, straight.options);
    const first = finish(straight);
    const again = setup();
    await fit(again.model, again.train, again.options);
    assert.deepEqual(finish(again), first, 'repeats');

    const half = setup();
    const last = path.join(dir, 'last');
    await fit(half.model, half.train, { ...half.options, epochs: 1, callbacks: [new ModelCheckpoint({ lastDir: last, bestDir: path.join(dir, 'best'), monitor: 'loss' })] });
    finish(half);
    const resumed = setup();
    const checkpoint = await readCheckpoint<TrainerState>(last);
    restoreWeights(resumed.model, checkpoint.weights, checkpoint.dir);
    resumed.optimizer.setState(checkpoint.optimizerState);
    tf.dispose([...checkpoint.weights, ...Object.values(checkpoint.optimizerState)]);
    await fit(resumed.model, resumed.train, { ...resumed.options, initialState: checkpoint.trainer });
    assert.deepEqual(finish(resumed), first, 'resumes');

    const plain = setup(false);
    await fit(plain.model, plain.train, plain.options);
    assert.notDeepEqual(finish(plain), first, 'trains on other inputs than plain training');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
