// Colour maps for heat maps, as 256-entry lookup tables applied on the backend (one gather per picture).
// - viridis (sequential, perceptually uniform, lightness rising monotonically): maps that are >= 0 (Grad-CAM,
//   saliency, the SmoothGrad family). The published table, see viridis_data.ts.
// - coolwarm (diverging, Moreland 2009): signed maps (method_names.ts SIGNED_METHODS: Integrated Gradients,
//   occlusion), blue < 0 < red with a light grey 0.
//   Computed once from its definition (below), not copied: it is an interpolation in Moreland's Msh space.
// Normalization is per image: min–max for >= 0 maps; for signed maps a symmetric clip at the 99th percentile of
// |value| (nearest rank), so that a handful of extreme pixels — common in IG — do not wash every other pixel to 0.
import { tf } from '../../backend';
import { VIRIDIS_DATA } from './viridis_data';

export interface Colormap {
  name: 'viridis' | 'coolwarm';
  /** [256 * 3] sRGB bytes, entry 0 = the low end. */
  lut: Uint8Array;
  /** True for a diverging map (the middle entry stands for 0). */
  diverging: boolean;
}

/** The values the two ends of the colour bar stand for, in the map's own units. */
export interface MapRange {
  low: number;
  high: number;
}

/** Signed maps are clipped at this percentile of |value| per image. */
export const SIGNED_CLIP_PERCENTILE = 99;

/** One line saying how a map was normalized, for legends. */
export function normalizationNote(signed: boolean): string {
  return signed ? `symmetric, clipped at the ${SIGNED_CLIP_PERCENTILE}th percentile of |value|` : 'min–max per image';
}

