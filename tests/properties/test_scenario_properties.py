"""Hypothesis properties of scenarios: round trip, bounds of the compiled schedule, monotone abatement."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pva.model import Population, Species
from pva.scenario import (
    ClimateTrend,
    ConflictMitigation,
    Disease,
    ExSituRelease,
    HabitatLoss,
    HabitatProtection,
    Harvest,
    InvasivePredator,
    PredatorControl,
    Scenario,
    ThreatAbatement,
    Translocation,
    VitalRateReduction,
    dump,
    load,
)
from pva.validation import printable_name

STAGES = ("juvenile", "adult")
POPS = ("north", "south")
YEARS = 25

SPECIES = Species(
    name="toy",
    stages=STAGES,
    U=((0.2, 0.0), (0.3, 0.9)),
    F=((0.0, 0.5), (0.0, 0.0)),
    populations=(
        Population(name="north", initial=(10, 50), carrying_capacity=100.0),
        Population(name="south", initial=(5, 20), carrying_capacity=50.0),
    ),
)

fractions = st.floats(0.0, 1.0, allow_nan=False)
small_ints = st.integers(0, 30)
stage_sets = st.sampled_from([(), ("adult",), ("juvenile",), STAGES])
pop_sets = st.sampled_from([(), ("north",), ("south",), POPS])


@st.composite
def timing(draw: st.DrawFn) -> dict[str, int]:
    start = draw(small_ints)
    out = {"start": start, "ramp": draw(st.integers(0, 5))}
    kind = draw(st.sampled_from(["open", "end", "duration"]))
    if kind == "end":
        out["end"] = start + draw(st.integers(1, 20))
    elif kind == "duration":
        out["duration"] = draw(st.integers(1, 20))
    return out


@st.composite
def threats(draw: st.DrawFn, name: str) -> object:
    t = draw(timing())
    kind = draw(
        st.sampled_from(["loss", "harvest_p", "harvest_n", "vrr", "disease", "predator", "climate"])
    )
    if kind == "loss":
        floor = draw(st.floats(0.0, 0.9))
        if "end" in t or "duration" in t:
            rate = draw(st.none() | st.floats(0.01, 0.5))
        else:
            rate = draw(st.floats(0.01, 0.5))
        return HabitatLoss(name=name, rate=rate, floor=floor, populations=draw(pop_sets), **t)
    if kind == "harvest_p":
        return Harvest(name=name, stages=draw(stage_sets), proportion=draw(fractions), **t)
    if kind == "harvest_n":
        return Harvest(name=name, stages=draw(stage_sets), number=draw(st.floats(0, 50)), **t)
    if kind == "climate":
        return ClimateTrend(
            name=name,
            stages=draw(stage_sets),
            survival_trend=draw(st.floats(-0.05, 0.0)),
            fecundity_trend=draw(st.floats(-0.05, 0.0)),
            **t,
        )
    cls = {"vrr": VitalRateReduction, "disease": Disease, "predator": InvasivePredator}[kind]
    frequency = draw(st.none() | st.floats(0.01, 1.0))
    return cls(
        name=name,
        stages=draw(stage_sets),
        survival=draw(fractions),
        fecundity=draw(fractions),
        carrying_capacity=draw(fractions) if frequency is not None else 1.0,
        frequency=frequency,
        populations=draw(pop_sets),
        **t,
    )


def abatement_for(threat: object, name: str, fraction: float, delay: int, cost: float) -> object:
    if isinstance(threat, HabitatLoss):
        return HabitatProtection(
            name=name, threat=threat.name, fraction=fraction, delay=delay, annual_cost=cost
        )
    if isinstance(threat, Harvest):
        return ConflictMitigation(
            name=name, threat=threat.name, fraction=fraction, delay=delay, annual_cost=cost
        )
    if isinstance(threat, InvasivePredator):
        return PredatorControl(
            name=name, threat=threat.name, fraction=fraction, delay=delay, annual_cost=cost
        )
    return ThreatAbatement(
        name=name, threat=threat.name, fraction=fraction, delay=delay, annual_cost=cost
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    ts = [draw(threats(f"threat {i}")) for i in range(draw(st.integers(0, 4)))]
    actions: list[object] = list(ts)
    for i, t in enumerate(ts):
        if draw(st.booleans()):
            actions.append(
                abatement_for(
                    t,
                    f"abate {i}",
                    draw(fractions),
                    draw(st.integers(0, 5)),
                    draw(st.floats(0, 1e6)),
                )
            )
    if draw(st.booleans()):
        actions.append(
            Translocation(
                name="move",
                population="south",
                source=draw(st.sampled_from([None, "north"])),
                individuals={draw(st.sampled_from(STAGES)): draw(st.integers(0, 20))},
                survival=draw(fractions),
                interval=draw(st.integers(1, 4)),
                **draw(timing()),
            )
        )
    if draw(st.booleans()):
        actions.append(
            ExSituRelease(
                name="zoo", individuals={"adult": draw(st.floats(0, 10))}, programme="zoo"
            )
        )
    # names are printable text (no control characters: pva.validation.printable_name)
    names = st.text(min_size=1, max_size=10).filter(lambda s: s.strip() and printable_name(s))
    return Scenario(draw(names), tuple(actions))


@settings(deadline=None, max_examples=60)
@given(scenarios())
def test_load_dump_round_trip(sc: Scenario) -> None:
    assert load(json.loads(json.dumps(dump(sc)))) == sc


@settings(deadline=None, max_examples=40)
@given(scenarios())
def test_compiled_schedule_is_within_bounds(sc: Scenario) -> None:
    s = sc.compile(SPECIES, years=YEARS)
    for name in (
        "survival_multiplier",
        "fecundity_multiplier",
        "harvest_proportion",
        "release_survival",
    ):
        values = getattr(s, name)
        assert values.shape == (YEARS, 2, 2), name
        assert np.all((values >= 0) & (values <= 1)), name
    assert np.all(s.carrying_capacity_multiplier >= 0)
    assert np.all(s.carrying_capacity_multiplier <= 1)  # no restoration above the initial K here
    assert np.all(s.harvest_number >= 0)
    assert np.all(s.release_number >= 0)
    assert np.all(s.annual_cost >= 0)
    for e in s.events:
        assert np.all((e.probability >= 0) & (e.probability <= 1))


@settings(deadline=None, max_examples=40)
@given(threats("t"), fractions, st.integers(0, 10))
def test_abatement_never_makes_a_schedule_worse(
    threat: object, fraction: float, delay: int
) -> None:
    before = Scenario("no action", (threat,)).compile(SPECIES, years=YEARS)
    after = Scenario("abate", (threat, abatement_for(threat, "a", fraction, delay, 0.0))).compile(
        SPECIES, years=YEARS
    )
    tol = 1e-12
    assert np.all(after.survival_multiplier >= before.survival_multiplier - tol)
    assert np.all(after.fecundity_multiplier >= before.fecundity_multiplier - tol)
    assert np.all(after.carrying_capacity_multiplier >= before.carrying_capacity_multiplier - tol)
    assert np.all(after.harvest_proportion <= before.harvest_proportion + tol)
    assert np.all(after.harvest_number <= before.harvest_number + tol)
    for b, a in zip(before.events, after.events, strict=True):
        assert np.all(a.probability <= b.probability + tol)
