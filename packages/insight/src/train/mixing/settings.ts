// What a run's config says about Mixup and CutMix (train/config.ts keys mixup, cutmix, mixProb, mixSwitchProb), and
// the rules those keys keep together: settings that would do nothing are refused, and so is adversarial training
// (one BatchTransform per run: an attack on a blended batch is neither recipe).
import { ruleError } from '../../errors';

export interface MixingSettings {
  /** Mixup's α: λ ~ Beta(α, α); 0 = off. */
  mixup: number;
  /** CutMix's α: λ ~ Beta(α, α), the pasted box has area 1 - λ; 0 = off. */
  cutmix: number;
  /** Probability that a micro-batch is mixed at all. */
  mixProb: number;
  /** With both on: probability that a mixed micro-batch uses CutMix (else Mixup), as timm's switch_prob. */
  mixSwitchProb: number;
}

/** The defaults: both off, every batch mixed once one is on, an even choice when both are. */
export const MIXING_DEFAULTS: Readonly<MixingSettings> = Object.freeze({ mixup: 0, cutmix: 0, mixProb: 1, mixSwitchProb: 0.5 });

/** Whether these settings mix any batch (else training runs without a transform, exactly as before). */
export function mixingOn(settings: MixingSettings): boolean {
  return (settings.mixup > 0 || settings.cutmix > 0) && settings.mixProb > 0;
}

/**
 * Throws INSIGHT_E_CONFIG when the mixing keys contradict each other or the run: --mix-prob without Mixup or CutMix,
 * --mix-switch-prob without both, or either with adversarial training (`adversarial` other than absent or 'none').
 */
export function checkMixingConfig(config: MixingSettings & { adversarial?: string }): void {
  const on = config.mixup > 0 || config.cutmix > 0;
  if (!on && config.mixProb !== MIXING_DEFAULTS.mixProb) {
    throw ruleError('INSIGHT_E_CONFIG', 'mixProb is the probability that a batch is mixed; it needs Mixup or CutMix.',
      { mixProb: config.mixProb, mixup: config.mixup, cutmix: config.cutmix }, 'Add --mixup <alpha> and/or --cutmix <alpha> (e.g. --mixup 0.2), or drop --mix-prob.');
  }
  if (!(config.mixup > 0 && config.cutmix > 0) && config.mixSwitchProb !== MIXING_DEFAULTS.mixSwitchProb) {
    throw ruleError('INSIGHT_E_CONFIG', 'mixSwitchProb chooses between Mixup and CutMix per batch; it needs both on.',
      { mixSwitchProb: config.mixSwitchProb, mixup: config.mixup, cutmix: config.cutmix }, 'Pass both --mixup <alpha> and --cutmix <alpha>, or drop --mix-switch-prob.');
  }
  if (on && config.adversarial !== undefined && config.adversarial !== 'none') {
    throw ruleError('INSIGHT_E_CONFIG', 'Adversarial training and Mixup/CutMix both rewrite the training batch; a run uses one of them.',
      { adversarial: config.adversarial, mixup: config.mixup, cutmix: config.cutmix }, 'Drop --adversarial, or drop --mixup and --cutmix (set them to 0).');
  }
}

/** One line for the run's start, e.g. 'mixing: mixup alpha 0.2 or cutmix alpha 1 (cutmix for 50%), 80% of batches'. */
export function describeMixing(settings: MixingSettings): string {
  const parts = [settings.mixup > 0 ? `mixup alpha ${settings.mixup}` : '', settings.cutmix > 0 ? `cutmix alpha ${settings.cutmix}` : ''].filter(Boolean);
  const both = parts.length === 2 ? ` (cutmix for ${percent(settings.mixSwitchProb)})` : '';
  const share = settings.mixProb === 1 ? 'every batch' : `${percent(settings.mixProb)} of batches`;
  return `mixing: ${parts.join(' or ')}${both}, ${share}; training accuracy counts each image's dominant label`;
}

function percent(p: number): string {
  return `${Number((p * 100).toFixed(1))}%`;
}
