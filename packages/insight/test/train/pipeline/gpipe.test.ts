// Pipeline parallelism end to end: two processes (gpipe_worker.ts, ranks 0 and 1 of a Gloo group on 127.0.0.1)
// train the two stages of the seed CNN for a few GPipe steps (4 micro-batches of sizes 3, 3, 2, 2) with Adam; the
// final weights of both stages and every step's loss equal one process training the whole model on the whole
// batch (gradientStep + Adam, no pipeline code) within 1e-5 relative. A rank whose peer dies fails its step promptly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { gradientStep } from '../../../src/train/gradient_step';
import { Adam, paramsOf } from '../../../src/train/optimizers';
import { trainableVariables } from '../../../src/train/trainer';
import { SETUP, setupBatch, setupModel, weightsByLayer, type WorkerReport } from './setup';

const WORKER = path.join(__dirname, 'gpipe_worker.ts');

before(async () => {
  await initBackend();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Exit {
  rank: number;
  code: number | null;
  stderr: string;
}

/** Runs one worker to completion (killed after 90 s). */
function runWorker(rank: number, worldSize: number, port: number, out: string, extra: Record<string, string> = {}): Promise<Exit> {
  const env = {
    ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(rank), WORLD_SIZE: String(worldSize),
    LOCAL_RANK: String(rank), INSIGHT_TORCH_THREADS: '1', PIPELINE_OUT: out, ...extra,
  };
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', WORKER], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ rank, code, stderr });
    });
  });
}

/** Both ranks' reports, once both exited 0. */
async function trainPipeline(dir: string): Promise<WorkerReport[]> {
  const port = await freePort();
  const outs = [0, 1].map((rank) => path.join(dir, `rank${rank}.json`));
  const exits = await Promise.all(outs.map((out, rank) => runWorker(rank, 2, port, out)));
  for (const exit of exits) assert.equal(exit.code, 0, `rank ${exit.rank} failed:\n${exit.stderr}`);
  return outs.map((out) => JSON.parse(fs.readFileSync(out, 'utf8')) as WorkerReport);
}

/** The reference: one process, the whole model, the whole batch per step, Adam. */
function trainSingleProcess(): { weights: Record<string, number[]>; losses: number[] } {
  const model = setupModel();
  const variables = trainableVariables(model);
  const adam = new Adam(paramsOf(variables));
  const { x, y } = setupBatch();
  const losses: number[] = [];
  for (let step = 0; step < SETUP.steps; step++) {
    const { loss, correct, grads } = gradientStep(model, variables, x, y, 0);
    losses.push(loss.dataSync()[0]);
    adam.apply(grads, SETUP.lr);
    tf.dispose([loss, correct, ...grads]);
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

describe('pipelineStep on 2 processes (GPipe)', () => {
  it('trains the seed CNN split in 2 stages to the weights and losses of single-process training', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-pipeline-'));
    try {
      const [first, last] = await trainPipeline(dir);
      const reference = trainSingleProcess();

      // The default (FLOPs-balanced) split of the seed CNN: conv1 and pool1, then the rest; all 122,570 params.
      assert.deepEqual(first.layerNames, ['conv1', 'pool1']);
      assert.deepEqual(last.layerNames, ['conv2', 'pool2', 'conv3', 'flatten', 'dense1', 'logits']);
      assert.equal(first.params + last.params, 122_570);
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
      t.diagnostic(`step ms, rank 0: ${first.stepMs.map((ms) => ms.toFixed(0)).join(' ')}; rank 1: ${last.stepMs.map((ms) => ms.toFixed(0)).join(' ')}`);
      for (const [name, error] of errors) assert.ok(error <= 1e-5, `${name}: relative error ${error}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails the step of a rank whose peer died, with the group\'s error naming the peer, well before the timeout', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-pipeline-'));
    try {
      const port = await freePort();
      const started = Date.now();
      const [survivor, dead] = await Promise.all([0, 1].map((rank) => runWorker(rank, 2, port, path.join(dir, `rank${rank}.json`), { PIPELINE_DIE: '1' })));
      assert.equal(dead.code, 7);
      assert.equal(survivor.code, 1);
      assert.match(survivor.stderr, /tfjs-backend-torch: (send to|recv from) rank 1 on rank 0 of 2 failed: /);
      assert.ok(Date.now() - started < 50_000, 'the failed send ended the step, not the 60 s collective timeout');
      assert.equal(fs.existsSync(path.join(dir, 'rank0.json')), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
