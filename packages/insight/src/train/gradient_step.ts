// One forward and backward pass: the loss of a batch and its gradient with respect to every trainable variable.
import type * as tfl from '@tensorflow/tfjs-layers';

import { captureFunction, type CapturedFunction } from '@insight/tfjs-backend-torch';

import { tf } from '../backend';
import { sparseCategoricalCrossentropy } from '../models/loss';

export interface GradientStepResult {
  /** Mean loss over the batch (with label smoothing). */
  loss: tf.Scalar;
  /** Number of examples whose argmax logit is the label. */
  correct: tf.Scalar;
  /** grads[i] is d loss / d variables[i]. */
  grads: tf.Tensor[];
}

/** The loss of a batch's logits [batch, classes] → scalar, computed inside the gradient tape. */
export type LogitsLoss = (logits: tf.Tensor2D) => tf.Scalar;

/**
 * x: [batch, H, W, 3] float32, y: [batch] int32 → loss, correct count and gradients; the model runs with
 * training: true (dropout active, BatchNorm uses and updates batch statistics). `penalty`, when given, is added to
 * the loss (e.g. L2-SP's pull towards pretrained weights) and so to the gradients and the reported loss. `lossOf`,
 * when given, replaces the cross-entropy with y (and its label smoothing), e.g. a distillation loss.
 * The caller disposes the result.
 */
export function gradientStep(
  model: tfl.LayersModel, variables: tf.Variable[], x: tf.Tensor4D, y: tf.Tensor1D, labelSmoothing: number,
  penalty?: () => tf.Scalar, lossOf?: LogitsLoss,
): GradientStepResult {
  let correct: tf.Scalar | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor2D;
    correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32'))) as tf.Scalar;
    const loss = lossOf ? lossOf(logits) : sparseCategoricalCrossentropy(y, logits, labelSmoothing);
    return penalty === undefined ? loss : tf.add(loss, penalty()) as tf.Scalar;
  }, variables);
  // A variable the loss does not depend on gets no gradient from tfjs; the optimizer wants a zero one.
  return { loss: value as tf.Scalar, correct: correct!, grads: variables.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

/** A model's captured gradient steps (one per state of its layers' calls) and what they were made for. */
interface CapturedSteps {
  variables: tf.Variable[];
  labelSmoothing: number;
  penalty: (() => tf.Scalar) | undefined;
  byCalls: Map<string, CapturedFunction<tf.Tensor[]>>;
}

const capturedSteps = new WeakMap<tfl.LayersModel, CapturedSteps>();
const callIds = new WeakMap<object, number>();
let nextCallId = 0;

/**
 * The functions that compute `model`'s layers now, as ids: a replaced call (a frozen layer in inference mode,
 * BatchNorm's and Conv2D's fused training calls, fake quantisation) changes what a step computes, which a replay would
 * not see.
 */
function callsKey(model: tfl.LayersModel): string {
  const ids: number[] = [];
  const visit = (layers: tfl.layers.Layer[]) => {
    for (const layer of layers) {
      const nested = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
      if (Array.isArray(nested)) visit(nested);
      const call = (layer as unknown as { call: object }).call;
      let id = callIds.get(call);
      if (id === undefined) callIds.set(call, id = nextCallId++);
      ids.push(id);
    }
  };
  visit(model.layers);
  return ids.join(',');
}

/**
 * gradientStep with the cross-entropy loss (and `penalty`), as a captured function (tfjs-backend-torch's
 * captureFunction): per batch shape, two steps run eagerly and are recorded, and later ones replay the forward and
 * backward pass natively in one call, reading the variables' current values and assigning BatchNorm's moving
 * statistics as the eager step does; same results bit for bit. A step that cannot be replayed (dropout draws its masks
 * in JS) keeps running eagerly. One per model and state of its layers' calls (freezing a layer replaces its call);
 * made again when the variables, smoothing or penalty change.
 */
export function capturedGradientStep(
  model: tfl.LayersModel, variables: tf.Variable[], x: tf.Tensor4D, y: tf.Tensor1D, labelSmoothing: number,
  penalty?: () => tf.Scalar,
): GradientStepResult {
  let captured = capturedSteps.get(model);
  if (captured === undefined || captured.variables !== variables || captured.labelSmoothing !== labelSmoothing || captured.penalty !== penalty) {
    for (const step of captured?.byCalls.values() ?? []) step.dispose();
    capturedSteps.set(model, captured = { variables, labelSmoothing, penalty, byCalls: new Map() });
  }
  const key = callsKey(model);
  let step = captured.byCalls.get(key);
  if (step === undefined) {
    captured.byCalls.set(key, step = captureFunction((xs: tf.Tensor, ys: tf.Tensor) => {
      const r = gradientStep(model, variables, xs as tf.Tensor4D, ys as tf.Tensor1D, labelSmoothing, penalty);
      return [r.loss, r.correct, ...r.grads];
    }));
  }
  const [loss, correct, ...grads] = step(x, y);
  return { loss: loss as tf.Scalar, correct: correct as tf.Scalar, grads };
}
