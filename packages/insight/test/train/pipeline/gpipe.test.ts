// Pipeline parallelism end to end: two processes (gpipe_worker.ts, ranks 0 and 1 of a Gloo group on 127.0.0.1,
// started with ranks.ts as `insight launch` would) train the two stages of the seed CNN for a few GPipe steps with
// Adam; the final weights of both stages and every step's loss equal one process training the whole model within
// 1e-5 relative: on the whole batch (gradientStep + Adam, no pipeline code) without dropout, with 4 micro-batches
// (3, 3, 2, 2) and with 8 (more sends in flight than libuv has pool threads); and with dropout 0.5 in both stages
// against one process accumulating the same micro-batches with the trainer's dropout seeds (stage 0 recomputes
// its forward pass, so its masks must be drawn again the same). A rank whose peer dies fails its step promptly.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { seedDropout } from '../../../src/train/dropout_seeds';
import { gradientStep } from '../../../src/train/gradient_step';
import { Adam, paramsOf } from '../../../src/train/optimizers';
import { microBatchSizes } from '../../../src/train/pipeline';
import { trainableVariables } from '../../../src/train/trainer';
import { freeLocalPort, rankEnv, startNode, tmp, type Finished } from '../ranks';
import { PLAIN, SETUP, setupBatch, setupModel, weightsByLayer, type PipelineCase, type WorkerReport } from './setup';

const WORKER = path.join(__dirname, 'gpipe_worker.ts');

before(async () => {
  await initBackend();
});

/** Both ranks of a 2-stage pipeline on `setup`, to completion (killed after 90 s); reports go to `dir`. */
async function runPipeline(dir: string, setup: PipelineCase, extra: Record<string, string> = {}): Promise<Finished[]> {
  const port = await freeLocalPort();
  const ranks = [0, 1].map((rank) => startNode([WORKER, path.join(dir, `rank${rank}.json`), JSON.stringify(setup)], rankEnv(rank, 2, port, extra)));
  const timers = ranks.map((r) => setTimeout(() => r.child.kill('SIGKILL'), 90_000));
  try {
    return await Promise.all(ranks.map((r) => r.done));
  } finally {
    timers.forEach(clearTimeout);
  }
}

/** Both ranks' reports, once both exited 0. Collectives time out after 20 s (a deadlock fails, not hangs). */
async function trainPipeline(dir: string, setup: PipelineCase): Promise<WorkerReport[]> {
  const exits = await runPipeline(dir, setup, { PIPELINE_TIMEOUT_MS: '20000' });
  exits.forEach((exit, rank) => assert.equal(exit.code, 0, `rank ${rank} failed:\n${exit.stderr}`));
  return [0, 1].map((rank) => JSON.parse(fs.readFileSync(path.join(dir, `rank${rank}.json`), 'utf8')) as WorkerReport);
}

/**
 * The reference: one process, the whole model, Adam. Without dropout, the whole batch a step; with it, the step's
 * micro-batches accumulated (each its share of the batch's mean loss), dropout seeded as the trainer seeds it.
 */
function trainSingleProcess(setup: PipelineCase): { weights: Record<string, number[]>; losses: number[] } {
  const model = setupModel(setup.dropout);
  const variables = trainableVariables(model);
  const adam = new Adam(paramsOf(variables));
  const { x, y } = setupBatch();
  const sizes = setup.dropout === 0 ? [SETUP.batchSize] : microBatchSizes(SETUP.batchSize, setup.microBatches);
  const losses: number[] = [];
  for (let step = 0; step < SETUP.steps; step++) {
    let offset = 0;
    let loss = 0;
    let sums: tf.Tensor[] | null = null;
    sizes.forEach((size, m) => {
      const restore = seedDropout(model, SETUP.seed, step, m);
      const [xm, ym] = [tf.slice(x, offset, size), tf.slice(y, offset, size)];
      const result = gradientStep(model, variables, xm, ym, 0);
      restore();
      const weight = size / SETUP.batchSize;
      loss += result.loss.dataSync()[0] * weight;
      const weighted = result.grads.map((g) => tf.mul(g, weight));
      const previous: tf.Tensor[] | null = sums;
      sums = previous === null ? weighted : weighted.map((g, i) => tf.add(previous[i], g));
      tf.dispose([xm, ym, result.loss, result.correct, ...result.grads, ...(previous === null ? [] : [...previous, ...weighted])]);
      offset += size;
    });
    losses.push(loss);
    adam.apply(sums!, SETUP.lr);
    tf.dispose(sums!);
  }
  const weights = weightsByLayer(model.layers);
  tf.dispose([x, y]);
  adam.dispose();
  model.dispose();
  return { weights, losses };
}

