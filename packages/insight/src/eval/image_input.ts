// Reading image files as model input: decode with sharp (any format it reads), orient from EXIF, flatten alpha
// onto white, convert to sRGB and resize (stretch) to the model's input size — the same steps as the
// image-folder dataset, so a model sees the same pixels at training and prediction time.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { decodeRgb } from '../data/decode_rgb';
import { ruleError } from '../errors';

/** Extensions picked up when a folder is given (explicitly named files may have any extension). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp'];

/** Files named directly, plus image files found (recursively, sorted) in the folders named. */
export function expandImagePaths(paths: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (IMAGE_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) files.push(full);
    }
  };
  for (const p of paths) {
    if (!fs.existsSync(p)) {
      throw ruleError('INSIGHT_E_IMAGE', 'Every image path must exist.', { image: p }, 'Check the path (files or folders of images).');
    }
    if (fs.statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
  if (files.length === 0) {
    throw ruleError('INSIGHT_E_IMAGE', 'The image paths must hold at least one image (predict and explain read files and folders alike).', { images: paths },
      `Pass image files, or folders containing ${IMAGE_EXTENSIONS.join(' ')} files.`);
  }
  return files;
}

/** Decodes `file` to [height, width, 3] uint8 RGB. Throws INSIGHT_E_IMAGE when it is not a readable image. */
export async function readImageRgb(file: string, height: number, width: number): Promise<Uint8Array> {
  try {
    return await decodeRgb(file, height, width);
  } catch (error) {
    throw ruleError('INSIGHT_E_IMAGE', 'Every image must be a file sharp can decode (JPEG, PNG, WebP, GIF, TIFF, AVIF ...).',
      { image: file, error: (error as Error).message.split('\n')[0] }, 'Remove or replace that file.');
  }
}
