// The Parzen estimators of TPE (Bergstra et al. 2011), one per parameter, fitted to a set of trials' values with
// Optuna's choices (optuna/samplers/_tpe/parzen_estimator.py) as the reference:
// - numeric: one Gaussian kernel per observation, in log space for log parameters, truncated to the range (widened
//   by half a step each side for discrete ones); bandwidth = the larger gap to the neighbouring kernel means (the
//   range ends and the prior's mean included; the outermost kernels take their inner gap), clipped ("magic clip")
//   to [range / min(100, n + 2), range]; plus a prior kernel at the range's middle with width the whole range.
//   A discrete value's probability is its kernel mass over [x - step/2, x + step/2].
// - categorical: each observation a distribution with mass 1 on its choice plus priorWeight/(n + 1) smoothing on
//   every choice (normalised), plus a uniform prior kernel.
// Mixture weights: the given observation weights (TPE's ramp) and priorWeight for the prior, normalised.
// Densities are in the transformed (log) space: l(x)/g(x) compares two of them at the same x, so the Jacobian cancels.
import type { Rng } from '../../data/random';
import type { ParamValue } from '../../study/types';
import type { CategoricalParam, FloatParam, IntParam, ParamSpec } from '../space/types';
import { logGaussMass, logNormalPdf, logSumExp, truncatedNormal } from './normal';
import { alignToStep } from './random';

export interface ParzenOptions {
  /** Weight of the prior kernel (Optuna: 1.0). */
  priorWeight: number;
  /** Lower-bound the bandwidths by range / min(100, n + 2) (Optuna: true). */
  considerMagicClip: boolean;
  /** Let the outermost kernels' bandwidths reach to the range ends (Optuna: false). */
  considerEndpoints: boolean;
}

export const PARZEN_DEFAULTS: ParzenOptions = { priorWeight: 1, considerMagicClip: true, considerEndpoints: false };

/** A fitted one-parameter density: log p(value) and draws. */
export interface ParzenEstimator {
  logPdf(value: ParamValue): number;
  sample(rng: Rng): ParamValue;
}

/**
 * The estimator of `param` over `values` (observations in trial order; values outside the space are skipped with
 * their weights), weighted by `weights` (same length). Example: `parzenEstimator(lrParam, [1e-3, 3e-3], [1, 1])`.
 */
export function parzenEstimator(param: ParamSpec, values: readonly ParamValue[], weights: readonly number[],
  options: ParzenOptions = PARZEN_DEFAULTS): ParzenEstimator {
  if (param.type === 'categorical') {
    const kept = values.map((value, i) => [param.choices.findIndex((choice) => choice === value), weights[i]] as const).filter(([index]) => index >= 0);
    return new CategoricalParzen(param, kept.map(([index]) => index), kept.map(([, w]) => w), options.priorWeight);
  }
  const inRange = (value: ParamValue): value is number => typeof value === 'number' && value >= param.low && value <= param.high;
  const kept = values.map((value, i) => [value, weights[i]] as const).filter(([value]) => inRange(value));
  return new NumericParzen(param, kept.map(([value]) => value as number), kept.map(([, w]) => w), options);
}

/** A mixture of truncated Gaussians over a float or int range (kernels, then the prior, last). */
export class NumericParzen implements ParzenEstimator {
  readonly mus: number[];
  readonly sigmas: number[];
  /** Normalised mixture weights, the prior's last. */
  readonly weights: number[];
  /** The range in the transformed space (log for log params; widened by step/2 each side if discrete). */
  readonly low: number;
  readonly high: number;
  private readonly step: number | null;
  /** log of each kernel's mass inside [low, high]: the truncation's normaliser. */
  private readonly logNorms: number[];

  constructor(private readonly param: FloatParam | IntParam, values: readonly number[], weights: readonly number[], options: ParzenOptions) {
    this.step = param.step;
    const half = this.step === null ? 0 : this.step / 2;
    [this.low, this.high] = [this.toInternal(param.low - half), this.toInternal(param.high + half)];
    const { low, high } = this;
    const priorMu = 0.5 * (low + high);
    const mus = values.map((value) => this.toInternal(value));
    const sigmas = kernelWidths(mus, priorMu, low, high, options);
    this.mus = [...mus, priorMu];
    this.sigmas = [...sigmas, high - low];
    const raw = mus.length === 0 ? [1] : [...weights, options.priorWeight];
    const total = raw.reduce((a, b) => a + b, 0);
    this.weights = raw.map((w) => w / total);
    this.logNorms = this.mus.map((mu, k) => logGaussMass((low - mu) / this.sigmas[k], (high - mu) / this.sigmas[k]));
  }

