import { initBackend, tf } from '../src/backend';
import { createModel, sparseCategoricalCrossentropy } from '../src/models';
(async () => {
  const be = process.argv[2] as any;
  console.log(await initBackend(be));
  const m = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  const n = 16;
  const x = tf.randomUniform([n, 32, 32, 3]);
  const y = tf.tensor1d(Array.from({length:n},(_, i)=>i%10), 'int32');
  for (const model of [m]) {
    const vars = model.trainableWeights.map((w) => (w as any).val);
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const { value, grads } = tf.variableGrads(() => sparseCategoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor), vars);
      await value.data();
      console.log('step ms', Date.now() - t0, value.dataSync()[0], tf.memory().numTensors);
      value.dispose(); tf.dispose(grads);
    }
    const t0 = Date.now(); tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()); console.log('predict ms', Date.now() - t0);
  }
})();
