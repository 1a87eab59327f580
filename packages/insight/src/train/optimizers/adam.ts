// Adam (Kingma & Ba), with Keras's formulation and defaults (beta1 0.9, beta2 0.999, epsilon 1e-7):
//   m ← m + (g − m)(1 − β1);  v ← v + (g² − v)(1 − β2)
//   w ← w − lr·√(1 − β2^t)/(1 − β1^t) · m / (√v + ε)      (ε is Keras's "epsilon hat")
// weightDecay here is L2 regularisation: g ← g + weightDecay·w (for decaying params).
// Each variable's step is one FusedAdamUpdate kernel (adamUpdateWithTensors from the backend package, the step size
// and decay as data): native on `torch`, the plain formula on `cpu`.
import { adamUpdateAttrs, adamUpdateWithTensors } from '@insight/tfjs-backend-torch';

import type { tf } from '../../backend';
import { Optimizer, type Param } from './optimizer';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

export const ADAM_DEFAULTS: AdamOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 };

export class Adam extends Optimizer {
  readonly name: string = 'adam';
  protected readonly beta1: number;
  protected readonly beta2: number;
  protected readonly epsilon: number;

  constructor(params: Param[], options: Partial<AdamOptions> = {}) {
    const o = { ...ADAM_DEFAULTS, ...options };
    super(params, o.weightDecay);
    this.beta1 = o.beta1;
    this.beta2 = o.beta2;
    this.epsilon = o.epsilon;
  }

  /** Factor applied to w before the step, or null for none (1): AdamW's decoupled decay overrides it. */
  protected decayFactor(_param: Param, _lr: number): number | null {
    return null;
  }

  protected gradient(param: Param, grad: tf.Tensor): tf.Tensor {
    return this.withL2(param, grad);
  }

  /** The step size lr·√(1 − β2^t)/(1 − β1^t), and the decay factor when the param has one. */
  protected stepValues(param: Param, lr: number, t: number): number[] {
    const { alpha } = adamUpdateAttrs({ learningRate: lr, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon,
      epsilonConvention: 'epsilon-hat', step: t });
    const decay = this.decayFactor(param, lr);
    return decay === null ? [alpha] : [alpha, decay];
  }

  protected update(i: number, param: Param, grad: tf.Tensor, [alpha, decay]: tf.Scalar[]): void {
    adamUpdateWithTensors(
      { variable: param.variable, gradient: this.gradient(param, grad), m: this.slot('m', i), v: this.slot('v', i) },
      { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, alpha, decay });
  }
}
