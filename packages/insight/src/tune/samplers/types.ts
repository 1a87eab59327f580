// What every sampler of `insight tune` is: given the space, the study's trials so far and the direction, the next
// trial's params. Sequential over the active parameters (space.params is in sampling order), so a conditional
// parameter is drawn only when the categoricals it depends on have activating values.
import type { Rng } from '../../data/random';
import type { Direction, Params, TrialRecord } from '../../study/types';
import type { SearchSpace } from '../space/types';

export interface Sampler {
  readonly name: string;
  /**
   * The next trial's params, or null when the sampler has nothing left (a grid whose every point has a trial).
   * `trials` are all of the study's trials, in any state; `rng` gives uniform floats in [0, 1) (data/random.ts).
   */
  sample(space: SearchSpace, trials: readonly TrialRecord[], direction: Direction, rng: Rng): Params | null;
}
