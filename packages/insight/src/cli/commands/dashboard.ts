// `insight dashboard`: serves the runs directory's dashboard (runs table, learning curves per metric, live runs, run pages)
// on http://127.0.0.1:6006/ until Ctrl+C. The server (fastify, better-sqlite3) loads inside the action.
import * as path from 'node:path';

import { Command } from 'commander';

import { resolveDashboardConfig, DASHBOARD_SCHEMA } from '../../track/dashboard/config';
import type { CliIo } from '../main';
import { addSchemaOptions, givenOptions } from '../options';

/** Resolves when the process is asked to stop (Ctrl+C or a termination signal). */
function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function dashboardCommand(io: CliIo): Command {
  const command = new Command('dashboard')
    .description('Serve a web dashboard of the runs: sortable runs table, learning curves (one panel per metric, runs overlaid), live view of running trainings, run pages.');
  addSchemaOptions(command, DASHBOARD_SCHEMA);
  command.addHelpText('after', '\nExamples:\n  insight dashboard                      # http://127.0.0.1:6006/ over ./runs\n' +
    '  insight dashboard --runs-dir experiments --port 8080');
  command.action(async () => {
    const config = resolveDashboardConfig(givenOptions(command, DASHBOARD_SCHEMA));
    const { startDashboard } = await import('../../track/dashboard/server');
    const server = await startDashboard(config, { warn: (message) => io.stderr.write(`Warning: ${message}\n`) });
    const count = server.index.list({}).length;
    io.stdout.write(`Insight dashboard: ${server.url}\n  runs: ${path.resolve(config.runsDir)} (${count} run${count === 1 ? '' : 's'})\n  Press Ctrl+C to stop.\n`);
    await untilStopped();
    await server.close();
  });
  return command;
}
