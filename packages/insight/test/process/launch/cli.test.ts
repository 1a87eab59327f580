// `insight launch` and `insight train --nproc` on the command line: every flag's rule (house errors, torchrun's
// underscore spellings too), the launched command checked, and a real launch of two `insight evaluate` workers
// that fail: rank 1's lines prefixed, rank 0's not, and the launcher's INSIGHT_E_DISTRIBUTED naming the failed rank;
// `train --nproc 2` training one run in two processes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { LAUNCH_SCHEMA, resolveLaunchOptions, TORCHRUN_SPELLINGS } from '../../../src/process/launch/config';
import { freeLocalPort } from '../../../src/process/launch/free_port';
import { fieldsOf } from '../../../src/run/config_schema';
import { MINI, runMain, signalledBin } from '../../cli/io';

describe('insight launch (flags)', () => {
  const cases: [string[], RegExp][] = [
    [['--nproc-per-node', '0'], /^Error INSIGHT_E_CONFIG: nprocPerNode must be an integer >= 1 and <= 1024\. Received: nprocPerNode=0\. Pass e\.g\. --nproc-per-node 1/],
    [['--nproc_per_node', 'two'], /^Error INSIGHT_E_CONFIG: nprocPerNode must be an integer >= 1 and <= 1024\. Received: nprocPerNode="two"\./],
    [['--nnodes', '2'], /^Error INSIGHT_E_CONFIG: A launch over several nodes needs node 0's address and port given explicitly: every node must meet at the same rendezvous\. Received: nnodes=2, masterAddr=null, masterPort=null\. Pass e\.g\. --master-addr 10\.0\.0\.1 --master-port 29500/],
    [['--nnodes', '2', '--master_addr', '10.0.0.1'], /Received: nnodes=2, masterAddr="10\.0\.0\.1", masterPort=null\./],
    [['--nnodes', '2', '--node_rank', '2', '--master-addr', '10.0.0.1', '--master-port', '29500'], /^Error INSIGHT_E_CONFIG: The node rank must be below the number of nodes \(0 \.\. nnodes-1\)\. Received: nodeRank=2, nnodes=2\./],
    [['--nnodes', '1:2'], /^Error INSIGHT_E_CONFIG: nnodes must be an integer >= 1 and <= 4096\. Received: nnodes="1:2"\./],
    [['--master-port', '70000'], /^Error INSIGHT_E_CONFIG: masterPort must be an integer >= 1 and <= 65535 \(or null\)\. Received: masterPort=70000\./],
    [['--max_restarts', '-1'], /^Error INSIGHT_E_CONFIG: maxRestarts must be an integer >= 0 and <= 1000\. Received: maxRestarts=-1\./],
    [['--monitor-interval', '0'], /^Error INSIGHT_E_CONFIG: monitorInterval must be a number > 0 and <= 3600\. Received: monitorInterval=0\./],
    [['--threads-per-proc', '0'], /^Error INSIGHT_E_CONFIG: threadsPerProc must be an integer >= 1 and <= 1024 \(or null\)\. Received: threadsPerProc=0\./],
    [['--rdzv-id', 'my job'], /^Error INSIGHT_E_CONFIG: A rendezvous id must be 1-64 characters: a letter or digit, then letters, digits, _ \. : or -\. Received: rdzvId="my job"\./],
    [['--nnodes', '2', '--master-addr', '10.0.0.1', '--master-port', '29500', '--max_restarts', '3'], new RegExp('^Error INSIGHT_E_CONFIG: Restarts \\(--max-restarts\\) work on one node only: ' +
      'the launchers of several nodes do not agree on a restart, and a node restarted alone can meet the old group\'s rendezvous store\\. Received: nnodes=2, maxRestarts=3\\. ' +
      'Pass --max-restarts 0 on every node and let the job scheduler restart the whole job \\(Slurm --requeue, a Kubernetes Job\'s backoffLimit\\); ' +
      'the restarted job continues the run with `insight launch <the same flags> -- train --resume <run dir>`\\.\n$')],
    [['--nproc-per-node', '2', '--nproc_per_node', '2'], /^Error INSIGHT_E_USAGE: A flag may be given in one spelling only\. Received: flags="--nproc-per-node --nproc_per_node"\./],
  ];
  for (const [flags, expected] of cases) {
    it(`refuses ${flags.join(' ')}`, async () => {
      const { status, stdout, stderr } = await runMain(['launch', ...flags, '--', 'evaluate', 'x']);
      assert.equal(status, 2);
      assert.equal(stdout, '');
      assert.match(stderr, expected);
    });
  }

  it('launches insight commands only, given after --', async () => {
    const unknown = await runMain(['launch', '--', 'python', 'train.py']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^Error INSIGHT_E_USAGE: The launched command must be an insight command: one of train, evaluate, .*\. Received: command="python"\. Put it after --/);
    assert.doesNotMatch(unknown.stderr, /one of [^.]*launch/, 'not itself');
    const none = await runMain(['launch', '--nproc-per-node', '2']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^Error INSIGHT_E_USAGE: The argument <command> is required\./);
  });

  it('resolves torchrun\'s defaults: one process, 127.0.0.1:29500, no restarts, threads = cores / processes; <addr>:<port> names a multi-node launch', () => {
    const one = resolveLaunchOptions({}, 8);
    assert.deepEqual({ ...one, launchId: 'x' }, {
      nprocPerNode: 1, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1', masterPort: 29500, launchId: 'x', maxRestarts: 0, threadsPerProc: 8, monitorInterval: 1,
    });
    assert.equal(resolveLaunchOptions({ nprocPerNode: '3' }, 8).threadsPerProc, 2);
    assert.equal(resolveLaunchOptions({ nprocPerNode: '4' }, 2).threadsPerProc, 1);
    assert.equal(resolveLaunchOptions({ nnodes: '2', nodeRank: '1', masterAddr: '10.0.0.1', masterPort: '29400' }, 2).launchId, '10.0.0.1:29400');
    assert.match(one.launchId, /^launch-\d{8}-\d{6}-[0-9a-f]{6}$/);
    assert.notEqual(resolveLaunchOptions({}).launchId, one.launchId, 'a new id per launch');
  });
});

describe('insight launch (documentation)', () => {
  it('--help and the README\'s section show every flag; the README names torchrun\'s spellings and train --nproc', async () => {
    const { status, stdout } = await runMain(['launch', '--help']);
    assert.equal(status, 0);
    assert.match(stdout, /^Usage: insight launch \[options\] -- <command> \[args\.\.\.\]/);
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const start = readme.indexOf('### insight launch\n');
    const section = readme.slice(start, readme.indexOf('\n## ', start));
    for (const field of fieldsOf(LAUNCH_SCHEMA)) {
      assert.ok(stdout.includes(`${field.flag} ${field.placeholder}`), `--help: ${field.flag}`);
      assert.ok(section.includes(`| \`${field.flag} ${field.placeholder}\` | \`${field.key}\` |`), `README: ${field.flag}`);
    }
    for (const spelling of Object.keys(TORCHRUN_SPELLINGS).filter((s) => s !== '--threads_per_proc')) assert.ok(section.includes(`\`${spelling}\``), spelling);
    assert.ok(section.includes('insight train --nproc <n>'));
    const train = await runMain(['train', '--help']);
    assert.ok(train.stdout.includes('--nproc <n>'));
  });
});

describe('insight train --nproc', () => {
  it('refuses a bad count and bad training flags before starting any worker', async () => {
    const zero = await runMain(['train', '--nproc', '0']);
    assert.equal(zero.status, 2);
    assert.match(zero.stderr, /^Error INSIGHT_E_CONFIG: --nproc must be a whole number of processes, 1 to 1024\. Received: nproc=0\. Pass e\.g\. --nproc 2/);
    const epochs = await runMain(['train', '--nproc', '2', '--epochs', '0']);
    assert.equal(epochs.status, 2);
    assert.match(epochs.stderr, /^Error INSIGHT_E_CONFIG: epochs must be an integer >= 1\./);
    assert.doesNotMatch(epochs.stderr, /rank/);
  });

  it('refuses to start a launcher inside a launched worker', async () => {
    process.env.WORLD_SIZE = '2';
    try {
      const nested = await runMain(['train', '--nproc', '2']);
      assert.equal(nested.status, 2);
      assert.match(nested.stderr, /^Error INSIGHT_E_CONFIG: --nproc starts a launcher; a launched worker \(WORLD_SIZE > 1\) cannot start another\. Received: nproc=2, WORLD_SIZE="2"\./);
    } finally {
      delete process.env.WORLD_SIZE;
    }
  });
});

describe('insight train --nproc (workers)', () => {
  it('trains one run in 2 data-parallel processes: the launch with train\'s other flags, rank 0 writing', async () => {
    const runsDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-nproc-')), 'runs');
    const { status, stdout, stderr } = await runMain(['train', '--data', MINI, '--limit', '100', '--validation-count', '20', '--nproc', '2', '--batch-size', '16',
      '--epochs', '1', '--workers', '0', '--progress', 'log', '--no-tensorboard', '--runs-dir', runsDir]);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /^ {2}data parallel: 2 processes x 8 images a batch/m);
    assert.doesNotMatch(stdout, /\[rank 1\]/);
    const runs = fs.readdirSync(runsDir);
    assert.equal(runs.length, 1);
    const info = JSON.parse(fs.readFileSync(path.join(runsDir, runs[0], 'run.json'), 'utf8')) as { status: string; summary: { worldSize: number; steps: number; launchId: string } };
    assert.deepEqual([info.status, info.summary.worldSize, info.summary.steps], ['completed', 2, 5]);
    assert.match(info.summary.launchId, /^launch-\d{8}-\d{6}-[0-9a-f]{6}$/);
  });
});

