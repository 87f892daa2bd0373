"""The compiled fate kernel (pva.kernels, numba) draws exactly the numbers of the pure-numpy path.

Both paths draw from the same Generator in the same order; numba's ``Generator.binomial`` is a port
of numpy's samplers. These tests hold them to identical results: the draws themselves (every
sampler regime and edge case), and whole projections of models that exercise every step of the
engine. The path used is recorded in the results (``attrs["engine_kernels"]``).
"""

from __future__ import annotations

import numpy as np
import pytest
from example_species import sites_with_genetics
from test_engine_paths import metapopulation, schedules_with_everything

from pva import datasets, engine, kernels, results
from pva.model import (
    DensityDependence,
    MatrixSelection,
    Species,
    VitalRateStochasticity,
    hudsonia_vital_rates,
)
from pva.scenario import ExSituProgramme, ExSituRelease, Scenario
from pva.simulation import simulate
from pva.streams import single_streams

pytest.importorskip("numba", reason="the compiled path needs numba (pip install '.[fast]')")


def both_paths(monkeypatch: pytest.MonkeyPatch, call):  # type: ignore[no-untyped-def]
    """``call()`` on the numpy path and on the compiled path."""
    monkeypatch.setenv(kernels.ENVIRONMENT_VARIABLE, "numpy")
    assert not kernels.enabled()
    on_numpy = call()
    monkeypatch.setenv(kernels.ENVIRONMENT_VARIABLE, "numba")
    assert kernels.enabled()
    return on_numpy, call()


def assert_same_projection(a: engine.Projection, b: engine.Projection) -> None:
    for field in ("mature", "total", "abundance", "carrying_capacity"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None) == (y is None), field
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=field)


# ---------------------------------------------------------------------------------------------------
# the draws


def fates_of(u_pattern: np.ndarray) -> engine._Fates:
    return engine._fates(u_pattern)


