// A tiny supervised worker for supervisor.test.ts. Behaviour by environment:
//   WORKER_DIR   where it leaves marks: started-<rank>-<pid>, stopped-<rank> (written on SIGTERM)
//   WORKER_MODE  serve (default): ready, say hello, wait for SIGTERM | crash-once: exit 3 on the rank's first start
//                | crash: always exit 3 | finish: ready, then exit with EXIT_<rank> (default 0) | stubborn: ignore SIGTERM
import * as fs from 'node:fs';
import * as path from 'node:path';

import { signalReady } from '../../src/process/worker_ready';

const dir = process.env.WORKER_DIR!;
const rank = process.env.RANK!;
const mode = process.env.WORKER_MODE ?? 'serve';
const mark = (name: string) => fs.writeFileSync(path.join(dir, name), '');
const startedBefore = fs.readdirSync(dir).some((name) => name.startsWith(`started-${rank}-`));
mark(`started-${rank}-${process.pid}`);

if (mode === 'crash' || (mode === 'crash-once' && !startedBefore)) process.exit(3);
process.on('SIGTERM', () => {
  if (mode === 'stubborn') return;
  mark(`stopped-${rank}`);
  process.exit(0);
});
signalReady();
process.send?.({ type: 'test:hello', rank });
if (mode === 'finish') setTimeout(() => process.exit(Number(process.env[`EXIT_${rank}`] ?? 0)), 50);
else setInterval(() => undefined, 1000);
