"""Hypothesis properties of scenarios: round trip, bounds of the compiled schedule, monotone abatement."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pva.model import Population, Species
from pva.scenario import Scenario, dump, load
from pva.testing import strategies as pst

YEARS = 25

SPECIES = Species(
    name="toy",
    stages=("juvenile", "adult"),
    U=((0.2, 0.0), (0.3, 0.9)),
    F=((0.0, 0.5), (0.0, 0.0)),
    populations=(
        Population(name="north", initial=(10, 50), carrying_capacity=100.0),
        Population(name="south", initial=(5, 20), carrying_capacity=50.0),
    ),
)
POPULATIONS = tuple(p.name for p in SPECIES.populations)


@settings(deadline=None, max_examples=60)
@given(pst.scenarios(SPECIES))
def test_load_dump_round_trip(sc: Scenario) -> None:
    assert load(json.loads(json.dumps(dump(sc)))) == sc


@settings(deadline=None, max_examples=40)
@given(pst.scenarios(SPECIES))
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
@given(
    pst.threats("t", stages=SPECIES.stages, populations=POPULATIONS),
    pst.probabilities,
    st.integers(0, 10),
)
def test_abatement_never_makes_a_schedule_worse(
    threat: object, fraction: float, delay: int
) -> None:
    before = Scenario("no action", (threat,)).compile(SPECIES, years=YEARS)
    after = Scenario(
        "abate", (threat, pst.abatement_for(threat, "a", fraction, delay, 0.0))
    ).compile(SPECIES, years=YEARS)
    tol = 1e-12
    assert np.all(after.survival_multiplier >= before.survival_multiplier - tol)
    assert np.all(after.fecundity_multiplier >= before.fecundity_multiplier - tol)
    assert np.all(after.carrying_capacity_multiplier >= before.carrying_capacity_multiplier - tol)
    assert np.all(after.harvest_proportion <= before.harvest_proportion + tol)
    assert np.all(after.harvest_number <= before.harvest_number + tol)
    for b, a in zip(before.events, after.events, strict=True):
        assert np.all(a.probability <= b.probability + tol)
