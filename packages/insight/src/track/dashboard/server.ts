// `insight dashboard`: a fastify server over a runs directory — the page and its assets, a JSON API over the run
// index, and a Server-Sent-Events stream for live runs. Routes are registered from one list; errors are JSON
// with the CLI's stable codes. Listens on 127.0.0.1 unless told otherwise.
import type { AddressInfo } from 'node:net';

import Fastify, { type FastifyInstance } from 'fastify';

import { ruleError } from '../../errors';
import { RunIndex } from '../run_index';
import { checkDashboardExposure, readDashboardKeys, requireKeys } from './access_keys';
import type { DashboardConfig } from './config';
import type { DashboardContext } from './context';
import { frameworkErrors, installErrorHandlers } from './http_errors';
import { explanationsRoute } from './routes/explanations';
import { metricsStreamRoute } from './routes/metrics_stream';
import { runDetailRoute } from './routes/run_detail';
import { runFileRoute } from './routes/run_file';
import { runsListRoute } from './routes/runs_list';
import { staticFilesRoute } from './routes/static_files';
import { studiesRoute } from './routes/studies';
import { StudySource } from './studies';

const ROUTES: ((app: FastifyInstance, ctx: DashboardContext) => void)[] = [
  staticFilesRoute, runsListRoute, runDetailRoute, runFileRoute, metricsStreamRoute, explanationsRoute, studiesRoute,
];

/** The app (not listening): tests call app.inject(). With `keys`, every request needs one (access_keys.ts). */
export function buildDashboard(ctx: DashboardContext, keys: readonly string[] = []): FastifyInstance {
  // forceCloseConnections: close() also ends open SSE streams instead of waiting for the browser to leave.
  const app = Fastify({ logger: false, forceCloseConnections: true, frameworkErrors });
  installErrorHandlers(app);
  requireKeys(app, keys);
  for (const route of ROUTES) route(app, ctx);
  return app;
}

export interface RunningDashboard {
  url: string;
  app: FastifyInstance;
  index: RunIndex;
  close(): Promise<void>;
}

/** Listening errors restated as rule + Received + fix. */
function listenError(error: NodeJS.ErrnoException, config: Pick<DashboardConfig, 'port' | 'host'>): Error {
  const received = { port: config.port, host: config.host };
  switch (error.code) {
    case 'EADDRINUSE':
      return ruleError('INSIGHT_E_LISTEN', 'Port in use: the dashboard needs a port no other program listens on.', received,
        `Stop the other program (perhaps another \`insight dashboard\`), or pass another port, e.g. --port ${config.port === 65535 ? 6007 : config.port + 1} (--port 0 picks a free one).`);
    case 'EACCES':
      return ruleError('INSIGHT_E_LISTEN', 'The dashboard may not listen on this port: ports below 1024 need administrator rights.', received,
        'Pass a port of 1024 or above, e.g. --port 6006.');
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return ruleError('INSIGHT_E_LISTEN', 'The dashboard host must be an address of this machine.', received,
        'Pass --host 127.0.0.1 (this machine only, the default) or --host 0.0.0.0 (every interface).');
    default:
      return error;
  }
}

/**
 * Opens the index of config.runsDir, listens, and returns the URL. INSIGHT_E_RUNS_DIR / INSIGHT_E_LISTEN on failure;
 * INSIGHT_E_CONFIG beyond loopback without a dashboard key (env INSIGHT_DASHBOARD_KEYS or config.keysFile).
 */
export async function startDashboard(config: Omit<DashboardConfig, 'storage' | 'keysFile'> & { storage?: string | null; keysFile?: string | null },
  options: { warn?: (message: string) => void; pollMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunningDashboard> {
  const warnings: string[] = [];
  const keys = readDashboardKeys(config.keysFile ?? null, options.env, warnings);
  for (const warning of warnings) options.warn?.(warning);
  checkDashboardExposure(config.host, keys);
  const index = RunIndex.open(config.runsDir, { warn: options.warn });
  const studies = new StudySource(config.storage ?? null, config.runsDir);
  const app = buildDashboard({ runsDir: config.runsDir, index, pollMs: options.pollMs ?? 500, heartbeatMs: 15_000, studies }, keys);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    index.close();
    await studies.close();
    throw listenError(error as NodeJS.ErrnoException, config);
  }
  const { port } = app.server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${shownHost}:${port}/`,
    app,
    index,
    close: async () => {
      await app.close();
      index.close();
      await studies.close();
    },
  };
}
