// The server of autoscale.test.ts: `insight serve --workers auto --min-workers 1 --max-workers 2` as the CLI runs
// it (primary: runPrimary with the autoscale settings; workers: startServe), with tiny thresholds and 100 ms polls
// so a short burst scales it. argv: <models> <port>. Prints JSON lines: the primary's logs, each worker's ready line.
import cluster from 'node:cluster';

import { resolveServeConfig } from '../../src/serve/config';
import { runPrimary } from '../../src/serve/lifecycle/cluster';
import { startServe } from '../../src/serve/start';

async function main(): Promise<void> {
  const [models, port] = process.argv.slice(2);
  const config = resolveServeConfig({
    models, port, workers: 'auto', minWorkers: 1, maxWorkers: 2, logLevel: 'warn', pollMs: 0, rateLimit: 0, maxQueueSize: 4096, shutdownTimeoutMs: 2000,
  });
  const say = (obj: object) => process.stdout.write(`${JSON.stringify({ pid: process.pid, time: Date.now(), ...obj })}\n`);
  if (cluster.isPrimary) {
    const log = (level: number) => (obj: object, msg: string) => say({ level, role: 'primary', ...obj, msg });
    process.exitCode = await runPrimary(config.workers, { info: log(30), error: log(50) }, {
      minWorkers: config.minWorkers, maxWorkers: config.maxWorkers, pollMs: 100, killAfterMs: 5000,
      thresholds: { queueHigh: 1, queueLow: 0.5, latencyHighMs: null, latencyLowMs: null, upAfter: 2, downAfter: 5, cooldown: 2 },
    });
    return;
  }
  const server = await startServe(config, { inference: [], admin: [], warnings: [] });
  say({ role: 'worker', url: server.url, msg: 'ready' });
  await server.stopped;
  say({ role: 'worker', msg: 'stopped' });
  if (cluster.worker?.isConnected()) cluster.worker.disconnect();
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
