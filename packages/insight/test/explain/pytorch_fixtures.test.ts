// Issue 12's correctness check: Grad-CAM, Grad-CAM++, saliency and Integrated Gradients on two small networks equal
// PyTorch's (module hooks and autograd, float64) on the same weights and images. fixtures/make_fixtures.py writes
// the networks' weights, the images, the targets and the reference maps; the networks are rebuilt here layer for
// layer (OIHW kernels arrive as HWIO; PyTorch flattens NHWC by permuting first, so Dense weights need no reorder).
//
// Tolerance: max |ours − PyTorch| ≤ 1e-4 · max |PyTorch| for every compared tensor, i.e. 1e-4 absolute once the
// reference is scaled to order 1 (renderers normalize maps by their maximum). Our side runs in float32 on the
// active backend, so the error measured is float32 rounding, ~1e-6 of the maximum.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import type { MethodOptions } from '../../src/explain/attribution';
import { METHOD_DEFAULTS } from '../../src/explain/defaults';
import { camLayer, layerGradients, layerTap } from '../../src/explain/layer_tap';
import { gradCam, gradCamPlusPlus, gradCamPlusPlusWeights, gradCamWeights, layerCam } from '../../src/explain/methods/grad_cam';
import { integratedGradients } from '../../src/explain/methods/integrated_gradients';
import { saliency } from '../../src/explain/methods/saliency';

const TOLERANCE = 1e-4;

interface CamReference { cam: number[]; camShape: number[]; map: number[] }
interface Fixture {
  model: 'cnn' | 'resnet';
  inputShape: [number, number, number];
  classes: number;
  /** Layer name → tfjs weights in layer.weights order (kernels HWIO). */
  weights: Record<string, number[][]>;
  /** [n, H, W, C] flat. */
  images: number[];
  n: number;
  targets: number[];
  logits: number[];
  /** Layer read → method → layer-resolution cam [n, h, w] and upsampled map [n, H, W]. */
  cams: Record<string, Record<'gradcam' | 'gradcam++', CamReference>>;
  saliency: { map: number[] };
  ig: { steps: number; attributions: number[]; map: number[]; convergenceDelta: number[] };
}

function readFixture(name: string): Fixture {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', `${name}.json`), 'utf8')) as Fixture;
}

/** The fixture's cnn: conv1-relu, pool1, conv2-relu, conv3-relu (each ReLU built into its Conv2D), flatten, logits. */
function buildCnn(f: Fixture): tfl.LayersModel {
  const conv = (name: string, inputShape?: number[]) =>
    tfl.layers.conv2d({ inputShape, filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name });
  const model = tfl.sequential({ name: 'cnn', layers: [
    conv('conv1', f.inputShape),
    tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
    conv('conv2'), conv('conv3'),
    tfl.layers.flatten({ name: 'flatten' }),
    tfl.layers.dense({ units: f.classes, name: 'logits' }),
  ] });
  return withWeights(model, f);
}

/** The fixture's resnet: stem conv-BN-ReLU, pool, one BasicBlock with an identity shortcut, global average pool, logits. */
function buildResnet(f: Fixture): tfl.LayersModel {
  type S = tfl.SymbolicTensor;
  const conv = (x: S, name: string) => tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name }).apply(x) as S;
  const bn = (x: S, name: string) => tfl.layers.batchNormalization({ axis: -1, epsilon: 1e-5, name }).apply(x) as S;
  const relu = (x: S, name: string) => tfl.layers.activation({ activation: 'relu', name }).apply(x) as S;
  const input = tfl.input({ shape: f.inputShape, name: 'image' });
  const stem = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(relu(bn(conv(input, 'stem_conv'), 'stem_bn'), 'stem_relu')) as S;
  const y = bn(conv(relu(bn(conv(stem, 'block_conv1'), 'block_bn1'), 'block_relu1'), 'block_conv2'), 'block_bn2');
  const out = relu(tfl.layers.add({ name: 'block_add' }).apply([y, stem]) as S, 'block_out');
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(out) as S;
  const logits = tfl.layers.dense({ units: f.classes, name: 'logits' }).apply(pooled) as S;
  return withWeights(tfl.model({ inputs: input, outputs: logits, name: 'resnet' }), f);
}

