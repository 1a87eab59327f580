// The TensorBoard log of a real (small) training run through train(config): installed by default, one event file
// in the run directory whose every record passes both CRCs and decodes, with step/epoch/system scalars, weight and
// gradient histograms per epoch, the sample-prediction grid and the confusion matrix as PNGs; off with
// tensorboard: false. Plus the logger's own promise: a logging failure is a note, never a failed run.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import sharp from 'sharp';

import { tf } from '../../src/backend';
import { RunDir } from '../../src/run/run_dir';
import { TensorBoard } from '../../src/train/callbacks/tensorboard';
import { train, type TrainResult } from '../../src/train/train';
import { fit, trainableVariables } from '../../src/train/trainer';
import { Adam, paramsOf } from '../../src/train/optimizers';
import { ConstantSchedule } from '../../src/train/schedules';
import { DataLoader } from '../../src/data';
import { decodeEventFile, scalarsOf, type DecodedEvent } from '../track/events';
import { JPG_MINI } from '../shared_data';
import { tinyDataset, tinyModel } from './tiny';

const DATA = JPG_MINI;

function sink(): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY: false, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const eventFiles = (dir: string) => fs.readdirSync(dir).filter((name) => name.startsWith('events.out.tfevents.'));

describe('TensorBoard log of train(config)', () => {
  let result: TrainResult;
  let events: DecodedEvent[];
  let out: NodeJS.WriteStream & { text: string };

  before(async () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-tb-'));
    out = sink();
    result = await train({ data: DATA, limit: 80, validationCount: 20, epochs: 2, batchSize: 16, logEverySteps: 2, workers: 0, runsDir }, { out });
    result.model.dispose();
    const files = eventFiles(result.runDir);
    assert.equal(files.length, 1, `one event file: ${files}`);
    const decoded = decodeEventFile(path.join(result.runDir, files[0]));
    assert.equal(decoded.tornBytes, 0, 'every record complete, both CRCs checked');
    events = decoded.events;
  });

  it('names the file events.out.tfevents.<unix seconds>.<hostname> and starts with the file version', () => {
    assert.match(eventFiles(result.runDir)[0], new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${os.hostname().replace(/[.]/g, '\\.')}$`));
    assert.equal(events[0].file_version, 'brain.Event:2');
    assert.ok(events.every((e, i) => i === 0 || e.summary !== undefined), 'the rest are summaries');
    const times = events.map((e) => e.wall_time);
    assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]) && Math.abs(times[0] - Date.now() / 1000) < 600, 'wall times ascend and are now-ish');
  });

  it('logs step scalars every --log-every-steps updates and epoch scalars per epoch', () => {
    const scalars = scalarsOf(events);
    // 60 training images, batch 16 → 4 updates per epoch, 8 in all; every 2nd is logged.
    assert.deepEqual(scalars.get('step/loss')!.map(([step]) => step), [2, 4, 6, 8]);
    for (const tag of ['step/accuracy', 'step/lr', 'step/images_per_second']) assert.equal(scalars.get(tag)!.length, 4, tag);
    const history = result.state.history;
    for (const [tag, key] of [['epoch/loss', 'loss'], ['epoch/accuracy', 'accuracy'], ['epoch/val_loss', 'val_loss'], ['epoch/val_accuracy', 'val_accuracy'], ['epoch/lr', 'lr']] as const) {
      assert.deepEqual(scalars.get(tag)!.map(([step]) => step), [1, 2], tag);
      scalars.get(tag)!.forEach(([, value], i) => assert.ok(Math.abs(value - history[i][key]!) <= 1e-6 * Math.max(1, Math.abs(history[i][key]!)), `${tag} ${value}`));
    }
    assert.ok(scalars.get('epoch/images_per_second')!.every(([, v]) => v > 0));
  });

  it('samples system metrics (CPU %, RSS, heap, native tensor bytes on torch)', () => {
    const scalars = scalarsOf(events);
    for (const tag of ['system/cpu_percent', 'system/rss_bytes', 'system/heap_used_bytes', 'system/tensors']) {
      assert.ok(scalars.get(tag)!.length >= 2, tag);
    }
    assert.ok(scalars.get('system/rss_bytes')!.every(([, v]) => v > 10e6));
    assert.ok(scalars.get('system/cpu_percent')!.every(([, v]) => v >= 0));
    if (tf.getBackend() === 'torch') assert.ok(scalars.get('system/native_tensor_bytes')!.every(([, v]) => v > 0));
  });

  it('writes a weight histogram of every weight and a gradient histogram of every trainable weight, per epoch', () => {
    const histos = new Map<string, number[]>();
    for (const event of events) {
      for (const value of event.summary?.value ?? []) {
        if (!value.histo) continue;
        histos.set(value.tag, [...(histos.get(value.tag) ?? []), event.step]);
        const h = value.histo as { num: number; bucket: number[]; bucket_limit: number[]; min: number; max: number };
        assert.equal(h.bucket.reduce((a, b) => a + b, 0), h.num, value.tag);
        assert.equal(h.bucket.length, h.bucket_limit.length);
        assert.ok(h.min <= h.max);
      }
    }
    const weights = [...histos.keys()].filter((t) => t.startsWith('weights/'));
    const gradients = [...histos.keys()].filter((t) => t.startsWith('gradients/'));
    // seed-cnn: 3 conv + 2 dense layers, kernel and bias each.
    assert.equal(weights.length, 10, weights.join(' '));
    assert.deepEqual(gradients.map((t) => t.replace('gradients/', '')).sort(), weights.map((t) => t.replace('weights/', '')).sort());
    for (const steps of histos.values()) assert.deepEqual(steps, [1, 2]);
  });

  it('ends with the sample-prediction grid and the confusion matrix as PNG images, and the report scalars', async () => {
    const images = new Map<string, { step: number; height: number; width: number; png: Buffer }>();
    for (const event of events) {
      for (const value of event.summary?.value ?? []) {
        if (value.image) images.set(value.tag, { step: event.step, height: value.image.height, width: value.image.width, png: Buffer.from(value.image.encoded_image_string) });
      }
    }
    assert.deepEqual([...images.keys()].sort(), ['images/confusion_matrix', 'images/sample_predictions']);
    for (const [tag, image] of images) {
      const meta = await sharp(image.png).metadata();
      assert.equal(meta.format, 'png', tag);
      assert.deepEqual([meta.width, meta.height], [image.width, image.height], tag);
      assert.equal(image.step, 2, tag);
    }
    assert.deepEqual(fs.readFileSync(path.join(result.runDir, 'report', 'confusion.png')), images.get('images/confusion_matrix')!.png);
    assert.deepEqual(fs.readFileSync(path.join(result.runDir, 'predictions.png')), images.get('images/sample_predictions')!.png);
    const predictions = JSON.parse(fs.readFileSync(path.join(result.runDir, 'predictions.json'), 'utf8'));
    assert.equal(predictions.samples.length, 20, 'the 20 validation images (fewer than the default 24)');
    assert.equal(predictions.classNames.length, 10);
    const scalars = scalarsOf(events);
    assert.ok(Math.abs(scalars.get('report/accuracy')![0][1] - result.report.accuracy) < 1e-6);
    assert.equal(scalars.get('report/top_5_accuracy')!.length, 1);
    assert.equal([...scalars.keys()].filter((t) => t.startsWith('report/f1/')).length, 10);
  });

  it('is off with tensorboard: false', async () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-notb-'));
    const off = await train({ data: DATA, limit: 24, validationCount: 8, epochs: 1, batchSize: 16, workers: 0, runsDir, tensorboard: false }, { out: sink() });
    off.model.dispose();
    assert.deepEqual(eventFiles(off.runDir), []);
    assert.equal(fs.existsSync(path.join(off.runDir, 'predictions.png')), false);
  });
});

describe('TensorBoard callback on its own', () => {
  it('a logging failure becomes one note and training goes on; no tensors leak', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-tbfail-'));
    const model = tinyModel(1);
    const loader = new DataLoader(tinyDataset(32), { batchSize: 8, seed: 1, workers: 0 });
    const optimizer = new Adam(paramsOf(trainableVariables(model)));
    const logger = new TensorBoard({ run: RunDir.at(dir), stepEvery: 1, samples: null });
    const notes: string[] = [];
    const before = tf.memory().numTensors;
    let removed = false;
    await fit(model, loader, {
      epochs: 2, optimizer, schedule: new ConstantSchedule(0.01),
      callbacks: [logger, {
        name: 'noteCollector', onNote: (m: string) => notes.push(m),
        onEpochEnd: () => {
          // The log directory vanishes after the first epoch (someone deleted the run while it trained).
          if (!removed) fs.rmSync(dir, { recursive: true });
          removed = true;
        },
      }],
    });
    logger.close();
    await loader.close();
    optimizer.dispose();
    assert.equal(notes.length, 1, notes.join('\n'));
    assert.match(notes[0], /^TensorBoard log: event file could not be written and is skipped from now on \(ENOENT/);
    assert.equal(tf.memory().numTensors, before, 'the gradient clones are disposed');
    model.dispose();
  });
});
