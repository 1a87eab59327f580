// The nearest-neighbour memory: exact k-NN (one matMul + topk per chunk on the backend, merged across chunks) equals
// a brute-force JS reference; embeddings are the activations feeding the classifier; the index is stored in the
// run, reused while weights, layer, normalization and images are the same, rebuilt when the weights change or the
// files break (the run's images themselves: run_images.test.ts). No tensor may leak.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import type * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../src/backend';
import { type ImageDataset } from '../../src/data';
import { embed, embedDataset, embeddingModel } from '../../src/explain/memory/embedding';
import { nearestNeighbours, type KnnIndex } from '../../src/explain/memory/knn_index';
import { memoryIndexFor, readMemoryIndex } from '../../src/explain/memory/store';
import { readNpy } from '../../src/format/npy';
import { MEMORY_FILES, RunDir } from '../../src/run/run_dir';
import { tempDir } from '../data/helpers';
import { tinyBase } from '../finetune/tiny_base';
import { tinyDataset } from '../train/tiny';

/** Deterministic uniform numbers in [-1, 1) (LCG). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

function unitRowsJs(values: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < values.length / dim; r++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += values[r * dim + d] ** 2;
    for (let d = 0; d < dim; d++) out[r * dim + d] = values[r * dim + d] / Math.sqrt(norm);
  }
  return out;
}

/** The reference: every query against every row in float64, sorted by similarity. */
function bruteForce(index: KnnIndex, queries: Float32Array, k: number): { rows: number[][]; similarities: number[][] } {
  const q = unitRowsJs(queries, index.dim);
  const rows: number[][] = [];
  const similarities: number[][] = [];
  for (let i = 0; i < q.length / index.dim; i++) {
    const scored = Array.from({ length: index.count }, (_, r) => {
      let dot = 0;
      for (let d = 0; d < index.dim; d++) dot += q[i * index.dim + d] * index.embeddings[r * index.dim + d];
      return { r, dot };
    }).sort((a, b) => b.dot - a.dot).slice(0, k);
    rows.push(scored.map((s) => s.r));
    similarities.push(scored.map((s) => s.dot));
  }
  return { rows, similarities };
}

function randomIndex(count: number, dim: number, seed: number): KnnIndex {
  const next = seeded(seed);
  const embeddings = unitRowsJs(Float32Array.from({ length: count * dim }, next), dim);
  return {
    count, dim, embeddings,
    labels: Int32Array.from({ length: count }, (_, i) => i % 7),
    indices: Int32Array.from({ length: count }, (_, i) => 1000 + 3 * i),
  };
}

function newRun(config: Record<string, unknown> = {}): RunDir {
  return RunDir.create(tempDir('insight-memory-'), config);
}

