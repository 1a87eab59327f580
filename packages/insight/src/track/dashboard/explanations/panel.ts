// The explanations panel of a run page, computed once and kept in the run: a handful of the run's validation images
// (found again from config.json: same data, --limit and validation split as training), each with its prediction,
// Grad-CAM and Integrated Gradients overlays of the predicted class, and its nearest training images in the
// penultimate-layer embedding (the run's memory index, explain/memory: built on first use, reused after).
// Written as one directory (PANEL_DIR inside the run's explain/ folder) of PNGs and a manifest, replaced as a whole;
// the manifest records the model files' stamp, so a run whose model changes is computed again.
// Heavy (tfjs, the backend, sharp): the dashboard route imports this module only when a panel is computed.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../../backend';
import { normalizeImages, subsetDataset, type ImageDataset } from '../../../data';
import { ruleError } from '../../../errors';
import { pixelRange } from '../../../explain/baselines';
import { explainBatch } from '../../../explain/explain';
import { embed, embeddingModel } from '../../../explain/memory/embedding';
import { nearestNeighbours } from '../../../explain/memory/knn_index';
import { memoryIndexFor } from '../../../explain/memory/store';
import { runTrainingSet } from '../../../explain/memory/training_set';
import { neighbourStripsPng } from '../../../explain/render/neighbour_strip';
import { overlayPng } from '../../../explain/render/overlay';
import { getInsightMetadata } from '../../../models/metadata';
import { startBackend } from '../../../run/backend_choice';
import { writeDirAtomic } from '../../../run/atomic';
import { loadDataset, splitForRun, type DatasetSource } from '../../../run/dataset_source';
import { loadModel } from '../../../run/model_io';
import type { RunDir } from '../../../run/run_dir';
import { modelStamp, PANEL_FILE, panelDir, type PanelManifest, type PanelSample } from './manifest';

/** Validation images shown, at most. */
export const PANEL_SAMPLES = 6;
/** Nearest training images per sample, at most. */
export const PANEL_NEIGHBOURS = 5;
/** The methods shown, and whether each one's map is signed (diverging colours). */
export const PANEL_METHODS = [{ method: 'gradcam', signed: false }, { method: 'ig', signed: true }] as const;

/**
 * Computes the panel of the completed run `run` and writes it (replacing an older one); returns its manifest.
 * Throws INSIGHT_E_* errors (no model, data not found, a fine-tuning run) that the page shows as they are.
 */
