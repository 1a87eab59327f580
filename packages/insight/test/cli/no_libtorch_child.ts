// Run in a child process without libtorch (INSIGHT_TORCH_ADDON pointing nowhere) by no_libtorch.test.ts: starts the
// backend as inference and as training would, with and without INSIGHT_BACKEND=cpu, computes one sum on the active
// backend, and prints what happened as one JSON line.
import { tf } from '../../src/backend';
import { startBackend } from '../../src/run/backend_choice';

async function attempt(run: () => Promise<string>): Promise<{ backend: string } | { code: string; message: string }> {
  try {
    return { backend: await run() };
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
}

void (async () => {
  delete process.env.INSIGHT_BACKEND;
  const training = await attempt(() => startBackend('auto', 'training'));
  const inference = await attempt(() => startBackend('auto'));
  const explicitTorch = await attempt(() => startBackend('torch'));
  const trainingNamed = await attempt(() => startBackend('cpu', 'training'));
  process.env.INSIGHT_BACKEND = 'cpu';
  const trainingFromEnv = await attempt(() => startBackend('auto', 'training'));
  process.env.INSIGHT_BACKEND = 'gpu';
  const badEnv = await attempt(() => startBackend('auto'));
  const sum = tf.sum(tf.tensor([1, 2, 3])).dataSync()[0];
  process.stdout.write(`${JSON.stringify({ training, inference, explicitTorch, trainingNamed, trainingFromEnv, badEnv, sum, active: tf.getBackend() })}\n`);
})();
