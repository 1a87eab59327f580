// The fine-tuning method names, apart from methods.ts (which loads tfjs) so that configs and --help stay light.
export const FINETUNE_METHODS = ['full', 'head', 'bn+head', 'adapter', 'lora'] as const;
export type FinetuneMethod = (typeof FINETUNE_METHODS)[number];
