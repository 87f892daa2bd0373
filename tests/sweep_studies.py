"""Small studies the sweep tests share (not a conftest: test modules import it directly).

``harvest_study`` is a two-stage herb under a harvest of adults ("poaching") in two scenarios, no
action and patrols that halve the harvest; its extinction risk rises with the harvested proportion.
"""

from __future__ import annotations

from pva.model import MatrixSelection, Species
from pva.scenario import Harvest, Scenario, ThreatAbatement
from pva.study import Outputs, Study


def herb(**changes: object) -> Species:
    """Juveniles and adults with λ about 1.05 unharvested, 20 of each, a ceiling at K = 60."""
    fields: dict[str, object] = {
        "name": "herb",
        "stages": ("juvenile", "adult"),
        "U": ((0.2, 0.0), (0.45, 0.8)),
        "F": ((0.0, 0.5), (0.0, 0.0)),
        "initial": (10, 20),
        "carrying_capacity": 60.0,
        "quasi_extinction_threshold": 5.0,
    }
    fields.update(changes)
    return Species(**fields)  # type: ignore[arg-type]


GOOD_AND_BAD_YEARS = MatrixSelection(
    U=(((0.3, 0.0), (0.55, 0.9)), ((0.1, 0.0), (0.3, 0.6))),
    F=(((0.0, 0.8), (0.0, 0.0)), ((0.0, 0.15), (0.0, 0.0))),
    probabilities=(0.5, 0.5),
)
"""Good years (λ = 1.33) and bad years (λ = 0.68), equally likely: environmental stochasticity."""


def large_herb(**changes: object) -> Species:
    """The herb in good and bad years (:data:`GOOD_AND_BAD_YEARS`), 6,000 strong, K = 20,000 and a
    quasi-extinction threshold of 1,000: its risk is set by the run of years more than by
    demographic chance, the case where common random numbers pair samples."""
    fields: dict[str, object] = {
        "U": None,
        "F": None,
        "environment": GOOD_AND_BAD_YEARS,
        "initial": (2000, 4000),
        "carrying_capacity": 20000.0,
        "quasi_extinction_threshold": 1000.0,
    }
    fields.update(changes)
    return herb(**fields)


def harvest_study(
    *,
    proportion: float = 0.1,
    replicates: int = 100,
    years: int = 20,
    seed: int = 5,
    **study: object,
) -> Study:
    """The herb under poaching of adults (``proportion`` a year), with and without patrols."""
    poaching = Harvest(name="poaching", stages=("adult",), proportion=proportion)
    patrols = ThreatAbatement(name="patrols", threat="poaching", fraction=0.5, annual_cost=100.0)
    fields: dict[str, object] = {
        "name": "harvest",
        "species": (herb(),),
        "scenarios": (
            Scenario("no action", (poaching,)),
            Scenario("patrols", (poaching, patrols)),
        ),
        "years": years,
        "replicates": replicates,
        "seed": seed,
        "chunk_size": 64,
        "outputs": Outputs(horizons=(10,), currency="USD"),
    }
    fields.update(study)
    return Study(**fields)  # type: ignore[arg-type]
