// Grid search: the space's grid points (space/grid.ts) in order; each call returns the first point no trial of the
// study has yet (in any state: a failed point is not tried again, a retried one is already waiting), and null once
// every point has one. `insight tune` enqueues all points up front, in the transaction that creates the study
// (storage.createStudy's `enqueue`); the sampler then only fills gaps.
import type { Rng } from '../../data/random';
import type { Direction, Params, TrialRecord } from '../../study/types';
import { paramsKey } from '../space/active';
import { gridPoints } from '../space/grid';
import type { SearchSpace } from '../space/types';
import type { Sampler } from './types';

export class GridSampler implements Sampler {
  readonly name = 'grid';
  private readonly points = new WeakMap<SearchSpace, Params[]>();

  /** Every grid point of `space`, in order (computed once per space). */
  pointsOf(space: SearchSpace): Params[] {
    let points = this.points.get(space);
    if (!points) this.points.set(space, (points = gridPoints(space)));
    return points;
  }

  /** The grid points no trial has yet, in order. */
  remaining(space: SearchSpace, trials: readonly TrialRecord[]): Params[] {
    const used = new Set(trials.map((trial) => paramsKey(trial.params)));
    return this.pointsOf(space).filter((point) => !used.has(paramsKey(point)));
  }

  sample(space: SearchSpace, trials: readonly TrialRecord[], _direction: Direction, _rng: Rng): Params | null {
    return this.remaining(space, trials)[0] ?? null;
  }
}
