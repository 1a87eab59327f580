// The typed options of `insight launch` (torchrun's flags, torchrun's defaults), validated once at the edge.
// torchrun's underscore spellings (--nproc_per_node ...) are accepted too: TORCHRUN_SPELLINGS maps them to keys.
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';

import { Type, type Static } from '@sinclair/typebox';

import { ruleError } from '../../errors';
import { Nullable, Text, validateConfig } from '../../run/config_schema';

/** torchrun's master port, and the address of a one-node launch. */
export const DEFAULT_MASTER_PORT = 29500;
export const DEFAULT_MASTER_ADDR = '127.0.0.1';

export const LAUNCH_SCHEMA = Type.Object({
  nprocPerNode: Type.Integer({ default: 1, minimum: 1, maximum: 1024, placeholder: '<n>', help: 'Worker processes on this node, local ranks 0 .. n-1.' }),
  nnodes: Type.Integer({ default: 1, minimum: 1, maximum: 4096, placeholder: '<n>', help: 'Nodes (machines) in the job, each running one launcher; WORLD_SIZE = nnodes x nproc-per-node.' }),
  nodeRank: Type.Integer({ default: 0, minimum: 0, placeholder: '<r>', help: 'This node\'s rank, 0 .. nnodes-1 (GROUP_RANK); its workers get ranks r x nproc-per-node + local rank.' }),
  masterAddr: Nullable(Text(), { placeholder: '<addr>', help: `Address of node 0, where rank 0 hosts the rendezvous store (MASTER_ADDR). Default: ${DEFAULT_MASTER_ADDR} on one node; required with --nnodes > 1.` }),
  masterPort: Nullable(Type.Integer({ minimum: 1, maximum: 65535 }), { placeholder: '<port>', help: `Port of the rendezvous store on node 0 (MASTER_PORT). Default: ${DEFAULT_MASTER_PORT} on one node; required with --nnodes > 1.` }),
  rdzvId: Nullable(Text(), { placeholder: '<id>', help: 'The job\'s id, the same on every node and over restarts (INSIGHT_LAUNCH_ID, TORCHELASTIC_RUN_ID): training marks its run with it (run.json summary.launchId), so a restarted group resumes that run. Default: a new id on one node, <master-addr>:<master-port> on several.' }),
  maxRestarts: Type.Integer({ default: 0, minimum: 0, maximum: 1000, placeholder: '<k>', help: 'When a worker fails, stop the others and start the whole group again (training resumes from its last checkpoint), at most <k> times. One node only: with --nnodes > 1 the job scheduler restarts the job.' }),
  threadsPerProc: Nullable(Type.Integer({ minimum: 1, maximum: 1024 }), { placeholder: '<t>', help: 'libtorch threads of each worker (INSIGHT_TORCH_THREADS, OMP_NUM_THREADS), unless the environment sets them. Default: cores / nproc-per-node, at least 1.' }),
  monitorInterval: Type.Number({ default: 1, exclusiveMinimum: 0, maximum: 3600, placeholder: '<s>', help: 'Every <s> seconds each worker checks that its launcher is alive and stops if it is gone (a dead launcher leaves no orphans).' }),
});
export type LaunchFlags = Static<typeof LAUNCH_SCHEMA>;

/** torchrun's underscore flags → our keys (torchrun takes both spellings). */
export const TORCHRUN_SPELLINGS: Readonly<Record<string, keyof LaunchFlags>> = {
  '--nproc_per_node': 'nprocPerNode', '--node_rank': 'nodeRank', '--master_addr': 'masterAddr', '--master_port': 'masterPort',
  '--rdzv_id': 'rdzvId', '--max_restarts': 'maxRestarts', '--monitor_interval': 'monitorInterval', '--threads_per_proc': 'threadsPerProc',
};

/** The launch's settings with every default resolved. */
export interface LaunchSettings {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
  /** INSIGHT_LAUNCH_ID: constant over the launch and its restarts, the same on every node. */
  launchId: string;
  maxRestarts: number;
  threadsPerProc: number;
  monitorInterval: number;
}

const LAUNCH_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** A new id for a one-node launch, e.g. 'launch-20261129-041812-a3f9c2'. */
function newLaunchId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `launch-${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * Validates the flags (strings from the command line or a library object) and resolves the defaults.
 * Example: `resolveLaunchOptions({ nprocPerNode: '2' })` → 2 workers, 127.0.0.1:29500, a new launch id.
 */
export function resolveLaunchOptions(input: unknown = {}, cores = os.availableParallelism()): LaunchSettings {
  const flags = validateConfig(LAUNCH_SCHEMA, input, 'launch options');
  if (flags.nodeRank >= flags.nnodes) {
    throw ruleError('INSIGHT_E_CONFIG', 'The node rank must be below the number of nodes (0 .. nnodes-1).', { nodeRank: flags.nodeRank, nnodes: flags.nnodes },
      `Pass --node-rank 0 on the first machine, 1 on the second ... (at most ${flags.nnodes - 1}), or a larger --nnodes.`);
  }
  if (flags.nnodes > 1 && (flags.masterAddr === null || flags.masterPort === null)) {
    throw ruleError('INSIGHT_E_CONFIG', 'A launch over several nodes needs node 0\'s address and port given explicitly: every node must meet at the same rendezvous.',
      { nnodes: flags.nnodes, masterAddr: flags.masterAddr, masterPort: flags.masterPort },
      'Pass e.g. --master-addr 10.0.0.1 --master-port 29500 (node 0\'s address, reachable from every node), the same on every node.');
  }
  if (flags.rdzvId !== null && !LAUNCH_ID.test(flags.rdzvId)) {
    throw ruleError('INSIGHT_E_CONFIG', 'A rendezvous id must be 1-64 characters: a letter or digit, then letters, digits, _ . : or -.', { rdzvId: flags.rdzvId },
      'Pass e.g. --rdzv-id job-4711 (a Slurm or Kubernetes job id), the same on every node.');
  }
  if (flags.nnodes > 1 && flags.maxRestarts > 0) {
    // Each node's launcher restarts alone: a quick one meets the old rank 0's rendezvous store (alive until its
    // workers stop) or a group the others have not restarted, and fails again. torchrun agrees on restarts through
    // its c10d rendezvous backend; insight launch has none, so restarting several nodes is the scheduler's job.
    throw ruleError('INSIGHT_E_CONFIG', 'Restarts (--max-restarts) work on one node only: the launchers of several nodes do not agree on a restart, and a node restarted alone can meet the old group\'s rendezvous store.',
      { nnodes: flags.nnodes, maxRestarts: flags.maxRestarts },
      'Pass --max-restarts 0 on every node and let the job scheduler restart the whole job (Slurm --requeue, a Kubernetes Job\'s backoffLimit); the restarted job continues the run with `insight launch <the same flags> -- train --resume <run dir>`.');
  }
  const masterAddr = flags.masterAddr ?? DEFAULT_MASTER_ADDR;
  const masterPort = flags.masterPort ?? DEFAULT_MASTER_PORT;
  return {
    nprocPerNode: flags.nprocPerNode, nnodes: flags.nnodes, nodeRank: flags.nodeRank, masterAddr, masterPort,
    launchId: flags.rdzvId ?? (flags.nnodes > 1 ? `${masterAddr}:${masterPort}` : newLaunchId()),
    maxRestarts: flags.maxRestarts,
    threadsPerProc: flags.threadsPerProc ?? Math.max(1, Math.floor(cores / flags.nprocPerNode)),
    monitorInterval: flags.monitorInterval,
  };
}
