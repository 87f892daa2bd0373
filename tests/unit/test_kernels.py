"""The compiled kernels (pva.kernels, numba) give the numbers of the pure-numpy path.

The fate kernel draws from the same Generator in the same order; numba's ``Generator.binomial`` is a
port of numpy's samplers. These tests hold them to identical results: the draws themselves (every
sampler regime and edge case), and whole projections of models that exercise every step of the
engine. The path used is recorded in the results (``attrs["engine_kernels"]``).

The linear kernel (models without demographic stochasticity) multiplies each replicate's state by
its own matrix where the numpy path multiplies by every state's matrix with BLAS: identical where
the BLAS accumulates in the kernel's order, within the rounding bound of a sum otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest
from example_species import sites_with_genetics
from test_engine_paths import (
    acting_schedules,
    linear_models,
    metapopulation,
    replaced,
    schedules_with_everything,
)

from pva import datasets, engine, kernels, results
from pva.model import (
    DensityDependence,
    MatrixSelection,
    Species,
    VitalRateStochasticity,
    hudsonia_vital_rates,
)
from pva.scenario import ExSituProgramme, ExSituRelease, Scenario
from pva.schedule import Schedule
from pva.simulation import simulate
from pva.streams import chunk_streams, single_streams

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


# ---------------------------------------------------------------------------------------------------
# the linear kernel (no demographic stochasticity)

UNIT_ROUNDOFF = 2.0**-53


def gamma(n: int) -> float:
    """Higham's gamma_n = n u / (1 - n u): the relative error bound of a sum of n non-negative
    products in floating point, in any order (Higham 2002, Accuracy and Stability of Numerical
    Algorithms, 2nd ed., section 3.1, eq. 3.5)."""
    return n * UNIT_ROUNDOFF / (1 - n * UNIT_ROUNDOFF)


def hudsonia_expected() -> Species:
    """popbio ``stoch.projection``'s model of *Hudsonia*: the four matrices iid, no demographic
    stochasticity."""
    return Species(
        name="Hudsonia montana",
        stages=tuple(datasets.popbio_document("hudsonia")["stages"]),
        environment=hudsonia_matrices(),
        initial=(4264, 3, 30, 16, 25, 5),
        demographic_stochasticity=False,
    )


def fma_in_stage_order(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``A @ x`` (A (m, S), x (S, N)) summed stage by stage with one rounding per step, computed
    exactly with fractions (a correctly rounded fused multiply-add): the kernel's order."""
    from fractions import Fraction

    out = np.empty((A.shape[0], x.shape[1]))
    for i in range(A.shape[0]):
        for r in range(x.shape[1]):
            acc = 0.0
            for k in range(A.shape[1]):
                acc = float(Fraction(A[i, k]) * Fraction(x[k, r]) + Fraction(acc))
            out[i, r] = acc
    return out


def blas_sums_in_stage_order(sp: Species, replicates: int) -> bool:
    """Whether numpy's BLAS computes a product of the shape of the linear path's (all environmental
    states' matrices of ``sp`` one below the other, times ``replicates`` states) as the kernel
    does, on dense random numbers (zeros would hide a difference)."""
    env = sp.environment
    assert isinstance(env, MatrixSelection)
    rng = np.random.default_rng(0)
    A = rng.random((env.n_states * sp.n_stages, sp.n_stages))
    x = rng.random((sp.n_stages, replicates)) * 1000
    # BLAS kernels differ at the edges: the first and last columns (replicates) tell
    ends = np.r_[0 : min(16, replicates), max(replicates - 16, 0) : replicates]
    return bool(np.array_equal((A @ x)[:, ends], fma_in_stage_order(A, x[:, ends])))


def test_the_kernels_sum_order_is_checked_against_exact_arithmetic() -> None:
    """The reference of the next tests: stage-order fused sums differ from plain mul-then-add sums
    (so the check can tell BLAS kernels apart), and equal them on exactly representable data."""
    rng = np.random.default_rng(5)
    A, x = rng.random((24, 6)), rng.random((6, 64)) * 1000
    naive = np.zeros((24, 64))
    for k in range(6):
        naive = naive + A[:, k : k + 1] * x[k]
    assert not np.array_equal(fma_in_stage_order(A, x), naive)
    small = np.round(A * 8) / 8, np.round(x)  # products and sums exact in float64
    np.testing.assert_array_equal(fma_in_stage_order(*small), small[0] @ small[1])


@pytest.mark.parametrize("replicates", [64, 2048 + 8])
def test_linear_kernel_equals_the_numpy_path_where_blas_sums_in_stage_order(
    replicates: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """popbio's model of Hudsonia, 60 years: where numpy's BLAS sums each product stage by stage with
    fused multiply-adds (OpenBLAS on x86-64 with FMA does, for these numbers of replicates), the
    kernel's projection is the numpy path's, bit for bit; elsewhere within the rounding bound."""
    sp = hudsonia_expected()
    years = 60
    on_numpy, compiled = both_paths(
        monkeypatch,
        lambda: simulate(sp, years=years, replicates=replicates, seed=9, record=("abundance",)),
    )
    exact = blas_sums_in_stage_order(sp, replicates)
    for name in (results.MATURE, results.TOTAL, results.ABUNDANCE):
        a, b = on_numpy[name].values, compiled[name].values
        if exact:
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, rtol=3 * (years + 1) * gamma(6), atol=0, err_msg=name)
    assert np.ptp(on_numpy[results.TOTAL].values[:, -1]) > 0  # the replicates differ


