// The model-randomisation sanity check (Adebayo et al. 2018, "Sanity Checks for Saliency Maps", section 3.1,
// cascading randomisation): re-initialise the model's weights from the logits down, one unit at a time, and
// recompute the maps. A map that explains the model must change when the weights that produce the class evidence
// are random; one that stays the same shows the input (edges), not what the model learned. The change is measured
// as Spearman's rank correlation between the original and the randomised |map| of each image.
//
// Units are the model's blocks (models/graph): the classifier head first, then the feature extractor's blocks from
// the top: seed-cnn gives [logits] [dense1] [conv3] [conv2] [conv1]; a CIFAR ResNet [logits], then one residual
// block after another down to the stem. The caller's model is never touched: the cascade runs on a copy.
import * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { spearman } from '../../math/spearman';
import { blocksOf, defaultCutLayer, graphSteps, hasWeights } from '../../models/graph';
import { mixSeeds } from '../../models/seeds';
import type { AttributionMethod, MethodOptions } from '../attribution';

/** A method as the checks run it: its name (a row of the report) and the function. */
export interface NamedMethod {
  name: string;
  method: AttributionMethod;
}

/** One depth of the cascade for one method. */
export interface SanityDepth {
  /** 1 = the top unit randomised; depth d = the top d units. */
  depth: number;
  /** The layers this depth adds to the randomised ones. */
  layers: string[];
  /** [n] ρ(|original map|, |randomised map|) per image (a plain array: the report is written as JSON). */
  spearman: number[];
  mean: number;
  /** Sample standard deviation over the images (0 for one image). */
  sd: number;
}

/**
 * The units of the cascade, top (output side) first; each lists the layers with weights it re-initialises.
 * Example: seed-cnn → [['logits'], ['dense1'], ['conv3'], ['conv2'], ['conv1']].
 */
export function cascadeUnits(model: tfl.LayersModel): tfl.layers.Layer[][] {
  const steps = graphSteps(model);
  if (steps.length < 2) return steps.filter((s) => hasWeights(s.layer)).map((s) => [s.layer]);
  const cut = defaultCutLayer(model);
  const head = steps.slice(steps.findIndex((s) => s.layer.name === cut) + 1).map((s) => s.layer);
  const blocks = blocksOf(model, cut).map((b) => b.layers).reverse();
  return [head, ...blocks].map((layers) => layers.filter(hasWeights)).filter((unit) => unit.length > 0);
}

/**
 * The depth at which the pass criterion is judged: the head and the blocks down to and including the last block
 * with a convolution (a rank-4 kernel), i.e. everything that turns the last feature maps into the class score.
 * Gradient maps are computed through exactly these layers, so a faithful map has lost its ranking by then. A model
 * without convolutions is judged with every unit randomised.
 */
export function passDepthOf(units: tfl.layers.Layer[][]): number {
  const conv = units.findIndex((unit) => unit.some((layer) => layer.weights.some((w) => w.shape.length === 4)));
  return conv < 0 ? units.length : conv + 1;
}

/**
 * Runs the cascade to `depths` units on a copy of `model`: per depth and method, the method's maps on the
 * randomised copy against `originals[m]` ([n·H·W] |map| of method m on the original model). Returns, per method,
 * one SanityDepth per depth. Re-initialised weights are drawn from each layer's own initialisers (those it was built
 * with: glorot for seed-cnn, he for resnet, ones/zeros for BatchNorm), seeded from `seed`, so the randomised model is
 * the untrained model a different seed would have built.
 */
