// GET /api/runs/:id/files/:name: the run's images for its page, from a fixed list (no other path is served).
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { FastifyInstance } from 'fastify';

import { ruleError } from '../../../errors';
import { RunDir } from '../../../run/run_dir';
import { findRun, type DashboardContext } from '../context';

/** The images a run page shows; each is served under its file name, e.g. /api/runs/<id>/files/confusion.png. */
const SERVED: ((run: RunDir) => string)[] = [(run) => run.confusionPng, (run) => run.predictionsPng];

/** Served name → path inside the run directory `dir`. */
function runFiles(dir: string): Record<string, string> {
  const run = RunDir.at(dir);
  return Object.fromEntries(SERVED.map((file) => [path.basename(file(run)), file(run)]));
}

export function runFileRoute(app: FastifyInstance, ctx: DashboardContext): void {
  app.get<{ Params: { id: string; name: string } }>('/api/runs/:id/files/:name', async (request, reply) => {
    const run = findRun(ctx, request.params.id);
    const files = runFiles(run.dir);
    const file = Object.hasOwn(files, request.params.name) ? files[request.params.name] : null;
    if (file === null || !fs.existsSync(file)) {
      throw ruleError('INSIGHT_E_RUN_NOT_FOUND', `A run file must be one of ${Object.keys(files).join(', ')} and exist.`,
        { run: run.id, file: request.params.name }, 'It is written when training ends; check the run has completed.');
    }
    return reply.type('image/png').header('cache-control', 'no-cache').send(fs.readFileSync(file));
  });
}
