// Which layer Grad-CAM reads, and the gradient of the target logits with respect to that layer's activations.
// The default is the last convolution's feature map: the output of the model's last convolution, followed through
// the layers after it that keep its spatial size (BatchNorm, activations, a residual Add) to the last one every
// path passes through. seed-cnn → conv3 (its ReLU is built in); a ResNet → the last block's output
// (stage3_blockN_out), as pytorch-grad-cam's `layer4[-1]`; a conv-ReLU-pool network → the ReLU before the pool.
// A named layer may be any layer with a 4D output, also one inside a residual block. Layers applied more than once
// (shared) have no single output to read and are never chosen.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { ruleError } from '../errors';
import { graphSteps, isArticulation, tapLayer, type GraphStep, type LayerTap } from '../models/graph';
import { withInferenceLayers } from '../models/inference_layers';
import { capturedPass } from './captured_passes';
import { modelView } from './model_views';

/** A convolution: a layer with a 4D kernel ([kh, kw, in, out]) and a 4D [n, h, w, c] output (Conv2D, depthwise, separable, transposed, LoRA-wrapped). */
function isConvolution(step: GraphStep): boolean {
  return isFeatureMap(step) && step.layer.weights.some((w) => w.shape.length === 4);
}

function isFeatureMap(step: GraphStep): boolean {
  return step.outputs.length === 1 && step.outputs[0].shape.length === 4;
}

/** How messages name the methods that read a layer. */
const CAM_NAMES = { gradcam: 'Grad-CAM', 'gradcam++': 'Grad-CAM++' } as const;

/**
 * The layer Grad-CAM reads: `name` when given (checked: a layer of the model with a 4D output), else the last
 * convolution's feature map (see the file's header). `method` names the caller in messages.
 */
export function camLayer(model: tfl.LayersModel, method: keyof typeof CAM_NAMES, name?: string): string {
  const reader = CAM_NAMES[method];
  const steps = graphSteps(model);
  const applications = (layer: string) => steps.filter((s) => s.layer.name === layer).length;
  const featureMaps = steps.filter((s) => isFeatureMap(s) && applications(s.layer.name) === 1).map((s) => s.layer.name);
  if (name !== undefined) {
    const step = steps.find((s) => s.layer.name === name);
    const choose = featureMaps.length > 0 ? `Use one of the layers with a 4D output: ${featureMaps.join(', ')}.` : `Use saliency or ig: ${model.name} has no layer with a 4D output that is applied once.`;
    if (step === undefined) {
      throw ruleError('INSIGHT_E_CONFIG', `layer must name a layer of the model (${reader} reads its activations).`, { layer: name }, choose);
    }
    if (!isFeatureMap(step)) {
      throw ruleError('INSIGHT_E_CONFIG', `${reader} needs a layer with a 4D [n, h, w, c] output (a feature map).`,
        { layer: name, outputShape: step.outputs.map((t) => t.shape) }, choose);
    }
    if (applications(name) > 1) {
      throw ruleError('INSIGHT_E_CONFIG', `${reader} needs a layer applied once in the model (a shared layer has several outputs).`,
        { layer: name }, choose);
    }
    return name;
  }
  let last = -1;
  steps.forEach((s, i) => { if (isConvolution(s) && applications(s.layer.name) === 1) last = i; });
  if (last < 0) {
    throw ruleError('INSIGHT_E_CONFIG', `${reader} needs a convolutional layer (a 4D kernel and a 4D [n, h, w, c] output).`,
      { model: model.name, layers: steps.map((s) => `${s.layer.name} (${s.layer.getClassName()})`) },
      'Use a method that needs no convolution: saliency, ig, smoothgrad or occlusion.');
  }
  const [h, w] = steps[last].outputs[0].shape.slice(1, 3);
  let chosen = last;
  for (let k = last + 1; k < steps.length; k++) {
    const shape = steps[k].outputs[0].shape;
    if (!isFeatureMap(steps[k]) || shape[1] !== h || shape[2] !== w) break;
    if (isArticulation(steps, k) && applications(steps[k].layer.name) === 1) chosen = k;
  }
  return steps[chosen].layer.name;
}

/** The model split at `layer`'s output (see models/graph/tap.ts): a view of the model (model_views.ts), built once. */
export function layerTap(model: tfl.LayersModel, layer: string): LayerTap {
  return modelView(model, `tap ${layer}`, () => tapLayer(model, layer));
}

/**
 * A = the tapped layer's activations and dA = ∂ logit[i, targets[i]] / ∂A[i] for every image i, in one forward and
 * one backward pass. x: [n, H, W, C], targets: [n] → { activations, gradients }: both [n, h, w, k], owned by the
 * caller. Images are independent (inference mode), so the gradient of the batch's summed target logits is each
 * image's own. Both passes run on inference ops (models/inference_layers.ts), as one captured pass per tap
 * (captured_passes.ts).
 */
export function layerGradients(tap: LayerTap, x: tf.Tensor4D, targets: Int32Array): { activations: tf.Tensor4D; gradients: tf.Tensor4D } {
  return tf.tidy(() => {
    const [activations, gradients] = capturedPass(tap, 'activations and gradients', (input, t) => {
      const a = withInferenceLayers(tap.activations, () => tap.activations.apply(input, { training: false }) as tf.Tensor4D);
      const numClasses = tap.fromActivations.outputs[0].shape[1] as number;
      const pick = tf.cast(tf.oneHot(t as tf.Tensor1D, numClasses), 'float32');
      const targetLogits = (u: tf.Tensor) => tf.sum(tf.mul(tap.fromActivations.apply([input, u], { training: false }) as tf.Tensor2D, pick));
      return [a, withInferenceLayers(tap.fromActivations, () => tf.grad(targetLogits)(a) as tf.Tensor4D)];
    })(x, tf.tensor1d(targets, 'int32'));
    return { activations, gradients };
  });
}