function lutOf(channels: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(channels, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
}

// --- Moreland's diverging map ("Diverging Color Maps for Scientific Visualization", ISVC 2009): the two end colours
// are converted to Msh (polar CIELAB: magnitude M, saturation angle s, hue h), and the map runs from one end to an
// unsaturated middle (M = max(M1, M2, 88), s = 0) and on to the other, with the hue of the unsaturated end spun as
// the paper's adjustHue says. Reference white D65; sRGB primaries. The end colours below are the paper's cool-warm
// pair; its published table (CoolWarmFloat33) is what the test compares with.
type Triple = [number, number, number];
const WHITE: Triple = [0.95047, 1.0, 1.08883];
const COOL: Triple = [59 / 255, 76 / 255, 192 / 255];
const WARM: Triple = [180 / 255, 4 / 255, 38 / 255];

const toLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const toSrgb = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
const labF = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
const labFInverse = (t: number) => (t ** 3 > 0.008856 ? t ** 3 : (t - 16 / 116) / 7.787);

function srgbToMsh([r, g, b]: Triple): Triple {
  const [lr, lg, lb] = [r, g, b].map(toLinear);
  const x = (0.4124 * lr + 0.3576 * lg + 0.1805 * lb) / WHITE[0];
  const y = (0.2126 * lr + 0.7152 * lg + 0.0722 * lb) / WHITE[1];
  const z = (0.0193 * lr + 0.1192 * lg + 0.9505 * lb) / WHITE[2];
  const L = 116 * labF(y) - 16;
  const a = 500 * (labF(x) - labF(y));
  const bb = 200 * (labF(y) - labF(z));
  const M = Math.hypot(L, a, bb);
  return [M, M > 0 ? Math.acos(L / M) : 0, Math.atan2(bb, a)];
}

function mshToSrgb([M, s, h]: Triple): Triple {
  const L = M * Math.cos(s);
  const a = M * Math.sin(s) * Math.cos(h);
  const bb = M * Math.sin(s) * Math.sin(h);
  const fy = (L + 16) / 116;
  const x = WHITE[0] * labFInverse(fy + a / 500);
  const y = WHITE[1] * labFInverse(fy);
  const z = WHITE[2] * labFInverse(fy - bb / 200);
  const linear = [
    3.2406 * x - 1.5372 * y - 0.4986 * z,
    -0.9689 * x + 1.8758 * y + 0.0415 * z,
    0.0557 * x - 0.204 * y + 1.057 * z,
  ];
  return linear.map((c) => Math.min(1, Math.max(0, toSrgb(c)))) as Triple;
}

/** The hue for an unsaturated colour of magnitude `mUnsat` next to the saturated `msh` (the paper's adjustHue). */
function adjustHue([M, s, h]: Triple, mUnsat: number): number {
  if (M >= mUnsat) return h;
  const spin = (s * Math.sqrt(mUnsat * mUnsat - M * M)) / (M * Math.sin(s));
  return h > -Math.PI / 3 ? h + spin : h - spin;
}

/** The colour at t in [0, 1] between two saturated, differently hued sRGB colours (the paper's interpolateColor). */
export function divergingColour(low: Triple, high: Triple, t: number): Triple {
  let [m1, s1, h1] = srgbToMsh(low);
  let [m2, s2, h2] = srgbToMsh(high);
  let u = t;
  const mid = Math.max(m1, m2, 88);
  if (u < 0.5) {
    [m2, s2, h2] = [mid, 0, 0];
    u *= 2;
  } else {
    [m1, s1, h1] = [mid, 0, 0];
    u = 2 * u - 1;
  }
  if (s1 < 0.05 && s2 > 0.05) h1 = adjustHue([m2, s2, h2], m1);
  else if (s2 < 0.05 && s1 > 0.05) h2 = adjustHue([m1, s1, h1], m2);
  return mshToSrgb([(1 - u) * m1 + u * m2, (1 - u) * s1 + u * s2, (1 - u) * h1 + u * h2]);
}

/** Perceptual sequential map for maps >= 0. */
export const VIRIDIS: Colormap = { name: 'viridis', lut: lutOf(VIRIDIS_DATA), diverging: false };
/** Diverging map for signed maps: entry 0 = most negative, 255 = most positive. */
export const COOLWARM: Colormap = {
  name: 'coolwarm',
  lut: lutOf(Array.from({ length: 256 }, (_, i) => divergingColour(COOL, WARM, i / 255)).flat()),
  diverging: true,
};

/** The colour map for a map of this kind. */
export function colormapFor(signed: boolean): Colormap {
  return signed ? COOLWARM : VIRIDIS;
}

/**
 * Per-image normalization onto the colour bar: maps [n, H, W] → unit [n, H, W] in [0, 1], and each image's range.
 * signed false: (v - min) / (max - min), a constant map → 0. signed true: v / s clipped to [-1, 1] and shifted to
 * [0, 1] (0 → 0.5), s = the SIGNED_CLIP_PERCENTILE-th percentile of |v| (or max |v| when that is 0; an all-zero
 * map → 0.5). The percentile is the k-th largest |v| from tf.topk, on the backend. The caller disposes `unit`.
 */
export async function normalizeMaps(maps: tf.Tensor3D, signed: boolean): Promise<{ unit: tf.Tensor3D; ranges: MapRange[] }> {
  const [n, h, w] = maps.shape;
  const [unit, low, high] = tf.tidy(() => {
    const flat = tf.reshape(maps, [n, h * w]);
    if (!signed) {
      const lo = tf.min(flat, 1, true);
      const hi = tf.max(flat, 1, true);
      const span = tf.maximum(tf.sub(hi, lo), 1e-30);
      return [tf.reshape(tf.div(tf.sub(flat, lo), span), [n, h, w]) as tf.Tensor3D, lo, hi];
    }
    const magnitude = tf.abs(flat);
    const k = h * w - Math.ceil((SIGNED_CLIP_PERCENTILE / 100) * h * w) + 1;
    const percentile = tf.slice(tf.topk(magnitude, k).values, [0, k - 1], [n, 1]);
    const scale = tf.where(tf.greater(percentile, 0), percentile, tf.max(magnitude, 1, true));
    const clipped = tf.clipByValue(tf.div(flat, tf.maximum(scale, 1e-30)), -1, 1);
    return [tf.reshape(tf.add(tf.mul(clipped, 0.5), 0.5), [n, h, w]) as tf.Tensor3D, tf.neg(scale), scale];
  });
  const [lows, highs] = await Promise.all([low.data(), high.data()]);
  tf.dispose([low, high]);
  return { unit, ranges: Array.from(lows, (lo, i) => ({ low: lo, high: highs[i] })) };
}

/** unit [n, H, W] in [0, 1] → colours [n, H, W, 3] (float32 0..255): one gather from the table, on the backend. */
export function colorize(unit: tf.Tensor3D, colormap: Colormap): tf.Tensor4D {
  return tf.tidy(() => {
    const table = tf.tensor2d(colormap.lut, [256, 3], 'float32');
    const index = tf.cast(tf.clipByValue(tf.round(tf.mul(unit, 255)), 0, 255), 'int32');
    return tf.gather(table, index) as tf.Tensor as tf.Tensor4D; // [256, 3] gathered by [n, H, W] → [n, H, W, 3]
  });
}
