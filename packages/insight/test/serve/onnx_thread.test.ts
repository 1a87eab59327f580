// An ONNX version's session on its worker thread (serve/repository/onnx_thread.ts): the same outputs as the session
// run in-process, the event loop turning while a batch computes (in-process, onnxruntime-node's run() blocks it), a
// load failure rejecting with ONNX Runtime's message, and dispose() ending the thread and failing later calls.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { createModel } from '../../src/models';
import { exportOnnx, OnnxModel } from '../../src/onnx';
import { OnnxThread } from '../../src/serve/repository/onnx_thread';
import { backend, CLASSES, NORMALIZATION } from './helpers';

const S = 24;
let bytes: Uint8Array;

/** `rows` deterministic images [rows, S, S, 3] in [-1, 1), flat. */
function batch(rows: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: rows * S * S * 3 }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state >>> 8) % 2000) / 1000 - 1;
  });
}

/** Event-loop turns (setImmediate) until `work` settles. */
async function turnsDuring<T>(work: Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let settled = false;
  const tick = () => {
    if (settled) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const value = await work.finally(() => { settled = true; });
  return { value, turns };
}

before(async () => {
  await backend();
  const model = createModel('seed-cnn', { inputShape: [S, S, 3], numClasses: CLASSES.length, classNames: CLASSES, normalization: NORMALIZATION, seed: 1 });
  bytes = exportOnnx(model);
  model.dispose();
});

describe('OnnxThread', () => {
  it('computes what the session computes in-process, while the event loop keeps turning', async () => {
    const x = batch(64, 7);
    const local = await OnnxModel.load(bytes, { threads: 1 });
    const thread = await OnnxThread.start(bytes, 1);
    try {
      assert.deepEqual([thread.inputShape, thread.outputShape], [[S, S, 3], [CLASSES.length]]);
      const inProcess = await turnsDuring(local.predict(x, 64));
      const onThread = await turnsDuring(thread.predict(x, 64));
      assert.deepEqual(onThread.value, inProcess.value, 'the same library on the same input: identical logits');
      assert.equal(onThread.value.length, 64 * CLASSES.length);
      // In-process the native run blocks the loop (its promise settles in the first turn); on the thread it does not.
      assert.ok(inProcess.turns <= 1, `in-process: ${inProcess.turns} turns`);
      assert.ok(onThread.turns >= 2, `on the thread: ${onThread.turns} turns`);
      // Requests are answered by id, in any number.
      const [a, b] = await Promise.all([thread.predict(batch(1, 1), 1), thread.predict(batch(2, 2), 2)]);
      assert.deepEqual([a.length, b.length], [CLASSES.length, 2 * CLASSES.length]);
    } finally {
      await local.dispose();
      await thread.dispose();
    }
  });

  it('a file ONNX Runtime cannot load rejects start() with its message', async () => {
    await assert.rejects(OnnxThread.start(new Uint8Array([1, 2, 3, 4]), 1),
      /^Error: An ONNX model must be a valid \.onnx file that ONNX Runtime can load\. Received: model="4 bytes", error=/);
  });

  it('dispose() ends the thread; later predictions fail; a second dispose() is harmless', async () => {
    const thread = await OnnxThread.start(bytes, 1);
    await thread.dispose();
    await assert.rejects(thread.predict(batch(1, 3), 1), /^Error: The ONNX Runtime session was released\.$/);
    await thread.dispose();
  });
});
