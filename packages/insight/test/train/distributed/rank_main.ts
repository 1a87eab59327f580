// One process of the data-parallel tests: train(JSON config of argv[2]) with this process's environment (WORLD_SIZE,
// RANK ... or none: one process), then write the trained weights (plain arrays, model.getWeights() order) and
// what train() returned to the file argv[3]. RESUME=<run dir>: train(config, { resume }) (rank 0 continues the run).
// With KILL_AT_STEP=<n>, rank KILL_RANK (default 1) kills itself (SIGKILL) at update n, before applying it: a worker
// lost mid-training, at a known step. With SIGTERM_AT_STEP=<n>, rank 0 sends SIGTERM to PEER_PID and to itself at
// update n, as `insight launch` forwards a signal to every worker.
import * as fs from 'node:fs';

import { train } from '../../../src/index';

async function main(): Promise<void> {
  const [config, outFile] = process.argv.slice(2);
  const killAt = Number(process.env.KILL_AT_STEP ?? NaN);
  const signalAt = Number(process.env.SIGTERM_AT_STEP ?? NaN);
  const rank = process.env.RANK ?? '0';
  const result = await train(JSON.parse(config) as Record<string, unknown>, {
    resume: process.env.RESUME,
    onGradients: (_grads, info) => {
      if (info.step === killAt && rank === (process.env.KILL_RANK ?? '1')) process.kill(process.pid, 'SIGKILL');
      if (info.step === signalAt && rank === '0') {
        process.kill(Number(process.env.PEER_PID), 'SIGTERM');
        process.kill(process.pid, 'SIGTERM');
      }
    },
  });
  const weights = result.model.getWeights().map((w) => Array.from(w.dataSync()));
  fs.writeFileSync(outFile, JSON.stringify({ runDir: result.runDir, state: result.state, report: result.report, weights }));
  result.model.dispose();
}

main().catch((error: Error) => {
  process.stderr.write(`Error ${(error as { code?: string }).code ?? ''}: ${error.message}\n`);
  process.exit(1);
});
