// metrics.jsonl as tracking reads it: corrupt lines skipped with a warning naming the line, a half-written last
// line awaited while the run is live and reported once it has ended, and tailing by byte offset (appends only,
// resets when a resumed run rewrites the file, multi-byte characters split across reads intact).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { readMetricsChunk } from '../../src/track/metrics_file';
import { MetricsTail } from '../../src/track/metrics_tail';
import { summarizeMetrics } from '../../src/track/run_metrics';
import { tempRunsDir } from './fixtures';

const file = (text: string) => {
  const p = path.join(tempRunsDir('insight-metrics-'), 'metrics.jsonl');
  fs.writeFileSync(p, text);
  return p;
};

describe('readMetricsChunk', () => {
  it('skips a corrupt line with a warning and keeps the rest', () => {
    const chunk = readMetricsChunk(file('{"epoch":1,"loss":2}\n{"epoch":2,"lo\n\n[1,2]\n{"epoch":3,"loss":1}\n'));
    assert.deepEqual(chunk.records, [{ epoch: 1, loss: 2 }, { epoch: 3, loss: 1 }]);
    assert.deepEqual(chunk.warnings, [
      'metrics.jsonl line 2 is not valid JSON and was skipped: {"epoch":2,"lo',
      'metrics.jsonl line 4 is not a JSON object and was skipped: [1,2]',
    ]);
  });

  it('leaves a half-written last line for later while live, and reports it once the run has ended', () => {
    const p = file('{"epoch":1}\n{"epoch":2,"lo');
    const live = readMetricsChunk(p);
    assert.deepEqual(live.records, [{ epoch: 1 }]);
    assert.deepEqual(live.warnings, []);
    assert.equal(live.offset, '{"epoch":1}\n'.length);
    const ended = readMetricsChunk(p, live, true);
    assert.deepEqual(ended.records, []);
    assert.deepEqual(ended.warnings, ['metrics.jsonl line 2 is incomplete (the writer stopped mid-line) and was skipped: {"epoch":2,"lo']);
    // A complete object merely missing its final newline is a record, not a problem.
    assert.deepEqual(readMetricsChunk(file('{"epoch":1}\n{"epoch":2}'), undefined, true).records, [{ epoch: 1 }, { epoch: 2 }]);
  });

  it('reads a missing file as empty', () => {
    assert.deepEqual(readMetricsChunk('/nonexistent/metrics.jsonl'), { offset: 0, line: 0, records: [], warnings: [] });
  });
});

describe('MetricsTail', () => {
  it('returns only what was appended, waiting for lines to complete, with correct line numbers', () => {
    const p = file('{"epoch":1}\n');
    const tail = new MetricsTail(p);
    assert.deepEqual(tail.poll().records, [{ epoch: 1 }]);
    assert.deepEqual(tail.poll(), { reset: false, records: [], warnings: [] });
    fs.appendFileSync(p, '{"epoch":2,"note":"caf');
    assert.deepEqual(tail.poll().records, [], 'half a line: nothing yet');
    // The rest of the line, starting in the middle of a two-byte character.
    const rest = Buffer.from('é"}\nnot json\n');
    fs.appendFileSync(p, rest);
    const update = tail.poll();
    assert.deepEqual(update.records, [{ epoch: 2, note: 'café' }]);
    assert.deepEqual(update.warnings, ['metrics.jsonl line 3 is not valid JSON and was skipped: not json']);
    assert.deepEqual(tail.at, { offset: fs.statSync(p).size, line: 3 });
  });

  it('starts over when the file is rewritten (a resumed run truncates its metrics)', () => {
    const p = file('{"epoch":1}\n{"epoch":2}\n{"epoch":3}\n');
    const tail = new MetricsTail(p);
    assert.equal(tail.poll().records.length, 3);
    const replacement = `${p}.tmp`;
    fs.writeFileSync(replacement, '{"epoch":1}\n{"epoch":2}\n{"epoch":2.5,"resumed":true}\n');
    fs.renameSync(replacement, p);
    const update = tail.poll();
    assert.equal(update.reset, true);
    assert.deepEqual(update.records.map((r) => r.epoch), [1, 2, 2.5]);
  });

  it('continues from a saved position (a reconnecting client)', () => {
    const p = file('{"epoch":1}\n{"epoch":2}\n');
    const first = new MetricsTail(p);
    first.poll();
    fs.appendFileSync(p, '{"epoch":3}\n');
    assert.deepEqual(new MetricsTail(p, first.at).poll().records, [{ epoch: 3 }]);
  });
});

describe('summarizeMetrics', () => {
  it('final is the last epoch, best is min loss / max accuracy; step records only move the step count', () => {
    const summary = summarizeMetrics([
      { type: 'step', epoch: 1, step: 5, loss: 9 },
      { type: 'epoch', epoch: 1, step: 10, loss: 1.0, val_accuracy: 0.5, lr: 0.1 },
      { type: 'epoch', epoch: 2, step: 20, loss: 0.8, val_accuracy: 0.7, lr: 0.05 },
      { type: 'epoch', epoch: 3, step: 30, loss: 0.9, val_accuracy: 0.6, lr: 0.01 },
      { type: 'step', epoch: 4, step: 35, loss: 0.1 },
    ]);
    assert.deepEqual(summary, {
      final: { loss: 0.9, val_accuracy: 0.6, lr: 0.01 }, best: { loss: 0.8, val_accuracy: 0.7 }, epochs: 3, steps: 35,
    });
  });
});
