"""Threats and interventions compile to the Schedule arrays their definitions say (closed forms)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from pva.model import Population, Species
from pva.scenario import (
    Action,
    ClimateTrend,
    ConflictMitigation,
    Disease,
    ExSituRelease,
    HabitatLoss,
    HabitatProtection,
    HabitatRestoration,
    Harvest,
    Intervention,
    InvasivePredator,
    PredatorControl,
    Reintroduction,
    Scenario,
    ScheduleBuilder,
    Supplementation,
    Threat,
    ThreatAbatement,
    Translocation,
    VitalRateReduction,
    dump,
    load,
)
from pva.schedule import Schedule

YEARS = 20


@pytest.fixture(scope="module")
def species() -> Species:
    """Two stages, two populations ("north", "south")."""
    return Species(
        name="toy",
        stages=("juvenile", "adult"),
        U=((0.2, 0.0), (0.3, 0.9)),
        F=((0.0, 0.5), (0.0, 0.0)),
        populations=(
            Population(name="north", initial=(10, 50), carrying_capacity=100.0),
            Population(name="south", initial=(5, 20), carrying_capacity=50.0),
        ),
    )


def compile_(species: Species, *actions: Action, years: int = YEARS) -> Schedule:
    return Scenario("s", actions=actions).compile(species, years=years)


# --- timing ----------------------------------------------------------------------------------------


def test_weight_is_zero_before_start_ramps_linearly_and_stops_at_end() -> None:
    a = Harvest(name="h", proportion=0.1, start=3, end=10, ramp=4)
    w = a.weight(12)
    expected = np.zeros(12)
    expected[3:10] = [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(w, expected)


def test_duration_is_end_minus_start() -> None:
    a = Harvest(name="h", proportion=0.1, start=2, duration=3)
    assert a.stop == 5
    np.testing.assert_array_equal(a.active(8), [0, 0, 1, 1, 1, 0, 0, 0])


def test_no_end_acts_to_the_horizon() -> None:
    np.testing.assert_array_equal(Harvest(name="h", number=1).active(4), [1, 1, 1, 1])


# --- threats ---------------------------------------------------------------------------------------


def test_habitat_loss_is_geometric_from_its_start(species: Species) -> None:
    s = compile_(species, HabitatLoss(name="loss", rate=0.1, start=5))
    t = np.arange(YEARS)
    expected = np.where(t >= 5, 0.9 ** (t - 4), 1.0)
    np.testing.assert_allclose(s.carrying_capacity_multiplier[:, 0], expected)
    np.testing.assert_allclose(s.carrying_capacity_multiplier[:, 1], expected)


def test_habitat_loss_stops_at_its_floor(species: Species) -> None:
    s = compile_(species, HabitatLoss(name="loss", rate=0.2, floor=0.5))
    k = s.carrying_capacity_multiplier[:, 0]
    # 0.8, 0.64, 0.512, then held at the floor
    np.testing.assert_allclose(k[:3], [0.8, 0.64, 0.512])
    np.testing.assert_allclose(k[3:], 0.5)


def test_habitat_loss_without_rate_declines_linearly_to_the_floor(species: Species) -> None:
    s = compile_(species, HabitatLoss(name="loss", floor=0.4, start=2, duration=6))
    k = s.carrying_capacity_multiplier[:, 0]
    np.testing.assert_allclose(k[:2], 1.0)
    np.testing.assert_allclose(k[2:8], 1 - 0.6 * np.arange(1, 7) / 6)
    np.testing.assert_allclose(k[8:], 0.4)  # K keeps the level it reached


def test_habitat_loss_in_one_population_only(species: Species) -> None:
    s = compile_(species, HabitatLoss(name="loss", rate=0.1, populations=("south",)))
    np.testing.assert_allclose(s.carrying_capacity_multiplier[:, 0], 1.0)
    np.testing.assert_allclose(s.carrying_capacity_multiplier[:, 1], 0.9 ** np.arange(1, YEARS + 1))


def test_harvest_proportion_ramps_in(species: Species) -> None:
    s = compile_(species, Harvest(name="h", stages=("adult",), proportion=0.2, start=1, ramp=4))
    np.testing.assert_allclose(s.harvest_proportion[:6, 0, 1], [0, 0.05, 0.1, 0.15, 0.2, 0.2])
    np.testing.assert_allclose(s.harvest_proportion[:, :, 0], 0.0)  # juveniles untouched
    np.testing.assert_allclose(s.harvest_number, 0.0)


def test_two_proportional_harvests_combine_as_independent_risks(species: Species) -> None:
    s = compile_(
        species,
        Harvest(name="a", proportion=0.2),
        Harvest(name="b", proportion=0.5),
    )
    np.testing.assert_allclose(s.harvest_proportion, 1 - 0.8 * 0.5)


def test_harvest_number(species: Species) -> None:
    s = compile_(species, Harvest(name="h", stages=("adult",), number=3, end=4))
    np.testing.assert_allclose(s.harvest_number[:, 0, 1], [3, 3, 3, 3] + [0] * (YEARS - 4))


def test_chronic_disease_multiplies_survival_and_fecundity(species: Species) -> None:
    s = compile_(species, Disease(name="d", stages=("adult",), survival=0.8, fecundity=0.5))
    np.testing.assert_allclose(s.survival_multiplier[:, :, 1], 0.8)
    np.testing.assert_allclose(s.fecundity_multiplier[:, :, 1], 0.5)
    np.testing.assert_allclose(s.survival_multiplier[:, :, 0], 1.0)
    assert s.events == ()


def test_epidemic_is_a_stochastic_event(species: Species) -> None:
    s = compile_(
        species,
        Disease(
            name="d", survival=0.5, carrying_capacity=0.9, frequency=0.2, populations=("north",)
        ),
    )
    (event,) = s.events
    assert event.name == "d"
    np.testing.assert_allclose(event.probability, 0.2)
    np.testing.assert_allclose(event.survival_multiplier, [[0.5, 0.5], [1.0, 1.0]])
    np.testing.assert_allclose(event.fecundity_multiplier, 1.0)
    np.testing.assert_allclose(event.carrying_capacity_multiplier, [0.9, 1.0])
    np.testing.assert_allclose(s.survival_multiplier, 1.0)  # nothing chronic


def test_climate_trend_compounds(species: Species) -> None:
    s = compile_(species, ClimateTrend(name="c", survival_trend=-0.01, duration=10))
    t = np.arange(YEARS)
    expected = 0.99 ** np.minimum(t + 1, 10)  # plateau after the trend ends
    np.testing.assert_allclose(s.survival_multiplier[:, 0, 0], expected)


# --- interventions ---------------------------------------------------------------------------------


def test_abatement_with_delay_reduces_the_threat_from_start_plus_delay(species: Species) -> None:
    s = compile_(
        species,
        Harvest(name="poaching", proportion=0.2),
        ConflictMitigation(name="patrols", threat="poaching", fraction=0.75, start=2, delay=3),
    )
    expected = np.where(np.arange(YEARS) >= 5, 0.2 * 0.25, 0.2)
    np.testing.assert_allclose(s.harvest_proportion[:, 0, 0], expected)


def test_two_abatements_of_one_threat_combine(species: Species) -> None:
    s = compile_(
        species,
        Harvest(name="poaching", number=10),
        ThreatAbatement(name="a", threat="poaching", fraction=0.5),
        ThreatAbatement(name="b", threat="poaching", fraction=0.5),
    )
    np.testing.assert_allclose(s.harvest_number, 10 * 0.25)


def test_abatement_of_a_chronic_threat_moves_its_multiplier_towards_one(species: Species) -> None:
    s = compile_(
        species,
        InvasivePredator(name="rats", stages=("juvenile",), survival=0.6),
        PredatorControl(name="baiting", threat="rats", fraction=0.5),
    )
    np.testing.assert_allclose(s.survival_multiplier[:, :, 0], 1 - 0.4 * 0.5)


def test_abatement_of_an_epidemic_scales_its_frequency(species: Species) -> None:
    s = compile_(
        species,
        Disease(name="flu", survival=0.5, frequency=0.2),
        ThreatAbatement(name="vaccine", threat="flu", fraction=0.5, delay=4),
    )
    np.testing.assert_allclose(s.events[0].probability, np.where(np.arange(YEARS) >= 4, 0.1, 0.2))


def test_habitat_protection_halts_the_loss_after_its_delay(species: Species) -> None:
    s = compile_(
        species,
        HabitatLoss(name="loss", rate=0.1),
        HabitatProtection(name="park", start=2, delay=1),
    )
    k = s.carrying_capacity_multiplier[:, 0]
    np.testing.assert_allclose(k[:3], [0.9, 0.81, 0.729])
    np.testing.assert_allclose(k[3:], 0.729)


def test_habitat_restoration_raises_k_to_its_target(species: Species) -> None:
    s = compile_(
        species,
        HabitatLoss(name="loss", rate=0.5, end=1),
        HabitatRestoration(name="replant", restoration_rate=0.1, restoration_target=0.8, start=1),
    )
    k = s.carrying_capacity_multiplier[:, 0]
    np.testing.assert_allclose(k[:5], [0.5, 0.6, 0.7, 0.8, 0.8])
    np.testing.assert_allclose(k[5:], 0.8)


def test_releases_every_interval_with_ramp_and_survival(species: Species) -> None:
    s = compile_(
        species,
        Supplementation(
            name="sup",
            population="south",
            individuals={"adult": 10},
            survival=0.7,
            interval=2,
            start=1,
            ramp=2,
        ),
    )
    expected = np.zeros(YEARS)
    expected[1::2] = 10.0
    expected[1] = 5.0  # half way up the ramp
    np.testing.assert_allclose(s.release_number[:, 1, 1], expected)
    np.testing.assert_allclose(s.release_number[:, 0], 0.0)
    np.testing.assert_allclose(s.release_survival[:, 1, 1], np.where(expected > 0, 0.7, 1.0))


def test_releases_into_one_cell_average_their_survival(species: Species) -> None:
    s = compile_(
        species,
        Reintroduction(name="a", individuals={"adult": 10}, survival=0.9),
        ExSituRelease(name="b", individuals={"adult": 30}, survival=0.5),
    )
    np.testing.assert_allclose(s.release_number[:, 0, 1], 40)
    np.testing.assert_allclose(s.release_survival[:, 0, 1], (10 * 0.9 + 30 * 0.5) / 40)


def test_translocation_takes_from_its_source(species: Species) -> None:
    s = compile_(
        species,
        Translocation(
            name="move", population="south", source="north", individuals={"juvenile": 4}, end=3
        ),
    )
    # a transfer between the two populations, not a harvest plus an unrelated release
    np.testing.assert_allclose(s.release_number, 0)
    np.testing.assert_allclose(s.harvest_number, 0)
    (tr,) = s.transfers
    assert (tr.source, tr.population, tr.survival) == (0, 1, 1.0)
    np.testing.assert_allclose(tr.number[:, 0], np.where(np.arange(YEARS) < 3, 4.0, 0.0))
    np.testing.assert_allclose(tr.number[:, 1], 0)


def test_translocation_into_its_own_source_is_refused(species: Species) -> None:
    move = Translocation(name="move", source="north", individuals={"adult": 4})  # into "north"
    with pytest.raises(ValueError, match="'move' moves individuals from 'north' into the same"):
        compile_(species, move)


def test_annual_cost_is_paid_while_the_intervention_runs(species: Species) -> None:
    s = compile_(
        species,
        Harvest(name="h", number=1),
        ConflictMitigation(name="m", threat="h", annual_cost=100, start=2, end=6, delay=3),
        Supplementation(name="s", individuals={"adult": 1}, annual_cost=10),
    )
    expected = 10 + np.where((np.arange(YEARS) >= 2) & (np.arange(YEARS) < 6), 100, 0)
    np.testing.assert_allclose(s.annual_cost, expected)


def test_no_action_compiles_to_the_neutral_schedule(species: Species) -> None:
    s = Scenario("no action").compile(species, years=YEARS)
    neutral = Schedule.neutral(years=YEARS, populations=2, stages=2)
    for field in (
        "survival_multiplier",
        "fecundity_multiplier",
        "carrying_capacity_multiplier",
        "harvest_proportion",
        "harvest_number",
        "release_number",
        "release_survival",
        "annual_cost",
    ):
        np.testing.assert_array_equal(getattr(s, field), getattr(neutral, field), err_msg=field)
    assert s.events == ()


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: HabitatLoss(name="x", rate=1.5),
            ValueError,
            r"rate must be .* \(0.0, 1.0\); got 1.5",
        ),
        (lambda: HabitatLoss(name="x"), ValueError, "needs end or duration"),
        (lambda: Harvest(name="x"), ValueError, "exactly one of proportion or number"),
        (lambda: Harvest(name="x", proportion=0.1, number=2), ValueError, "exactly one"),
        (lambda: Harvest(name="x", number=-1), ValueError, "number must be .*got -1"),
        (lambda: Harvest(name="x", number=1, start=True), TypeError, "start must be an integer"),
        (lambda: Harvest(name="x", number=1, start=4, end=4), ValueError, "end must be after"),
        (lambda: Harvest(name="x", number=1, end=5, duration=2), ValueError, "not both"),
        (lambda: Harvest(name="", number=1), ValueError, "name must be a non-empty"),
        (lambda: Disease(name="x", survival=1.2), ValueError, "survival must be"),
        (lambda: Disease(name="x", carrying_capacity=0.5), ValueError, "epidemics only"),
        (lambda: ThreatAbatement(name="x", threat="t", fraction=2), ValueError, "fraction"),
        (lambda: Supplementation(name="x", individuals={}), ValueError, "individuals must map"),
        (
            lambda: Supplementation(name="x", individuals={"a": 1}, survival=-0.1),
            ValueError,
            "survival",
        ),
        (
            lambda: Translocation(name="x", individuals={"a": 1}, population="p", source="p"),
            ValueError,
            "source and population must differ",
        ),
        (lambda: HabitatRestoration(name="x"), ValueError, "restoration_rate must be > 0"),
        (lambda: Action(name="x"), TypeError, "abstract"),
    ],
)
def test_invalid_actions_are_refused_with_a_message(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


def test_scenario_refuses_duplicate_names() -> None:
    with pytest.raises(ValueError, match="two actions are named 'a'"):
        Scenario("s", (Harvest(name="a", number=1), Harvest(name="a", number=2)))


def test_abatement_must_name_a_threat_of_the_scenario() -> None:
    with pytest.raises(ValueError, match="names threat 'poaching', which is not in the scenario"):
        Scenario("s", (ConflictMitigation(name="m", threat="poaching"),))


def test_abatement_must_name_a_threat_of_its_kind() -> None:
    with pytest.raises(ValueError, match="must name a InvasivePredator threat; 'h' is a Harvest"):
        Scenario("s", (Harvest(name="h", number=1), PredatorControl(name="p", threat="h")))


def test_compile_names_an_unknown_stage(species: Species) -> None:
    sc = Scenario("s", (Harvest(name="h", stages=("eggs",), number=1),))
    with pytest.raises(ValueError, match=r"names stage 'eggs', which species 'toy' does not have"):
        sc.compile(species, years=5)


def test_compile_names_an_unknown_population(species: Species) -> None:
    sc = Scenario("s", (Supplementation(name="r", population="east", individuals={"adult": 1}),))
    with pytest.raises(ValueError, match="names population 'east'"):
        sc.compile(species, years=5)


# --- serialisation ---------------------------------------------------------------------------------


def test_dump_load_round_trip_through_json() -> None:
    sc = Scenario(
        "all kinds",
        (
            HabitatLoss(name="loss", rate=0.1, floor=0.2, start=1, ramp=2),
            Harvest(name="h", stages=("adult",), number=2),
            VitalRateReduction(name="v", fecundity=0.5, populations=("north",)),
            InvasivePredator(name="rats", survival=0.7, frequency=0.3),
            ClimateTrend(name="c", fecundity_trend=0.01, duration=4),
            ConflictMitigation(name="m", threat="h", delay=2, annual_cost=3.5),
            PredatorControl(name="p", threat="rats", fraction=0.4),
            HabitatProtection(name="park", threat="loss", restoration_rate=0.01),
            Translocation(name="t", population="south", source="north", individuals={"adult": 3}),
            ExSituRelease(name="zoo", individuals={"juvenile": 5}, programme="zoo", interval=3),
        ),
        description="every kind",
    )
    again = load(json.loads(json.dumps(dump(sc))))
    assert again == sc
    assert dump(sc)["actions"][0] == {
        "type": "HabitatLoss",
        "name": "loss",
        "start": 1,
        "ramp": 2,
        "rate": 0.1,
        "floor": 0.2,
    }


def test_from_dict_names_an_unknown_key_and_type() -> None:
    with pytest.raises(ValueError, match="unknown key 'rat' for type 'HabitatLoss'"):
        Action.from_dict({"type": "HabitatLoss", "name": "x", "rat": 0.1})
    with pytest.raises(ValueError, match="unknown type 'Poaching'"):
        Action.from_dict({"type": "Poaching", "name": "x"})
    with pytest.raises(ValueError, match="missing key 'type'"):
        Action.from_dict({"name": "x"})


def test_from_dict_on_a_subclass_checks_the_type() -> None:
    assert Harvest.from_dict({"name": "h", "number": 1}) == Harvest(name="h", number=1)
    with pytest.raises(ValueError, match="type 'HabitatLoss' is not a Harvest"):
        Harvest.from_dict({"type": "HabitatLoss", "name": "x", "rate": 0.1})
    assert Scenario.from_dict(Scenario("s").to_dict()) == Scenario("s")
    with pytest.raises(ValueError, match="type must be 'Scenario'"):
        Scenario.from_dict({"type": "Study", "name": "s"})


# --- the strategy contract: a new threat or intervention is one class --------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Drought(Threat):
    """A threat defined outside pva: fecundity of the listed stages cut by ``cut`` in odd steps."""

    stages: tuple[str, ...] = ()
    cut: float = 0.5

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations, "stages": self.stages}

    def apply(self, builder: ScheduleBuilder) -> None:
        odd = (np.arange(builder.years) % 2 == 1) * builder.effect(self)
        cell = builder.cell(self.populations, self.stages)
        builder.fecundity_multiplier *= 1.0 - self.cut * odd[:, None, None] * cell


@dataclasses.dataclass(frozen=True, kw_only=True)
class Irrigation(Intervention):
    """An intervention defined outside pva: removes ``fraction`` of a named drought's effect."""

    threat: str = ""
    fraction: float = 0.5

    def abate(self, builder: ScheduleBuilder) -> None:
        builder.abate(self.threat, np.full(builder.years, self.fraction))


