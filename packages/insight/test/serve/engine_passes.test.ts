// A batch runs as engine passes of at most --max-batch-size rows, test-time augmentation's views included
// (serve/batching/engine_passes.ts): the instances per pass; a real runner with six views split into passes that
// each stay within the bound and give the one-pass answers; a server with a small --max-batch-size and --tta
// flip-shift answering as one with room for the whole request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { resolveInference } from '../../src/models/inference_output';
import { getInsightMetadata } from '../../src/models/metadata';
import { parseTta } from '../../src/models/tta_settings';
import { ttaViewCount } from '../../src/models/tta';
import { inEnginePasses, instancesPerPass } from '../../src/serve/batching/engine_passes';
import { TfjsRunner } from '../../src/serve/repository/servable';
import type { ServeInstance } from '../../src/serve/start';
import { backend, CLASSES, instance, saveVersion, SIZE, tempRepository, testServer, tinyModel } from './helpers';

const ROW = SIZE * SIZE * 3;

function assertClose(actual: Float32Array | number[][], expected: Float32Array | number[][], tolerance: number, what: string): void {
  const a = Array.isArray(actual) ? actual.flat() : [...actual];
  const e = Array.isArray(expected) ? expected.flat() : [...expected];
  assert.equal(a.length, e.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - e[i]) <= tolerance, `${what}[${i}]: ${a[i]} vs ${e[i]}`);
}

describe('serve: engine passes of bounded size', () => {
  it('instances per pass: ⌊max-batch-size / views⌋, at least one', () => {
    assert.deepEqual([[32, 1], [32, 2], [32, 3], [32, 6], [6, 6], [4, 6], [1, 1], [1024, 6]].map(([max, views]) => instancesPerPass(max, views)),
      [32, 16, 10, 5, 1, 1, 1, 170]);
  });

  it('splits a batch of a real runner with six views into passes within the bound, with the one-pass answers', async () => {
    await backend();
    const model = tinyModel(5);
    const tta = parseTta('flip-shift=1');
    const runner = new TfjsRunner(model, [SIZE, SIZE, 3], resolveInference(getInsightMetadata(model, 'tiny'), 'tiny', tta));
    try {
      const views = ttaViewCount(runner.inference.tta);
      assert.equal(views, 6);
      const perPass = instancesPerPass(12, views);
      const rows = 5;
      const x = new Float32Array([1, 2, 3, 4, 5].flatMap((seed) => instance(seed).flat(2)));
      const passes: number[] = [];
      const loads: boolean[] = [];
      const forward = inEnginePasses(async (input, n, underLoad) => {
        passes.push(n);
        loads.push(underLoad);
        assert.equal(input.length, n * ROW);
        return runner.forward(input, n, underLoad);
      }, ROW, CLASSES.length, perPass);
      const split = await forward(x, rows, true);
      assert.deepEqual(passes, [2, 2, 1], 'five instances, at most two (12 rows of six views) per pass');
      assert.deepEqual(loads, [true, true, true], 'each pass of a batch under load runs under load');
      assert.ok(passes.every((n) => n * views <= 12));
      const whole = await runner.forward(x, rows);
      assert.equal(split.logits.length, rows * CLASSES.length);
      assertClose(split.logits, whole.logits, 1e-6, 'logits');
      assertClose(split.probabilities, whole.probabilities, 1e-6, 'probabilities');
      // a batch within the bound is one call of the runner, its answer as it is
      passes.length = 0;
      const small = await forward(x.slice(0, 2 * ROW), 2, false);
      assert.deepEqual(passes, [2]);
      assertClose(small.probabilities, whole.probabilities.slice(0, 2 * CLASSES.length), 1e-6, 'two instances');
    } finally {
      model.dispose();
    }
  });

  describe('through the server', () => {
    let root: string;
    let tight: ServeInstance;
    let roomy: ServeInstance;
    before(async () => {
      root = tempRepository();
      await saveVersion(root, 'tiny', 1, 3);
      tight = await testServer(root, { tta: 'flip-shift', maxBatchSize: 6 }); // one instance's six views per pass
      roomy = await testServer(root, { tta: 'flip-shift', maxBatchSize: 64 });
    });
    after(async () => {
      await Promise.all([tight.close(), roomy.close()]);
    });

    it('a request of five instances with --max-batch-size 6 and flip-shift answers as with room for all thirty rows', async () => {
      const instances = [1, 2, 3, 4, 5].map(instance);
      const predict = async (server: ServeInstance) => {
        const res = await server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: { instances } });
        assert.equal(res.statusCode, 200, res.body);
        return (res.json() as { predictions: number[][] }).predictions;
      };
      const [a, b] = [await predict(tight), await predict(roomy)];
      assert.equal(a.length, 5);
      assert.ok(a.every((row) => row.length === CLASSES.length && Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5));
      assertClose(a, b, 1e-6, 'predictions');
      const metrics = (await tight.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /^insight_serve_batch_size_sum\{model="tiny"\} 5$/m, 'one batch of five instances (split into passes below it)');
    });
  });
});
