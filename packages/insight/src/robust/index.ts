// Robustness: adversarial attacks for evaluation (attacks/) and, built on them, adversarial training (adversarial/).
export { inputGradient, type InputGradient, type InputGradientOptions } from './attacks/input_gradient';
export {
  channelAffine, checkRadius, clipToBox, epsilonPerChannel, l2Direction, perExampleL2, pixelPerturbation, projectL2, projectLinf, validBox,
} from './attacks/box';
