// Run in a child process by resume_live.test.ts: a real training run (train(), with its heartbeat and signal
// handling) that holds its run directory — after its first checkpoint it waits inside a callback, as a long step
// would, and prints `held` — until the test kills it. argv: <runs dir> <CIFAR-10 archive>.
import { train } from '../../src/train/train';

const [runsDir, data] = process.argv.slice(2);

void train({
  data, runsDir, limit: 128, validationCount: 32, batchSize: 32, epochs: 2, seed: 3, workers: 0, checkpointEverySteps: 1,
  tensorboard: false, progress: 'none',
}, {
  callbacks: [{
    name: 'hold',
    // Step 2's checkpoint is not written yet (checkpoints follow the callbacks); step 1's is.
    onBatchEnd: async (logs) => {
      if (logs.step !== 2) return;
      process.stdout.write('held\n');
      await new Promise((resolve) => setTimeout(resolve, 600_000));
    },
  }],
});
