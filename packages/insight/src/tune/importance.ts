// Parameter importance for `insight tune show`: PED-ANOVA (Watanabe et al. 2023, "PED-ANOVA: Efficiently Quantifying
// Hyperparameter Importance in Arbitrary Subspaces"), as Optuna's PedAnovaImportanceEvaluator computes it
// (optuna/importance/_ped_anova/). A parameter matters to the extent that the values of the top trials (the best
// baselineQuantile = 10%, at least 2) are distributed differently from the values of all trials: importance is the
// Pearson divergence Σ_x p_all(x) · (p_top(x) / p_all(x) - 1)², each p a Parzen estimator on a grid (numeric
// parameters: 50 points of the range, in log space for log ones, fewer for small int / stepped ranges; Gaussian
// kernels of Scott's bandwidth 1.059 · min(IQR / 1.34, std) · n^-0.2 in grid units, at least 0.5 / 1.64; categorical:
// smoothed counts), each with a prior kernel of weight 1. Importances are normalised to sum 1.
// Trials: completed, pruned and paused ones, ranked as TPE ranks them (samplers/ranking.ts: completed by value, then pruned by
// how far they got), so with ASHA, where most trials are pruned, the pruned ones still show where the bad values lie;
// the top set is drawn from that ranking. A conditional parameter (Optuna leaves these out) is judged in its
// subspace: top and all are taken among the trials where it was active (at least 3 of them, else 0), and the
// divergence is scaled by the share of the study's top trials that had it active, so momentum under sgd counts only
// as much as sgd reaches the top (and 0 when it never does: the choice that activates it carries that signal).
// A parameter with fewer than two distinct values over those trials (a constant) gets 0. With fewer than 3 trials
// there is no top set to compare: every varying parameter gets an equal share (and with 0 or 1 trials nothing varies:
// every importance is 0). When no parameter shows any divergence, the varying ones share equally.
import type { Direction, ParamValue, TrialRecord } from '../study/types';
import { paramsKey } from './space/active';
import type { ParamSpec, SearchSpace } from './space/types';
import { logGaussMass } from './samplers/normal';
import { CategoricalParzen } from './samplers/parzen';
import { rankTrials, type RankedTrial } from './samplers/ranking';

export interface ImportanceOptions {
  /** The top trials are the best ceil(q · n) (at least minTopTrials). */
  baselineQuantile: number;
  minTopTrials: number;
  /** Grid points of a numeric parameter's range. */
  nSteps: number;
  priorWeight: number;
}

export const IMPORTANCE_DEFAULTS: ImportanceOptions = { baselineQuantile: 0.1, minTopTrials: 2, nSteps: 50, priorWeight: 1 };

/**
 * { param: importance } for every parameter of the space, summing to 1 (all 0 when nothing varied), largest first.
 * Example: `paramImportance(space, await storage.trials(study.id), 'maximize')` → { lr: 0.83, dropout: 0.17 }.
 */
export function paramImportance(space: SearchSpace, trials: readonly TrialRecord[], direction: Direction,
  options: Partial<ImportanceOptions> = {}): Record<string, number> {
  const opts = { ...IMPORTANCE_DEFAULTS, ...options };
  const ranked = rankTrials(trials, direction);
  const activeIn = (param: ParamSpec, set: readonly RankedTrial[]) => set.map((r) => r.trial).filter((t) => param.name in t.params);
  const varying = space.params.filter((param) => new Set(activeIn(param, ranked).map((t) => paramsKey({ v: t.params[param.name] }))).size >= 2);
  const raw = new Map<string, number>(space.params.map((param) => [param.name, 0]));
  if (varying.length > 0 && ranked.length <= opts.minTopTrials) {
    for (const param of varying) raw.set(param.name, 1);
  } else if (varying.length > 0) {
    const top = topTrials(ranked, opts);
    for (const param of varying) {
      // The trials where the parameter exists, still best first; for an unconditional parameter, all of them.
      const active = ranked.filter((r) => param.name in r.trial.params);
      const share = activeIn(param, top).length / top.length;
      if (share === 0 || active.length <= opts.minTopTrials) continue;
      const values = (set: readonly RankedTrial[]) => set.map((r) => r.trial.params[param.name]);
      const divergence = pearsonDivergence(gridPdf(param, values(topTrials(active, opts)), opts), gridPdf(param, values(active), opts));
      raw.set(param.name, share * divergence);
    }
    if (varying.every((param) => raw.get(param.name) === 0)) for (const param of varying) raw.set(param.name, 1);
  }
  const total = [...raw.values()].reduce((a, b) => a + b, 0);
  const entries = [...raw].map(([name, v]) => [name, total > 0 ? v / total : 0] as const);
  return Object.fromEntries(entries.sort((a, b) => b[1] - a[1]));
}

