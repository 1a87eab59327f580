# Reference densities of TPE's Parzen estimators for small hand-checked cases, written with scipy.stats.truncnorm
# (independent of our erfc-based code), following Optuna's univariate rules (optuna/samplers/_tpe/parzen_estimator.py):
# kernel means = observations (+ the prior at the middle of the range), bandwidth = larger gap to a neighbour among
# [low, sorted means with the prior's, high], outermost kernels their inner gap, clipped to
# [(high - low) / min(100, n + 2), high - low]; prior bandwidth = high - low; weights 1 per observation + 1 prior.
# Run: python3 make_parzen_reference.py > parzen_reference.json
import json
import math

import numpy as np
from scipy.stats import truncnorm


def kernels(obs, low, high):
    prior_mu = 0.5 * (low + high)
    allm = list(obs) + [prior_mu]
    order = sorted(range(len(allm)), key=lambda i: (allm[i], i))
    s = [low] + [allm[i] for i in order] + [high]
    m = len(allm)
    sig_sorted = [max(s[i + 1] - s[i], s[i + 2] - s[i + 1]) for i in range(m)]
    if len(s) >= 4:
        sig_sorted[0] = s[2] - s[1]
        sig_sorted[m - 1] = s[m] - s[m - 1]
    sig = [0.0] * m
    for pos, orig in enumerate(order):
        sig[orig] = sig_sorted[pos]
    lo, hi = (high - low) / min(100.0, len(obs) + 2), high - low
    sig = [min(hi, max(lo, x)) for x in sig[: len(obs)]]
    return list(obs) + [prior_mu], sig + [high - low]


def continuous_log_pdf(x, obs, low, high, log=False):
    t = math.log if log else (lambda v: v)
    lo, hi = t(low), t(high)
    mus, sigmas = kernels([t(o) for o in obs], lo, hi)
    w = np.ones(len(mus)) / len(mus)
    dens = sum(wk * truncnorm.pdf(t(x), (lo - mu) / s, (hi - mu) / s, loc=mu, scale=s) for wk, mu, s in zip(w, mus, sigmas))
    return math.log(dens), mus, sigmas


def discrete_log_pdf(x, obs, low, high, step):
    lo, hi = low - step / 2, high + step / 2
    mus, sigmas = kernels(obs, lo, hi)
    w = np.ones(len(mus)) / len(mus)
    p = 0.0
    for wk, mu, s in zip(w, mus, sigmas):
        a, b = (lo - mu) / s, (hi - mu) / s
        p += wk * (truncnorm.cdf(x + step / 2, a, b, loc=mu, scale=s) - truncnorm.cdf(x - step / 2, a, b, loc=mu, scale=s))
    return math.log(p), mus, sigmas


def categorical_probs(indices, n_choices, prior_weight=1.0):
    n_kernels = len(indices) + 1
    rows = np.full((n_kernels, n_choices), prior_weight / n_kernels)
    for k, i in enumerate(indices):
        rows[k, i] += 1
    rows /= rows.sum(axis=1, keepdims=True)
    w = np.ones(n_kernels) / n_kernels
    return (w @ rows).tolist()


cases = []
obs = [2.0, 3.0, 7.5]
for x in [0.0, 2.5, 5.0, 9.9]:
    lp, mus, sig = continuous_log_pdf(x, obs, 0.0, 10.0)
    cases.append({"kind": "float", "low": 0, "high": 10, "obs": obs, "x": x, "logPdf": lp, "mus": mus, "sigmas": sig})
obs_log = [1e-3, 2e-3]
for x in [1e-4, 1.5e-3, 1e-2]:
    lp, mus, sig = continuous_log_pdf(x, obs_log, 1e-4, 1e-2, log=True)
    cases.append({"kind": "float-log", "low": 1e-4, "high": 1e-2, "obs": obs_log, "x": x, "logPdf": lp, "mus": mus, "sigmas": sig})
obs_int = [32, 64, 64]
for x in [32, 96, 256]:
    lp, mus, sig = discrete_log_pdf(x, obs_int, 32, 256, 32)
    cases.append({"kind": "int-step", "low": 32, "high": 256, "step": 32, "obs": obs_int, "x": x, "logPdf": lp, "mus": mus, "sigmas": sig})
cats = {"kind": "categorical", "choices": 3, "obs": [0, 0, 2], "probs": categorical_probs([0, 0, 2], 3)}
print(json.dumps({"numeric": cases, "categorical": cats}, indent=1))
