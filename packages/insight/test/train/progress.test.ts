// Progress output: the terminal bar (redrawn in place, then a summary line per epoch) and plain log lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { TrainingContext } from '../../src/train/callbacks/callback';
import { ProgressBar } from '../../src/train/callbacks/progress_bar';
import { ProgressLog } from '../../src/train/callbacks/progress_log';
import { initialTrainerState, type BatchLogs, type EpochLogs } from '../../src/train/state';

function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY, columns: 200, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const ctx = { epochs: 10, batchesPerEpoch: 4, stepsPerEpoch: 4, state: initialTrainerState(0) } as unknown as TrainingContext;
const batch = (b: number): BatchLogs => ({ epochIndex: 2, batch: b, batchesPerEpoch: 4, step: 8 + b, loss: 1.23456, accuracy: 0.5, lr: 0.001, imagesPerSecond: 1450.4, seconds: 3 * b });
const epoch: EpochLogs = { epoch: 3, step: 12, loss: 1.2, accuracy: 0.55, val_loss: 1.3, val_accuracy: 0.52, lr: 0.001, seconds: 75, imagesPerSecond: 1450 };

describe('ProgressBar', () => {
  it('draws batch i/N, the bar, ETA, loss, accuracy and images/s; ends the epoch with the summary', () => {
    const out = stream(true);
    const bar = new ProgressBar(out);
    bar.onEpochBegin(2, ctx);
    bar.onBatchEnd(batch(2));
    bar.onEpochEnd(epoch, ctx);
    assert.equal(out.text,
      'Epoch 3/10\n' +
      '\r2/4 [===============>..............] ETA 0:06 - loss 1.2346 - accuracy 0.5000 - 1450 img/s\x1b[K' +
      '\r4/4 [==============================] 1:15 - loss 1.2000 - accuracy 0.5500 - val_loss 1.3000 - val_accuracy 0.5200 - 1450 img/s\x1b[K\n');
  });

  it('fits the live line into a narrow terminal (shorter bar, cut at the width); the summary stays whole', () => {
    const out = stream(true);
    (out as { columns: number }).columns = 80;
    const bar = new ProgressBar(out);
    bar.onEpochBegin(2, ctx);
    bar.onBatchEnd(batch(2));
    const live = out.text.split('\r')[1].replace('\x1b[K', '');
    assert.equal(live, '2/4 [=====>....] ETA 0:06 - loss 1.2346 - accuracy 0.5000 - 1450 img/s');
    bar.onEpochEnd(epoch, ctx);
    // eslint-disable-next-line no-control-regex -- the line must end with the terminal's erase-to-end-of-line escape
    assert.match(out.text, /val_accuracy 0\.5200 - 1450 img\/s\x1b\[K\n$/);
  });

  it('redraws at most every 100 ms, but always draws the last batch', () => {
    const out = stream(true);
    const bar = new ProgressBar(out);
    bar.onEpochBegin(0, ctx);
    bar.onBatchEnd(batch(1));
    bar.onBatchEnd(batch(2));
    bar.onBatchEnd(batch(4));
    assert.equal(out.text.split('\r').length - 1, 2);
  });
});

describe('ProgressLog', () => {
  it('one line per epoch, and per N steps when asked', () => {
    const out = stream(false);
    const log = new ProgressLog(out, { everySteps: 10 });
    log.onBatchEnd(batch(1), ctx);
    log.onBatchEnd(batch(2), ctx);
    log.onEpochEnd(epoch, ctx);
    assert.equal(out.text,
      'epoch 3/10 - batch 2/4 - step 10 - ETA 0:06 - loss 1.2346 - accuracy 0.5000 - lr 0.001000 - 1450 img/s\n' +
      'epoch 3/10 - 4/4 batches - 1:15 - loss 1.2000 - accuracy 0.5500 - val_loss 1.3000 - val_accuracy 0.5200 - lr 0.001000 - 1450 img/s\n');
  });

  it('a line whenever 30 s (by default) pass without one, so a long epoch shows life; 0 turns it off', () => {
    let now = 0;
    const out = stream(false);
    const text = (): string => out.text; // read fresh each time (the asserts below would narrow out.text)
    const log = new ProgressLog(out, { now: () => now });
    log.onTrainBegin();
    now = 29_999;
    log.onBatchEnd(batch(1), ctx);
    assert.equal(text(), '', 'not before 30 s');
    now = 30_000;
    log.onBatchEnd(batch(2), ctx);
    assert.equal(text(), 'epoch 3/10 - batch 2/4 - step 10 - ETA 0:06 - loss 1.2346 - accuracy 0.5000 - lr 0.001000 - 1450 img/s\n');
    now = 45_000;
    log.onEpochEnd(epoch, ctx); // an epoch line restarts the 30 s
    now = 74_000;
    log.onBatchEnd(batch(3), ctx);
    assert.equal(text().split('\n').length - 1, 2);
    now = 75_000;
    log.onBatchEnd(batch(3), ctx);
    assert.equal(text().split('\n').length - 1, 3);
    assert.match(text(), /\nepoch 3\/10 - batch 3\/4 - step 11 - ETA 0:03 - /);

    const off = stream(false);
    const silent = new ProgressLog(off, { everySeconds: 0, now: () => now });
    now += 3_600_000;
    silent.onBatchEnd(batch(1), ctx);
    assert.equal(off.text, '');
    const every5 = new ProgressLog(off, { everySeconds: 5, now: () => now });
    now += 5_000;
    every5.onBatchEnd(batch(1), ctx);
    assert.match(off.text, /^epoch 3\/10 - batch 1\/4 - step 9 - /);
  });
});
