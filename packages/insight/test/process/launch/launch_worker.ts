// A tiny launched worker for the launcher's tests, run by node (not an insight command). It records what it was
// given in LAUNCH_TEST_DIR and behaves by LAUNCH_TEST_MODE:
//   env          write env-<restart>-<rank>.json (torchrun's variables, argv, pid) and exit 0
//   kill-me      rank 1 of the first attempt writes pid-1 and waits (the test SIGKILLs it); later attempts exit 0
//   error        rank 1 prints a house error line and exits 3
//   stubborn     rank 1 exits 1; rank 0 ignores SIGTERM (the launcher must SIGKILL it)
//   wait         every rank writes pid-<rank> and waits
// Every rank except a stubborn one writes stopped-<restart>-<rank>-<signal> on SIGTERM/SIGINT and exits 130 (rank 0
// 300 ms later, as training saving a checkpoint). With LAUNCH_TEST_FOLLOWERS=plain the ranks other than 0 install no
// handlers, as data-parallel training's followers (train.ts: handleSignals false): a signal ends them at once.
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = process.env.LAUNCH_TEST_DIR!;
const mode = process.env.LAUNCH_TEST_MODE ?? 'env';
const rank = Number(process.env.RANK);
const restart = Number(process.env.TORCHELASTIC_RESTART_COUNT);
const write = (name: string, text = '') => fs.writeFileSync(path.join(dir, name), text);

const NAMES = ['MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'GROUP_RANK', 'GROUP_WORLD_SIZE',
  'TORCHELASTIC_RESTART_COUNT', 'TORCHELASTIC_MAX_RESTARTS', 'TORCHELASTIC_RUN_ID', 'INSIGHT_LAUNCH_ID', 'INSIGHT_TORCH_THREADS', 'OMP_NUM_THREADS',
  'INSIGHT_LAUNCHER_PID'];
const env = Object.fromEntries(NAMES.map((name) => [name, process.env[name] ?? null]));
write(`env-${restart}-${rank}.json`, JSON.stringify({ env, argv: process.argv.slice(2), pid: process.pid, ppid: process.ppid }));
process.stdout.write(`worker ${rank} up\n`);

const plainFollower = rank > 0 && process.env.LAUNCH_TEST_FOLLOWERS === 'plain';
for (const signal of plainFollower ? [] : (['SIGTERM', 'SIGINT'] as const)) {
  process.on(signal, () => {
    if (mode === 'stubborn' && rank === 0) return;
    write(`stopped-${restart}-${rank}-${signal}`);
    setTimeout(() => process.exit(130), rank === 0 ? 300 : 0);
  });
}
write(`ready-${restart}-${rank}`); // handlers in place
const wait = () => setInterval(() => undefined, 1000);
/** Runs `then` once rank 0 of this attempt is ready (so a stop reaches its handler). */
const afterRank0 = (then: () => void) => {
  const timer = setInterval(() => {
    if (fs.existsSync(path.join(dir, `ready-${restart}-0`))) {
      clearInterval(timer);
      then();
    }
  }, 20);
};

if (mode === 'env') process.exit(0);
else if (mode === 'kill-me') {
  if (restart > 0) process.exit(0);
  if (rank === 1) afterRank0(() => write('pid-1', String(process.pid)));
  wait();
} else if (mode === 'error') {
  if (rank === 1) {
    afterRank0(() => {
      process.stderr.write('loading shard 1\nError INSIGHT_E_DATA: broken shard. Received: shard=1. Fix it.\n');
      process.exit(3);
    });
  }
  wait();
} else if (mode === 'stubborn') {
  if (rank === 1) afterRank0(() => process.exit(1));
  wait();
} else {
  write(`pid-${rank}`, String(process.pid));
  wait();
}
