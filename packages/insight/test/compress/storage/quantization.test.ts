// tfjs weight quantization: the uint8 bytes, min and scale and the float16 bits equal tfjs-converter's / numpy's
// (quantization_fixture.json from make_quantization_fixture.py), and a model written as uint8 or float16 loads with
// plain TensorFlow.js (tfjs-core's decodeWeights) with every weight within scale / 2 (uint8; pruned zeros stay 0)
// or equal to its float16 rounding, at 0.25x and 0.5x of the float32 weights.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../../src/backend';
import { createModel } from '../../../src/models';
import { prunableWeights, pruneOnce } from '../../../src/compress/prune';
import { float16Bits, fromFloat16, quantizeUint8, toFloat16, writeModelAs } from '../../../src/compress/storage';
import { fileModelHandler, MODEL_JSON } from '../../../src/run/model_io';

interface Fixture {
  uint8: Record<string, { values: number[]; bytes: number[]; min: number; scale: number }>;
  float16: { values: number[]; bits: number[] };
}
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'quantization_fixture.json'), 'utf8')) as Fixture;

before(async () => {
  await initBackend();
});

describe('tfjs-converter quantization', () => {
  it('uint8: the bytes, min and scale of tfjs-converter (nudged zero point, round half to even)', () => {
    for (const [name, ref] of Object.entries(fixture.uint8)) {
      const { bytes, min, scale } = quantizeUint8(new Float32Array(ref.values));
      assert.deepEqual(Array.from(bytes), ref.bytes, name);
      assert.equal(min, ref.min, name);
      assert.equal(scale, ref.scale, name);
    }
    // 0 is exactly representable when it lies in the range: q0 · scale + min === 0.
    const { bytes, min, scale } = quantizeUint8(new Float32Array(fixture.uint8.mixed.values));
    const zeroAt = fixture.uint8.mixed.values.indexOf(0);
    assert.equal(bytes[zeroAt] * scale + min, 0);
  });

  it('float16: numpy\'s bits (round to nearest even, subnormals, overflow to Inf)', () => {
    assert.deepEqual(Array.from(toFloat16(new Float32Array(fixture.float16.values))), fixture.float16.bits);
    // fromFloat16 decodes as tfjs-core's float16 decoder does.
    const bits = Uint16Array.from(fixture.float16.bits);
    const tfjs = tf.io.decodeWeights(bits.buffer, [{ name: 'h', shape: [bits.length], dtype: 'float32', quantization: { dtype: 'float16' } }]).h;
    assert.deepEqual(Array.from(fromFloat16(bits)), Array.from(tfjs.dataSync()));
    tfjs.dispose();
    assert.equal(float16Bits(NaN) & 0x7c00, 0x7c00);
    assert.notEqual(float16Bits(NaN) & 0x3ff, 0);
  });
});

describe('quantized model directories', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-quant-'));

  it('uint8 and float16 load with plain TensorFlow.js, within their rounding, at 0.25x and 0.5x', async () => {
    const model = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 3, seed: 9 });
    tf.dispose(pruneOnce(prunableWeights(model), 0.5, 'global'));
    const original = model.getWeights().map((w) => w.dataSync() as Float32Array);
    const x = tf.randomUniform([4, 24, 24, 3], 0, 1, 'float32', 2);
    const y = model.predict(x) as tf.Tensor;

    const uint8 = await writeModelAs(model, path.join(dir, 'uint8'), 'uint8');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'uint8', MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
    const specs = manifest.weightsManifest[0].weights;
    assert.deepEqual(Object.keys(specs[0].quantization!).sort(), ['dtype', 'min', 'scale']);
    assert.equal(specs[0].quantization!.dtype, 'uint8');
    const loaded = await tfl.loadLayersModel(fileModelHandler(path.join(dir, 'uint8')));
    loaded.getWeights().forEach((w, i) => {
      const v = w.dataSync();
      const half = specs[i].quantization!.scale! / 2;
      original[i].forEach((o, j) => {
        assert.ok(Math.abs(v[j] - o) <= half * (1 + 1e-6) + 1e-7, `${specs[i].name}[${j}]: ${v[j]} vs ${o}`);
        if (o === 0) assert.equal(v[j], 0, `${specs[i].name}[${j}] pruned stays 0`);
      });
    });
    // Total weights: 4 bytes a value → 1.
    assert.equal(uint8.bytes, uint8.denseBytes / 4);
    assert.ok(uint8.gzipBytes < uint8.bytes && uint8.denseGzipBytes < uint8.denseBytes);
    const yUint8 = loaded.predict(x) as tf.Tensor;
    assert.deepEqual(Array.from(tf.argMax(yUint8, 1).dataSync()), Array.from(tf.argMax(y, 1).dataSync()));

    const float16 = await writeModelAs(model, path.join(dir, 'float16'), 'float16');
    assert.equal(float16.ratio, 0.5);
    const half = await tfl.loadLayersModel(fileModelHandler(path.join(dir, 'float16')));
    half.getWeights().forEach((w, i) => {
      const rounded = toFloat16(original[i]);
      const back = tf.io.decodeWeights(rounded.buffer as ArrayBuffer, [{ name: 'w', shape: [rounded.length], dtype: 'float32', quantization: { dtype: 'float16' } }]).w;
      assert.deepEqual(Array.from(w.dataSync()), Array.from(back.dataSync()));
      back.dispose();
    });
    const yHalf = half.predict(x) as tf.Tensor;
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(yHalf, y))).dataSync()[0]) < 1e-2);
    tf.dispose([x, y, yUint8, yHalf]);
    [model, loaded, half].forEach((m) => m.dispose());
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
