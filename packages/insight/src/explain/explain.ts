// `explain(input)`: heat maps of why a model chose (or would choose) a class, for image files or raw pixels, by any
// of the methods in methods/index.ts. Images are decoded and resized as `predict` does and normalized as the model's
// metadata says; each method sees the normalized batch. `explainBatch` is the tensor-level call beneath it, for
// callers that already hold a normalized batch (faithfulness metrics, the server).
import type * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';

import { tf } from '../backend';
import { normalizeImages } from '../data';
import { ruleError } from '../errors';
import { expandImagePaths, readImageRgb } from '../eval/image_input';
import { getInsightMetadata } from '../models/metadata';
import { startBackend } from '../run/backend_choice';
import { loadModel, resolveModelDir } from '../run/model_io';
import type { Attribution, MethodOptions } from './attribution';
import { pixelRange } from './baselines';
import { methodOptionsOf, resolveExplainOptions, resolveMethodOptions, resolveMethods, type ClassChoice, type ExplainOptions } from './defaults';
import type { ExplainMethod } from './method_names';
import { METHODS } from './methods';

/** An image given as decoded pixels: [height, width, 3] uint8 RGB, row-major; resized to the model's input size. */
export interface PixelImage {
  pixels: Uint8Array;
  height: number;
  width: number;
  /** Names the image in results and errors; default 'pixels[<index>]'. */
  source?: string;
}

/** explain()'s argument: the model, the images, and any explanation option (defaults.ts EXPLAIN_OPTIONS_SCHEMA). */
export type ExplainInput = Partial<Omit<ExplainOptions, 'methods' | 'classes'>> & {
  /** A model directory, a completed run directory, or a loaded layers model (with Insight metadata). */
  model: string | tfl.LayersModel;
  /** Image files or folders (searched recursively), and/or decoded pixels. */
  images: (string | PixelImage)[];
  /** Methods, as a list or comma-separated; default gradcam, ig. */
  methods?: readonly ExplainMethod[] | string;
  /** 'predicted' (default), or class indices / names: one for all images or one per image. */
  classes?: readonly (number | string)[] | string;
};

/** One method's result for one image. */
export interface MethodResult {
  /** [height, width] heat map, row-major (larger = more evidence for the target class). */
  map: Float32Array;
  height: number;
  width: number;
  min: number;
  max: number;
  /** Integrated Gradients: Σ attributions − (logit(image) − logit(baseline)). */
  convergenceDelta?: number;
  /** Grad-CAM / Grad-CAM++: the layer read. */
  layer?: string;
  /** [height, width, channels] per-input-value attributions, when asked (`attributions: true`) and the method has them. */
  attributions?: Float32Array;
}

export interface ImageExplanation {
  /** The file, or the pixel image's source. */
  source: string;
  /** The model's most probable class, and every class's probability (softmax of the logits). */
  predicted: number;
  probabilities: Float32Array;
  /** The class explained. */
  target: number;
  methods: Partial<Record<ExplainMethod, MethodResult>>;
}

export interface ExplainResult {
  classNames: string[];
  methods: ExplainMethod[];
  classes: ClassChoice;
  /** The method options used, blackValue / whiteValue from the model's normalization. */
  options: MethodOptions;
  images: ImageExplanation[];
}

/** Images per explainBatch call: bounds the maps and attributions held at once (each method bounds its own passes). */
export const IMAGE_GROUP = 16;

/**
 * Runs `methods` on x [n, H, W, C] (normalized model inputs) for targets [n] (class indices) and returns one
 * Attribution per method, in order; the caller owns (disposes) the maps and attributions. Attributions are returned
 * only with `options.attributions`. Throws INSIGHT_E_CONFIG for unknown methods, bad options, or targets that are
 * not one class index in [0, classes) per image.
 * Example: `const [ig] = await explainBatch(model, x, Int32Array.of(3), ['ig'], { steps: 64 })`.
 */
