// Faithfulness checks of explanations. The deletion/insertion curves start and end where the model says and do not
// depend on the batch size; on a model whose logits are a known linear function of the pixels, the exact map beats
// random maps by a clear margin and its reverse loses; IG's completeness is ~0 there and exactly 1 for doubled
// attributions. The model-randomisation check walks the zoo's models block by block, decorrelates saliency, is
// seeded, and leaves the caller's weights as they were. The report's rows and table, tensor leaks, house errors.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { InsightError } from '../../src/errors';
import type { Attribution, AttributionMethod, MethodOptions } from '../../src/explain/attribution';
import { blurSigma, gaussianBlur } from '../../src/explain/baselines';
import { METHOD_DEFAULTS } from '../../src/explain/defaults';
import {
  betweenImages, cascadeUnits, cloneModel, deletionInsertion, evaluateFaithfulness, formatFaithfulness, modelRandomisation, passDepthOf,
  pixelRanks, sanityLimitOf, trapezoid, type FaithfulnessSettings, type NamedMethod,
} from '../../src/explain/faithfulness';
import { gradCam } from '../../src/explain/methods/grad_cam';
import { integratedGradients } from '../../src/explain/methods/integrated_gradients';
import { inputGradients, saliency } from '../../src/explain/methods/saliency';
import { createModel } from '../../src/models';

before(async () => {
  await initBackend();
});

const SIZE = 8;
/** One grey channel in [0, 1] ('scale' normalization: black = 0). */
const GREY: MethodOptions = { ...METHOD_DEFAULTS, blackValue: [0], whiteValue: [1], internalBatchSize: 40, steps: 8 };
const RGB: MethodOptions = { ...METHOD_DEFAULTS, internalBatchSize: 40, steps: 4 };

/**
 * [8, 8, 1] → Flatten → Dense(2): logit0 = Σ w·x, logit1 = −logit0, w seeded N(0, 1). The gradient of the target's
 * logit is ±w exactly, and setting pixel p to black (0) moves that logit by −(±w_p) x_p.
 */
function linearModel(): tfl.LayersModel {
  const model = tfl.sequential({ name: 'linear' });
  model.add(tfl.layers.flatten({ inputShape: [SIZE, SIZE, 1], name: 'flatten' }));
  model.add(tfl.layers.dense({ units: 2, name: 'logits' }));
  tf.tidy(() => {
    const w = tf.randomNormal([SIZE * SIZE, 1], 0, 1, 'float32', 11);
    model.getLayer('logits').setWeights([tf.concat([w, tf.neg(w)], 1), tf.zeros([2])]);
  });
  return model;
}

