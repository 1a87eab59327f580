// One rank of the collectives test (collectives.test.ts starts two): runs every collective on small tensors and
// prints one JSON line of what it saw. Argument: the scenario ('all' or 'die-before-allreduce').
import * as tf from '@tensorflow/tfjs-core';

import { ProcessGroup } from '../../src/index';

async function main(): Promise<void> {
  const scenario = process.argv[2] ?? 'all';
  const group = await ProcessGroup.fromEnv(process.env, Number(process.env.TEST_TIMEOUT_MS ?? 20_000));
  const r = group.rank;
  const out: Record<string, unknown> = { rank: r, worldSize: group.worldSize };
  if (scenario === 'die-before-allreduce') {
    if (r === 1) process.exit(3);  // the peer disappears
    const started = Date.now();
    try {
      await group.allreduce([tf.ones([4])]);
      out.allreduce = 'resolved';
    } catch (e) {
      out.error = (e as Error).message;
      out.ms = Date.now() - started;
    }
    console.log(JSON.stringify(out));
    return;
  }
  if (scenario === 'many-pending-sends') {
    // Rank 1 leaves 6 sends pending (rank 0 posts their recvs only later) and then needs a recv to settle: each
    // pending operation must not hold a thread of a small shared pool, or that recv could never settle.
    const one = tf.ones([3]);
    if (r === 1) {
      const sends = [0, 1, 2, 3, 4, 5].map((tag) => group.send(one, 0, tag));
      const go = await group.recv([1], 'float32', 0, 99);
      await group.send(go, 0, 100);
      await Promise.all(sends);
      go.dispose();
      out.sent = 6;
    } else {
      const go = tf.ones([1]);
      await group.send(go, 1, 99);
      go.dispose();
      const ack = await group.recv([1], 'float32', 1, 100);
      const got = await Promise.all([5, 4, 3, 2, 1, 0].map((tag) => group.recv([3], 'float32', 1, tag)));
      out.received = got.length;
      tf.dispose([ack, ...got]);
    }
    one.dispose();
    await group.barrier();  // neither leaves while the other still reads
    group.close();
    console.log(JSON.stringify(out));
    return;
  }
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([r + 1, 10 * (r + 1), -(r + 1)]);
  const n = tf.tensor1d([r + 2, 7], 'int32');
  const sum = await group.allreduce([x, n], 'sum');
  const avg = await group.allreduce([x, n], 'avg');
  const max = await group.allreduce([x], 'max');
  const min = await group.allreduce([x], 'min');
  out.sum = sum.map((t) => Array.from(t.dataSync()));
  out.sumDtypes = sum.map((t) => t.dtype);
  out.avg = avg.map((t) => Array.from(t.dataSync()));
  out.max = Array.from(max[0].dataSync());
  out.min = Array.from(min[0].dataSync());
  out.inputUntouched = Array.from(x.dataSync());
  const m = tf.tensor2d([[r, r + 0.5], [2 * r, 3]]);
  const [b] = await group.broadcast([m], 1);
  out.broadcast = Array.from(b.dataSync());
  out.broadcastShape = b.shape;
  const gathered = await group.allgather(m);
  out.allgather = gathered.map((t) => Array.from(t.dataSync()));
  await group.barrier();
  if (r === 0) {
    const floats = tf.tensor2d([[1.5, 2.5, 3.5]]);
    const ints = tf.tensor1d([9, 8], 'int32');
    await group.send(floats, 1, 5);
    await group.send(ints, 1, 6);
    tf.dispose([floats, ints]);
  } else {
    const ints = group.recv([2], 'int32', 0, 6);  // posted first: tags keep the messages apart
    const floats = group.recv([1, 3], 'float32', 0, 5);
    const [i, f] = await Promise.all([ints, floats]);
    out.recv = { floats: Array.from(f.dataSync()), shape: f.shape, ints: Array.from(i.dataSync()), dtype: i.dtype };
    tf.dispose([i, f]);
  }
  try {
    await group.send(x, r);
  } catch (e) {
    out.selfSend = (e as Error).message;
  }
  tf.dispose([x, n, m, ...sum, ...avg, ...max, ...min, b, ...gathered]);
  out.leaked = tf.memory().numTensors - before;
  group.close();
  group.close();
  try {
    await group.barrier();
  } catch (e) {
    out.afterClose = (e as Error).message;
  }
  console.log(JSON.stringify(out));
}

main().catch((e: Error) => {
  console.error(`rank ${process.env.RANK}: ${e.message}`);
  process.exit(1);
});
