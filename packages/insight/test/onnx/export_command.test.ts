// `insight export <run|model>`: writes <out>/model.onnx atomically and prints its size against the tfjs weights; the
// fp32 file runs in ONNX Runtime with tfjs's outputs and carries the model's classes; --quantize int8 calibrates on
// the run's training split (or --data) with compress/quantize's calibrate and writes a QDQ graph; bad options end in
// INSIGHT_E_CONFIG before anything is written.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBackend, tf } from '../../src/backend';
import { createModel } from '../../src/models';
import { OnnxModel, readOnnxMetadata } from '../../src/onnx';
import { loadModel, MODEL_ONNX, saveModel } from '../../src/run/model_io';
import { runMain } from '../cli/io';
import { JPG_MINI } from '../shared_data';
import { opCounts } from './onnx_helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-export-cli-'));
const modelDir = path.join(tmp, 'model');
let runDir: string;

before(async () => {
  await initBackend();
  const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 3, seed: 4, classNames: ['cat', 'dog', 'ship'] });
  await saveModel(model, modelDir);
  model.dispose();
  // A real run: seed-cnn, 1 epoch on 3 classes x 12 CIFAR JPEGs.
  const data = path.join(tmp, 'data');
  for (const name of ['cat', 'dog', 'ship']) {
    fs.mkdirSync(path.join(data, name), { recursive: true });
    for (let i = 0; i < 12; i++) fs.copyFileSync(path.join(JPG_MINI, name, `${String(i).padStart(4, '0')}.jpg`), path.join(data, name, `${i}.jpg`));
  }
  const train = await runMain(['train', '--data', data, '--epochs', '1', '--batch-size', '8', '--validation-count', '6', '--runs-dir', path.join(tmp, 'runs'),
    '--progress', 'none', '--tensorboard', 'false', '--seed', '3']);
  assert.equal(train.status, 0, train.stderr);
  runDir = path.join(tmp, 'runs', fs.readdirSync(path.join(tmp, 'runs')).find((name) => !name.startsWith('index'))!);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('insight export', () => {
  it('fp32: <out>/model.onnx with the model\'s outputs and classes; sizes printed', async () => {
    const out = path.join(tmp, 'fp32');
    const { status, stdout, stderr } = await runMain(['export', modelDir, '--out', out]);
    assert.equal(status, 0, stderr);
    assert.deepEqual(fs.readdirSync(out), [MODEL_ONNX]);
    const file = path.join(out, MODEL_ONNX);
    const size = fs.statSync(file).size;
    assert.match(stdout, new RegExp(`^Wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [0-9.]+ kB \\(fp32, opset 13\\); the tfjs weights are [0-9.]+ kB \\(1\\.\\d\\dx this file\\)\n$`));
    assert.ok(size > 4 * 122_000 * 0.9); // seed-cnn's ~120k float32 parameters (3 classes)
    assert.deepEqual(readOnnxMetadata(fs.readFileSync(file))?.classNames, ['cat', 'dog', 'ship']);

    const model = await loadModel(modelDir);
    const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 5);
    const expected = tf.tidy(() => model.predict(x) as tf.Tensor).dataSync();
    const session = await OnnxModel.load(file, { threads: 1 });
    const got = await session.predict(x.dataSync() as Float32Array, 3);
    await session.dispose();
    model.dispose();
    assert.ok(got.every((v, k) => Math.abs(v - expected[k]) < 1e-4));
  });

  it('int8 from a run: calibrated on the run\'s training split, written beside its model by default', async () => {
    const { status, stdout, stderr } = await runMain(['export', runDir, '--quantize', 'int8', '--calibration-images', '16', '--opset', '15']);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /^Calibrating int8 ranges \(minmax\) on 16 images of the run's train \(30 .*\)\nWrote .*model-onnx-int8\/model\.onnx: [0-9.]+ kB \(int8 QDQ, opset 15\); the tfjs weights are [0-9.]+ kB \(3\.\d\dx this file\)\n$/);
    const file = path.join(runDir, 'model-onnx-int8', MODEL_ONNX);
    const ops = opCounts(fs.readFileSync(file));
    assert.ok(ops.QuantizeLinear >= 4 && ops.Conv === 3, JSON.stringify(ops));
    const session = await OnnxModel.load(file, { threads: 1 });
    const y = await session.predict(new Float32Array(2 * 32 * 32 * 3).fill(0.5), 2);
    await session.dispose();
    assert.equal(y.length, 6);
  });

  it('int8 of a bare model directory with --data and entropy calibration', async () => {
    const out = path.join(tmp, 'int8-data');
    const { status, stderr } = await runMain(['export', modelDir, '--quantize', 'int8', '--data', path.join(tmp, 'data'),
      '--calibration-images', '1000', '--calibration-method', 'entropy', '--out', out]);
    assert.equal(status, 0, stderr);
    assert.ok(fs.statSync(path.join(out, MODEL_ONNX)).size < fs.statSync(path.join(tmp, 'fp32', MODEL_ONNX)).size / 3.5);
  });

  it('errors: int8 of a bare model without --data, an opset out of range; nothing is written', async () => {
    const noData = await runMain(['export', modelDir, '--quantize', 'int8', '--out', path.join(tmp, 'never')]);
    assert.equal(noData.status, 2);
    assert.match(noData.stderr, /INSIGHT_E_CONFIG.*An int8 export calibrates on images: a run's training split, or --data for a bare model directory\. Received: model=.*quantize="int8", data=null\. Pass --data <path>/);
    const opset = await runMain(['export', modelDir, '--opset', '12', '--out', path.join(tmp, 'never')]);
    assert.equal(opset.status, 2);
    assert.match(opset.stderr, /INSIGHT_E_CONFIG/);
    assert.equal(fs.existsSync(path.join(tmp, 'never')), false);
  });
});
