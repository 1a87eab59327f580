// Two machines on one box: two network namespaces joined by a veth pair (10.x addresses, names unique to this test
// process), one launcher in each (--nnodes 2, --node-rank 0 / 1, --master-addr the first namespace's address),
// GLOO_SOCKET_IFNAME the namespace's veth end. The ranks rendezvous and allreduce 1 MiB across the pair, and the veth
// byte counters show the traffic went between the namespaces (they have no other way out); then the same two
// launchers run `insight train` data-parallel, rank 0 writing the run in the first namespace. Needs root and iproute2's
// `ip netns` (CI runs as root); skipped otherwise. The namespaces (and with them the veth pair) are removed in
// `after`, also when a test fails.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as fs from 'node:fs';
import * as os from 'node:os';

import { BIN, MINI, NODE_FLAGS } from '../../cli/io';

const DRIVER = path.join(__dirname, 'launch_driver.ts');

function netnsUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces (ip netns); CI runs as root';
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `\`ip netns\` is unavailable (${probe.error?.message ?? probe.stderr.trim()}); install iproute2`;
  return false;
}

/** Runs `ip <args>`; throws with its stderr on failure. */
function ip(...args: string[]): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

// Unique per test process: namespace names, interface names (at most 15 characters) and a /24.
const tag = `${process.pid % 100_000}`;
const NODES = [0, 1].map((rank) => ({
  ns: `insight-launch-${tag}-${rank}`,
  veth: `ilv${tag}n${rank}`,
  addr: `10.${200 + (process.pid % 50)}.${Math.floor(process.pid / 50) % 250}.${rank + 1}`,
}));

/** Ports in the namespaces, which are this test's own (nothing else listens there): fixed, one per test. */
const PORTS = { tcp: 29_501, allreduce: 29_502, train: 29_503 };

/** The bytes sent and received by `veth` inside `ns` (its /sys/class/net statistics). */
function counters(node: (typeof NODES)[number]): { tx: number; rx: number } {
  const read = (name: string) => Number(ip('netns', 'exec', node.ns, 'cat', `/sys/class/net/${node.veth}/statistics/${name}`).trim());
  return { tx: read('tx_bytes'), rx: read('rx_bytes') };
}

