// `insight serve --models <repository | model dir | run dir>`: the inference server (TF Serving REST and KServe v2 protocols, image
// uploads, dynamic batching, API keys, rate limits, Prometheus metrics, hot reload). Runs until SIGTERM/SIGINT,
// then stops gracefully. With --workers N > 1 this process becomes the cluster primary and the workers re-run
// this same command. The server (fastify, tfjs, the backend, sharp) loads inside the action, so `--help` stays fast.
import cluster from 'node:cluster';

import { Command } from 'commander';

import { InsightError } from '../../errors';
import { ADMIN_KEYS_ENV, API_KEYS_ENV, readKeySources } from '../../serve/auth/key_source';
import { resolveServeConfig, SERVE_SCHEMA } from '../../serve/config';
import type { CliIo } from '../main';
import { addConfigFileOption, addSchemaOptions, givenSettings } from '../options';

export function serveCommand(io: CliIo): Command {
  const command = new Command('serve')
    .description('Serve models over HTTP: TF Serving REST and KServe v2 protocols, image uploads, dynamic batching, API keys, metrics.');
  addConfigFileOption(command);
  addSchemaOptions(command, SERVE_SCHEMA);
  command.addHelpText('after', [
    '',
    'Keys: inference keys from env ' + API_KEYS_ENV + ' (comma-separated) and/or --api-keys-file; admin keys from',
    ADMIN_KEYS_ENV + ' and/or --admin-keys-file. Without keys the server only listens on loopback.',
    '',
    'Examples:',
    '  insight serve --models models                      # models/<name>/<version>/model.json, port 8501',
    '  insight serve --models runs/<run-id>               # one run\'s model, named after the run (--name) or its id',
    '  INSIGHT_API_KEYS=$(openssl rand -hex 24) insight serve --models models --host 0.0.0.0',
    '  curl -H "Content-Type: image/jpeg" --data-binary @cat.jpg localhost:8501/v1/models/<name>:classify-image',
  ].join('\n'));
  command.action(async () => {
    const config = resolveServeConfig(await givenSettings(command, SERVE_SCHEMA));
    const keys = readKeySources(config);
    const { checkExposure, startServe, startupBanner } = await import('../../serve/start');
    checkExposure(config, keys);
    if (config.workers > 1 && cluster.isPrimary) {
      const log = (level: number) => (obj: object, msg: string) =>
        io.stdout.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, role: 'primary', ...obj, msg })}\n`);
      const { runPrimary } = await import('../../serve/lifecycle/cluster');
      const autoscale = config.autoscale ? { minWorkers: config.minWorkers, maxWorkers: config.maxWorkers } : undefined;
      const status = await runPrimary(config.workers, { info: log(30), error: log(50) }, autoscale);
      if (status !== 0) {
        throw new InsightError('INSIGHT_E_INTERNAL', 'The serve workers kept crashing (5 exits within a minute), so the server stopped. ' +
          'Received: see the workers\' log lines above. Fix the cause shown there, or run with --workers 1 to debug.');
      }
      return;
    }
    const server = await startServe(config, keys);
    // Always printed, whatever --log-level: scripts wait for this line (and read the port from it).
    io.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, url: server.url, ...(server.grpc !== null ? { grpc: server.grpc.address } : {}), models: server.ctx.repository.modelNames(), msg: 'insight serve ready' })}\n`);
    // For people: address, models and versions, auth, backend — on stderr, beside the JSON logs (once per cluster).
    if (!cluster.isWorker || cluster.worker?.id === 1) io.stderr.write(startupBanner(server, server.url, keys));
    await server.stopped;
    // A cluster worker's IPC channel would keep it alive after its server stopped.
    if (cluster.isWorker) cluster.worker?.disconnect();
  });
  return command;
}
