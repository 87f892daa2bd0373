"""Hypothesis properties of pva.engine.project over random small valid specifications
(:mod:`pva.testing.strategies`)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pva.engine import project
from pva.model import Population, Species
from pva.schedule import Schedule, Transfer
from pva.streams import single_streams
from pva.testing import strategies as pst


@settings(deadline=None, max_examples=60)
@given(sp=pst.species(), seed=st.integers(0, 2**32 - 1), years=st.integers(1, 8))
def test_abundances_are_finite_non_negative_integers(sp: Species, seed: int, years: int) -> None:
    p = project(
        sp,
        years=years,
        replicates=7,
        streams=single_streams(seed),
        record=("abundance", "carrying_capacity"),
    )
    assert p.abundance is not None
    assert p.abundance.dtype == np.int64
    assert p.abundance.min() >= 0
    np.testing.assert_array_equal(p.total, p.abundance.sum(axis=-1))
    assert np.all(p.mature <= p.total)
    dd = sp.density_dependence
    if dd is not None and dd.ceiling:
        assert p.carrying_capacity is not None
        assert np.all(p.abundance[:, 1:].sum(axis=-1) <= np.floor(p.carrying_capacity[:, 1:]) + 0)
    # once extinct everywhere, extinct for ever (no releases here)
    gone = p.total.sum(axis=-1) == 0
    assert not np.any(gone[:, :-1] & ~gone[:, 1:])


@settings(deadline=None, max_examples=30)
@given(sp=pst.species(), seed=st.integers(0, 2**32 - 1))
def test_same_seed_same_trajectory(sp: Species, seed: int) -> None:
    a = project(sp, years=5, replicates=4, streams=single_streams(seed))
    b = project(sp, years=5, replicates=4, streams=single_streams(seed))
    np.testing.assert_array_equal(a.abundance, b.abundance)  # type: ignore[arg-type]


@settings(deadline=None, max_examples=40)
@given(sp=pst.species(births=False), seed=st.integers(0, 2**32 - 1))
def test_survival_only_never_grows(sp: Species, seed: int) -> None:
    """Without reproduction nobody is added, stochastic or not (harvest only removes)."""
    p = project(sp, years=6, replicates=5, streams=single_streams(seed))
    assert np.all(np.diff(p.total.sum(axis=-1), axis=1) <= 0)
    q = project(
        sp.with_(demographic_stochasticity=False),
        years=6,
        replicates=5,
        streams=single_streams(seed),
    )
    assert np.all(np.isfinite(q.total))
    assert np.all(
        np.diff(q.total.sum(axis=-1), axis=1) <= 1e-9 * (1 + q.total.sum(axis=-1)[:, :-1])
    )


@settings(deadline=None, max_examples=30)
@given(
    sp=pst.species(),
    seed=st.integers(0, 2**32 - 1),
    h=st.floats(0.0, 1.0),
    rel=st.floats(0.0, 20.0),
    rs=pst.probabilities,
)
def test_any_schedule_keeps_counts_valid(
    sp: Species, seed: int, h: float, rel: float, rs: float
) -> None:
    years = 4
    shape = (years, sp.n_populations, sp.n_stages)
    s = Schedule.neutral(years=years, populations=sp.n_populations, stages=sp.n_stages)
    sched = Schedule(
        survival_multiplier=np.full(shape, 1.3),
        fecundity_multiplier=s.fecundity_multiplier,
        carrying_capacity_multiplier=s.carrying_capacity_multiplier,
        harvest_proportion=np.full(shape, h),
        harvest_number=np.full(shape, 2.0),
        release_number=np.full(shape, rel),
        release_survival=np.full(shape, rs),
    )
    p = project(sp, sched, years=years, replicates=6, streams=single_streams(seed))
    assert p.abundance is not None
    assert p.abundance.min() >= 0
    assert p.abundance.dtype == np.int64


@settings(deadline=None, max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    initial=st.lists(st.integers(0, 30), min_size=4, max_size=4),
    want=st.lists(st.floats(0.0, 40.0), min_size=2, max_size=2),
    stochastic=st.booleans(),
)
def test_transfers_conserve_individuals(
    seed: int, initial: list[int], want: list[float], stochastic: bool
) -> None:
    # survival 1, no births: a translocation only moves individuals, never creates or kills them
    sp = Species(
        name="still",
        stages=("j", "a"),
        U=((1.0, 0.0), (0.0, 1.0)),
        F=((0.0, 0.0), (0.0, 0.0)),
        populations=(
            Population(name="a", initial=tuple(initial[:2])),
            Population(name="b", initial=tuple(initial[2:])),
        ),
        demographic_stochasticity=stochastic,
    )
    years = 3
    tr = Transfer(name="m", source=0, population=1, number=np.tile(want, (years, 1)), survival=1.0)
    sched = Schedule.neutral(years=years, populations=2, stages=2)
    sched = Schedule(
        **{**{f: getattr(sched, f) for f in sched.__dataclass_fields__}, "transfers": (tr,)}
    )
    p = project(sp, sched, years=years, replicates=6, streams=single_streams(seed))
    assert p.abundance is not None
    assert p.abundance.min() >= 0
    np.testing.assert_allclose(
        p.abundance.sum(axis=2),
        np.broadcast_to(np.add(initial[:2], initial[2:]), (6, years + 1, 2)),
    )


@settings(deadline=None, max_examples=30)
@given(sp=pst.vital_rate_species(), seed=st.integers(0, 2**32 - 1))
def test_vital_rate_environment_keeps_counts_valid(sp: Species, seed: int) -> None:
    p = project(sp, years=6, replicates=5, streams=single_streams(seed))
    assert p.abundance is not None
    assert p.abundance.dtype == np.int64
    assert p.abundance.min() >= 0
    q = project(
        sp.with_(demographic_stochasticity=False),
        years=6,
        replicates=5,
        streams=single_streams(seed),
    )
    assert np.all(np.isfinite(q.total))
    assert q.total.min() >= 0
