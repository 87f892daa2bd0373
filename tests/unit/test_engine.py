"""The Monte Carlo kernel pva.engine.project: shapes, dtypes, exact degenerate cases, invariants,
the schedule's harvest and releases, density dependence at its equilibrium, common random numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.special
import scipy.stats
from example_species import hudsonia, two_stage

from pva.engine import Projection, density_strength, project, sample_environment
from pva.model import (
    Catastrophe,
    DensityDependence,
    Dispersal,
    Mating,
    MatrixSelection,
    Population,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
)
from pva.scenario import Scenario, Translocation
from pva.schedule import Schedule, StochasticEvent
from pva.streams import single_streams
from pva.testing import assert_mc_close, assert_proportion_close


def run(sp: Species, seed: int = 1, **kw: object) -> Projection:
    kw.setdefault("years", 10)
    kw.setdefault("replicates", 50)
    return project(sp, streams=single_streams(seed), **kw)  # type: ignore[arg-type]


def neutral(sp: Species, years: int, **arrays: object) -> Schedule:
    s = Schedule.neutral(years=years, populations=sp.n_populations, stages=sp.n_stages)
    fields = {f: getattr(s, f) for f in s.__dataclass_fields__}
    fields.update(arrays)
    return Schedule(**fields)  # type: ignore[arg-type]


# ---- shapes, dtypes, reproducibility ----------------------------------------------------------


def test_shapes_and_dtypes() -> None:
    p = run(two_stage(), years=7, replicates=11, record=("abundance", "carrying_capacity"))
    assert p.mature.shape == p.total.shape == (11, 8, 1)
    assert p.abundance is not None
    assert p.abundance.shape == (11, 8, 1, 2)
    assert p.carrying_capacity is not None
    assert p.carrying_capacity.shape == (11, 8, 1)
    assert p.total.dtype == p.mature.dtype == p.abundance.dtype == np.int64
    np.testing.assert_array_equal(p.total, p.abundance.sum(axis=-1))
    np.testing.assert_array_equal(p.mature, p.abundance[..., 1])
    np.testing.assert_array_equal(p.abundance[:, 0, 0], np.tile([10, 5], (11, 1)))
    assert np.isinf(p.carrying_capacity).all()
    q = run(two_stage(demographic_stochasticity=False), record=())
    assert q.total.dtype == np.float64
    assert q.abundance is None
    assert q.carrying_capacity is None


def test_same_streams_same_arrays_and_different_seeds_differ() -> None:
    sp = hudsonia(
        carrying_capacity=300,
        density_dependence=DensityDependence(weights=(0, 1, 1, 1, 1, 1)),
        catastrophes=(Catastrophe(name="drought", probability=0.1, fecundity_multiplier=0.2),),
    )
    a = run(sp, seed=5, years=20, replicates=30)
    b = run(sp, seed=5, years=20, replicates=30)
    c = run(sp, seed=6, years=20, replicates=30)
    assert a.abundance is not None
    np.testing.assert_array_equal(a.abundance, b.abundance)
    np.testing.assert_array_equal(a.total, b.total)
    assert not np.array_equal(a.total, c.total)


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"years": 0}, ValueError, r"years must be an integer >= 1; got 0"),
        ({"replicates": 2.5}, TypeError, r"replicates must be an integer; got 2.5"),
        ({"start_year": True}, TypeError, r"start_year must be an integer; got True"),
        ({"start_year": -1}, ValueError, r"start_year must be an integer >= 0; got -1"),
        ({"record": ("abundance", "genes")}, ValueError, r"record must name some of"),
    ],
)
def test_argument_validation(kw: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        run(two_stage(), **kw)


def test_schedule_shape_is_checked() -> None:
    sp = two_stage()
    bad = neutral(sp, 5)
    with pytest.raises(
        ValueError, match=r"schedule.survival_multiplier must have shape .* \(4, 1, 2\)"
    ):
        run(sp, years=4, schedule=bad)


# ---- exact degenerate cases -------------------------------------------------------------------


@pytest.mark.parametrize("stochastic", [True, False])
def test_zero_survival_and_fecundity_is_extinct_in_one_step(stochastic: bool) -> None:
    sp = two_stage(U=((0, 0), (0, 0)), F=((0, 0), (0, 0)), demographic_stochasticity=stochastic)
    p = run(sp)
    assert np.all(p.total[:, 0] == 15)
    assert np.all(p.total[:, 1:] == 0)


def test_zero_initial_stays_zero() -> None:
    p = run(two_stage(initial=(0, 0)), years=20)
    assert np.all(p.total == 0)


def test_survival_only_identity_is_constant() -> None:
    p = run(two_stage(U=((1, 0), (0, 1)), F=((0, 0), (0, 0))), years=15)
    assert p.abundance is not None
    assert np.all(p.abundance == np.array([10, 5]))


@pytest.mark.parametrize("years", [1, 7, 40])
def test_deterministic_mode_is_matrix_power(years: int) -> None:
    sp = two_stage(C=((0, 0.1), (0, 0.05)), demographic_stochasticity=False, initial=(123, 45))
    p = run(sp, years=years, replicates=3)
    n0 = np.array([123.0, 45.0])
    expected = np.stack([np.linalg.matrix_power(sp.A, t) @ n0 for t in range(years + 1)])
    assert p.abundance is not None
    for r in range(3):
        np.testing.assert_allclose(p.abundance[r, :, 0], expected, rtol=1e-12)


def test_deterministic_matrix_selection_follows_the_drawn_states() -> None:
    sp = hudsonia(demographic_stochasticity=False)
    years, reps = 12, 4
    p = run(sp, seed=3, years=years, replicates=reps)
    # the same environment stream, alone, gives the states; n(t+1) = A_t n(t) exactly
    states = sample_environment(
        sp, years=years, replicates=reps, rng=single_streams(3).environment
    )["state"]
    env = sp.environment
    assert isinstance(env, MatrixSelection)
    A = env.U_stack + env.F_stack
    assert p.abundance is not None
    for r in range(reps):
        n = np.array(sp.initial, dtype=float)
        for t in range(years):
            n = A[states[r, t]] @ n
            np.testing.assert_allclose(p.abundance[r, t + 1, 0], n, rtol=1e-12)


def test_extinct_replicates_stay_extinct() -> None:
    sp = two_stage(
        U=((0.1, 0), (0.2, 0.5)),
        F=((0, 0.6), (0, 0)),
        initial=(3, 2),
        catastrophes=(Catastrophe(name="storm", probability=0.3, survival_multiplier=0.2),),
    )
    p = run(sp, years=30, replicates=300)
    extinct = p.total[..., 0] == 0
    assert extinct[:, -1].mean() > 0.5  # the check below is not vacuous
    # once extinct, extinct for ever: the extinct indicator never goes from True back to False
    assert not np.any(extinct[:, :-1] & ~extinct[:, 1:])


def test_binomial_litters_never_exceed_max_litter() -> None:
    sp = two_stage(
        U=((0, 0), (0, 0)), F=((0, 0.9), (0, 0)), initial=(0, 40), litter="binomial", max_litter=1
    )
    p = run(sp, years=1, replicates=500)
    assert p.abundance is not None
    births = p.abundance[:, 1, 0, 0]
    assert births.max() <= 40
    assert births.min() >= 0


# ---- ceiling, harvest, releases, catastrophes, dispersal ----------------------------------------


@pytest.mark.parametrize("stochastic", [True, False])
def test_ceiling_is_never_exceeded(stochastic: bool) -> None:
    weights = (0, 1, 1, 1, 1, 1)  # seeds do not count towards K (Morris & Doak's sumweight)
    sp = hudsonia(
        carrying_capacity=40,
        density_dependence=DensityDependence(weights=weights),
        demographic_stochasticity=stochastic,
    )
    p = run(sp, years=40, replicates=100, record=("abundance", "carrying_capacity"))
    assert p.abundance is not None
    counted = (p.abundance[:, 1:] * np.array(weights)).sum(axis=-1)
    assert counted.max() <= 40 + 1e-9
    assert counted.max() >= 30  # the ceiling binds


def test_ceiling_with_catastrophe_and_k_multiplier() -> None:
    sp = hudsonia(
        populations=(
            Population(
                name="a",
                initial=(4264, 3, 30, 16, 25, 5),
                carrying_capacity=60,
                carrying_capacity_cv=0.3,
            ),
        ),
        density_dependence=DensityDependence(weights=(0, 1, 1, 1, 1, 1)),
        catastrophes=(
            Catastrophe(name="fire", probability=0.2, carrying_capacity_multiplier=0.25),
        ),
    )
    p = run(sp, years=30, replicates=50, record=("abundance", "carrying_capacity"))
    assert p.abundance is not None
    assert p.carrying_capacity is not None
    counted = p.abundance[:, 1:, :, 1:].sum(axis=-1)
    assert np.all(counted <= np.floor(p.carrying_capacity[:, 1:]))
    assert p.carrying_capacity[:, 1:].min() < 60 * 0.25 * 1.5  # the catastrophe's K cut happens


def test_harvest_removes_individuals() -> None:
    sp = two_stage(U=((1, 0), (0, 1)), F=((0, 0), (0, 0)), initial=(100, 100))
    everything = neutral(sp, 3, harvest_proportion=np.ones((3, 1, 2)))
    assert np.all(run(sp, years=3, schedule=everything).total[:, 1:] == 0)
    sched = neutral(sp, 3, harvest_number=np.full((3, 1, 2), 4.0))
    p = run(sp, years=3, replicates=400, schedule=sched)
    assert np.all(np.diff(p.total, axis=1) <= 0)
    # Poisson(4) per stage per year, three years, two stages: mean 24 removed
    removed = 200 - p.total[:, -1, 0]
    assert abs(removed.mean() - 24) < 5 * np.sqrt(24 / 400)
    det = run(sp.with_(demographic_stochasticity=False), years=3, schedule=sched)
    np.testing.assert_allclose(det.total[:, -1], 200 - 24)


def test_releases_add_individuals() -> None:
    sp = two_stage(U=((0, 0), (0, 0)), F=((0, 0), (0, 0)), initial=(0, 0))
    sched = neutral(sp, 5, release_number=np.tile([0.0, 5.7], (5, 1, 1)))
    R = 2000
    p = run(sp, years=5, replicates=R, schedule=sched)
    # whole individuals, all survive release: 5.7 is 6 with probability 0.7, else 5 (mean 5.7, as
    # without demographic stochasticity)
    assert set(np.unique(p.total[:, 1:])) == {5, 6}
    share = (p.total[:, 1] == 6).mean()
    assert abs(share - 0.7) < 5 * np.sqrt(0.7 * 0.3 / R)
    sched = neutral(
        sp,
        5,
        release_number=np.tile([0.0, 5.0], (5, 1, 1)),
        release_survival=np.full((5, 1, 2), 0.5),
    )
    p = run(sp, years=5, replicates=200, schedule=sched)
    assert p.total[:, 1:].max() <= 5
    assert 0 < p.total[:, 1:].mean() < 5


@pytest.mark.parametrize("stochastic", [True, False])
def test_translocation_moves_only_what_the_donor_has(stochastic: bool) -> None:
    # regression: the donor lost a Poisson number while the target gained the full request, so a
    # donor with 2 individuals "sent" 10 and individuals were created
    pops = (Population(name="src", initial=(2,)), Population(name="dst", initial=(0,)))
    sp = Species(
        name="t",
        stages=("a",),
        U=((1.0,),),
        F=((0.0,),),
        populations=pops,
        demographic_stochasticity=stochastic,
    )
    move = Translocation(name="m", population="dst", source="src", individuals={"a": 10}, end=2)
    sched = Scenario("mv", actions=(move,)).compile(sp, years=3)
    p = run(sp, years=3, schedule=sched, record=("abundance",))
    assert p.abundance is not None
    np.testing.assert_array_equal(p.abundance[:, 1:, :, 0], np.tile([0, 2], (50, 3, 1)))
    big = sp.with_(populations=(Population(name="src", initial=(100,)), pops[1]))
    halved = dataclasses.replace(move, survival=0.5)
    q = run(
        big,
        years=3,
        replicates=400,
        schedule=Scenario("mv", actions=(halved,)).compile(big, years=3),
    )
    assert q.abundance is not None
    np.testing.assert_array_equal(q.abundance[:, 1:, 0, 0], np.tile([90, 80, 80], (400, 1)))
    arrived = q.abundance[:, -1, 1, 0]  # Binomial(20, 0.5) with demographic stochasticity
    assert arrived.max() <= 20
    assert abs(arrived.mean() - 10) <= 5 * np.sqrt(20 * 0.25 / 400) + (0 if stochastic else 1e-12)


def test_many_stages_at_the_count_cap_do_not_overflow() -> None:
    # regression: with 8 or more stages, survivors of all stages into one stage summed past int64
    # (2**60 per stage) and numpy's binomial raised "n < 0"
    S = 10
    U = np.zeros((S, S))
    U[0, :] = 0.999
    F = np.zeros((S, S))
    F[1:, 0] = 60.0
    sp = Species(
        name="boom", stages=tuple(f"s{i}" for i in range(S)), U=U, F=F, initial=(1000,) * S
    )
    p = run(sp, years=40, replicates=2, record=("abundance",))
    assert p.abundance is not None
    assert p.abundance.min() >= 0
    assert np.all(p.total >= 0)
    assert p.total[:, -1].min() > 10**18


def test_catastrophe_certain_and_impossible() -> None:
    wipe = Catastrophe(name="wipe", probability=1.0, survival_multiplier=0, fecundity_multiplier=0)
    assert np.all(run(two_stage(catastrophes=(wipe,))).total[:, 1:] == 0)
    never = Catastrophe(name="never", probability=0.0, survival_multiplier=0)
    # catastrophes use their own stream, so an impossible one changes nothing at all
    a, b = run(two_stage()), run(two_stage(catastrophes=(never,)))
    np.testing.assert_array_equal(a.abundance, b.abundance)  # type: ignore[arg-type]


def test_schedule_event_certain() -> None:
    sp = two_stage()
    years = 4
    ev = StochasticEvent(
        name="outbreak",
        probability=np.array([0.0, 1.0, 0.0, 0.0]),
        survival_multiplier=np.zeros((1, 2)),
        fecundity_multiplier=np.zeros((1, 2)),
        carrying_capacity_multiplier=np.ones(1),
    )
    p = run(sp, years=years, schedule=neutral(sp, years, events=(ev,)))
    assert np.all(p.total[:, 1] > 0)
    assert np.all(p.total[:, 2:] == 0)


def test_dispersal_moves_everyone_and_conserves_individuals() -> None:
    pops = (Population(name="a", initial=(7, 3)), Population(name="b", initial=(0, 0)))
    sp = two_stage(
        U=((1, 0), (0, 1)),
        F=((0, 0), (0, 0)),
        initial=None,
        populations=pops,
        dispersal=Dispersal(rates=((0, 0), (1, 0)), stages=("adult",)),
    )
    p = run(sp, years=1)
    assert p.abundance is not None
    np.testing.assert_array_equal(p.abundance[:, 1, 0], np.tile([7, 0], (50, 1)))
    np.testing.assert_array_equal(p.abundance[:, 1, 1], np.tile([0, 3], (50, 1)))
    half = sp.with_(dispersal=Dispersal(rates=((0, 0.2), (0.5, 0))))
    q = run(half, years=10, replicates=100)
    np.testing.assert_array_equal(q.total.sum(axis=-1), 10)  # dispersal neither creates nor kills
    det = run(half.with_(demographic_stochasticity=False), years=1, replicates=1)
    assert det.abundance is not None
    np.testing.assert_allclose(det.abundance[0, 1], [[3.5, 1.5], [3.5, 1.5]])


# ---- density dependence and mating ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["beverton_holt", "ricker", "theta_logistic"])
@pytest.mark.parametrize("applies", [("fecundity",), ("survival",), ("fecundity", "survival")])
def test_scaled_density_dependence_is_stationary_at_k(kind: str, applies: tuple[str, ...]) -> None:
    # one stage: lambda(N) = s g_s(N) + f g_f(N); the default strength makes lambda(K) = 1
    sp = Species(
        name="one",
        stages=("adult",),
        U=((0.6,),),
        F=((0.9,),),
        initial=(500,),
        carrying_capacity=500,
        density_dependence=DensityDependence(kind=kind, applies_to=applies, theta=2.0),  # type: ignore[arg-type]
        demographic_stochasticity=False,
    )
    p = run(sp, years=5, replicates=1)
    np.testing.assert_allclose(p.total[0, :, 0], 500, rtol=1e-9)
    # below K it grows, above K it declines
    assert run(sp.with_(initial=(100,)), years=1, replicates=1).total[0, 1, 0] > 100
    assert run(sp.with_(initial=(900,)), years=1, replicates=1).total[0, 1, 0] < 900


def test_density_strength_closed_forms() -> None:
    # fecundity: g* = 1 / R0, R0 = f / (1 - s) for one stage (Caswell 2001, section 5.3.4)
    base = {
        "name": "one",
        "stages": ("a",),
        "U": ((0.6,),),
        "F": ((0.9,),),
        "initial": (1,),
        "carrying_capacity": 1,
    }
    R0 = 0.9 / 0.4
    bh = Species(**base, density_dependence=DensityDependence(kind="beverton_holt"))  # type: ignore[arg-type]
    assert density_strength(bh) == pytest.approx(R0 - 1)
    rk = Species(
        **base,
        density_dependence=DensityDependence(kind="ricker", applies_to=("fecundity", "survival")),
    )  # type: ignore[arg-type]
    assert density_strength(rk) == pytest.approx(np.log(1.5))
    given = Species(**base, density_dependence=DensityDependence(kind="ricker", strength=0.3))  # type: ignore[arg-type]
    assert density_strength(given) == 0.3


def test_vortex_breeding_and_allee_formula() -> None:
    # Lacy et al. (Vortex manual): P(N) = (P0 - (P0 - PK)(N/K)^B) N / (A + N)
    P0, PK, B, A, K, N = 0.8, 0.4, 3.0, 20.0, 400.0, 250.0
    f = 2.0
    sp = Species(
        name="one",
        stages=("adult",),
        U=((0.5,),),
        F=((f,),),
        initial=(int(N),),
        carrying_capacity=K,
        density_dependence=DensityDependence(
            kind="vortex_breeding",
            breeding_low=P0,
            breeding_at_k=PK,
            steepness=B,
            allee=A,
            ceiling=False,
        ),
        demographic_stochasticity=False,
    )
    p = run(sp, years=1, replicates=1)
    breeding = (P0 - (P0 - PK) * (N / K) ** B) * N / (A + N)
    assert p.total[0, 1, 0] == pytest.approx(0.5 * N + f * N * breeding / P0, rel=1e-12)


def test_mating_limits_births() -> None:
    base = two_stage(
        U=((0, 0), (0, 0)), F=((0, 2.0), (0, 0)), initial=(0, 100), demographic_stochasticity=False
    )
    # an even sex ratio leaves as many males as females: no limitation
    even = base.with_(sex=Mating(sex_ratio=0.5))
    np.testing.assert_allclose(run(even, years=1).total[:, 1], 200)
    # with 80% females, 25 males pair with 25 females (monogamy) or 100 (harem of 4)
    mono = base.with_(sex=Mating(sex_ratio=0.8))
    np.testing.assert_allclose(run(mono, years=1).total[:, 1], 2.0 * 25)
    poly = base.with_(sex=Mating(system="polygynous", sex_ratio=0.8, harem_size=4))
    np.testing.assert_allclose(run(poly, years=1).total[:, 1], 200)
    # a single female with demographic stochasticity breeds only when a male is drawn
    one = base.with_(initial=(0, 1), demographic_stochasticity=True, sex=Mating(sex_ratio=0.5))
    R = 4000
    births = run(one, years=1, replicates=R).total[:, 1, 0]
    # males ~ Poisson(1); births ~ Poisson(2) if a male is there, else none
    p0 = np.exp(-1.0) + (1 - np.exp(-1.0)) * np.exp(-2.0)
    assert_proportion_close((births == 0).mean(), p0, R)


# ---- common random numbers --------------------------------------------------------------------


def test_environment_is_common_across_scenarios() -> None:
    sp = hudsonia(
        populations=(
            Population(
                name="a",
                initial=(4264, 3, 30, 16, 25, 5),
                carrying_capacity=80,
                carrying_capacity_cv=0.2,
            ),
        ),
        density_dependence=DensityDependence(weights=(0, 1, 1, 1, 1, 1)),
        catastrophes=(Catastrophe(name="fire", probability=0.3, carrying_capacity_multiplier=0.5),),
    )
    years = 15
    harvest = neutral(sp, years, harvest_proportion=np.full((years, 1, 6), 0.3))
    a = run(sp, years=years, replicates=40, record=("carrying_capacity",))
    b = run(sp, years=years, replicates=40, record=("carrying_capacity",), schedule=harvest)
    assert not np.array_equal(a.total, b.total)
    # K depends only on the environment and catastrophe streams: identical in both scenarios
    np.testing.assert_array_equal(a.carrying_capacity, b.carrying_capacity)  # type: ignore[arg-type]


def test_an_event_strikes_alike_whatever_other_events_a_scenario_has() -> None:
    # regression: all events shared one stream in list order, so a scenario with one more epidemic
    # (or its threats in another order) saw a different history of the common one
    sp = Species(
        name="rock",
        stages=("a",),
        U=((1.0,),),
        F=((0.0,),),
        initial=(100,),
        demographic_stochasticity=False,
    )
    years = 30

    def event(name: str, survival: float) -> StochasticEvent:
        return StochasticEvent(
            name=name,
            probability=np.full(years, 0.1),
            survival_multiplier=np.full((1, 1), survival),
            fecundity_multiplier=np.ones((1, 1)),
            carrying_capacity_multiplier=np.ones(1),
        )

    wipe, harmless = event("wipe", 0.0), event("other", 1.0)
    alone = run(sp, years=years, replicates=200, schedule=neutral(sp, years, events=(wipe,)))
    both = run(
        sp, years=years, replicates=200, schedule=neutral(sp, years, events=(harmless, wipe))
    )
    assert 0 < (alone.total[:, -1, 0] == 0).mean() < 1
    np.testing.assert_array_equal(alone.total, both.total)


def test_sample_environment_markov_frequencies() -> None:
    Ua, Ub = ((0.5, 0), (0.3, 0.9)), ((0.1, 0), (0.1, 0.5))
    F = ((0, 1.0), (0, 0))
    env = MatrixSelection(U=(Ua, Ub), F=(F, F), transition=((0.9, 0.3), (0.1, 0.7)))
    sp = Species(name="m", stages=("j", "a"), environment=env, initial=(1, 1))
    states = sample_environment(sp, years=200, replicates=200, rng=np.random.default_rng(7))[
        "state"
    ]
    # stationary distribution of the chain: pi_1 = 0.1 / (0.1 + 0.3) = 0.25; replicates are
    # independent, so the SE comes from the spread of replicate means
    per_rep = states.mean(axis=1)
    assert_mc_close(per_rep.mean(), 0.25, per_rep.std(ddof=1) / np.sqrt(per_rep.size), n_tests=2)
    # given the previous state, the next one is a Bernoulli draw: P(stay in state 1) = 0.7
    prev, nxt = states[:, :-1].ravel(), states[:, 1:].ravel()
    stay = nxt[prev == 1]
    assert_proportion_close(stay.mean(), 0.7, stay.size, n_tests=2)


# ---- carrying capacity, catastrophe scope, vital-rate environment -------------------------------


def test_carrying_capacity_trend_and_variation() -> None:
    pops = (
        Population(name="a", initial=(1, 1), carrying_capacity=100, carrying_capacity_trend=-5),
        Population(name="b", initial=(1, 1), carrying_capacity=100, carrying_capacity_cv=0.4),
    )
    sp = two_stage(initial=None, populations=pops)
    R, years = 4000, 6
    p = run(sp, years=years, replicates=R, record=("carrying_capacity",))
    assert p.carrying_capacity is not None
    # K_t = K (1 + trend/100)^t for the step from year t to t + 1
    expected = np.broadcast_to(100 * 0.95 ** np.arange(years), (R, years))
    np.testing.assert_allclose(p.carrying_capacity[:, 1:, 0], expected, rtol=1e-12)
    # lognormal variation with mean K and coefficient of variation 0.4
    k = p.carrying_capacity[:, 1, 1]
    sigma = np.sqrt(np.log1p(0.4**2))
    kurt = float(scipy.stats.lognorm(s=sigma).stats(moments="k"))  # excess kurtosis
    assert_mc_close(k.mean(), 100.0, 40.0 / np.sqrt(R), n_tests=2)
    # SE of a sample SD: (sd / 2) sqrt((excess kurtosis + 2) / R)
    assert_mc_close(k.std(ddof=1), 40.0, 20.0 * np.sqrt((kurt + 2) / R), n_tests=2)
    assert k.min() > 0


def test_species_wide_catastrophe_hits_every_population_together() -> None:
    pops = (Population(name="a", initial=(0, 50)), Population(name="b", initial=(0, 50)))
    cat = Catastrophe(name="flood", probability=0.5, survival_multiplier=0.0, scope="species")
    sp = two_stage(
        U=((1, 0), (0, 1)), F=((0, 0), (0, 0)), initial=None, populations=pops, catastrophes=(cat,)
    )
    p = run(sp, years=1, replicates=400)
    hit = p.total[:, 1] == 0
    np.testing.assert_array_equal(hit[:, 0], hit[:, 1])
    assert 0 < hit[:, 0].mean() < 1
    local = sp.with_(
        catastrophes=(Catastrophe(name="flood", probability=0.5, survival_multiplier=0.0),)
    )
    q = run(local, years=1, replicates=400)
    assert np.any((q.total[:, 1, 0] == 0) != (q.total[:, 1, 1] == 0))


def test_deterministic_vital_rate_projection_uses_the_drawn_rates() -> None:
    rates = (
        VitalRate(name="sj", mean=0.3, sd=0.1),
        VitalRate(name="sa", mean=0.8, sd=0.1),
        VitalRate(name="f", mean=1.2, sd=0.5, distribution="lognormal"),
    )
    vr = VitalRates(rates=rates, U=((0, 0), ("sj", "sa")), F=((0, "f"), (0, 0)))
    sp = Species(
        name="vr",
        stages=("j", "a"),
        vital_rates=vr,
        environment=VitalRateStochasticity(
            rates=("sj", "sa", "f"),
            correlation=((1, 0.5, 0), (0.5, 1, 0.3), (0, 0.3, 1)),
            autocorrelation=0.4,
        ),
        initial=(20, 10),
        demographic_stochasticity=False,
    )
    years, reps = 8, 5
    p = run(sp, seed=9, years=years, replicates=reps)
    draws = sample_environment(sp, years=years, replicates=reps, rng=single_streams(9).environment)
    assert p.abundance is not None
    for r in range(reps):
        n = np.array([20.0, 10.0])
        for t in range(years):
            sj, sa, f = draws["sj"][r, t], draws["sa"][r, t], draws["f"][r, t]
            n = np.array([[0, f], [sj, sa]]) @ n
            np.testing.assert_allclose(p.abundance[r, t + 1, 0], n, rtol=1e-12)


def test_exploding_population_and_huge_ceiling_never_crash() -> None:
    # numpy's Poisson refuses means near 1e19 and its hypergeometric pools of 1e9
    boom = Species(name="boom", stages=("a",), U=((0.5,),), F=((60.0,),), initial=(1000,))
    p = run(boom, years=14, replicates=3)
    assert p.total.dtype == np.int64
    assert np.all(p.total >= 0)
    assert p.total[:, -1].min() > 10**18  # past both limits, still counted
    capped = two_stage(
        F=((0, 60.0), (0, 0)),
        initial=(10**8, 10**8),
        carrying_capacity=10,
        density_dependence=DensityDependence(),
    )
    q = run(capped, years=2, replicates=3)
    assert np.all(q.total[:, 1] == 10)  # billions truncated to K
    assert np.all(q.total[:, 2] <= 10)
