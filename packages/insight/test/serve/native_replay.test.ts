// Serving's forward pass replays natively (tfjs-backend-torch's captureFunction): after two eager passes of a batch
// size, the same size is one native call (off the JS thread under load), with the eager outputs bit for bit; each batch
// size is recorded on its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { tf } from '../../src/backend';
import { getInsightMetadata } from '../../src/models/metadata';
import { resolveInference } from '../../src/models/inference_output';
import { TfjsRunner } from '../../src/serve/repository/servable';
import { backend, CLASSES, instance, SIZE, tinyModel } from './helpers';

test('a TfjsRunner replays each batch size after two eager passes, with the eager logits and probabilities', async () => {
  const name = await backend();
  const model = tinyModel(7);
  const runner = new TfjsRunner(model, [SIZE, SIZE, 3], resolveInference(getInsightMetadata(model, 'tiny'), 'tiny', null));
  try {
    for (const rows of [1, 3]) {
      const x = new Float32Array(Array.from({ length: rows }, (_, i) => instance(i + 1).flat(2)).flat());
      const [logits, probabilities] = tf.tidy(() => {
        const out = model.apply(tf.tensor4d(x, [rows, SIZE, SIZE, 3]), { training: false }) as tf.Tensor2D;
        return [out.dataSync(), tf.softmax(out).dataSync()];
      });
      for (let pass = 0; pass < 6; pass++) {
        const out = await runner.forward(x, rows, pass >= 4); // the last two under load: replayed off the JS thread
        assert.equal(out.logits.length, rows * CLASSES.length);
        assert.deepEqual(out.logits, logits, `rows ${rows}, pass ${pass}: logits`);
        assert.deepEqual(out.probabilities, probabilities, `rows ${rows}, pass ${pass}: probabilities`);
      }
    }
    const stats = runner.captureStats;
    if (name === 'torch') {
      assert.deepEqual([stats.recordings, stats.replays, stats.programs, stats.refusals], [4, 8, 2, []]);
    } else {
      assert.equal(stats.eager, 12); // other backends run every pass eagerly
    }
  } finally {
    await runner.dispose();
  }
});
