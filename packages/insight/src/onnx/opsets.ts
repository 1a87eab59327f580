// The opsets the ONNX writer's graphs are valid in (python3-onnx 1.12, the checker the tests use, knows up to 17),
// apart from the writer so that `insight export --help` loads no tfjs.
export const OPSETS = { min: 13, max: 17, default: 13 } as const;