export async function explainBatch(model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array | readonly number[],
  methods: readonly ExplainMethod[] | string, options: Partial<MethodOptions> & { attributions?: boolean } = {}): Promise<Attribution[]> {
  const { attributions: keepAttributions = false, ...rest } = options;
  const list = resolveMethods(typeof methods === 'string' ? methods : [...methods]);
  const resolved = resolveMethodOptions(rest);
  if (x.rank !== 4 || x.shape[3] !== resolved.blackValue.length) {
    throw ruleError('INSIGHT_E_CONFIG', 'x must be a batch of normalized images [n, height, width, channels], with one blackValue per channel.',
      { 'x.shape': x.shape, 'blackValue.length': resolved.blackValue.length }, 'Pass a 4-D tensor, e.g. tf.tensor4d(values, [n, 32, 32, 3]).');
  }
  const target = Int32Array.from(targets);
  const numClasses = model.outputs[0].shape[1] as number;
  const outOfRange = Array.from(target).find((t) => !(t >= 0 && t < numClasses));
  if (target.length !== x.shape[0] || outOfRange !== undefined || !Array.from(targets).every(Number.isInteger)) {
    throw ruleError('INSIGHT_E_CONFIG', `targets must be one class index in [0, ${numClasses}) per image.`,
      { 'targets.length': target.length, images: x.shape[0], target: outOfRange ?? Array.from(targets).find((t) => !Number.isInteger(t)) ?? null },
      'Pass e.g. the predicted classes (argMax of the logits).');
  }
  const results: Attribution[] = [];
  try {
    for (const method of list) {
      const result = await METHODS[method](model, x, target, resolved);
      results.push(result);
      if (!keepAttributions && result.attributions) {
        result.attributions.dispose();
        delete result.attributions;
      }
    }
    return results;
  } catch (error) {
    for (const result of results) tf.dispose([result.map, ...(result.attributions ? [result.attributions] : [])]);
    throw error;
  }
}

/**
 * Explains each image with each method. A model given as a path is loaded and freed here (model.dispose() frees the
 * views explanations build over it too: model_views.ts); a loaded model stays the caller's, usable as before.
 * Example:
 *   const result = await explain({ model: 'runs/x', images: ['cat.jpg'], methods: ['gradcam', 'ig'], classes: 'predicted' });
 *   result.images[0].methods.ig?.map  // Float32Array [H * W], signed
 */
export async function explain(input: ExplainInput): Promise<ExplainResult> {
  const { model: modelInput, images, ...rest } = input;
  const options = resolveExplainOptions(rest);
  if (!Array.isArray(images) || images.length === 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'explain needs at least one image file, folder or pixel image.', { images: Array.isArray(images) ? [] : images },
      'Pass e.g. images: [\'cat.jpg\'] or images: [{ pixels, height, width }].');
  }
  const owned = typeof modelInput === 'string';
  if (owned) await startBackend(options.backend);
  const modelDir = owned ? resolveModelDir(modelInput) : undefined;
  const model = modelDir !== undefined ? await loadModel(modelDir) : modelInput as tfl.LayersModel;
  try {
    const meta = getInsightMetadata(model, modelDir ?? model.name);
    const [height, width] = meta.inputShape;
    const sources = imageSources(images);
    const methodOptions = resolveMethodOptions({ ...methodOptionsOf(options), ...pixelRange(meta.normalization) });
    const targets = targetClasses(options.classes, sources.length, meta.classNames);
    const explained: ImageExplanation[] = [];
    for (let start = 0; start < sources.length; start += IMAGE_GROUP) {
      const group = sources.slice(start, start + IMAGE_GROUP);
      const pixels = new Uint8Array(group.length * height * width * 3);
      for (let i = 0; i < group.length; i++) pixels.set(await pixelsOf(group[i], height, width), i * height * width * 3);
      const x = tf.tensor4d(normalizeImages(pixels, meta.normalization), [group.length, height, width, 3]);
      try {
        const done = await explainImages(model, x, targets?.slice(start, start + group.length), options.methods, { ...methodOptions, attributions: options.attributions });
        explained.push(...done.map((image, i) => ({ source: group[i].source, ...image })));
      } finally {
        x.dispose();
      }
    }
    return { classNames: [...meta.classNames], methods: options.methods, classes: options.classes, options: methodOptions, images: explained };
  } finally {
    if (owned) model.dispose();
  }
}

/** One image's explanation apart from its source: what explainImages returns per image. */
export type TensorExplanation = Omit<ImageExplanation, 'source'>;

/**
 * Predictions and every method's maps for x [n, H, W, C] (normalized model inputs), as plain arrays: per image the
 * softmax probabilities and the top class, the target (`chosen`, else the predicted class), and per method the
 * [H, W] map with its range (attributions too with `options.attributions`). Options as for explainBatch. No tensor
 * outlives the call. Example: `const [first] = await explainImages(model, x, undefined, ['gradcam'], pixelRange(normalization))`.
 */
