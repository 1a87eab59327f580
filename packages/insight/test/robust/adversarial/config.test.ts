// Adversarial training's config: --eps as a fraction, the step-size defaults, and the refusals (no validation
// images for the guard, Mixup/CutMix in the same run, radii out of range, val_robust_accuracy monitored or tuned
// without the guard) with their messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InsightError } from '../../../src/errors';
import { adversarialSettingsOf, describeAdversarial } from '../../../src/robust/adversarial/settings';
import { resolveTrainConfig } from '../../../src/train/config';
import { checkMetricLogged } from '../../../src/tune/trial_runner';

function refused(input: Record<string, unknown>, message: string | RegExp): void {
  assert.throws(() => resolveTrainConfig(input), (e: unknown) => {
    assert.ok(e instanceof InsightError);
    assert.equal(e.code, 'INSIGHT_E_CONFIG');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('adversarial training config', () => {
  it('reads --eps 8/255 and fills in the papers\' step sizes', () => {
    const config = resolveTrainConfig({ adversarial: 'fgsm-rs', eps: '8/255' });
    assert.equal(config.eps, 8 / 255);
    assert.deepEqual(adversarialSettingsOf(config), { method: 'fgsm-rs', eps: 8 / 255, alpha: 1.25 * 8 / 255, steps: 1 });
    assert.equal(describeAdversarial(adversarialSettingsOf(config)!), 'fgsm-rs eps 0.0314 (8/255) alpha 0.0392 (10/255)');
    const pgd = resolveTrainConfig({ adversarial: 'pgd', eps: '4/255', advSteps: '10' });
    assert.deepEqual(adversarialSettingsOf(pgd), { method: 'pgd', eps: 4 / 255, alpha: 2.5 * (4 / 255) / 10, steps: 10 });
    assert.equal(adversarialSettingsOf(resolveTrainConfig({ adversarial: 'pgd' }))!.steps, 7, 'Madry et al.\'s 7 steps by default');
    assert.equal(adversarialSettingsOf(resolveTrainConfig({ adversarial: 'pgd', advAlpha: '2/255' }))!.alpha, 2 / 255);
    assert.equal(adversarialSettingsOf(resolveTrainConfig({})), null, 'off by default');
    const defaults = resolveTrainConfig({});
    assert.deepEqual([defaults.advGuardImages, defaults.advGuardSteps, defaults.advGuardDrop, defaults.advGuardRatio], [256, 10, 0.2, 0.5]);
  });

  it('refuses the guard without validation images, unless it is turned off', () => {
    refused({ adversarial: 'fgsm-rs', validationCount: 0, monitor: 'loss' },
      'Adversarial training\'s catastrophic-overfitting guard checks robust accuracy on validation images after every epoch. ' +
      'Received: adversarial="fgsm-rs", validationCount=0, advGuardImages=256. ' +
      'Keep a validation split (--validation-count > 0 or --val-data), or turn the guard off with --adv-guard-images 0.');
    assert.equal(resolveTrainConfig({ adversarial: 'fgsm-rs', validationCount: 0, monitor: 'loss', advGuardImages: 0 }).advGuardImages, 0);
    assert.equal(resolveTrainConfig({ validationCount: 0, monitor: 'loss' }).adversarial, 'none', 'plain training needs no validation');
  });

  it('monitors val_robust_accuracy only where the guard measures it', () => {
    refused({ monitor: 'val_robust_accuracy' }, 'val_robust_accuracy is measured by adversarial training\'s guard after every epoch: it needs ' +
      '--adversarial with --adv-guard-images > 0. Received: monitor="val_robust_accuracy", adversarial="none", advGuardImages=256. ' +
      'Add --adversarial fgsm-rs (or pgd), or monitor val_accuracy.');
    refused({ adversarial: 'pgd', advGuardImages: 0, monitor: 'val_robust_accuracy' }, 'val_robust_accuracy is measured by adversarial training\'s guard ' +
      'after every epoch: it needs --adversarial with --adv-guard-images > 0. Received: monitor="val_robust_accuracy", adversarial="pgd", advGuardImages=0. ' +
      'Give the guard images (e.g. --adv-guard-images 256), or monitor val_accuracy.');
    assert.equal(resolveTrainConfig({ adversarial: 'fgsm-rs', monitor: 'val_robust_accuracy' }).monitor, 'val_robust_accuracy');
    // a study's metric likewise (tune)
    assert.throws(() => checkMetricLogged('val_robust_accuracy', resolveTrainConfig({})), { code: 'INSIGHT_E_CONFIG',
      message: /^val_robust_accuracy is measured by adversarial training's guard .* Received: metric="val_robust_accuracy", adversarial="none", advGuardImages=256\. Add --adversarial fgsm-rs \(or pgd\), or tune val_accuracy\.$/ });
    checkMetricLogged('val_robust_accuracy', resolveTrainConfig({ adversarial: 'fgsm-rs' }));
  });

  it('refuses Mixup or CutMix in the same run (one batch transform)', () => {
    refused({ adversarial: 'pgd', mixup: 0.2 }, /^Adversarial training and Mixup\/CutMix both rewrite the training batch; a run uses one of them\. Received: adversarial="pgd", mixup=0\.2, cutmix=0\./);
    refused({ adversarial: 'fgsm-rs', cutmix: 1 }, /Received: adversarial="fgsm-rs", mixup=0, cutmix=1\./);
  });

  it('refuses adversarial settings that would do nothing: without --adversarial, and --adv-steps with fgsm-rs', () => {
    refused({ eps: '4/255' }, '--eps is a setting of adversarial training: it needs --adversarial. Received: adversarial="none", eps=0.01568627450980392. ' +
      'Add --adversarial fgsm-rs or --adversarial pgd, or leave --eps out.');
    refused({ advGuardImages: 64 }, /^--adv-guard-images is a setting of adversarial training: it needs --adversarial\. Received: adversarial="none", advGuardImages=64\./);
    refused({ advAlpha: '2/255' }, /^--adv-alpha is a setting of adversarial training/);
    refused({ adversarial: 'fgsm-rs', advSteps: 10 },
      '--adv-steps is the step count of --adversarial pgd; fgsm-rs is one step. Received: adversarial="fgsm-rs", advSteps=10. Use --adversarial pgd, or leave --adv-steps out.');
    assert.equal(resolveTrainConfig({ eps: '8/255' }).adversarial, 'none', 'the default value itself is not a setting');
    assert.equal(resolveTrainConfig({ adversarial: 'fgsm-rs', advAlpha: '8/255', advGuardImages: 64 }).advGuardImages, 64);
  });

  it('refuses radii and steps out of range, naming the key', () => {
    refused({ adversarial: 'fgsm-rs', eps: 0 }, 'eps must be a number > 0 and <= 1. Received: eps=0. Pass e.g. --eps 0.03137254901960784 (default: 0.03137254901960784).');
    refused({ adversarial: 'fgsm-rs', eps: '8/0' }, /^eps must be a number > 0 and <= 1\. Received: eps="8\/0"\./);
    refused({ adversarial: 'fgsm-rs', eps: 2 }, /^eps must be a number > 0 and <= 1\. Received: eps=2\./);
    refused({ adversarial: 'pgd', advSteps: 0 }, /^advSteps must be an integer >= 1 and <= 100\. Received: advSteps=0\./);
    refused({ adversarial: 'pgd', advGuardRatio: 1 }, /^advGuardRatio must be a number >= 0 and < 1\. Received: advGuardRatio=1\./);
    refused({ adversarial: 'fgsm' }, /^adversarial must be one of: none, fgsm-rs, pgd\. Received: adversarial="fgsm"\./);
  });
});
