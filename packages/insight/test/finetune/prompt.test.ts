// Visual prompt tuning (method prompt): the padding prompt covers exactly a frame of the chosen width (a whole-image
// prompt from half the shorter side up), starts at zero (the prompted model computes the base exactly), trains
// only the frame and the head, and is saved as plain TensorFlow.js layers: `loadModel`, `predict` and `evaluate`
// use the fine-tuned model unchanged and its model.json names no class of Insight's own.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { evaluate } from '../../src/eval/evaluate';
import { predict } from '../../src/eval/predict';
import { finetune } from '../../src/finetune/finetune';
import { applyPrompt, defaultPromptWidth } from '../../src/finetune/prompt';
import { loadModel, MODEL_JSON, saveModel } from '../../src/run/model_io';
import { RunDir } from '../../src/run/run_dir';
import { JPG_MINI } from '../shared_data';
import { tinyBase } from './tiny_base';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-prompt-'));
const newTask = path.join(tmp, 'new-task');
const baseDir = path.join(tmp, 'base');

before(async () => {
  await initBackend();
  fs.mkdirSync(newTask);
  for (const c of ['ship', 'frog']) fs.symlinkSync(path.join(JPG_MINI, c), path.join(newTask, c));
  await saveModel(tinyBase(3), baseDir);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The prompt `applyPrompt` adds on a [h, w, 3] input when every prompt value is 1: 1 where it acts, 0 elsewhere. */
function promptMask(h: number, w: number, width: number): { mask: number[][][]; size: number; strips: number } {
  const input = tfl.input({ shape: [h, w, 3] });
  const prompt = applyPrompt(input, width);
  const model = tfl.model({ inputs: input, outputs: prompt.output });
  for (const layer of prompt.strips) layer.setWeights(layer.getWeights().map((t) => (t.shape.length === 1 ? tf.onesLike(t) : t)));
  const out = model.predict(tf.zeros([1, h, w, 3])) as tf.Tensor;
  const mask = (out.arraySync() as number[][][][])[0];
  tf.dispose(out);
  model.dispose();
  return { mask, size: prompt.size, strips: prompt.strips.length };
}

describe('visual prompt', () => {
  it('a padding prompt covers exactly a frame of the given width (6x8 image, width 2: 40 pixels x 3 channels)', () => {
    const { mask, size, strips } = promptMask(6, 8, 2);
    assert.equal(strips, 4);
    const expected = Array.from({ length: 6 }, (_, r) => Array.from({ length: 8 }, (_, c) => (r < 2 || r >= 4 || c < 2 || c >= 6 ? 1 : 0)));
    assert.deepEqual(mask.map((row) => row.map((px) => px[0])), expected);
    assert.ok(mask.every((row) => row.every((px) => px[0] === px[1] && px[1] === px[2])), 'all three channels');
    assert.equal(size, 3 * 40);
  });

  it('from half the shorter side up the prompt covers the whole image (an additive prompt)', () => {
    const { mask, size, strips } = promptMask(6, 8, 3);
    assert.equal(strips, 1);
    assert.ok(mask.flat(2).every((v) => v === 1));
    assert.equal(size, 6 * 8 * 3);
    assert.equal(defaultPromptWidth(32, 32), 4);
    assert.equal(defaultPromptWidth(8, 8), 1);
  });

  it('a frame width below 1 is refused with the house error and a width that fits', () => {
    assert.throws(() => applyPrompt(tfl.input({ shape: [32, 32, 3] }), 0), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'INSIGHT_E_CONFIG');
      assert.equal(e.message, 'A prompt\'s frame width must be an integer >= 1. Received: promptWidth=0. Pass e.g. --prompt-width 4 (an eighth of the shorter side).');
      return true;
    });
  });

  it('finetune(method prompt): trains the frame and the head only; the saved model is plain tfjs and predicts, evaluates as returned', async () => {
    const result = await finetune({
      base: baseDir, data: newTask, method: 'prompt', promptWidth: 2, epochs: 3, validationCount: 20, workers: 0, progress: 'none', runsDir: path.join(tmp, 'runs'),
    });
    // 8x8 input, frame width 2: 3 x (64 − 16) = 144 prompt values, plus the head (6 features x 2 classes + 2).
    assert.equal(result.trainableParams, 144 + 14);
    const modelJson = fs.readFileSync(path.join(RunDir.at(result.runDir).modelDir, MODEL_JSON), 'utf8');
    const classNames = [...modelJson.matchAll(/"class_name":"([^"]+)"/g)].map((m) => m[1]);
    assert.ok(classNames.includes('ZeroPadding2D') && classNames.includes('Concatenate'));
    assert.deepEqual(classNames.filter((name) => !(name in tf.serialization.SerializationMap.getMap().classNameMap) || name.startsWith('Insight')), [],
      'only classes TensorFlow.js itself registers');

    // The trained prompt: non-zero on the frame, zero in the centre (rows/columns 2..5), the strips' kernels still zero.
    const probe = tfl.model({ inputs: result.model.inputs, outputs: result.model.getLayer('prompt_add').output as tfl.SymbolicTensor });
    const zeros = tf.zeros([1, 8, 8, 3]);
    const prompted = (probe.predict(zeros) as tf.Tensor);
    const image = (prompted.arraySync() as number[][][][])[0];
    const centre = image.slice(2, 6).flatMap((row) => row.slice(2, 6)).flat();
    const frame = image.flatMap((row, r) => row.filter((_, c) => r < 2 || r >= 6 || c < 2 || c >= 6)).flat();
    assert.ok(centre.every((v) => v === 0), 'the centre is untouched');
    assert.ok(frame.filter((v) => v !== 0).length > frame.length * 0.9, 'the frame has learnt values');
    for (const name of ['top', 'bottom', 'left', 'right']) {
      assert.ok(result.model.getLayer(`prompt_${name}`).getWeights()[0].dataSync().every((v) => v === 0), `prompt_${name} kernel stays zero`);
    }

    const saved = await loadModel(result.runDir);
    const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 9);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(saved.predict(x) as tf.Tensor, result.model.predict(x) as tf.Tensor))).dataSync()[0]);
    assert.equal(diff, 0);
    const [prediction] = await predict({ model: result.runDir, images: [path.join(JPG_MINI, 'ship', '0000.jpg')], topK: 2 });
    assert.deepEqual(prediction.top.map((t) => t.className).sort(), ['frog', 'ship']);
    const evaluation = await evaluate({ model: path.join(result.runDir, 'model'), data: newTask, split: 'all', workers: 0 });
    assert.equal(evaluation.metrics.count, 100);
    assert.deepEqual(evaluation.metrics.classNames, ['frog', 'ship']);
    tf.dispose([zeros, prompted, x]);
    saved.dispose();
    result.model.dispose();
  });
});
