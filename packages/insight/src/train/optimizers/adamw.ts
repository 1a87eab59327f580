// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, as in Keras and PyTorch:
//   w ← w − lr·weightDecay·w   (decaying params only), then the Adam update on the plain gradient.
import { tf } from '../../backend';
import { Adam } from './adam';
import type { Param } from './optimizer';

export class AdamW extends Adam {
  override readonly name: string = 'adamw';

  /** Decay is applied to the weights in `update`, not added to the gradient. */
  protected override gradient(_param: Param, grad: tf.Tensor): tf.Tensor {
    return grad;
  }

  protected override update(i: number, param: Param, grad: tf.Tensor, lr: number, t: number): void {
    if (this.weightDecay > 0 && param.decay) {
      param.variable.assign(tf.sub(param.variable, tf.mul(param.variable, lr * this.weightDecay)));
    }
    super.update(i, param, grad, lr, t);
  }
}
