// Which hyperparameters of a run mean something for it. A run's config.json holds every key of its command's
// schema, defaults included: a fine-tuning run carries `rank` (LoRA) and `adapterBottleneck` whatever its method, a
// train run `beta1` under sgd, and train and fine-tune runs have different keys altogether. Tables that compare
// runs (insight runs, runs compare, the dashboard) show a key only where it applies: a key of the run's kind
// (run/run_kind.ts: train, finetune, distill, compress) whose condition below holds — the conditions are the
// `resnet:`, `sgd:`, `lora:`, `polynomial:` ... prefixes of the schemas' help texts (train/config.ts,
// finetune/config.ts, compress/config.ts; distillation has train's keys; test/track/param_relevance.test.ts keeps
// them in step). Keys not listed apply whenever the run has them.
import { runKind, type RunKind } from '../run/run_kind';
import { paramText, type ParamValue } from './flatten';

export { runKind, type RunKind };

type Params = Record<string, ParamValue>;
type Condition = (p: Params) => boolean;

/** Config keys that say where and how a run ran, or what it is called, not what it computed: never compared. */
export const NOT_HYPERPARAMETERS: ReadonlySet<string> = new Set([
  'runsDir', 'progress', 'progressEverySeconds', 'workers', 'logEverySteps', 'checkpointEverySteps', 'tensorboard', 'backend', 'name',
  'forgettingData', 'forgettingClasses', 'adaptiveThreads', 'keepSnapshots',
]);

const listHas = (value: ParamValue | undefined, item: string) => typeof value === 'string' && value.split(',').includes(item);
const adamLike: Condition = (p) => p.optimizer === 'adam' || p.optimizer === 'adamw';
const sgd: Condition = (p) => p.optimizer === 'sgd';
const reduceOnPlateau: Condition = (p) => typeof p.reducePatience === 'number' && p.reducePatience > 0;
const method = (...names: string[]): Condition => (p) => names.includes(String(p.method));

/** The training recipe's conditional keys (insight train; insight distill has them all). */
const TRAIN_RECIPE: Readonly<Record<string, Condition>> = {
    depth: (p) => p.model === 'resnet',
    width: (p) => p.model === 'resnet',
    cropPadding: (p) => listHas(p.augment, 'crop'),
    cutoutSize: (p) => listHas(p.augment, 'cutout'),
    beta1: adamLike,
    beta2: adamLike,
    epsilon: adamLike,
    momentum: sgd,
    nesterov: sgd,
    warmupEpochs: (p) => p.schedule === 'cosine',
    minLr: (p) => p.schedule === 'cosine' || reduceOnPlateau(p),
    stepEpochs: (p) => p.schedule === 'step',
    gamma: (p) => p.schedule === 'step',
    reduceFactor: reduceOnPlateau,
};

/** key → when it applies, per run kind. */
export const APPLIES_WHEN: Readonly<Record<RunKind, Readonly<Record<string, Condition>>>> = {
  train: TRAIN_RECIPE,
  distill: TRAIN_RECIPE,
  finetune: {
    rank: method('lora'),
    loraAlpha: method('lora'),
    loraTargets: method('lora'),
    merge: method('lora'),
    adapterBottleneck: method('adapter'),
    adapterAfter: method('adapter'),
    promptWidth: method('prompt'),
    baseLrFactor: (p) => p.method === 'full' || p.headFromBase === true,
    unfreezeEvery: method('full'),
    headEpochs: method('full'),
    l2sp: method('full', 'bn+head'),
  },
  compress: {
    pruneScope: (p) => p.structured !== true,
    // polynomial is the default schedule whenever there are fine-tuning epochs
    pruneFrequency: (p) => p.schedule === 'polynomial' || (p.schedule === null && typeof p.epochs === 'number' && p.epochs > 0),
  },
};

/** A run as the tables see it. */
export interface ComparedRun {
  kind: RunKind;
  params: Params;
}

/** Whether `run` has `key` and the key's condition holds (any config key: hyperparameter or not). */
export function meaningfulFor(run: ComparedRun, key: string): boolean {
  if (!(key in run.params)) return false;
  const condition = APPLIES_WHEN[run.kind]?.[key];
  return condition === undefined || condition(run.params);
}

/** Whether `key` is a hyperparameter that applies to `run` (it has the key, and the key's condition holds). */
export function appliesTo(run: ComparedRun, key: string): boolean {
  return !NOT_HYPERPARAMETERS.has(key) && meaningfulFor(run, key);
}

/** The run's hyperparameters that apply to it, in config order. */
export function hyperparametersOf(run: ComparedRun): string[] {
  return Object.keys(run.params).filter((key) => appliesTo(run, key));
}

/**
 * Hyperparameters whose values differ among the runs they apply to (in first-seen config order). A key missing
 * from, or not applying to, some runs is no difference: a train and a fine-tune run at their defaults differ in
 * nothing but what both have (lr, batchSize, schedule ...).
 */
export function differingParams(runs: ComparedRun[]): string[] {
  const keys = [...new Set(runs.flatMap(hyperparametersOf))];
  return keys.filter((key) => new Set(runs.filter((run) => appliesTo(run, key)).map((run) => paramText(run.params[key]))).size > 1);
}
