// explain()'s results as files (what `insight explain` writes): per image and method an overlay PNG and the map as
// .npy ([H, W] float32, or [H, W, C] attributions), per image a JSON file with its maps as arrays, one grid PNG
// (rows = images, columns = methods), one PNG of neighbour strips, and explanations.json, the manifest that lists
// everything (always written). File names start with the image's position and name, e.g. `003_cat.gradcam.png`:
// unique when two folders hold a 0001.jpg, and sorted as the images were given.
// The files are written atomically: into a new directory as a whole (complete or absent), into an existing one
// file by file (never removing what else is there).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { encodeNpy } from '../format/npy';
import { writeDirAtomic, writeFileAtomic } from '../run/atomic';
import type { OutputFormat } from './command_config';
import type { ExplainResult, ImageExplanation, MethodResult } from './explain';
import { isSignedMethod, type ExplainMethod } from './method_names';
import { explanationGridPng } from './render/grid';
import { neighbourStripsPng } from './render/neighbour_strip';
import { overlayPng } from './render/overlay';

/** Names of the files that do not belong to one image. */
export const EXPLANATION_FILES = {
  manifest: 'explanations.json',
  grid: 'grid.png',
  neighbours: 'neighbours.png',
  faithfulness: 'faithfulness.json',
} as const;

/** Pictures with one row per image show at most this many (the first ones); every image keeps its own files. */
export const MAX_PICTURE_ROWS = 64;

/** One nearest training image of a query image. */
export interface Neighbour {
  /** Position in the training set the memory index was built from. */
  index: number;
  label: number;
  className: string;
  /** 1 − cosine similarity of the embeddings. */
  distance: number;
  /** RGB bytes [H, W, 3]. */
  image: Uint8Array;
}

/** What the writer needs besides explain()'s result: the pixels the model saw, per image, and the neighbours. */
export interface ExplainedImages {
  result: ExplainResult;
  /** [H, W, 3] RGB bytes per image, at the model's input size (as explain() saw them). */
  pixels: Uint8Array[];
  /** Per image, nearest first (absent without --neighbours). */
  neighbours?: Neighbour[][];
  /** The model directory explained (recorded in the manifest). */
  model: string;
}

/** One image in the manifest (and in `insight explain --json`): classes, per-method facts and its files. */
export interface ImageRecord {
  source: string;
  predicted: { index: number; className: string; probability: number };
  target: { index: number; className: string; probability: number };
  methods: Partial<Record<ExplainMethod, { min: number; max: number; signed: boolean; layer?: string; convergenceDelta?: number }>>;
  neighbours?: { index: number; label: number; className: string; distance: number }[];
  /** File names (relative to the output directory), in the order written. */
  files: string[];
}

export interface ExplanationFiles {
  /** name → contents, every file of the output directory. */
  files: Record<string, string | Uint8Array>;
  images: ImageRecord[];
  /** The files not of one image: the manifest, and the grid and neighbour pictures when written. */
  shared: string[];
}

/** `003_cat` for the image at position 3 of source `photos/cat.jpg` (at least 3 digits; file-name-safe, no dots). */
export function imageStem(position: number, count: number, source: string): string {
  const digits = Math.max(3, String(count - 1).length);
  const name = path.basename(source, path.extname(source)).replace(/[^A-Za-z0-9_-]+/g, '_') || 'image'; // no dots: they separate the parts
  return `${String(position).padStart(digits, '0')}_${name}`;
}

/** [rows, cols] row-major values → nested arrays (JSON's natural shape for a 2-D or 3-D map). */
function nested(values: Float32Array, shape: number[]): unknown[] {
  const [first, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, i) => {
    const part = values.subarray(i * size, (i + 1) * size);
    return rest.length === 0 ? part[0] : rest.length === 1 ? Array.from(part) : nested(part, rest);
  });
}

function classOf(result: ExplainResult, image: ImageExplanation, index: number) {
  return { index, className: result.classNames[index], probability: image.probabilities[index] };
}

/** The per-method facts of the manifest (no arrays). */
function methodFacts(method: ExplainMethod, m: MethodResult) {
  return {
    min: m.min, max: m.max, signed: isSignedMethod(method),
    ...(m.layer !== undefined ? { layer: m.layer } : {}), ...(m.convergenceDelta !== undefined ? { convergenceDelta: m.convergenceDelta } : {}),
  };
}

/**
 * Every output file of an explanation, in memory (PNGs encoded, .npy and JSON serialized), for `formats`.
 * Example: `const { files } = await explanationFiles({ result, pixels, model: 'runs/x/model' }, ['png', 'npy'])`.
 */
