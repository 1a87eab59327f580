// The explanations panel of a run page, computed once and kept in the run: a handful of the run's validation images
// (found again as the run chose them: explain/run_images.ts, also for fine-tuning runs, whose held-out images they
// are), each with its prediction, Grad-CAM and Integrated Gradients overlays of the predicted class, and its nearest
// training images in the penultimate-layer embedding (the run's memory index, explain/memory: built on first use,
// reused after). Written as one directory (RunDir.explainPanelDir) of PNGs and a manifest, replaced as a whole;
// the manifest records the model files' stamp, so a run whose model changes is computed again.
// Heavy (tfjs, the backend, sharp): the dashboard route imports this module only when a panel is computed.
import { tf } from '../../../backend';
import { normalizeImages, subsetDataset } from '../../../data';
import { ruleError } from '../../../errors';
import { pixelRange } from '../../../explain/baselines';
import { explainImages, type MethodResult } from '../../../explain/explain';
import { isSignedMethod, type ExplainMethod } from '../../../explain/method_names';
import { neighboursOf } from '../../../explain/memory/neighbours';
import { memoryIndexFor } from '../../../explain/memory/store';
import { neighbourStripsPng } from '../../../explain/render/neighbour_strip';
import { overlayPng } from '../../../explain/render/overlay';
import { runImages } from '../../../explain/run_images';
import { getInsightMetadata } from '../../../models/metadata';
import { startBackend } from '../../../run/backend_choice';
import { writeDirAtomic } from '../../../run/atomic';
import { loadModel } from '../../../run/model_io';
import { EXPLAIN_PANEL_FILES, type RunDir } from '../../../run/run_dir';
import { modelStamp, type PanelManifest, type PanelSample } from './manifest';

/** Validation images shown, at most. */
export const PANEL_SAMPLES = 6;
/** Nearest training images per sample, at most. */
export const PANEL_NEIGHBOURS = 5;
/** The methods shown (each drawn signed or not as explain/method_names.ts SIGNED_METHODS says). */
export const PANEL_METHODS: readonly ExplainMethod[] = ['gradcam', 'ig'];

/**
 * Computes the panel of the completed run `run` and writes it (replacing an older one); returns its manifest.
 * Throws INSIGHT_E_* errors (no model, data not found) that the page shows as they are.
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
    const images = await runImages(run, meta.inputShape);
    // A run that kept no validation images shows training images, as its split description says.
    const validation = images.validation ?? images.train;
    const count = Math.min(PANEL_SAMPLES, validation.count);
    const positions = Array.from({ length: count }, (_, i) => Math.floor((i * validation.count) / count));
    const samples = subsetDataset(validation, positions);
    const training = images.train;
    const memory = await memoryIndexFor(run, model, training, { source: images.source });
    const x = tf.tensor4d(normalizeImages(samples.images, meta.normalization), [count, samples.height, samples.width, 3]);
    try {
      const explained = await explainImages(model, x, undefined, PANEL_METHODS, pixelRange(meta.normalization));
      const k = Math.min(PANEL_NEIGHBOURS, memory.index.count);
      const found = await neighboursOf(memory, model, x, k);
      const files: Record<string, Uint8Array | string> = {};
      const stride = samples.height * samples.width * 3;
      const list: PanelSample[] = [];
      for (const [i, sample] of explained.entries()) {
        const image = samples.images.subarray(i * stride, (i + 1) * stride);
        const caption = { className: meta.classNames[sample.predicted], probability: sample.probabilities[sample.predicted] };
        const overlays: Record<string, string> = {};
        for (const method of PANEL_METHODS) {
          const name = `${i}_${method}.png`;
          const { map } = sample.methods[method] as MethodResult;
          files[name] = (await overlayPng({ image, height: samples.height, width: samples.width, map, signed: isSignedMethod(method), caption: { method, ...caption } })).png;
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
        formatVersion: 1, run: run.id, modelStamp: stamp, split: images.validation !== null ? images.validationDescription : images.trainDescription,
        methods: [...PANEL_METHODS], memory: { layer: memory.info.layer, count: memory.index.count, built: memory.built }, samples: list,
        computedAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000,
      };
      files[EXPLAIN_PANEL_FILES.manifest] = `${JSON.stringify(manifest, null, 2)}\n`;
      writeDirAtomic(run.explainPanelDir, files);
      return manifest;
    } finally {
      x.dispose();
    }
  } finally {
    model.dispose(); // with the views explanations built over it (Grad-CAM's tap, the embedding cut: explain/model_views.ts)
  }
}
