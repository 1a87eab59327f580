// Your own model in an Insight run, as a first-class citizen: a tf.layers LayersModel, a function that builds one
// for the data (a ModelBuilder), a module exporting either (.ts through the tsx loader Insight already uses, or
// .js), or a model.json (a TensorFlow.js model, with its weights when it lists them, or a Keras architecture).
// The model leaves here checked — one [batch, height, width, 3] input that takes the data's images, one
// [batch, numClasses] output of logits, layers that serialize (checkpoints save them and a resumed run rebuilds
// the model from that topology) — and with Insight metadata (architecture 'custom', where it came from, class
// names, input shape, normalization), so predict, evaluate, serve and explain take the saved result as it is.
//
//   // my_model.ts — `insight train --model ./my_model.ts` or `train({ model: './my_model.ts' })`
//   import { tfl, type ModelBuilder } from '@insight/insight';
//   const build: ModelBuilder = (inputShape, numClasses, { seed }) => tfl.sequential({ layers: [
//     tfl.layers.conv2d({ inputShape, filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed }) }),
//     tfl.layers.globalAveragePooling2d({}), tfl.layers.dense({ units: numClasses }) ] });   // logits: no softmax
//   export default build;
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import type { Normalization } from '../data';
import { InsightError, ruleError } from '../errors';
import { setInsightMetadata } from './metadata';
import type { ModelChoice } from './model_choice';

export interface ModelBuilderOptions {
  /** The run's seed: give it to your initializers (e.g. tfl.initializers.glorotUniform({ seed })) for repeatable weights. */
  seed: number;
  /** The data's class names, in the order of the logits. */
  classNames: string[];
}

/**
 * Builds your model for the data: `inputShape` is [height, width, 3] of one image, and the model must output
 * `numClasses` logits (no softmax: Insight's loss and predict apply it). May return a Promise.
 */
export type ModelBuilder = (inputShape: [number, number, number], numClasses: number, options: ModelBuilderOptions) =>
  tfl.LayersModel | Promise<tfl.LayersModel>;

/** What `train({ model })` takes besides a zoo name or a file: the model itself, or a function building it. */
export type CustomModel = tfl.LayersModel | ModelBuilder;

/** A custom model found before the data is known (errors in the file or its exports come before the data loads). */
export interface CustomModelSource {
  /** module: a .ts/.js file; json: a model.json; function, model: passed to train() itself. */
  kind: 'module' | 'json' | 'function' | 'model';
  /** The file as given (module, json). */
  path?: string;
  /** The builder or the model (a module's default export; for a model.json, a builder that loads it). */
  value: CustomModel;
}

export interface CustomModelOptions {
  /** [height, width, 3] of the data's images. */
  inputShape: [number, number, number];
  classNames: string[];
  normalization: Normalization;
  seed: number;
}

/**
 * Finds the custom model `choice` names (a module or a model.json), or takes `given` (what train() was passed).
 * Example: `await resolveCustomModel({ kind: 'module', path: './my_model.ts' })`.
 */
export async function resolveCustomModel(choice: ModelChoice, given?: unknown): Promise<CustomModelSource> {
  if (choice.kind === 'module') return { kind: 'module', path: choice.path, value: exportedModel(loadModelModule(choice.path), choice.path) };
  if (choice.kind === 'json') {
    const json = readModelJson(choice.path);
    return { kind: 'json', path: choice.path, value: () => modelFromJson(json, choice.path) };
  }
  if (typeof given === 'function') return { kind: 'function', value: given as ModelBuilder };
  return { kind: 'model', value: asLayersModel(given, 'train({ model })') };
}

/**
 * The model of `source` for the data — built by its builder (with the data's input shape, class count and the
 * run's seed) or as it is — checked, and with its Insight metadata set. A model built here is disposed on error.
 */
export async function buildCustomModel(source: CustomModelSource, options: CustomModelOptions): Promise<tfl.LayersModel> {
  const what = describeCustomSource(source);
  const numClasses = options.classNames.length;
  let model: tfl.LayersModel;
  let owned = false;
  if (typeof source.value === 'function') {
    let built: unknown;
    try {
      built = await source.value([...options.inputShape], numClasses, { seed: options.seed, classNames: [...options.classNames] });
    } catch (error) {
      if (error instanceof InsightError) throw error;
      throw ruleError('INSIGHT_E_CONFIG', 'A model builder must build a model for the data it is given.',
        { model: what, inputShape: options.inputShape, numClasses, error: firstLine(error) },
        'Fix the builder (the error is its own: a layer option, usually).', { cause: error });
    }
    model = asLayersModel(built, `what ${what} returned`);
    owned = true;
  } else {
    model = source.value;
  }
  try {
    checkCustomModel(model, options.inputShape, numClasses, what);
  } catch (error) {
    if (owned) model.dispose();
    throw error;
  }
  setInsightMetadata(model, {
    formatVersion: 1,
    architecture: 'custom',
    architectureOptions: { source: source.kind, ...(source.path !== undefined ? { path: source.path } : {}), name: model.name },
    inputShape: [...options.inputShape],
    classNames: [...options.classNames],
    normalization: options.normalization,
  });
  return model;
}

