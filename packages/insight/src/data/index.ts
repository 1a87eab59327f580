// The data layer: datasets (CIFAR-10 binary archive, image folders), selections, normalization,
// augmentation and the batched, worker-backed DataLoader.
export { type ImageDataset, subsetDataset, filterClasses, splitTrainValidation, checkDataset, sharedBytes, type SplitOptions } from './dataset';
export { CIFAR10_URL, CIFAR10_SHA256, loadCifar10, type Cifar10Options } from './cifar10';
export { loadImageFolder, type ImageFolderOptions, type ImageFolderDataset } from './image_folder';
export { type Normalization, normalizeImages, normalizationTable, checkNormalization } from './normalize';
export { type AugmentConfig, drawAugmentParams, renderImage, checkAugmentConfig } from './augment';
export { type Batch, type LoaderOptions, type Shard, DataLoader } from './loader';
export { datasetsCacheDir } from './cache_dir';
export { decodeRgb } from './decode_rgb';
