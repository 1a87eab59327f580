// GET /api/runs/:id/explanations: the run page's explanations panel (explanations/panel.ts) — a few validation images
// with Grad-CAM and IG overlays and their nearest training images. Computed on the first request, in the background,
// and stored in the run, so later requests (and later dashboards) answer at once:
//   200 { status: 'ready', split, methods, memory, computedAt, seconds, samples: [{ index, label, predicted,
//         probability, overlays: { gradcam: <url>, ig: <url> }, neighbours: [{ index, label, distance }], neighboursImage: <url> }] }
//   202 { status: 'computing', since }                 poll again (the page does, every second)
//   200 { status: 'unavailable', code, message }       no final model yet (a running or failed run)
//   200 { status: 'failed', code, message }            the last attempt failed; ?retry=1 tries again
// GET /api/runs/:id/explanations/:file: a PNG the stored manifest names (no other name reaches the disk).
// One panel is computed at a time per dashboard; a model that changes (new stamp) is computed again.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { FastifyInstance } from 'fastify';

import { InsightError, ruleError } from '../../../errors';
import { RunDir } from '../../../run/run_dir';
import { findRun, type DashboardContext } from '../context';
import { modelStamp, panelFiles, readPanel, type PanelManifest } from '../explanations/manifest';

interface Attempt {
  stamp: string;
  since: string;
  /** Set when the attempt failed. */
  failure?: { code: string; message: string };
}

/** The panel's JSON for the page: file names become URLs under the run. */
function readyBody(id: string, manifest: PanelManifest) {
  const url = (file: string) => `/api/runs/${encodeURIComponent(id)}/explanations/${encodeURIComponent(file)}`;
  const { formatVersion: _v, run: _run, modelStamp: _stamp, samples, ...rest } = manifest;
  return {
    status: 'ready',
    ...rest,
    samples: samples.map((s) => ({
      ...s, overlays: Object.fromEntries(Object.entries(s.overlays).map(([method, file]) => [method, url(file)])), neighboursImage: url(s.neighboursImage),
    })),
  };
}

export function explanationsRoute(app: FastifyInstance, ctx: DashboardContext): void {
  /** run id → its current or last attempt. */
  const attempts = new Map<string, Attempt>();
  let queue: Promise<unknown> = Promise.resolve();

  const start = (id: string, run: RunDir, stamp: string): Attempt => {
    const attempt: Attempt = { stamp, since: new Date().toISOString() };
    attempts.set(id, attempt);
    queue = queue.then(async () => {
      try {
        const { computePanel } = await import('../explanations/panel');
        await computePanel(run);
        if (attempts.get(id) === attempt) attempts.delete(id);
      } catch (error) {
        const known = error instanceof InsightError ? error
          : ruleError('SERVE_E_INTERNAL', 'Computing the explanations panel failed unexpectedly.',
            { run: id, error: (error as Error).message ?? String(error) }, 'Try again; if it fails again, report it with this message.');
        attempt.failure = { code: known.code, message: known.message };
      }
    });
    return attempt;
  };

  app.get<{ Params: { id: string }; Querystring: { retry?: string } }>('/api/runs/:id/explanations', async (request, reply) => {
    const { id } = request.params;
    const run = RunDir.at(findRun(ctx, id).dir);
    const stamp = modelStamp(run);
    if (stamp === null) {
      const error = ruleError('INSIGHT_E_MODEL', 'Explanations need the run\'s final model, written when training completes.', { run: id },
        'Open the run page again once the run has completed.');
      return { status: 'unavailable', code: error.code, message: error.message };
    }
    const stored = readPanel(run);
    if (stored !== null && stored.manifest.modelStamp === stamp) return readyBody(id, stored.manifest);
    let attempt = attempts.get(id);
    const retry = request.query.retry === '1' || request.query.retry === 'true';
    if (attempt === undefined || attempt.stamp !== stamp || (attempt.failure !== undefined && retry)) attempt = start(id, run, stamp);
    if (attempt.failure !== undefined) return { status: 'failed', ...attempt.failure };
    return reply.status(202).send({ status: 'computing', since: attempt.since });
  });

  app.get<{ Params: { id: string; file: string } }>('/api/runs/:id/explanations/:file', async (request, reply) => {
    const { id, file } = request.params;
    const stored = readPanel(RunDir.at(findRun(ctx, id).dir));
    if (stored === null || !panelFiles(stored.manifest).includes(file) || !fs.existsSync(path.join(stored.dir, file))) {
      throw ruleError('INSIGHT_E_RUN_NOT_FOUND', 'An explanations picture must be one the run\'s explanations panel lists.', { run: id, file },
        'Reload the run page: the panel is computed on its first view.');
    }
    return reply.type('image/png').header('cache-control', 'no-cache').send(fs.readFileSync(path.join(stored.dir, file)));
  });
}
