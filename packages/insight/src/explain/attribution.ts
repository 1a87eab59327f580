// The contract every explanation method implements. A method takes a batch of model inputs (already normalized as
// the model's metadata says) and one target class per image, and returns a heat map per image at input resolution.
// Maps are tensors on the active backend, owned by the caller (dispose them); nothing else of the call stays alive.
import type * as tfl from '@tensorflow/tfjs-layers';

import type { tf } from '../backend';
import type { ExplainMethod, IgBaseline } from './method_names';

/** Options of all methods, resolved (every field set): defaults in `METHOD_DEFAULTS`. */
export interface MethodOptions {
  /**
   * Grad-CAM / Grad-CAM++: the layer whose activations are weighted (any layer with a 4D output, applied once).
   * Default: the last layer that every path passes through after the last convolution while the feature map keeps
   * that convolution's spatial size (layer_tap.ts camLayer): seed-cnn's conv3, a ResNet's last block output, the
   * ReLU after a convolution followed by pooling.
   */
  layer?: string;
  /** Integrated Gradients: points on the straight path from the baseline to the image (trapezoid rule, one gradient each). */
  steps: number;
  /** Integrated Gradients: the reference input. */
  baseline: IgBaseline;
  /** SmoothGrad, SmoothGrad², VarGrad: noisy samples per image. */
  samples: number;
  /** SmoothGrad family: noise standard deviation as a fraction of the input's value range (max - min). */
  noiseLevel: number;
  /** Occlusion: side of the square patch in pixels, and the step between patches. */
  window: number;
  stride: number;
  /**
   * Most model rows evaluated in one forward/backward pass (IG's interpolated images, noise samples, occluded
   * copies): memory stays bounded however large steps × samples × images get.
   */
  internalBatchSize: number;
  /** Seed of the noise (SmoothGrad family, IG's noise baseline): same seed, same maps. */
  seed: number;
  /**
   * The model-input value of a black pixel (byte 0), per channel: inputs reaching a method are already normalized,
   * so "black" depends on the model's normalization (0 under 'scale', -mean/std under 'meanstd'). IG's 'black'
   * baseline and occlusion's patches use it; `explain()` sets it from the model's metadata (baselines.ts
   * `pixelRange`); callers of a method with their own tensors set it the same way. Default [0, 0, 0].
   */
  blackValue: number[];
  /** The model-input value of a white pixel (byte 255), per channel: IG's 'noise' baseline is uniform in [black, white]. Default [1, 1, 1]. */
  whiteValue: number[];
}

/** What one method returns for a batch of n images of [H, W, C]. */
export interface Attribution {
  method: ExplainMethod;
  /**
   * [n, H, W] heat map at input resolution: larger = more evidence for the target class. Signed for IG (sum over
   * channels) and occlusion (the target logit's mean drop, negative where hiding a patch raises it) — the list
   * method_names.ts SIGNED_METHODS —, ≥ 0 for the others (Grad-CAM after ReLU and upsampling, saliency as max
   * |gradient| over channels ...).
   */
  map: tf.Tensor3D;
  /** [n, H, W, C] per-input-value attributions, for methods that have them (saliency, IG, noise tunnels). */
  attributions?: tf.Tensor4D;
  /** Integrated Gradients: per image, sum(attributions) − (f(x) − f(baseline)) for the target logit. */
  convergenceDelta?: Float32Array;
  /** Grad-CAM / Grad-CAM++: the layer used. */
  layer?: string;
  /**
   * [h, w] of the grid the map was computed on before it was upsampled to the input (Grad-CAM: the layer's feature
   * map, e.g. [4, 4] for seed-cnn's conv3); absent when the map is per pixel. The faithfulness checks compare such a
   * map with random maps on the same grid, so that smoothness alone is not counted as evidence.
   */
  grid?: [number, number];
}

/**
 * A method: `x` [n, H, W, C] normalized inputs, `targets` [n] class indices. Scores are the target's logit
 * (the model's pre-softmax output), as Captum and pytorch-grad-cam use.
 */
export type AttributionMethod = (model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array, options: MethodOptions) => Promise<Attribution>;
