// `predict(config)`: classify image files with a saved model, preprocessing them exactly as the model's
// metadata says (input size, normalization), and return the top-k classes with the probabilities its inference settings
// give (models/inference_output.ts: output kind, temperature, test-time augmentation; --tta overrides). A file that
// cannot be read as an image gets its reason instead and the others go on (strict: true stops at it).
import { tf } from '../backend';
import { normalizeImages } from '../data';
import { inferenceOutputs, resolveInference } from '../models/inference_output';
import { getInsightMetadata } from '../models/metadata';
import { parseTta } from '../models/tta_settings';
import { startBackend } from '../run/backend_choice';
import { loadModel, resolveModelDir } from '../run/model_io';
import { readImageOrReason } from '../data/image_folder';
import { resolvePredictConfig, type PredictConfig } from './config';
import { expandImagePaths, readImageRgb } from './image_input';
import { topKIndices } from '../math/top_k';

export interface Prediction {
  file: string;
  /** The k most probable classes, most probable first; empty when the file could not be read (see error). */
  top: { index: number; className: string; probability: number }[];
  /** Why the file was skipped, e.g. 'cannot be decoded (VipsJpeg: Premature end of input file)'; absent when predicted. */
  error?: string;
}

const BATCH = 64;

/**
 * Example: `await predict({ model: 'runs/x', images: ['cat.jpg'], topK: 3 })` →
 * [{ file: 'cat.jpg', top: [{ index: 3, className: 'cat', probability: 0.81 }, ...] }].
 */
export async function predict(input: Partial<PredictConfig> & { model: string; images: string[] }): Promise<Prediction[]> {
  const config = resolvePredictConfig(input);
  await startBackend(config.backend);
  const files = expandImagePaths(config.images);
  const modelDir = resolveModelDir(config.model);
  const model = await loadModel(modelDir);
  try {
    const meta = getInsightMetadata(model, modelDir);
    // The model's inference settings (output kind, temperature, TTA), --tta overriding the stored TTA.
    const inference = resolveInference(meta, modelDir, config.tta === null ? null : parseTta(config.tta));
    const [height, width] = meta.inputShape;
    const numClasses = meta.classNames.length;
    const predictions: Prediction[] = new Array(files.length);
    for (let start = 0; start < files.length; start += BATCH) {
      const pixels = new Uint8Array(Math.min(BATCH, files.length - start) * height * width * 3);
      const chunk: number[] = []; // positions in files of the images read
      for (let f = start; f < Math.min(start + BATCH, files.length); f++) {
        const image = await readOrSkip(files[f], height, width, config.strict);
        if (typeof image === 'string') {
          predictions[f] = { file: files[f], top: [], error: image };
          continue;
        }
        pixels.set(image, chunk.length * height * width * 3);
        chunk.push(f);
      }
      if (chunk.length === 0) continue;
      const probs = tf.tidy(() => {
        const x = tf.tensor4d(normalizeImages(pixels.subarray(0, chunk.length * height * width * 3), meta.normalization), [chunk.length, height, width, 3]);
        return inferenceOutputs((input) => model.predict(input) as tf.Tensor2D, x, inference).probabilities;
      });
      const values = (await probs.data()) as Float32Array;
      probs.dispose();
      chunk.forEach((f, i) => {
        const top = topKIndices(values, numClasses, i, config.topK)
          .map((index) => ({ index, className: meta.classNames[index], probability: values[i * numClasses + index] }));
        predictions[f] = { file: files[f], top };
      });
    }
    // Nothing readable at all is an error, as with --strict: the first file's (with its reason).
    if (predictions.every((p) => p.error !== undefined)) await readImageRgb(files[0], height, width);
    return predictions;
  } finally {
    model.dispose();
  }
}

/** The pixels of `file`, or why it cannot be read (strict: throws INSIGHT_E_IMAGE instead, as predict always did). */
async function readOrSkip(file: string, height: number, width: number, strict: boolean): Promise<Uint8Array | string> {
  return strict ? readImageRgb(file, height, width) : readImageOrReason(file, height, width);
}
