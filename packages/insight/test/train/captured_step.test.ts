// Training steps replayed natively (train/gradient_step.ts capturedGradientStep, the optimizers' captured update): a
// fit with capture on replays its steps in the addon and ends with the weights, BatchNorm statistics included, of the
// same fit run eagerly (INSIGHT_TORCH_CAPTURE=0's switch), bit for bit; so does a model with dropout, whose gradient
// step stays eager (its masks are drawn in JS) while its updates replay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import * as tfl from '@tensorflow/tfjs-layers';
import { setCaptureEnabled } from '@insight/tfjs-backend-torch';

import { initBackend } from '../../src/backend';
import { DataLoader } from '../../src/data';
import { Adam, AdamW, paramsOf } from '../../src/train/optimizers';
import { CosineSchedule } from '../../src/train/schedules';
import { fit, trainableVariables } from '../../src/train/trainer';
import { requireBinding } from '../../../tfjs-backend-torch/src/binding';
import { tinyDataset, tinyModel, weightsOf } from './tiny';

before(async () => {
  await initBackend();
});
after(() => setCaptureEnabled(true));

/** conv (ReLU) → BatchNorm → max pool → flatten → [dropout] → dense logits, seeded. */
function model(dropout: number): tfl.LayersModel {
  const init = tfl.initializers.glorotUniform({ seed: 4 });
  return tfl.sequential({ layers: [
    tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init }),
    tfl.layers.batchNormalization(),
    tfl.layers.maxPooling2d({ poolSize: 2 }),
    tfl.layers.flatten(),
    ...(dropout > 0 ? [tfl.layers.dropout({ rate: dropout })] : []),
    tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
  ] });
}

/** Trains 4 epochs of 4 steps (AdamW, cosine lr: every step's values differ); weights and native program runs. */
async function train(capture: boolean, build: () => tfl.LayersModel): Promise<{ weights: number[][]; programRuns: number; loss: number }> {
  setCaptureEnabled(capture);
  const binding = requireBinding() as unknown as { programRun: (...a: unknown[]) => unknown };
  const run = binding.programRun;
  let programRuns = 0;
  binding.programRun = (...a: unknown[]) => {
    programRuns++;
    return run.apply(binding, a);
  };
  const net = build();
  const optimizer = new AdamW(paramsOf(trainableVariables(net)), { weightDecay: 0.01 });
  const loader = new DataLoader(tinyDataset(64, 8, 3), { batchSize: 16, seed: 2, workers: 0 });
  try {
    const state = await fit(net, loader, { epochs: 4, optimizer, schedule: new CosineSchedule(0.01, 16, 2, 0), seed: 5, labelSmoothing: 0.1 });
    return { weights: weightsOf(net), programRuns, loss: state.history[3].loss };
  } finally {
    binding.programRun = run;
    await loader.close();
    optimizer.dispose();
    net.dispose();
  }
}

describe('captured training steps', () => {
  it('replay natively and end with the eager run\'s weights and BatchNorm statistics, bit for bit', async () => {
    const captured = await train(true, () => model(0));
    const eager = await train(false, () => model(0));
    // 16 steps: the gradient step replays from step 3 (14 runs). The update's first call makes Adam's moments (not a
    // recording); the gradients of the two eager steps include a view (the dense kernel's), the replayed steps' do not:
    // another signature, recorded at steps 3 and 4, replayed from step 5 (12 runs).
    assert.equal(captured.programRuns, 26);
    assert.equal(eager.programRuns, 0);
    assert.deepEqual(captured.weights, eager.weights);
    assert.equal(captured.loss, eager.loss);
  });

  it('with dropout the gradient step stays eager, the update replays, and the weights are the eager run\'s', async () => {
    const captured = await train(true, () => model(0.3));
    const eager = await train(false, () => model(0.3));
    assert.equal(captured.programRuns, 13);  // the update, from step 4
    assert.deepEqual(captured.weights, eager.weights);
  });

  it('Adam on the tiny model (no BatchNorm, no pooling) agrees too', async () => {
    const run = async (capture: boolean) => {
      setCaptureEnabled(capture);
      const net = tinyModel(3);
      const optimizer = new Adam(paramsOf(trainableVariables(net)));
      const loader = new DataLoader(tinyDataset(), { batchSize: 16, seed: 1, workers: 0 });
      await fit(net, loader, { epochs: 3, optimizer, schedule: new CosineSchedule(0.01, 12, 0, 0), seed: 3 });
      await loader.close();
      optimizer.dispose();
      const weights = weightsOf(net);
      net.dispose();
      return weights;
    };
    assert.deepEqual(await run(true), await run(false));
  });
});