export async function explainImages(model: tfl.LayersModel, x: tf.Tensor4D, chosen: Int32Array | undefined, methods: readonly ExplainMethod[],
  options: Partial<MethodOptions> & { attributions?: boolean } = {}): Promise<TensorExplanation[]> {
  const [n, height, width] = x.shape;
  const [probsT, predictedT] = tf.tidy(() => {
    const probs = tf.softmax(model.apply(x, { training: false }) as tf.Tensor2D);
    return [probs, tf.argMax(probs, 1)];
  });
  const [probabilities, predicted] = await Promise.all([probsT.data() as Promise<Float32Array>, predictedT.data() as Promise<Int32Array>])
    .finally(() => tf.dispose([probsT, predictedT]));
  const numClasses = probabilities.length / n;
  const targets = chosen ?? Int32Array.from(predicted);
  const out: TensorExplanation[] = Array.from({ length: n }, (_, i) => ({
    predicted: predicted[i], probabilities: probabilities.slice(i * numClasses, (i + 1) * numClasses), target: targets[i], methods: {},
  }));
  const attributions = await explainBatch(model, x, targets, methods, options);
  try {
    for (const result of attributions) {
      const [minT, maxT] = [tf.min(result.map, [1, 2]), tf.max(result.map, [1, 2])];
      const [maps, mins, maxs] = await Promise.all([result.map.data() as Promise<Float32Array>, minT.data(), maxT.data()]).finally(() => tf.dispose([minT, maxT]));
      const values = result.attributions ? (await result.attributions.data()) as Float32Array : undefined;
      const perMap = height * width;
      const perImage = values ? values.length / n : 0;
      out.forEach((image, i) => {
        image.methods[result.method] = {
          map: maps.slice(i * perMap, (i + 1) * perMap), height, width, min: mins[i], max: maxs[i],
          ...(result.convergenceDelta ? { convergenceDelta: result.convergenceDelta[i] } : {}),
          ...(result.layer !== undefined ? { layer: result.layer } : {}),
          ...(values ? { attributions: values.slice(i * perImage, (i + 1) * perImage) } : {}),
        };
      });
    }
  } finally {
    for (const result of attributions) tf.dispose([result.map, ...(result.attributions ? [result.attributions] : [])]);
  }
  return out;
}

interface Source {
  source: string;
  file?: string;
  image?: PixelImage;
}

/** Files (folders expanded, in order) and pixel images, each checked: pixels must hold height × width × 3 bytes. */
function imageSources(images: (string | PixelImage)[]): Source[] {
  const sources: Source[] = [];
  images.forEach((image, index) => {
    if (typeof image === 'string') {
      for (const file of expandImagePaths([image])) sources.push({ source: file, file });
      return;
    }
    const source = image?.source ?? `pixels[${index}]`;
    const { pixels, height, width } = image ?? {};
    const positive = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
    if (!(pixels instanceof Uint8Array) || !positive(height) || !positive(width) || pixels.length !== height * width * 3) {
      throw ruleError('INSIGHT_E_IMAGE', 'A pixel image must be a Uint8Array of height × width × 3 RGB bytes, with positive integer height and width.',
        { image: source, 'pixels.length': pixels instanceof Uint8Array ? pixels.length : typeof pixels, height, width },
        'Pass { pixels, height, width } with pixels.length === height * width * 3 (row-major, RGB interleaved).');
    }
    sources.push({ source, image });
  });
  return sources;
}

/** [H, W, 3] bytes of a source at the model's input size: files as predict decodes them, pixels resized (stretched) by sharp. */
async function pixelsOf(source: Source, height: number, width: number): Promise<Uint8Array> {
  if (source.file !== undefined) return readImageRgb(source.file, height, width);
  const image = source.image as PixelImage;
  if (image.height === height && image.width === width) return image.pixels;
  const data = await sharp(Buffer.from(image.pixels.buffer, image.pixels.byteOffset, image.pixels.length),
    { raw: { width: image.width, height: image.height, channels: 3 } }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * The class index per image, or undefined for 'predicted'. Names are looked up in classNames; indices must be in
 * range; one class applies to every image. Throws INSIGHT_E_CONFIG (the server answers it as a 400).
 * Example: `targetClasses(['dog'], 3, ['cat', 'dog'])` → Int32Array [1, 1, 1].
 */
export function targetClasses(classes: ClassChoice, count: number, classNames: readonly string[]): Int32Array | undefined {
  if (classes === 'predicted') return undefined;
  if (classes.length !== 1 && classes.length !== count) {
    throw ruleError('INSIGHT_E_CONFIG', 'classes must name one class for all images, or one class per image.',
      { classes, images: count }, `Pass one class, or ${count} classes in the order of the images, or 'predicted'.`);
  }
  const indices = classes.map((c) => {
    const index = typeof c === 'number' ? c : classNames.indexOf(c);
    if (index < 0 || index >= classNames.length) {
      throw ruleError('INSIGHT_E_CONFIG', `classes must be class indices in [0, ${classNames.length}) or class names of the model.`,
        { class: c }, `Pass e.g. 0 or ${JSON.stringify(classNames[0])} (classes: ${classNames.slice(0, 20).join(', ')}${classNames.length > 20 ? ', ...' : ''}).`);
    }
    return index;
  });
  return Int32Array.from({ length: count }, (_, i) => indices[classes.length === 1 ? 0 : i]);
}
