// One explanation request on one served model version: options resolved against the model (its normalization gives
// the black and white pixel values, its classes the targets), the work checked against --explain-max-work before
// any image is decoded, the images assembled as inference assembles them, then — in the explanation queue — the
// model's predictions and every method's maps (explain/explainBatch), and optionally a PNG overlay per map.
// The job explains with its own copy of the version's model, loaded from the version's directory and disposed when
// the job ends: the served model object is never touched (Servable keeps it private to its batcher), a job cannot
// leak a model, and at most one copy exists at a time since jobs run one by one.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { serveError } from '../../errors';
import type { MethodOptions } from '../../explain/attribution';
import { pixelRange } from '../../explain/baselines';
import { METHOD_OPTIONS_SCHEMA, resolveMethodOptions, type ClassChoice } from '../../explain/defaults';
import { explainBatch } from '../../explain/explain';
import type { ExplainMethod } from '../../explain/method_names';
import { overlayPng } from '../../explain/render/overlay';
import { loadModel } from '../../run/model_io';
import type { ServeContext } from '../http/context';
import { asBadInput, type ExplainRequestOptions } from '../inputs/explain_body';
import { assembleInput, type Instance } from '../inputs/instances';
import type { Servable } from '../repository/servable';
import { explainService } from './service';
import { checkExplainWork } from './work';

/** Methods whose maps are signed (diverging colours in overlays): IG sums signed attributions, occlusion's drops may be negative. */
const SIGNED_METHODS: ReadonlySet<ExplainMethod> = new Set<ExplainMethod>(['ig', 'occlusion']);

/** Images per explainBatch call: bounds the maps held at once; the job yields to inference between groups. */
const IMAGE_GROUP = 16;

/** One method's result for one image. */
export interface MethodMap {
  method: ExplainMethod;
  /** [height * width] row-major; larger = more evidence for the target class. */
  map: Float32Array;
  min: number;
  max: number;
  /** Grad-CAM / Grad-CAM++: the layer read. */
  layer?: string;
  /** Integrated Gradients: Σ attributions − (logit(image) − logit(baseline)). */
  convergenceDelta?: number;
  /** [height * width * channels], when asked for and the method has them. */
  attributions?: Float32Array;
  /** The overlay picture, when asked for. */
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
  const [height, width, channels] = servable.inputShape;
  const picked = Object.fromEntries(Object.keys(METHOD_OPTIONS_SCHEMA.properties).map((key) => [key, options[key as keyof typeof options]]));
  let methodOptions: MethodOptions;
  try {
    methodOptions = resolveMethodOptions({
      ...picked, layer: options.layer ?? undefined, internalBatchSize: Math.min(options.internalBatchSize, ctx.config.maxBatchSize),
      ...pixelRange(servable.metadata.normalization),
    });
  } catch (error) {
    throw asBadInput(error);
  }
  const chosen = targetIndices(options.classes, instances.length, servable.metadata.classNames);
  const work = checkExplainWork(instances.length, options.methods, methodOptions, servable.inputShape, ctx.config.explainMaxWork);
  const x = await assembleInput(instances, { inputShape: servable.inputShape, normalizationLut: servable.normalizationLut, maxImagePixels: ctx.config.maxImagePixels });
  const service = explainService(ctx);
  const label = `${servable.name}/${servable.version}`;
  const explanations = await service.queue.run(work, label, async () => {
    const started = performance.now();
    const model = await loadExplainModel(servable);
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
    } finally {
      disposeCopy(model);
    }
  });
  return { height, width, channels, methods: options.methods, options: methodOptions, work, explanations };
}

/** The version's model, loaded again from its directory (503 when its files are gone: the version is being replaced). */
async function loadExplainModel(servable: Servable): Promise<tfl.LayersModel> {
  try {
    return await loadModel(servable.dir);
  } catch (error) {
    throw serveError('SERVE_E_MODEL_UNAVAILABLE', 'Explanations load the served version\'s model files, which must still be on disk.',
      { model: servable.name, version: servable.version, error: (error as Error).message.split('\n')[0] },
      'Retry: the version is probably being replaced.', { retryAfter: 1, cause: error });
  }
}

/**
 * Frees a model copy entirely: model.dispose() keeps the weights of layers other models still use, and Grad-CAM's
 * cached tap (explain/layer_tap.ts, built for long-lived models) is two such models, so the values are freed here too.
 */
