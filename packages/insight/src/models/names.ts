// The zoo's model names, apart from the builders so that configs and --help can list them without loading tfjs.
// registry.ts maps each name to its builder (a Record over ModelName, so the two cannot drift apart).
export const MODEL_NAMES = ['seed-cnn', 'resnet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
