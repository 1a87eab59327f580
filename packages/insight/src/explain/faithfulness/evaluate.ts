// `insight explain --evaluate`: how faithful each explanation method is to the model, on the first N images. Per
// method: deletion and insertion AUC against a seeded random-map baseline (RISE), the cascading model-randomisation
// sanity check (Adebayo et al. 2018) and, for methods with a baseline, Integrated Gradients' completeness.
import type * as tfl from '@tensorflow/tfjs-layers';

import { tf } from '../../backend';
import { ruleError } from '../../errors';
import type { MethodOptions } from '../attribution';
import { blurSigma, gaussianBlur, igBaseline } from '../baselines';
import { upsampleCam } from '../methods/grad_cam';
import { completenessErrors, summarizeCompleteness } from './completeness';
import { deletionInsertion, type CurveSettings, type Curves } from './deletion_insertion';
import { betweenImages, cascadeUnits, modelRandomisation, passDepthOf, type NamedMethod, type SanityDepth } from './randomisation';

/**
 * The pass threshold of the sanity check: mean ρ at the pass depth below 0.5 where maps of different images share no
 * ranking. ρ = 1 means the randomised model ranks the pixels exactly as the trained one, 0 that the rankings are
 * unrelated; 0.5 sits halfway. |map|s also share structure that no weight decides, the architecture's (see
 * `betweenImages`: with valid convolutions and pooling every saliency map has the same border pattern, ρ ≈ 0.7
 * between unrelated images), and a randomised model keeps it too. So the threshold applies to the ranking above that
 * floor f (the mean ρ between maps of different images, taken as 0 when negative): pass when
 * (ρ − f) / (1 − f) < 0.5, i.e. ρ < f + 0.5·(1 − f) — less than half of what ties a map to its own image beyond what
 * any image's map shares survives. With f = 0 this is ρ < 0.5. Methods that mostly reflect the input keep most of
 * it (Adebayo et al. 2018, figures 2 and 4).
 */
export const SANITY_THRESHOLD = 0.5;
/** Points on the deletion and insertion curves by default (fractions 0, 1/24, ..., 1). */
export const CURVE_STEPS = 25;

export interface FaithfulnessSettings {
  /** Images evaluated: the first `images` rows of x. */
  images: number;
  /** Points on each deletion/insertion curve, ≥ 2 (default 25). */
  steps?: number;
  /** Seed of the random maps and of the re-initialised weights (default 0). */
  seed?: number;
  /** Sanity check: the share of the ranking above the between-images floor that may survive (default SANITY_THRESHOLD; see there). */
  sanityThreshold?: number;
  /** Sanity check: how many units of the cascade to report, from the pass depth to all (default the pass depth). */
  sanityDepths?: number;
}

/** One method's results, means over the images. */
export interface FaithfulnessRow {
  method: string;
  /** Area under the deletion curve: lower = more faithful. */
  deletionAuc: number;
  /** Area under the insertion curve: higher = more faithful. */
  insertionAuc: number;
  /**
   * The same areas for seeded random maps of the same images on the method's grid (`Attribution.grid`, upsampled as
   * the method upsamples; per pixel for most methods): a coarse map is compared with a random map as coarse.
   */
  randomDeletionAuc: number;
  randomInsertionAuc: number;
  /** [h, w] of that random map's grid (the input's size for per-pixel maps). */
  randomGrid: [number, number];
  /** Fraction of the images whose deletion AUC is below that random map's. */
  deletionWins: number;
  /** The cascade, one entry per depth. */
  sanitySpearman: SanityDepth[];
  /** Mean ρ at the pass depth < sanityLimit. */
  sanityPassed: boolean;
  /** The ρ below which the check passes: f + threshold·(1 − f), f = max(0, sanityFloor) (f = 0 for one image). */
  sanityLimit: number;
  /** Mean ρ between the method's maps of different images on the trained model (NaN for one image): the floor. */
  sanityFloor: number;
  /** Relative completeness error (methods reporting a convergence delta, i.e. IG): |Σ attributions − (f(x) − f(baseline))| / |f(x) − f(baseline)|. */
  completeness?: { mean: number; max: number };
  /** Time of the method's maps for the N images on the trained model. */
  seconds: number;
}

export interface FaithfulnessReport {
  images: number;
  steps: number;
  seed: number;
  sanity: { threshold: number; passDepth: number };
  /** The per-pixel random-map baseline. */
  random: { deletionAuc: number; insertionAuc: number };
  /** Random maps on coarser grids that some method's map was computed on (Grad-CAM's layer), keyed 'hxw', e.g. '4x4'. */
  randomOnGrids: Record<string, { grid: [number, number]; deletionAuc: number; insertionAuc: number }>;
  rows: FaithfulnessRow[];
}

