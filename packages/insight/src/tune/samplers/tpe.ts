// TPE, the Tree-structured Parzen Estimator (Bergstra et al. 2011), univariate, with Optuna's TPESampler defaults as
// the reference (optuna/samplers/_tpe/sampler.py):
// - the first nStartupTrials (10) finished trials' worth of samples are random (random.ts);
// - then the finished trials (completed, and pruned ones by their last report: ranking.ts) split into the
//   gamma(n) = min(ceil(0.1 n), 25) best, "good", and the rest; running, waiting and failed trials are ignored;
// - per active parameter, in sampling order: a Parzen estimator l(x) over the good trials' values and g(x) over the
//   others' (parzen.ts), each observation weighted by the "old trials ramp" (n > 25: the oldest n - 25 ramp
//   linearly from 1/n up to 1, the newest 25 weigh 1), plus the prior kernel;
// - nEiCandidates (24) draws from l; the one with the largest l(x)/g(x) is the value.
// A conditional parameter's estimators use only the trials where it was active (the good/bad split is the study's,
// as in hyperopt and Optuna: if sgd trials are all bad, momentum's l(x) is just the prior).
import type { Rng } from '../../data/random';
import type { Direction, Params, TrialRecord } from '../../study/types';
import { isActive } from '../space/active';
import type { ParamSpec, SearchSpace } from '../space/types';
import { PARZEN_DEFAULTS, parzenEstimator, type ParzenOptions } from './parzen';
import { sampleUniformly } from './random';
import { rankTrials } from './ranking';
import type { Sampler } from './types';

export interface TpeOptions extends ParzenOptions {
  /** Random samples until this many trials have finished (completed or pruned). */
  nStartupTrials: number;
  /** Candidates drawn from l(x) per parameter. */
  nEiCandidates: number;
}

export const TPE_DEFAULTS: TpeOptions = { ...PARZEN_DEFAULTS, nStartupTrials: 10, nEiCandidates: 24 };

/** How many of n finished trials are "good": min(ceil(0.1 n), 25). */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Weights of n observations, oldest first: all 1 below 25; else a ramp 1/n .. 1 over the n - 25 oldest, then 25 ones. */
export function defaultWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const rampLength = n - 25;
  const ramp = Array.from({ length: rampLength }, (_, i) => (rampLength === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampLength - 1)));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  readonly options: TpeOptions;

  constructor(options: Partial<TpeOptions> = {}) {
    this.options = { ...TPE_DEFAULTS, ...options };
  }

  sample(space: SearchSpace, trials: readonly TrialRecord[], direction: Direction, rng: Rng): Params {
    const ranked = rankTrials(trials, direction);
    const n = ranked.length;
    const params: Params = {};
    if (n < this.options.nStartupTrials) {
      for (const param of space.params) if (isActive(param, params)) params[param.name] = sampleUniformly(param, rng);
      return params;
    }
    const nGood = defaultGamma(n);
    const byNumber = (a: TrialRecord, b: TrialRecord) => a.number - b.number;
    const good = ranked.slice(0, nGood).map((r) => r.trial).sort(byNumber);
    const bad = ranked.slice(nGood).map((r) => r.trial).sort(byNumber);
    for (const param of space.params) {
      if (isActive(param, params)) params[param.name] = this.sampleParam(param, good, bad, rng);
    }
    return params;
  }

  /** argmax over nEiCandidates draws from l of log l(x) - log g(x). */
  private sampleParam(param: ParamSpec, good: readonly TrialRecord[], bad: readonly TrialRecord[], rng: Rng) {
    if (param.type !== 'categorical' && param.low === param.high) return param.low; // a constant: no density to fit
    const l = this.estimator(param, good);
    const g = this.estimator(param, bad);
    let best = l.sample(rng);
    let bestScore = l.logPdf(best) - g.logPdf(best);
    for (let i = 1; i < this.options.nEiCandidates; i++) {
      const candidate = l.sample(rng);
      const score = l.logPdf(candidate) - g.logPdf(candidate);
      if (score > bestScore) [best, bestScore] = [candidate, score];
    }
    return best;
  }

  /** The Parzen estimator of `param` over the trials (in trial order) where it was active. */
  private estimator(param: ParamSpec, trials: readonly TrialRecord[]) {
    const values = trials.filter((trial) => param.name in trial.params).map((trial) => trial.params[param.name]);
    return parzenEstimator(param, values, defaultWeights(values.length), this.options);
  }
}
