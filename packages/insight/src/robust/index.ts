// Robustness: adversarial attacks for evaluation (attacks/) and, built on them, adversarial training (adversarial/).
export { apgdCheckpoints } from './attacks/apgd';
export { attack } from './attacks/attack';
export {
  channelAffine, clipToBox, epsilonPerChannel, l2Direction, perExampleL2, pixelPerturbation, projectL2, projectLinf, validBox,
} from './attacks/box';
export { inputGradient, logitsOf, type InputGradient, type InputGradientOptions } from './attacks/input_gradient';
export { robustAccuracy, type RobustMetrics } from './attacks/robust_accuracy';
export {
  ATTACK_NAMES, ATTACK_NORMS, checkRadius, DEFAULT_STEPS, resolveAttackSpec, type AttackName, type AttackNorm, type AttackSpec, type ResolvedAttackSpec,
} from './attacks/spec';