/**
 * Evaluates `methods` on the first `settings.images` images of x: [count, H, W, C] (normalized as the model expects)
 * with their targets: [count] class indices. `options` go to every method unchanged; the checks also take from them
 * what deletion puts in (`blackValue`), IG's baseline (completeness) and the most rows per forward pass
 * (`internalBatchSize`). Insertion starts from the blurred copy IG's 'blurred' baseline uses. The caller's model and
 * tensors are left as they were, and no tensor of the evaluation stays alive.
 * Example: `formatFaithfulness(await evaluateFaithfulness(model, x, targets, [{ name: 'saliency', method: METHODS.saliency }],
 * options, { images: 16 }))`.
 */
export async function evaluateFaithfulness(
  model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array, methods: NamedMethod[], options: MethodOptions,
  settings: FaithfulnessSettings,
): Promise<FaithfulnessReport> {
  const units = cascadeUnits(model);
  const passDepth = passDepthOf(units);
  const checked = checkSettings(model, x, targets, methods, options, settings, units.length, passDepth);
  const n = settings.images;
  const t = targets.slice(0, n);
  const curveSettings: CurveSettings = { steps: checked.steps, black: options.blackValue, batchSize: options.internalBatchSize };
  const [xs, blurred] = tf.tidy(() => {
    const first = tf.slice(x, [0, 0, 0, 0], [n, -1, -1, -1]) as tf.Tensor4D;
    return [first, gaussianBlur(first, blurSigma(x.shape[1], x.shape[2]))];
  });
  try {
    const curvesOf = (maps: tf.Tensor3D): Promise<Curves> => deletionInsertion(model, xs, blurred, maps, t, curveSettings);
    const [height, width] = [x.shape[1], x.shape[2]];
    // Random maps per grid (the pixel grid first), each seeded alike: one set of curves per grid a method used.
    const randomCurves = new Map<string, { grid: [number, number]; curves: Curves }>();
    const randomOn = async (grid: [number, number]) => {
      const key = `${grid[0]}x${grid[1]}`;
      if (!randomCurves.has(key)) {
        const maps = randomMaps(n, grid, height, width, checked.seed);
        randomCurves.set(key, { grid, curves: await curvesOf(maps).finally(() => maps.dispose()) });
      }
      return randomCurves.get(key)!;
    };
    const pixel = await randomOn([height, width]);

    const measured: { curves: Curves; original: Float32Array; grid: [number, number]; random: Curves; completeness?: Float32Array; seconds: number }[] = [];
    for (const entry of methods) {
      const started = performance.now();
      const attribution = await entry.method(model, xs, t, options);
      const seconds = (performance.now() - started) / 1000;
      try {
        const curves = await curvesOf(attribution.map);
        const absolute = tf.abs(attribution.map);
        const original = await absolute.data() as Float32Array;
        absolute.dispose();
        let completeness: Float32Array | undefined;
        if (attribution.convergenceDelta !== undefined && attribution.attributions !== undefined) {
          const baseline = igBaseline(xs, options);
          completeness = await completenessErrors(model, xs, baseline, attribution.attributions, t, options.internalBatchSize)
            .finally(() => baseline.dispose());
        }
        const grid = attribution.grid ?? [height, width];
        measured.push({ curves, original, grid, random: (await randomOn(grid)).curves, completeness, seconds });
      } finally {
        tf.dispose([attribution.map, attribution.attributions]);
      }
    }

    const sanity = await modelRandomisation(model, xs, t, methods, measured.map((m) => m.original), options,
      { depths: checked.sanityDepths, seed: checked.seed });
    const rows = methods.map(({ name }, m): FaithfulnessRow => {
      const { curves, original, grid, random, completeness, seconds } = measured[m];
      const atPass = sanity[m][passDepth - 1];
      const sanityFloor = betweenImages(original, n, height * width);
      const sanityLimit = sanityLimitOf(checked.sanityThreshold, sanityFloor);
      return {
        method: name,
        deletionAuc: mean(curves.deletion),
        insertionAuc: mean(curves.insertion),
        randomDeletionAuc: mean(random.deletion),
        randomInsertionAuc: mean(random.insertion),
        randomGrid: grid,
        deletionWins: curves.deletion.filter((auc, i) => auc < random.deletion[i]).length / n,
        sanitySpearman: sanity[m],
        sanityPassed: atPass.mean < sanityLimit,
        sanityLimit,
        sanityFloor,
        ...(completeness === undefined ? {} : { completeness: summarizeCompleteness(completeness) }),
        seconds,
      };
    });
    const randomOnGrids = Object.fromEntries([...randomCurves].filter(([, r]) => r !== pixel)
      .map(([key, r]) => [key, { grid: r.grid, deletionAuc: mean(r.curves.deletion), insertionAuc: mean(r.curves.insertion) }]));
    return {
      images: n, steps: checked.steps, seed: checked.seed,
      sanity: { threshold: checked.sanityThreshold, passDepth },
      random: { deletionAuc: mean(pixel.curves.deletion), insertionAuc: mean(pixel.curves.insertion) },
      randomOnGrids,
      rows,
    };
  } finally {
    tf.dispose([xs, blurred]);
  }
}

