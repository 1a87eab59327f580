// What a training config says about adversarial training, resolved: the method, the L∞ radius and the attack's step
// size and step count (pixel units, the [0, 1] scale), with the papers' defaults for what is not given.
import type { AdversarialMethod } from './methods';

/** The config keys of adversarial training (train/config.ts). */
export interface AdversarialConfig {
  adversarial: AdversarialMethod;
  eps: number;
  advAlpha: number | null;
  advSteps: number;
}

export interface AdversarialSettings {
  method: Exclude<AdversarialMethod, 'none'>;
  /** L∞ radius, pixel units. */
  eps: number;
  /** Step size, pixel units. */
  alpha: number;
  /** Signed-gradient steps after the random start (1 for fgsm-rs). */
  steps: number;
}

/** fgsm-rs's default step: 1.25 ε (Wong et al. 2020, "Fast is better than free", section 4). */
export const FGSM_RS_ALPHA_FACTOR = 1.25;
/** pgd's default step: 2.5 ε / steps (Madry et al. 2018's rule of thumb: every point of the ball reachable). */
export const PGD_ALPHA_FACTOR = 2.5;

/** The settings of `config`, or null when it trains without adversarial examples. */
export function adversarialSettingsOf(config: AdversarialConfig): AdversarialSettings | null {
  if (config.adversarial === 'none') return null;
  if (config.adversarial === 'fgsm-rs') {
    return { method: 'fgsm-rs', eps: config.eps, alpha: config.advAlpha ?? FGSM_RS_ALPHA_FACTOR * config.eps, steps: 1 };
  }
  return { method: 'pgd', eps: config.eps, alpha: config.advAlpha ?? (PGD_ALPHA_FACTOR * config.eps) / config.advSteps, steps: config.advSteps };
}

/** 'fgsm-rs eps 0.0314 (8/255) alpha 0.0392 (10/255)' — for the run's start lines. */
export function describeAdversarial(settings: AdversarialSettings): string {
  const pixels = (v: number) => `${v.toFixed(4)} (${+(v * 255).toFixed(2)}/255)`;
  return `${settings.method} eps ${pixels(settings.eps)} alpha ${pixels(settings.alpha)}${settings.method === 'pgd' ? ` x ${settings.steps} steps` : ''}`;
}
