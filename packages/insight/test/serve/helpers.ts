// Test fixtures for the server: small real models saved with Insight's saveModel + metadata into a model
// repository, a server built on it (in-process; tests use app.inject or listen on 127.0.0.1:0), and inputs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';

import { initBackend, tf } from '../../src/backend';
import type { Normalization } from '../../src/data';
import { setInsightMetadata } from '../../src/models/metadata';
import { loadModel, saveModel } from '../../src/run/model_io';
import type { KeySources } from '../../src/serve/auth/key_source';
import { resolveServeConfig, type ServeConfig } from '../../src/serve/config';
import { createServe, type ServeInstance } from '../../src/serve/start';

export const SIZE = 8;
export const CLASSES = ['cat', 'dog', 'ship'];
export const NORMALIZATION: Normalization = { kind: 'meanstd', mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.3] };

export const INFERENCE_KEY = 'inference-key-0123456789abcdef';
export const ADMIN_KEY = 'admin-key-0123456789abcdef012345';
export const KEYS: KeySources = { inference: [INFERENCE_KEY], admin: [ADMIN_KEY], warnings: [] };
export const NO_KEYS: KeySources = { inference: [], admin: [], warnings: [] };

let backendReady: Promise<string> | null = null;
export function backend(): Promise<string> {
  backendReady ??= initBackend();
  return backendReady;
}

/** A tiny conv net: [SIZE, SIZE, 3] → 3 logits, seeded, with Insight metadata. */
export function tinyModel(seed: number): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [SIZE, SIZE, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: CLASSES.length, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: 'zeros' }),
    ],
  });
  setInsightMetadata(model, {
    formatVersion: 1, architecture: 'tiny-test', architectureOptions: {}, inputShape: [SIZE, SIZE, 3], classNames: CLASSES, normalization: NORMALIZATION,
  });
  return model;
}

/** A fresh, empty repository directory. */
export function tempRepository(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'insight-serve-'));
}

/** Saves tinyModel(seed) as <root>/<name>/<version>/ (atomically, as `insight train` does). */
export async function saveVersion(root: string, name: string, version: number, seed = version): Promise<string> {
  await backend();
  const dir = path.join(root, name, String(version));
  const model = tinyModel(seed);
  await saveModel(model, dir);
  model.dispose();
  return dir;
}

/** A server config for tests: quiet, no polling, no rate limit unless asked. */
export function testConfig(root: string, overrides: Partial<ServeConfig> = {}): ServeConfig {
  return resolveServeConfig({ models: root, logLevel: 'silent', pollMs: 0, rateLimit: 0, ...overrides });
}

/** A loaded server on `root` (not listening). */
export async function testServer(root: string, overrides: Partial<ServeConfig> = {}, keys: KeySources = NO_KEYS,
  logStream?: { write(line: string): void }): Promise<ServeInstance> {
  await backend();
  return createServe(testConfig(root, overrides), keys, logStream ? { logStream } : {});
}

/** A deterministic [SIZE][SIZE][3] instance of normalized floats. */
export function instance(seed: number): number[][][] {
  let state = seed * 7919 + 1;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 8) % 2000) / 1000 - 1;
  };
  return Array.from({ length: SIZE }, () => Array.from({ length: SIZE }, () => [next(), next(), next()]));
}

/** Softmax probabilities of the model in `dir` for one batch, computed directly with tfjs (the reference). */
export async function referenceProbabilities(dir: string, instances: number[][][][]): Promise<Float32Array> {
  const model = await loadModel(dir);
  const probs = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(instances)) as tf.Tensor2D).dataSync() as Float32Array);
  model.dispose();
  return probs;
}

/** An encoded test image of the given size and format with a gradient (so it is not trivially compressible to nothing). */
export async function imageBytes(width: number, height: number, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 256;
  return sharp(raw, { raw: { width, height, channels: 3 } }).toFormat(format).toBuffer();
}

/** Bearer header for a key. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** Polls `check` until it is true (bounded: `timeoutMs`). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** One HTTP/1.1 answer read off a raw socket, with the ms since the exchange started. */
export interface RawAnswer {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
  atMs: number;
}

/**
 * Writes `chunks` (strings or buffers, in order) on one raw connection to 127.0.0.1:`port` and reads up to
 * `count` answers (bounded by `timeoutMs`); `closed` tells whether the server closed the connection.
 */
export async function rawExchange(port: number, chunks: (string | Buffer)[], count: number, timeoutMs = 5000):
  Promise<{ answers: RawAnswer[]; closed: boolean; error: string | null }> {
  const net = await import('node:net');
  const start = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    const answers: RawAnswer[] = [];
    let closed = false;
    let error: string | null = null;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ answers, closed, error });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (data) => {
      buffer = Buffer.concat([buffer, data]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) break;
        const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        const length = Number(headers['content-length'] ?? 0);
        if (buffer.length < end + 4 + length) break;
        const [, status, statusText] = /^HTTP\/1\.1 (\d+) (.*)$/.exec(lines[0]) ?? [];
        answers.push({ status: Number(status), statusText, headers, body: buffer.subarray(end + 4, end + 4 + length).toString('utf8'), atMs: Date.now() - start });
        buffer = buffer.subarray(end + 4 + length);
      }
      if (answers.length >= count) finish();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => void (error = e.code ?? e.message));
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

/** A multipart/form-data body with `fields` text fields and `files` files of `fileBytes` bytes each. */
export function multipartBody(boundary: string, fields: number, files: number, fileBytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < fields; i++) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="field${i}"\r\n\r\nvalue${i}\r\n`));
  for (let i = 0; i < files; i++) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image${i}"; filename="image${i}.png"\r\nContent-Type: image/png\r\n\r\n`));
    parts.push(Buffer.alloc(fileBytes, 0x41), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}
