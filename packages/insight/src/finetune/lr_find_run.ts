// `finetuneLrFind(config)`: the range test of a fine-tuning setup, as `insight lr-find` runs it — load the base,
// build the model the method would train (new head, adapters, LoRA or prompt; the method's trainable set, the base
// at lr x baseLrFactor under full), ramp the learning rate over its training batches (lr_find.ts), and write
// `<out>/lr_find.json` and `<out>/lr_find.png`. The suggestion is for --lr of `insight finetune` (the head's rate).
// Under full it tests the whole model at once, i.e. the phase after the head-alone epochs.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { DataLoader } from '../data';
import { writeFileAtomic } from '../run/atomic';
import { startBackend } from '../run/backend_choice';
import { augmentOf } from '../train/data_setup';
import { TRAIN_DEFAULTS } from '../train/config';
import { loadBaseModel } from './base_model';
import { buildFinetuneModel, buildOptionsOf } from './build';
import { listOf } from './config';
import { prepareFinetuneData } from './data';
import { lrFind, type LrFindResult } from './lr_find';
import { resolveLrFindConfig, type LrFindConfig } from './lr_find_config';
import { formatLr, lrFindPng } from './lr_find_plot';
import { configureMethod } from './methods';

export const LR_FIND_JSON = 'lr_find.json';
export const LR_FIND_PNG = 'lr_find.png';

export interface FinetuneLrFindResult {
  config: LrFindConfig;
  result: LrFindResult;
  /** The files written. */
  json: string;
  png: string;
}

/**
 * Runs the range test for the fine-tuning setup of `input` (see LR_FIND_SCHEMA) and writes its JSON and plot.
 * Example: `const { result } = await finetuneLrFind({ base: 'runs/base', data: 'photos/', method: 'head' });
 *   await finetune({ base: 'runs/base', data: 'photos/', method: 'head', lr: result.suggestion })`.
 */
export async function finetuneLrFind(input: Partial<LrFindConfig> | Record<string, unknown>, options: { out?: NodeJS.WritableStream } = {}): Promise<FinetuneLrFindResult> {
  const { config, finetune } = resolveLrFindConfig(input);
  const say = (line: string) => options.out?.write(`${line}\n`);
  const backend = await startBackend(config.backend);
  const inputShape = finetune.inputShape === null ? null : listOf(finetune.inputShape).map(Number) as [number, number, number];
  const base = await loadBaseModel(finetune.base, { inputShape, normalization: finetune.normalization === 'scale' ? { kind: 'scale' } : null });
  base.notices.forEach(say);
  const data = await prepareFinetuneData(finetune, base);
  const ft = buildFinetuneModel(base.model, buildOptionsOf(finetune, data.classNames, base.metadata.classNames));
  const loader = new DataLoader(data.train, {
    batchSize: finetune.batchSize, shuffle: true, seed: finetune.seed, normalization: data.normalization, workers: finetune.workers ?? undefined,
    augment: augmentOf({ ...TRAIN_DEFAULTS, augment: finetune.augment }),
  });
  try {
    const params = configureMethod(ft, finetune.method, finetune.baseLrFactor);
    say(`Learning-rate range test: method ${finetune.method}, ${data.train.count} training images (${data.classNames.length} classes), ` +
      `${finetune.optimizer}, batch ${finetune.batchSize}, lr ${formatLr(config.startLr)} → ${formatLr(config.endLr)} over at most ${config.steps} updates, backend ${backend}`);
    const result = await lrFind(ft.model, loader, {
      params, optimizer: finetune.optimizer, optimizerSettings: { weightDecay: finetune.weightDecay },
      startLr: config.startLr, endLr: config.endLr, steps: config.steps, seed: finetune.seed,
    });
    fs.mkdirSync(config.out, { recursive: true });
    const json = path.join(config.out, LR_FIND_JSON);
    const png = path.join(config.out, LR_FIND_PNG);
    writeFileAtomic(json, `${JSON.stringify({ config, ...result }, null, 2)}\n`);
    writeFileAtomic(png, await lrFindPng(result, `Learning-rate range test (${finetune.method}): suggestion ${formatLr(result.suggestion)}`));
    say(`  ${result.lrs.length} updates${result.divergedAt !== null ? `, stopped at lr ${formatLr(result.lrs[result.divergedAt])}: the smoothed loss passed 4x its minimum` : ''}`);
    say(`  smoothed loss ${result.smoothed[0].toFixed(4)} at the start, minimum ${result.minimum.loss.toFixed(4)} at lr ${formatLr(result.minimum.lr)}; steepest descent at lr ${formatLr(result.steepest.lr)}`);
    say(`Suggestion: --lr ${formatLr(result.suggestion)} (the minimum's lr / 10)`);
    say(`Wrote ${json} and ${png}`);
    return { config, result, json, png };
  } finally {
    await loader.close();
    ft.model.dispose();
  }
}
