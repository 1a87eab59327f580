// The mixing keys of a training run's config: defaults, ranges, the settings refused as doing nothing, the refusal
// next to adversarial training, and an end-to-end `insight train --mixup 0.2` that completes and records them.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';

import { InsightError } from '../../../src/errors';
import { resolveTrainConfig, TRAIN_DEFAULTS } from '../../../src/train/config';
import { describeMixing } from '../../../src/train/mixing';
import { MINI, runMain } from '../../cli/io';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-mixing-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function refused(config: Record<string, unknown>, message: string): void {
  assert.throws(() => resolveTrainConfig(config), (e: unknown) => {
    assert.ok(e instanceof InsightError);
    assert.equal(e.code, 'INSIGHT_E_CONFIG');
    assert.equal(e.message, message);
    return true;
  });
}

describe('mixing config', () => {
  it('is off by default: mixup 0, cutmix 0, every batch once on, an even switch', () => {
    assert.deepEqual([TRAIN_DEFAULTS.mixup, TRAIN_DEFAULTS.cutmix, TRAIN_DEFAULTS.mixProb, TRAIN_DEFAULTS.mixSwitchProb], [0, 0, 1, 0.5]);
    const both = resolveTrainConfig({ mixup: 0.2, cutmix: 1, mixProb: 0.5, mixSwitchProb: 0.3 });
    assert.deepEqual([both.mixup, both.cutmix, both.mixProb, both.mixSwitchProb], [0.2, 1, 0.5, 0.3]);
    assert.equal(describeMixing(both), 'mixing: mixup alpha 0.2 or cutmix alpha 1 (cutmix for 30%), 50% of batches; training accuracy counts each image\'s dominant label');
    assert.equal(describeMixing(resolveTrainConfig({ cutmix: 1 })), 'mixing: cutmix alpha 1, every batch; training accuracy counts each image\'s dominant label');
  });

  it('refuses values out of range, naming them', () => {
    assert.throws(() => resolveTrainConfig({ mixup: -0.2 }), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG' && /Received: mixup=-0\.2/.test(e.message));
    assert.throws(() => resolveTrainConfig({ cutmix: 1, mixProb: 1.5 }), (e: unknown) => e instanceof InsightError && /Received: mixProb=1\.5/.test(e.message));
  });

  it('refuses --mix-prob without mixing and --mix-switch-prob without both', () => {
    refused({ mixProb: 0.5 }, 'mixProb is the probability that a batch is mixed; it needs Mixup or CutMix. Received: mixProb=0.5, mixup=0, cutmix=0. ' +
      'Add --mixup <alpha> and/or --cutmix <alpha> (e.g. --mixup 0.2), or drop --mix-prob.');
    refused({ mixup: 0.2, mixSwitchProb: 0.3 }, 'mixSwitchProb chooses between Mixup and CutMix per batch; it needs both on. Received: mixSwitchProb=0.3, mixup=0.2, cutmix=0. ' +
      'Pass both --mixup <alpha> and --cutmix <alpha>, or drop --mix-switch-prob.');
  });

  it('refuses Mixup or CutMix together with adversarial training', () => {
    const message = (mixup: number, cutmix: number) => 'Adversarial training and Mixup/CutMix both rewrite the training batch; a run uses one of them. ' +
      `Received: adversarial="fgsm-rs", mixup=${mixup}, cutmix=${cutmix}. Drop --adversarial, or drop --mixup and --cutmix (set them to 0).`;
    refused({ mixup: 0.2, adversarial: 'fgsm-rs' }, message(0.2, 0));
    refused({ cutmix: 1, adversarial: 'fgsm-rs' }, message(0, 1));
    assert.equal(resolveTrainConfig({ mixup: 0, adversarial: 'fgsm-rs' }).adversarial, 'fgsm-rs');
  });
});

describe('insight train with mixing', () => {
  it('refuses --mixup with --adversarial before loading data', async () => {
    const { status, stderr } = await runMain(['train', '--mixup', '0.2', '--adversarial', 'fgsm-rs', '--runs-dir', path.join(tmp, 'never')]);
    assert.notEqual(status, 0);
    assert.match(stderr, /INSIGHT_E_CONFIG/);
    assert.match(stderr, /Adversarial training and Mixup\/CutMix both rewrite the training batch; a run uses one of them\. Received: adversarial="fgsm-rs", mixup=0\.2, cutmix=0\./);
    assert.equal(fs.existsSync(path.join(tmp, 'never')), false);
  });

  it('--mixup 0.2 --epochs 1 --limit 200: completes, says so, and records the settings in config.json', async () => {
    const runsDir = path.join(tmp, 'runs');
    const { status, stdout, stderr } = await runMain(['train', '--data', MINI, '--limit', '200', '--validation-count', '40', '--mixup', '0.2', '--epochs', '1',
      '--batch-size', '16', '--runs-dir', runsDir, '--workers', '0', '--progress', 'log', '--no-tensorboard', '--seed', '2']);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /^ {2}mixing: mixup alpha 0\.2, every batch; training accuracy counts each image's dominant label$/m);
    const runDir = path.join(runsDir, fs.readdirSync(runsDir).find((name) => !name.startsWith('index'))!);
    const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
    assert.deepEqual([config.mixup, config.cutmix, config.mixProb, config.mixSwitchProb], [0.2, 0, 1, 0.5]);
    assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).status, 'completed');
    const [epoch] = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.ok(epoch.loss > 0 && Number.isFinite(epoch.loss), `loss ${epoch.loss}`);
    assert.ok(epoch.accuracy >= 0 && epoch.accuracy <= 1, `accuracy ${epoch.accuracy}`);
  });
});
