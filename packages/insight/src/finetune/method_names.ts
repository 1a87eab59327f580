// The fine-tuning method and head-initialisation names, apart from methods.ts (which loads tfjs) so that configs and --help stay light.
export const FINETUNE_METHODS = ['full', 'head', 'bn+head', 'adapter', 'lora', 'prompt'] as const;
export type FinetuneMethod = (typeof FINETUNE_METHODS)[number];

/** How the new head's weights start (head.ts). */
export const HEAD_INITS = ['zeros', 'glorot'] as const;
export type HeadInit = (typeof HEAD_INITS)[number];