describe('nearest-neighbour memory', () => {
  let tensorsBefore = 0;
  let model: tfl.LayersModel;
  let ds: ImageDataset;
  before(async () => {
    await initBackend();
    model = tinyBase(3, { size: 8, classes: 3 });
    ds = tinyDataset(40, 8, 3);
    tensorsBefore = tf.memory().numTensors;
  });

  describe('exact k-NN', () => {
    const index = randomIndex(300, 16, 7);
    const queries = Float32Array.from({ length: 7 * 16 }, seeded(99)).map((v) => 3 * v); // raw, not unit length

    for (const chunkRows of [8192, 64, 7]) {
      it(`equals the brute-force reference (300 rows, 7 queries, k 5, chunks of ${chunkRows})`, async () => {
        const x = tf.tensor2d(queries, [7, 16]);
        const found = await nearestNeighbours(index, x, 5, { chunkRows });
        x.dispose();
        const reference = bruteForce(index, queries, 5);
        assert.deepEqual([found.queries, found.k], [7, 5]);
        for (let i = 0; i < 7; i++) {
          assert.deepEqual(Array.from(found.rows.subarray(i * 5, i * 5 + 5)), reference.rows[i], `query ${i}`);
          reference.similarities[i].forEach((s, j) => {
            assert.ok(Math.abs(found.similarities[i * 5 + j] - s) < 1e-5, `query ${i}, rank ${j}: ${found.similarities[i * 5 + j]} vs ${s}`);
            assert.ok(Math.abs(found.distances[i * 5 + j] - (1 - s)) < 1e-5);
          });
        }
        assert.deepEqual(Array.from(found.indices.subarray(0, 5)), reference.rows[0].map((r) => 1000 + 3 * r));
        assert.deepEqual(Array.from(found.labels.subarray(0, 5)), reference.rows[0].map((r) => r % 7));
      });
    }

    it('takes row-major values as well; k may be the whole index', async () => {
      const found = await nearestNeighbours(index, queries.subarray(0, 16), 300, { chunkRows: 100 });
      assert.deepEqual(Array.from(found.rows), bruteForce(index, queries.subarray(0, 16), 300).rows[0]);
      assert.equal(new Set(found.rows).size, 300);
    });

    it('refuses a bad k and queries of another length, naming the values', async () => {
      await assert.rejects(nearestNeighbours(index, queries, 301), /k must be an integer in \[1, 300\] \(the images in the index\)\. Received: k=301, indexed=300\./);
      await assert.rejects(nearestNeighbours(index, queries, 0), /Received: k=0/);
      const x = tf.zeros([2, 15]) as tf.Tensor2D;
      await assert.rejects(nearestNeighbours(index, x, 3),
        /Query embeddings must have the length of the index's embeddings\. Received: queryDim=15, indexDim=16\. Embed the queries with the model and layer/);
      x.dispose();
    });
  });

  describe('embeddings', () => {
    it('are the activations feeding the classifier: logits = features · W + b, then scaled to unit length', async () => {
      const embedding = embeddingModel(model);
      assert.deepEqual([embedding.layer, embedding.dim], ['features', 6]);
      const x = tf.tensor4d(Float32Array.from({ length: 4 * 8 * 8 * 3 }, seeded(5)).map((v) => (v + 1) / 2), [4, 8, 8, 3]);
      const features = embedding.extractor.predict(x) as tf.Tensor2D;
      const [w, b] = model.getLayer('logits').getWeights();
      const viaFeatures = tf.tidy(() => tf.add(tf.matMul(features, w), b));
      const logits = model.predict(x) as tf.Tensor2D;
      const [a, e] = [await viaFeatures.data(), await logits.data()];
      a.forEach((v, i) => assert.ok(Math.abs(v - e[i]) < 1e-5, `logit ${i}: ${v} vs ${e[i]}`));
      const unit = embed(embedding, x);
      const expected = unitRowsJs(await features.data() as Float32Array, 6);
      (await unit.data()).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `unit ${i}`));
      tf.dispose([x, features, viaFeatures, logits, unit]);
    });

    it('embedding a dataset in batches gives the same rows as one batch', async () => {
      const embedding = embeddingModel(model);
      const [small, whole] = [await embedDataset(embedding, ds, { kind: 'scale' }, 7), await embedDataset(embedding, ds, { kind: 'scale' }, 64)];
      assert.equal(small.length, 40 * 6);
      small.forEach((v, i) => assert.ok(Math.abs(v - whole[i]) < 1e-6, `value ${i}`));
    });
  });

  describe('stored in the run', () => {
    it('is built once, written as .npy + memory.json, and reused while nothing changed', async () => {
      const run = newRun();
      const first = await memoryIndexFor(run, model, ds, { source: { data: 'tiny' } });
      assert.equal(first.built, true);
      assert.deepEqual(fs.readdirSync(run.memoryDir).sort(), Object.values(MEMORY_FILES).sort());
      const embeddings = readNpy(path.join(run.memoryDir, MEMORY_FILES.embeddings));
      assert.deepEqual(embeddings.shape, [40, 6]);
      assert.deepEqual(Array.from(readNpy(path.join(run.memoryDir, MEMORY_FILES.labels)).data), Array.from(ds.labels));
      assert.deepEqual(Array.from(readNpy(path.join(run.memoryDir, MEMORY_FILES.indices)).data), Array.from({ length: 40 }, (_, i) => i));
      const info = JSON.parse(fs.readFileSync(run.memoryJson, 'utf8'));
      assert.equal(info.metric, 'cosine');
      assert.equal(info.layer, 'features');
      assert.match(info.model.weightsSha256, /^[0-9a-f]{64}$/);
      assert.deepEqual(info.model.normalization, { kind: 'scale' });
      assert.deepEqual([info.dataset.count, info.dataset.height, info.dataset.classNames, info.dataset.source], [40, 8, ['class0', 'class1', 'class2'], { data: 'tiny' }]);
      const embedded = await embedDataset(embeddingModel(model), ds, { kind: 'scale' });
      assert.deepEqual(Array.from(first.index.embeddings), Array.from(embedded));

      const mtime = fs.statSync(run.memoryJson).mtimeMs;
      const second = await memoryIndexFor(run.dir, model, ds);
      assert.equal(second.built, false);
      assert.equal(fs.statSync(run.memoryJson).mtimeMs, mtime, 'memory.json not rewritten');
      assert.deepEqual(Array.from(second.index.embeddings), Array.from(first.index.embeddings));
      assert.deepEqual(second.info, first.info);
    });

    it('is rebuilt after the weights change, for other images, and when its files are broken', async () => {
      const run = newRun();
      const local = tinyBase(11, { size: 8, classes: 3 });
      const first = await memoryIndexFor(run, local, ds);
      const kernel = local.getLayer('c1').getWeights()[0];
      const changed = tf.mul(kernel, 1.5);
      local.getLayer('c1').setWeights([changed, local.getLayer('c1').getWeights()[1]]);
      changed.dispose();
      const afterChange = await memoryIndexFor(run, local, ds);
      assert.equal(afterChange.built, true);
      assert.notEqual(afterChange.info.model.weightsSha256, first.info.model.weightsSha256);
      assert.equal(readMemoryIndex(run)!.info.model.weightsSha256, afterChange.info.model.weightsSha256, 'the stored index is the new one');
      assert.equal((await memoryIndexFor(run, local, ds)).built, false);

      const otherImages = tinyDataset(41, 8, 3);
      assert.equal((await memoryIndexFor(run, local, otherImages)).built, true);
      assert.equal((await memoryIndexFor(run, local, otherImages, { normalization: { kind: 'meanstd', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } })).built, true);

      fs.writeFileSync(path.join(run.memoryDir, MEMORY_FILES.embeddings), 'not an npy file');
      assert.equal(readMemoryIndex(run), null);
      const repaired = await memoryIndexFor(run, local, otherImages, { normalization: { kind: 'meanstd', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } });
      assert.equal(repaired.built, true);
      assert.notEqual(readMemoryIndex(run), null);
      local.dispose();
    });

    it('neighbours of training images are themselves (distance 0), through the stored index', async () => {
      const run = newRun();
      const { index } = await memoryIndexFor(run, model, ds);
      const stride = 8 * 8 * 3;
      const x = tf.tensor4d(Float32Array.from(ds.images.subarray(5 * stride, 9 * stride), (v) => v / 255), [4, 8, 8, 3]);
      const queries = embed(embeddingModel(model), x);
      const found = await nearestNeighbours((readMemoryIndex(run) ?? { index }).index, queries, 3);
      tf.dispose([x, queries]);
      for (let i = 0; i < 4; i++) {
        assert.ok(found.distances[i * 3] < 1e-5, `image ${5 + i}: nearest distance ${found.distances[i * 3]}`);
        assert.ok(found.similarities[i * 3] >= found.similarities[i * 3 + 1] && found.similarities[i * 3 + 1] >= found.similarities[i * 3 + 2], 'nearest first');
      }
    });

    it('needs a run directory, and one index position per image', async () => {
      await assert.rejects(memoryIndexFor(tempDir(), model, ds), (error: Error & { code?: string }) =>
        error.code === 'INSIGHT_E_MODEL' && /The memory index is stored in a run directory/.test(error.message));
      await assert.rejects(memoryIndexFor(newRun(), model, ds, { indices: new Int32Array(3) }),
        /indices must give one dataset position per image\. Received: indices\.length=3, images=40\./);
    });
  });

  it('leaves no tensor behind', () => {
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });
});
