// The optimizer registry: name → constructor, for configs and the CLI.
import { Adam } from './adam';
import { AdamW } from './adamw';
import { decaysByDefault, type Optimizer, type Param } from './optimizer';
import type { OptimizerName } from './names';
import { Sgd } from './sgd';
import { tf } from '../../backend';

export { Optimizer, decaysByDefault, type Param } from './optimizer';
export { Adam, ADAM_DEFAULTS, type AdamOptions } from './adam';
export { AdamW } from './adamw';
export { Sgd, type SgdOptions } from './sgd';

export { OPTIMIZER_NAMES, type OptimizerName } from './names';

/** Hyper-parameters of every optimizer; each uses the ones that apply to it. */
export interface OptimizerSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/** Wraps variables as params, decaying kernels (rank >= 2) only. */
export function paramsOf(variables: tf.Variable[]): Param[] {
  return variables.map((variable) => ({ variable, decay: decaysByDefault(variable) }));
}

/** Builds the named optimizer over `params`. `name` must be one of OPTIMIZER_NAMES (validated by the config). */
export function createOptimizer(name: OptimizerName, params: Param[], s: OptimizerSettings): Optimizer {
  switch (name) {
    case 'adam':
      return new Adam(params, s);
    case 'adamw':
      return new AdamW(params, s);
    case 'sgd':
      return new Sgd(params, s);
  }
}
