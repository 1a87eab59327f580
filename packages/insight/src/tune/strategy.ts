// What a worker samples and prunes with, built from a study's spec (the same on every worker, so any worker on any
// machine makes the same decisions): the parsed search space, the sampler and the pruner.
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

/** The study's space, sampler and pruner (INSIGHT_E_CONFIG when its spec names an unknown one or a bad option). */
export function strategyOf(study: Pick<StudyRecord, 'name' | 'space' | 'sampler' | 'pruner'>): Strategy {
  const space = parseSearchSpace(study.space, `search space of study ${study.name}`);
  return { space, sampler: samplerFromSpec(study.sampler), pruner: prunerFromSpec(study.pruner) };
}
