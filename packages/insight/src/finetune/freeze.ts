// Freezing layers. `trainable = false` takes a layer's weights out of model.trainableWeights (what the trainer
// and optimizer update). BatchNorm needs more: TensorFlow.js passes the model's `training` flag to every layer,
// so a frozen BatchNorm would still normalise with batch statistics and update its moving mean and variance
// during training. Keras (TF2) runs a BatchNorm with trainable=False in inference mode; `setInferenceMode` gives
// TensorFlow.js layers the same behaviour, per layer instance (nothing about it is saved: a saved model is plain).
import type * as tfl from '@tensorflow/tfjs-layers';

const ORIGINAL_CALL = Symbol('insight.originalCall');

type Callable = tfl.layers.Layer & { call: tfl.layers.Layer['call']; [ORIGINAL_CALL]?: tfl.layers.Layer['call'] };

export function isBatchNorm(layer: tfl.layers.Layer): boolean {
  return layer.getClassName() === 'BatchNormalization';
}

/**
 * With on = true the layer always runs as in inference (training: false) whatever the model is asked to do:
 * a BatchNorm normalises with its moving statistics and never updates them. on = false restores the layer.
 */
export function setInferenceMode(layer: tfl.layers.Layer, on: boolean): void {
  const target = layer as Callable;
  if (on && target[ORIGINAL_CALL] === undefined) {
    const original = target.call;
    target[ORIGINAL_CALL] = original;
    target.call = (inputs, kwargs) => original.call(target, inputs, { ...kwargs, training: false });
  } else if (!on && target[ORIGINAL_CALL] !== undefined) {
    target.call = target[ORIGINAL_CALL]!;
    delete target[ORIGINAL_CALL];
  }
}

/** True when setInferenceMode(layer, true) is in effect. */
export function inInferenceMode(layer: tfl.layers.Layer): boolean {
  return (layer as Callable)[ORIGINAL_CALL] !== undefined;
}

/** Freezes (trainable = false; BatchNorm in inference mode) or thaws a layer. */
export function setFrozen(layer: tfl.layers.Layer, frozen: boolean): void {
  layer.trainable = !frozen;
  if (isBatchNorm(layer)) setInferenceMode(layer, frozen);
}
