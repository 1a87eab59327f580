// L2-SP (Li, Grandvalet & Davoine, 2018): instead of decaying fine-tuned weights towards zero, pull them towards
// their pretrained values, penalty = alpha · Σ ||w − w_pretrained||² over the base's trainable weights, added to
// the training loss. It keeps the base close to what it knew while the new head learns.
import { tf } from '../backend';

export class L2SP {
  private readonly anchors: tf.Tensor[];

  /** Snapshots the current (pretrained) values of `variables`; alpha >= 0 weights the penalty. */
  constructor(private readonly variables: tf.Variable[], readonly alpha: number) {
    this.anchors = variables.map((v) => tf.keep(v.clone()));
  }

  /** alpha · Σ_i ||variables[i] − pretrained[i]||²: a scalar, differentiable in the variables. */
  penalty(): tf.Scalar {
    return tf.tidy(() => {
      if (this.variables.length === 0) return tf.scalar(0);
      const sums = this.variables.map((v, i) => tf.sum(tf.square(tf.sub(v, this.anchors[i]))));
      return tf.mul(tf.addN(sums), this.alpha) as tf.Scalar;
    });
  }

  /** Frees the pretrained snapshots. */
  dispose(): void {
    tf.dispose(this.anchors);
  }
}
