"""The engine against theory: branching-process moments, Galton-Watson extinction, random walks,
the diffusion approximation, and a per-individual reference implementation.

Every check compares a Monte Carlo estimate with an exact value (or with an independent simulation)
within z Monte Carlo standard errors, z = 4 Bonferroni-adjusted over the comparisons of a test
(pva.testing; docs/architecture.md, "Tests"). Seeds are fixed so that the tests are deterministic; the tolerance
comes from the SE, so nearly any seed passes and none was chosen.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference  # tests/reference.py: the per-individual reference model
import scipy.stats
from example_species import F3, N3, U3, galton_watson, three_stage

from pva import countpva, engine, outcomes, streams
from pva.model import (
    DensityDependence,
    MatrixSelection,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
)
from pva.simulation import simulate
from pva.testing import assert_mc_close, assert_proportion_close, galton_watson_extinction

U, F, N0 = np.array(U3), np.array(F3), np.array(N3)


# ---------------------------------------------------------------------------------------------------
# demographic stochasticity: moments of the multitype branching process


def test_demographic_mean_and_variance_match_branching_process_moments():
    """With demographic stochasticity alone the population is a multitype Galton-Watson process
    (Harris 1963, ch. II; Caswell 2001, section 15.1): ``E n(t+1) = A E n(t)`` and
    ``Cov n(t+1) = A Cov n(t) A' + sum_j E n_j(t) V_j`` with ``V_j`` the covariance of one stage-j
    individual's contribution: multinomial fate ``diag(u_j) - u_j u_j'`` plus Poisson births
    ``diag(f_j)``."""
    years, replicates = 12, 4000
    ds = simulate(three_stage(), years=years, replicates=replicates, seed=101)
    n = ds["abundance"].isel(population=0).values.astype(float)  # (R, T+1, S)
    A = U + F
    V = [np.diag(U[:, j]) - np.outer(U[:, j], U[:, j]) + np.diag(F[:, j]) for j in range(3)]
    mean, cov = [N0.astype(float)], [np.zeros((3, 3))]
    for _ in range(years):
        m, C = mean[-1], cov[-1]
        mean.append(A @ m)
        cov.append(A @ C @ A.T + sum(m[j] * V[j] for j in range(3)))
    mean_exact = np.array(mean)[1:]
    var_exact = np.array([np.diag(C) for C in cov])[1:]
    sample = n[:, 1:]
    n_tests = 2 * years * 3
    # means: SE = sd / sqrt(R)
    assert_mc_close(
        sample.mean(axis=0),
        mean_exact,
        sample.std(axis=0, ddof=1) / math.sqrt(replicates),
        n_tests=n_tests,
    )
    # variances: SE of the sample variance = sqrt((m4 - s^4) / R)
    centred = sample - sample.mean(axis=0)
    s2 = sample.var(axis=0, ddof=1)
    m4 = (centred**4).mean(axis=0)
    assert_mc_close(s2, var_exact, np.sqrt((m4 - s2**2) / replicates), n_tests=n_tests)


def test_one_stage_poisson_matches_galton_watson_extinction():
    """One stage, no survival, Poisson(m) offspring: a Galton-Watson process whose extinction
    probability by year T is ``f^T(0)^{n0}`` with ``f(s) = exp(m (s - 1))`` (Harris 1963, ch. I)."""
    m, n0, years, replicates = 0.95, 5, 30, 20_000
    ds = simulate(galton_watson(m, n0), years=years, replicates=replicates, seed=2024, record=())
    est = outcomes.extinction_probability(ds["total_abundance"].isel(population=0))
    exact = galton_watson_extinction([m] * years, n0)
    assert_proportion_close(est.estimate.values, exact, replicates, n_tests=years + 1)


# ---------------------------------------------------------------------------------------------------
# the engine against the per-individual reference model


def two_sample_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Chi-square test of homogeneity of two samples of counts, binned at the pooled deciles so that
    every bin is well filled (the binning is symmetric in the two samples, so the test stays valid
    under the null)."""
    pooled = np.concatenate([a, b])
    edges = np.unique(np.quantile(pooled, np.linspace(0, 1, 11)))
    if edges.size <= 2:  # (nearly) constant: compare the two proportions at the single split
        edges = np.array([pooled.min(), pooled.min() + 0.5, pooled.max() + 1])
    bins_a = np.bincount(np.searchsorted(edges[1:-1], a, side="right"), minlength=edges.size - 1)
    bins_b = np.bincount(np.searchsorted(edges[1:-1], b, side="right"), minlength=edges.size - 1)
    table = np.array([bins_a, bins_b])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(scipy.stats.chi2_contingency(table).pvalue)


GOOD_YEAR, BAD_YEAR = (U, F), (U * 0.6, F * 0.5)