export async function explanationFiles(input: ExplainedImages, formats: readonly OutputFormat[]): Promise<ExplanationFiles> {
  const { result, pixels, neighbours } = input;
  const files: Record<string, string | Uint8Array> = {};
  const want = new Set(formats);
  const count = result.images.length;
  const images: ImageRecord[] = [];
  for (const [i, image] of result.images.entries()) {
    const stem = imageStem(i, count, image.source);
    const record: ImageRecord = {
      source: image.source, predicted: classOf(result, image, image.predicted), target: classOf(result, image, image.target), methods: {}, files: [],
    };
    const add = (name: string, data: string | Uint8Array) => {
      files[name] = data;
      record.files.push(name);
    };
    const arrays: Record<string, unknown> = {};
    for (const method of result.methods) {
      const m = image.methods[method] as MethodResult;
      const signed = isSignedMethod(method);
      record.methods[method] = methodFacts(method, m);
      if (want.has('png')) {
        const caption = { method, className: record.target.className, probability: record.target.probability };
        add(`${stem}.${method}.png`, (await overlayPng({ image: pixels[i], height: m.height, width: m.width, map: m.map, signed, caption })).png);
      }
      if (want.has('npy')) {
        add(`${stem}.${method}.npy`, encodeNpy({ data: m.map, shape: [m.height, m.width] }));
        if (m.attributions) add(`${stem}.${method}.attributions.npy`, encodeNpy({ data: m.attributions, shape: [m.height, m.width, m.attributions.length / (m.height * m.width)] }));
      }
      arrays[method] = {
        ...methodFacts(method, m), height: m.height, width: m.width, map: nested(m.map, [m.height, m.width]),
        ...(m.attributions ? { attributions: nested(m.attributions, [m.height, m.width, m.attributions.length / (m.height * m.width)]) } : {}),
      };
    }
    if (neighbours) record.neighbours = neighbours[i].map(({ index, label, className, distance }) => ({ index, label, className, distance }));
    if (want.has('json')) {
      const { files: _files, ...facts } = record;
      add(`${stem}.json`, `${JSON.stringify({ ...facts, probabilities: Array.from(image.probabilities), methods: arrays })}\n`);
    }
    images.push(record);
  }

  const shared: string[] = [EXPLANATION_FILES.manifest];
  const rows = result.images.slice(0, MAX_PICTURE_ROWS);
  const [height, width] = pixelSize(result);
  if (want.has('png') && rows.length > 0) {
    const gridRows = rows.map((image, i) => ({
      label: `${path.basename(image.source)}\n${result.classNames[image.target]} ${(100 * image.probabilities[image.target]).toFixed(0)}%`,
      image: pixels[i],
      cells: result.methods.map((method) => ({ map: (image.methods[method] as MethodResult).map, signed: isSignedMethod(method) })),
    }));
    files[EXPLANATION_FILES.grid] = (await explanationGridPng(gridRows, [...result.methods], { height, width })).png;
    shared.push(EXPLANATION_FILES.grid);
    if (neighbours) {
      const strips = rows.map((image, i) => ({
        query: pixels[i],
        caption: `${result.classNames[image.predicted]} ${(100 * image.probabilities[image.predicted]).toFixed(0)}%`,
        queryLabel: result.classNames[image.predicted],
        neighbours: neighbours[i].map((n) => ({ image: n.image, label: n.className, distance: n.distance })),
      }));
      files[EXPLANATION_FILES.neighbours] = (await neighbourStripsPng(strips, { height, width })).png;
      shared.push(EXPLANATION_FILES.neighbours);
    }
  }
  const manifest = {
    formatVersion: 1, model: input.model, createdAt: new Date().toISOString(), classNames: result.classNames, methods: result.methods,
    classes: result.classes, options: result.options, formats: [...formats], pictureRows: Math.min(count, MAX_PICTURE_ROWS), shared, images,
  };
  files[EXPLANATION_FILES.manifest] = `${JSON.stringify(manifest, null, 2)}\n`;
  return { files, images, shared };
}

/** [H, W] of the maps (the model's input size). */
function pixelSize(result: ExplainResult): [number, number] {
  const first = result.images[0]?.methods[result.methods[0]];
  return first ? [first.height, first.width] : [0, 0];
}

/**
 * Writes `files` into `dir` atomically: a directory that does not exist yet appears complete (written under a
 * temporary name, then renamed); in an existing directory each file is replaced atomically and nothing else is
 * touched.
 */
export function writeOutputFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  if (!fs.existsSync(dir)) {
    writeDirAtomic(dir, files);
    return;
  }
  for (const [name, data] of Object.entries(files)) writeFileAtomic(path.join(dir, name), data);
}