def kernel_models() -> dict[str, Species]:
    """The linear models, and two populations without dispersal (the kernel's blocks)."""
    models = linear_models()
    models["two populations"] = models["two populations, dispersal"].with_(dispersal=None)
    return models


@pytest.mark.parametrize("name", list(kernel_models()))
def test_linear_kernel_agrees_with_the_numpy_path_within_rounding(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every linear model, an odd number of replicates (BLAS's edge kernels sum in another order),
    no action and multipliers that change each year (survival capped above 1): each year multiplies
    non-negative states by non-negative matrices, so each path is within (1 + gamma_S)^T of the exact
    trajectory and the two within 2 T gamma_S of each other (to first order; mature and total are
    one more sum)."""
    sp = kernel_models()[name]
    years, R = 30, 37
    P, S = sp.n_populations, sp.n_stages
    neutral = Schedule.neutral(years=years, populations=P, stages=S)
    ramp = np.linspace(0.5, 1.6, years)[:, None, None] * np.ones((years, P, S))
    varying = replaced(neutral, survival_multiplier=ramp, fecundity_multiplier=ramp[::-1].copy())
    schedules = [neutral, varying]
    record = ("abundance", "carrying_capacity")

    def run() -> list[engine.Projection]:
        return engine.project_chunks(
            sp, schedules, years=years, chunks=((R, single_streams(3)),), record=record
        )

    on_numpy, compiled = both_paths(monkeypatch, run)
    tolerance = 2.1 * (years + 1) * gamma(S)
    for a, b in zip(on_numpy, compiled, strict=True):
        for field in ("mature", "total", "abundance"):
            np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=tolerance, atol=0)
        np.testing.assert_array_equal(a.carrying_capacity, b.carrying_capacity)
    assert on_numpy[1].total[:, -1].sum() > 0


@pytest.mark.parametrize("name", list(linear_models()))
def test_linear_kernel_with_acting_years_agrees_with_the_numpy_path(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Harvests, releases and translocations in some years: those years take the numpy path's step,
    the others the kernel; the projections agree as the linear path agrees with the general year
    step (subtractions can lose relative precision, so the tolerance of that test)."""
    sp = linear_models()[name]
    years = 30
    schedules = acting_schedules(sp, years)
    pulses = np.zeros((years, sp.n_populations, sp.n_stages))
    pulses[::6] = 2.0
    # act in some years only, so that the kernel runs the years between
    schedules[1] = replaced(
        schedules[1],
        harvest_proportion=pulses / 10,
        harvest_number=pulses / 2,
        release_number=pulses,
    )

    def run() -> list[engine.Projection]:
        return engine.project_chunks(
            sp, schedules, years=years, chunks=((41, single_streams(4)),), record=("abundance",)
        )

    on_numpy, compiled = both_paths(monkeypatch, run)
    for a, b in zip(on_numpy, compiled, strict=True):
        for field in ("mature", "total", "abundance"):
            np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-12, atol=1e-9)
    assert not np.array_equal(on_numpy[0].total, on_numpy[1].total)  # the actions did something


def test_linear_kernel_chunks_together_equal_chunks_alone_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kernel computes each replicate on its own: a chunk projected with others (pva.simulate)
    gives the numbers it gives alone (a runner task), to the last bit, whatever the chunk sizes."""
    monkeypatch.setenv(kernels.ENVIRONMENT_VARIABLE, "numba")
    sp = linear_models()["Markov matrices"]
    years, sizes = 25, (13, 8, 3)
    chunks = [(size, chunk_streams(5, sp.name, k)) for k, size in enumerate(sizes)]
    (together,) = engine.project_chunks(sp, (None,), years=years, chunks=chunks)
    alone = [
        engine.project(sp, years=years, replicates=size, streams=chunk_streams(5, sp.name, k))
        for k, size in enumerate(sizes)
    ]
    for field in ("mature", "total", "abundance"):
        joined = np.concatenate([getattr(p, field) for p in alone])
        np.testing.assert_array_equal(getattr(together, field), joined, err_msg=field)
    assert np.unique(together.total[:, -1].round(6)).size > 1


@pytest.mark.parametrize("years", [1, 2, 50])
def test_environment_states_equal_the_numpy_states(years: int) -> None:
    """The compiled inverse CDF of iid years gives the states of the numpy path, uniforms on the
    boundaries between states included (they choose the next state)."""
    h = datasets.popbio_document("hudsonia")
    reproduction = np.zeros((6, 6), dtype=bool)
    reproduction[:2, 2:] = True
    env = MatrixSelection.from_matrices(
        [h["matrices"][k] for k in h["names"]],
        reproduction=reproduction,
        probabilities=(0.1, 0.2, 0.3, 0.4),
    )
    sp = hudsonia_expected().with_(environment=env)
    u = np.random.default_rng(2).random((years, 500))
    cum = np.cumsum(env.weights)
    u[:, :3] = cum[:3]  # exactly on a boundary
    plan = engine._plan(sp, 500)
    environment = engine._Environment(sp, 500, np.random.default_rng(0), plan.fates, plan.f_rows)
    expected = environment.states(u)
    out = np.empty(u.shape, dtype=np.uint8)
    kernels.environment_states(u, np.cumsum(env.initial_probabilities), cum, out)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out[:, :3], np.broadcast_to([1, 2, 3], (years, 3)))
    assert set(np.unique(out)) == {0, 1, 2, 3}