@pytest.mark.parametrize(
    ("name", "initial", "capacity", "states"),
    [
        ("ceiling", (6, 3, 2), 30, None),
        ("unbounded-small", (2, 1, 1), math.inf, None),
        ("two-environments-ceiling", (6, 3, 2), 25, (GOOD_YEAR, BAD_YEAR)),
    ],
)
def test_engine_agrees_in_distribution_with_reference(name, initial, capacity, states):
    """Total and adult abundance at years 3, 8 and 15 have the same distribution in the vectorised
    engine as in the one-individual-at-a-time model of tests/reference.py (chi-square p > 1e-3 after
    Bonferroni, as msprime's statistical tests). With these sample sizes the comparison rejects a
    10% change in adult fecundity (p < 1e-8; checked when the test was written)."""
    years, ref_replicates, eng_replicates = 15, 2000, 10_000
    changes: dict[str, object] = {"initial": initial, "mature_stages": ("adult",)}
    if not math.isinf(capacity):
        changes.update(
            carrying_capacity=float(capacity), density_dependence=DensityDependence(kind="ceiling")
        )
    if states is not None:
        changes.update(
            U=None,
            F=None,
            environment=MatrixSelection(
                U=tuple(tuple(map(tuple, u)) for u, _ in states),
                F=tuple(tuple(map(tuple, f)) for _, f in states),
            ),
        )
    species = three_stage(**changes)
    ref = reference.project_reference(
        U if states is None else [u for u, _ in states],
        F if states is None else [f for _, f in states],
        initial,
        years=years,
        replicates=ref_replicates,
        rng=np.random.default_rng(7),
        carrying_capacity=capacity,
    )
    eng = engine.project(
        species,
        years=years,
        replicates=eng_replicates,
        streams=streams.single_streams(8),
        record=("abundance",),
    )
    assert eng.abundance is not None
    engine_n = eng.abundance[:, :, 0, :]
    checks = [(t, stages) for t in (3, 8, 15) for stages in (slice(None), slice(2, 3))]
    for t, stages in checks:
        p = two_sample_p_value(ref[:, t, stages].sum(axis=-1), engine_n[:, t, stages].sum(axis=-1))
        assert p > 1e-3 / len(checks), (name, t, stages, p)
    if not math.isinf(capacity):
        assert engine_n.sum(axis=-1).max() <= capacity
        assert ref.sum(axis=-1).max() <= capacity


# ---------------------------------------------------------------------------------------------------
# environmental stochasticity alone: a random walk in log N


def lognormal_growth_species(mean: float, sd: float, n0: int) -> Species:
    """One stage whose annual growth factor is lognormal with the given mean and SD, no demographic
    stochasticity: ``log N`` is a Gaussian random walk (Lewontin & Cohen 1969)."""
    rates = VitalRates(
        rates=(VitalRate(name="growth", mean=mean, sd=sd, distribution="lognormal"),),
        U=((0.0,),),
        F=(("growth",),),
    )
    return Species(
        name="lognormal walk",
        stages=("all",),
        vital_rates=rates,
        environment=VitalRateStochasticity(rates=("growth",)),
        initial=(n0,),
        demographic_stochasticity=False,
    )


def test_lognormal_environment_gives_a_gaussian_random_walk():
    """``log N_T ~ Normal(log N0 + T mu, T sigma^2)`` with ``sigma^2 = log(1 + cv^2)`` and
    ``mu = log(mean) - sigma^2 / 2``, so ``P(N_T < x)`` is a normal CDF."""
    mean, sd, n0, threshold, replicates = 0.98, 0.25, 200, 60.0, 8000
    years = 40
    ds = simulate(
        lognormal_growth_species(mean, sd, n0), years=years, replicates=replicates, seed=5
    )
    total = ds["total_abundance"].isel(population=0).values
    sigma2 = math.log1p((sd / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    horizons = np.array([5, 10, 20, 30, 40])
    exact = scipy.stats.norm.cdf(
        (math.log(threshold / n0) - horizons * mu) / np.sqrt(horizons * sigma2)
    )
    estimate = (total[:, horizons] < threshold).mean(axis=0)
    assert_proportion_close(estimate, exact, replicates, n_tests=horizons.size)
    # the trajectory growth-rate estimators recover mu and sigma^2 (Dennis et al. 1991)
    growth = outcomes.stochastic_growth_rate(total)
    assert_mc_close(growth.log_lambda, mu, growth.mcse, n_tests=2)
    n_increments = replicates * years
    assert_mc_close(growth.sigma2, sigma2, sigma2 * math.sqrt(2 / n_increments), n_tests=2)


def test_diffusion_first_passage_matches_countpva_extinction_cdf():
    """Brownian motion in log N with drift mu and variance sigma2, simulated exactly at yearly
    points with the Brownian-bridge probability of crossing the threshold between them,
    ``exp(-2 (x_t - b)(x_{t+1} - b) / sigma2)`` (Karatzas & Shreve 1991, section 2.8; Beskos &
    Roberts 2005), has the inverse-Gaussian first-passage CDF of Dennis et al. (1991, eq. 16), which
    :func:`pva.countpva.extinction_cdf` computes."""
    mu, sigma2, n_current, n_threshold, years, replicates = -0.02, 0.04, 100.0, 20.0, 50, 20_000
    rng = np.random.default_rng(31)
    b = math.log(n_threshold)
    x = np.empty((replicates, years + 1))
    x[:, 0] = math.log(n_current)
    x[:, 1:] = x[:, :1] + np.cumsum(rng.normal(mu, math.sqrt(sigma2), (replicates, years)), axis=1)
    above_both = (x[:, :-1] > b) & (x[:, 1:] > b)
    bridge = np.where(above_both, np.exp(-2 * (x[:, :-1] - b) * (x[:, 1:] - b) / sigma2), 1.0)
    crossed = rng.random((replicates, years)) < bridge  # certain when an endpoint is below b
    # a trajectory that has crossed counts as at the threshold from that year on
    hit = np.concatenate(
        [np.zeros((replicates, 1), bool), np.logical_or.accumulate(crossed, axis=1)], axis=1
    )
    abundance = np.where(hit, n_threshold, np.exp(x) + 1.0)
    est = outcomes.quasi_extinction_probability(abundance, n_threshold)
    exact = countpva.extinction_cdf(mu, sigma2, n_current, n_threshold, years)
    assert_proportion_close(est.estimate[1:], exact, replicates, n_tests=years)
