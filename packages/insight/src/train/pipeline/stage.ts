// One pipeline stage: the layers [start, end) of a chain model that this rank runs, its trainable variables, and
// the two computations the schedule needs: a forward pass, and a vector-Jacobian product (given d loss / d output,
// the gradients with respect to the stage's input and variables), or, on the last stage, the loss and its gradients.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { ruleError } from '../../errors';
import { sparseCategoricalCrossentropy } from '../../models/loss';
import { chainLayers } from './chain';
import type { StagePlan } from './split';

/**
 * The point-to-point half of a ProcessGroup (from '@insight/tfjs-backend-torch') that a pipeline uses: rank s runs
 * stage s. Send and recv return new tensors and leave their inputs to the caller.
 */
export interface PipelineGroup {
  readonly rank: number;
  readonly worldSize: number;
  send(tensor: tf.Tensor, dst: number, tag?: number): Promise<void>;
  recv(shape: number[], dtype: 'float32' | 'int32', src: number, tag?: number): Promise<tf.Tensor>;
}

/** A backward pass through the stage: d loss / d input (null on stage 0) and d loss / d variables[i]. */
export interface StageGrads {
  dx: tf.Tensor | null;
  grads: tf.Tensor[];
}

export class PipelineStage {
  readonly plan: StagePlan;
  readonly layers: tfl.layers.Layer[];
  /** The stage's trainable variables, in layer order: give these (only) to the stage's optimizer. */
  readonly variables: tf.Variable[];
  readonly isFirst: boolean;
  readonly isLast: boolean;
  /** Non-trainable state (BatchNorm moving statistics) that a recomputed forward pass must not update twice. */
  private readonly state: tf.Variable[];

  /**
   * `model` is the whole model (built identically, same seed, on every rank); `plans` its split (splitModel);
   * the stage is plans[group.rank]. The group's world size must equal the number of stages.
   */
  constructor(readonly model: tfl.LayersModel, readonly plans: StagePlan[], readonly group: PipelineGroup) {
    if (group.worldSize !== plans.length) {
      throw ruleError('INSIGHT_E_CONFIG', 'A pipeline runs one stage per process: the group\'s world size must equal the number of stages.',
        { worldSize: group.worldSize, stages: plans.length }, `Start ${plans.length} processes (e.g. insight launch --nproc-per-node ${plans.length}), or split into ${group.worldSize} stages.`);
    }
    this.plan = plans[group.rank];
    this.layers = chainLayers(model).slice(this.plan.start, this.plan.end);
    this.variables = this.layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
    this.state = this.layers.flatMap((l) => l.nonTrainableWeights.map((w) => w.read() as tf.Variable));
    this.isFirst = group.rank === 0;
    this.isLast = group.rank === plans.length - 1;
  }

  /** x: [size, ...plan.inputShape] → [size, ...plan.outputShape], in training mode (dropout on, batch statistics). */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.layers.reduce((h, layer) => layer.apply(h, { training: true }) as tf.Tensor, x));
  }

  /**
   * The stage's backward pass for one micro-batch: recomputes the forward pass from its input x (GPipe's
   * re-materialisation; no activations are kept between the phases) and pulls dy = d loss / d output back.
   * BatchNorm moving statistics stay as the first forward pass left them.
   */
  backward(x: tf.Tensor, dy: tf.Tensor): StageGrads {
    const saved = this.state.map((v) => v.clone());
    try {
      return this.gradients(() => this.forward(x), x, dy);
    } finally {
      this.state.forEach((v, i) => v.assign(saved[i]));
      tf.dispose(saved);
    }
  }

  /**
   * Last stage, one micro-batch: logits of x, their cross-entropy with y (mean over the micro-batch) times
   * `weight` (its share of the global batch, so that the micro-batches' losses sum to the global mean), the
   * correct count, and the gradients. y: [size] int32.
   */
  lossBackward(x: tf.Tensor, y: tf.Tensor, weight: number, labelSmoothing: number): StageGrads & { loss: tf.Scalar; correct: tf.Scalar } {
    let correct: tf.Scalar | undefined;
    let loss: tf.Scalar | undefined;
    const result = this.gradients(() => {
      const logits = this.forward(x);
      correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32')) as tf.Scalar);
      loss = tf.keep(tf.mul(sparseCategoricalCrossentropy(y, logits, labelSmoothing), weight) as tf.Scalar);
      return loss;
    }, x);
    return { ...result, loss: loss!, correct: correct! };
  }

  /** d f / d [x (not on stage 0), ...variables], seeded with dy (or 1 for a scalar f). */
  private gradients(f: () => tf.Tensor, x: tf.Tensor, dy?: tf.Tensor): StageGrads {
    const wrt = this.isFirst ? this.variables : [x, ...this.variables];
    const { value, grads } = tf.engine().gradients(f, wrt, dy, true);
    // A value kept by lossBackward is the loss itself; otherwise the recomputed output is not needed.
    if (dy !== undefined) value.dispose();
    const dx = this.isFirst ? null : grads[0] ?? tf.zerosLike(x);
    const own = this.isFirst ? grads : grads.slice(1);
    // A variable the output does not depend on gets no gradient from tfjs; the optimizer wants a zero one.
    return { dx, grads: this.variables.map((v, i) => own[i] ?? tf.zerosLike(v)) };
  }
}
