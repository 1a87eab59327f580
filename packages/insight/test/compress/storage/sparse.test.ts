// Sparse storage: each tensor takes its smallest encoding (dense, bitmask, CSR) and decodes bit for bit (-0 and NaN
// included); a 90%-sparse model written sparse is under 0.2x of its float32 weights, loads back through the handler
// with every weight bit-exact and the same predictions, and plain TensorFlow.js refuses the directory.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../../src/backend';
import { createModel } from '../../../src/models';
import { prunableWeights, pruneOnce } from '../../../src/compress/prune';
import { decodeTensor, encodedSizes, encodeTensor, isSparseModelDir, sparseModelHandler, toFloat16, fromFloat16, writeModelAs, type SparseManifest } from '../../../src/compress/storage';
import { fileModelHandler, loadModel, MODEL_JSON, WEIGHTS_SPARSE_BIN } from '../../../src/run/model_io';
import { InsightError } from '../../../src/errors';

before(async () => {
  await initBackend();
});

/** n values, of which the ones at positions where keep(i) are nonzero (deterministic). */
function values(n: number, keep: (i: number) => boolean): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (keep(i) ? Math.sin(i + 1) * 3 : 0));
}

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

describe('sparse tensor encodings', () => {
  it('picks the smallest encoding and decodes every bit', () => {
    const cases: [Float32Array, number, string][] = [
      [values(1024, () => true), 32, 'dense'],
      [values(1024, (i) => i % 2 === 0), 32, 'bitmask'], // 128 + 2048 bytes < CSR 132 + 512 + 2048 < dense 4096
    ];
    for (const [x, cols, expected] of cases) {
      const e = encodeTensor(x, cols);
      assert.equal(e.encoding, expected);
      assert.deepEqual(bits(decodeTensor(e.bytes, e.encoding, x.length, e.nnz, cols)), bits(x));
    }
    // CSR wins when rows are few and long and almost empty: [2, 4096] with 5 nonzero.
    const wide = values(8192, (i) => i % 2000 === 7);
    assert.deepEqual(encodedSizes(8192, 5, 4096), { dense: 32768, bitmask: 1024 + 20, csr: 12 + 10 + 20 });
    const csr = encodeTensor(wide, 4096);
    assert.equal(csr.encoding, 'csr');
    assert.equal(csr.bytes.length, 42);
    assert.deepEqual(bits(decodeTensor(csr.bytes, 'csr', 8192, csr.nnz, 4096)), bits(wide));
    // -0 and NaN are stored values; +0 is not.
    const odd = new Float32Array([0, -0, NaN, 0, 0, 0, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const e = encodeTensor(odd, 4);
    assert.equal(e.nnz, 3);
    assert.deepEqual(bits(decodeTensor(e.bytes, e.encoding, odd.length, e.nnz, 4)), bits(odd));
  });
});

describe('sparse model directories', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-sparse-'));

  it('a 90%-sparse seed-cnn: < 0.2x of float32, bit-exact through the handler, refused by plain tfjs', async () => {
    const model = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 3, seed: 4 });
    tf.dispose(pruneOnce(prunableWeights(model, []), 0.9, 'layer'));
    const target = path.join(dir, 'sparse');
    const sizes = await writeModelAs(model, target, 'sparse');
    assert.ok(isSparseModelDir(target));
    assert.ok(sizes.ratio < 0.2, `ratio ${sizes.ratio}`);
    assert.ok(sizes.gzipBytes < sizes.bytes && sizes.gzipBytes < sizes.denseGzipBytes, JSON.stringify(sizes));
    const loaded = await tfl.loadLayersModel(sparseModelHandler(target));
    const [a, b] = [model.getWeights(), loaded.getWeights()];
    a.forEach((w, i) => assert.deepEqual(bits(b[i].dataSync() as Float32Array), bits(w.dataSync() as Float32Array), model.weights[i].name));
    assert.deepEqual(loaded.getUserDefinedMetadata(), model.getUserDefinedMetadata());
    const x = tf.randomUniform([2, 24, 24, 3], 0, 1, 'float32', 3);
    const [y1, y2] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    assert.deepEqual(Array.from(y2.dataSync()), Array.from(y1.dataSync()));
    // Insight's own model loader (evaluate, predict, serve) reads it as well; plain tfjs, which reads only
    // weightsManifest (empty), refuses it instead of loading random weights.
    const viaInsight = await tfl.loadLayersModel(fileModelHandler(target));
    assert.deepEqual(Array.from((viaInsight.predict(x) as tf.Tensor).dataSync()), Array.from(y1.dataSync()));
    const json = JSON.parse(fs.readFileSync(path.join(target, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
    assert.deepEqual(json.weightsManifest, []);
    await assert.rejects(tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: [], weightData: new ArrayBuffer(0) })), /weight/i);
    viaInsight.dispose();
    // A truncated weights file is refused with the rule, not a RangeError from deep inside the decoder.
    const cut = path.join(dir, 'cut');
    fs.cpSync(target, cut, { recursive: true });
    const bin = path.join(cut, WEIGHTS_SPARSE_BIN);
    fs.truncateSync(bin, fs.statSync(bin).size - 3);
    await assert.rejects(loadModel(cut), (error: Error) => error instanceof InsightError && error.code === 'INSIGHT_E_MODEL' &&
      /must hold the bytes its model\.json lists\. Received: .*expectedBytes=\d+, bytes=\d+/.test(error.message));
    // The handler reads a dense directory as well, and saves sparse.
    const dense = path.join(dir, 'dense');
    await writeModelAs(model, dense, 'float32');
    assert.ok(!isSparseModelDir(dense));
    const again = await tfl.loadLayersModel(sparseModelHandler(dense));
    await again.save(sparseModelHandler(path.join(dir, 'resaved')));
    assert.ok(isSparseModelDir(path.join(dir, 'resaved')));
    tf.dispose([x, y1, y2]);
    [model, loaded, again].forEach((m) => m.dispose());
  });

  it('sparse-uint8 and sparse-float16: zeros exact, kept values within their rounding, a fraction of the size', async () => {
    const model = createModel('seed-cnn', { inputShape: [24, 24, 3], numClasses: 3, seed: 5 });
    tf.dispose(pruneOnce(prunableWeights(model, []), 0.9, 'global'));
    const original = model.getWeights().map((w) => w.dataSync() as Float32Array);
    const float32 = await writeModelAs(model, path.join(dir, 'f32'), 'sparse');
    const uint8 = await writeModelAs(model, path.join(dir, 'u8'), 'sparse-uint8');
    const half = await writeModelAs(model, path.join(dir, 'f16'), 'sparse-float16');
    assert.ok(uint8.ratio < 0.07 && half.ratio < float32.ratio && uint8.ratio < half.ratio, JSON.stringify([float32.ratio, half.ratio, uint8.ratio]));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'u8', MODEL_JSON), 'utf8')) as { insightSparse: SparseManifest };
    const fromU8 = await tfl.loadLayersModel(sparseModelHandler(path.join(dir, 'u8')));
    fromU8.getWeights().forEach((w, i) => {
      const stored = manifest.insightSparse.weights[i].values;
      assert.equal(stored?.type, 'uint8');
      const half = stored!.type === 'uint8' ? stored!.scale / 2 : 0;
      const v = w.dataSync();
      original[i].forEach((o, j) => assert.ok(o === 0 ? v[j] === 0 : Math.abs(v[j] - o) <= half * (1 + 1e-6) + 1e-7, `${i}[${j}] ${v[j]} vs ${o}`));
    });
    const fromF16 = await tfl.loadLayersModel(sparseModelHandler(path.join(dir, 'f16')));
    fromF16.getWeights().forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(fromFloat16(toFloat16(original[i])))));
    [model, fromU8, fromF16].forEach((m) => m.dispose());
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
