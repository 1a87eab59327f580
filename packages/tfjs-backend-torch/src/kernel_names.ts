// Names and attributes of this package's own kernels (not tfjs-core kernels), shared by their `torch` kernels
// (kernels/), their `cpu` reference kernels (cpu_kernels/) and the code that runs them.

/** One Adam step for one variable: inputs { variable, gradient, m, v } (same shape, float32) -> [x', m', v']. */
export const FusedAdamUpdate = 'FusedAdamUpdate';

/**
 * FusedAdamUpdate's attributes: the step in its folded form
 *   m' = b1 m + (1-b1) g;   v' = b2 v + (1-b2) g^2;   x' = decay x - alpha m' / (sqrt(v') + epsilon).
 * Build them with adamUpdate (optimizers/adam_update.ts), which owns the folding. Inputs { variable, gradient, m, v }
 * and optionally { alpha, decay } as float32 scalar tensors, which then take the place of those attributes (x' is then
 * decay x - (alpha m') / (sqrt(v') + epsilon)): the step's values as data, for a captured training step.
 */
export interface FusedAdamUpdateAttrs {
  beta1: number;
  beta2: number;
  /** Step size with bias correction folded in: lr * sqrt(1 - beta2^t) / (1 - beta1^t). */
  alpha: number;
  /** Added to sqrt(v') (Keras's "epsilon hat"). tfjs's formula uses epsilon * sqrt(1 - beta2^t). */
  epsilon: number;
  /** Multiplies x before the step: 1 - lr * weightDecay for AdamW's decoupled decay; 1 for none. */
  decay: number;
}

/** ReLU's backward pass: inputs { dy, x } (same shape; dy float32) -> dx = dy where x > 0, else 0 (float32). */
export const TorchReluGrad = 'TorchReluGrad';

/**
 * The backward pass of conv2d(x, filter) + bias followed by ReLU or nothing (tfjs's FusedConv2D, NHWC, no prelu):
 * inputs { dy [N,OH,OW,Cout], x [N,H,W,Cin], filter [kh,kw,Cin,Cout], y? (the forward's output, for ReLU) } ->
 * [dx (x's shape; only when attrs.inputGradient), dfilter (filter's shape), dbias [Cout]], from one convolution
 * backward. Run it through conv2dBiasActivation (conv2d_bias_activation.ts), which owns the gradient.
 */
export const TorchConv2DBiasActivationGrad = 'TorchConv2DBiasActivationGrad';

/** TorchConv2DBiasActivationGrad's attributes: the forward's geometry and activation. */
export interface TorchConv2DBiasActivationAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same';
  dilations: [number, number] | number;
  activation: 'relu' | 'linear';
  /** False: x is data — no gradient flows to it and dx is not computed (default true). */
  inputGradient?: boolean;
}

/**
 * BatchNorm's training-mode forward over the last axis: inputs { x [..., C] float32, scale? [C], offset? [C] } ->
 * [y (x's shape), mean [C], variance [C] (biased, as tf.moments), inverseStd [C] = 1/sqrt(variance + epsilon)].
 * Run it through batchNormTraining (batch_norm_training.ts), which owns its gradient.
 */
export const TorchBatchNormTraining = 'TorchBatchNormTraining';

/**
 * TorchBatchNormTraining's backward pass: inputs { dy, x, scale?, mean, inverseStd } (mean and inverseStd as the
 * forward returned them) -> [dx (x's shape), dscale [C], doffset [C]], the whole derivative through the batch
 * statistics.
 */
export const TorchBatchNormTrainingGrad = 'TorchBatchNormTrainingGrad';

/** The attributes of both BatchNorm training kernels. */
export interface TorchBatchNormTrainingAttrs {
  varianceEpsilon: number;
}
