// GET /api/studies: the studies of the dashboard's study storage (StudySource), each with its objective, budget,
// counts by state and best trial; GET /api/studies/<name>: one study's trials (state, value, params, epochs, the run
// each trained as — its id when the run is in this runs directory), the best-so-far curve over trial numbers, and
// the axes of its parallel-coordinates plot (each parameter: numeric, on a log scale when the space says so, or
// categorical with its choices; then the metric). Read-only.
import * as path from 'node:path';

import type { FastifyInstance } from 'fastify';

import { ruleError } from '../../../errors';
import type { StudyStorage } from '../../../study/storage';
import { bestTrial, countByState } from '../../../study/summary';
import type { ParamValue, StudyRecord, TrialRecord } from '../../../study/types';
import { isPlainName, type DashboardContext } from '../context';

const better = (direction: StudyRecord['direction'], a: number, b: number) => (direction === 'maximize' ? a > b : a < b);

/** After each completed trial (in number order), the best value so far. */
function bestSoFar(study: StudyRecord, trials: readonly TrialRecord[]): { number: number; value: number; best: number }[] {
  const points: { number: number; value: number; best: number }[] = [];
  let best: number | null = null;
  for (const t of trials) {
    if (t.state !== 'completed' || t.value === null) continue;
    if (best === null || better(study.direction, t.value, best)) best = t.value;
    points.push({ number: t.number, value: t.value, best });
  }
  return points;
}

export interface StudyAxis {
  name: string;
  kind: 'numeric' | 'categorical';
  log: boolean;
  /** categorical: the choices in the space's order (or as first seen). */
  choices: ParamValue[];
}

/** One axis per parameter of the trials (in the space's order), numeric or categorical, log as the space says. */
function axesOf(study: StudyRecord, trials: readonly TrialRecord[]): StudyAxis[] {
  const space = (study.space !== null && typeof study.space === 'object' ? study.space : {}) as Record<string, unknown>;
  const names = [...new Set([...Object.keys(space), ...trials.flatMap((t) => Object.keys(t.params))])];
  return names.map((name) => {
    const values = trials.map((t) => t.params[name]).filter((v) => v !== undefined);
    const spec = space[name];
    const written = Array.isArray(spec) ? spec : spec !== null && typeof spec === 'object' ? spec as Record<string, unknown> : {};
    const declared = Array.isArray(written) ? written : Array.isArray((written as Record<string, unknown>).choices) ? (written as { choices: ParamValue[] }).choices : null;
    const numeric = declared === null && values.every((v) => typeof v === 'number');
    return {
      name, kind: numeric ? 'numeric' : 'categorical', log: numeric && (written as Record<string, unknown>).log === true,
      choices: numeric ? [] : [...new Set([...(declared ?? []), ...values])],
    };
  });
}

/** The run id of a trial's run when it lies in the dashboard's runs directory (its page is #/run/<id>), else null. */
function runIdOf(ctx: DashboardContext, runDir: string | null): string | null {
  if (runDir === null) return null;
  const id = path.basename(runDir);
  return path.resolve(path.dirname(runDir)) === path.resolve(ctx.runsDir) && isPlainName(id) ? id : null;
}

async function storageOf(ctx: DashboardContext): Promise<StudyStorage | null> {
  return ctx.studies ? ctx.studies.get() : null;
}

export function studiesRoute(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/api/studies', async () => {
    const storage = await storageOf(ctx);
    if (storage === null) return { storage: null, studies: [] };
    const studies = [];
    for (const study of await storage.listStudies()) {
      const trials = await storage.trials(study.id);
      const best = bestTrial(trials, study.direction);
      studies.push({
        name: study.name, metric: study.metric, direction: study.direction, maxTrials: study.maxTrials, sampler: study.sampler, pruner: study.pruner,
        createdAt: study.createdAt, counts: countByState(trials), best: best && { number: best.number, value: best.value, params: best.params },
      });
    }
    return { storage: storage.url, studies };
  });

  app.get<{ Params: { name: string } }>('/api/studies/:name', async (request) => {
    const { name } = request.params;
    const storage = await storageOf(ctx);
    const study = storage ? await storage.getStudy(name) : null;
    if (storage === null || study === null) {
      throw ruleError('SERVE_E_NOT_FOUND', 'A study page needs a study of the dashboard\'s study storage.', { study: name, storage: storage?.url ?? null },
        'Go back to the studies list; pass `insight dashboard --storage <url>` for studies kept elsewhere.');
    }
    const trials = await storage.trials(study.id);
    const best = bestTrial(trials, study.direction);
    return {
      storage: storage.url,
      study: { ...study, counts: countByState(trials), best: best && { number: best.number, value: best.value, params: best.params } },
      axes: axesOf(study, trials),
      bestSoFar: bestSoFar(study, trials),
      trials: trials.map((t) => ({
        number: t.number, state: t.state, value: t.value, params: t.params, epochs: t.intermediate.reduce((m, r) => Math.max(m, r.step), 0),
        intermediate: t.intermediate, runDir: t.runDir, runId: runIdOf(ctx, t.runDir), error: t.error, startedAt: t.startedAt, finishedAt: t.finishedAt,
      })),
    };
  });
}