/** The best max(minTopTrials, ceil(q · n)) of the ranking, and every trial tied with the last of them. */
function topTrials(ranked: readonly RankedTrial[], opts: ImportanceOptions): RankedTrial[] {
  const cutoff = ranked[Math.min(ranked.length, Math.max(opts.minTopTrials, Math.ceil(opts.baselineQuantile * ranked.length))) - 1].key;
  const notWorse = (key: RankedTrial['key']) => key[0] < cutoff[0] || (key[0] === cutoff[0] && (key[1] < cutoff[1] || (key[1] === cutoff[1] && key[2] <= cutoff[2])));
  return ranked.filter((r) => notWorse(r.key));
}

/** Σ_x p_all(x) · (p_top(x) / p_all(x) - 1)², each p offset by 1e-12 (as Optuna) so an empty cell is finite. */
function pearsonDivergence(top: readonly number[], all: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < all.length; i++) {
    const [t, a] = [top[i] + 1e-12, all[i] + 1e-12];
    sum += a * (t / a - 1) ** 2;
  }
  return sum;
}

/** The Parzen estimator of `values` as probabilities over the parameter's grid cells (categorical: its choices). */
export function gridPdf(param: ParamSpec, values: readonly ParamValue[], opts: ImportanceOptions = IMPORTANCE_DEFAULTS): number[] {
  if (param.type === 'categorical') {
    const counts = new Array<number>(param.choices.length).fill(0);
    for (const value of values) {
      const index = param.choices.findIndex((choice) => choice === value);
      if (index >= 0) counts[index]++;
    }
    const used = counts.map((c, i) => [i, c] as const).filter(([, c]) => c > 0);
    return new CategoricalParzen(param, used.map(([i]) => i), used.map(([, c]) => c), opts.priorWeight).probs;
  }
  const to = param.log ? Math.log : (v: number) => v;
  let nSteps = opts.nSteps;
  if (param.type === 'int' && param.log) nSteps = Math.min(Math.ceil(Math.log2(param.high - param.low + 1)) + 1, nSteps);
  else if (param.step !== null) nSteps = Math.min(Math.round((param.high - param.low) / param.step) + 1, nSteps);
  const [a, b] = [to(param.low), to(param.high)];
  const width = nSteps > 1 ? (b - a) / (nSteps - 1) : 1;
  const counts = new Array<number>(nSteps).fill(0);
  for (const value of values) {
    if (typeof value !== 'number' || value < param.low || value > param.high) continue;
    // The nearest grid point: the first whose position is >= x - width / 2.
    counts[Math.min(nSteps - 1, Math.max(0, Math.ceil((to(value) - a) / width - 0.5 - 1e-12)))]++;
  }
  return scottGridPdf(counts, opts.priorWeight);
}

/**
 * Probabilities over grid cells 0..m-1 from their counts: Gaussian kernels at the occupied cells weighted by their
 * counts, bandwidth by Scott's rule (in cells, at least 0.5 / 1.64: 90% of a kernel within its cell's ±1/2), plus a
 * prior kernel at the middle of width m, each discretised as its mass over [i - 1/2, i + 1/2] within [-1/2, m - 1/2].
 */
export function scottGridPdf(counts: readonly number[], priorWeight: number): number[] {
  const m = counts.length;
  const cells = counts.map((c, i) => [i, c] as const).filter(([, c]) => c > 0);
  const n = cells.reduce((s, [, c]) => s + c, 0);
  const mus = cells.map(([i]) => i);
  const raw = cells.map(([, c]) => c);
  let sigma = 0.5 / 1.64;
  if (n > 0) {
    const mean = cells.reduce((s, [i, c]) => s + i * c, 0) / n;
    const std = Math.sqrt(cells.reduce((s, [i, c]) => s + (i - mean) ** 2 * c, 0) / Math.max(1, n - 1));
    const cumulative: number[] = [];
    for (const [, c] of cells) cumulative.push((cumulative[cumulative.length - 1] ?? 0) + c);
    const q25 = cumulative.findIndex((c) => c >= Math.floor(n / 4));
    const q75 = cumulative.findIndex((c) => c > Math.floor((3 * n) / 4));
    const iqr = mus[q75 < 0 ? mus.length - 1 : Math.min(mus.length - 1, q75)] - mus[q25];
    sigma = Math.max(sigma, 1.059 * Math.min(iqr / 1.34, std) * n ** -0.2);
  }
  const kernels = [...mus.map((mu) => [mu, sigma] as const), [(m - 1) / 2, m] as const];
  const weights = [...raw, priorWeight];
  const total = weights.reduce((s, w) => s + w, 0);
  const pdf = new Array<number>(m).fill(0);
  kernels.forEach(([mu, s], k) => {
    const logNorm = logGaussMass((-0.5 - mu) / s, (m - 0.5 - mu) / s);
    for (let i = 0; i < m; i++) pdf[i] += (weights[k] / total) * Math.exp(logGaussMass((i - 0.5 - mu) / s, (i + 0.5 - mu) / s) - logNorm);
  });
  return pdf;
}
