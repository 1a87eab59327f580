// Synthetic run directories for tracking tests: the files `insight train` writes (run.json, config.json,
// metrics.jsonl, report/), with chosen hyperparameters and metric curves, written in milliseconds.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import sharp from 'sharp';

import { confusionPng } from '../../src/eval/confusion_png';
import { resolveFinetuneConfig } from '../../src/finetune/config';
import { RunDir } from '../../src/run/run_dir';
import { resolveTrainConfig } from '../../src/train/config';

export interface FakeRun {
  id: string;
  status?: 'running' | 'completed' | 'failed';
  createdAt?: string;
  config?: Record<string, unknown>;
  /** Epochs to log (val_accuracy climbs towards `ceiling`). */
  epochs?: number;
  ceiling?: number;
  stepsPerEpoch?: number;
  /** Write report/ (metrics.json + confusion.png) and predictions.png. */
  report?: boolean;
  tags?: string[];
  /** The run's --name (config.json's name). */
  name?: string;
  /**
   * 'train' / 'finetune': config.json is the complete config that command writes (every key, defaults included;
   * `config` overrides keys), as real runs have it; without: a short train-like config.
   */
  kind?: 'train' | 'finetune';
}

/** The config.json of `run`: complete (kind given) or short. */
function configOf(runsDir: string, run: FakeRun): Record<string, unknown> {
  const named = run.name !== undefined ? { name: run.name } : {};
  if (run.kind === 'train') return { ...resolveTrainConfig({ epochs: run.epochs ?? 3, runsDir, ...named, ...run.config }) };
  if (run.kind === 'finetune') return { ...resolveFinetuneConfig({ base: 'runs/base/model', epochs: run.epochs ?? 3, runsDir, ...named, ...run.config }) };
  return { model: 'seed-cnn', optimizer: 'adam', lr: 0.001, batchSize: 64, epochs: run.epochs ?? 3, augment: [], runsDir, ...named, ...run.config };
}

export const CLASSES = ['cat', 'dog', 'ship'];

export function tempRunsDir(prefix = 'insight-track-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** One epoch record of a synthetic run (deterministic). */
export function epochRecord(epoch: number, ceiling = 0.8, stepsPerEpoch = 10): Record<string, unknown> {
  const acc = ceiling * (1 - Math.exp(-epoch / 2));
  return {
    type: 'epoch', epoch, step: epoch * stepsPerEpoch, loss: 2 * Math.exp(-epoch / 3), accuracy: acc + 0.02,
    val_loss: 2.1 * Math.exp(-epoch / 3.2), val_accuracy: acc, lr: 0.001, seconds: 12.5, imagesPerSecond: 1500 + epoch,
    time: `2026-01-01T00:0${epoch % 10}:00.000Z`,
  };
}

export async function writeRun(runsDir: string, run: FakeRun): Promise<string> {
  const dir = path.join(runsDir, run.id);
  const files = RunDir.at(dir);
  fs.mkdirSync(dir, { recursive: true });
  const created = run.createdAt ?? '2026-01-01T00:00:00.000Z';
  const status = run.status ?? 'completed';
  fs.writeFileSync(files.configJson, `${JSON.stringify(configOf(runsDir, run), null, 2)}\n`);
  fs.writeFileSync(files.runJson, `${JSON.stringify({ id: run.id, status, createdAt: created, updatedAt: created }, null, 2)}\n`);
  const lines: string[] = [];
  for (let epoch = 1; epoch <= (run.epochs ?? 3); epoch++) lines.push(JSON.stringify(epochRecord(epoch, run.ceiling, run.stepsPerEpoch)));
  fs.writeFileSync(files.metricsJsonl, lines.map((l) => `${l}\n`).join(''));
  if (run.tags) fs.writeFileSync(files.tagsJson, JSON.stringify(run.tags));
  if (run.report) {
    const confusion = [[8, 1, 1], [2, 7, 1], [0, 1, 9]];
    fs.mkdirSync(files.reportDir);
    fs.writeFileSync(files.reportMetricsJson, JSON.stringify({
      split: 'validation (last 30 of 300 images)', model: files.modelDir, count: 30, loss: 0.61, accuracy: 0.8, topK: { 5: 1 },
      perClass: [{ name: 'cat', precision: 0.8, recall: 0.8, f1: 0.8, support: 10 }, { name: 'dog', precision: 0.778, recall: 0.7, f1: 0.737, support: 10 },
        { name: 'ship', precision: 0.818, recall: 0.9, f1: 0.857, support: 10 }],
      macro: { precision: 0.8, recall: 0.8, f1: 0.798 }, classNames: CLASSES, confusion,
    }, null, 2));
    fs.writeFileSync(files.confusionPng, await confusionPng(confusion, CLASSES, 'Confusion matrix - validation (30 images)'));
    const tile = await sharp({ create: { width: 200, height: 60, channels: 3, background: '#88aacc' } }).png().toBuffer();
    fs.writeFileSync(files.predictionsPng, tile);
  }
  return dir;
}

/** Appends one line (a record, or raw text) to a run's metrics.jsonl. */
export function appendLine(dir: string, line: Record<string, unknown> | string): void {
  fs.appendFileSync(RunDir.at(dir).metricsJsonl, typeof line === 'string' ? line : `${JSON.stringify(line)}\n`);
}
