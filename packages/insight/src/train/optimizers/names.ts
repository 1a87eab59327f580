// The optimizer names, apart from the implementations so that configs and --help can list them without loading tfjs.
export const OPTIMIZER_NAMES = ['adam', 'adamw', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
