// The samplers of `insight tune`, built from a study's sampler spec ({ name: 'tpe', seed: 1, ... }).
import { ruleError } from '../../errors';
import { GridSampler } from './grid';
import { RandomSampler } from './random';
import { TPE_DEFAULTS, TpeSampler, type TpeOptions } from './tpe';
import type { Sampler } from './types';

export { GridSampler } from './grid';
export { sampleUniformly, RandomSampler } from './random';
export { rankTrials, type RankedTrial } from './ranking';
export { defaultGamma, defaultWeights, TPE_DEFAULTS, TpeSampler, type TpeOptions } from './tpe';
export type { Sampler } from './types';

export const SAMPLER_NAMES = ['tpe', 'random', 'grid'] as const;

/** Option keys each sampler takes besides name and seed (the seed is the caller's: it seeds the rng it passes). */
const OPTIONS: Record<(typeof SAMPLER_NAMES)[number], readonly string[]> = {
  tpe: ['nStartupTrials', 'nEiCandidates', 'priorWeight', 'considerMagicClip', 'considerEndpoints'],
  random: [],
  grid: [],
};

/**
 * The sampler a study's spec names. Throws INSIGHT_E_CONFIG for an unknown name or option, or a bad value.
 * Example: `samplerFromSpec({ name: 'tpe', seed: 1, nStartupTrials: 5 })`.
 */
export function samplerFromSpec(spec: Record<string, unknown>): Sampler {
  const name = spec.name as (typeof SAMPLER_NAMES)[number];
  if (!SAMPLER_NAMES.includes(name)) {
    throw ruleError('INSIGHT_E_CONFIG', `The sampler must be one of: ${SAMPLER_NAMES.join(', ')}.`, { sampler: spec.name },
      'Pass e.g. --sampler tpe.');
  }
  for (const [key, value] of Object.entries(spec)) {
    if (key !== 'name' && key !== 'seed' && !OPTIONS[name].includes(key)) {
      throw ruleError('INSIGHT_E_CONFIG', `The ${name} sampler takes only: ${['name', 'seed', ...OPTIONS[name]].join(', ')}.`,
        { [`sampler.${key}`]: value }, `Remove ${key}.`);
    }
  }
  if (name === 'random') return new RandomSampler();
  if (name === 'grid') return new GridSampler();
  const options: Partial<TpeOptions> = {};
  for (const key of ['nStartupTrials', 'nEiCandidates'] as const) {
    const value = spec[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < (key === 'nEiCandidates' ? 1 : 0)) {
      throw ruleError('INSIGHT_E_CONFIG', `sampler.${key} must be an integer >= ${key === 'nEiCandidates' ? 1 : 0}.`, { [`sampler.${key}`]: value },
        `Pass e.g. ${key}: ${TPE_DEFAULTS[key]} (the default).`);
    }
    options[key] = value;
  }
  if (spec.priorWeight !== undefined) {
    if (typeof spec.priorWeight !== 'number' || !(spec.priorWeight > 0) || !Number.isFinite(spec.priorWeight)) {
      throw ruleError('INSIGHT_E_CONFIG', 'sampler.priorWeight must be a number > 0.', { 'sampler.priorWeight': spec.priorWeight },
        'Pass e.g. priorWeight: 1 (the default).');
    }
    options.priorWeight = spec.priorWeight;
  }
  for (const key of ['considerMagicClip', 'considerEndpoints'] as const) {
    const value = spec[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') {
      throw ruleError('INSIGHT_E_CONFIG', `sampler.${key} must be true or false.`, { [`sampler.${key}`]: value }, `Pass ${key}: ${TPE_DEFAULTS[key]} (the default).`);
    }
    options[key] = value;
  }
  return new TpeSampler(options);
}
