"""Criterion A on random walks against closed forms (Monte Carlo, fixed seed, z * MCSE tolerance).

For log-abundance a Gaussian random walk, ``log N_t = log N_0 + mu t + sigma W_t``:

* point-to-point, the reduction over ``L`` years is at least ``r`` exactly when
  ``log(N_L / N_0) <= log(1 - r)``, with ``log(N_L / N_0) ~ Normal(mu L, sigma^2 L)``;
* the least-squares slope ``b`` of ``log N`` on ``t = 0..L`` is a linear combination of the steps,
  ``b = mu + sigma sum_j c_j e_j`` with ``c_j = sum_{k > j} (k - L/2) / S_xx``, so
  ``b ~ Normal(mu, sigma^2 sum_j c_j^2)``, and the fitted reduction ``1 - exp(b L)`` is at least ``r``
  exactly when ``b <= log(1 - r) / L``.

Each gives P(category >= CR, EN, VU, NT under A2 at year L) in closed form: the reduction over the
L years that end there, observed on the replicate's own past (its own future is hindsight and
does not enter a category).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from pva import redlist as rl
from pva.testing import assert_proportion_close

MU, SIGMA, L, R = -0.08, 0.3, 10, 20_000
# A2-A4 thresholds and the NT margin of the default settings
THRESHOLDS = {rl.CR: 0.80, rl.EN: 0.50, rl.VU: 0.30, rl.NT: 0.20}


def _walks(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = MU + SIGMA * rng.standard_normal((R, L))
    log_n = np.log(1e6) + np.concatenate([np.zeros((R, 1)), np.cumsum(steps, axis=1)], axis=1)
    return np.exp(log_n)


def test_point_to_point_a2_matches_the_normal_increment():
    c = rl.classify(
        _walks(20261123),
        generation_length=2.0,  # 3 G = 6 < 10: a 10-year window
        criterion_a="A2",
        settings=rl.RedListSettings(criteria=("A",)),
    )
    cat = c.category[:, L]
    for level, r in THRESHOLDS.items():
        exact = stats.norm.cdf((np.log(1 - r) - MU * L) / (SIGMA * np.sqrt(L)))
        assert_proportion_close(np.mean(cat >= level), exact, R, n_tests=len(THRESHOLDS))


def test_fitted_trend_a2_matches_the_normal_slope():
    c = rl.classify(
        _walks(20261124),
        generation_length=2.0,
        criterion_a="A2",
        settings=rl.RedListSettings(criteria=("A",), reduction_method="fitted"),
    )
    cat = c.category[:, L]
    k = np.arange(L + 1)
    w = (k - k.mean()) / np.sum((k - k.mean()) ** 2)
    # step j (from year j to j + 1) enters every y_k with k > j
    cj = np.array([w[j + 1 :].sum() for j in range(L)])
    sd = SIGMA * np.sqrt(np.sum(cj**2))
    for level, r in THRESHOLDS.items():
        exact = stats.norm.cdf((np.log(1 - r) / L - MU) / sd)
        assert_proportion_close(np.mean(cat >= level), exact, R, n_tests=len(THRESHOLDS))
