// The pruners of `insight tune`, built from a study's pruner spec ({ name: 'asha', minResource: 1, reductionFactor: 3 }).
import { ruleError } from '../../errors';
import { ASHA_DEFAULTS, AshaPruner, type AshaOptions } from './asha';
import { MEDIAN_DEFAULTS, MedianPruner, type MedianOptions } from './median';
import { NopPruner } from './none';
import type { Pruner } from './types';

export { ASHA_DEFAULTS, AshaPruner, promotable, valueAtRung, type AshaOptions } from './asha';
export { median, MEDIAN_DEFAULTS, MedianPruner, type MedianOptions } from './median';
export { NopPruner } from './none';
export { reportsByStep, type PromotionOptions, type PruneDecision, type Pruner } from './types';

export const PRUNER_NAMES = ['asha', 'median', 'none'] as const;

/** Each pruner's integer options and their least value. `minEpochs` is accepted for ASHA's minResource. */
const OPTIONS: Record<(typeof PRUNER_NAMES)[number], Record<string, number>> = {
  asha: { minResource: 1, minEpochs: 1, reductionFactor: 2, minEarlyStoppingRate: 0 },
  median: { nStartupTrials: 0, nWarmupSteps: 0 },
  none: {},
};

/**
 * The pruner a study's spec names; `maxEpochs`, the epochs of a full trial, bounds ASHA's rungs. Throws
 * INSIGHT_E_CONFIG for an unknown name or option, or a bad value. Example: `prunerFromSpec({ name: 'asha', reductionFactor: 3 }, 10)`.
 */
export function prunerFromSpec(spec: Record<string, unknown>, maxEpochs = Infinity): Pruner {
  const name = spec.name as (typeof PRUNER_NAMES)[number];
  if (!PRUNER_NAMES.includes(name)) {
    throw ruleError('INSIGHT_E_CONFIG', `The pruner must be one of: ${PRUNER_NAMES.join(', ')}.`, { pruner: spec.name }, 'Pass e.g. --pruner asha.');
  }
  const options: Record<string, number> = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'name') continue;
    const least = OPTIONS[name][key];
    if (least === undefined) {
      throw ruleError('INSIGHT_E_CONFIG', `The ${name} pruner takes only: ${['name', ...Object.keys(OPTIONS[name])].join(', ')}.`,
        { [`pruner.${key}`]: value }, `Remove ${key}.`);
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < least) {
      throw ruleError('INSIGHT_E_CONFIG', `pruner.${key} must be an integer >= ${least}.`, { [`pruner.${key}`]: value },
        `Pass e.g. ${key}: ${defaultOf(key)} (the default).`);
    }
    options[key === 'minEpochs' ? 'minResource' : key] = value;
  }
  if (name === 'asha') return new AshaPruner({ ...options, maxResource: maxEpochs } as Partial<AshaOptions>);
  if (name === 'median') return new MedianPruner(options as Partial<MedianOptions>);
  return new NopPruner();
}

function defaultOf(key: string): number {
  const all: Record<string, number> = { ...ASHA_DEFAULTS, ...MEDIAN_DEFAULTS, minEpochs: ASHA_DEFAULTS.minResource };
  return all[key];
}
