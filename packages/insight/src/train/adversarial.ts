// Adversarial training in a run (`insight train --adversarial fgsm-rs|pgd`): the batch transform that trains on
// adversarial examples (robust/adversarial/transform.ts), and the catastrophic-overfitting guard — a PGD check of
// robust accuracy on the first --adv-guard-images validation images after every epoch (val_robust_accuracy in the
// epoch's logs), whose collapse rolls the model back to its best robust epoch and stops training.
import type { ImageDataset, Normalization } from '../data';
import { BestWeights } from '../robust/adversarial/best_weights';
import { CollapseGuard } from '../robust/adversarial/guard';
import { RobustCheck } from '../robust/adversarial/robust_check';
import { adversarialSettingsOf, describeAdversarial } from '../robust/adversarial/settings';
import { adversarialTransform } from '../robust/adversarial/transform';
import { RobustGuard } from './callbacks/robust_guard';
import type { TrainConfig } from './config';
import type { FitOptions } from './trainer';

export interface AdversarialTraining {
  /** FitOptions.transform. */
  transform: NonNullable<FitOptions['transform']>;
  /** FitOptions.epochMetrics (val_robust_accuracy), absent without the guard. */
  epochMetrics?: NonNullable<FitOptions['epochMetrics']>;
  /** The guard's callback (before ModelCheckpoint), absent without the guard. */
  guard?: RobustGuard;
  /** Lines for the run's start. */
  describe: string[];
  /** Frees the check's loader and the best weights' copy. */
  dispose(): Promise<void>;
}

/**
 * The adversarial training of `config`, or null without it. `validation`: the held-out images the guard checks
 * (null on a data-parallel rank other than 0: only rank 0 validates and decides); `bestDir`: where the guard keeps
 * the best robust weights on disk (the run's checkpoints/robust-best), so a resumed run can still roll back.
 */
export function adversarialTraining(config: TrainConfig, normalization: Normalization, validation: ImageDataset | null, bestDir: string | null):
  AdversarialTraining | null {
  const settings = adversarialSettingsOf(config);
  if (settings === null) return null;
  const transform = adversarialTransform(settings, normalization);
  const describe = [`adversarial training: ${describeAdversarial(settings)}`];
  if (config.advGuardImages === 0 || validation === null) return { transform, describe, dispose: async () => {} };
  const check = RobustCheck.onFirst(validation, config.advGuardImages, { eps: settings.eps, steps: config.advGuardSteps, normalization, seed: config.seed });
  const guard = new RobustGuard(new CollapseGuard({ drop: config.advGuardDrop, ratio: config.advGuardRatio }), new BestWeights(bestDir));
  describe.push(`catastrophic-overfitting guard: PGD-${config.advGuardSteps} on ${check.count} validation images after every epoch; ` +
    `a drop of more than ${config.advGuardDrop} below the best${config.advGuardRatio > 0 ? ` or under ${config.advGuardRatio} x the best` : ''} rolls back and stops`);
  return {
    transform,
    epochMetrics: async (model) => ({ val_robust_accuracy: await check.accuracy(model) }),
    guard,
    describe,
    dispose: async () => {
      guard.dispose();
      await check.dispose();
    },
  };
}
