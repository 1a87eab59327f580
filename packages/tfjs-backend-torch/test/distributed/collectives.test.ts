// Collectives over c10d Gloo between two real processes on loopback (collectives_worker.ts is one rank): values of
// allreduce (sum, avg, max, min; float32 and int32), broadcast, allgather, tagged send/recv, barrier; inputs left
// unchanged and nothing leaked; a closed group and a dead peer give errors that say what failed, not a hang.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';

import { ProcessGroup } from '../../src/index';

const WORKER = path.join(__dirname, 'collectives_worker.ts');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface RankResult { code: number | null; lines: Record<string, unknown>[]; stderr: string }

async function runGroup(scenario: string, timeoutMs = 20_000): Promise<RankResult[]> {
  const port = await freePort();
  const ranks = [0, 1].map((rank) => new Promise<RankResult>((resolve) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', WORKER, scenario], {
      env: { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(rank), WORLD_SIZE: '2',
        TEST_TIMEOUT_MS: String(timeoutMs), INSIGHT_TORCH_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => resolve({
      code, stderr, lines: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    }));
  }));
  return Promise.all(ranks);
}

test('two ranks: every collective gives the reduced, broadcast, gathered and sent values', async () => {
  const results = await runGroup('all');
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const [a, b] = results.map((r) => r.lines[0]);
  for (const [rank, o] of [[0, a], [1, b]] as const) {
    assert.equal(o.rank, rank);
    assert.equal(o.worldSize, 2);
    assert.deepEqual(o.sum, [[3, 30, -3], [5, 14]]);
    assert.deepEqual(o.sumDtypes, ['float32', 'int32']);
    assert.deepEqual(o.avg, [[1.5, 15, -1.5], [2, 7]]);  // int32 average truncates, as torch's integer division
    assert.deepEqual(o.max, [2, 20, -1]);
    assert.deepEqual(o.min, [1, 10, -2]);
    assert.deepEqual(o.inputUntouched, [rank + 1, 10 * (rank + 1), -(rank + 1)]);
    assert.deepEqual(o.broadcast, [1, 1.5, 2, 3]);
    assert.deepEqual(o.broadcastShape, [2, 2]);
    assert.deepEqual(o.allgather, [[0, 0.5, 0, 3], [1, 1.5, 2, 3]]);
    assert.match(String(o.selfSend), /^dst must be another rank\. Received: dst=\d \(this rank\)\. Name a peer\.$/);
    assert.equal(o.leaked, 0);
    assert.match(String(o.afterClose), /^This process group \(rank \d of 2\) is closed\. Create a new one with ProcessGroup\.init\(\)\.$/);
  }
  assert.deepEqual(b.recv, { floats: [1.5, 2.5, 3.5], shape: [1, 3], ints: [9, 8], dtype: 'int32' });
});

test('a peer that dies makes the collective fail with the rank and operation at once, not at the timeout', async () => {
  const [zero, one] = await runGroup('die-before-allreduce', 60_000);
  assert.equal(one.code, 3);
  assert.equal(zero.code, 0, zero.stderr);
  const o = zero.lines[0];
  assert.match(String(o.error), /^tfjs-backend-torch: allreduce on rank 0 of 2 failed: /);
  assert.ok(Number(o.ms) < 10_000, `failed after ${o.ms} ms (the group's timeout is 60 s)`);
});

test('operations left pending (sends the peer receives later) do not stop a later recv from settling', async () => {
  const [zero, one] = await runGroup('many-pending-sends', 20_000);
  assert.equal(zero.code, 0, zero.stderr + one.stderr);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(zero.lines[0].received, 6);
  assert.equal(one.lines[0].sent, 6);
});

test('options are checked before any connection is made', async () => {
  await assert.rejects(ProcessGroup.init({ masterAddr: '127.0.0.1', masterPort: 29500, rank: 2, worldSize: 2 }),
    /^RangeError: rank must be an integer from 0 to 1\. Received: rank=2\. Ranks count from 0 to WORLD_SIZE - 1\.$/);
  await assert.rejects(ProcessGroup.init({ masterAddr: '127.0.0.1', masterPort: 0, rank: 0, worldSize: 2 }),
    /masterPort must be an integer from 1 to 65535\. Received: masterPort=0\./);
  assert.throws(() => ProcessGroup.fromEnv({ MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29500', RANK: '0x1', WORLD_SIZE: '2' }),
    /^RangeError: RANK must be a whole number written in digits\. Received: RANK="0x1"\. Set it as torchrun does, e\.g\. RANK=0\.$/);
  assert.throws(() => ProcessGroup.fromEnv({ MASTER_ADDR: '127.0.0.1', RANK: '0' }),
    /^Error: A process group needs torchrun's variables MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE\. Received: MASTER_PORT unset, WORLD_SIZE unset\. Start the processes with insight launch, or set them\.$/);
});

test('a rendezvous nobody joins times out with the store address in the message', async () => {
  const port = await freePort();
  await assert.rejects(ProcessGroup.init({ masterAddr: '127.0.0.1', masterPort: port, rank: 1, worldSize: 2, timeoutMs: 1500 }),
    new RegExp(`^Error: tfjs-backend-torch: joining the process group \\(rank 1 of 2, store 127\\.0\\.0\\.1:${port}\\) failed: `));
});
