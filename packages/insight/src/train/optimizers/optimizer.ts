// The optimizer contract of Insight's training loop. An optimizer owns its slot variables (moments ...), is
// told the learning rate of every update (schedules live outside), and exposes its whole state as named
// tensors so a checkpoint can restore it exactly. All math runs through tfjs kernels on the active backend:
// tfjs ops (Sgd), or one FusedAdamUpdate kernel per variable (Adam, AdamW; native on torch, plain formula on cpu).
// An update is a captured function (tfjs-backend-torch's captureFunction): after two recorded updates, every later
// one replays natively in one call. What changes from update to update (learning rate, bias correction, decay) is
// therefore data: each param's step values, computed in JS, come in as one float32 tensor.
import { captureFunction, type CapturedFunction } from '@insight/tfjs-backend-torch';

import { tf } from '../../backend';
import { ruleError } from '../../errors';
import type { NamedTensor } from '../../run/checkpoint';

/** A trainable variable and whether weight decay applies to it (kernels yes; biases and BatchNorm no). */
export interface Param {
  variable: tf.Variable;
  decay: boolean;
  /**
   * Multiplies the learning rate of this param (default 1), e.g. 0.1 for a pretrained base under discriminative
   * learning rates. 0 freezes it: no update at all and its slots (moments) stay untouched. May change between
   * updates (gradual unfreezing).
   */
  lrScale?: number;
}

/** Weight decay applies to tensors of rank >= 2: conv and dense kernels, not biases or BatchNorm scales. */
export function decaysByDefault(variable: tf.Variable): boolean {
  return variable.rank >= 2;
}

export abstract class Optimizer {
  abstract readonly name: string;
  /** Updates applied so far; `apply` uses iterations + 1 as the 1-based step t. */
  iterations = 0;
  private readonly slots = new Map<string, tf.Variable>();
  /** The update as a captured function, per set of params updated (a param with lrScale 0 is skipped). */
  private readonly updates = new Map<string, CapturedFunction<tf.Tensor[]>>();

  /**
   * params: the variables it updates, in a fixed order (slot names use the index).
   * weightDecay: coefficient; its meaning (L2 added to the gradient, or decoupled) is the subclass's.
   */
  constructor(protected readonly params: Param[], protected readonly weightDecay: number) {}

  /**
   * One update of every param. grads[i] has params[i].variable's shape; lr is this update's learning rate
   * (times each param's lrScale).
   * The gradients are not disposed (the caller owns them).
   */
  apply(grads: tf.Tensor[], lr: number): void {
    if (grads.length !== this.params.length) {
      throw new Error(`apply() needs one gradient per param: got ${grads.length} for ${this.params.length} params.`);
    }
    const t = this.iterations + 1;
    // Per param: its step values, or null when its lrScale is 0 (not updated).
    const values = this.params.map((param) => ((param.lrScale ?? 1) === 0 ? null : this.stepValues(param, lr * (param.lrScale ?? 1), t)));
    const counts = values.map((v) => v?.length ?? 0);
    const key = counts.join(',');
    let update = this.updates.get(key);
    if (update === undefined) this.updates.set(key, update = captureFunction((stepValues, ...g) => this.updateAll(counts, stepValues, g)));
    const stepValues = tf.tensor1d(values.flatMap((v) => v ?? []));
    try {
      update(stepValues, ...grads);
    } finally {
      stepValues.dispose();
    }
    this.iterations = t;
  }

  /**
   * Updates every param with counts[i] > 0, reading its counts[i] step values in order from `stepValues`; returns no
   * tensors (a captured function returns an array).
   */
  private updateAll(counts: number[], stepValues: tf.Tensor, grads: tf.Tensor[]): tf.Tensor[] {
    tf.tidy(() => {
      const values = tf.unstack(stepValues) as tf.Scalar[];
      let next = 0;
      this.params.forEach((param, i) => {
        if (counts[i] > 0) this.update(i, param, grads[i], values.slice(next, next += counts[i]));
      });
    });
    return [];
  }

  /**
   * The numbers one update of `param` needs that may change from update to update, in JS: `lr` is its learning rate
   * (lrScale included), t the 1-based step number. At least one; their count must not depend on lr or t.
   */
  protected abstract stepValues(param: Param, lr: number, t: number): number[];

  /** Updates params[i] in place (inside a tidy), given its stepValues as float32 scalars. */
  protected abstract update(i: number, param: Param, grad: tf.Tensor, values: tf.Scalar[]): void;

  /** A zero-initialised slot variable for param i, created on first use (e.g. slot('m', 0)). */
  protected slot(kind: string, i: number): tf.Variable {
    const key = `${kind}/${i}`;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = tf.keep(tf.variable(tf.zerosLike(this.params[i].variable), false));
      this.slots.set(key, slot);
    }
    return slot;
  }

  /** grad + weightDecay * w for decaying params (L2 regularisation as a gradient term), else grad. */
  protected withL2(param: Param, grad: tf.Tensor): tf.Tensor {
    return this.weightDecay > 0 && param.decay ? tf.add(grad, tf.mul(param.variable, this.weightDecay)) : grad;
  }

  /** The full state: `iterations` (scalar) and every slot ('m/0', 'v/0', ...). Tensors are copies. */
  getState(): NamedTensor[] {
    const state: NamedTensor[] = [{ name: 'iterations', tensor: tf.scalar(this.iterations, 'int32') }];
    for (const [name, variable] of [...this.slots].sort(([a], [b]) => a.localeCompare(b))) {
      state.push({ name, tensor: variable.clone() });
    }
    return state;
  }

  /** Restores what getState returned (e.g. from a checkpoint). Shapes are checked. */
  setState(state: tf.NamedTensorMap): void {
    const iterations = state.iterations;
    if (iterations === undefined) {
      throw ruleError('INSIGHT_E_RESUME', 'Optimizer state must contain `iterations`.', { names: Object.keys(state) },
        'Resume from a checkpoint written by the same optimizer.');
    }
    this.iterations = iterations.dataSync()[0];
    for (const [name, tensor] of Object.entries(state)) {
      if (name === 'iterations') continue;
      const [kind, index] = name.split('/');
      const i = Number(index);
      const param = this.params[i];
      if (param === undefined || !tf.util.arraysEqual(param.variable.shape, tensor.shape)) {
        throw ruleError('INSIGHT_E_RESUME', 'Optimizer state must match the model\'s trainable variables.',
          { slot: name, shape: tensor.shape, variableShape: param?.variable.shape ?? null },
          'Resume with the run\'s own model config.');
      }
      this.slot(kind, i).assign(tensor);
    }
  }

  /** Frees the slot variables and the captured updates. */
  dispose(): void {
    for (const slot of this.slots.values()) slot.dispose();
    this.slots.clear();
    for (const update of this.updates.values()) update.dispose();
    this.updates.clear();
  }
}
