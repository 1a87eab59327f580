// The learning-rate range test: an exponential ramp from startLr to endLr, the bias-corrected moving average of
// the batch losses, a stop once it passes 4x its minimum, the suggestion minimum/10 and the steepest descent, every
// weight put back afterwards; `insight lr-find` writes lr_find.json and the plot (a PNG whose red line stands at the
// suggestion) and rejects a backwards range before loading tfjs (its --help loads nothing heavy either).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { initBackend } from '../../src/backend';
import { buildFinetuneModel } from '../../src/finetune/build';
import { lrFind, suggest } from '../../src/finetune/lr_find';
import { LR_FIND_SCHEMA } from '../../src/finetune/lr_find_config';
import { COLORS } from '../../src/finetune/lr_find_plot';
import { configureMethod } from '../../src/finetune/methods';
import { fieldsOf } from '../../src/run/config_schema';
import { saveModel } from '../../src/run/model_io';
import { BIN, NODE_FLAGS, runMain } from '../cli/io';
import { tinyDataset } from '../train/tiny';
import { JPG_MINI } from '../shared_data';
import { sameBits, tinyBase, tinyLoader, weightMap } from './tiny_base';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-lr-find-'));
const baseDir = path.join(tmp, 'base');
const newTask = path.join(tmp, 'new-task');