/** conv(8, same, relu) → conv(8, same, relu) → Flatten → Dense(3): no border or pooling pattern in its gradients. */
function sameConvModel(): tfl.LayersModel {
  const model = tfl.sequential({ name: 'same_conv' });
  const he = (seed: number) => tfl.initializers.heNormal({ seed });
  model.add(tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1', kernelInitializer: he(1) }));
  model.add(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv2', kernelInitializer: he(2) }));
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  model.add(tfl.layers.dense({ units: 3, name: 'logits', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  return model;
}

const pixels = (n: number, size: number, channels: number, seed: number) => tf.randomUniform([n, size, size, channels], 0, 1, 'float32', seed) as tf.Tensor4D;

/** Each image's predicted class, so every curve starts from the model's own decision (probability ≥ 0.5). */
async function predicted(model: tfl.LayersModel, x: tf.Tensor4D): Promise<Int32Array> {
  const classes = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor2D, 1));
  const values = Int32Array.from(await classes.data());
  classes.dispose();
  return values;
}

async function probabilities(model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array): Promise<Float32Array> {
  const p = tf.tidy(() => tf.sum(tf.mul(tf.softmax(model.predict(x) as tf.Tensor2D), tf.oneHot(tf.tensor1d(targets, 'int32'), 2)), 1));
  const values = await p.data() as Float32Array;
  p.dispose();
  return values;
}

const meanOf = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0) / values.length;

/** The signed input gradient summed over channels: for the linear model, exactly ±w. */
const gradientMap: AttributionMethod = async (model, x, targets, options): Promise<Attribution> => {
  const gradients = await inputGradients(model, x, targets, options.internalBatchSize);
  const map = tf.tidy(() => tf.sum(gradients, 3) as tf.Tensor3D);
  gradients.dispose();
  return { method: 'saliency', map };
};

/** A method's ranking turned upside down: least evidence first. */
const reversed = (method: AttributionMethod): AttributionMethod => async (model, x, targets, options) => {
  const attribution = await method(model, x, targets, options);
  tf.dispose(attribution.attributions);
  const map = tf.neg(attribution.map) as tf.Tensor3D;
  attribution.map.dispose();
  return { method: attribution.method, map };
};

/** Integrated Gradients with every attribution doubled: it sums to 2 (f(x) − f(b)), a completeness error of 1. */
const doubledIg: AttributionMethod = async (model, x, targets, options) => {
  const ig = await integratedGradients(model, x, targets, options);
  const attributions = tf.mul(ig.attributions!, 2) as tf.Tensor4D;
  ig.attributions!.dispose();
  return { ...ig, attributions };
};

const weightValues = (model: tfl.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

describe('pixel ranks and the trapezoid rule', () => {
  it('ranks pixels from the largest map value (rank 0) down, ties in row-major order', () => {
    const maps = tf.tensor3d([[[0.5, 2], [-1, 0.5]], [[3, 2], [1, 0]]]);
    const ranks = tf.tidy(() => pixelRanks(maps));
    assert.deepEqual(ranks.arraySync(), [[1, 0, 3, 2], [0, 1, 2, 3]]);
    tf.dispose([maps, ranks]);
  });

  it('integrates evenly spaced samples over [0, 1]', () => {
    assert.equal(trapezoid([1, 1, 1]), 1);
    assert.equal(trapezoid([1, 0]), 0.5);
    // f = x² at 0, 1/4, ..., 1: (0 + 2/16 + 8/16 + 18/16 + 1) / 8 = 0.34375 (the integral is 1/3).
    assert.equal(trapezoid([0, 1 / 16, 4 / 16, 9 / 16, 1]), 0.34375);
  });
});

describe('deletion and insertion curves', () => {
  it('start and end where the model says, whatever the batch size', async () => {
    const model = linearModel();
    const x = pixels(3, SIZE, 1, 3);
    const targets = await predicted(model, x);
    const blurred = gaussianBlur(x, blurSigma(SIZE, SIZE));
    const maps = tf.randomUniform([3, SIZE, SIZE], 0, 1, 'float32', 4) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const settings = { steps: 9, black: [0], batchSize: 7 }; // 7 rows per pass: passes span images and curves
    const small = await deletionInsertion(model, x, blurred, maps, targets, settings);
    const large = await deletionInsertion(model, x, blurred, maps, targets, { ...settings, batchSize: 1000 });
    assert.equal(tf.memory().numTensors, before);
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(small.deletion[i] - large.deletion[i]) < 1e-6 && Math.abs(small.insertion[i] - large.insertion[i]) < 1e-6);
    }
    const atImage = meanOf(await probabilities(model, x, targets));
    const atBlurred = meanOf(await probabilities(model, blurred, targets));
    const close = (a: number, b: number) => Math.abs(a - b) < 1e-5;
    assert.ok(close(small.deletionCurve[0], atImage) && close(small.insertionCurve[8], atImage));
    assert.ok(close(small.deletionCurve[8], 0.5)); // all black: both logits 0
    assert.ok(close(small.insertionCurve[0], atBlurred));
    assert.equal(small.deletionCurve.length, 9);
    assert.ok(close(meanOf(small.deletion), trapezoid(small.deletionCurve)));
    tf.dispose([x, blurred, maps]);
  });

  it('linear model: the exact gradient map beats random maps on deletion by a clear margin; its reverse loses', async () => {
    const model = linearModel();
    const x = pixels(6, SIZE, 1, 3);
    const targets = await predicted(model, x);
    const report = await evaluateFaithfulness(model, x, targets,
      [{ name: 'gradient', method: gradientMap }, { name: 'reversed', method: reversed(gradientMap) }], GREY, { images: 6, steps: 21, seed: 5 });
    const [exact, backwards] = report.rows;
    // Measured: exact 0.041, random 0.614, reversed 0.983.
    assert.ok(exact.deletionAuc < report.random.deletionAuc - 0.3, `${exact.deletionAuc} vs random ${report.random.deletionAuc}`);
    assert.ok(backwards.deletionAuc > report.random.deletionAuc + 0.2, `${backwards.deletionAuc} vs random ${report.random.deletionAuc}`);
    assert.equal(exact.deletionWins, 1);
    assert.equal(backwards.deletionWins, 0);
    assert.equal(exact.randomDeletionAuc, report.random.deletionAuc);
    assert.deepEqual(exact.randomGrid, [SIZE, SIZE], 'a per-pixel map is compared with per-pixel random maps');
    assert.deepEqual(report.randomOnGrids, {});
    tf.dispose(x);
  });

  it('linear model: IG from the blurred start (exact contributions to insertion) beats random on insertion; its reverse loses', async () => {
    const model = linearModel();
    const x = pixels(6, SIZE, 1, 3);
    const targets = await predicted(model, x);
    const options = { ...GREY, baseline: 'blurred' as const };
    const report = await evaluateFaithfulness(model, x, targets,
      [{ name: 'ig', method: integratedGradients }, { name: 'reversed', method: reversed(integratedGradients) }], options, { images: 6, steps: 21, seed: 5 });
    const [exact, backwards] = report.rows;
    // Measured: exact 0.985, random 0.794, reversed 0.074.
    assert.ok(exact.insertionAuc > report.random.insertionAuc + 0.1, `${exact.insertionAuc} vs random ${report.random.insertionAuc}`);
    assert.ok(backwards.insertionAuc < report.random.insertionAuc - 0.1, `${backwards.insertionAuc} vs random ${report.random.insertionAuc}`);
    tf.dispose(x);
  });
});

describe('IG completeness', () => {
  it('is ~0 on a linear model and 1 for doubled attributions; methods without a convergence delta have none', async () => {
    const model = linearModel();
    const x = pixels(4, SIZE, 1, 8);
    const targets = await predicted(model, x);
    const report = await evaluateFaithfulness(model, x, targets, [
      { name: 'ig', method: integratedGradients }, { name: 'doubled', method: doubledIg }, { name: 'saliency', method: saliency },
    ], GREY, { images: 4, steps: 5 });
    const [ig, doubled, plain] = report.rows;
    assert.ok(ig.completeness!.max < 1e-4, JSON.stringify(ig.completeness));
    assert.ok(ig.completeness!.mean <= ig.completeness!.max);
    assert.ok(Math.abs(doubled.completeness!.mean - 1) < 1e-4 && Math.abs(doubled.completeness!.max - 1) < 1e-4, JSON.stringify(doubled.completeness));
    assert.equal(plain.completeness, undefined);
    tf.dispose(x);
  });

  it('is 0.5 for two-point IG on a bias-free ReLU network (from black, it sums only half of f(x))', async () => {
    // f is positively homogeneous, so f(x) = x · ∇f(x) and f(0) = 0; ReLU's gradient at 0 is 0, so ∇f(0) = 0. The
    // trapezoid on 2 points gives x · (∇f(0) + ∇f(x)) / 2 = f(x) / 2: a relative error of exactly one half.
    const model = sameConvModel();
    const x = pixels(2, 12, 3, 8);
    const report = await evaluateFaithfulness(model, x, Int32Array.of(0, 2), [{ name: 'ig', method: integratedGradients }],
      { ...RGB, steps: 2 }, { images: 2, steps: 5 });
    const { mean, max } = report.rows[0].completeness!;
    assert.ok(Math.abs(mean - 0.5) < 1e-4 && Math.abs(max - 0.5) < 1e-4, JSON.stringify({ mean, max }));
    tf.dispose(x);
  });
});

describe('model randomisation', () => {
  it('walks the zoo\'s models from the logits down, block by block; the pass depth ends at the last convolution block', () => {
    const names = (model: tfl.LayersModel) => cascadeUnits(model).map((unit) => unit.map((layer) => layer.name));
    const cnn = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 4, seed: 1 });
    assert.deepEqual(names(cnn), [['logits'], ['dense1'], ['conv3'], ['conv2'], ['conv1']]);
    assert.equal(passDepthOf(cascadeUnits(cnn)), 3);
    const resnet = createModel('resnet', { inputShape: [16, 16, 3], numClasses: 5, depth: 8, width: 4, seed: 2 });
    const units = names(resnet);
    assert.deepEqual(units.map((unit) => unit[0]), ['logits', 'stage3_block1_conv1', 'stage2_block1_conv1', 'stage1_block1_conv1', 'stem_conv']);
    assert.deepEqual(units[4], ['stem_conv', 'stem_bn']);
    assert.equal(units[1].length, 6); // conv1 bn1 conv2 proj bn2 proj_bn: the layers with weights of the block
    assert.equal(passDepthOf(cascadeUnits(resnet)), 2);
    assert.deepEqual(names(linearModel()), [['logits']]);
    assert.equal(passDepthOf(cascadeUnits(linearModel())), 1);
  });

  it('a copy computes what the model computes, in variables of its own', async () => {
    const model = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 4, seed: 1 });
    const x = pixels(2, 24, 3, 1);
    const copy = await cloneModel(model);
    const [a, b] = tf.tidy(() => [model.predict(x) as tf.Tensor, copy.predict(x) as tf.Tensor]);
    assert.deepEqual(await a.data(), await b.data());
    const weights = weightValues(model);
    tf.tidy(() => copy.getLayer('conv1').setWeights(copy.getLayer('conv1').getWeights().map((w) => tf.zerosLike(w))));
    assert.deepEqual(weightValues(model), weights);
    copy.dispose();
    tf.dispose([x, a, b]);
  });

  it('decorrelates saliency, seeded; the caller\'s weights stay as they were', async () => {
    const model = sameConvModel();
    const x = pixels(3, 12, 3, 9);
    const targets = Int32Array.of(0, 1, 2);
    const methods: NamedMethod[] = [{ name: 'saliency', method: saliency }];
    const original = await saliency(model, x, targets, RGB);
    const originals = [await original.map.data() as Float32Array];
    tf.dispose([original.map, original.attributions]);
    const weights = weightValues(model);
    const before = tf.memory().numTensors;
    const [depths] = await modelRandomisation(model, x, targets, methods, originals, RGB, { depths: 3, seed: 4 });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(weightValues(model), weights);
    assert.deepEqual(depths.map((d) => [d.depth, d.layers]), [[1, ['logits']], [2, ['conv2']], [3, ['conv1']]]);
    for (const d of depths) {
      assert.equal(d.spearman.length, 3);
      assert.ok(d.mean < 0.5, `depth ${d.depth}: ρ ${d.mean}`); // measured 0.09-0.15
      assert.ok(Math.abs(d.mean - meanOf(d.spearman)) < 1e-6);
    }
    assert.ok(betweenImages(originals[0], 3, 144) < 0.3); // measured 0.16: a same-padded stack leaves little shared pattern
    const [again] = await modelRandomisation(model, x, targets, methods, originals, RGB, { depths: 3, seed: 4 });
    assert.deepEqual(again.map((d) => [...d.spearman]), depths.map((d) => [...d.spearman]));
    const [otherSeed] = await modelRandomisation(model, x, targets, methods, originals, RGB, { depths: 1, seed: 5 });
    assert.notDeepEqual([...otherSeed[0].spearman], [...depths[0].spearman]);
    tf.dispose(x);
  });

  it('the pass limit: f + threshold·(1 − f), the floor f taken as 0 when negative or unknown', () => {
    assert.equal(sanityLimitOf(0.5, 0), 0.5);
    assert.ok(Math.abs(sanityLimitOf(0.5, 0.7) - 0.85) < 1e-12);
    assert.equal(sanityLimitOf(0.5, -0.2), 0.5);
    assert.equal(sanityLimitOf(0.3, NaN), 0.3);
    assert.equal(sanityLimitOf(0.5, 1), 1, 'maps alike for every image pass only if randomisation changes them');
  });

  it('between images: mean ρ of each image\'s map against the next one\'s, cyclically', () => {
    const maps = Float32Array.of(1, 2, 3, 4, /* same ranking */ 10, 20, 30, 40, /* reversed */ 4, 3, 2, 1);
    // (0, 1) → 1, (1, 2) → −1, (2, 0) → −1.
    assert.ok(Math.abs(betweenImages(maps, 3, 4) + 1 / 3) < 1e-12);
    assert.ok(Number.isNaN(betweenImages(maps.subarray(0, 4), 1, 4)));
  });

  it('a method that ignores the weights keeps ρ = 1 and fails; saliency and Grad-CAM pass', async () => {
    // |x| summed over channels: an "explanation" of the image alone, like an edge detector.
    const inputOnly: AttributionMethod = async (_model, x) => ({ method: 'saliency', map: tf.tidy(() => tf.sum(tf.abs(x), 3) as tf.Tensor3D) });
    const model = sameConvModel();
    const x = pixels(3, 12, 3, 9);
    const report = await evaluateFaithfulness(model, x, Int32Array.of(0, 1, 2), [{ name: 'input', method: inputOnly }, { name: 'saliency', method: saliency }, { name: 'gradcam', method: gradCam }],
      RGB, { images: 3, steps: 5 });
    const [input, gradient, cam] = report.rows;
    assert.deepEqual(input.sanitySpearman.map((d) => d.mean), [1, 1]);
    assert.equal(input.sanityPassed, false);
    assert.equal(gradient.sanityPassed, true); // measured ρ 0.16
    assert.equal(cam.sanityPassed, true); // measured ρ −0.05
    tf.dispose(x);
  });
});