export async function modelRandomisation(
  model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array, methods: NamedMethod[], originals: Float32Array[],
  options: MethodOptions, settings: { depths: number; seed: number },
): Promise<SanityDepth[][]> {
  const units = cascadeUnits(model);
  const [n, h, w] = x.shape;
  const results: SanityDepth[][] = methods.map(() => []);
  const copy = await cloneModel(model);
  try {
    const copyUnits = cascadeUnits(copy);
    for (let d = 0; d < settings.depths; d++) {
      copyUnits[d].forEach((layer, l) => reinitialise(layer, mixSeeds(settings.seed, d, l)));
      for (const [m, { method }] of methods.entries()) {
        const attribution = await method(copy, x, targets, options);
        const randomised = tf.tidy(() => tf.abs(attribution.map));
        tf.dispose([attribution.map, attribution.attributions]);
        const values = await randomised.data() as Float32Array;
        randomised.dispose();
        const rho = Array.from({ length: n }, (_, i) => {
          const size = h * w;
          return rankCorrelation(originals[m].subarray(i * size, (i + 1) * size), values.subarray(i * size, (i + 1) * size));
        });
        results[m].push({ depth: d + 1, layers: units[d].map((layer) => layer.name), spearman: rho, ...meanSd(rho) });
      }
    }
  } finally {
    copy.dispose(); // its Grad-CAM taps are views (../model_views.ts): this frees every variable of the copy
  }
  return results;
}

/**
 * The check's floor for one method: mean ρ between the maps of different images on the same model (image i against
 * image i + 1, cyclically); originals: [n·size] |map| values; NaN for one image. What maps share whatever the image
 * is comes from the architecture, not from the weights or the evidence. With valid convolutions and pooling
 * (seed-cnn) border pixels reach fewer units, and the last two rows and columns reach only what the last pooling
 * drops (their gradient is 0): |gradient| maps of an untrained seed-cnn correlate at about 0.7 across unrelated
 * noise images, against about 0.15 for a same-padded convolution stack. A randomised model whose ρ is near the floor
 * keeps no more of an image's map than another image's map does.
 */
export function betweenImages(originals: Float32Array, n: number, size: number): number {
  if (n < 2) return NaN;
  const map = (i: number) => originals.subarray(i * size, (i + 1) * size);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += rankCorrelation(map(i), map((i + 1) % n));
  return sum / n;
}

/**
 * ρ of two maps; a constant map has no ranking, so: both constant → 1 (nothing changed), one constant → 0 (the
 * ranking is gone).
 */
function rankCorrelation(original: Float32Array, randomised: Float32Array): number {
  const rho = spearman(original, randomised);
  if (!Number.isNaN(rho)) return rho;
  const constant = (a: Float32Array) => a.every((v) => v === a[0]);
  return constant(original) && constant(randomised) ? 1 : 0;
}

function meanSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const squares = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, sd: values.length > 1 ? Math.sqrt(squares / (values.length - 1)) : 0 };
}

/** A model with `model`'s architecture and its own variables holding `model`'s weights (rebuilt from its JSON). */
export async function cloneModel(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  const topology = model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
  const copy = await tfl.models.modelFromJSON({ modelTopology: topology });
  // Assigning shares the (immutable) data; the copy's later writes give its variables new data, never the caller's.
  copy.setWeights(model.getWeights());
  return copy;
}

type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/** Re-initialises every weight of `layer` with the initialiser its config names for it, seeded from `seed`. */
export function reinitialise(layer: tfl.layers.Layer, seed: number): void {
  const config = layer.getConfig();
  tf.tidy(() => layer.setWeights(layer.weights.map((weight, i) => initializerFor(config, weight.originalName, weight.shape.length, mixSeeds(seed, i))
    .apply(weight.shape, weight.dtype))));
}

/**
 * The initialiser of a weight: `conv1/kernel` → config.kernelInitializer, `bn/moving_variance` →
 * config.movingVarianceInitializer, `dw/depthwise_kernel` → config.depthwiseInitializer (Keras's naming). A weight
 * without one (custom layers) gets glorot-uniform for kernels and zeros for vectors, Keras's defaults.
 */
function initializerFor(config: tf.serialization.ConfigDict, weightName: string, rank: number, seed: number): Initializer {
  const short = weightName.slice(weightName.lastIndexOf('/') + 1).replace(/(.)_kernel$/, '$1');
  const key = `${short.replace(/_(.)/g, (_, ch: string) => ch.toUpperCase())}Initializer`;
  const spec = config[key] as { className?: string; config?: tf.serialization.ConfigDict } | null | undefined;
  const registered = spec?.className === undefined ? undefined : tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
  if (registered !== undefined) {
    const [cls, fromConfig] = registered;
    return fromConfig(cls, { ...spec?.config, seed }) as Initializer;
  }
  return rank >= 2 ? tfl.initializers.glorotUniform({ seed }) : tfl.initializers.zeros();
}
