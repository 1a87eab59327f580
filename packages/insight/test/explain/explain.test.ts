// explain(): image files and raw pixels through a saved tiny model with meanstd metadata — preprocessing as predict
// does it, predictions and targets, every method's maps equal to explainBatch on the same normalized batch, pixel
// images resized, attributions only on request, no tensor left behind, and every error in the house format.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';

import { initBackend, tf } from '../../src/backend';
import { normalizeImages } from '../../src/data';
import { InsightError } from '../../src/errors';
import { readImageRgb } from '../../src/eval/image_input';
import { pixelRange } from '../../src/explain/baselines';
import { resolveExplainOptions } from '../../src/explain/defaults';
import { explain, explainBatch } from '../../src/explain/explain';
import { EXPLAIN_METHODS } from '../../src/explain/method_names';
import { saveModel } from '../../src/run/model_io';
import { JPG_MINI } from '../shared_data';
import { CLASSES, houseError, NORMALIZATION as normalization, SIZE, tinyExplainModel } from './helpers';

const FILES = [path.join(JPG_MINI, 'cat', '0000.jpg'), path.join(JPG_MINI, 'ship', '0001.jpg')];
/** Small settings so every method runs in well under a second. */
const QUICK = { steps: 6, samples: 3, window: 4, stride: 2, internalBatchSize: 16 };

let modelDir: string;
let model: tfl.LayersModel;

before(async () => {
  await initBackend();
  model = tinyExplainModel(5);
  modelDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-explain-')), 'model');
  await saveModel(model, modelDir);
});

describe('explain', () => {
  it('explains image files with every method: predictions, targets, maps equal to explainBatch on the decoded, normalized pixels', async () => {
    const result = await explain({ model: modelDir, images: FILES, methods: [...EXPLAIN_METHODS], ...QUICK });
    assert.deepEqual(result.classNames, CLASSES);
    assert.deepEqual(result.methods, [...EXPLAIN_METHODS]);
    assert.equal(result.classes, 'predicted');
    assert.deepEqual({ blackValue: result.options.blackValue, whiteValue: result.options.whiteValue }, pixelRange(normalization));
    assert.equal(result.options.steps, 6);
    assert.deepEqual(result.images.map((image) => image.source), FILES);

    // The same batch by hand: decode like predict, normalize with the metadata.
    const pixels = new Uint8Array(2 * SIZE * SIZE * 3);
    for (let i = 0; i < 2; i++) pixels.set(await readImageRgb(FILES[i], SIZE, SIZE), i * SIZE * SIZE * 3);
    const x = tf.tensor4d(normalizeImages(pixels, normalization), [2, SIZE, SIZE, 3]);
    const probs = tf.tidy(() => tf.softmax(model.predict(x) as tf.Tensor2D).dataSync());
    const predicted = result.images.map((image) => image.predicted);
    const reference = await explainBatch(model, x, predicted, [...EXPLAIN_METHODS], { ...QUICK, ...pixelRange(normalization) });
    result.images.forEach((image, i) => {
      assert.equal(image.probabilities.length, CLASSES.length);
      assert.ok(Math.abs(image.probabilities.reduce((a, b) => a + b) - 1) < 1e-5);
      assert.ok(Array.from(image.probabilities).every((p, k) => Math.abs(p - probs[i * 3 + k]) < 1e-6));
      assert.equal(image.predicted, image.probabilities.indexOf(Math.max(...image.probabilities)));
      assert.equal(image.target, image.predicted);
      assert.deepEqual(Object.keys(image.methods), [...EXPLAIN_METHODS]);
      for (const { method, map, convergenceDelta, layer } of reference) {
        const got = image.methods[method];
        assert.ok(got, method);
        assert.equal(got.height, SIZE);
        assert.equal(got.width, SIZE);
        assert.equal(got.map.length, SIZE * SIZE);
        assert.deepEqual(got.map, map.dataSync().slice(i * SIZE * SIZE, (i + 1) * SIZE * SIZE), method);
        assert.equal(got.min, Math.min(...got.map));
        assert.equal(got.max, Math.max(...got.map));
        assert.equal(got.attributions, undefined, `${method}: attributions only when asked`);
        assert.equal(got.convergenceDelta, convergenceDelta?.[i]);
        assert.equal(got.layer, layer);
      }
    });
    assert.equal(result.images[0].methods.gradcam?.layer, 'c2');
    assert.equal(typeof result.images[0].methods.ig?.convergenceDelta, 'number');
    reference.forEach((r) => r.map.dispose());
    x.dispose();
  });

  it('takes pixels (resized with sharp when their size differs), classes by name or index, and returns attributions when asked', async () => {
    const decoded = await readImageRgb(FILES[0], SIZE, SIZE);
    const big = await sharp(FILES[0]).removeAlpha().resize(16, 16, { fit: 'fill' }).raw().toBuffer();
    const bigResized = new Uint8Array(await sharp(big, { raw: { width: 16, height: 16, channels: 3 } }).resize(SIZE, SIZE, { fit: 'fill' }).raw().toBuffer());
    const result = await explain({
      model, methods: 'saliency,occlusion', classes: ['dog', 2, '0'], attributions: true, ...QUICK,
      images: [FILES[0], { pixels: decoded, height: SIZE, width: SIZE, source: 'camera' }, { pixels: new Uint8Array(big), height: 16, width: 16 }],
    });
    assert.deepEqual(result.images.map((image) => image.source), [FILES[0], 'camera', 'pixels[2]']);
    assert.deepEqual(result.images.map((image) => image.target), [1, 2, 0]);
    assert.deepEqual(result.classes, ['dog', 2, 0]);
    const [file, camera, resized] = result.images;
    assert.equal(file.methods.saliency?.attributions?.length, SIZE * SIZE * 3);
    assert.equal(file.methods.occlusion?.attributions, undefined, 'occlusion has no per-value attributions');
    // The same pixels as the file give the same maps (for the file's target).
    const same = await explain({ model, images: [{ pixels: decoded, height: SIZE, width: SIZE }], methods: ['saliency'], classes: [1], ...QUICK });
    // (within float rounding: oneDNN's convolutions may round differently for another batch size)
    const close = (a?: Float32Array, b?: Float32Array) => a !== undefined && b !== undefined && a.length === b.length && a.every((v, k) => Math.abs(v - b[k]) <= 1e-6 * (1 + Math.abs(b[k])));
    assert.ok(close(same.images[0].methods.saliency?.map, file.methods.saliency?.map));
    assert.ok(camera.methods.saliency?.map.every(Number.isFinite));
    // A 16x16 image is stretched to 8x8 as sharp resizes it.
    const expected = await explain({ model, images: [{ pixels: bigResized, height: SIZE, width: SIZE }], methods: ['saliency', 'occlusion'], classes: [0], ...QUICK });
    assert.ok(close(resized.methods.saliency?.map, expected.images[0].methods.saliency?.map));
    assert.ok(close(resized.methods.occlusion?.map, expected.images[0].methods.occlusion?.map));
  });

  it('leaves no tensor behind and keeps a model it was given', async () => {
    await explain({ model, images: [FILES[1]], methods: ['ig'], ...QUICK }); // warm-up: kernels and caches created once
    const before = tf.memory().numTensors;
    const result = await explain({ model, images: FILES, methods: [...EXPLAIN_METHODS], attributions: true, ...QUICK });
    assert.equal(result.images.length, 2);
    assert.equal(tf.memory().numTensors, before);
    assert.ok(tf.tidy(() => (model.predict(tf.zeros([1, SIZE, SIZE, 3])) as tf.Tensor).dataSync()).every(Number.isFinite), 'the model is still usable');
    await assert.rejects(explain({ model, images: FILES, methods: ['occlusion'], window: 9 }), InsightError);
    assert.equal(tf.memory().numTensors, before, 'no leak on failure either');
  });
});

