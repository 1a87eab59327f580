// Random search: every active parameter drawn independently. float uniform, or log-uniform (uniform in log x);
// float with a step and int: uniform over their values; log-scale int: log-uniform over [low - 1/2, high + 1/2]
// then rounded, so each integer gets the log-width of its cell (Optuna's rule); categorical: uniform over choices.
import type { Rng } from '../../data/random';
import type { Direction, Params, ParamValue, TrialRecord } from '../../study/types';
import { isActive } from '../space/active';
import type { ParamSpec, SearchSpace } from '../space/types';
import type { Sampler } from './types';

export class RandomSampler implements Sampler {
  readonly name = 'random';

  sample(space: SearchSpace, _trials: readonly TrialRecord[], _direction: Direction, rng: Rng): Params {
    const params: Params = {};
    for (const param of space.params) if (isActive(param, params)) params[param.name] = sampleUniformly(param, rng);
    return params;
  }
}

/** One draw of `param` from its prior (the distribution random search uses; TPE's startup trials too). */
export function sampleUniformly(param: ParamSpec, rng: Rng): ParamValue {
  if (param.type === 'categorical') return param.choices[Math.min(param.choices.length - 1, Math.floor(rng() * param.choices.length))];
  const { low, high } = param;
  if (param.log) {
    const half = param.type === 'int' ? 0.5 : 0;
    const x = Math.exp(Math.log(low - half) + rng() * (Math.log(high + half) - Math.log(low - half)));
    return param.type === 'int' ? Math.min(high, Math.max(low, Math.round(x))) : Math.min(high, Math.max(low, x));
  }
  if (param.step === null) return Math.min(high, low + rng() * (high - low));
  const count = Math.round((high - low) / param.step) + 1;
  return stepValue(low, param.step, Math.min(count - 1, Math.floor(rng() * count)), param.type === 'int');
}

/** The value on `step`'s grid nearest to x, within [low, high]. */
export function alignToStep(x: number, low: number, high: number, step: number, integer: boolean): number {
  const last = Math.round((high - low) / step);
  return stepValue(low, step, Math.min(last, Math.max(0, Math.round((x - low) / step))), integer);
}

/** low + i·step, an exact integer for ints and without float noise (0.1 + 2·0.1 → 0.3) for floats. */
function stepValue(low: number, step: number, i: number, integer: boolean): number {
  const x = low + i * step;
  return integer ? Math.round(x) : Number(x.toPrecision(12));
}
