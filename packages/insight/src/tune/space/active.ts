// Which parameters of a space a trial has: a conditional parameter is active only when every categorical its
// `when` names is itself active and holds one of the listed values. Also the canonical key of a params object,
// so two trials with the same values (in any key order) are recognised as one point.
import type { Params } from '../../study/types';
import type { ParamSpec, SearchSpace } from './types';

/** true when `param`'s condition holds for the values in `params` (a parent absent from `params` is inactive). */
export function isActive(param: ParamSpec, params: Params): boolean {
  for (const [name, values] of Object.entries(param.when)) {
    if (!(name in params) || !values.some((value) => value === params[name])) return false;
  }
  return true;
}

/**
 * The parameters active for the (partial) `params`, in sampling order. Sampling walks the space in this order, so
 * every parent is decided before its children. Example: with `momentum: { ..., when: { optimizer: sgd } }`,
 * `activeParams(space, { optimizer: 'adam' })` holds optimizer but not momentum.
 */
export function activeParams(space: SearchSpace, params: Params): ParamSpec[] {
  return space.params.filter((param) => isActive(param, params));
}

/**
 * A canonical string of a params object: keys sorted, values as JSON (-0 as 0), so equal points give equal keys.
 * Example: `paramsKey({ b: 1, a: 'x' }) === paramsKey({ a: 'x', b: 1 })` → '{"a":"x","b":1}'.
 */
export function paramsKey(params: Params): string {
  const keys = Object.keys(params).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(Object.is(params[key], -0) ? 0 : params[key])}`).join(',')}}`;
}
