// One pipeline rank (started by gpipe.test.ts with torchrun's variables MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE):
// `gpipe_worker.ts <report file> <PipelineCase JSON>` joins the group, trains its stage of the seed CNN for
// SETUP.steps GPipe steps with Adam, and writes a WorkerReport. Collectives time out after PIPELINE_TIMEOUT_MS
// (default 60 s).
import * as fs from 'node:fs';

import { ProcessGroup } from '@insight/tfjs-backend-torch';

import { initBackend, tf } from '../../../src/backend';
import { Adam, paramsOf } from '../../../src/train/optimizers';
import { PipelineStage, pipelineStep, splitModel } from '../../../src/train/pipeline';
import { SETUP, setupBatch, setupModel, weightsByLayer, type PipelineCase, type WorkerReport } from './setup';

async function main(): Promise<void> {
  const [out, caseJson] = process.argv.slice(2);
  const setup = JSON.parse(caseJson) as PipelineCase;
  await initBackend();
  const group = await ProcessGroup.fromEnv(process.env, Number(process.env.PIPELINE_TIMEOUT_MS ?? 60_000));
  try {
    // PIPELINE_DIE=<rank>: that rank leaves before its first step, as a crashed peer would.
    if (process.env.PIPELINE_DIE === String(group.rank)) process.exit(7);
    const model = setupModel(setup.dropout);
    const boundaries = setup.boundary === undefined ? undefined : [setup.boundary];
    const stage = new PipelineStage(model, splitModel(model, { stages: group.worldSize, boundaries }), group);
    const adam = new Adam(paramsOf(stage.variables));
    const { x, y } = setupBatch();
    const before = tf.memory().numTensors;
    const losses: (number | null)[] = [];
    const stepMs: number[] = [];
    for (let step = 0; step < SETUP.steps; step++) {
      const started = performance.now();
      const { grads, loss } = await pipelineStep(stage, { size: SETUP.batchSize, x, y }, { microBatches: setup.microBatches, step, seed: SETUP.seed });
      adam.apply(grads, SETUP.lr);
      tf.dispose(grads);
      stepMs.push(performance.now() - started);
      losses.push(loss);
    }
    const leaked = tf.memory().numTensors - before - 2 * stage.variables.length; // Adam's moments m and v are new, and kept
    const weights = weightsByLayer(stage.layers);
    const report: WorkerReport = { rank: group.rank, layerNames: stage.plan.layerNames, params: stage.plan.params, weights, losses, stepMs, leaked };
    fs.writeFileSync(out, JSON.stringify(report));
  } finally {
    group.close();
  }
}

main().catch((error: Error & { code?: string }) => {
  console.error(`Error ${error.code ?? ''}: ${error.message}`);
  process.exit(1);
});
