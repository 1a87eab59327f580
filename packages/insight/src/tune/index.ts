// Hyperparameter search (`insight tune`) as a library: run a study (tune), join one from any machine (tuneWorker),
// read studies back (showStudy, listStudies, formatStudy), and the parts a study is made of (spaces, samplers,
// pruners, importance) for code that builds its own loop.
//
//   const result = await tune({ study: 'lr', trials: 20, space: { lr: { type: 'float', low: 1e-4, high: 1e-2, log: true } },
//     baseConfig: { epochs: 10, limit: 5000 } });
//   console.log(result.best?.params, result.importance);
export {
  BASE_TRAIN_SCHEMA, TUNE_LIST_SCHEMA, TUNE_SCHEMA, TUNE_SHOW_SCHEMA, TUNE_WORKER_SCHEMA,
  type TuneListOptions, type TuneOptions, type TuneShowOptions, type TuneWorkerOptions,
} from './config';
export { paramImportance } from './importance';
export { AshaPruner, MedianPruner, NopPruner, prunerFromSpec, type Pruner } from './pruners';
export { GridSampler, RandomSampler, samplerFromSpec, TpeSampler, type Sampler } from './samplers';
export { formatStudy, formatStudyList, type StudySummary, type TrialRow } from './show';
export { parseSearchSpace, type SearchSpace } from './space';
export { tune, tuneWorker, type TuneInput, type TuneResult, type TuneRunOptions, type TuneWorkerInput } from './study';
export { listStudies, showStudy } from './study_view';
export type { WorkerResult, WorkerTrial } from './worker';
