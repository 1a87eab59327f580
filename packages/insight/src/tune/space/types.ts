// A parsed search space: one distribution per training config key, in sampling order (every parameter after the
// categoricals its `when` condition names), so a sampler can walk it once and skip the inactive ones.
import type { ParamValue } from '../../study/types';

/** `when: { optimizer: sgd }` or `{ optimizer: [sgd, adamw] }`: active only when each named categorical has one of the values. */
export type Condition = Record<string, readonly ParamValue[]>;

interface ParamBase {
  /** The training config key this parameter sets. */
  name: string;
  /** Empty: always active. */
  when: Condition;
}

/** A float in [low, high], uniform or log-uniform; `step` makes it discrete (low, low + step, ... high). */
export interface FloatParam extends ParamBase {
  type: 'float';
  low: number;
  high: number;
  log: boolean;
  step: number | null;
  /** Grid search: the values to enumerate (an explicit `grid`, or `gridPoints` spread evenly, in log space if log). */
  grid: number[] | null;
}

/** An integer in [low, high] on multiples of `step` from low; log: log-uniform (step 1 only). */
export interface IntParam extends ParamBase {
  type: 'int';
  low: number;
  high: number;
  log: boolean;
  step: number;
  /** Grid search: an explicit subset of the values (default: every value). */
  grid: number[] | null;
}

export interface CategoricalParam extends ParamBase {
  type: 'categorical';
  choices: ParamValue[];
}

export type ParamSpec = FloatParam | IntParam | CategoricalParam;

export interface SearchSpace {
  /** In sampling order: a parameter comes after every parameter its condition names. */
  params: ParamSpec[];
  byName: ReadonlyMap<string, ParamSpec>;
}
