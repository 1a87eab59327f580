// tune() and tuneWorker(): the library behind `insight tune` and `insight tune worker`. tune() creates the study
// (or joins it: same name, metric, direction and space), then runs its trials — in this process, or in N local
// worker processes — until the budget is spent, and returns the study's summary. tuneWorker() joins a study that
// exists in the storage (its space, base config, sampler and pruner come from there) from any machine.
//
//   const summary = await tune({ study: 'lr', space: { lr: { type: 'float', low: 1e-4, high: 1e-2, log: true } },
//     trials: 20, baseConfig: { epochs: 10, limit: 5000 } });
//   summary.best?.params  // → { lr: 0.0021... }
import * as fs from 'node:fs';

import { parse as parseYaml } from 'yaml';

import { ERROR_CODES, ruleError, type ErrorCode } from '../errors';
import { openStudyStorage } from '../study/open_storage';
import { parseStorageUrl } from '../study/storage_url';
import type { StudyStorage } from '../study/storage';
import type { StudyRecord, StudySpec } from '../study/types';
import { resolveTrainConfig } from '../train/config';
import {
  checkStudyName, directionOf, resolveTuneOptions, resolveTuneWorkerOptions, staleSecondsOf, storageUrlOf, type TuneOptions,
} from './config';
import { studyImportance } from './study_importance';
import { describeExit } from '../process/launch/group';
import { runLocalWorkers, type WorkerExit } from './local_workers';
import { summarizeStudy, type StudySummary } from './show';
import { parseSearchSpace } from './space/parse';
import { GridSampler } from './samplers/grid';
import { strategyOf, type Strategy } from './strategy';
import { checkMetricLogged } from './trial_runner';
import { runWorker, type WorkerResult } from './worker';

/** tune()'s input: `insight tune`'s options, the space as a file or an object, and the base training config. */
export type TuneInput = Omit<Partial<TuneOptions>, 'space'> & {
  study: string;
  /** The search space: a YAML/JSON file, or the object itself. Needed to create a study; optional to join one. */
  space?: string | Record<string, unknown> | null;
  /** The training config every trial starts from (train's keys); the sampled params override it. */
  baseConfig?: Record<string, unknown>;
};

export interface TuneRunOptions {
  /** Training and worker output (default process.stdout); local workers' lines are prefixed [w1], [w2] ... */
  out?: NodeJS.WriteStream;
  /** Warnings and dead workers (default process.stderr). */
  err?: NodeJS.WriteStream;
  /** Stop at SIGINT/SIGTERM after saving the running trial's checkpoint (default true). */
  handleSignals?: boolean;
  /** In-process trials only: the sampler, pruner and space instead of the study's (tests). */
  strategy?: Strategy;
}

export interface TuneResult extends StudySummary {
  /** The storage URL (password removed). */
  storage: string;
  /** In-process runs: what this process's worker did. */
  worker: WorkerResult | null;
}

/** The space as written: a file's YAML/JSON parsed, or the object; checked by the space parser either way. */
function readSpace(space: string | Record<string, unknown>): Record<string, unknown> {
  if (typeof space !== 'string') {
    parseSearchSpace(space);
    return space;
  }
  let text: string;
  try {
    text = fs.readFileSync(space, 'utf8');
  } catch (error) {
    throw ruleError('INSIGHT_E_CONFIG_FILE', 'The --space file must exist and be readable.', { space, error: (error as Error).message },
      'Check the path, e.g. --space space.yaml (YAML or JSON: config keys and their ranges).');
  }
  parseSearchSpace(text, `search space (${space})`);
  return parseYaml(text) as Record<string, unknown>;
}

/** A sqlite: storage as an absolute path (so local workers and messages agree), a PostgreSQL URL as given. */
function absoluteStorage(url: string): string {
  const location = parseStorageUrl(url);
  return location.kind === 'sqlite' ? `sqlite:${location.file}` : location.url;
}

