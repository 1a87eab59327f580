// Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) for training: a BatchTransform from a run's settings.
export { betaDraw, logGammaDraw, normalDraw } from './beta';
export { mixedCrossEntropy } from './mixed_loss';
export { boxMask, cutmixImages, mixupImages } from './mix_images';
export { cutmixBox, planMix, type MixPlan, type PixelBox } from './plan';
export { checkMixingConfig, describeMixing, MIXING_DEFAULTS, mixingOn, type MixingSettings } from './settings';
export { mixingTransform } from './transform';
