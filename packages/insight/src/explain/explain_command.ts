// The workflows behind `insight explain`: `explainToFiles` explains image files and writes the results
// (write_outputs.ts), with the k-NN memory's nearest training images on request; `evaluateExplanations` measures the
// methods' faithfulness (faithfulness/) on given images or on the run's own validation images. Both take the
// command's config (command_config.ts), load the model once, and write into --out or a fresh folder of the run's
// explain/ directory (RunDir.explainDir) — ./explanations for a model directory outside a run.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../backend';
import { normalizeImages, subsetDataset, type ImageDataset } from '../data';
import { ruleError } from '../errors';
import { expandImagePaths, readImageRgb } from '../eval/image_input';
import { getInsightMetadata, type InsightModelMetadata } from '../models/metadata';
import { startBackend } from '../run/backend_choice';
import { loadModel, resolveModelDir } from '../run/model_io';
import { newRunId, RunDir } from '../run/run_dir';
import { pixelRange } from './baselines';
import { resolveExplainCommandConfig, type ExplainCommandConfig } from './command_config';
import { EXPLAIN_OPTIONS_SCHEMA, methodOptionsOf, resolveMethodOptions } from './defaults';
import { explain, targetClasses, type PixelImage } from './explain';
import { evaluateFaithfulness, type FaithfulnessReport } from './faithfulness';
import { neighboursOf } from './memory/neighbours';
import { memoryIndexFor } from './memory/store';
import { METHODS } from './methods';
import { runImages } from './run_images';
import { EXPLANATION_FILES, explanationFiles, writeOutputFiles, type ImageRecord, type Neighbour } from './write_outputs';

/** Query images embedded per forward pass when looking up neighbours. */
const QUERY_BATCH = 64;

export interface ExplainFilesResult {
  /** The directory written. */
  outDir: string;
  modelDir: string;
  /** The run the model belongs to, if any. */
  run: string | null;
  images: ImageRecord[];
  /** Files not of one image (manifest, grid, neighbour strips). */
  shared: string[];
  /** With neighbours: whether the memory index was built now (false: reused from the run) and its size. */
  memory?: { built: boolean; count: number; layer: string };
}

export interface EvaluateExplanationsResult {
  outDir: string;
  modelDir: string;
  /** What was evaluated, e.g. 'the first 16 of validation (last 26 of 256 images)' or '3 given images'. */
  description: string;
  report: FaithfulnessReport;
  /** The faithfulness.json written. */
  file: string;
}

interface LoadedModel {
  model: tfl.LayersModel;
  modelDir: string;
  meta: InsightModelMetadata;
  run: RunDir | null;
}

/** The run a model target belongs to: the target itself, or the run holding the model or checkpoint directory. */
function runOf(target: string, modelDir: string): RunDir | null {
  return RunDir.tryOpen(target) ?? RunDir.ofModelDir(modelDir);
}

async function loadTarget(config: ExplainCommandConfig): Promise<LoadedModel> {
  const modelDir = resolveModelDir(config.model); // a missing model fails before the backend starts
  await startBackend(config.backend);
  const model = await loadModel(modelDir);
  return { model, modelDir, meta: getInsightMetadata(model, modelDir), run: runOf(config.model, modelDir) };
}

/** --out, else a new folder in the run's explain/ directory, else ./explanations; an existing file is refused. */
function outDirOf(config: ExplainCommandConfig, run: RunDir | null): string {
  const dir = config.out ?? (run ? path.join(run.explainDir, newRunId()) : path.resolve('explanations'));
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw ruleError('INSIGHT_E_CONFIG', 'out must be a directory (or a path where one can be created).', { out: dir },
      'Pass another --out, or remove that file.');
  }
  return dir;
}

/** Image files (folders expanded) decoded as predict decodes them, at the model's input size. */
async function decodeImages(paths: string[], meta: InsightModelMetadata): Promise<PixelImage[]> {
  const [height, width] = meta.inputShape;
  const images: PixelImage[] = [];
  for (const file of expandImagePaths(paths)) images.push({ pixels: await readImageRgb(file, height, width), height, width, source: file });
  return images;
}