/** Throws INSIGHT_E_CONFIG naming the storage when `name` is not one of its studies. */
async function requireStudy(storage: StudyStorage, name: string, create: string): Promise<StudyRecord> {
  const study = await storage.getStudy(name);
  if (study !== null) return study;
  const names = (await storage.listStudies()).map((s) => s.name);
  throw ruleError('INSIGHT_E_CONFIG', 'A study must exist in the storage before workers join it.', { study: name, storage: storage.url, studies: names.join(', ') || '(none)' },
    create);
}

/**
 * The spec of a new study from the options, the space as written and the base config, checked whole (config keys
 * and values, metric logged, sampler and pruner options) before any storage is touched.
 */
function specOf(options: TuneOptions, space: Record<string, unknown>, baseConfig: Record<string, unknown>): StudySpec {
  const resolved = resolveTrainConfig(baseConfig, 'base training config of the study');
  const { name: _name, ...base } = resolved;
  checkMetricLogged(options.metric, resolved);
  const spec: StudySpec = {
    name: options.study, metric: options.metric, direction: directionOf(options.metric, options.direction), space,
    sampler: { name: options.sampler, seed: options.seed }, pruner: { name: options.pruner }, maxTrials: options.trials, baseConfig: base,
  };
  strategyOf(spec);
  return spec;
}

/** The study of `spec` in `storage`: created, or the existing one (joined) when it agrees; null spec: join only. */
async function createOrJoin(storage: StudyStorage, name: string, spec: StudySpec | null, err: NodeJS.WritableStream): Promise<StudyRecord> {
  if (spec === null) return requireStudy(storage, name, `Pass --space <file> to create study ${name}, or the --storage that holds it.`);
  // Every grid point (up to the budget) waits in the storage, so parallel workers never take the same one. They are
  // enqueued by the transaction that creates the study, only when it creates it: of two processes creating one grid
  // study at once, one enqueues them; joining enqueues nothing (the grid sampler fills any gap).
  const strategy = strategyOf(spec);
  const enqueue = strategy.sampler instanceof GridSampler ? strategy.sampler.pointsOf(strategy.space) : [];
  const study = await storage.createStudy(spec, { enqueue });
  if (study.maxTrials !== spec.maxTrials) {
    err.write(`Note: study ${study.name} exists with a budget of ${study.maxTrials} trials; it keeps it (--trials ${spec.maxTrials} is ignored).\n`);
  }
  const changed = Object.keys({ ...study.baseConfig, ...spec.baseConfig })
    .filter((key) => JSON.stringify(study.baseConfig[key]) !== JSON.stringify(spec.baseConfig[key]));
  if (changed.length > 0) {
    err.write(`Note: study ${study.name} exists; its trials keep its own base config (${changed.map((k) => `${k}=${JSON.stringify(study.baseConfig[k])}`).join(', ')}` +
      `; given: ${changed.map((k) => `${k}=${JSON.stringify(spec.baseConfig[k])}`).join(', ')}).\n`);
  }
  return study;
}

/**
 * Creates or joins a study and runs its trials until the budget is spent: in this process (workers: 1) or in that
 * many local worker processes. Returns the study's summary. Throws INSIGHT_E_INTERRUPTED when stopped by a signal
 * (or when every worker died) before the budget was spent: run it again to resume.
 */
