// What a worker samples and prunes with, built from a study's spec (the same on every worker, so any worker on any
// machine makes the same decisions): the parsed search space, the sampler and the pruner.
import { ruleError } from '../errors';
import type { StudyRecord } from '../study/types';
import { prunerFromSpec } from './pruners';
import type { Pruner } from './pruners/types';
import { samplerFromSpec } from './samplers';
import type { Sampler } from './samplers/types';
import { parseSearchSpace } from './space/parse';
import type { SearchSpace } from './space/types';

export type { Pruner, Sampler };

export interface Strategy {
  space: SearchSpace;
  sampler: Sampler;
  pruner: Pruner;
}

/**
 * The study's space, sampler and pruner (INSIGHT_E_CONFIG when its spec names an unknown one or a bad option, or
 * searches `epochs` under ASHA: ASHA allocates the epochs itself, and a trial with fewer epochs reaches the early
 * rungs with its schedule further along, so short trials would win the rungs and count as completed).
 */
export function strategyOf(study: Pick<StudyRecord, 'name' | 'space' | 'sampler' | 'pruner'>): Strategy {
  const space = parseSearchSpace(study.space, `search space of study ${study.name}`);
  const strategy = { space, sampler: samplerFromSpec(study.sampler), pruner: prunerFromSpec(study.pruner) };
  if (strategy.pruner.name === 'asha' && space.params.some((p) => p.name === 'epochs')) {
    throw ruleError('INSIGHT_E_CONFIG', 'A study pruned by ASHA cannot search epochs: ASHA decides how many epochs each trial gets.',
      { study: study.name, pruner: 'asha', space: 'epochs' },
      'Set epochs in the base config (--epochs, the most any trial trains) and drop it from the space, or search epochs with --pruner median or none.');
  }
  return strategy;
}
