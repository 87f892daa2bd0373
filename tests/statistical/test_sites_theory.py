"""Sites as they are (issue 13, item 3), against theory: the realised between-site correlation of the
environmental draws is the one specified (a matrix, or RAMAS's correlation-distance function of the
sites' coordinates), for matrix selection (through the Gaussian copula: Sheppard's formula for the
agreement of states) and for vital rates; two uncorrelated sites without dispersal are two
independent single-site models; catastrophes keep their own scope whatever the correlation.

Fixed seeds; tolerances are z = 4 Monte Carlo standard errors, Bonferroni-adjusted (pva.testing).
The SE of a sample correlation r of n bivariate-normal pairs is ``(1 - rho^2) / sqrt(n)``
(Fisher 1915; asymptotic), of a proportion the binomial one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pva import engine
from pva.model import (
    Catastrophe,
    Dispersal,
    DispersalKernel,
    MatrixSelection,
    Population,
    SiteCorrelation,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
)
from pva.simulation import simulate
from pva.streams import single_streams
from pva.testing import assert_mc_close, assert_proportion_close

GOOD = ((0.0, 0.0), (0.5, 0.95))
BAD = ((0.0, 0.0), (0.2, 0.5))
FEC_GOOD = ((0.0, 0.9), (0.0, 0.0))
FEC_BAD = ((0.0, 0.3), (0.0, 0.0))
"""A good and a bad year (log growth +0.26 and -0.51), equally likely: extinction by year 25
from 30 individuals is driven by the run of states, so a shared environment loses sites together."""


def two_sites(correlation: SiteCorrelation | None, **changes: object) -> Species:
    fields: dict[str, object] = {
        "name": "two sites",
        "stages": ("juvenile", "adult"),
        "environment": MatrixSelection(U=(GOOD, BAD), F=(FEC_GOOD, FEC_BAD)),
        "populations": (
            Population(name="a", initial=(10, 20), coordinates=(0.0, 0.0)),
            Population(name="b", initial=(10, 20), coordinates=(30.0, 40.0)),
        ),
        "correlation": correlation,
    }
    fields.update(changes)
    return Species(**fields)  # type: ignore[arg-type]


def correlation_of(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x.ravel(), y.ravel())[0, 1])


RHOS = (0.0, 0.5, 0.9)


def test_matrix_selection_scores_have_the_specified_correlation():
    """The normal scores whose Phi picks each site's state have correlation rho, and two
    equiprobable states agree with probability ``1/2 + arcsin(rho) / pi`` (Sheppard 1899)."""
    R, T = 4000, 5
    est, exact, se = [], [], []
    agree, agree_exact = [], []
    for rho in RHOS:
        matrix = ((1.0, rho), (rho, 1.0))
        env = engine.sample_environment(
            two_sites(SiteCorrelation(matrix=matrix)),
            years=T,
            replicates=R,
            rng=np.random.default_rng(int(rho * 10) + 1),
        )
        z = env["score"]
        est.append(correlation_of(z[..., 0], z[..., 1]))
        exact.append(rho)
        se.append((1 - rho**2) / math.sqrt(R * T))
        agree.append(float((env["state"][..., 0] == env["state"][..., 1]).mean()))
        agree_exact.append(0.5 + math.asin(rho) / math.pi)
    n_tests = 2 * len(RHOS)
    assert_mc_close(est, exact, np.maximum(se, 1 / (R * T)), n_tests=n_tests)
    assert_proportion_close(agree, agree_exact, R * T, n_tests=n_tests)


def test_correlation_falls_with_distance_as_specified():
    """Three sites 50, 100 and ~80.6 km apart under ``C = 0.8 exp(-d / 60)``: each pair's
    realised correlation of scores is its ``C_ij``."""
    sp = two_sites(
        SiteCorrelation(scale=60.0, maximum=0.8),
        populations=(
            Population(name="a", initial=(4, 8), coordinates=(0.0, 0.0)),
            Population(name="b", initial=(4, 8), coordinates=(30.0, 40.0)),
            Population(name="c", initial=(4, 8), coordinates=(100.0, 0.0)),
        ),
    )
    R, T = 4000, 4
    z = engine.sample_environment(sp, years=T, replicates=R, rng=np.random.default_rng(7))["score"]
    C = sp.site_correlation
    pairs = [(0, 1), (0, 2), (1, 2)]
    est = [correlation_of(z[..., i], z[..., j]) for i, j in pairs]
    exact = [C[i, j] for i, j in pairs]
    assert exact[0] == pytest.approx(0.8 * math.exp(-50 / 60))
    se = [(1 - r**2) / math.sqrt(R * T) for r in exact]
    assert_mc_close(est, exact, se, n_tests=len(pairs))


def test_vital_rates_have_the_specified_correlation_between_sites():
    """A lognormal fecundity is ``exp(mu + sigma z)``: the correlation of its logarithm between
    two sites is that of the scores, rho; a survival rate that is not listed is drawn
    independently of the fecundity but with the same between-site correlation."""
    rates = VitalRates(
        rates=(
            VitalRate(name="s", mean=0.6, sd=0.1),
            VitalRate(name="f", mean=0.6, sd=0.3, distribution="lognormal"),
        ),
        U=((0.0, 0.0), ("s", 0.8)),
        F=((0.0, "f"), (0.0, 0.0)),
    )
    R, T, rho = 3000, 5, 0.6
    sp = two_sites(
        SiteCorrelation(matrix=((1.0, rho), (rho, 1.0))),
        environment=VitalRateStochasticity(rates=("f",)),
        vital_rates=rates,
    )
    env = engine.sample_environment(sp, years=T, replicates=R, rng=np.random.default_rng(9))
    log_f = np.log(env["f"])
    # the survival's scores, through its beta quantile: Spearman's rho of the Gaussian copula
    s = env["s"]
    ranks = [np.argsort(np.argsort(s[..., p].ravel())) for p in (0, 1)]
    est = [
        correlation_of(log_f[..., 0], log_f[..., 1]),
        correlation_of(*ranks),
        correlation_of(log_f[..., 0], np.log(s[..., 0])),
    ]
    exact = [rho, 6 / math.pi * math.asin(rho / 2), 0.0]
    n = R * T
    # the SE of Spearman's rho under normality is below 1/sqrt(n - 1) (its value at rho = 0)
    se = [(1 - rho**2) / math.sqrt(n), 1 / math.sqrt(n - 1), 1 / math.sqrt(n)]
    assert_mc_close(est, exact, se, n_tests=3)


def test_carrying_capacity_variation_is_correlated_like_the_environment():
    rho, R, T = 0.7, 3000, 5
    sp = two_sites(
        SiteCorrelation(matrix=((1.0, rho), (rho, 1.0))),
        populations=(
            Population(name="a", initial=(4, 8), carrying_capacity=50.0, carrying_capacity_cv=0.3),
            Population(name="b", initial=(4, 8), carrying_capacity=50.0, carrying_capacity_cv=0.3),
        ),
    )
    z = engine.sample_environment(sp, years=T, replicates=R, rng=np.random.default_rng(3))[
        "carrying_capacity_score"
    ]
    assert_mc_close(correlation_of(z[..., 0], z[..., 1]), rho, (1 - rho**2) / math.sqrt(R * T))


def test_two_uncorrelated_sites_without_dispersal_are_two_independent_single_sites():
    """With correlation 0 and no dispersal each site's extinction probability is that of the
    single-site model, and both are lost together with the product of the two; with the default
    shared environment they are lost together more often (the contrast the correlation removes)."""
    R, T = 6000, 25
    independent = simulate(
        two_sites(SiteCorrelation(matrix=((1.0, 0.0), (0.0, 1.0)))), years=T, replicates=R, seed=31
    )
    single = simulate(
        two_sites(None, populations=(Population(name="a", initial=(10, 20)),)),
        years=T,
        replicates=R,
        seed=32,
    )
    lost = independent["total_abundance"].isel(year=T).values == 0  # (R, 2)
    alone = float((single["total_abundance"].isel(year=T, population=0).values == 0).mean())
    p_a, p_b = lost.mean(axis=0)
    both = float(lost.all(axis=1).mean())
    # each site against the single-site model: a difference of two independent proportions
    se_each = math.sqrt(2 * alone * (1 - alone) / R)
    assert_mc_close([p_a, p_b], alone, se_each, n_tests=3)
    assert_proportion_close(both, p_a * p_b, R, n_tests=3)
    shared = simulate(two_sites(None), years=T, replicates=R, seed=33)
    lost_shared = shared["total_abundance"].isel(year=T).values == 0
    assert lost_shared.all(axis=1).mean() > both + 4 * math.sqrt(both * (1 - both) / R)


@pytest.mark.parametrize(("scope", "together"), [("population", False), ("species", True)])
def test_catastrophes_keep_their_scope_under_correlation(scope: str, together: bool):
    """A catastrophe that kills every individual (survival and fecundity x 0) strikes the sites
    independently (scope "population": both lost in year 1 with p^2) or together ("species": p),
    whatever the correlation of the environment (here 0.95)."""
    p, R = 0.3, 8000
    sp = two_sites(
        SiteCorrelation(matrix=((1.0, 0.95), (0.95, 1.0))),
        catastrophes=(
            Catastrophe(
                name="wipe",
                probability=p,
                survival_multiplier=0.0,
                fecundity_multiplier=0.0,
                scope=scope,
            ),
        ),
    )
    ds = simulate(sp, years=1, replicates=R, seed=41)
    lost = ds["total_abundance"].isel(year=1).values == 0
    # a site can also empty by chance without the catastrophe: count only both-lost together
    exact_a = float(lost[:, 0].mean())
    assert_proportion_close(exact_a, p, R, n_tests=2)
    assert_proportion_close(lost.all(axis=1).mean(), p if together else p * p, R, n_tests=2)


# ---------------------------------------------------------------------------------------------------
# dispersal from a distance kernel


def test_one_year_of_dispersal_moves_the_kernels_expected_numbers():
    """Adults that neither die nor breed at three sites, dispersing by RAMAS's kernel
    ``m_ij = 0.3 exp(-d_ij / 80 km)`` with 25% transit mortality: after one year site i holds on
    average ``n_i (1 - sum_k m_ki) + 0.75 sum_j m_ij n_j`` (the expectation of the multinomial
    moves, then binomial transit survival), within Monte Carlo error; and the moves conserve the
    individuals that did not die in transit: losses are binomial with the movers' mortality."""
    coordinates = ((0.0, 0.0), (40.0, 0.0), (100.0, 0.0))
    sp = Species(
        name="movers",
        stages=("adult",),
        U=((1.0,),),
        F=((0.0,),),
        populations=tuple(
            Population(name=f"s{i}", initial=(n,), coordinates=xy)
            for i, (n, xy) in enumerate(zip((300, 100, 50), coordinates, strict=True))
        ),
        dispersal=Dispersal(kernel=DispersalKernel(rate=0.3, scale=80.0), mortality=0.25),
        generation_length=1.0,
    )
    D = sp.dispersal_array
    n0 = np.array([300.0, 100.0, 50.0])
    expected = n0 - D.sum(axis=0) * n0 + 0.75 * D @ n0
    p = engine.project(sp, years=1, replicates=4000, streams=single_streams(17))
    after = p.total[:, 1, :].astype(float)  # (replicates, sites)
    lost = n0.sum() - after.sum(axis=1)
    estimates = [*after.mean(axis=0), lost.mean()]
    ses = [*(after.std(axis=0, ddof=1) / np.sqrt(after.shape[0])), lost.std(ddof=1) / np.sqrt(4000)]
    movers_expected = float((D.sum(axis=0) * n0).sum())
    assert_mc_close(estimates, [*expected, 0.25 * movers_expected], ses, n_tests=4)
