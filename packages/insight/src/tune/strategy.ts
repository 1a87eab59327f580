// What a worker samples and prunes with, built from a study's spec (the same on every worker, so any worker on any
// machine makes the same decisions): the parsed search space, the sampler and the pruner.
import type { StudyRecord } from '../study/types';
import type { Pruner } from './pruners/types';
import { GridSampler } from './samplers/grid';
import { RandomSampler } from './samplers/random';
import type { Sampler } from './samplers/types';
import { parseSearchSpace } from './space/parse';
import type { SearchSpace } from './space/types';

export type { Pruner, Sampler };

export interface Strategy {
  space: SearchSpace;
  sampler: Sampler;
  pruner: Pruner;
}

/** Never prunes (--pruner none). */
const NO_PRUNING: Pruner = { name: 'none', shouldPrune: () => false };

/** The study's space, sampler and pruner. */
export function strategyOf(study: StudyRecord): Strategy {
  const space = parseSearchSpace(study.space, `search space of study ${study.name}`);
  return { space, sampler: samplerOf(study.sampler), pruner: prunerOf(study.pruner) };
}

function samplerOf(spec: Record<string, unknown>): Sampler {
  switch (spec.name) {
    case 'random':
      return new RandomSampler();
    case 'grid':
      return new GridSampler();
    default:
      throw new Error(`sampler ${String(spec.name)}: not wired yet`);
  }
}

function prunerOf(spec: Record<string, unknown>): Pruner {
  switch (spec.name) {
    case 'none':
      return NO_PRUNING;
    default:
      throw new Error(`pruner ${String(spec.name)}: not wired yet`);
  }
}