describe('insight train --nproc (interrupted)', () => {
  it('Ctrl-C stops the launch with INSIGHT_E_INTERRUPTED, whose fix is train --resume <run dir> --nproc 2 (not the same launch id)', async () => {
    const runsDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'insight-nproc-int-')), 'runs');
    const { status, stdout, stderr } = await signalledBin(['train', '--data', MINI, '--limit', '100', '--validation-count', '20', '--nproc', '2', '--batch-size', '16',
      '--epochs', '50', '--workers', '0', '--progress', 'log', '--no-tensorboard', '--runs-dir', runsDir], { signal: 'SIGINT' });
    assert.match(stdout, /^Run /m);
    assert.match(stderr, /^SIGINT: stopping the 2 workers/m);
    const last = stderr.trim().split('\n').pop()!;
    assert.match(last, /^Error INSIGHT_E_INTERRUPTED: The launch was stopped by SIGINT; its workers ended as they said above\. Received: signal="SIGINT", status=\d+\. /);
    assert.ok(last.endsWith('Resume its run from the last checkpoint with `insight train --resume <run dir> --nproc 2` or ' +
      '`insight launch <the same flags> -- train --resume <run dir>` (rank 0 named the run directory above).'), last);
    assert.equal(status, 130);
  });
});

describe('insight launch (workers)', () => {
  it('runs the command in every worker; a failure stops the launch with the rank and its last error line', async () => {
    const { status, stdout, stderr } = await runMain(['launch', '--nproc_per_node', '2', '--master-port', String(await freeLocalPort()), '--', 'evaluate', '/nonexistent/model']);
    assert.equal(stdout, '');
    const modelError = 'Error INSIGHT_E_MODEL: The model path must be a directory with model.json, or a completed run directory. Received: model="/nonexistent/model"';
    // The first to fail stops the other, which may end before it prints: the failed rank's line is there, prefixed
    // unless it is rank 0; the launcher's error names it.
    const lines = stderr.split('\n');
    const failed = Number(/^Error INSIGHT_E_DISTRIBUTED: .* Received: rank=(\d)/m.exec(stderr)?.[1]);
    assert.ok(lines.some((line) => line.startsWith(`${failed === 0 ? '' : '[rank 1] '}${modelError}`)), stderr);
    assert.ok(lines.every((line) => line === '' || line.startsWith('[rank 1] ') || line.startsWith('Error INSIGHT_E_')), 'only rank 1 is prefixed');
    assert.match(lines.at(-2)!, new RegExp('^Error INSIGHT_E_DISTRIBUTED: A launched worker failed and no restarts are left \\(--max-restarts 0\\)\\. ' +
      `Received: rank=${failed}, node=0, exit="exit status 4", status=4, lastLine="Error INSIGHT_E_MODEL: `));
    assert.equal(lines.at(-1), '');
    assert.equal(status, 10);
  });
});