function disposeCopy(model: tfl.LayersModel): void {
  const values = model.weights.map((w) => w.read());
  model.dispose();
  tf.dispose(values);
}

/** Predictions and every method's maps (and overlays) for x [g, H, W, C]; targets default to the predicted classes. */
async function explainGroup(model: tfl.LayersModel, x: tf.Tensor4D, chosen: Int32Array | undefined, methods: ExplainMethod[],
  options: MethodOptions, extra: { attributions: boolean; png: boolean; classNames: readonly string[] }): Promise<InstanceExplanation[]> {
  const [g, height, width] = x.shape;
  const [probsT, predictedT] = tf.tidy(() => {
    const probs = tf.softmax(model.apply(x, { training: false }) as tf.Tensor2D);
    return [probs, tf.argMax(probs, 1)];
  });
  const [probabilities, predicted] = await Promise.all([probsT.data() as Promise<Float32Array>, predictedT.data() as Promise<Int32Array>])
    .finally(() => tf.dispose([probsT, predictedT]));
  const numClasses = probabilities.length / g;
  const targets = chosen ?? Int32Array.from(predicted);
  const out: InstanceExplanation[] = Array.from({ length: g }, (_, i) => ({
    predicted: predicted[i], target: targets[i], probabilities: probabilities.slice(i * numClasses, (i + 1) * numClasses), maps: [],
  }));
  const results = await explainBatch(model, x, targets, methods, { ...options, attributions: extra.attributions });
  try {
    const pixels = extra.png ? await displayBytes(x, options) : null;
    const perMap = height * width;
    for (const result of results) {
      const [minT, maxT] = [tf.min(result.map, [1, 2]), tf.max(result.map, [1, 2])];
      const [maps, mins, maxs] = await Promise.all([result.map.data() as Promise<Float32Array>, minT.data(), maxT.data()]).finally(() => tf.dispose([minT, maxT]));
      const values = result.attributions ? (await result.attributions.data()) as Float32Array : undefined;
      const perImage = values ? values.length / g : 0;
      for (const [i, image] of out.entries()) {
        const map = maps.slice(i * perMap, (i + 1) * perMap);
        const entry: MethodMap = {
          method: result.method, map, min: mins[i], max: maxs[i],
          ...(result.layer !== undefined ? { layer: result.layer } : {}),
          ...(result.convergenceDelta ? { convergenceDelta: result.convergenceDelta[i] } : {}),
          ...(values ? { attributions: values.slice(i * perImage, (i + 1) * perImage) } : {}),
        };
        if (pixels !== null) {
          const { png } = await overlayPng({
            image: pixels.subarray(i * perMap * 3, (i + 1) * perMap * 3), height, width, map, signed: SIGNED_METHODS.has(result.method),
            caption: { method: result.method, className: extra.classNames[image.target], probability: image.probabilities[image.target] },
          });
          entry.png = png;
        }
        image.maps.push(entry);
      }
    }
  } finally {
    for (const result of results) tf.dispose([result.map, ...(result.attributions ? [result.attributions] : [])]);
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

/** The class index per instance from the request's classes (names or indices of the model's classes), or undefined for 'predicted'. */
export function targetIndices(classes: ClassChoice, count: number, classNames: readonly string[]): Int32Array | undefined {
  if (classes === 'predicted') return undefined;
  if (classes.length !== 1 && classes.length !== count) {
    throw serveError('SERVE_E_BAD_INPUT', 'classes must name one class for all instances, or one class per instance.', { classes, instances: count },
      `Send one class, ${count} classes in the order of the instances, or "predicted".`);
  }
  const indices = classes.map((c) => {
    const index = typeof c === 'number' ? c : classNames.indexOf(c);
    if (!(index >= 0 && index < classNames.length)) {
      throw serveError('SERVE_E_BAD_INPUT', `A class must be an index in [0, ${classNames.length}) or a class name of the model.`, { class: c },
        `Send e.g. 0 or ${JSON.stringify(classNames[0])} (classes: ${classNames.slice(0, 20).join(', ')}${classNames.length > 20 ? ', ...' : ''}).`);
    }
    return index;
  });
  return Int32Array.from({ length: count }, (_, i) => indices[classes.length === 1 ? 0 : i]);
}
