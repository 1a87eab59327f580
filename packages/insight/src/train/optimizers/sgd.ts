// SGD with optional momentum and Nesterov momentum, in Keras's formulation:
//   momentum = 0:  w ← w − lr·g
//   momentum > 0:  b ← momentum·b − lr·g;  w ← w + b                  (classical)
//                  b ← momentum·b − lr·g;  w ← w + momentum·b − lr·g   (Nesterov)
// weightDecay is L2 regularisation: g ← g + weightDecay·w (for decaying params), as PyTorch's SGD.
import { tf } from '../../backend';
import { Optimizer, type Param } from './optimizer';

export interface SgdOptions {
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

export class Sgd extends Optimizer {
  readonly name = 'sgd';
  private readonly momentum: number;
  private readonly nesterov: boolean;

  constructor(params: Param[], options: Partial<SgdOptions> = {}) {
    super(params, options.weightDecay ?? 0);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
  }

  /** The learning rate. */
  protected stepValues(_param: Param, lr: number): number[] {
    return [lr];
  }

  protected update(i: number, param: Param, grad: tf.Tensor, [lr]: tf.Scalar[]): void {
    const g = this.withL2(param, grad);
    const w = param.variable;
    if (this.momentum === 0) {
      w.assign(tf.sub(w, tf.mul(g, lr)));
      return;
    }
    const b = this.slot('momentum', i);
    b.assign(tf.sub(tf.mul(b, this.momentum), tf.mul(g, lr)));
    const step = this.nesterov ? tf.sub(tf.mul(b, this.momentum), tf.mul(g, lr)) : b;
    w.assign(tf.add(w, step));
  }
}
