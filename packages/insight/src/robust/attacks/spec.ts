// What an attack is asked to do, as the library and `insight evaluate --attack` give it, checked once and with
// every default filled in. Radii and step sizes are in pixel units ([0, 1] scale), whatever the model's normalization.
// No tfjs here: the CLI reads these names before it loads TensorFlow.js.
import { ruleError } from '../../errors';

export const ATTACK_NAMES = ['fgsm', 'pgd', 'apgd'] as const;
export const ATTACK_NORMS = ['linf', 'l2'] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];
export type AttackNorm = (typeof ATTACK_NORMS)[number];

/** Default PGD / APGD iterations. */
export const DEFAULT_STEPS = 10;

export interface AttackSpec {
  /** fgsm: one step of size eps; pgd: `steps` projected steps of size alpha; apgd: APGD-CE (adaptive step size). */
  attack: AttackName;
  /** Radius of the threat model in pixel units, e.g. 8 / 255 (L∞) or 0.5 (L2). */
  eps: number;
  /** Threat model: 'linf' (default) or 'l2' (per-example Euclidean norm of the pixel perturbation). */
  norm?: AttackNorm;
  /** pgd, apgd: iterations (default 10). fgsm is one step. */
  steps?: number;
  /** pgd: step size in pixel units (default 2.5 · eps / steps, as Madry et al. and RobustBench). */
  alpha?: number;
  /** pgd, apgd: start from a random point of the ball (default true); fgsm starts at x. */
  randomStart?: boolean;
  /** pgd, apgd: runs from different random starts; per example the one that fools the model is kept, else the highest loss. */
  restarts?: number;
  /** Seeds the random starts (default 0): the same seed gives the same adversarial examples. */
  seed?: number;
  /** Forward passes in training mode (dropout, BatchNorm batch statistics); evaluation: false (default). */
  training?: boolean;
  /** The model's output: 'logits' (default) or 'probabilities' (an ensemble). */
  output?: 'logits' | 'probabilities';
}

/** An AttackSpec with every default filled in. */
export interface ResolvedAttackSpec {
  attack: AttackName;
  eps: number;
  norm: AttackNorm;
  steps: number;
  /** pgd: the step size; fgsm: eps; apgd: the initial step size 2 · eps (halved adaptively). */
  alpha: number;
  randomStart: boolean;
  restarts: number;
  seed: number;
  training: boolean;
  output: 'logits' | 'probabilities';
}

/** Checks `spec` (house errors naming the key, the value and the fix) and fills in its defaults. */
export function resolveAttackSpec(spec: AttackSpec): ResolvedAttackSpec {
  const bad = (key: string, rule: string, value: unknown, fix: string) => ruleError('INSIGHT_E_CONFIG', rule, { [key]: value }, fix);
  if (spec === null || typeof spec !== 'object') {
    throw bad('attack', 'An attack spec must be an object.', spec, "Pass e.g. { attack: 'pgd', eps: 8 / 255, steps: 20 }.");
  }
  if (!ATTACK_NAMES.includes(spec.attack)) {
    throw bad('attack', `attack must be one of: ${ATTACK_NAMES.join(', ')}.`, spec.attack, "Pass e.g. attack: 'pgd'.");
  }
  checkRadius(spec.eps, 'eps');
  const norm = spec.norm ?? 'linf';
  if (!ATTACK_NORMS.includes(norm)) throw bad('norm', `norm must be one of: ${ATTACK_NORMS.join(', ')}.`, norm, "Pass norm: 'linf' or 'l2'.");
  if (norm === 'linf' && spec.eps > 1) {
    throw bad('eps', 'An L-inf eps must be at most 1 (pixels are on the [0, 1] scale).', spec.eps, 'Pass e.g. eps: 8/255.');
  }
  const integer = (key: 'steps' | 'restarts' | 'seed', min: number, fallback: number) => {
    const value = spec[key] ?? fallback;
    if (!Number.isInteger(value) || value < min || value > 2 ** 31 - 1) {
      throw bad(key, `${key} must be an integer >= ${min}.`, value, `Pass e.g. ${key}: ${fallback}.`);
    }
    return value;
  };
  const steps = integer('steps', 1, DEFAULT_STEPS);
  const restarts = integer('restarts', 1, 1);
  const seed = integer('seed', 0, 0);
  if (spec.attack === 'fgsm') {
    const extra = spec.steps !== undefined && spec.steps !== 1 ? ['steps', spec.steps] : spec.alpha !== undefined ? ['alpha', spec.alpha]
      : restarts !== 1 ? ['restarts', restarts] : spec.randomStart ? ['randomStart', true] : null;
    if (extra !== null) {
      throw bad(extra[0] as string, `fgsm is one step of size eps from x: it takes no ${extra[0] as string}.`, extra[1],
        "Leave it out, or use attack 'pgd' (FGSM with a random start is pgd with steps 1 and alpha 1.25·eps).");
    }
  }
  if (restarts > 1 && spec.randomStart === false) {
    throw bad('restarts', 'Restarts differ only in their random starts: without one, every restart repeats the first.', restarts,
      'Pass restarts: 1, or leave randomStart on.');
  }
  if (spec.attack === 'apgd' && spec.alpha !== undefined) {
    throw bad('alpha', 'apgd chooses its own step size (2·eps, halved when progress stalls): it takes no alpha.', spec.alpha,
      "Leave alpha out, or use attack 'pgd' for a fixed step size.");
  }
  if (spec.alpha !== undefined) checkRadius(spec.alpha, 'alpha');
  if (spec.output !== undefined && spec.output !== 'logits' && spec.output !== 'probabilities') {
    throw bad('output', "output must be 'logits' or 'probabilities'.", spec.output, 'Leave it out for a model that outputs logits.');
  }
  const alpha = spec.attack === 'fgsm' ? spec.eps : spec.attack === 'apgd' ? 2 * spec.eps : spec.alpha ?? (2.5 * spec.eps) / steps;
  return {
    attack: spec.attack, eps: spec.eps, norm, steps: spec.attack === 'fgsm' ? 1 : steps, alpha,
    randomStart: spec.attack === 'fgsm' ? false : spec.randomStart ?? true, restarts, seed,
    training: spec.training ?? false, output: spec.output ?? 'logits',
  };
}

/** Throws the house error unless `value` is a finite radius or step > 0 (pixel units). */
export function checkRadius(value: number, key: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw ruleError('INSIGHT_E_CONFIG', `${key} must be a number > 0 in pixel units (the [0, 1] scale).`, { [key]: value },
      `Pass e.g. ${key}: 8/255 (= ${(8 / 255).toFixed(5)}).`);
  }
}