/** [n, H, W, 3] normalized model inputs from RGB bytes. */
function inputBatch(pixels: Uint8Array[], meta: InsightModelMetadata): tf.Tensor4D {
  const [height, width] = meta.inputShape;
  const bytes = new Uint8Array(pixels.length * height * width * 3);
  pixels.forEach((p, i) => bytes.set(p, i * height * width * 3));
  return tf.tensor4d(normalizeImages(bytes, meta.normalization), [pixels.length, height, width, 3]);
}

/**
 * Explains each image with each method and writes the files; `input` is the command's config (validated here).
 * Example: `const { outDir, images } = await explainToFiles({ model: 'runs/x', images: ['cat.jpg'], methods: 'gradcam,ig', neighbours: 5 })`.
 */
export async function explainToFiles(input: unknown): Promise<ExplainFilesResult> {
  const config = resolveExplainCommandConfig(input);
  const loaded = await loadTarget(config);
  const { model, modelDir, meta, run } = loaded;
  try {
    if (config.neighbours !== null && run === null) {
      throw ruleError('INSIGHT_E_CONFIG', '--neighbours needs a run directory: the memory index is built over the run\'s training images and stored in the run.',
        { model: config.model, neighbours: config.neighbours }, 'Pass the run directory (runs/<run-id>) instead of a model directory, or leave out --neighbours.');
    }
    const outDir = outDirOf(config, run);
    const images = await decodeImages(config.images, meta);
    const options = Object.fromEntries(Object.keys(EXPLAIN_OPTIONS_SCHEMA.properties).map((key) => [key, config[key as keyof ExplainCommandConfig]]));
    const result = await explain({ ...options, model, images });
    const pixels = images.map((image) => image.pixels);
    const found = config.neighbours !== null && run !== null ? await findNeighbours(run, model, meta, pixels, config.neighbours) : undefined;
    const { files, images: records, shared } = await explanationFiles({ result, pixels, neighbours: found?.neighbours, model: modelDir }, config.format);
    writeOutputFiles(outDir, files);
    return { outDir, modelDir, run: run?.dir ?? null, images: records, shared, ...(found ? { memory: found.memory } : {}) };
  } finally {
    model.dispose(); // with the views explanations built over it (model_views.ts)
  }
}

/** The k nearest training images of each query (pixels at the model's input size), from the run's memory index. */
async function findNeighbours(run: RunDir, model: tfl.LayersModel, meta: InsightModelMetadata, pixels: Uint8Array[], k: number):
  Promise<{ neighbours: Neighbour[][]; memory: { built: boolean; count: number; layer: string } }> {
  const { train: ds, source } = await runImages(run, meta.inputShape);
  if (k > ds.count) {
    throw ruleError('INSIGHT_E_CONFIG', `neighbours must be at most the run's ${ds.count} training images.`, { neighbours: k, images: ds.count },
      `Pass e.g. --neighbours ${Math.min(5, ds.count)}.`);
  }
  const memory = await memoryIndexFor(run, model, ds, { source });
  const stride = ds.height * ds.width * 3;
  const neighbours: Neighbour[][] = [];
  for (let start = 0; start < pixels.length; start += QUERY_BATCH) {
    const x = inputBatch(pixels.slice(start, start + QUERY_BATCH), meta);
    const found = await neighboursOf(memory, model, x, k).finally(() => x.dispose());
    for (let q = 0; q < found.queries; q++) {
      neighbours.push(Array.from({ length: k }, (_, j) => {
        const at = q * k + j;
        const index = found.indices[at];
        return {
          index, label: found.labels[at], className: ds.classNames[found.labels[at]], distance: found.distances[at],
          image: ds.images.subarray(index * stride, (index + 1) * stride),
        };
      }));
    }
  }
  return { neighbours, memory: { built: memory.built, count: memory.index.count, layer: memory.info.layer } };
}

