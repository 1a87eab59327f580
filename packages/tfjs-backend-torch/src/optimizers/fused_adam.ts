// Adam with the per-variable update fused into one kernel (FusedAdamUpdate: native on `torch`, the plain formula
// on `cpu`) instead of ~20 tfjs kernels, each with engine overhead. Same formula (tf.train.adam's epsilon
// convention), hyper-parameters, state variables and serialised weights as tf.train.adam (it subclasses
// AdamOptimizer), so models compiled with it save, load and resume the same.
//   model.compile({ optimizer: fusedAdam(1e-3), ... })
import { AdamOptimizer, engine, mul, tidy, Variable, zerosLike } from '@tensorflow/tfjs-core';

import { adamUpdate } from './adam_update';

type NamedGradients = Parameters<AdamOptimizer['applyGradients']>[0];

export class FusedAdamOptimizer extends AdamOptimizer {
  static override get className(): string {
    return 'Adam';  // serialises as Adam: the state is the same
  }

  override applyGradients(variableGradients: NamedGradients): void {
    const self = this as unknown as {
      accumulatedFirstMoment: { originalName: string; variable: Variable }[];
      accumulatedSecondMoment: { originalName: string; variable: Variable }[];
      accBeta1: Variable; accBeta2: Variable;
    };
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const step = {
      learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon,
      epsilonConvention: 'bias-corrected', step: this.iterations + 1,
    } as const;
    tidy(() => {
      names.forEach((name, i) => {
        const variable = engine().registeredVariables[name];
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tidy(() => zerosLike(variable).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tidy(() => zerosLike(variable).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        adamUpdate({ variable, gradient, m: self.accumulatedFirstMoment[i].variable,
          v: self.accumulatedSecondMoment[i].variable }, step);
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