function withWeights(model: tfl.LayersModel, f: Fixture): tfl.LayersModel {
  for (const [name, values] of Object.entries(f.weights)) {
    const layer = model.getLayer(name);
    const tensors = values.map((v, i) => tf.tensor(v, layer.weights[i].shape as number[]));
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
  return model;
}

/**
 * Asserts max |ours − reference| ≤ TOLERANCE · max |reference| and reports the measured ratio as a test diagnostic.
 */
function assertClose(t: TestContext, ours: ArrayLike<number>, reference: number[], what: string): void {
  assert.equal(ours.length, reference.length, `${what}: length`);
  let error = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    error = Math.max(error, Math.abs(ours[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  assert.ok(scale > 0, `${what}: the reference is not all zeros`);
  assert.ok(error <= TOLERANCE * scale, `${what}: max |ours - PyTorch| = ${error.toExponential(2)} > ${TOLERANCE} x ${scale.toPrecision(3)}`);
  t.diagnostic(`${what}: max |ours - PyTorch| / max |PyTorch| = ${(error / scale).toExponential(1)}`);
}

before(async () => {
  await initBackend();
});

const CASES: [string, (f: Fixture) => tfl.LayersModel, string][] = [
  ['cnn', buildCnn, 'conv3'],
  ['resnet', buildResnet, 'block_out'],
];

for (const [name, build, defaultLayer] of CASES) {
  describe(`${name}: PyTorch's references`, () => {
    const f = readFixture(name);
    let model: tfl.LayersModel;
    before(() => {
      model = build(f);
    });
    const x = () => tf.tensor4d(f.images, [f.n, ...f.inputShape]);
    const targets = Int32Array.from(f.targets);
    const options: MethodOptions = { ...METHOD_DEFAULTS, steps: f.ig.steps, baseline: 'black', blackValue: [0, 0, 0] };

    it('the rebuilt network computes the same logits', (t) => {
      const images = x();
      const logits = model.predict(images) as tf.Tensor;
      assertClose(t, logits.dataSync(), f.logits, 'logits');
      tf.dispose([images, logits]);
    });

    it(`reads ${defaultLayer} by default, the layer PyTorch's hooks read`, () => {
      assert.equal(camLayer(model, 'gradcam'), defaultLayer);
      assert.ok(defaultLayer in f.cams);
    });

    for (const layer of Object.keys(f.cams)) {
      it(`${layer}: layer-resolution cams and upsampled maps of Grad-CAM and Grad-CAM++`, async (t) => {
        const images = x();
        const { activations, gradients } = layerGradients(layerTap(model, layer), images, targets);
        for (const [method, weigh, run] of [['gradcam', gradCamWeights, gradCam], ['gradcam++', gradCamPlusPlusWeights, gradCamPlusPlus]] as const) {
          const reference = f.cams[layer][method];
          const cam = tf.tidy(() => layerCam(activations, weigh(activations, gradients)));
          assert.deepEqual(cam.shape, reference.camShape);
          assertClose(t, cam.dataSync(), reference.cam, `${layer} ${method} cam`);
          const result = await run(model, images, targets, { ...options, layer: layer === defaultLayer ? undefined : layer });
          assert.equal(result.layer, layer);
          assertClose(t, result.map.dataSync(), reference.map, `${layer} ${method} map`);
          tf.dispose([cam, result.map]);
        }
        tf.dispose([images, activations, gradients]);
      });
    }

    it('saliency: max over channels of |gradient|', async (t) => {
      const images = x();
      const result = await saliency(model, images, targets, options);
      assertClose(t, result.map.dataSync(), f.saliency.map, 'saliency map');
      tf.dispose([images, result.map, result.attributions!]);
    });

    it(`Integrated Gradients: black baseline, ${f.ig.steps} trapezoid points; attributions, map and convergence delta`, async (t) => {
      const images = x();
      const result = await integratedGradients(model, images, targets, options);
      assertClose(t, result.attributions!.dataSync(), f.ig.attributions, 'ig attributions');
      assertClose(t, result.map.dataSync(), f.ig.map, 'ig map');
      // The delta is a difference of nearly equal sums: compared on the scale of the attributions' total.
      const totals = f.ig.map.reduce((s, v) => s + Math.abs(v), 0) / f.n;
      result.convergenceDelta!.forEach((d, i) => assert.ok(Math.abs(d - f.ig.convergenceDelta[i]) <= TOLERANCE * totals,
        `image ${i}: delta ${d} vs PyTorch ${f.ig.convergenceDelta[i]}`));
      tf.dispose([images, result.map, result.attributions!]);
    });
  });
}
