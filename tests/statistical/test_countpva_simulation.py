"""Monte Carlo checks of pva.countpva against direct simulation of the diffusion it assumes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pva import countpva
from pva.testing import assert_mc_close, assert_proportion_close


@pytest.mark.parametrize(("mu", "sigma2"), [(-0.02, 0.04), (0.03, 0.06)])
def test_extinction_cdf_matches_simulated_brownian_motion(mu, sigma2):
    # Direct simulation of log N as Brownian motion with drift (Dennis et al. 1991; Morris & Doak
    # 2002, section 3.2) on a grid of step dt. Checking the threshold only at grid points would
    # miss crossings between them and bias the hitting probability low by O(sqrt(dt)) (Broadie,
    # Glasserman & Kou 1997); instead each step also tests for a crossing inside it with the exact
    # Brownian-bridge probability exp(-2 (x0 - b)(x1 - b) / (sigma2 dt)) (Glasserman 2004,
    # section 6.4), which makes the simulated hitting time exact for any dt.
    rng = np.random.default_rng(20240611)
    paths, years, steps_per_year = 20_000, 30, 4
    dt = 1.0 / steps_per_year
    n_current, n_threshold = 60.0, 20.0
    b = math.log(n_threshold)
    x = np.full(paths, math.log(n_current))
    hit_year = np.full(paths, np.inf)
    for k in range(years * steps_per_year):
        x_new = x + mu * dt + math.sqrt(sigma2 * dt) * rng.standard_normal(paths)
        alive = np.isinf(hit_year)
        below = x_new <= b
        p_bridge = np.exp(
            -2.0 * np.clip(x - b, 0, None) * np.clip(x_new - b, 0, None) / (sigma2 * dt)
        )
        crossed = alive & (below | (rng.random(paths) < p_bridge))
        hit_year[crossed] = (k + 1) * dt  # hit within (k dt, (k+1) dt]
        x = x_new
    t = np.arange(1, years + 1)
    simulated = (hit_year[:, None] <= t[None, :]).mean(axis=0)
    exact = countpva.extinction_cdf(mu, sigma2, n_current, n_threshold, years)
    # At integer years, "hit by step k" == "hit by year t" exactly (steps nest in years).
    assert_proportion_close(simulated, exact, paths, n_tests=years)


def test_fit_is_unbiased_and_intervals_cover_on_uneven_censuses():
    # Simulate censuses from the diffusion at uneven times; the regression of Dennis et al. (1991)
    # gives an unbiased mu and sigma2, and 95% intervals that cover the truth 95% of the time
    # (Morris & Doak 2002, section 3.3).
    rng = np.random.default_rng(7)
    mu, sigma2 = -0.03, 0.05
    years = np.array([0, 1, 2, 4, 5, 8, 9, 10, 13, 14, 15, 17, 20], dtype=float)
    dt = np.diff(years)
    reps = 4000
    steps = mu * dt + np.sqrt(sigma2 * dt) * rng.standard_normal((reps, dt.size))
    logN = math.log(200.0) + np.concatenate([np.zeros((reps, 1)), np.cumsum(steps, axis=1)], axis=1)
    fits = [countpva.fit(np.exp(row), years) for row in logN]
    mus = np.array([f.mu for f in fits])
    s2 = np.array([f.sigma2 for f in fits])
    assert_mc_close(mus.mean(), mu, mus.std(ddof=1) / math.sqrt(reps), n_tests=4)
    assert_mc_close(s2.mean(), sigma2, s2.std(ddof=1) / math.sqrt(reps), n_tests=4)
    cover = [
        np.mean([f.mu_ci[0] <= mu <= f.mu_ci[1] for f in fits]),
        np.mean([f.sigma2_ci[0] <= sigma2 <= f.sigma2_ci[1] for f in fits]),
    ]
    assert_proportion_close(cover, 0.95, reps, n_tests=4)
