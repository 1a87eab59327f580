// The weight storage formats of a compressed model, apart from their writers so that the config and --help can list
// them without loading tfjs.
export const WEIGHT_FORMATS = ['float32', 'float16', 'uint8', 'sparse', 'sparse-float16', 'sparse-uint8'] as const;
export type WeightFormat = (typeof WEIGHT_FORMATS)[number];
