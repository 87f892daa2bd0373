"""Hypothesis properties of pva.engine.project over random small valid specifications."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pva.engine import project
from pva.model import (
    Catastrophe,
    DensityDependence,
    Dispersal,
    MatrixSelection,
    Population,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
)
from pva.schedule import Schedule, Transfer
from pva.streams import single_streams

probability = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def survival_matrices(draw: st.DrawFn, n: int) -> tuple[tuple[float, ...], ...]:
    """U with columns summing to at most 1: each column a random split of a survival probability."""
    cols = []
    for _ in range(n):
        weights = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
        s = draw(probability)
        total = sum(weights)
        cols.append([s * w / total if total > 0 else 0.0 for w in weights])
    return tuple(tuple(cols[j][i] for j in range(n)) for i in range(n))


@st.composite
def fecundity_matrices(draw: st.DrawFn, n: int) -> tuple[tuple[float, ...], ...]:
    return tuple(
        tuple(draw(st.floats(0.0, 3.0)) if i == 0 else 0.0 for _j in range(n)) for i in range(n)
    )


@st.composite
def species(draw: st.DrawFn, *, allow_survival_growth: bool = True) -> Species:
    n = draw(st.integers(1, 3))
    n_pop = draw(st.integers(1, 2))
    stages = tuple(f"s{i}" for i in range(n))
    k = draw(st.one_of(st.none(), st.floats(0.0, 200.0)))
    pops = tuple(
        Population(
            name=f"p{p}",
            initial=tuple(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))),
            carrying_capacity=k,
            carrying_capacity_cv=draw(st.sampled_from([0.0, 0.3])),
        )
        for p in range(n_pop)
    )
    env = None
    U = draw(survival_matrices(n))
    survival = max(sum(row[j] for row in U) for j in range(n))  # of the fittest stage
    F = (
        draw(fecundity_matrices(n))
        if allow_survival_growth
        else tuple((0.0,) * n for _ in range(n))
    )
    if draw(st.booleans()):
        U2 = draw(survival_matrices(n))
        F2 = draw(fecundity_matrices(n)) if allow_survival_growth else F
        survival = max(survival, *(sum(row[j] for row in U2) for j in range(n)))
        env = MatrixSelection(U=(U, U2), F=(F, F2))
        U = F = None  # type: ignore[assignment]
    dd = None
    if k is not None:
        kind = draw(
            st.sampled_from(
                ["ceiling", "beverton_holt", "ricker", "theta_logistic", "vortex_breeding"]
            )
        )
        dd = DensityDependence(
            kind=kind,  # type: ignore[arg-type]
            strength=draw(st.floats(0.0, 3.0)),
            allee=draw(st.sampled_from([0.0, 5.0])),
            breeding_at_k=0.5,
            ceiling=draw(st.booleans()),
        )
    cats = ()
    if draw(st.booleans()):
        cats = (
            Catastrophe(
                name="c",
                probability=draw(probability),
                # good years (> 1) too, as far as survival stays a probability (issue 14)
                survival_multiplier=draw(st.floats(0.0, min(1.5, 1.0 / max(survival, 1e-9)))),
                fecundity_multiplier=draw(st.floats(0.0, 2.0)),
                carrying_capacity_multiplier=draw(st.floats(0.0, 1.0)),
            ),
        )
    dispersal = None
    if n_pop == 2 and draw(st.booleans()):
        a, b = draw(probability), draw(probability)
        dispersal = Dispersal(rates=((0.0, a), (b, 0.0)))
    return Species(
        name="random",
        stages=stages,
        U=U,
        F=F,
        environment=env,
        populations=pops,
        density_dependence=dd,
        catastrophes=cats,
        dispersal=dispersal,
        generation_length=1.0,
        mature_stages=stages[-1:],
    )


@settings(deadline=None, max_examples=60)
@given(sp=species(), seed=st.integers(0, 2**32 - 1), years=st.integers(1, 8))
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
@given(sp=species(), seed=st.integers(0, 2**32 - 1))
def test_same_seed_same_trajectory(sp: Species, seed: int) -> None:
    a = project(sp, years=5, replicates=4, streams=single_streams(seed))
    b = project(sp, years=5, replicates=4, streams=single_streams(seed))
    np.testing.assert_array_equal(a.abundance, b.abundance)  # type: ignore[arg-type]


@settings(deadline=None, max_examples=40)
@given(sp=species(allow_survival_growth=False), seed=st.integers(0, 2**32 - 1))
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
    sp=species(),
    seed=st.integers(0, 2**32 - 1),
    h=st.floats(0.0, 1.0),
    rel=st.floats(0.0, 20.0),
    rs=probability,
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


@st.composite
def beta_rate(draw: st.DrawFn, name: str) -> VitalRate:
    mean = draw(st.floats(0.01, 0.99))
    sd = draw(st.floats(0.0, 0.999)) * np.sqrt(mean * (1 - mean))
    return VitalRate(name=name, mean=mean, sd=sd)


@st.composite
def vital_rate_species(draw: st.DrawFn) -> Species:
    sj, sa = draw(beta_rate("sj")), draw(beta_rate("sa"))
    g = draw(beta_rate("g"))
    if draw(st.booleans()):
        f = VitalRate(
            name="f",
            mean=draw(st.floats(0.01, 5.0)),
            sd=draw(st.floats(0.0, 5.0)),
            distribution="lognormal",
        )
    else:
        f = VitalRate(name="f", mean=draw(st.floats(0.0, 5.0)), distribution="fixed")
    r = draw(st.floats(-0.99, 0.99))
    env = VitalRateStochasticity(
        rates=("sj", "sa"),
        correlation=((1.0, r), (r, 1.0)),
        autocorrelation=draw(st.floats(-0.9, 0.9)),
    )
    return Species(
        name="rates",
        stages=("juvenile", "adult"),
        vital_rates=VitalRates(
            rates=(sj, sa, g, f),
            U=(("sj * (1 - g)", 0), ("sj * g", "sa")),
            F=((0, "f"), (0, 0)),
        ),
        environment=env,
        initial=tuple(draw(st.lists(st.integers(0, 40), min_size=2, max_size=2))),
        carrying_capacity=draw(st.one_of(st.none(), st.floats(1.0, 300.0))),
        generation_length=1.0,
    )


@settings(deadline=None, max_examples=30)
@given(sp=vital_rate_species(), seed=st.integers(0, 2**32 - 1))
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
