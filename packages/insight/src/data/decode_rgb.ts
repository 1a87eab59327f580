// The one image decode used everywhere a model sees pixels (training from image folders, `predict`, `serve`),
// so a picture becomes the same model input in all three: sharp decodes it, applies EXIF rotation, flattens
// transparency onto white, converts to sRGB and resizes to exactly height x width.
import sharp from 'sharp';

/**
 * Decodes an image file path or encoded bytes to [height, width, 3] uint8 RGB (HWC, row-major). Throws sharp's
 * error (or a shape error) when it cannot; callers turn that into their own error with its code.
 */
export async function decodeRgb(input: string | Buffer, height: number, width: number,
  options: { limitInputPixels?: number } = {}): Promise<Uint8Array> {
  const { data, info } = await sharp(input, { failOn: 'warning', ...options })
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== width || info.height !== height || data.length !== height * width * 3) {
    throw new Error(`decoded to an unexpected shape ${info.height}x${info.width}x${info.channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}