describe('evaluateFaithfulness', () => {
  it('seed-cnn: a row per method, the table, no tensor left, the caller\'s weights untouched', async () => {
    const model = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 4, seed: 1 });
    const x = pixels(3, 24, 3, 9);
    const targets = await predicted(model, x);
    const weights = weightValues(model);
    const before = tf.memory().numTensors;
    const report = await evaluateFaithfulness(model, x, targets,
      [{ name: 'saliency', method: saliency }, { name: 'gradcam', method: gradCam }, { name: 'ig', method: integratedGradients }], RGB, { images: 2, steps: 5, seed: 2 });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(weightValues(model), weights);
    assert.equal(report.images, 2);
    assert.deepEqual(report.sanity, { threshold: 0.5, passDepth: 3 });
    assert.deepEqual(report.rows.map((r) => r.method), ['saliency', 'gradcam', 'ig']);
    for (const row of report.rows) {
      assert.deepEqual(row.sanitySpearman.map((d) => d.layers), [['logits'], ['dense1'], ['conv3']]);
      assert.equal(row.sanityLimit, sanityLimitOf(0.5, row.sanityFloor));
      assert.equal(row.sanityPassed, row.sanitySpearman[2].mean < row.sanityLimit);
      for (const value of [row.deletionAuc, row.insertionAuc, row.sanityFloor, row.seconds]) assert.ok(Number.isFinite(value) && value >= 0);
      assert.ok(row.deletionAuc <= 1 && row.insertionAuc <= 1);
    }
    // Valid convolutions and pooling give |gradient| maps a pattern of their own (border pixels reach fewer units, and
    // the last two rows and columns reach only what pool2 drops: gradient 0): maps of unrelated noise images correlate
    // (measured 0.74).
    assert.ok(report.rows[0].sanityFloor > 0.6, `${report.rows[0].sanityFloor}`);
    assert.ok(report.rows[0].sanityLimit > 0.8, 'the pass limit rises with the floor');
    // Grad-CAM's map is conv3's 2x2 grid upsampled: it is compared with random maps drawn on 2x2 and upsampled alike.
    assert.deepEqual(report.rows.map((r) => r.randomGrid), [[24, 24], [2, 2], [24, 24]]);
    assert.deepEqual(Object.keys(report.randomOnGrids), ['2x2']);
    assert.equal(report.rows[1].randomDeletionAuc, report.randomOnGrids['2x2'].deletionAuc);
    assert.equal(report.rows[0].randomDeletionAuc, report.random.deletionAuc);
    assert.notEqual(report.randomOnGrids['2x2'].deletionAuc, report.random.deletionAuc);
    assert.equal(report.rows[0].completeness, undefined);
    assert.equal(report.rows[1].completeness, undefined);
    assert.ok(Number.isFinite(report.rows[2].completeness!.max));

    const json = JSON.parse(JSON.stringify(report)) as typeof report; // the report is written as JSON
    assert.deepEqual(json.rows[0].sanitySpearman[2].spearman, report.rows[0].sanitySpearman[2].spearman);
    assert.equal(json.rows[0].sanitySpearman[2].spearman.length, 2);

    const text = formatFaithfulness(report);
    const lines = text.split('\n');
    assert.equal(lines[0], 'Faithfulness on 2 images (curves of 5 points, seed 2). wins = share of images whose deletion AUC beats the random map\'s, ' +
      'on the grid the method\'s map was computed on (random HxW: drawn on that grid and upsampled).');
    assert.match(lines[1], /^method\s+deletion AUC ↓\s+insertion AUC ↑\s+wins\s+sanity ρ@3\s+sanity\s+completeness mean\/max\s+seconds$/);
    assert.match(lines[3], /^saliency\s+0\.\d{3}\s+0\.\d{3}\s+(0\.00|0\.50|1\.00)\s+-?\d\.\d\d±\d\.\d\d\s+(pass|FAIL)\s+-\s+\d+\.\d$/);
    assert.match(lines[4], /^gradcam\s+0\.\d{3}\s+0\.\d{3}\s+\S+\s+\S+\s+(pass|FAIL)\s+-\s+\d+\.\d$/);
    assert.match(lines[5], /^ig\s+0\.\d{3}\s+0\.\d{3}\s+\S+\s+\S+\s+(pass|FAIL)\s+\d\.\d{3}\/\d\.\d{3}\s+\d+\.\d$/);
    assert.match(lines[6], /^random\s+0\.\d{3}\s+0\.\d{3}\s+-\s+-\s+-\s+-\s+-$/);
    assert.match(lines[7], /^random 2x2\s+0\.\d{3}\s+0\.\d{3}\s+-\s+-\s+-\s+-\s+-$/);
    assert.match(lines[9], /^Sanity check .* pass = mean ρ at depth 3 below f \+ 0\.5·\(1 − f\), f taken as 0 when negative\.$/);
    assert.match(lines[10], /^method\s+ρ@1\s+ρ@2\s+ρ@3\s+between images\s+pass below$/);
    assert.match(lines[12], /^saliency(\s+-?\d\.\d\d±\d\.\d\d){3}\s+0\.\d\d\s+0\.\d\d$/);
    assert.equal(lines.length, 16);
    assert.equal(lines[lines.length - 1], 'Re-initialised at depth 1: logits; 2: dense1; 3: conv3.');
    tf.dispose(x);
  });

  describe('rejects bad settings with the house error', () => {
    const model = linearModel();
    const methods: NamedMethod[] = [{ name: 'gradient', method: gradientMap }];
    const cases: [string, Partial<FaithfulnessSettings>, Partial<{ targets: Int32Array; methods: NamedMethod[]; options: MethodOptions }>, RegExp][] = [
      ['images 0', { images: 0 }, {}, /^images must be an integer from 1 to the number of images given\. Received: images=0, given=2\. Pass e\.g\. images: 2\./],
      ['more images than given', { images: 3 }, {}, /^images must be an integer from 1 .* Received: images=3, given=2\./],
      ['fractional images', { images: 1.5 }, {}, /^images must be an integer .* Received: images=1\.5/],
      ['steps 1', { steps: 1 }, {}, /^steps \(points on each deletion\/insertion curve\) must be an integer >= 2\. Received: steps=1\./],
      ['a negative seed', { seed: -1 }, {}, /^seed must be an integer >= 0\. Received: seed=-1\./],
      ['a threshold above 1', { sanityThreshold: 2 }, {}, /^sanityThreshold must be a share of the ranking in \(-1, 1\]\. Received: sanityThreshold=2\./],
      ['too deep a cascade', { sanityDepths: 2 }, {}, /^sanityDepths must be an integer from the pass depth .* Received: sanityDepths=2, passDepth=1, units=1\./],
      ['a target per image missing', {}, { targets: Int32Array.of(0) }, /^targets must hold one class per image of x\. Received: targets\.length=1, images=2\./],
      ['a target out of range', {}, { targets: Int32Array.of(0, 2) }, /^Every target must be a class index of the model\. Received: index=1, target=2, classes=2\. Pass class indices from 0 to 1\./],
      ['no methods', {}, { methods: [] }, /^methods must name at least one method, each once\. Received: methods=\[\]\./],
      ['a method twice', {}, { methods: [...methods, ...methods] }, /^methods must name at least one method, each once\. Received: methods=\["gradient","gradient"\]\./],
      ['RGB black for grey images', {}, { options: RGB }, /^blackValue must give one value per input channel\. Received: blackValue=\[0,0,0\], channels=1\./],
    ];
    for (const [what, settings, inputs, message] of cases) {
      it(what, async () => {
        const x = pixels(2, SIZE, 1, 1);
        const before = tf.memory().numTensors;
        await assert.rejects(
          evaluateFaithfulness(model, x, inputs.targets ?? Int32Array.of(0, 1), inputs.methods ?? methods, inputs.options ?? GREY, { images: 2, ...settings }),
          (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && message.test(e.message),
        );
        assert.equal(tf.memory().numTensors, before);
        x.dispose();
      });
    }
  });
});
