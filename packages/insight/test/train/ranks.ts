// Starting the ranks of a process group in tests (data parallel in distributed/, pipeline stages in pipeline/), as
// `insight launch` would: torchrun's variables per rank on a free local port, one libtorch thread each, stdout and
// stderr kept.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { CIFAR_ARCHIVE } from '../shared_data';

export const PACKAGE = path.resolve(__dirname, '..', '..');
/** The data-parallel tests' rank program (distributed/rank_main.ts). */
export const RANK_MAIN = path.join(__dirname, 'distributed', 'rank_main.ts');
export const INSIGHT_BIN = path.join(PACKAGE, 'bin', 'insight.js');
/** tsx's loader by its file URL, so a process started in another directory finds it. */
const TSX = pathToFileURL(path.join(path.dirname(require.resolve('tsx/package.json', { paths: [PACKAGE] })), 'dist', 'loader.mjs')).href;

export interface Finished { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
export interface Started { child: ChildProcess; done: Promise<Finished>; output: () => string }

/** A TCP port free right now on 127.0.0.1: the launcher's own helper. */
export { freeLocalPort } from '../../src/process/launch/free_port';

/** Plain SGD with momentum (optimizer state to carry over a restart), 9 updates an epoch, 3 epochs. */
export const MOMENTUM_RECIPE = {
  data: CIFAR_ARCHIVE, limit: 301, validationCount: 40, epochs: 3, batchSize: 32, seed: 7, workers: 0, tensorboard: false,
  progress: 'log', optimizer: 'sgd', lr: 0.01, momentum: 0.5,
};

/** torchrun's variables for `rank` of `worldSize` at 127.0.0.1:`port`. */
export function rankEnv(rank: number, worldSize: number, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(rank), WORLD_SIZE: String(worldSize),
    LOCAL_RANK: String(rank), LOCAL_WORLD_SIZE: String(worldSize), GROUP_RANK: '0', TORCHELASTIC_RESTART_COUNT: '0', ...extra,
  };
}

/** Runs `node --conditions=source --import <tsx> <args>` with `env` added (WORLD_SIZE etc. removed unless given). */
export function startNode(args: string[], env: Record<string, string>, cwd = PACKAGE): Started {
  const base = { ...process.env };
  for (const key of ['WORLD_SIZE', 'RANK', 'MASTER_ADDR', 'MASTER_PORT', 'LOCAL_RANK', 'TORCHELASTIC_RESTART_COUNT', 'INSIGHT_LAUNCH_ID']) delete base[key];
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, ...args], {
    cwd, env: { ...base, INSIGHT_TORCH_THREADS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const done = new Promise<Finished>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, output: () => stdout };
}

export interface RankResult {
  runDir: string;
  weights: number[][];
  state: { step: number; epoch: number; history: { loss: number; accuracy: number; val_loss?: number }[] };
}

/** A new temporary directory. */
export function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** What rank_main.ts wrote to `file`. */
export function readResult(file: string): RankResult {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as RankResult;
}

/** Largest |a - b| over every weight (the same shapes asserted). */
export function maxDifference(a: number[][], b: number[][]): number {
  assert.deepEqual(a.map((w) => w.length), b.map((w) => w.length));
  let max = 0;
  a.forEach((w, i) => w.forEach((v, j) => { max = Math.max(max, Math.abs(v - b[i][j])); }));
  return max;
}

export function expectOk(finished: Finished, who: string): void {
  assert.equal(finished.code, 0, `${who} failed: ${finished.stderr}`);
}