/** max |a - b| / max |b| over one tensor. */
function relativeError(a: number[], b: number[]): number {
  let diff = 0;
  let scale = 0;
  b.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(a[i] - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return diff / scale;
}

/** Asserts the stages' losses and weights are the reference's within 1e-5 relative, and nothing leaked. */
function expectReference(t: { diagnostic: (message: string) => void }, [first, last]: WorkerReport[], reference: ReturnType<typeof trainSingleProcess>): void {
  assert.deepEqual([first.leaked, last.leaked], [0, 0], 'a step frees every tensor it made but the gradients');
  assert.deepEqual(first.losses, [null, null, null], 'only the last stage has the loss');
  last.losses.forEach((loss, step) => {
    assert.ok(Math.abs(loss! - reference.losses[step]) <= 1e-5 * reference.losses[step], `step ${step}: ${loss} vs ${reference.losses[step]}`);
  });
  assert.ok(reference.losses[2] < reference.losses[0], 'training moved the weights');
  const trained = { ...first.weights, ...last.weights };
  assert.deepEqual(Object.keys(trained).sort(), Object.keys(reference.weights).sort());
  const errors = Object.entries(reference.weights).map(([name, ref]) => [name, relativeError(trained[name], ref)] as const);
  t.diagnostic(`max relative weight error per variable: ${errors.map(([n, e]) => `${n} ${e.toExponential(1)}`).join(', ')}`);
  for (const [name, error] of errors) assert.ok(error <= 1e-5, `${name}: relative error ${error}`);
}

describe('pipelineStep on 2 processes (GPipe)', () => {
  it('trains the seed CNN split in 2 stages (4 micro-batches) to the weights and losses of single-process training', async (t) => {
    const dir = tmp('insight-pipeline-');
    try {
      const [first, last] = await trainPipeline(dir, PLAIN);
      // The default (FLOPs-balanced) split of the seed CNN: conv1 and pool1, then the rest; all 122,570 params.
      assert.deepEqual(first.layerNames, ['conv1', 'pool1']);
      assert.deepEqual(last.layerNames, ['conv2', 'pool2', 'conv3', 'flatten', 'dense1', 'logits']);
      assert.equal(first.params + last.params, 122_570);
      expectReference(t, [first, last], trainSingleProcess(PLAIN));
      t.diagnostic(`step ms, rank 0: ${first.stepMs.map((ms) => ms.toFixed(0)).join(' ')}; rank 1: ${last.stepMs.map((ms) => ms.toFixed(0)).join(' ')}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs 8 micro-batches a step (more sends in flight than the 4 libuv pool threads) to the same weights', async (t) => {
    const dir = tmp('insight-pipeline-');
    try {
      const setup: PipelineCase = { microBatches: 8, dropout: 0 };
      expectReference(t, await trainPipeline(dir, setup), trainSingleProcess(setup));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with dropout in both stages, draws the masks of single-process training (also in stage 0\'s recomputed forward pass)', async (t) => {
    const dir = tmp('insight-pipeline-');
    try {
      // Stage 0: conv1 .. flatten, dropout1 (its forward pass recomputed in the backward phase); stage 1: dense1, dropout2, logits.
      const setup: PipelineCase = { microBatches: 4, dropout: 0.5, boundary: 7 };
      const reports = await trainPipeline(dir, setup);
      assert.deepEqual(reports.map((r) => r.layerNames.slice(-1)[0]), ['dropout1', 'logits']);
      assert.deepEqual(reports[1].layerNames, ['dense1', 'dropout2', 'logits']);
      expectReference(t, reports, trainSingleProcess(setup));
      // Dropout mattered: without it the same steps give other losses.
      const plain = trainSingleProcess({ microBatches: 4, dropout: 0 });
      assert.ok(Math.abs(plain.losses[2] - reports[1].losses[2]!) > 1e-3, `losses with and without dropout: ${reports[1].losses[2]} vs ${plain.losses[2]}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails the step of a rank whose peer died with INSIGHT_E_DISTRIBUTED naming the rank and message, well before the timeout', async () => {
    const dir = tmp('insight-pipeline-');
    try {
      const started = Date.now();
      const [survivor, dead] = await runPipeline(dir, PLAIN, { PIPELINE_DIE: '1' });
      assert.equal(dead.code, 7);
      assert.equal(survivor.code, 1);
      assert.match(survivor.stderr, /Error INSIGHT_E_DISTRIBUTED: Pipeline training needs every rank of its group alive: a collective failed\. /);
      assert.match(survivor.stderr, /Received: rank=0, collective="pipeline (send of micro-batch \d's activations to|recv of micro-batch 3's output gradients from) rank 1", error="tfjs-backend-torch: (send to|recv from) rank 1 on rank 0 of 2 failed: /);
      assert.match(survivor.stderr, /Read the first error of the other ranks \(a stage that failed or was killed ends the pipeline\), then start every stage again\./);
      assert.ok(Date.now() - started < 50_000, 'the failed send ended the step, not the 60 s collective timeout');
      assert.equal(fs.existsSync(path.join(dir, 'rank0.json')), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
