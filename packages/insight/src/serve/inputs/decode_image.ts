// Encoded images (JPEG, PNG, WebP, GIF) → the model's input pixels, with the same steps as `insight predict`
// and the image-folder dataset (orient from EXIF, flatten alpha onto white, sRGB, stretch to the input size),
// so a served model sees what it saw in training. Defences against hostile files: the header is read first
// (sharp metadata, no decoding) and an image declaring more than `maxPixels` pixels is refused before any
// pixel is decoded; the decoder itself runs with limitInputPixels as a second guard and fails on warnings
// (truncated data).
import sharp from 'sharp';

import { serveError } from '../../errors';
import { decodeRgb } from '../../data/decode_rgb';

export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif'] as const;

/** bytes → [height, width, 3] uint8 RGB. `where` names the image in errors (e.g. 'instances[0].b64', 'file "cat.jpg"'). */
export async function decodeImage(bytes: Buffer, height: number, width: number, maxPixels: number, where: string): Promise<Uint8Array> {
  if (bytes.length === 0) {
    throw serveError('SERVE_E_BAD_IMAGE', 'An image must not be empty.', { [where]: '0 bytes' }, 'Send the bytes of a JPEG, PNG, WebP or GIF file.');
  }
  let meta: sharp.Metadata;
  try {
    // Header only: sharp's own pixel limit is off here so that our check below gives the precise error.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw badImage(where, bytes, error);
  }
  if (!(IMAGE_FORMATS as readonly string[]).includes(meta.format ?? '')) {
    throw serveError('SERVE_E_BAD_IMAGE', `An image must be one of: ${IMAGE_FORMATS.join(', ')}.`, { [where]: meta.format ?? 'unknown' },
      'Convert it to JPEG or PNG.');
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > maxPixels) {
    throw serveError('SERVE_E_IMAGE_TOO_LARGE', `An image may have at most --max-image-pixels=${maxPixels} pixels.`,
      { [where]: `${w}x${h} = ${w * h} pixels` }, 'Downscale it before sending (the model only needs its input size).');
  }
  try {
    return await decodeRgb(bytes, height, width, { limitInputPixels: maxPixels });
  } catch (error) {
    throw badImage(where, bytes, error);
  }
}

function badImage(where: string, bytes: Buffer, error: unknown) {
  const message = (error as Error).message.split('\n')[0];
  if (/pixel limit/i.test(message)) {
    return serveError('SERVE_E_IMAGE_TOO_LARGE', 'An image may have at most --max-image-pixels pixels.', { [where]: `${bytes.length} bytes`, error: message },
      'Downscale it before sending (the model only needs its input size).');
  }
  return serveError('SERVE_E_BAD_IMAGE', 'An image must be a complete JPEG, PNG, WebP or GIF file.',
    { [where]: `${bytes.length} bytes`, error: message },
    'Send the whole file (not truncated, not re-encoded as text).');
}
