// GET /api/runs/:id: one run for its page — summary, full config, the final report (report/metrics.json: per-class
// metrics, confusion matrix, top-k), the sample predictions' labels, and which images exist. 404 with
// INSIGHT_E_RUN_NOT_FOUND when the run is gone.
import * as fs from 'node:fs';

import type { FastifyInstance } from 'fastify';

import { RunDir } from '../../../run/run_dir';
import { findRun, type DashboardContext } from '../context';

function readJsonOrNull(file: string, problems: string[], name: string): unknown {
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    problems.push(`${name} is not valid JSON`);
    return null;
  }
}

export function runDetailRoute(app: FastifyInstance, ctx: DashboardContext): void {
  app.get<{ Params: { id: string } }>('/api/runs/:id', async (request) => {
    const run = findRun(ctx, request.params.id);
    const problems = [...run.problems];
    const files = RunDir.at(run.dir);
    const report = readJsonOrNull(files.reportMetricsJson, [], files.relative(files.reportMetricsJson));
    const predictions = readJsonOrNull(files.predictionsJson, problems, files.relative(files.predictionsJson));
    const { dir: _dir, ...summary } = run;
    return {
      run: { ...summary, problems },
      report,
      predictions,
      images: {
        confusion: fs.existsSync(files.confusionPng),
        predictions: fs.existsSync(files.predictionsPng),
      },
      eventFiles: files.eventFiles(),
    };
  });
}