describe('explain errors', () => {
  const pixels = new Uint8Array(SIZE * SIZE * 3);
  const cases: [string, () => Promise<unknown>, string, string | RegExp][] = [
    ['pixels of the wrong length', () => explain({ model, images: [{ pixels: new Uint8Array(10), height: SIZE, width: SIZE }] }), 'INSIGHT_E_IMAGE',
      'A pixel image must be a Uint8Array of height × width × 3 RGB bytes, with positive integer height and width. Received: image="pixels[0]", pixels.length=10, height=8, width=8. Pass { pixels, height, width } with pixels.length === height * width * 3 (row-major, RGB interleaved).'],
    ['a class index out of range', () => explain({ model, images: [{ pixels, height: SIZE, width: SIZE }], classes: [3] }), 'INSIGHT_E_CONFIG',
      'classes must be class indices in [0, 3) or class names of the model. Received: class=3. Pass e.g. 0 or "cat" (classes: cat, dog, ship).'],
    ['an unknown class name', () => explain({ model, images: [{ pixels, height: SIZE, width: SIZE }], classes: 'horse' }), 'INSIGHT_E_CONFIG',
      'classes must be class indices in [0, 3) or class names of the model. Received: class="horse". Pass e.g. 0 or "cat" (classes: cat, dog, ship).'],
    ['a negative class', () => explain({ model, images: FILES, classes: [-1] }), 'INSIGHT_E_CONFIG',
      'classes must be \'predicted\', or class indices (integers >= 0) or class names: one for all images or one per image. Received: classes=[-1]. Pass e.g. --classes predicted, --classes 3 or --classes cat,dog.'],
    ['classes for some images only', () => explain({ model, images: [...FILES, FILES[0]], classes: [0, 1] }), 'INSIGHT_E_CONFIG',
      'classes must name one class for all images, or one class per image. Received: classes=[0,1], images=3. Pass one class, or 3 classes in the order of the images, or \'predicted\'.'],
    ['an unknown method', () => explain({ model, images: FILES, methods: ['saliency', 'lime'] as never }), 'INSIGHT_E_CONFIG',
      'methods must be a list (or comma-separated string) of: saliency, gradcam, gradcam++, ig, smoothgrad, smoothgrad2, vargrad, occlusion; or \'none\'. Received: methods=["saliency","lime"]. Pass e.g. --methods saliency,gradcam (default: gradcam,ig).'],
    ['no method', () => explain({ model, images: FILES, methods: 'none' }), 'INSIGHT_E_CONFIG',
      'An explanation needs at least one method. Received: methods="none". Pass e.g. --methods gradcam,ig (methods: saliency, gradcam, gradcam++, ig, smoothgrad, smoothgrad2, vargrad, occlusion).'],
    ['steps 0', () => explain({ model, images: FILES, methods: ['ig'], steps: 0 }), 'INSIGHT_E_CONFIG',
      'steps must be an integer >= 2. Received: steps=0. Pass e.g. --steps 50 (default: 50).'],
    ['samples 1.5', () => explain({ model, images: FILES, methods: ['smoothgrad'], samples: 1.5 }), 'INSIGHT_E_CONFIG',
      'samples must be an integer >= 1. Received: samples=1.5. Pass e.g. --samples 50 (default: 50).'],
    ['internalBatchSize 0', () => explain({ model, images: FILES, internalBatchSize: 0 }), 'INSIGHT_E_CONFIG',
      'internalBatchSize must be an integer >= 1. Received: internalBatchSize=0. Pass e.g. --internal-batch-size 64 (default: 64).'],
    ['no images', () => explain({ model, images: [] }), 'INSIGHT_E_CONFIG',
      'explain needs at least one image file, folder or pixel image. Received: images=[]. Pass e.g. images: [\'cat.jpg\'] or images: [{ pixels, height, width }].'],
    ['a folder without images', () => explain({ model, images: [fs.mkdtempSync(path.join(os.tmpdir(), 'insight-explain-empty-'))] }), 'INSIGHT_E_IMAGE',
      /^The image paths must hold at least one image \(predict and explain read files and folders alike\)\. Received: images=\[".*insight-explain-empty-[^"]*"\]\. Pass image files, or folders containing \.jpg/],
    ['a missing model directory', () => explain({ model: '/nonexistent/model', images: FILES }), 'INSIGHT_E_MODEL',
      /^The model path must be a directory with model\.json, or a completed run directory\. Received: model="\/nonexistent\/model", exists=false\. /],
    ['explainBatch targets out of range', () => {
      const x = tf.zeros([2, SIZE, SIZE, 3]) as tf.Tensor4D;
      return explainBatch(model, x, [0, 7], ['saliency']).finally(() => x.dispose());
    }, 'INSIGHT_E_CONFIG',
      'targets must be one class index in [0, 3) per image. Received: targets.length=2, images=2, target=7. Pass e.g. the predicted classes (argMax of the logits).'],
  ];
  for (const [name, run, code, message] of cases) {
    it(`rejects ${name}`, async () => {
      await assert.rejects(run(), houseError(code, message));
    });
  }

  it('resolves explanation options with their defaults (the schema a CLI or config file uses)', () => {
    const options = resolveExplainOptions({ methods: 'ig,occlusion', classes: '3,dog', steps: '64' });
    assert.deepEqual(options.methods, ['ig', 'occlusion']);
    assert.deepEqual(options.classes, [3, 'dog']);
    assert.equal(options.steps, 64);
    assert.deepEqual(resolveExplainOptions({}).methods, ['gradcam', 'ig']);
    assert.equal(resolveExplainOptions({}).classes, 'predicted');
    assert.equal(resolveExplainOptions({}).attributions, false);
  });
});

describe('the package entry', () => {
  it('exports explain, explainBatch, explainToFiles, evaluateExplanations, evaluateFaithfulness and the method list', async () => {
    const entry = await import('../../src/index');
    const { explainToFiles, evaluateExplanations } = await import('../../src/explain/explain_command');
    const { evaluateFaithfulness } = await import('../../src/explain/faithfulness');
    assert.equal(entry.explain, explain);
    assert.equal(entry.explainBatch, explainBatch);
    assert.equal(entry.explainToFiles, explainToFiles);
    assert.equal(entry.evaluateExplanations, evaluateExplanations);
    assert.equal(entry.evaluateFaithfulness, evaluateFaithfulness);
    assert.deepEqual(entry.EXPLAIN_METHODS, EXPLAIN_METHODS);
    assert.deepEqual(entry.SIGNED_METHODS, ['ig', 'occlusion']);
    const options: import('../../src/index').ExplainInput = { model: modelDir, images: [FILES[0]], methods: ['saliency'] };
    assert.equal((await entry.explain(options)).images[0].methods.saliency?.height, SIZE);
  });
});
