// Insight as a library: the same workflows as the `insight` command, as typed functions, plus the pieces
// they are made of (model zoo, training loop, optimizers, schedules, callbacks, metrics, run files, tracking, data).
//
//   import { train, evaluate, predict } from 'insight';
//   const { runDir, report, model } = await train({ data: 'cifar-10-binary.tar.gz', epochs: 2, limit: 2000 });
//   model.dispose();
//   const { metrics } = await evaluate({ model: runDir });
//   const [first] = await predict({ model: runDir, images: ['cat.jpg'], topK: 3 });
export { tf, initBackend } from './backend';
export { ERROR_CODES, InsightError, ServeError, type ErrorCode, type ErrorCodeInfo, type ServeErrorCode } from './errors';

export * from './models';
export * from './train';
export * from './eval';
export * from './run';
export * from './track';
export * from './finetune';
export {
  type ImageDataset, subsetDataset, filterClasses, splitTrainValidation, loadCifar10, loadImageFolder,
  type Normalization, normalizeImages, type AugmentConfig, type Batch, type LoaderOptions, DataLoader,
} from './data';
export { main } from './cli/main';
