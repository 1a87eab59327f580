// Adam with the per-variable update fused into one native kernel (FusedAdamUpdate) instead of ~20 tfjs
// kernels, each with engine overhead. Same formula, hyper-parameters, state variables and serialised weights
// as tf.train.adam (it subclasses AdamOptimizer), so models compiled with it save, load and resume the same.
// On a backend without the fused kernel it runs AdamOptimizer's own update.
//   model.compile({ optimizer: fusedAdam(1e-3), ... })
import {
  AdamOptimizer, engine, getBackend, getKernel, mul, Tensor, tidy, Variable, zerosLike,
} from '@tensorflow/tfjs-core';

import { FusedAdamUpdate, FusedAdamUpdateAttrs } from '../kernels/FusedAdamUpdate';

type NamedGradients = Parameters<AdamOptimizer['applyGradients']>[0];

export class FusedAdamOptimizer extends AdamOptimizer {
  static override get className(): string {
    return 'Adam';  // serialises as Adam: the state is the same
  }

  override applyGradients(variableGradients: NamedGradients): void {
    if (getKernel(FusedAdamUpdate, getBackend()) === undefined) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as {
      accumulatedFirstMoment: { originalName: string; variable: Variable }[];
      accumulatedSecondMoment: { originalName: string; variable: Variable }[];
      accBeta1: Variable; accBeta2: Variable;
    };
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // tfjs's update x - lr * (m'/c1) / (sqrt(v'/c2) + eps), with c = 1 - beta^t, in the kernel's form.
    const t = this.iterations + 1;
    const c1 = 1 - Math.pow(this.beta1, t);
    const c2 = 1 - Math.pow(this.beta2, t);
    const attrs: FusedAdamUpdateAttrs = {
      beta1: this.beta1, beta2: this.beta2, alpha: (this.learningRate * Math.sqrt(c2)) / c1,
      epsilon: this.epsilon * Math.sqrt(c2), decay: 1,
    };
    tidy(() => {
      names.forEach((name, i) => {
        const value = engine().registeredVariables[name];
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tidy(() => zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tidy(() => zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const [x2, m2, v2] = engine().runKernel(FusedAdamUpdate, { variable: value, gradient, m, v },
          attrs as unknown as Record<string, number>) as Tensor[];
        m.assign(m2);
        v.assign(v2);
        value.assign(x2);
      });
      // Keep AdamOptimizer's running products in step, for getWeights() and a later super.applyGradients.
      self.accBeta1.assign(mul(self.accBeta1, this.beta1));
      self.accBeta2.assign(mul(self.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** Like tf.train.adam, with Keras's defaults (epsilon 1e-7). */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
