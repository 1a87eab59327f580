// `predict(config)`: classify image files with a saved model, preprocessing them exactly as the model's
// metadata says (input size, normalization), and return the top-k classes with their probabilities.
import { tf } from '../backend';
import { normalizeImages } from '../data';
import { getInsightMetadata } from '../models/metadata';
import { startBackend } from '../run/backend_choice';
import { loadModel, resolveModelDir } from '../run/model_io';
import { resolvePredictConfig, type PredictConfig } from './config';
import { expandImagePaths, readImageRgb } from './image_input';
import { topKIndices } from '../math/top_k';

export interface Prediction {
  file: string;
  /** The k most probable classes, most probable first. */
  top: { index: number; className: string; probability: number }[];
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
    const [height, width] = meta.inputShape;
    const numClasses = meta.classNames.length;
    const predictions: Prediction[] = [];
    for (let start = 0; start < files.length; start += BATCH) {
      const chunk = files.slice(start, start + BATCH);
      const pixels = new Uint8Array(chunk.length * height * width * 3);
      for (let i = 0; i < chunk.length; i++) pixels.set(await readImageRgb(chunk[i], height, width), i * height * width * 3);
      const probs = tf.tidy(() => {
        const x = tf.tensor4d(normalizeImages(pixels, meta.normalization), [chunk.length, height, width, 3]);
        return tf.softmax(model.predict(x) as tf.Tensor2D);
      });
      const values = (await probs.data()) as Float32Array;
      probs.dispose();
      chunk.forEach((file, i) => {
        const top = topKIndices(values, numClasses, i, config.topK)
          .map((index) => ({ index, className: meta.classNames[index], probability: values[i * numClasses + index] }));
        predictions.push({ file, top });
      });
    }
    return predictions;
  } finally {
    model.dispose();
  }
}