/** Where a custom model came from, for messages: `'my_cnn' from my_model.ts`, `function build`, `LayersModel 'my_cnn'`. */
export function describeCustomSource(source: CustomModelSource): string {
  if (source.kind === 'module' || source.kind === 'json') return source.path!;
  if (source.kind === 'function') return `function ${(source.value as ModelBuilder).name || '(anonymous)'}`;
  return `LayersModel '${(source.value as tfl.LayersModel).name}'`;
}

/**
 * Throws INSIGHT_E_CONFIG unless `model` takes the data's images ([batch, height, width, 3]; free height and width
 * are fine), outputs [batch, numClasses] logits (a final softmax is refused: the loss and predict apply one) and
 * can be rebuilt from its topology (every layer class registered with TensorFlow.js's serialization).
 */
export function checkCustomModel(model: tfl.LayersModel, inputShape: [number, number, number], numClasses: number, what: string): void {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'A custom model must map one image input to one output.',
      { model: what, inputs: model.inputs.length, outputs: model.outputs.length }, 'Build a single-input, single-output classifier.');
  }
  const input = model.inputs[0].shape;
  const [h, w] = inputShape;
  if (input.length !== 4 || input[3] !== 3 || (input[1] !== null && input[1] !== h) || (input[2] !== null && input[2] !== w)) {
    throw ruleError('INSIGHT_E_CONFIG', 'A custom model\'s input must take the data\'s images, [batch, height, width, 3].',
      { model: what, modelInput: input, dataInput: [null, ...inputShape] },
      'Build the input from the builder\'s inputShape argument (e.g. tfl.input({ shape: inputShape })), or resize the images to the model\'s size (--image-size for an image folder).');
  }
  const output = model.outputs[0].shape;
  if (output.length !== 2 || output[1] !== numClasses) {
    throw ruleError('INSIGHT_E_CONFIG', 'A custom model must output one logit per class of the data, [batch, numClasses].',
      { model: what, modelOutput: output, numClasses },
      'End the model with tfl.layers.dense({ units: numClasses }) (the builder\'s second argument).');
  }
  const last = outputLayer(model);
  const activation = (last.getConfig() as { activation?: unknown }).activation;
  if (last.getClassName() === 'Softmax' || activation === 'softmax') {
    throw ruleError('INSIGHT_E_CONFIG', 'A custom model must output logits: Insight\'s loss and predict apply the softmax themselves.',
      { model: what, lastLayer: last.name, activation: activation ?? last.getClassName() },
      'Drop the final softmax (activation: \'softmax\' on the last layer, or a softmax layer).');
  }
  const registered = tf.serialization.SerializationMap.getMap().classNameMap;
  const unknown = [...new Set(allLayers(model).map((layer) => layer.getClassName()).filter((name) => !(name in registered)))];
  if (unknown.length > 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'Every layer class of a custom model must be registered, so that checkpoints and resume can rebuild it from its topology.',
      { model: what, unregistered: unknown }, 'Register each class once, after defining it: tf.serialization.registerClass(MyLayer) (with a static className).');
  }
}

/**
 * Loads a model module through tsx (TypeScript, or ES/CommonJS JavaScript) into this process's module cache, so
 * its `import { tf, tfl } from '@insight/insight'` is the Insight already running (one TensorFlow.js, no "Platform
 * node has already been set"). tsx's loader is registered only for the load, unless it was already.
 */
export function loadModelModule(file: string): unknown {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute) || !fs.statSync(absolute).isFile()) {
    throw ruleError('INSIGHT_E_CONFIG_FILE', 'The model file must exist.', { model: file, exists: fs.existsSync(absolute) },
      'Check the path (relative to the working directory), e.g. --model ./my_model.ts.');
  }
  const load = createRequire(__filename);
  const { register } = load('tsx/cjs/api') as { register: () => () => void };
  const unregister = register();
  try {
    return load(absolute);
  } catch (error) {
    throw ruleError('INSIGHT_E_CONFIG_FILE', 'The model module must load without errors.', { model: file, error: firstLine(error) },
      `Run it on its own to see the whole error (node --import tsx ${file}), and fix it.`, { cause: error });
  } finally {
    unregister();
  }
}

/** A module's default export (or `module.exports` itself) when it is a builder or a LayersModel. */
function exportedModel(exports: unknown, file: string): CustomModel {
  const value = typeof exports === 'function' || isLayersModelLike(exports) ? exports : (exports as { default?: unknown } | null)?.default;
  if (typeof value === 'function') return value as ModelBuilder;
  if (isLayersModelLike(value)) return asLayersModel(value, file);
  const names = exports !== null && typeof exports === 'object' ? Object.keys(exports).filter((key) => key !== '__esModule') : [];
  throw ruleError('INSIGHT_E_CONFIG',
    'A model module must export a model builder as its default export, (inputShape, numClasses, { seed, classNames }) => LayersModel, or a LayersModel.',
    { model: file, exports: names, default: value === undefined ? undefined : kindOf(value) },
    'Add `export default build` (or `module.exports = build`) for your builder function.');
}

