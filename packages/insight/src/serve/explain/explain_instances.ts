// One explanation request on one served model version: options resolved against the model (its normalization gives
// the black and white pixel values, its classes the targets), the work checked against --explain-max-work before
// any image is decoded, the images assembled as inference assembles them, then — in the explanation queue — the
// model's predictions and every method's maps (explain/explainImages), and optionally a PNG overlay per map.
// The job explains with the served model itself (Servable.explanationModel; no copy is loaded): it only reads it,
// Grad-CAM's tap is built on the first request and reused, and the request's lease keeps the version alive until the
// job ends; retiring the version frees the model with its views (explain/model_views.ts).
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import type { MethodOptions } from '../../explain/attribution';
import { pixelRange } from '../../explain/baselines';
import { methodOptionsOf, resolveMethodOptions } from '../../explain/defaults';
import { explainImages, IMAGE_GROUP, targetClasses, type MethodResult } from '../../explain/explain';
import { isSignedMethod, type ExplainMethod } from '../../explain/method_names';
import { overlayPng } from '../../explain/render/overlay';
import type { ServeContext } from '../http/context';
import { asBadInput, type ExplainRequestOptions } from '../inputs/explain_body';
import { assembleInput, type Instance } from '../inputs/instances';
import type { Servable } from '../repository/servable';
import { explainService } from './service';
import { checkExplainWork } from './work';

/** One method's result for one image (explain()'s MethodResult), with the overlay picture when asked for. */
export interface MethodMap extends MethodResult {
  method: ExplainMethod;
  png?: Buffer;
}

export interface InstanceExplanation {
  predicted: number;
  /** The class explained. */
  target: number;
  /** Softmax probabilities [numClasses]. */
  probabilities: Float32Array;
  /** One per method, in the request's order. */
  maps: MethodMap[];
}

export interface ExplainOutcome {
  /** The model's input size. */
  height: number;
  width: number;
  channels: number;
  methods: ExplainMethod[];
  /** The method options used (internalBatchSize capped at --max-batch-size, black / white from the model's normalization). */
  options: MethodOptions;
  /** Model passes (checkExplainWork). */
  work: number;
  explanations: InstanceExplanation[];
}

/** Explains `instances` with `servable`'s model; 400 for bad options, classes or work, 503 when the queue is full. */
export async function explainInstances(ctx: ServeContext, servable: Servable, request: ExplainRequestOptions & { instances: Instance[] }): Promise<ExplainOutcome> {
  const { options, png, instances } = request;
  const model = servable.explanationModel; // 400 at once for a version without gradients (ONNX)
  const [height, width, channels] = servable.inputShape;
  let methodOptions: MethodOptions;
  let chosen: Int32Array | undefined;
  try {
    methodOptions = resolveMethodOptions({
      ...methodOptionsOf(options), internalBatchSize: Math.min(options.internalBatchSize, ctx.config.maxBatchSize),
      ...pixelRange(servable.metadata.normalization),
    });
    chosen = targetClasses(options.classes, instances.length, servable.metadata.classNames);
  } catch (error) {
    throw asBadInput(error);
  }
  const work = checkExplainWork(instances.length, options.methods, methodOptions, servable.inputShape, ctx.config.explainMaxWork);
  const x = await assembleInput(instances, { inputShape: servable.inputShape, normalizationLut: servable.normalizationLut, maxImagePixels: ctx.config.maxImagePixels });
  const service = explainService(ctx);
  const label = `${servable.name}/${servable.version}`;
  const explanations = await service.queue.run(work, label, async () => {
    const started = performance.now();
    try {
      const out: InstanceExplanation[] = [];
      const rowSize = height * width * channels;
      for (let start = 0; start < instances.length; start += IMAGE_GROUP) {
        if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const count = Math.min(IMAGE_GROUP, instances.length - start);
        const xg = tf.tensor4d(x.subarray(start * rowSize, (start + count) * rowSize), [count, height, width, channels]);
        try {
          out.push(...await explainGroup(model, xg, chosen?.subarray(start, start + count), options.methods, methodOptions,
            { attributions: options.attributions, png, classNames: servable.metadata.classNames }));
        } finally {
          xg.dispose();
        }
      }
      service.observe(servable.name, options.methods, instances.length, methodOptions, servable.inputShape, (performance.now() - started) / 1000);
      return out;
    } catch (error) {
      throw asBadInput(error);
    }
  });
  return { height, width, channels, methods: options.methods, options: methodOptions, work, explanations };
}

/** Predictions and every method's maps (and overlays) for x [g, H, W, C]; targets default to the predicted classes. */
async function explainGroup(model: tfl.LayersModel, x: tf.Tensor4D, chosen: Int32Array | undefined, methods: ExplainMethod[],
  options: MethodOptions, extra: { attributions: boolean; png: boolean; classNames: readonly string[] }): Promise<InstanceExplanation[]> {
  const [, height, width] = x.shape;
  const explained = await explainImages(model, x, chosen, methods, { ...options, attributions: extra.attributions });
  const pixels = extra.png ? await displayBytes(x, options) : null;
  const out: InstanceExplanation[] = [];
  for (const [i, image] of explained.entries()) {
    const maps: MethodMap[] = [];
    for (const method of methods) {
      const result = image.methods[method] as MethodResult;
      const png = pixels === null ? undefined : (await overlayPng({
        image: pixels.subarray(i * height * width * 3, (i + 1) * height * width * 3), height, width, map: result.map, signed: isSignedMethod(method),
        caption: { method, className: extra.classNames[image.target], probability: image.probabilities[image.target] },
      })).png;
      maps.push({ method, ...result, ...(png ? { png } : {}) });
    }
    out.push({ predicted: image.predicted, target: image.target, probabilities: image.probabilities, maps });
  }
  return out;
}

/** Normalized inputs x [g, H, W, 3] back to RGB bytes for overlays: (x − black) / (white − black) · 255, rounded and clipped. */
async function displayBytes(x: tf.Tensor4D, options: Pick<MethodOptions, 'blackValue' | 'whiteValue'>): Promise<Uint8Array> {
  const bytes = tf.tidy(() => {
    const black = tf.tensor1d(options.blackValue);
    const span = tf.sub(tf.tensor1d(options.whiteValue), black);
    return tf.cast(tf.clipByValue(tf.round(tf.mul(tf.div(tf.sub(x, black), span), 255)), 0, 255), 'int32');
  });
  try {
    return Uint8Array.from(await bytes.data());
  } finally {
    bytes.dispose();
  }
}