@pytest.mark.parametrize(
    "trials",
    [
        pytest.param((0, 40), id="small counts (inversion)"),
        pytest.param((0, 5_000), id="large counts (BTPE)"),
        pytest.param((10**6, 2 * 10**6), id="millions"),
    ],
)
def test_fate_draws_equal_numpy_draws(trials: tuple[int, int]) -> None:
    """Random counts and probabilities (some 0, some 1, columns summing to 1, rounding above it) on a
    full 5-stage pattern: identical survivors, and the generator left in the same state."""
    S, N = 5, 4_000
    rng = np.random.default_rng(1)
    pattern = rng.random((S, S)) < 0.7
    pattern[:, 0] = True  # one stage with every destination
    pattern[:, 1] = False  # one stage that always dies
    fates = fates_of(pattern)
    n = rng.integers(*trials, size=(N, S))
    n[::17] = 0
    raw = rng.random((N, S, S)) * pattern
    raw /= np.maximum(raw.sum(axis=1, keepdims=True), 1e-300)  # columns summing to 1
    raw[::3] *= rng.random((N // 3 + 1, 1, S))[: raw[::3].shape[0]]  # some below 1
    raw[5::11, 0, 0] = 0.0
    raw[7::13] = np.where(pattern, 1.0, 0.0)[None]  # probability 1 (clipped conditionals)
    p = raw[:, fates.destination, fates.source]
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    numpy_path = engine._by_destination(engine._draw_fates(a, n, p, fates), fates, S)
    compiled = kernels.fates(b, n, p, fates.sources, fates.levels, fates.destination)
    np.testing.assert_array_equal(numpy_path, compiled)
    assert a.random() == b.random()  # the stream was left where numpy leaves it
    # fates conserve individuals: nobody is counted twice
    assert np.all(compiled.sum(axis=1) <= n.sum(axis=1))


def test_negative_and_tiny_probabilities_are_clipped_alike() -> None:
    """Vital-rate draws can give an entry slightly below 0; both paths clip it to 0."""
    pattern = np.ones((3, 3), dtype=bool)
    fates = fates_of(pattern)
    n = np.full((50, 3), 30)
    p = np.tile(np.array([-0.02, 0.3, 1e-320, 0.5, 0.5, 0.2, 0.0, 0.7, 0.31]), (50, 1))
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    numpy_path = engine._by_destination(engine._draw_fates(a, n, p, fates), fates, 3)
    compiled = kernels.fates(b, n, p, fates.sources, fates.levels, fates.destination)
    np.testing.assert_array_equal(numpy_path, compiled)


# ---------------------------------------------------------------------------------------------------
# whole projections


def hudsonia_matrices() -> MatrixSelection:
    h = datasets.popbio_document("hudsonia")
    reproduction = np.zeros((6, 6), dtype=bool)
    reproduction[:2, 2:] = True
    return MatrixSelection.from_matrices(
        [h["matrices"][k] for k in h["names"]], reproduction=reproduction, names=h["names"]
    )


def hudsonia_ceiling() -> Species:
    return Species(
        name="Hudsonia montana",
        stages=tuple(datasets.popbio_document("hudsonia")["stages"]),
        environment=hudsonia_matrices(),
        initial=(4264, 3, 30, 16, 25, 5),
        carrying_capacity=500.0,
        density_dependence=DensityDependence(kind="ceiling", weights=(0, 1, 1, 1, 1, 1)),
    )


def hudsonia_vital_rate_draws() -> Species:
    table = datasets.popbio_table("hudvrs")
    rows = [(r["rate"], float(r["mean"]), float(r["var"])) for r in table]
    corrs = datasets.popbio_document("hudcorrs")
    env = VitalRateStochasticity(
        rates=tuple(corrs["rates"]),
        correlation=corrs["corrin"],
        between_year_correlation=corrs["corrout"],
    )
    return hudsonia_ceiling().with_(vital_rates=hudsonia_vital_rates(rows), environment=env)


@pytest.mark.parametrize(
    "make",
    [hudsonia_ceiling, hudsonia_vital_rate_draws, metapopulation],
    ids=["matrix selection, ceiling", "vital rates", "metapopulation, every step"],
)
def test_projections_are_identical_on_both_paths(make, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    sp = make()
    years = 40
    schedules = schedules_with_everything(sp, years)

    def run() -> list[engine.Projection]:
        return engine.project_chunks(
            sp,
            schedules,
            years=years,
            chunks=((300, single_streams(11)), (77, single_streams(12))),
            record=("abundance", "carrying_capacity"),
        )

    on_numpy, compiled = both_paths(monkeypatch, run)
    for a, b in zip(on_numpy, compiled, strict=True):
        assert_same_projection(a, b)
    assert on_numpy[0].total.sum() > 0  # not a trivial extinction


def test_the_path_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    sp = Species(name="herb", stages=("a",), U=((0.5,),), F=((0.6,),), initial=(10,))
    on_numpy, compiled = both_paths(
        monkeypatch, lambda: simulate(sp, years=5, replicates=20, seed=3)
    )
    assert on_numpy.attrs[results.ATTR_KERNELS] == "numpy"
    assert compiled.attrs[results.ATTR_KERNELS].startswith("numba ")
    np.testing.assert_array_equal(on_numpy[results.ABUNDANCE], compiled[results.ABUNDANCE])


def test_genetics_sites_and_captivity_are_identical_on_both_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sp = sites_with_genetics()
    years = 30
    captive = Scenario(
        "zoo",
        (
            ExSituProgramme(
                name="zoo", founders={"adult": 4}, capacity=30.0, fecundity_multiplier=1.5
            ),
            ExSituRelease(
                name="out", source="zoo", individuals={"juvenile": 3}, start=4, population="s2"
            ),
        ),
    ).compile(sp, years=years)
    schedules = [*schedules_with_everything(sp, years), captive]

    def run() -> list[engine.Projection]:
        return engine.project_chunks(
            sp,
            schedules,
            years=years,
            chunks=((300, single_streams(13)), (77, single_streams(14))),
            record=("abundance",),
        )

    on_numpy, compiled = both_paths(monkeypatch, run)
    for a, b in zip(on_numpy, compiled, strict=True):
        assert_same_projection(a, b)
        for field in ("gene_diversity", "captive", "captive_gene_diversity"):
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None) == (y is None), field
            if x is not None:
                np.testing.assert_array_equal(x, y, err_msg=field)
    assert on_numpy[2].captive is not None
    assert on_numpy[0].total.sum() > 0
