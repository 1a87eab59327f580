// The random part of mixing one micro-batch, as plain numbers: whether it is mixed, Mixup or CutMix, λ, the partner
// of every image (a permutation of the batch) and CutMix's box. A function of (run seed, step, micro-batch, rank)
// alone, so a run repeats bit for bit and a resumed run draws what the uninterrupted one would have.
//
// λ is always the weight of the batch's own image and label y, and always ≥ 0.5: a draw d below 0.5 swaps the roles
// of an image and its partner (Mixup: (1-d)·x + d·x[perm]; CutMix: the image's own pixels go into the box, its
// partner's around it). A batch blended with d and perm holds the same images as one blended the other way round
// with perm⁻¹, which is as uniform as perm: the swap leaves the distribution of mixed batches unchanged, and makes y
// the dominant label of every mixed image, which the training accuracy counts.
import { permutation, randomInt, streamRng } from '../../data/random';
import type { BatchPosition } from '../train_step';
import { betaDraw } from './beta';
import type { MixingSettings } from './settings';

/** A rectangle of pixels: rows [top, top + height), columns [left, left + width). */
export interface PixelBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

export type MixPlan =
  | { kind: 'none' }
  /** x' = λ·x + (1-λ)·x[permutation]. */
  | { kind: 'mixup'; lambda: number; permutation: Uint32Array }
  /**
   * pasted 'partner': x' = x with `box` taken from x[permutation]; 'own': x' = x[permutation] with `box` taken from x.
   * λ = the share of x's pixels (from the clipped box's area).
   */
  | { kind: 'cutmix'; lambda: number; permutation: Uint32Array; box: PixelBox; pasted: 'partner' | 'own' };

/** The plan for a micro-batch of `size` images of height x width at `at`. */
export function planMix(settings: MixingSettings, size: number, height: number, width: number, at: BatchPosition): MixPlan {
  const rng = streamRng(at.seed, 'mixing', at.step, at.microBatch, at.rank);
  if (rng() >= settings.mixProb) return { kind: 'none' };
  const cutmix = settings.mixup > 0 && settings.cutmix > 0 ? rng() < settings.mixSwitchProb : settings.cutmix > 0;
  const alpha = cutmix ? settings.cutmix : settings.mixup;
  const drawn = betaDraw(rng, alpha, alpha);
  const order = permutation(size, rng);
  if (!cutmix) return { kind: 'mixup', lambda: Math.max(drawn, 1 - drawn), permutation: order };
  const box = cutmixBox(drawn, height, width, randomInt(rng, height), randomInt(rng, width));
  const pastedShare = (box.height * box.width) / (height * width);
  return pastedShare <= 0.5
    ? { kind: 'cutmix', lambda: 1 - pastedShare, permutation: order, box, pasted: 'partner' }
    : { kind: 'cutmix', lambda: pastedShare, permutation: order, box, pasted: 'own' };
}

/**
 * CutMix's box for λ (Yun et al. 2019; timm's rand_bbox): sides ⌊H·√(1-λ)⌋ x ⌊W·√(1-λ)⌋ centred on pixel
 * (centreRow, centreColumn), clipped to the image — so its area may be less than (1-λ)·H·W, and λ is recomputed from it.
 */
export function cutmixBox(lambda: number, height: number, width: number, centreRow: number, centreColumn: number): PixelBox {
  const ratio = Math.sqrt(1 - lambda);
  const halfHeight = Math.floor(Math.floor(height * ratio) / 2);
  const halfWidth = Math.floor(Math.floor(width * ratio) / 2);
  const clip = (value: number, limit: number) => Math.min(Math.max(value, 0), limit);
  const top = clip(centreRow - halfHeight, height);
  const bottom = clip(centreRow + halfHeight, height);
  const left = clip(centreColumn - halfWidth, width);
  const right = clip(centreColumn + halfWidth, width);
  return { top, left, height: bottom - top, width: right - left };
}
