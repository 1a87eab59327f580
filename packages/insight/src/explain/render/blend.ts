// Heat maps over their images, for a batch at once and on the backend: normalize each map (colormap.ts), look its
// colours up, and alpha-blend them over the image. Sequential maps (>= 0) blend with a constant alpha, as
// pytorch-grad-cam's show_cam_on_image does; signed maps (IG, occlusion) blend with alpha · |value| / clip, so pixels
// without attribution show the image untouched and the colour grows with the evidence for or against the class.
import { tf } from '../../backend';
import { colorize, colormapFor, normalizeMaps, type MapRange } from './colormap';

/** Default weight of the heat map in the blend. */
export const DEFAULT_ALPHA = 0.5;

/** One blended picture at input resolution. */
export interface HeatTile {
  /** RGB bytes [H, W, 3]. */
  pixels: Uint8Array;
  /** The map values at the two ends of the colour bar. */
  range: MapRange;
}

/**
 * images[i]: RGB bytes [H, W, 3]; maps[i]: heat map [H * W] of image i (signed: an IG-style map). Returns the
 * blended tiles at input resolution (upscaling is the picture's business). alpha in [0, 1]: heat weight.
 * Example: `const [tile] = await heatTiles([pixels], [map], 32, 32, { signed: false })`.
 */
export async function heatTiles(images: Uint8Array[], maps: Float32Array[], height: number, width: number,
  options: { signed: boolean; alpha?: number }): Promise<HeatTile[]> {
  const n = images.length;
  if (n === 0) return [];
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const pixelCount = height * width;
  const imageBytes = new Uint8Array(n * pixelCount * 3);
  const mapValues = new Float32Array(n * pixelCount);
  images.forEach((image, i) => imageBytes.set(image, i * pixelCount * 3));
  maps.forEach((map, i) => mapValues.set(map, i * pixelCount));
  const mapTensor = tf.tensor3d(mapValues, [n, height, width]);
  const { unit, ranges } = await normalizeMaps(mapTensor, options.signed);
  const blended = tf.tidy(() => {
    const image = tf.tensor4d(imageBytes, [n, height, width, 3], 'float32');
    const heat = colorize(unit, colormapFor(options.signed));
    // weight [n, H, W, 1]: constant for sequential maps, alpha · |2u - 1| for signed ones (u = 0.5 is value 0).
    const weight = options.signed ? tf.mul(tf.abs(tf.sub(tf.mul(unit, 2), 1)), alpha) : tf.fill([n, height, width], alpha);
    const blended = tf.add(image, tf.mul(tf.sub(heat, image), tf.expandDims(weight, 3)));
    return tf.cast(tf.clipByValue(tf.round(blended), 0, 255), 'int32');
  });
  const values = await blended.data() as Int32Array;
  tf.dispose([mapTensor, unit, blended]);
  const bytes = new Uint8Array(values); // int32 → uint8, values already in 0..255
  return ranges.map((range, i) => ({ pixels: bytes.subarray(i * pixelCount * 3, (i + 1) * pixelCount * 3), range }));
}
