// Adversarial training as a batch transform (train/train_step.ts BatchTransform, passed to fit() as
// FitOptions.transform): every training micro-batch is replaced by its adversarial version before the step's own
// forward and backward pass, which then trains on x + δ with the ordinary cross-entropy. The examples are the
// attacks' PGD (robust/attacks/): a random start δ ~ U(-ε, ε) put into the image box, then `steps` signed-gradient
// steps of α, each projected onto the ε ball ∩ the box — fgsm-rs is one step of α = 1.25 ε (Wong et al. 2020: their
// delta.uniform_(-ε, ε), clamp to the box, one step, clamp to ε and the box), pgd k steps of 2.5 ε / k (Madry et al.).
//   - The attack's passes run with training: true, as Wong et al.'s and Madry et al.'s PyTorch code (model.train()):
//     dropout active with the step's own masks (seeded per step, train/dropout_seeds.ts), BatchNorm normalizing with
//     the batch's statistics, so δ is crafted against the very function the step differentiates.
//   - BatchNorm's moving statistics are NOT updated by the attack's passes (moving_statistics.ts): they move once per
//     micro-batch, from the adversarial batch the step trains on, with the same horizon as in plain training (in
//     PyTorch the attack's passes move running_mean too: 1 + steps updates per batch, a shorter effective memory).
//   - The random start is seeded by (run seed, step, micro-batch, rank), so a run repeats, and resumes from a
//     checkpoint, bit for bit.
// robust/ imports nothing from train/ (train/ imports robust/), so the transform's type is restated structurally.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { Normalization } from '../../data/normalize';
import { mixSeeds } from '../../models/seeds';
import { attack } from '../attacks/attack';
import { keepingMovingStatistics } from './moving_statistics';
import type { AdversarialSettings } from './settings';

/** Where a micro-batch sits in training (train/train_step.ts BatchPosition). */
export interface BatchPositionLike {
  seed: number;
  step: number;
  microBatch: number;
  rank: number;
}

/** The batch transform's shape (train/train_step.ts BatchTransform): the input to train on, and what to free. */
export type AdversarialTransform = (x: tf.Tensor4D, y: tf.Tensor1D, model: tfl.LayersModel, at: BatchPositionLike)
  => { x: tf.Tensor4D; dispose(): void };

/** Tells the random starts apart from every other seeded draw of a step (dropout masks use 4 parts). */
const RANDOM_START = 0x61647631; // 'adv1'

/** The seed of the random start of micro-batch `at`. */
export function randomStartSeed(at: BatchPositionLike): number {
  return mixSeeds(at.seed, at.step, at.microBatch, at.rank, RANDOM_START);
}

/**
 * The transform training on `settings`' adversarial examples of every micro-batch (x normalized per `normalization`).
 * Example: `fit(model, loader, { ..., transform: adversarialTransform(adversarialSettingsOf(config)!, normalization) })`.
 */
export function adversarialTransform(settings: AdversarialSettings, normalization: Normalization): AdversarialTransform {
  return (x, y, model, at) => {
    const adversarial = keepingMovingStatistics(model, () => attack(model, x, y, {
      attack: 'pgd', eps: settings.eps, alpha: settings.alpha, steps: settings.steps, randomStart: true, seed: randomStartSeed(at), training: true,
    }, normalization));
    return { x: adversarial, dispose: () => adversarial.dispose() };
  };
}
