// A pipeline stage in one process, on a real one-rank Gloo group: the world size must equal the number of stages,
// a stage checks the batch tensors it needs, and a one-stage pipeline's micro-batched step gives the gradients of
// gradientStep on the whole batch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ProcessGroup } from '@insight/tfjs-backend-torch';
import * as tfl from '@tensorflow/tfjs-layers';

import { initBackend, tf } from '../../../src/backend';
import { freeLocalPort } from '../../../src/process/launch/free_port';
import { gradientStep } from '../../../src/train/gradient_step';
import { PipelineStage, pipelineStep, splitModel } from '../../../src/train/pipeline';
import { trainableVariables } from '../../../src/train/trainer';
import { PLAIN, SETUP, setupBatch, setupModel } from './setup';

let group: ProcessGroup;

before(async () => {
  await initBackend();
  group = await ProcessGroup.init({ masterAddr: '127.0.0.1', masterPort: await freeLocalPort(), rank: 0, worldSize: 1, timeoutMs: 30_000 });
});

after(() => group.close());

describe('PipelineStage', () => {
  it('refuses a group whose world size is not the number of stages', () => {
    const model = setupModel();
    assert.throws(() => new PipelineStage(model, splitModel(model, { stages: 2 }), group), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INSIGHT_E_CONFIG');
      assert.equal(error.message, 'A pipeline runs one stage per process: the group\'s world size must equal the number of stages. ' +
        'Received: worldSize=1, stages=2. Start 2 processes (e.g. insight launch --nproc-per-node 2), or split into 1 stages.');
      return true;
    });
    model.dispose();
  });

  it('on one stage, 4 micro-batches give the whole batch\'s loss, correct count and gradients; nothing leaks', async () => {
    const model = setupModel();
    const stage = new PipelineStage(model, splitModel(model, { stages: 1 }), group);
    assert.equal(stage.variables.length, 10);
    assert.ok(stage.isFirst && stage.isLast);
    const { x, y } = setupBatch();
    const reference = gradientStep(model, trainableVariables(model), x, y, 0);
    const before = tf.memory().numTensors;
    const result = await pipelineStep(stage, { size: SETUP.batchSize, x, y }, { microBatches: PLAIN.microBatches, step: 0 });
    assert.equal(tf.memory().numTensors - before, result.grads.length, 'only the gradients are new');
    assert.ok(Math.abs(result.loss! - reference.loss.dataSync()[0]) <= 1e-6 * result.loss!);
    assert.equal(result.correct, reference.correct.dataSync()[0]);
    result.grads.forEach((g, i) => {
      const scale = tf.max(tf.abs(reference.grads[i])).dataSync()[0];
      const diff = tf.max(tf.abs(tf.sub(g, reference.grads[i]))).dataSync()[0];
      assert.ok(diff <= 1e-5 * scale, `gradient ${i}: ${diff} vs scale ${scale}`);
    });
    tf.dispose([...result.grads, ...reference.grads, reference.loss, reference.correct, x, y]);
    model.dispose();
  });

  it('refuses a batch without the tensors its stage needs, or with the wrong shape', async () => {
    const model = setupModel();
    const stage = new PipelineStage(model, splitModel(model, { stages: 1 }), group);
    const { x, y } = setupBatch();
    await assert.rejects(pipelineStep(stage, { size: SETUP.batchSize, y }, { microBatches: 2, step: 0 }),
      /Pipeline stage 0 needs the batch's x: a float32 tensor of shape \[10, 32, 32, 3\]\. Received: x="missing", size=10\. Pass x \(the images\) to stage 0\./);
    const floatLabels = tf.cast(y, 'float32');
    await assert.rejects(pipelineStep(stage, { size: SETUP.batchSize, x, y: floatLabels }, { microBatches: 2, step: 0 }),
      /needs the batch's y: an int32 tensor of shape \[10\]\. Received: y="float32\[10\]", size=10\. Pass y \(the int32 labels\) to the last stage\./);
    await assert.rejects(pipelineStep(stage, { size: SETUP.batchSize, x, y }, { microBatches: 11, step: 0 }), /Micro-batches per step must be a whole number from 1 to the batch size/);
    tf.dispose([x, y, floatLabels]);
    model.dispose();
  });

  it('backward pulls dy back through a recomputed forward pass without updating BatchNorm statistics again', () => {
    const model = tfl.sequential({ layers: [
      tfl.layers.dense({ inputShape: [6], units: 5, kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }), name: 'bn_dense' }),
      tfl.layers.batchNormalization({ name: 'bn' }),
    ] });
    const stage = new PipelineStage(model, splitModel(model, { stages: 1 }), group);
    const x = tf.tensor2d(Array.from({ length: 24 }, (_, i) => Math.sin(i)), [4, 6]);
    const dy = tf.tensor2d(Array.from({ length: 20 }, (_, i) => Math.cos(i)), [4, 5]);
    const movingMean = () => Array.from(model.getLayer('bn').getWeights()[2].dataSync());
    assert.deepEqual(movingMean(), [0, 0, 0, 0, 0]);
    tf.dispose(stage.forward(x)); // the forward phase: moves the statistics once
    const afterForward = movingMean();
    assert.ok(afterForward.some((v) => v !== 0), 'the forward pass in training mode moved the statistics');
    const { dx, grads } = stage.backward(x, dy);
    assert.deepEqual(movingMean(), afterForward);
    assert.equal(dx, null, 'stage 0 has no input gradient to send');
    // The same vector-Jacobian product by tfjs directly: d sum(forward(x) * dy) / d variables.
    const expected = tf.variableGrads(() => tf.sum(tf.mul(stage.forward(x), dy)) as tf.Scalar, stage.variables).grads;
    grads.forEach((g, i) => {
      const diff = tf.max(tf.abs(tf.sub(g, expected[stage.variables[i].name]))).dataSync()[0];
      assert.ok(diff <= 1e-6, `variable ${i}: ${diff}`);
    });
    tf.dispose([x, dy, ...grads, ...Object.values(expected)]);
    model.dispose();
  });
});
