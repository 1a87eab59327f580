// GET /api/runs/:id/files/:name: the run's images for its page, from a fixed list (no other path is served).
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { FastifyInstance } from 'fastify';

import { ruleError } from '../../../errors';
import { PREDICTIONS_PNG } from '../../training_logger';
import { findRun, type DashboardContext } from '../context';

/** Served name → path inside the run directory. */
export const RUN_FILES: Record<string, string> = {
  'confusion.png': path.join('report', 'confusion.png'),
  [PREDICTIONS_PNG]: PREDICTIONS_PNG,
};

export function runFileRoute(app: FastifyInstance, ctx: DashboardContext): void {
  app.get<{ Params: { id: string; name: string } }>('/api/runs/:id/files/:name', async (request, reply) => {
    const run = findRun(ctx, request.params.id);
    const relative = RUN_FILES[request.params.name];
    const file = relative === undefined ? null : path.join(run.dir, relative);
    if (file === null || !fs.existsSync(file)) {
      throw ruleError('INSIGHT_E_RUN_NOT_FOUND', `A run file must be one of ${Object.keys(RUN_FILES).join(', ')} and exist.`,
        { run: run.id, file: request.params.name }, 'It is written when training ends; check the run has completed.');
    }
    return reply.type('image/png').header('cache-control', 'no-cache').send(fs.readFileSync(file));
  });
}