  logPdf(value: ParamValue): number {
    const x = value as number;
    const terms = this.mus.map((mu, k) => {
      const sigma = this.sigmas[k];
      let logDensity: number;
      if (this.step === null) {
        logDensity = logNormalPdf(this.toInternal(x), mu, sigma);
      } else {
        const x0 = alignToStep(x, this.param.low, this.param.high, this.step, this.param.type === 'int');
        const [a, b] = [this.toInternal(x0 - this.step / 2), this.toInternal(x0 + this.step / 2)];
        logDensity = logGaussMass((a - mu) / sigma, (b - mu) / sigma);
      }
      return Math.log(this.weights[k]) + logDensity - this.logNorms[k];
    });
    return logSumExp(terms);
  }

  sample(rng: Rng): number {
    const k = pick(this.weights, rng);
    const x = this.fromInternal(truncatedNormal(rng, this.mus[k], this.sigmas[k], this.low, this.high));
    const { low, high } = this.param;
    if (this.step !== null) return alignToStep(x, low, high, this.step, this.param.type === 'int');
    return Math.min(high, Math.max(low, x));
  }

  private toInternal(v: number): number {
    return this.param.log ? Math.log(v) : v;
  }

  private fromInternal(v: number): number {
    return this.param.log ? Math.exp(v) : v;
  }
}

/**
 * The bandwidth of each kernel at `mus` (Optuna's univariate rule): sort the means with the prior's, put the range
 * ends around them, take each mean's larger gap to a neighbour; the outermost take their inner gap unless
 * considerEndpoints; clip to [minSigma, high - low].
 */
function kernelWidths(mus: readonly number[], priorMu: number, low: number, high: number, options: ParzenOptions): number[] {
  if (mus.length === 0) return [];
  const all = [...mus, priorMu];
  const order = all.map((_, i) => i).sort((a, b) => all[a] - all[b] || a - b);
  const sorted = [low, ...order.map((i) => all[i]), high];
  const m = all.length;
  const sortedSigmas = Array.from({ length: m }, (_, i) => Math.max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]));
  if (!options.considerEndpoints && sorted.length >= 4) {
    sortedSigmas[0] = sorted[2] - sorted[1];
    sortedSigmas[m - 1] = sorted[m] - sorted[m - 1];
  }
  const sigmas = new Array<number>(m);
  order.forEach((original, position) => { sigmas[original] = sortedSigmas[position]; });
  const maxSigma = high - low;
  const minSigma = options.considerMagicClip ? (high - low) / Math.min(100, mus.length + 2) : 1e-12;
  return sigmas.slice(0, mus.length).map((s) => Math.min(maxSigma, Math.max(minSigma, s)));
}

/** A smoothed histogram over the choices: probs[c] = Σ_k w_k · row_k[c]. */
export class CategoricalParzen implements ParzenEstimator {
  readonly probs: number[];

  constructor(private readonly param: CategoricalParam, indices: readonly number[], weights: readonly number[], priorWeight: number) {
    const nChoices = param.choices.length;
    if (indices.length === 0) {
      this.probs = new Array<number>(nChoices).fill(1 / nChoices);
      return;
    }
    const nKernels = indices.length + 1; // + the prior
    const fill = priorWeight / nKernels;
    const rowSum = fill * nChoices + 1;
    const raw = [...weights, priorWeight];
    const total = raw.reduce((a, b) => a + b, 0);
    // The prior's row is `fill` everywhere, i.e. uniform once normalised.
    this.probs = new Array<number>(nChoices).fill(priorWeight > 0 ? (priorWeight / total) / nChoices : 0);
    indices.forEach((index, k) => {
      const w = raw[k] / total;
      for (let c = 0; c < nChoices; c++) this.probs[c] += (w * (fill + (c === index ? 1 : 0))) / rowSum;
    });
  }

  logPdf(value: ParamValue): number {
    const index = this.param.choices.findIndex((choice) => choice === value);
    return index < 0 ? -Infinity : Math.log(this.probs[index]);
  }

  sample(rng: Rng): ParamValue {
    return this.param.choices[pick(this.probs, rng)];
  }
}

/** An index drawn with probabilities `weights` (summing to 1). */
function pick(weights: readonly number[], rng: Rng): number {
  let u = rng();
  for (let i = 0; i < weights.length - 1; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}
