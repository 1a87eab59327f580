// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, as in Keras and PyTorch:
//   w ← w − lr·weightDecay·w   (decaying params only), then the Adam update on the plain gradient.
import type { tf } from '../../backend';
import { Adam } from './adam';
import type { Param } from './optimizer';

export class AdamW extends Adam {
  override readonly name: string = 'adamw';

  /** Decay is applied to the weights in `update`, not added to the gradient. */
  protected override gradient(_param: Param, grad: tf.Tensor): tf.Tensor {
    return grad;
  }

  /** w ← (1 − lr·weightDecay)·w before the Adam step, for decaying params. */
  protected override decayFactor(param: Param, lr: number): number | null {
    return this.weightDecay > 0 && param.decay ? 1 - lr * this.weightDecay : null;
  }
}