def test_a_new_threat_compiles_through_its_apply(species: Species) -> None:
    s = compile_(species, Drought(name="d", stages=("juvenile",), populations=("south",), cut=0.4))
    expected = np.ones((YEARS, 2, 2))
    expected[1::2, 1, 0] = 0.6
    np.testing.assert_allclose(s.fecundity_multiplier, expected)
    np.testing.assert_array_equal(s.survival_multiplier, 1.0)  # nothing else touched
    s.check(years=YEARS, populations=2, stages=2)


def test_a_new_intervention_abates_through_its_abate_and_pays_its_cost(species: Species) -> None:
    s = compile_(
        species,
        Drought(name="d", cut=0.4),
        Irrigation(name="i", threat="d", fraction=0.25, annual_cost=3.0, end=5),
    )
    expected = np.where(np.arange(YEARS) % 2 == 1, 1 - 0.4 * 0.75, 1.0)
    np.testing.assert_allclose(s.fecundity_multiplier, expected[:, None, None] * np.ones((2, 2)))
    np.testing.assert_allclose(s.annual_cost, np.where(np.arange(YEARS) < 5, 3.0, 0.0))


def test_new_actions_are_checked_read_and_written_like_built_in_ones(species: Species) -> None:
    with pytest.raises(ValueError, match="Drought 'd' names stage 'eggs'"):
        compile_(species, Drought(name="d", stages=("eggs",)))
    d = Drought(name="d", cut=0.2, start=3)
    assert d.to_dict() == {"type": "Drought", "name": "d", "start": 3, "cut": 0.2}
    assert Action.from_dict(d.to_dict()) == d  # found by its class name, no registration
    with pytest.raises(ValueError, match="unknown key 'cutt' for type 'Drought'"):
        Action.from_dict({"type": "Drought", "name": "d", "cutt": 0.2})


def test_an_action_without_apply_is_refused_when_compiled(species: Species) -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Idle(Threat):
        pass

    with pytest.raises(NotImplementedError, match="Idle must define apply"):
        compile_(species, Idle(name="idle"))
