// GET /api/runs[?where=k=v&where=...&tag=t&sort=key&reverse=1]: every run of the index (refreshed first) with its
// name, kind, params, final and best metrics, tags and problems, and `hyperparameters`: its params that apply to it
// (param_relevance.ts: the page compares only those, as `insight runs` does); plus the known param and metric
// names for the table's columns. Filters use the same language as `insight runs --where`.
import * as path from 'node:path';

import type { FastifyInstance } from 'fastify';

import { hyperparametersOf } from '../../param_relevance';
import { parseCondition } from '../../run_query';
import type { DashboardContext } from '../context';

type Query = { where?: string | string[]; tag?: string | string[]; sort?: string; reverse?: string };
const list = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export function runsListRoute(app: FastifyInstance, ctx: DashboardContext): void {
  app.get<{ Querystring: Query }>('/api/runs', async (request) => {
    const { where, tag, sort, reverse } = request.query;
    ctx.index.refresh();
    const runs = ctx.index.list({ where: list(where).map(parseCondition), tags: list(tag), sort: sort || undefined, reverse: reverse === '1' || reverse === 'true' });
    const { params, metrics } = ctx.index.keys();
    return {
      runsDir: path.resolve(ctx.runsDir),
      params,
      metrics,
      runs: runs.map(({ dir: _dir, config: _config, ...run }) => ({ ...run, hyperparameters: hyperparametersOf(run) })),
    };
  });
}
