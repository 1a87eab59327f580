// One rank of the two-namespace test (netns.test.ts): joins the group torchrun's variables describe (set by the
// launcher) over Gloo, allreduces 1 MiB of floats (every element rank + 1), and prints one JSON line of what it saw.
import * as tf from '@tensorflow/tfjs-core';
import { ProcessGroup } from '@insight/tfjs-backend-torch';

const ELEMENTS = 262_144; // 1 MiB of float32

async function main(): Promise<void> {
  const group = await ProcessGroup.fromEnv(process.env, 30_000);
  const x = tf.fill([ELEMENTS], group.rank + 1);
  const [sum] = await group.allreduce([x], 'sum');
  const values = sum.dataSync();
  const line = { rank: group.rank, worldSize: group.worldSize, min: Math.min(...values.subarray(0, 1000)), first: values[0], last: values[ELEMENTS - 1],
    masterAddr: process.env.MASTER_ADDR, ifname: process.env.GLOO_SOCKET_IFNAME };
  await group.barrier();
  group.close();
  tf.dispose([x, sum]);
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`netns worker failed: ${error.message}\n`);
  process.exit(1);
});