/** `argv` (after node) in the namespace of node `rank`, its Gloo bound to its veth end; resolves with its status and output. */
function runIn(rank: number, argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const node = NODES[rank];
  const child = spawn('ip', ['netns', 'exec', node.ns, process.execPath, ...NODE_FLAGS, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GLOO_SOCKET_IFNAME: node.veth, INSIGHT_QUIET_BACKEND_WARNING: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

/** The launch flags of node `rank`: one worker on each of the two nodes, node 0's address as the master. */
function launchFlags(rank: number, port: number) {
  return { nnodes: 2, nodeRank: rank, nprocPerNode: 1, masterAddr: NODES[0].addr, masterPort: port, rdzvId: `netns-${tag}`, threadsPerProc: 1 };
}

describe('insight launch on two machines (network namespaces joined by a veth pair)', { skip: netnsUnavailable() }, () => {
  before(() => {
    for (const node of NODES) ip('netns', 'add', node.ns);
    ip('link', 'add', NODES[0].veth, 'type', 'veth', 'peer', 'name', NODES[1].veth);
    for (const node of NODES) {
      ip('link', 'set', node.veth, 'netns', node.ns);
      ip('-n', node.ns, 'addr', 'add', `${node.addr}/24`, 'dev', node.veth);
      ip('-n', node.ns, 'link', 'set', node.veth, 'up');
      ip('-n', node.ns, 'link', 'set', 'lo', 'up');
    }
  });

  after(() => {
    for (const node of NODES) spawnSync('ip', ['netns', 'del', node.ns]); // takes its veth end, and so the pair, with it
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    assert.ok(!NODES.some((node) => left.includes(node.ns)), 'the namespaces are gone');
  });

  it('the namespaces see each other only through the veth pair', () => {
    for (const node of NODES) {
      const links = ip('-n', node.ns, '-o', 'link', 'show').split('\n').filter(Boolean).map((line) => line.split(':')[1].trim().split('@')[0]);
      assert.deepEqual(links.sort(), ['lo', node.veth].sort());
    }
  });

  it('a plain TCP connection from one namespace reaches the other; the host\'s own namespace has no route to it', async () => {
    const port = PORTS.tcp;
    const server = spawn('ip', ['netns', 'exec', NODES[0].ns, process.execPath, '-e',
      `require('net').createServer((s) => { s.end('hello from ' + process.argv[1]); }).listen(${port}, '${NODES[0].addr}', () => console.log('listening'))`, NODES[0].ns],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => server.stdout.once('data', resolve));
      const client = `const s = require('net').connect(${port}, '${NODES[0].addr}');
        s.setTimeout(1500, () => { console.log('timeout'); process.exit(2); });
        s.on('data', (d) => process.stdout.write(String(d)));
        s.on('error', (e) => { console.log(e.code); process.exit(1); });`;
      /** The client run by `ip netns exec <ns>` (args 'netns', 'exec', ns), or in the host's namespace (no args). */
      const connect = (...netns: string[]) => spawnSync(netns.length > 0 ? 'ip' : process.execPath,
        [...(netns.length > 0 ? [...netns, process.execPath] : []), '-e', client], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(connect('netns', 'exec', NODES[1].ns).stdout, `hello from ${NODES[0].ns}`);
      const fromHost = connect();
      assert.notEqual(fromHost.status, 0, 'no route from the host namespace');
      assert.match(fromHost.stdout, /ENETUNREACH|EHOSTUNREACH|timeout|ECONNREFUSED/);
    } finally {
      server.kill();
    }
  });

  it('rank 0 in one namespace and rank 1 in the other allreduce 1 MiB over the veth pair', async () => {
    const before = NODES.map(counters);
    const port = PORTS.allreduce;
    const [node0, node1] = await Promise.all([0, 1].map((rank) => runIn(rank, [DRIVER, 'netns_worker.ts', JSON.stringify(launchFlags(rank, port))])));
    const lines = [node0, node1].map(({ stdout }) => stdout.trim().split('\n'));
    // node 0 runs rank 0 (output as it is), node 1 runs rank 1 (prefixed); each launcher ends with its result line.
    assert.deepEqual(lines.map((l) => JSON.parse(l.at(-1)!)), [{ status: 0, signal: null, restarts: 0 }, { status: 0, signal: null, restarts: 0 }],
      `${node0.stderr}\n${node1.stderr}`);
    const rank0 = JSON.parse(lines[0][0]) as Record<string, unknown>;
    const rank1 = JSON.parse(lines[1][0].replace(/^\[rank 1\] /, '')) as Record<string, unknown>;
    assert.ok(lines[1][0].startsWith('[rank 1] '));
    for (const [seen, rank] of [[rank0, 0], [rank1, 1]] as const) {
      assert.deepEqual(seen, { rank, worldSize: 2, min: 3, first: 3, last: 3, masterAddr: NODES[0].addr, ifname: NODES[rank].veth });
    }
    const after = NODES.map(counters);
    for (const i of [0, 1]) {
      const [tx, rx] = [after[i].tx - before[i].tx, after[i].rx - before[i].rx];
      assert.ok(tx >= 1 << 20 && rx >= 1 << 20, `${NODES[i].veth} carried the allreduce both ways: tx ${tx} B, rx ${rx} B`);
    }
    assert.equal(after[0].tx - before[0].tx, after[1].rx - before[1].rx, 'what one end sent, the other received');
  });

  it('`insight launch --nnodes 2 -- train` in each namespace: the two ranks train one run together over the pair', async () => {
    const before = NODES.map(counters);
    const port = PORTS.train;
    const runsDirs = [0, 1].map((rank) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-netns-')), `runs-node${rank}`));
    const train = ['train', '--data', MINI, '--limit', '200', '--validation-count', '40', '--batch-size', '16', '--epochs', '1', '--workers', '0',
      '--progress', 'log', '--no-tensorboard'];
    const launchArgs = (rank: number) => Object.entries(launchFlags(rank, port)).flatMap(([key, value]) => [`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value)]);
    const [node0, node1] = await Promise.all([0, 1].map((rank) => runIn(rank, [BIN, 'launch', ...launchArgs(rank), '--', ...train, '--runs-dir', runsDirs[rank]])));
    assert.equal(node0.code, 0, node0.stderr);
    assert.equal(node1.code, 0, node1.stderr);
    assert.match(node0.stdout, /data parallel: 2 processes x 8 images a batch/);
    assert.equal(node1.stdout, '', 'rank 1 (node 1) prints nothing');
    assert.ok(!fs.existsSync(runsDirs[1]) || fs.readdirSync(runsDirs[1]).length === 0, 'rank 1 writes no run');
    const [runId] = fs.readdirSync(runsDirs[0]);
    const info = JSON.parse(fs.readFileSync(path.join(runsDirs[0], runId, 'run.json'), 'utf8')) as { status: string; summary: { worldSize: number; steps: number; launchId: string } };
    assert.deepEqual([info.status, info.summary.worldSize, info.summary.steps, info.summary.launchId], ['completed', 2, 10, `netns-${tag}`]);
    // Every update allreduces the seed CNN's gradients (122,570 float32 = 490,280 B): with 2 ranks each end sends and
    // receives at least that much per update, 10 updates.
    const after = NODES.map(counters);
    for (const i of [0, 1]) {
      const [tx, rx] = [after[i].tx - before[i].tx, after[i].rx - before[i].rx];
      assert.ok(tx >= 10 * 490_280 && rx >= 10 * 490_280, `${NODES[i].veth}: tx ${tx} B, rx ${rx} B`);
    }
  });
});