/** The first `count` of the run's validation images (explain/run_images.ts: as the run chose them). */
async function runValidationImages(run: RunDir, meta: InsightModelMetadata, count: number): Promise<{ dataset: ImageDataset; description: string }> {
  const { validation, validationDescription } = await runImages(run, meta.inputShape);
  if (validation === null) {
    throw ruleError('INSIGHT_E_DATA', '--evaluate without images needs the run\'s validation split, and this run has none (validationCount 0).',
      { run: run.dir, validationCount: 0 }, 'Pass the images to evaluate on as arguments.');
  }
  const n = Math.min(count, validation.count);
  return { dataset: subsetDataset(validation, Array.from({ length: n }, (_, i) => i)), description: `the first ${n} of ${validationDescription}` };
}

/** Class indices from the command's classes: each image's prediction, or indices/names (explain.ts targetClasses). */
async function targetsFor(config: ExplainCommandConfig, model: tfl.LayersModel, x: tf.Tensor4D, classNames: string[]): Promise<Int32Array> {
  const chosen = targetClasses(config.classes, x.shape[0], classNames);
  if (chosen !== undefined) return chosen;
  const predicted = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor2D, 1));
  try {
    return Int32Array.from(await predicted.data());
  } finally {
    predicted.dispose();
  }
}

/**
 * `insight explain --evaluate`: the faithfulness report of the config's methods on the given images, or on the first
 * `evaluateImages` of the run's validation images; writes faithfulness.json. Targets are the config's classes
 * (default each image's predicted class: the decision being explained).
 * Example: `const { report } = await evaluateExplanations({ model: 'runs/x', methods: 'gradcam,ig', evaluate: true, evaluateImages: 32 })`.
 */
export async function evaluateExplanations(input: unknown): Promise<EvaluateExplanationsResult> {
  const config = resolveExplainCommandConfig({ ...(input as object), evaluate: true });
  const { model, modelDir, meta, run } = await loadTarget(config);
  let x: tf.Tensor4D | null = null;
  try {
    if (config.images.length === 0 && run === null) {
      throw ruleError('INSIGHT_E_CONFIG', '--evaluate needs images: given as arguments, or a run directory whose validation images it uses.',
        { model: config.model, images: [] }, 'Pass image files or folders after the model, or the run directory (runs/<run-id>).');
    }
    const outDir = outDirOf(config, run);
    let pixels: Uint8Array[];
    let description: string;
    if (config.images.length > 0) {
      pixels = (await decodeImages(config.images, meta)).map((image) => image.pixels);
      description = `${pixels.length} given image${pixels.length === 1 ? '' : 's'}`;
    } else {
      const validation = await runValidationImages(run as RunDir, meta, config.evaluateImages);
      const stride = validation.dataset.height * validation.dataset.width * 3;
      pixels = Array.from({ length: validation.dataset.count }, (_, i) => validation.dataset.images.subarray(i * stride, (i + 1) * stride));
      description = validation.description;
    }
    x = inputBatch(pixels, meta);
    const targets = await targetsFor(config, model, x, meta.classNames);
    const options = resolveMethodOptions({ ...methodOptionsOf(config), ...pixelRange(meta.normalization) });
    const methods = config.methods.map((name) => ({ name, method: METHODS[name] }));
    const report = await evaluateFaithfulness(model, x, targets, methods, options, { images: pixels.length, steps: config.curveSteps, seed: config.seed });
    const file = path.join(outDir, EXPLANATION_FILES.faithfulness);
    const json = { formatVersion: 1, model: modelDir, createdAt: new Date().toISOString(), evaluated: description, targets: config.classes, options, report };
    writeOutputFiles(outDir, { [EXPLANATION_FILES.faithfulness]: `${JSON.stringify(json, (_, v) => (Number.isNaN(v) ? null : v), 2)}\n` });
    return { outDir, modelDir, description, report, file };
  } finally {
    x?.dispose();
    model.dispose();
  }
}