export async function tune(input: TuneInput, run: TuneRunOptions = {}): Promise<TuneResult> {
  const { space = null, baseConfig = {}, ...rest } = input;
  const options = resolveTuneOptions({ ...rest, space: typeof space === 'string' ? space : null });
  const out = run.out ?? process.stdout;
  const err = run.err ?? process.stderr;
  const runsDir = typeof baseConfig.runsDir === 'string' ? baseConfig.runsDir : 'runs';
  const storageUrl = absoluteStorage(storageUrlOf(options.storage, runsDir));
  const spec = space === null ? null : specOf(options, readSpace(space), baseConfig); // fails before the storage is created
  const storage = await openStudyStorage(storageUrl);
  try {
    const study = await createOrJoin(storage, options.study, spec, err);
    const staleSeconds = staleSecondsOf(options);
    let worker: WorkerResult | null = null;
    let stoppedBy: string | null = null;
    if (options.workers === 1) {
      worker = await runWorker(storage, study, { heartbeatSeconds: options.heartbeatSeconds, staleSeconds, out, handleSignals: run.handleSignals, strategy: run.strategy });
      if (worker.stopped === 'signal') stoppedBy = 'a signal';
    } else {
      out.write(`Study ${study.name}: ${options.workers} local workers on ${storage.url}\n`);
      const result = await runLocalWorkers({ count: options.workers, study: study.name, storage: storageUrl, heartbeatSeconds: options.heartbeatSeconds, staleSeconds, out, err });
      if (result.signal !== null) stoppedBy = result.signal;
      else if (result.exits.every((e) => e.code !== 0)) {
        sameWorkerError(result.exits, study.name);
        stoppedBy = `every worker dying (${result.exits.map(describeExit).join(', ')})`;
      }
    }
    const summary = await summarizeStudy(storage, study, studyImportance);
    const unfinished = summary.counts.running + summary.counts.waiting + summary.counts.paused > 0 || summary.counts.completed + summary.counts.pruned < study.maxTrials;
    if (stoppedBy !== null && unfinished) {
      throw ruleError('INSIGHT_E_INTERRUPTED', 'A study runs until its budget of trials is spent; this one was stopped before.',
        { study: study.name, stoppedBy, completed: summary.counts.completed, pruned: summary.counts.pruned, budget: study.maxTrials },
        `Resume it with \`insight tune --study ${study.name}${options.storage ? ` --storage ${storage.url}` : ''}\`: trials left running are retried.`);
    }
    return { ...summary, storage: storage.url, worker };
  } finally {
    await storage.close();
  }
}

/** tuneWorker()'s input: the study to join and where it lives (`insight tune worker`'s options). */
export type TuneWorkerInput = Partial<ReturnType<typeof resolveTuneWorkerOptions>> & { study: string };

/**
 * Joins an existing study and runs its trials until the budget is spent (with other workers, on this machine or
 * others). Example: `await tuneWorker({ study: 'lr', storage: 'postgres://tune@db:5432/tune' })`.
 */
export async function tuneWorker(input: TuneWorkerInput, run: Omit<TuneRunOptions, 'err'> = {}): Promise<WorkerResult> {
  const options = resolveTuneWorkerOptions(input);
  checkStudyName(options.study);
  const storage = await openStudyStorage(absoluteStorage(storageUrlOf(options.storage, options.runsDir)), { mustExist: true });
  try {
    const study = await requireStudy(storage, options.study, `Create it first with \`insight tune --study ${options.study} --space <file>\` on this storage, or pass the --storage that holds it.`);
    const result = await runWorker(storage, study, {
      heartbeatSeconds: options.heartbeatSeconds, staleSeconds: staleSecondsOf(options), out: run.out, handleSignals: run.handleSignals, strategy: run.strategy,
    });
    if (result.stopped === 'signal') {
      throw ruleError('INSIGHT_E_INTERRUPTED', 'A tune worker runs until the study\'s budget is spent; this one was stopped by a signal.',
        { study: study.name, trialsRun: result.trials.length }, `Start it again (\`insight tune worker --study ${study.name}\`) to go on: its trial is retried.`);
    }
    return result;
  } finally {
    await storage.close();
  }
}

/** Every worker stopped on the same house error (a missing dataset, a bad config): that error, not an interruption. */
export function sameWorkerError(exits: WorkerExit[], study: string): void {
  const codes = new Set(exits.map((e) => e.errorCode));
  const [code] = codes;
  if (codes.size !== 1 || code === null || code === undefined || !Object.prototype.hasOwnProperty.call(ERROR_CODES, code) || code === 'INSIGHT_E_INTERRUPTED') return;
  throw ruleError(code as ErrorCode, 'Every local worker of the study stopped on the same error; their messages are above, prefixed [w1], [w2], ...',
    { study, error: code, workers: exits.map((e) => `${e.label}: ${describeExit(e)}`).join(', ') },
    'Fix what they say, then run the same command again: the study resumes where it stopped.');
}