/** A model.json: TensorFlow.js's (modelTopology, and weightsManifest when it has weights) or a Keras architecture (class_name, config). */
function readModelJson(file: string): tf.io.ModelJSON {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw ruleError('INSIGHT_E_CONFIG_FILE', 'The model file must exist.', { model: file, error: firstLine(error) },
      'Check the path (relative to the working directory), e.g. --model ./model/model.json.');
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw ruleError('INSIGHT_E_MODEL', 'A model.json must be valid JSON.', { model: file, error: firstLine(error) }, 'Save it again (model.save(), or Keras\'s model.to_json()).');
  }
  const modelJson = json !== null && typeof json === 'object' && 'modelTopology' in json ? json as unknown as tf.io.ModelJSON
    : json !== null && typeof json === 'object' && 'class_name' in json ? { modelTopology: json } as tf.io.ModelJSON : null;
  if (modelJson === null) {
    throw ruleError('INSIGHT_E_MODEL', 'A model.json must hold a TensorFlow.js layers model (modelTopology) or a Keras architecture (class_name, config).',
      { model: file, keys: json !== null && typeof json === 'object' ? Object.keys(json) : kindOf(json) },
      'Pass the model.json that model.save() or tensorflowjs_converter wrote, or Keras\'s model.to_json().');
  }
  return modelJson;
}

/** The model of a model.json read by readModelJson; its weight files (if it lists any) are read from beside it. */
async function modelFromJson(modelJson: tf.io.ModelJSON, file: string): Promise<tfl.LayersModel> {
  const dir = path.dirname(file);
  try {
    return await tfl.loadLayersModel({ load: () => tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => readWeights(dir, manifest)) });
  } catch (error) {
    if (error instanceof InsightError) throw error;
    throw ruleError('INSIGHT_E_MODEL', 'A model.json must describe a TensorFlow.js layers model that loads.', { model: file, error: firstLine(error) },
      'Check it loads with tfl.loadLayersModel; its layers must be TensorFlow.js layers (or registered classes).', { cause: error });
  }
}

/** The weight files of a manifest, beside the model.json, joined in order. */
function readWeights(dir: string, manifest: tf.io.WeightsManifestConfig): [tf.io.WeightsManifestEntry[], ArrayBuffer] {
  const specs = manifest.flatMap((group) => group.weights);
  const buffers = manifest.flatMap((group) => group.paths.map((relative) => {
    const file = path.join(dir, relative);
    if (!fs.existsSync(file)) {
      throw ruleError('INSIGHT_E_MODEL', 'Every weight file listed in a model.json must exist beside it.', { missing: file },
        'Copy the whole model directory, not only model.json.');
    }
    return fs.readFileSync(file);
  }));
  const joined = Buffer.concat(buffers);
  return [specs, joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer];
}

/** `value` as a LayersModel of the tfjs-layers Insight runs on; a model of another copy gets its own message. */
function asLayersModel(value: unknown, what: string): tfl.LayersModel {
  if (value instanceof tfl.LayersModel) return value;
  if (isLayersModelLike(value)) {
    throw ruleError('INSIGHT_E_CONFIG',
      'A custom model must be built with the TensorFlow.js Insight runs on; this one comes from a second copy of @tensorflow/tfjs-layers.',
      { model: what, name: (value as { name?: unknown }).name },
      'Import tf and tfl from \'@insight/insight\' (import { tf, tfl } from \'@insight/insight\') instead of your own @tensorflow packages.');
  }
  throw ruleError('INSIGHT_E_CONFIG', 'A custom model must be a tf.layers LayersModel (tfl.sequential(), tfl.model()) or a function returning one.',
    { model: what, received: kindOf(value) }, 'Pass e.g. train({ model: (inputShape, numClasses) => tfl.sequential({ layers: [...] }) }).');
}

/** Looks like a tfjs-layers model (of any copy of the package). */
function isLayersModelLike(value: unknown): boolean {
  const v = value as { predict?: unknown; layers?: unknown; getClassName?: unknown } | null;
  return v !== null && typeof v === 'object' && typeof v.predict === 'function' && Array.isArray(v.layers) && typeof v.getClassName === 'function';
}

/** The layer that produces the model's output, looking through nested models. */
function outputLayer(model: tfl.LayersModel): tfl.layers.Layer {
  let layer = model.outputs[0].sourceLayer as tfl.layers.Layer;
  while (layer instanceof tfl.LayersModel) layer = layer.outputs[0].sourceLayer as tfl.layers.Layer;
  return layer;
}

/** Every layer of `model`, nested models and their layers included. */
function allLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.flatMap((layer) => (layer instanceof tfl.LayersModel ? [layer, ...allLayers(layer)] : [layer]));
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}