/**
 * The ρ below which the sanity check passes: floor + threshold·(1 − floor), the floor taken as 0 when negative or
 * unknown (one image). Example: threshold 0.5, floor 0.7 → 0.85; floor −0.1 → 0.5.
 */
export function sanityLimitOf(threshold: number, floor: number): number {
  const f = Number.isNaN(floor) ? 0 : Math.max(0, floor);
  return f + threshold * (1 - f);
}

/**
 * n seeded uniform random maps [n, height, width] on a [h, w] grid: per pixel when the grid is the input's size, else
 * drawn on the grid and upsampled as Grad-CAM upsamples (bilinear, half-pixel centres).
 */
function randomMaps(n: number, grid: [number, number], height: number, width: number, seed: number): tf.Tensor3D {
  return tf.tidy(() => {
    const values = tf.randomUniform([n, grid[0], grid[1]], 0, 1, 'float32', seed) as tf.Tensor3D;
    return grid[0] === height && grid[1] === width ? values : upsampleCam(values, height, width);
  });
}

function mean(values: Float32Array): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Validates once at the edge; returns the settings with defaults filled in. */
function checkSettings(
  model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array, methods: NamedMethod[], options: MethodOptions,
  settings: FaithfulnessSettings, units: number, passDepth: number,
): { steps: number; seed: number; sanityThreshold: number; sanityDepths: number } {
  const isInt = (v: unknown): v is number => Number.isInteger(v);
  if (x.rank !== 4) {
    throw ruleError('INSIGHT_E_CONFIG', 'x must be a batch of images [n, height, width, channels].', { shape: x.shape },
      'Stack the images into one 4-D tensor, normalized as the model expects.');
  }
  const count = x.shape[0];
  if (!isInt(settings.images) || settings.images < 1 || settings.images > count) {
    throw ruleError('INSIGHT_E_CONFIG', 'images must be an integer from 1 to the number of images given.', { images: settings.images, given: count },
      `Pass e.g. images: ${Math.min(count, 16)}.`);
  }
  if (targets.length !== count) {
    throw ruleError('INSIGHT_E_CONFIG', 'targets must hold one class per image of x.', { 'targets.length': targets.length, images: count },
      'Pass one target class index per image (e.g. the label or the predicted class).');
  }
  const classes = model.outputs[0].shape[1] as number;
  const badTarget = targets.findIndex((c) => c < 0 || c >= classes);
  if (badTarget >= 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'Every target must be a class index of the model.', { index: badTarget, target: targets[badTarget], classes },
      `Pass class indices from 0 to ${classes - 1}.`);
  }
  if (methods.length === 0 || new Set(methods.map((m) => m.name)).size !== methods.length) {
    throw ruleError('INSIGHT_E_CONFIG', 'methods must name at least one method, each once.', { methods: methods.map((m) => m.name) },
      "Pass e.g. [{ name: 'saliency', method: METHODS.saliency }].");
  }
  const steps = settings.steps ?? CURVE_STEPS;
  if (!isInt(steps) || steps < 2) {
    throw ruleError('INSIGHT_E_CONFIG', 'steps (points on each deletion/insertion curve) must be an integer >= 2.', { steps },
      `Pass e.g. steps: ${CURVE_STEPS} (RISE-style curves use 20-50).`);
  }
  const seed = settings.seed ?? 0;
  if (!isInt(seed) || seed < 0) {
    throw ruleError('INSIGHT_E_CONFIG', 'seed must be an integer >= 0.', { seed }, 'Pass e.g. seed: 0.');
  }
  const sanityThreshold = settings.sanityThreshold ?? SANITY_THRESHOLD;
  if (!(sanityThreshold > -1 && sanityThreshold <= 1)) {
    throw ruleError('INSIGHT_E_CONFIG', 'sanityThreshold must be a share of the ranking in (-1, 1].', { sanityThreshold },
      `Pass e.g. sanityThreshold: ${SANITY_THRESHOLD}.`);
  }
  const sanityDepths = settings.sanityDepths ?? passDepth;
  if (!isInt(sanityDepths) || sanityDepths < passDepth || sanityDepths > units) {
    throw ruleError('INSIGHT_E_CONFIG', 'sanityDepths must be an integer from the pass depth to the number of units of the cascade.',
      { sanityDepths, passDepth, units }, `Pass a depth from ${passDepth} (the head down to the last convolution block) to ${units} (every weighted block).`);
  }
  if (!isInt(options.internalBatchSize) || options.internalBatchSize < 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'internalBatchSize must be an integer >= 1.', { internalBatchSize: options.internalBatchSize },
      'Pass e.g. internalBatchSize: 64.');
  }
  if (options.blackValue.length !== x.shape[3]) {
    throw ruleError('INSIGHT_E_CONFIG', 'blackValue must give one value per input channel.', { blackValue: options.blackValue, channels: x.shape[3] },
      'Pass pixelRange(normalization).blackValue for RGB models, or one value per channel.');
  }
  return { steps, seed, sanityThreshold, sanityDepths };
}
