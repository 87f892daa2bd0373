"""The engine's paths agree: the linear fast path with the general year step, scenarios projected
together with common random numbers, chunks projected together with chunks projected alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pva import engine
from pva.model import (
    Catastrophe,
    DensityDependence,
    Dispersal,
    Mating,
    MatrixSelection,
    Population,
    Species,
)
from pva.schedule import Schedule, StochasticEvent, Transfer
from pva.streams import Streams, chunk_streams, single_streams

U = ((0.2, 0.0, 0.0), (0.3, 0.5, 0.0), (0.0, 0.3, 0.9))
F = ((0.0, 0.5, 2.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))


def three_stage(**changes: object) -> Species:
    fields: dict[str, object] = {
        "name": "toy",
        "stages": ("juvenile", "subadult", "adult"),
        "U": U,
        "F": F,
        "initial": (20, 10, 5),
    }
    fields.update(changes)
    return Species(**fields)  # type: ignore[arg-type]


def two_matrices(transition: tuple[tuple[float, ...], ...] | None = None) -> MatrixSelection:
    half = tuple(tuple(0.5 * x for x in row) for row in U)
    double = tuple(tuple(2.0 * x for x in row) for row in F)
    return MatrixSelection(U=(U, half), F=(F, double), transition=transition)


def replaced(schedule: Schedule, **arrays: object) -> Schedule:
    return dataclasses.replace(schedule, **arrays)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# the linear fast path against the general year step


def linear_models() -> dict[str, Species]:
    return {
        "constant": three_stage(demographic_stochasticity=False),
        "iid matrices": three_stage(environment=two_matrices(), demographic_stochasticity=False),
        "Markov matrices": three_stage(
            environment=two_matrices(((0.9, 0.3), (0.1, 0.7))), demographic_stochasticity=False
        ),
        "two populations, dispersal": three_stage(
            environment=two_matrices(),
            initial=None,
            populations=(
                Population(name="a", initial=(20, 10, 5)),
                Population(name="b", initial=(3, 2, 1)),
            ),
            dispersal=Dispersal(rates=((0.0, 0.2), (0.1, 0.0)), stages=("subadult",)),
            demographic_stochasticity=False,
        ),
    }


def acting_schedules(sp: Species, years: int) -> list[Schedule]:
    """No action, and multipliers above and below 1 (capped survival), harvest, releases and a
    translocation that change from year to year."""
    P, S = sp.n_populations, sp.n_stages
    neutral = Schedule.neutral(years=years, populations=P, stages=S)
    ramp = np.linspace(0.5, 1.6, years)[:, None, None] * np.ones((years, P, S))
    pulses = np.zeros((years, P, S))
    pulses[::4] = 3.0
    acting = replaced(
        neutral,
        survival_multiplier=ramp,
        fecundity_multiplier=ramp[::-1].copy(),
        carrying_capacity_multiplier=np.full((years, P), 0.5),
        harvest_proportion=np.full((years, P, S), 0.1),
        harvest_number=pulses / 3,
        release_number=pulses,
        release_survival=np.full((years, P, S), 0.7),
        transfers=(
            (Transfer(name="t", source=0, population=1, number=pulses[:, 0], survival=0.5),)
            if P > 1
            else ()
        ),
    )
    return [neutral, acting]


@pytest.mark.parametrize("name", list(linear_models()))
def test_linear_path_equals_the_general_year_step(name: str) -> None:
    sp = linear_models()[name]
    years = 30
    schedules = acting_schedules(sp, years)
    assert engine._is_linear(sp, schedules)
    record = ("abundance", "carrying_capacity")
    fast = engine._project_linear(sp, schedules, years, ((40, single_streams(3)),), record, None, 0)
    general = engine._project(sp, schedules, years, ((40, single_streams(3)),), record, None, 0)
    for a, b in zip(fast, general, strict=True):
        for field in ("mature", "total", "abundance", "carrying_capacity"):
            np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-12, atol=1e-9)
    # the model is not trivial: the matrices differ among replicates in the stochastic ones
    totals = fast[0].total[:, -1].sum(axis=-1)
    assert (np.ptp(totals) > 0) == (name != "constant")


@pytest.mark.parametrize(
    "change",
    [
        {"demographic_stochasticity": True},
        {"density_dependence": DensityDependence(kind="ceiling"), "carrying_capacity": 50.0},
        {"catastrophes": (Catastrophe(name="fire", probability=0.1, survival_multiplier=0.5),)},
        {
            "initial": None,
            "populations": (Population(name="a", initial=(20, 10, 5), carrying_capacity_cv=0.1),),
        },
    ],
    ids=["demographic", "density dependence", "catastrophes", "K variation"],
)
def test_models_that_are_not_linear_take_the_general_path(change: dict[str, object]) -> None:
    sp = three_stage(demographic_stochasticity=False).with_(**change)
    neutral = Schedule.neutral(years=3, populations=1, stages=3)
    assert not engine._is_linear(sp, [neutral])


def test_an_event_makes_a_model_not_linear() -> None:
    sp = three_stage(demographic_stochasticity=False)
    event = StochasticEvent(
        name="storm",
        probability=np.full(3, 0.5),
        survival_multiplier=np.full((1, 3), 0.5),
        fecundity_multiplier=np.ones((1, 3)),
        carrying_capacity_multiplier=np.ones(1),
    )
    neutral = Schedule.neutral(years=3, populations=1, stages=3)
    assert engine._is_linear(sp, [neutral])
    assert not engine._is_linear(sp, [neutral, replaced(neutral, events=(event,))])


def test_linear_chunks_together_equal_chunks_alone() -> None:
    """pva.simulate projects all chunks of a linear model as one wide array; each chunk's numbers
    are those of the chunk projected alone, as a worker does (up to the last bits of rounding)."""
    sp = linear_models()["Markov matrices"]
    years, sizes = 25, (7, 7, 3)
    chunks = [(size, chunk_streams(5, sp.name, k)) for k, size in enumerate(sizes)]
    (together,) = engine.project_chunks(sp, (None,), years=years, chunks=chunks)
    alone = [
        engine.project(sp, years=years, replicates=size, streams=chunk_streams(5, sp.name, k))
        for k, size in enumerate(sizes)
    ]
    joined = np.concatenate([p.abundance for p in alone])  # type: ignore[misc]
    np.testing.assert_allclose(together.abundance, joined, rtol=1e-13)  # type: ignore[arg-type]
    # the replicates are not all alike: the chunks differ in their environments
    assert np.unique(together.total[:, -1].round(6)).size > 1


# ---------------------------------------------------------------------------------------------------
# scenarios projected together


def storm(name: str, probability: float, survival: float, years: int) -> StochasticEvent:
    return StochasticEvent(
        name=name,
        probability=np.full(years, probability),
        survival_multiplier=np.full((1, 3), survival),
        fecundity_multiplier=np.ones((1, 3)),
        carrying_capacity_multiplier=np.full(1, 0.5),
    )


def test_scenarios_share_environment_catastrophes_and_events() -> None:
    """Common random numbers in one projection of several scenarios: K (drawn from the environment
    and catastrophe streams and halved by the event "storm") is the same in replicate r under every
    scenario that has the storm, whatever else the scenarios do, have or list first; a scenario
    without it sees the same K except in its storm years."""
    years = 40
    sp = three_stage(
        environment=two_matrices(),
        initial=None,
        populations=(
            Population(
                name="a", initial=(20, 10, 5), carrying_capacity=80, carrying_capacity_cv=0.3
            ),
        ),
        density_dependence=DensityDependence(kind="ceiling"),
        catastrophes=(
            Catastrophe(name="fire", probability=0.2, carrying_capacity_multiplier=0.25),
        ),
    )
    neutral = Schedule.neutral(years=years, populations=1, stages=3)
    hit, other = storm("storm", 0.3, 0.9, years), storm("drought", 0.4, 1.0, years)
    schedules = [
        replaced(neutral, events=(hit,)),
        replaced(neutral, events=(other, hit), harvest_proportion=np.full((years, 1, 3), 0.3)),
        neutral,
    ]
    with_storm, with_both, without = engine.project_chunks(
        sp,
        schedules,
        years=years,
        chunks=((200, single_streams(8)),),
        record=("carrying_capacity",),
    )
    assert with_storm.carrying_capacity is not None
    assert without.carrying_capacity is not None
    assert with_both.carrying_capacity is not None
    assert not np.array_equal(with_storm.total, with_both.total)  # the harvest tells
    # K of the scenario with the drought as well: halved again in the drought years only
    ratio = with_both.carrying_capacity[:, 1:] / with_storm.carrying_capacity[:, 1:]
    assert set(np.unique(ratio.round(12))) == {0.5, 1.0}
    storms = with_storm.carrying_capacity[:, 1:] / without.carrying_capacity[:, 1:]
    assert set(np.unique(storms.round(12))) == {0.5, 1.0}
    assert 0.2 < (storms < 1).mean() < 0.4  # the storm's 30% of years
    # and the environment is the one a scenario projected alone sees
    (alone,) = engine.project_chunks(
        sp,
        (neutral,),
        years=years,
        chunks=((200, single_streams(8)),),
        record=("carrying_capacity",),
    )
    np.testing.assert_array_equal(alone.carrying_capacity, without.carrying_capacity)  # type: ignore[arg-type]


def test_environmental_states_are_common_to_scenarios() -> None:
    """Without demographic stochasticity each year's change reveals the matrix used: the same one
    in replicate r under every scenario."""
    years = 15
    sp = three_stage(environment=two_matrices(), demographic_stochasticity=False)
    neutral = Schedule.neutral(years=years, populations=1, stages=3)
    # a catastrophe-free, event-free pair; the second scenario harvests, so their states differ
    schedules = [neutral, replaced(neutral, harvest_proportion=np.full((years, 1, 3), 0.2))]
    a, b = engine.project_chunks(
        sp, schedules, years=years, chunks=((30, single_streams(2)),), record=("abundance",)
    )
    A = [np.asarray(U) + np.asarray(F), 0.5 * np.asarray(U) + 2.0 * np.asarray(F)]

    def used(p: engine.Projection, harvest: float) -> np.ndarray:
        n = p.abundance[:, :, 0]  # type: ignore[index]
        out = np.full(n.shape[:2], -1)
        for k, Ak in enumerate(A):
            step = (n[:, :-1] @ Ak.T) * (1 - harvest)
            out[:, 1:][np.all(np.isclose(step, n[:, 1:], rtol=1e-12), axis=-1)] = k
        return out[:, 1:]

    states_a, states_b = used(a, 0.0), used(b, 0.2)
    assert np.all(states_a >= 0)
    np.testing.assert_array_equal(states_a, states_b)
    assert set(np.unique(states_a)) == {0, 1}


def test_scenarios_that_differ_in_cost_alone_are_projected_once() -> None:
    years = 10
    sp = three_stage()
    neutral = Schedule.neutral(years=years, populations=1, stages=3)
    costly = replaced(neutral, annual_cost=np.full(years, 5.0))
    harvest = replaced(neutral, harvest_proportion=np.full((years, 1, 3), 0.2))
    distinct, index = engine._distinct([neutral, harvest, costly])
    assert index == [0, 1, 0]
    assert len(distinct) == 2
    a, b, c = engine.project_chunks(
        sp, [neutral, harvest, costly], years=years, chunks=((50, single_streams(1)),)
    )
    np.testing.assert_array_equal(a.abundance, c.abundance)  # type: ignore[arg-type]
    assert not np.array_equal(a.total, b.total)
    # events and transfers count: equal arrays with another event are not the same projection
    event = storm("storm", 0.5, 0.5, years)
    assert not engine._same_projection(neutral, replaced(neutral, events=(event,)))
    assert engine._same_projection(
        replaced(neutral, events=(event,)), replaced(costly, events=(event,))
    )


def test_one_scenario_together_is_the_scenario_alone() -> None:
    """A single schedule through project_chunks is what project gives (the runner's one-scenario
    study and pva.simulate agree through this)."""
    sp = three_stage(carrying_capacity=40.0, density_dependence=DensityDependence(kind="ceiling"))
    years = 20
    (together,) = engine.project_chunks(sp, (None,), years=years, chunks=((64, single_streams(4)),))
    alone = engine.project(sp, years=years, replicates=64, streams=single_streams(4))
    np.testing.assert_array_equal(together.abundance, alone.abundance)  # type: ignore[arg-type]
    np.testing.assert_array_equal(together.total, alone.total)


# ---------------------------------------------------------------------------------------------------
# chunks projected together


def metapopulation() -> Species:
    """Two populations with dispersal, K variation, a catastrophe, mating, binomial litters and
    Beverton-Holt density dependence."""
    return Species(
        name="metapop",
        stages=("juvenile", "adult"),
        U=((0.2, 0.0), (0.4, 0.85)),
        F=((0.0, 1.6), (0.0, 0.0)),
        populations=(
            Population(name="a", initial=(30, 40), carrying_capacity=150, carrying_capacity_cv=0.2),
            Population(name="b", initial=(5, 8), carrying_capacity=60),
        ),
        dispersal=Dispersal(rates=((0.0, 0.1), (0.05, 0.0))),
        catastrophes=(Catastrophe(name="fire", probability=0.1, survival_multiplier=0.6),),
        density_dependence=DensityDependence(kind="beverton_holt"),
        sex=Mating(system="polygynous", sex_ratio=0.5, harem_size=2.0),
        litter="binomial",
        max_litter=3,
    )


def schedules_with_everything(sp: Species, years: int) -> list[Schedule]:
    P, S = sp.n_populations, sp.n_stages
    neutral = Schedule.neutral(years=years, populations=P, stages=S)
    epidemic = StochasticEvent(
        name="epidemic",
        probability=np.full(years, 0.2),
        survival_multiplier=np.full((P, S), 0.7),
        fecundity_multiplier=np.full((P, S), 0.9),
        carrying_capacity_multiplier=np.full(P, 0.8),
    )
    acting = Schedule(
        **{
            **{f: getattr(neutral, f) for f in neutral.__dataclass_fields__},
            "survival_multiplier": np.full((years, P, S), 1.1),
            "harvest_proportion": np.full((years, P, S), 0.05),
            "harvest_number": np.full((years, P, S), 0.5),
            "release_number": np.full((years, P, S), 1.5),
            "release_survival": np.full((years, P, S), 0.8),
            "events": (epidemic,),
            "transfers": (
                (
                    Transfer(
                        name="move",
                        source=0,
                        population=P - 1,
                        number=np.full((years, S), 2.0),
                        survival=0.9,
                    ),
                )
                if P > 1
                else ()
            ),
        }
    )
    return [neutral, acting]


def test_chunks_together_draw_what_each_chunk_draws_alone() -> None:
    """pva.simulate projects its chunks as one wide array, each chunk drawing from its own streams
    (engine._Chunked); a runner task projects one chunk. A model with every random step (K variation,
    catastrophes, events, mating, litters, harvest, transfers, releases, dispersal, density
    dependence) gives each chunk the same numbers either way."""
    sp = metapopulation()
    years = 30
    schedules = schedules_with_everything(sp, years)
    sizes = (40, 40, 13)

    def chunks() -> list[tuple[int, Streams]]:  # fresh generators: they keep their state
        return [(size, chunk_streams(9, sp.name, k)) for k, size in enumerate(sizes)]

    record = ("abundance", "carrying_capacity")
    together = engine.project_chunks(sp, schedules, years=years, chunks=chunks(), record=record)
    alone = [
        engine.project_chunks(sp, schedules, years=years, chunks=[chunk], record=record)
        for chunk in chunks()
    ]
    for j, projection in enumerate(together):
        for field in ("mature", "total", "abundance", "carrying_capacity"):
            joined = np.concatenate([getattr(a[j], field) for a in alone])
            np.testing.assert_array_equal(getattr(projection, field), joined, err_msg=field)
    assert together[1].total[:, -1].sum() > 0
