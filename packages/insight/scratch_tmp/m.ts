import { initBackend, tf } from '../src/backend';
import { createModel } from '../src/models';
(async () => {
  console.log(await initBackend());
  const m = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  m.summary();
  const r = createModel('resnet', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  console.log(r.countParams());
  const x = tf.randomUniform([64, 32, 32, 3]);
  const y = tf.tensor1d(Array.from({length:64},(_, i)=>i%10), 'int32');
  const { sparseCategoricalCrossentropy } = await import('../src/models');
  for (const model of [m, r]) {
    const vars = model.trainableWeights.map((w) => (w as any).val);
    for (let i = 0; i < 4; i++) {
      const t0 = Date.now();
      const { value, grads } = tf.variableGrads(() => sparseCategoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor), vars);
      await value.data();
      console.log('step ms', Date.now() - t0, value.dataSync()[0], tf.memory().numTensors);
      value.dispose(); tf.dispose(grads);
    }
  }
})();
