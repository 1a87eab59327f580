// The points of a grid search: every categorical choice, every int value (low, low + step, ... high, or the
// param's explicit grid), and for floats the values their `grid` / `gridPoints` name. A conditional parameter
// varies only under the branches that activate it, so `momentum` under `optimizer: sgd` does not multiply the
// adam points. Order: the first parameter (in sampling order) varies slowest, as in itertools.product.
import { ruleError } from '../../errors';
import type { Params, ParamValue } from '../../study/types';
import { isActive } from './active';
import type { ParamSpec, SearchSpace } from './types';

/** More points than this is a mistake in the space (e.g. an int range of a million values), not a grid to run. */
export const MAX_GRID_POINTS = 100_000;

/** The values a grid search gives `param`. Throws for a float without grid or gridPoints. */
export function gridValues(param: ParamSpec): ParamValue[] {
  if (param.type === 'categorical') return [...param.choices];
  if (param.grid) return [...param.grid];
  if (param.low === param.high) return [param.low];
  if (param.type === 'float' && param.step === null) {
    throw ruleError('INSIGHT_E_CONFIG', `A grid search needs the values of every float parameter: ${param.name} has none.`,
      { [param.name]: { type: 'float', low: param.low, high: param.high } },
      `Add grid: [${param.low}, ${param.high}] (the values to try) or gridPoints: 5 to ${param.name}.`);
  }
  const step = param.step as number;
  const count = Math.round((param.high - param.low) / step) + 1;
  if (count > MAX_GRID_POINTS) throw tooMany(param.name, count);
  return Array.from({ length: count }, (_, i) => (param.type === 'int' ? param.low + i * step : roundLike(param.low + i * step, step)));
}

/**
 * Every point of the grid, in order. Example: `{ optimizer: [adam, sgd], momentum: { ..., grid: [0.8, 0.9],
 * when: { optimizer: sgd } } }` → [{optimizer: adam}, {optimizer: sgd, momentum: 0.8}, {optimizer: sgd, momentum: 0.9}].
 */
export function gridPoints(space: SearchSpace): Params[] {
  const values = new Map(space.params.map((param) => [param.name, gridValues(param)]));
  const points: Params[] = [];
  const walk = (index: number, partial: Params): void => {
    if (index === space.params.length) {
      if (points.length >= MAX_GRID_POINTS) throw tooMany('the space', points.length + 1);
      points.push({ ...partial });
      return;
    }
    const param = space.params[index];
    if (!isActive(param, partial)) return walk(index + 1, partial);
    for (const value of values.get(param.name) as ParamValue[]) walk(index + 1, { ...partial, [param.name]: value });
  };
  walk(0, {});
  return points;
}

function tooMany(name: string, count: number) {
  return ruleError('INSIGHT_E_CONFIG', `A grid search is limited to ${MAX_GRID_POINTS} points.`, { [name]: `${count}+ points` },
    'Give the large ranges an explicit grid: [...] or a coarser step, or use the random or tpe sampler.');
}

/** low + i·step without float noise (0.1 + 2·0.1 → 0.3), to the step's decimals plus a few. */
function roundLike(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step))) + 6;
  return Number(value.toFixed(Math.min(20, decimals)));
}
