"""Hypothesis properties of the engine's paths over random small valid specifications: the compiled
fate kernel draws the numbers of the numpy path, and the linear fast path computes what the general
year step computes."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pva import engine, kernels
from pva.model import Species
from pva.schedule import Schedule
from pva.streams import single_streams
from pva.testing.strategies import species


def _projections(sp: Species, seed: int, path: str) -> list[engine.Projection]:
    before = os.environ.get(kernels.ENVIRONMENT_VARIABLE)
    os.environ[kernels.ENVIRONMENT_VARIABLE] = path
    try:
        neutral = Schedule.neutral(years=6, populations=sp.n_populations, stages=sp.n_stages)
        harvest = Schedule.neutral(years=6, populations=sp.n_populations, stages=sp.n_stages)
        harvest = type(harvest)(
            **{
                **{f: getattr(harvest, f) for f in harvest.__dataclass_fields__},
                "survival_multiplier": np.full((6, sp.n_populations, sp.n_stages), 0.8),
            }
        )
        return engine.project_chunks(
            sp,
            [neutral, harvest],
            years=6,
            chunks=((9, single_streams(seed)), (4, single_streams(seed + 1))),
            record=("abundance",),
        )
    finally:
        if before is None:
            del os.environ[kernels.ENVIRONMENT_VARIABLE]
        else:
            os.environ[kernels.ENVIRONMENT_VARIABLE] = before


@settings(deadline=None, max_examples=40)
@given(sp=species(), seed=st.integers(0, 2**31))
def test_compiled_and_numpy_paths_draw_the_same_numbers(sp: Species, seed: int) -> None:
    pytest.importorskip("numba", reason="the compiled path needs numba (pip install '.[fast]')")
    for a, b in zip(_projections(sp, seed, "numpy"), _projections(sp, seed, "numba"), strict=True):
        np.testing.assert_array_equal(a.abundance, b.abundance)  # type: ignore[arg-type]
        np.testing.assert_array_equal(a.mature, b.mature)


@settings(deadline=None, max_examples=40)
@given(sp=species(), seed=st.integers(0, 2**31))
def test_linear_path_computes_the_general_step(sp: Species, seed: int) -> None:
    sp = sp.with_(
        demographic_stochasticity=False,
        density_dependence=None,
        catastrophes=(),
        populations=tuple(
            dataclasses.replace(p, carrying_capacity=None, carrying_capacity_cv=0.0)
            for p in sp.all_populations
        ),
    )
    neutral = Schedule.neutral(years=6, populations=sp.n_populations, stages=sp.n_stages)
    assume(engine._is_linear(sp, [neutral]))
    fast = engine._project_linear(
        sp, [neutral], 6, ((7, single_streams(seed)),), ("abundance",), None, 0
    )
    general = engine._project(
        sp, [neutral], 6, ((7, single_streams(seed)),), ("abundance",), None, 0
    )
    np.testing.assert_allclose(fast[0].abundance, general[0].abundance, rtol=1e-12, atol=1e-12)  # type: ignore[arg-type]
