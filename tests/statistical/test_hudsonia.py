"""*Hudsonia montana* (Morris & Doak 2002, Table 6.7; popbio's ``hudsonia``): the engine's stochastic
growth rate and quasi-extinction CDF under iid matrix selection, against pva.analysis and against
popbio's ``stoch.quasi.ext`` algorithm (Morris & Doak 2002, Box 7.5).
"""

from __future__ import annotations

import math

import numpy as np
from example_species import HUDSONIA_N0, hudsonia, hudsonia_matrices

from pva import analysis, engine, outcomes, streams
from pva.testing import assert_mc_close, proportion_se

MATRICES = hudsonia_matrices()
"""The four annual matrices 1985-88; the engine draws them iid with equal probabilities and, as
popbio's stoch.projection and stoch.quasi.ext, without demographic stochasticity."""


def test_simulated_growth_rate_agrees_with_analysis():
    """log λs from engine trajectories (pooled one-year log growth after 50 transient years) agrees
    with :func:`pva.analysis.stochastic_growth_rate`'s long single-run estimate within the two
    Monte Carlo SEs (z = 4)."""
    species, matrices = hudsonia(demographic_stochasticity=False), MATRICES
    projection = engine.project(
        species, years=550, replicates=200, streams=streams.single_streams(1985), record=()
    )
    ours = outcomes.stochastic_growth_rate(projection.total[:, :, 0], start=50)
    theirs = analysis.stochastic_growth_rate(matrices, seed=1988, years=50_000)
    se = math.hypot(float(ours.mcse), theirs.se)
    assert abs(float(ours.log_lambda) - theirs.simulated) <= 4.0 * se, (ours, theirs)


def box_7_5_quasi_extinction(
    matrices: list[np.ndarray],
    n0: tuple[int, ...],
    *,
    threshold: float,
    sumweight: np.ndarray,
    years: int,
    replicates: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Morris & Doak (2002) Box 7.5 as popbio's ``stoch.quasi.ext`` implements it: each year pick one
    matrix at random, ``n <- A n``, and call the replicate quasi-extinct the first year in which
    ``sum(sumweight * round(n)) < threshold``; return the cumulative fraction by year 1..years.
    Written independently of the engine (vectorised over replicates only)."""
    stack = np.stack(matrices)
    n = np.tile(np.asarray(n0, dtype=float), (replicates, 1))
    first = np.full(replicates, years + 1)
    for t in range(1, years + 1):
        choice = rng.integers(len(matrices), size=replicates)
        n = np.einsum("rij,rj->ri", stack[choice], n)
        counted = (np.round(n) * sumweight).sum(axis=1)
        newly = (counted < threshold) & (first > years)
        first[newly] = t
    return np.array([(first <= t).mean() for t in range(1, years + 1)])


def test_quasi_extinction_cdf_matches_popbio_stoch_quasi_ext():
    """popbio's ``stoch.quasi.ext`` example: ``Nx = 10`` above-ground plants (``sumweight`` excludes
    seeds), 50 years, the four matrices iid with equal probabilities. The engine's trajectories, read
    through :func:`pva.outcomes.quasi_extinction_probability` with the same counting rule (``round``,
    strict ``<``), give the same CDF as Box 7.5 at years 10, 20, ..., 50 (two-proportion z-tests,
    z = 4 Bonferroni-adjusted)."""
    species, matrices = hudsonia(demographic_stochasticity=False), MATRICES
    years, replicates = 50, 10_000
    projection = engine.project(
        species,
        years=years,
        replicates=replicates,
        streams=streams.single_streams(2002),
        record=("abundance",),
    )
    assert projection.abundance is not None
    above_ground = np.round(projection.abundance[:, 1:, 0, 1:]).sum(axis=-1)  # years 1..50
    # popbio counts N < Nx on rounded numbers: N <= Nx - 1 on integers
    ours = outcomes.quasi_extinction_probability(above_ground, 10 - 1).estimate
    box = box_7_5_quasi_extinction(
        matrices,
        HUDSONIA_N0,
        threshold=10,
        sumweight=np.array([0, 1, 1, 1, 1, 1]),
        years=years,
        replicates=replicates,
        rng=np.random.default_rng(2002),
    )
    checks = np.array([10, 20, 30, 40, 50])
    p1, p2 = ours[checks - 1], box[checks - 1]
    # two independent estimates of one probability: the SE of their difference is sqrt(2) times
    # that of one, at the pooled estimate
    se = np.sqrt(2) * proportion_se((p1 + p2) / 2, replicates)
    assert_mc_close(p1 - p2, 0.0, se, n_tests=checks.size)
    # a real test: by year 50 a substantial share of runs fall below 10 above-ground plants
    assert 0.05 < p1[-1] < 0.95
