"""Monte Carlo estimates of the stochastic growth rate (pva.analysis.stochastic_growth_rate) against
an exact value (matrices that are multiples of one matrix) and against an independent estimator
(independent replicate runs), on popbio's *Hudsonia montana* matrices (Morris & Doak 2002, Table 6.7;
Caswell 2001, section 14.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from example_species import hudsonia_matrices

from pva import analysis, datasets

HUDSONIA = dict(
    zip(datasets.popbio_document("hudsonia")["names"], hudsonia_matrices(), strict=True)
)
"""popbio's four annual matrices 1985-88 by name."""


def test_simulated_stochastic_growth_is_exact_for_scaled_matrices():
    # If A_m = c_m B, the product of T matrices is (Π c_m) B^T, so log λs = Σ p_m log c_m + log λ(B)
    # exactly (Caswell 2001, section 14.3; Furstenberg-Kesten). Check the estimate and its 95%
    # interval within 4 MC standard errors.
    B = HUDSONIA["A86"]
    c = np.array([0.7, 1.0, 1.3])
    p = np.array([0.2, 0.5, 0.3])
    exact = float(p @ np.log(c)) + math.log(analysis.growth_rate(B))
    res = analysis.stochastic_growth_rate([ci * B for ci in c], p, years=20_000, seed=2024)
    assert abs(res.simulated - exact) <= 4 * res.se
    # The SE of the mean of iid log c draws is known in closed form here.
    sd = math.sqrt(float(p @ np.log(c) ** 2) - float(p @ np.log(c)) ** 2)
    assert res.se == pytest.approx(sd / math.sqrt(20_000), rel=0.35)  # batch-means SE, 49 df
    assert res.ci[0] < res.simulated < res.ci[1]


def test_hudsonia_simulated_matches_independent_replicate_simulation():
    # Morris & Doak 2002 (Box 7.4) and popbio's stoch.growth.rate example analyse these four
    # matrices with equal probabilities; their printed estimates were not available to us, so we
    # check against an independent estimator: log||A_T ... A_1 n0|| / T over 400 independent
    # replicates of T = 250 years each (Caswell 2001, section 14.3), whose SE comes from the spread
    # across replicates; the transient bias of starting at the mean matrix's w is O(1/T) and is
    # removed by a 50-year burn-in.
    mats = np.array([HUDSONIA[k] for k in ("A85", "A86", "A87", "A88")])
    res = analysis.stochastic_growth_rate(list(mats), years=100_000, seed=11)
    rng = np.random.default_rng(7)
    reps, T, burn = 400, 250, 50
    n = np.tile(analysis.stable_stage(mats.mean(0)), (reps, 1))
    total = np.zeros(reps)
    for t in range(burn + T):
        k = rng.integers(0, 4, size=reps)
        n = np.einsum("rij,rj->ri", mats[k], n)
        s = n.sum(1)
        if t >= burn:
            total += np.log(s)
        n /= s[:, None]
    est = total / T
    ref, ref_se = est.mean(), est.std(ddof=1) / math.sqrt(reps)
    se = math.hypot(res.se, ref_se)
    assert abs(res.simulated - ref) <= 4 * se, (res.simulated, ref, se)
    # Tuljapurkar's approximation is close for these mild fluctuations (Morris & Doak 2002, p. 7.2)
    assert abs(res.tuljapurkar - res.simulated) < 0.01
