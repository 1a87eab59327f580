// Embeddings for the nearest-neighbour memory: the activations of the layer that feeds the classifier
// (models/graph defaultCutLayer: seed-cnn → dense1, a ResNet → its global pooling), flattened and scaled to unit
// length, so that the cosine similarity of two images is one dot product. Computed on the backend, batch by batch.
import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { normalizeImages, type ImageDataset, type Normalization } from '../../data';
import { ruleError } from '../../errors';
import { defaultCutLayer, graphSteps } from '../../models/graph';
import { modelView } from '../model_views';

/** Images per forward pass when embedding a dataset. */
export const EMBED_BATCH = 256;

/** A model cut at one layer: image batch [n, H, W, C] → activations [n, ...]; shares the source model's weights. */
export interface EmbeddingModel {
  layer: string;
  /** Length of one embedding (the layer's output flattened). */
  dim: number;
  extractor: tfl.LayersModel;
}

/**
 * The model up to `layer` (default: the layer feeding the classifier), built once per model and layer. No layer is
 * re-applied: the extractor is a new model over the source graph's own tensors, a view of the model
 * (../model_views.ts) that the model's dispose() frees with it.
 * Example: `embeddingModel(model).layer` → 'dense1' for seed-cnn.
 */
export function embeddingModel(model: tfl.LayersModel, layer?: string): EmbeddingModel {
  const name = layer ?? defaultCutLayer(model);
  const steps = graphSteps(model).filter((s) => s.layer.name === name);
  if (steps.length !== 1 || steps[0].outputs.length !== 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'The embedding layer must be a layer of the model applied once, with one output.',
      { layer: name, applications: steps.length }, `Use the default (${defaultCutLayer(model)}), the layer that feeds the classifier.`);
  }
  const output = steps[0].outputs[0];
  const dim = output.shape.slice(1).reduce((a: number, b) => a * (b ?? NaN), 1);
  if (!Number.isInteger(dim) || dim < 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'The embedding layer must have a fixed output size.', { layer: name, outputShape: output.shape },
      `Use the default (${defaultCutLayer(model)}), the layer that feeds the classifier.`);
  }
  return modelView(model, `embedding ${name}`,
    () => ({ layer: name, dim, extractor: tfl.model({ inputs: model.inputs, outputs: output, name: `${model.name}_embedding_${name}` }) }));
}

/** x [n, H, W, C] normalized inputs → unit-length embeddings [n, dim] (an all-zero activation stays zero). */
export function embed(embedding: EmbeddingModel, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const activations = embedding.extractor.apply(x, { training: false }) as tf.Tensor;
    return unitRows(tf.reshape(activations, [x.shape[0], embedding.dim]));
  });
}

/** Rows of `x` [n, d] divided by their L2 norm (rows of norm 0 stay 0). */
export function unitRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)));
}

/**
 * Unit-length embeddings of every image of `ds` ([count, dim] row-major), `batchSize` images per forward pass:
 * bytes are normalized as the model expects, then embedded on the backend; only the result comes back.
 */
export async function embedDataset(embedding: EmbeddingModel, ds: ImageDataset, normalization: Normalization,
  batchSize = EMBED_BATCH): Promise<Float32Array> {
  const out = new Float32Array(ds.count * embedding.dim);
  const stride = ds.height * ds.width * 3;
  for (let start = 0; start < ds.count; start += batchSize) {
    const n = Math.min(batchSize, ds.count - start);
    const pixels = normalizeImages(ds.images.subarray(start * stride, (start + n) * stride), normalization);
    const x = tf.tensor4d(pixels, [n, ds.height, ds.width, 3]);
    const rows = embed(embedding, x);
    out.set(await rows.data() as Float32Array, start * embedding.dim);
    tf.dispose([x, rows]);
  }
  return out;
}
