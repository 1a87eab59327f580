// Search spaces of `insight tune`: parse and check (parse.ts), conditions and point keys (active.ts), grids (grid.ts).
export { activeParams, isActive, paramsKey } from './active';
export { gridPoints, gridValues, MAX_GRID_POINTS } from './grid';
export { parseSearchSpace } from './parse';
export type { CategoricalParam, Condition, FloatParam, IntParam, ParamSpec, SearchSpace } from './types';
