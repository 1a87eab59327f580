// What a worker samples and prunes with, built from a study's spec (the same on every worker, so any worker on any
// machine makes the same decisions): the parsed search space, the sampler and the pruner.
import { ruleError } from '../errors';
import { FIELDS } from '../run/config_fields';
import type { StudyRecord } from '../study/types';
import { AshaPruner, prunerFromSpec } from './pruners';
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
 * rungs with its schedule further along, so short trials would win the rungs and count as completed; or when a full
 * trial's epochs leave ASHA no rung).
 */
export function strategyOf(study: Pick<StudyRecord, 'name' | 'space' | 'sampler' | 'pruner' | 'baseConfig'>): Strategy {
  const space = parseSearchSpace(study.space, `search space of study ${study.name}`);
  const epochs = typeof study.baseConfig.epochs === 'number' ? study.baseConfig.epochs : FIELDS.epochs.default;
  const strategy = { space, sampler: samplerFromSpec(study.sampler), pruner: prunerFromSpec(study.pruner, epochs) };
  if (strategy.pruner instanceof AshaPruner) {
    if (space.params.some((p) => p.name === 'epochs')) {
      throw ruleError('INSIGHT_E_CONFIG', 'A study pruned by ASHA cannot search epochs: ASHA decides how many epochs each trial gets.',
        { study: study.name, pruner: 'asha', space: 'epochs' },
        'Set epochs in the base config (--epochs, the most any trial trains) and drop it from the space, or search epochs with --pruner median or none.');
    }
    if (strategy.pruner.rungSteps().length === 0) {
      const { reductionFactor } = strategy.pruner.options;
      const first = strategy.pruner.rungStep(0);
      throw ruleError('INSIGHT_E_CONFIG', `ASHA needs a full trial of at least (first rung) x (reduction factor) = ${first} x ${reductionFactor} = ${first * reductionFactor} epochs, so that its first rung promotes to more epochs.`,
        { study: study.name, epochs, minEpochs: first, reductionFactor },
        `Pass --epochs ${first * reductionFactor} or more, a smaller pruner minEpochs or reductionFactor, or --pruner median.`);
    }
  }
  return strategy;
}