before(async () => {
  await initBackend();
  await saveModel(tinyBase(4), baseDir);
  fs.mkdirSync(newTask);
  for (const c of ['airplane', 'frog']) fs.symlinkSync(path.join(JPG_MINI, c), path.join(newTask, c));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('lrFind', () => {
  it('ramps lr exponentially, smooths the loss (bias-corrected EMA), stops on divergence, restores every weight', async () => {
    const ft = buildFinetuneModel(tinyBase(5), { numClasses: 2, method: 'full', seed: 1 });
    const params = configureMethod(ft, 'full', 0.1);
    const before = weightMap(ft.model);
    const loader = tinyLoader(tinyDataset(64, 8, 2));
    const result = await lrFind(ft.model, loader, { params, startLr: 1e-5, endLr: 1e4, steps: 60, seed: 1 });
    await loader.close();

    assert.equal(result.lrs[0], 1e-5);
    const ratio = (1e4 / 1e-5) ** (1 / 59);
    result.lrs.slice(1).forEach((lr, i) => assert.ok(Math.abs(lr / result.lrs[i] / ratio - 1) < 1e-9, `step ${i + 1}`));
    let average = 0;
    result.losses.forEach((loss, i) => {
      average = 0.98 * average + 0.02 * loss;
      assert.ok(Math.abs(result.smoothed[i] - average / (1 - 0.98 ** (i + 1))) < 1e-9);
    });
    // Zero-initialised head: the first loss is ln 2 exactly up to float32.
    assert.ok(Math.abs(result.losses[0] - Math.log(2)) < 1e-5, `first loss ${result.losses[0]}`);
    // lr up to 1e4 with Adam blows the loss up: the test stops at the first smoothed loss above 4x the minimum.
    assert.ok(result.divergedAt !== null && result.divergedAt < 59, `diverged at ${result.divergedAt}`);
    assert.equal(result.lrs.length, result.divergedAt + 1);
    const last = result.smoothed[result.divergedAt];
    assert.ok(!Number.isFinite(last) || last > 4 * Math.min(...result.smoothed.slice(0, -1)));
    assert.ok(result.smoothed.slice(0, -1).every((v) => v <= 4 * Math.min(...result.smoothed.slice(0, -1))), 'no earlier point crossed');
    assert.equal(result.minimum.loss, Math.min(...result.smoothed.filter(Number.isFinite)));
    assert.equal(result.suggestion, result.minimum.lr / 10);
    assert.ok(result.minimum.loss < result.smoothed[0] - 0.05, 'the loss fell before it diverged');

    const afterWeights = weightMap(ft.model);
    for (const [name, values] of before) assert.ok(sameBits(values, afterWeights.get(name)!), `${name} restored bit for bit`);
    ft.model.dispose();
  });

  it('suggest: minimum/10, and the steepest descent per decade away from the ends', () => {
    const lrs = Array.from({ length: 41 }, (_, i) => 10 ** (-6 + i * 0.15));
    // Flat at 2, a steep fall centred on lr 1e-3 (index 20), the minimum at index 30 (lr 1e-1.5), then up.
    const smoothed = lrs.map((_, i) => (i <= 30 ? 2 - 1.5 / (1 + Math.exp(-(i - 20))) : 0.5 + (i - 30) * 0.2));
    const { minimum, steepest, suggestion } = suggest(lrs, smoothed);
    assert.equal(minimum.lr, lrs[smoothed.indexOf(Math.min(...smoothed))]);
    assert.equal(suggestion, minimum.lr / 10);
    assert.ok(Math.abs(Math.log10(steepest.lr) - Math.log10(lrs[20])) <= 0.15 + 1e-9, `steepest at ${steepest.lr}`);
    assert.ok(steepest.slope < 0);
  });
});

describe('insight lr-find', () => {
  it('writes lr_find.json and a plot with the suggestion, and prints the suggested --lr', async () => {
    const out = path.join(tmp, 'lr');
    const { status, stdout, stderr } = await runMain(['lr-find', '--base', baseDir, '--data', newTask, '--method', 'head', '--steps', '40',
      '--start-lr', '1e-5', '--end-lr', '100', '--validation-count', '20', '--workers', '0', '--out', out]);
    assert.equal(status, 0, stderr);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'lr_find.json'), 'utf8'));
    assert.ok(json.lrs.length >= 2 && json.lrs.length <= 40);
    assert.equal(json.config.method, 'head');
    assert.equal(json.suggestionRule, 'minimum/10');
    assert.equal(json.suggestion, json.minimum.lr / 10);
    assert.match(stdout, new RegExp(`Suggestion: --lr ${json.suggestion.toExponential(1).replace('+', '')} \\(the minimum's lr / 10\\)`));
    assert.match(stdout, /Learning-rate range test: method head, 80 training images \(2 classes\)/);

    const { data, info } = await sharp(path.join(out, 'lr_find.png')).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [640, 420]);
    // The red suggestion line is vertical at x = 64 + (log10(s) − log10(1e-5)) / 7 x 556; look for its colour there.
    const x = Math.round(64 + ((Math.log10(json.suggestion) + 5) / 7) * 556);
    const red = [0xd6, 0x27, 0x28];
    const redRows = Array.from({ length: info.height }, (_, yy) => yy).filter((yy) => {
      for (let dx = -1; dx <= 1; dx++) {
        const p = (yy * info.width + x + dx) * info.channels;
        if (Math.abs(data[p] - red[0]) < 40 && Math.abs(data[p + 1] - red[1]) < 40 && Math.abs(data[p + 2] - red[2]) < 40) return true;
      }
      return false;
    });
    assert.ok(redRows.length > 100, `the suggestion line stands at x=${x} (${redRows.length} red rows)`);
    assert.equal(COLORS.suggestion, '#d62728');
  });

  it('a backwards range fails with the config error', async () => {
    const { status, stderr } = await runMain(['lr-find', '--base', baseDir, '--start-lr', '1', '--end-lr', '0.1']);
    assert.equal(status, 2);
    assert.equal(stderr, 'Error INSIGHT_E_CONFIG: The learning-rate range must satisfy startLr < endLr. Received: startLr=1, endLr=0.1. Pass e.g. --start-lr 1e-7 --end-lr 10.\n');
  });

  it('--help shows every flag of its config (the fine-tuning flags it shares and its own), with examples', async () => {
    const { status, stdout } = await runMain(['lr-find', '--help']);
    assert.equal(status, 0);
    assert.match(stdout, /^Usage: insight lr-find /);
    for (const field of fieldsOf(LR_FIND_SCHEMA)) assert.ok(stdout.includes(`${field.flag}${field.kind === 'bool' ? '' : ' <'}`), field.flag);
    const flat = stdout.replace(/\s+/g, ' ');
    for (const text of ['--config <file>', '(default: 1e-7)', '(default: 100)', '(default: lr-find)', 'Example']) assert.ok(flat.includes(text), text);
  });

  it('--help and a config error load no tfjs, backend or sharp (commands import their workflow in the action)', () => {
    for (const argv of [['lr-find', '--help'], ['lr-find', '--base', 'x', '--steps', '1']]) {
      const file = path.join(tmp, 'modules.json');
      const child = spawnSync(process.execPath, [...NODE_FLAGS, '--require', path.join(__dirname, '..', 'cli', 'loaded_modules.cjs'), BIN, ...argv], {
        encoding: 'utf8', timeout: 60_000, env: { ...process.env, LOADED_MODULES_FILE: file },
      });
      assert.equal(child.status, argv.includes('--help') ? 0 : 2, child.stderr);
      const modules = JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
      assert.ok(modules.length > 50, 'the preload listed the modules');
      assert.deepEqual(modules.filter((m) => /node_modules\/@tensorflow\/|tfjs-backend-torch\/|\.node$|node_modules\/sharp\/|insight\/src\/backend\.ts$/.test(m)), [], argv.join(' '));
    }
  });
});
