// insight train --precision bf16: the training passes compute convolutions and matrix products in bfloat16 (the
// backend's mixed precision), validation and the report in float32; the run records its precision; bf16 is refused
// before anything is written where it cannot run.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { bfloat16Support, getComputePrecision } from '../../src/backend';
import type { Callback } from '../../src/train/callbacks/callback';
import { train } from '../../src/train/train';
import { JPG_MINI } from '../shared_data';
import { weightsOf } from './tiny';

function sink(): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY: false, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const skip = bfloat16Support().supported ? false : 'this CPU has no native bfloat16';

/** Two epochs of SGD on 32 training images; records the backend's precision inside batches and at epoch ends. */
async function trainTiny(precision: 'fp32' | 'bf16') {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-precision-'));
  const seen = { batch: new Set<string>(), epochEnd: new Set<string>() };
  const spy: Callback = {
    name: 'precisionSpy',
    onBatchEnd: () => void seen.batch.add(getComputePrecision()),
    onEpochEnd: () => void seen.epochEnd.add(getComputePrecision()),
  };
  const out = sink();
  const result = await train({
    data: JPG_MINI, limit: 48, validationCount: 16, epochs: 2, batchSize: 16, optimizer: 'sgd', momentum: 0, lr: 0.05,
    workers: 0, tensorboard: false, seed: 4, runsDir, precision,
  }, { out, callbacks: [spy] });
  const weights = weightsOf(result.model);
  result.model.dispose();
  return { result, weights, seen, out: out.text, config: JSON.parse(fs.readFileSync(path.join(result.runDir, 'config.json'), 'utf8')) };
}

describe('train --precision', () => {
  it('bf16 trains in bfloat16, validates in float32, and records it', { skip }, async () => {
    const fp32 = await trainTiny('fp32');
    const bf16 = await trainTiny('bf16');
    assert.equal(fp32.config.precision, 'fp32');
    assert.equal(bf16.config.precision, 'bf16');
    assert.deepEqual([...fp32.seen.batch], ['float32']);
    assert.deepEqual([...bf16.seen.batch], ['bfloat16']);
    assert.deepEqual([...bf16.seen.epochEnd], ['float32']);
    assert.equal(getComputePrecision(), 'float32');
    assert.match(bf16.out, /sgd lr 0\.05 \(constant\), batch 16, 2 epochs, seed 4, bf16 mixed precision\n/);
    assert.doesNotMatch(fp32.out, /bf16/);
    // Same seed and data: bfloat16 rounding changed the weights, and the network still learns.
    assert.ok(fp32.weights.some((w, i) => w.some((v, j) => v !== bf16.weights[i][j])), 'bf16 changed no weight');
    const [first, last] = [bf16.result.state.history[0], bf16.result.state.history[1]];
    assert.ok(last.loss < first.loss, `bf16 training loss ${first.loss} -> ${last.loss}`);
  });

  it('bf16 on the cpu backend is refused before a run is written', async () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-precision-'));
    await assert.rejects(train({ data: JPG_MINI, limit: 48, epochs: 1, workers: 0, tensorboard: false, runsDir, backend: 'cpu', precision: 'bf16' },
      { out: sink() }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INSIGHT_E_CONFIG');
      assert.match(error.message, /--precision bf16 needs the torch backend/);
      assert.match(error.message, /Received: precision="bf16", backend="cpu"/);
      assert.match(error.message, /use --precision fp32/);
      return true;
    });
    assert.deepEqual(fs.readdirSync(runsDir), []);
    assert.equal(getComputePrecision(), 'float32');
  });
});
