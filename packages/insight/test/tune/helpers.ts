// What the tune tests share: a small learnable image folder (three colours, 8x8 PNGs: each class bright in its own
// channel, plus seeded noise), the tiny model module, a base training config that trains a trial in about a second,
// a search space file, reading a trial's run back (tags, epochs logged, status), and a stream that keeps its text.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import sharp from 'sharp';

import { RunDir } from '../../src/run/run_dir';
import { readTags } from '../../src/track/run_tags';

export const TINY_MODEL = path.join(__dirname, 'tiny_model.ts');
const PER_CLASS = 16;

/** A fresh temp folder. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** <dir>/<colour>/<i>.png for red, green, blue: 16 images each, 8x8. Returns `dir`. */
export async function writeColourFolder(dir: string): Promise<string> {
  let state = 2024;
  const noise = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 16) % 96;
  };
  for (const [name, channel] of [['red', 0], ['green', 1], ['blue', 2]] as const) {
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const pixels = Buffer.alloc(8 * 8 * 3);
      for (let p = 0; p < pixels.length; p++) pixels[p] = (p % 3 === channel ? 128 : 0) + noise();
      await sharp(pixels, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(path.join(dir, name, `${i}.png`));
    }
  }
  return dir;
}

/** The base config of every test study: 48 images (12 validate), the tiny model, 3 epochs, quiet and single-threaded. */
export function baseConfig(data: string, runsDir: string, epochs = 3): Record<string, unknown> {
  return {
    data, imageSize: 8, validationCount: 12, model: TINY_MODEL, epochs, batchSize: 12, runsDir,
    workers: 0, tensorboard: false, progress: 'log', backend: 'torch',
  };
}

/** Writes a space file and returns its path. */
export function writeSpace(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** What a trial's run directory says: its tags, epoch records of metrics.jsonl, status and config. */
export function runOf(dir: string): { tags: string[]; epochs: Record<string, number>[]; status: string; config: Record<string, unknown> } {
  const run = RunDir.open(dir);
  const text = fs.existsSync(run.metricsJsonl) ? fs.readFileSync(run.metricsJsonl, 'utf8') : ''; // killed before its first epoch ended
  const records = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, number>);
  return { tags: readTags(dir), epochs: records.filter((r) => (r.type as unknown) === 'epoch'), status: run.readInfo().status, config: run.readConfig() as Record<string, unknown> };
}

/** A sink stream that keeps what is written (for tune()'s out and err). */
export { sink } from '../support/sink';
