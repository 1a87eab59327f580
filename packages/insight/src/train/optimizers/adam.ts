// Adam (Kingma & Ba), with Keras's formulation and defaults (beta1 0.9, beta2 0.999, epsilon 1e-7):
//   m ← m + (g − m)(1 − β1);  v ← v + (g² − v)(1 − β2)
//   w ← w − lr·√(1 − β2^t)/(1 − β1^t) · m / (√v + ε)
// weightDecay here is L2 regularisation: g ← g + weightDecay·w (for decaying params).
// Where the active backend has the fused kernel (FusedAdamUpdate on `torch`), each variable's step is one
// kernel instead of ~12 tfjs ops; elsewhere the same formula runs as tfjs ops.
import { FusedAdamUpdate, type FusedAdamUpdateAttrs } from '@insight/tfjs-backend-torch';

import { tf } from '../../backend';
import { Optimizer, type Param } from './optimizer';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** Use the backend's fused update kernel when it has one (default true; false forces tfjs ops). */
  fused: boolean;
}

export const ADAM_DEFAULTS: AdamOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0, fused: true };

export class Adam extends Optimizer {
  readonly name: string = 'adam';
  protected readonly beta1: number;
  protected readonly beta2: number;
  protected readonly epsilon: number;
  private readonly fused: boolean;

  constructor(params: Param[], options: Partial<AdamOptions> = {}) {
    const o = { ...ADAM_DEFAULTS, ...options };
    super(params, o.weightDecay);
    this.beta1 = o.beta1;
    this.beta2 = o.beta2;
    this.epsilon = o.epsilon;
    this.fused = o.fused;
  }

  /** Factor applied to w before the step: 1 here; AdamW's decoupled decay overrides it. */
  protected decayFactor(_param: Param, _lr: number): number {
    return 1;
  }

  protected gradient(param: Param, grad: tf.Tensor): tf.Tensor {
    return this.withL2(param, grad);
  }

  protected update(i: number, param: Param, grad: tf.Tensor, lr: number, t: number): void {
    const g = this.gradient(param, grad);
    const m = this.slot('m', i);
    const v = this.slot('v', i);
    const alpha = (lr * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
    const decay = this.decayFactor(param, lr);
    if (this.fused && tf.getKernel(FusedAdamUpdate, tf.getBackend()) !== undefined) {
      const attrs: FusedAdamUpdateAttrs = { beta1: this.beta1, beta2: this.beta2, alpha, epsilon: this.epsilon, decay };
      const [w2, m2, v2] = tf.engine().runKernel(FusedAdamUpdate, { variable: param.variable, gradient: g, m, v },
        attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      m.assign(m2);
      v.assign(v2);
      param.variable.assign(w2);
      return;
    }
    if (decay !== 1) param.variable.assign(tf.mul(param.variable, decay));
    m.assign(tf.add(m, tf.mul(tf.sub(g, m), 1 - this.beta1)));
    v.assign(tf.add(v, tf.mul(tf.sub(tf.square(g), v), 1 - this.beta2)));
    param.variable.assign(tf.sub(param.variable, tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.epsilon)), alpha)));
  }
}
