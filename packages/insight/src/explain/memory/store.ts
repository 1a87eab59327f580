// The memory index of a run, stored in its memory/ directory (RunDir.memoryDir, files MEMORY_FILES): embeddings,
// labels and dataset positions as .npy, and memory.json saying what they were built from. Built once per model and
// dataset, then reused: `memoryIndexFor` reads the stored index when memory.json matches the model's weights, the
// embedding layer, the normalization and the dataset, and rebuilds it (replacing the directory atomically)
// otherwise — also when the stored files are unreadable, since the index is a cache of what the model computes.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type * as tfl from '@tensorflow/tfjs-layers';

import type { ImageDataset, Normalization } from '../../data';
import { ruleError } from '../../errors';
import { decodeNpy, encodeNpy } from '../../format/npy';
import { getInsightMetadata } from '../../models/metadata';
import { resolveCompleteDir, writeDirAtomic } from '../../run/atomic';
import { MEMORY_FILES, RunDir } from '../../run/run_dir';
import { EMBED_BATCH, embedDataset, embeddingModel } from './embedding';
import { datasetFingerprint, weightsFingerprint } from './fingerprint';
import type { KnnIndex } from './knn_index';

/** memory.json: what the index was built from (compared on reuse) and facts about the build. */
export interface MemoryInfo {
  formatVersion: 1;
  metric: 'cosine';
  /** The embedding layer. */
  layer: string;
  count: number;
  dim: number;
  model: { weightsSha256: string; normalization: Normalization };
  dataset: {
    sha256: string;
    count: number;
    height: number;
    width: number;
    classNames: string[];
    /** Where the images came from (data path, split), as the caller described it; informative, not compared. */
    source: Record<string, unknown>;
  };
  builtAt: string;
  buildSeconds: number;
}

export interface MemoryOptions {
  /** The embedding layer; default the layer feeding the classifier (defaultCutLayer). */
  layer?: string;
  /** How the model's input is normalized; default the model's metadata. */
  normalization?: Normalization;
  /** Images per forward pass while building (default 256). */
  batchSize?: number;
  /** Dataset position of each image (default 0..count-1). */
  indices?: Int32Array;
  /** Describes the dataset in memory.json (e.g. { data, split }). */
  source?: Record<string, unknown>;
}

export interface MemoryIndex {
  index: KnnIndex;
  info: MemoryInfo;
  /** False when the stored index was reused. */
  built: boolean;
}

/** `run` as a RunDir; a path must be a run directory (INSIGHT_E_MODEL otherwise). */
export function memoryRun(run: RunDir | string): RunDir {
  if (run instanceof RunDir) return run;
  const opened = RunDir.tryOpen(run);
  if (opened === null) {
    throw ruleError('INSIGHT_E_MODEL', 'The memory index is stored in a run directory (one with run.json and config.json).',
      { run, exists: fs.existsSync(run) }, 'Pass the run directory the model belongs to, e.g. runs/<run-id>.');
  }
  return opened;
}

/** The stored index and its memory.json, or null when absent or unreadable. */
export function readMemoryIndex(run: RunDir | string): { index: KnnIndex; info: MemoryInfo } | null {
  const dir = resolveCompleteDir(memoryRun(run).memoryDir);
  if (dir === null) return null;
  try {
    const info = JSON.parse(fs.readFileSync(path.join(dir, MEMORY_FILES.info), 'utf8')) as MemoryInfo;
    const read = (name: string) => decodeNpy(fs.readFileSync(path.join(dir, name)), name);
    const embeddings = read(MEMORY_FILES.embeddings);
    const labels = read(MEMORY_FILES.labels);
    const indices = read(MEMORY_FILES.indices);
    const { count, dim } = info;
    const fits = embeddings.data instanceof Float32Array && embeddings.shape.join() === `${count},${dim}`
      && labels.data instanceof Int32Array && labels.shape.join() === `${count}` && indices.data instanceof Int32Array && indices.shape.join() === `${count}`;
    if (!fits) return null;
    return { index: { count, dim, embeddings: embeddings.data as Float32Array, labels: labels.data as Int32Array, indices: indices.data as Int32Array }, info };
  } catch {
    return null;
  }
}

/** True when a stored index was built from exactly these weights, layer, normalization and dataset. */
function matches(stored: MemoryInfo, wanted: Pick<MemoryInfo, 'layer' | 'model' | 'dataset'>): boolean {
  return stored.formatVersion === 1 && stored.metric === 'cosine' && stored.layer === wanted.layer
    && stored.model?.weightsSha256 === wanted.model.weightsSha256
    && JSON.stringify(stored.model?.normalization) === JSON.stringify(wanted.model.normalization)
    && stored.dataset?.sha256 === wanted.dataset.sha256 && stored.dataset?.count === wanted.dataset.count;
}

/**
 * The k-NN memory of `model` over `dataset` (normally the run's training images: run_images.ts runImages), stored in
 * the run: reused when it was built from the same weights, layer, normalization and images, else built on the
 * backend and written to memory/ (replacing an index of other weights).
 * Example: `const { index } = await memoryIndexFor(run, model, (await runImages(run, [32, 32, 3])).train)`.
 */
export async function memoryIndexFor(run: RunDir | string, model: tfl.LayersModel, dataset: ImageDataset,
  options: MemoryOptions = {}): Promise<MemoryIndex> {
  const runDir = memoryRun(run);
  const embedding = embeddingModel(model, options.layer);
  const normalization = options.normalization ?? getInsightMetadata(model, model.name).normalization;
  const indices = options.indices ?? Int32Array.from({ length: dataset.count }, (_, i) => i);
  if (indices.length !== dataset.count) {
    throw ruleError('INSIGHT_E_CONFIG', 'indices must give one dataset position per image.', { 'indices.length': indices.length, images: dataset.count },
      'Omit indices (positions 0..count-1), or pass the position of every image.');
  }
  if (dataset.count === 0) {
    throw ruleError('INSIGHT_E_DATA', 'The memory index needs at least one image.', { images: 0 }, 'Build it over the run\'s training images.');
  }
  const wanted = {
    layer: embedding.layer,
    model: { weightsSha256: await weightsFingerprint(model), normalization },
    dataset: {
      sha256: datasetFingerprint(dataset, indices), count: dataset.count, height: dataset.height, width: dataset.width,
      classNames: [...dataset.classNames], source: options.source ?? {},
    },
  };
  const stored = readMemoryIndex(runDir);
  if (stored !== null && matches(stored.info, wanted)) return { ...stored, built: false };
  const started = process.hrtime.bigint();
  const embeddings = await embedDataset(embedding, dataset, normalization, options.batchSize ?? EMBED_BATCH);
  const index: KnnIndex = { count: dataset.count, dim: embedding.dim, embeddings, labels: Int32Array.from(dataset.labels), indices: Int32Array.from(indices) };
  const info: MemoryInfo = {
    formatVersion: 1, metric: 'cosine', ...wanted, count: index.count, dim: index.dim,
    builtAt: new Date().toISOString(), buildSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
  writeDirAtomic(runDir.memoryDir, {
    [MEMORY_FILES.embeddings]: encodeNpy({ data: index.embeddings, shape: [index.count, index.dim] }),
    [MEMORY_FILES.labels]: encodeNpy({ data: index.labels, shape: [index.count] }),
    [MEMORY_FILES.indices]: encodeNpy({ data: index.indices, shape: [index.count] }),
    [MEMORY_FILES.info]: `${JSON.stringify(info, null, 2)}\n`,
  });
  return { index, info, built: true };
}
