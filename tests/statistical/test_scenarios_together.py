"""Scenarios projected together (one demography stream for all) against theory.

The runner projects every scenario of a species in one call of :func:`pva.engine.project_chunks`,
so the scenarios share the chunk's demography stream (besides its environment, catastrophe and
event streams). Each scenario must still be an exact sample of its own model: here a Galton-Watson
process per scenario, whose extinction probabilities are known in closed form, on both engine paths.
Tolerance: z = 4 Monte Carlo SEs, Bonferroni-adjusted over the years and scenarios compared.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pva import engine, kernels
from pva.model import Species
from pva.schedule import Schedule
from pva.streams import single_streams
from pva.testing import assert_mc_close, galton_watson_extinction

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", ["numpy", "numba"])
def test_each_scenario_together_is_its_own_galton_watson_process(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path == "numba":
        pytest.importorskip("numba", reason="the compiled path needs numba (pip install '.[fast]')")
    monkeypatch.setenv(kernels.ENVIRONMENT_VARIABLE, path)
    m, n0, years, R = 1.05, 3, 25, 20_000
    # one stage, no survival, Poisson(m) offspring: a Galton-Watson process (Harris 1963)
    sp = Species(name="gw", stages=("x",), U=((0.0,),), F=((m,),), initial=(n0,))
    neutral = Schedule.neutral(years=years, populations=1, stages=1)
    factors = (1.0, 0.9, 0.7)
    schedules = [
        dataclasses.replace(neutral, fecundity_multiplier=np.full((years, 1, 1), f))
        for f in factors
    ]
    projections = engine.project_chunks(
        sp, schedules, years=years, chunks=((R, single_streams(2024)),), record=()
    )
    tests = len(factors) * years
    for f, p in zip(factors, projections, strict=True):
        extinct = (p.total[:, :, 0] == 0).mean(axis=0)  # P(extinct by year t)
        exact = galton_watson_extinction([m * f] * years, n0)
        se = np.sqrt(np.maximum(exact * (1 - exact), 1 / R) / R)
        assert_mc_close(extinct, exact, se, n_tests=tests)