export async function computePanel(run: RunDir): Promise<PanelManifest> {
  const started = Date.now();
  const stamp = modelStamp(run);
  if (stamp === null) {
    throw ruleError('INSIGHT_E_MODEL', 'Explanations need the run\'s final model, written when training completes.', { run: run.id },
      'Open the panel again once the run has completed.');
  }
  await startBackend('auto');
  const model = await loadModel(run.modelDir);
  try {
    const meta = getInsightMetadata(model, run.modelDir);
    const { dataset: validation, description } = await validationImages(run, meta.inputShape[0]);
    const count = Math.min(PANEL_SAMPLES, validation.count);
    const positions = Array.from({ length: count }, (_, i) => Math.floor((i * validation.count) / count));
    const samples = subsetDataset(validation, positions);
    const { dataset: training, source } = await runTrainingSet(run);
    const memory = await memoryIndexFor(run, model, training, { source });
    const x = tf.tensor4d(normalizeImages(samples.images, meta.normalization), [count, samples.height, samples.width, 3]);
    try {
      const probs = tf.tidy(() => tf.softmax(model.predict(x) as tf.Tensor2D));
      const probabilities = await probs.data() as Float32Array;
      probs.dispose();
      const classes = meta.classNames.length;
      const predicted = Int32Array.from({ length: count }, (_, i) => argMax(probabilities.subarray(i * classes, (i + 1) * classes)));
      const maps = await methodMaps(model, x, predicted, pixelRange(meta.normalization));
      const k = Math.min(PANEL_NEIGHBOURS, memory.index.count);
      const queries = embed(embeddingModel(model), x);
      const found = await nearestNeighbours(memory.index, queries, k).finally(() => queries.dispose());
      const files: Record<string, Uint8Array | string> = {};
      const stride = samples.height * samples.width * 3;
      const list: PanelSample[] = [];
      for (let i = 0; i < count; i++) {
        const image = samples.images.subarray(i * stride, (i + 1) * stride);
        const p = predicted[i];
        const caption = { className: meta.classNames[p], probability: probabilities[i * classes + p] };
        const overlays: Record<string, string> = {};
        for (const [m, { method, signed }] of PANEL_METHODS.entries()) {
          const name = `${i}_${method}.png`;
          files[name] = (await overlayPng({ image, height: samples.height, width: samples.width, map: maps[m].subarray(i * stride / 3, (i + 1) * stride / 3), signed,
            caption: { method, ...caption } })).png;
          overlays[method] = name;
        }
        const neighbours = Array.from({ length: k }, (_, j) => {
          const at = i * k + j;
          return { index: found.indices[at], label: training.classNames[found.labels[at]], distance: found.distances[at] };
        });
        const strip = `${i}_neighbours.png`;
        files[strip] = (await neighbourStripsPng([{
          query: image, caption: `${caption.className} ${(100 * caption.probability).toFixed(0)}%`, queryLabel: caption.className,
          neighbours: neighbours.map((n) => ({ image: training.images.subarray(n.index * stride, (n.index + 1) * stride), label: n.label, distance: n.distance })),
        }], { height: samples.height, width: samples.width })).png;
        list.push({
          index: positions[i], label: meta.classNames[samples.labels[i]] ?? String(samples.labels[i]), predicted: caption.className,
          probability: caption.probability, overlays, neighbours, neighboursImage: strip,
        });
      }
      const manifest: PanelManifest = {
        formatVersion: 1, run: run.id, modelStamp: stamp, split: description, methods: PANEL_METHODS.map((m) => m.method),
        memory: { layer: memory.info.layer, count: memory.index.count, built: memory.built }, samples: list,
        computedAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000,
      };
      files[PANEL_FILE] = `${JSON.stringify(manifest, null, 2)}\n`;
      writeDirAtomic(panelDir(run), files);
      return manifest;
    } finally {
      x.dispose();
    }
  } finally {
    // The explanation models built over the model (Grad-CAM's tap, the embedding cut) hold its layers: free the weights too.
    const weights = model.weights.map((w) => w.read());
    model.dispose();
    tf.dispose(weights);
  }
}

/** [n · H · W] maps of PANEL_METHODS for x [n, H, W, 3] and targets. */
async function methodMaps(model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array, range: { blackValue: number[]; whiteValue: number[] }): Promise<Float32Array[]> {
  const results = await explainBatch(model, x, targets, PANEL_METHODS.map((m) => m.method), range);
  try {
    return await Promise.all(results.map((r) => r.map.data() as Promise<Float32Array>));
  } finally {
    tf.dispose(results.map((r) => r.map));
  }
}

function argMax(values: Float32Array): number {
  let best = 0;
  for (let c = 1; c < values.length; c++) if (values[c] > values[best]) best = c;
  return best;
}

/** The run's validation images (its training images when it kept none for validation), as training split them. */
async function validationImages(run: RunDir, imageSize: number): Promise<{ dataset: ImageDataset; description: string }> {
  const config = run.readConfig() as Record<string, unknown>;
  if (typeof config.base === 'string') {
    throw ruleError('INSIGHT_E_CONFIG', 'The images of a fine-tuning run cannot be found again from its config here.', { run: run.id, base: config.base },
      'Use `insight explain <run> <images...>` with the images it was tuned on.');
  }
  const source: DatasetSource = {
    data: typeof config.data === 'string' ? config.data : null,
    dataset: (config.dataset as DatasetSource['dataset'] | undefined) ?? 'auto',
    imageSize: typeof config.imageSize === 'number' ? config.imageSize : imageSize,
  };
  const split = splitForRun(await loadDataset(source, 'train'), typeof config.limit === 'number' ? config.limit : null,
    typeof config.validationCount === 'number' ? config.validationCount : null);
  return split.validation !== null
    ? { dataset: split.validation, description: split.validationDescription }
    : { dataset: split.train, description: split.validationDescription };
}
