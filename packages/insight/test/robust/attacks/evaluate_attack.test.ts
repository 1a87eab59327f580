// `insight evaluate --attack`: robust accuracy next to clean accuracy, end to end through the CLI (flags with
// fractions, the text line, metrics.json's `robust`), the library's `attack: {...}` form, and the refusals.
// The model is seed-cnn trained here for a few steps on the shared JPEG mini set (not robust, somewhat accurate).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { initBackend, tf } from '../../../src/backend';
import { InsightError } from '../../../src/errors';
import { resolveEvaluateConfig } from '../../../src/eval/config';
import { evaluate } from '../../../src/eval/evaluate';
import { createModel } from '../../../src/models';
import { sparseCategoricalCrossentropy } from '../../../src/models/loss';
import { saveModel } from '../../../src/run/model_io';
import { DataLoader } from '../../../src/data';
import type { Normalization } from '../../../src/data/normalize';
import { loadDataset } from '../../../src/run/dataset_source';
import { runMain } from '../../cli/io';
import { JPG_MINI } from '../../shared_data';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-evaluate-attack-'));
const modelDir = path.join(tmp, 'model');

before(async () => {
  await initBackend();
  const normalization: Normalization = { kind: 'meanstd', mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };
  const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, classNames: CLASSES, normalization, seed: 1 });
  // A few Adam steps on the 500 images, so clean accuracy is well above chance and the attack has work to do.
  const ds = await loadDataset({ data: JPG_MINI, dataset: 'auto', imageSize: 32, imageWidth: 32 }, 'train', { minClasses: 1 });
  const loader = new DataLoader(ds, { batchSize: 100, shuffle: true, seed: 0, normalization, workers: 0 });
  const optimizer = tf.train.adam(0.003);
  for (let epoch = 0; epoch < 4; epoch++) {
    for await (const batch of loader.epoch(epoch)) {
      tf.tidy(() => {
        const x = tf.tensor4d(batch.x, [batch.size, 32, 32, 3]);
        const y = tf.tensor1d(batch.y, 'int32');
        optimizer.minimize(() => sparseCategoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor), false);
      });
    }
  }
  await loader.close();
  optimizer.dispose();
  await saveModel(model, modelDir);
  model.dispose();
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('insight evaluate --attack', () => {
  it('reports robust accuracy next to clean accuracy, in the text and in metrics.json', async () => {
    const out = path.join(tmp, 'report');
    const { status, stdout, stderr } = await runMain(['evaluate', modelDir, '--data', JPG_MINI, '--split', 'all', '--workers', '0',
      '--attack', 'pgd', '--eps', '8/255', '--steps', '3', '--attack-limit', '40', '--batch-size', '32', '--out', out]);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /Robust accuracy \d\.\d{4} under pgd-3 \(linf, eps 0\.03137 = 8\/255, alpha 0\.0261, 1 restart, seed 0\) on the first 40 images \(clean accuracy on them \d\.\d{4}\); [\d.]+ s/);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    const robust = metrics.robust;
    assert.deepEqual({ ...robust, accuracy: 0, cleanAccuracyOnSame: 0, seconds: 0 }, {
      attack: 'pgd', norm: 'linf', eps: 8 / 255, steps: 3, alpha: (2.5 * 8) / 255 / 3, restarts: 1, seed: 0, images: 40,
      accuracy: 0, cleanAccuracyOnSame: 0, seconds: 0,
    });
    assert.equal(metrics.count, 500, 'clean metrics on every image');
    assert.ok(robust.cleanAccuracyOnSame > 0.2, `clean accuracy ${robust.cleanAccuracyOnSame}`);
    assert.ok(robust.accuracy < robust.cleanAccuracyOnSame, `robust ${robust.accuracy} < clean ${robust.cleanAccuracyOnSame}`);
    assert.ok(Number.isInteger(robust.accuracy * 40) && Number.isInteger(Math.round(robust.cleanAccuracyOnSame * 40 * 1e6) / 1e6));
  });

  it('the library takes attack: {...}; a seed repeats the result; FGSM is weaker than PGD; L2 works', async () => {
    const common = { model: modelDir, data: JPG_MINI, split: 'validation', workers: 0, batchSize: 25 } as const; // 50 images
    const pgd = await evaluate({ ...common, attack: { attack: 'pgd', eps: 8 / 255, steps: 3, seed: 4, limit: 50 } });
    const again = await evaluate({ ...common, attack: 'pgd', eps: 8 / 255, steps: 3, attackSeed: 4, attackLimit: 50 });
    assert.equal(pgd.metrics.robust!.accuracy, again.metrics.robust!.accuracy);
    assert.equal(pgd.metrics.robust!.images, 50);
    const fgsm = await evaluate({ ...common, attack: { attack: 'fgsm', eps: 1 / 255, limit: 50 } });
    assert.ok(fgsm.metrics.robust!.accuracy >= pgd.metrics.robust!.accuracy);
    assert.equal(fgsm.metrics.robust!.cleanAccuracyOnSame, pgd.metrics.robust!.cleanAccuracyOnSame);
    const l2 = await evaluate({ ...common, attack: { attack: 'apgd', norm: 'l2', eps: 0.5, steps: 3, limit: 25 } });
    assert.deepEqual([l2.metrics.robust!.norm, l2.metrics.robust!.alpha, l2.metrics.robust!.images], ['l2', 1, 25]);
    assert.ok(l2.metrics.robust!.accuracy <= l2.metrics.robust!.cleanAccuracyOnSame);
  });

  it('refuses bad attack settings before loading anything, saying what to do', async () => {
    const refused = (input: Record<string, unknown>, message: string) => assert.throws(() => resolveEvaluateConfig({ model: modelDir, ...input }),
      (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && e.message === message, message);
    refused({ attack: 'pgd' }, '--attack needs --eps, the radius in pixel units ([0, 1] scale). Received: attack="pgd", eps=null. '
      + 'Pass e.g. --eps 8/255 (L-inf) or --eps 0.5 --norm l2.');
    refused({ eps: '8/255' }, '--eps is an attack setting: it needs --attack. Received: eps=0.03137254901960784. Add e.g. --attack pgd, or leave it out.');
    refused({ attack: 'pgd', eps: '8/x' }, 'eps must be a number > 0 (or null). Received: eps="8/x". Fix --eps.');
    refused({ attack: 'pgd', eps: '8/0' }, 'eps must be a number > 0 (or null). Received: eps="8/0". Fix --eps.');
    refused({ attack: 'fgsm', eps: '8/255', steps: '5' }, 'fgsm is one step of size eps from x: it takes no steps. Received: steps=5. '
      + "Leave it out, or use attack 'pgd' (FGSM with a random start is pgd with steps 1 and alpha 1.25·eps).");
    refused({ attack: { attack: 'pgd', eps: 0.1, randomStart: false } }, 'evaluate\'s attack takes the keys attack, eps, norm, steps, alpha, restarts, seed and limit. '
      + "Received: randomStart=false. Remove it, e.g. attack: { attack: 'pgd', eps: 8 / 255, steps: 20, limit: 500 }.");
    const { status, stderr } = await runMain(['evaluate', modelDir, '--attack', 'pgd', '--eps', 'big']);
    assert.equal(status, 2);
    assert.match(stderr, /eps must be a number > 0 \(or null\)\. Received: eps="big"\. Fix --eps\./);
  });
});
