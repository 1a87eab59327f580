// train(config, { callbacks, onGradients }) on real (tiny) image data: a user callback sees every epoch and its
// state is checkpointed with the run; a gradient hook that zeroes the gradients leaves every weight unchanged,
// one that doubles them steps exactly like a doubled learning rate (plain SGD).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { tf } from '../../src/backend';
import type { Callback } from '../../src/train/callbacks/callback';
import { train, type TrainOptions } from '../../src/train/train';
import { JPG_MINI } from '../shared_data';
import { weightsOf } from './tiny';

function sink(): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY: false, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

/** Two epochs of plain SGD on 32 training images; returns the weights before training (seen by a callback) and after. */
async function trainTiny(lr: number, options: TrainOptions = {}, runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-hooks-'))) {
  let initial: number[][] = [];
  const watcher: Callback = { name: 'initialWeights', onTrainBegin: (ctx) => void (initial = weightsOf(ctx.model)) };
  const result = await train({
    data: JPG_MINI, limit: 48, validationCount: 16, epochs: 2, batchSize: 16, optimizer: 'sgd', momentum: 0, lr,
    workers: 0, tensorboard: false, seed: 4, runsDir,
  }, { out: sink(), ...options, callbacks: [watcher, ...(options.callbacks ?? [])] });
  const final = weightsOf(result.model);
  result.model.dispose();
  return { initial, final, result };
}

describe('train(config, { callbacks, onGradients })', () => {
  it('a user callback sees every epoch, after the built-in ones, and its state is checkpointed', async () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-hooks-'));
    const epochs: number[] = [];
    const seenOnDisk: { metricsLines: number; checkpointed: boolean }[] = [];
    let lossAtEnd = 0;
    const mine: Callback & { count: number } = {
      name: 'mine', count: 0,
      onEpochEnd(logs) {
        epochs.push(logs.epoch);
        this.count++;
        lossAtEnd = logs.loss;
        // metrics.jsonl already has this epoch; the checkpoint (last in line) has not been written for it yet.
        const run = path.join(runsDir, fs.readdirSync(runsDir)[0]);
        const trainerJson = path.join(run, 'checkpoints', 'last', 'trainer.json');
        seenOnDisk.push({
          metricsLines: fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').length,
          checkpointed: fs.existsSync(trainerJson) && JSON.parse(fs.readFileSync(trainerJson, 'utf8')).epoch === logs.epoch,
        });
      },
      getState() { return { count: this.count }; },
    };
    const { initial, final, result } = await trainTiny(0.1, { callbacks: [mine] }, runsDir);
    assert.deepEqual(epochs, [1, 2]);
    assert.deepEqual(seenOnDisk, [{ metricsLines: 1, checkpointed: false }, { metricsLines: 2, checkpointed: false }]);
    assert.equal(lossAtEnd, result.state.history[1].loss);
    assert.notDeepEqual(final, initial, 'it trained');
    const trainer = JSON.parse(fs.readFileSync(path.join(result.runDir, 'checkpoints', 'last', 'trainer.json'), 'utf8'));
    assert.deepEqual(trainer.callbacks.mine, { count: 2 });
  });

  it('a gradient hook that zeroes the gradients leaves the weights unchanged; one that doubles them doubles the step', async () => {
    let updates = 0;
    const zeroed = await trainTiny(0.1, { onGradients: (grads) => { updates++; return grads.map((g) => tf.zerosLike(g)); } });
    assert.equal(updates, 4, '2 updates per epoch');
    assert.deepEqual(zeroed.final, zeroed.initial);
    const plain = await trainTiny(0.1);
    const doubled = await trainTiny(0.05, { onGradients: (grads) => grads.map((g) => tf.mul(g, 2)) });
    assert.deepEqual(doubled.initial, plain.initial);
    assert.deepEqual(doubled.final, plain.final);
  });
});
