"""Threats and interventions as scenarios, and the year-by-year :class:`Schedule` they compile to.

The engine never sees threat or intervention objects: a scenario is compiled, for one species and
horizon, into a :class:`Schedule` of plain arrays that the engine applies inside its yearly step.
That keeps the engine small and lets scenarios grow without touching it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class StochasticEvent:
    """A threat that strikes at random, e.g. a disease outbreak, applied like a catastrophe.

    Arrays are indexed by projection step ``t`` (the step from year ``t`` to ``t + 1``).
    """

    name: str
    probability: FloatArray
    """Annual probability that the event strikes a replicate, shape (years,)."""
    survival_multiplier: FloatArray
    """Multiplier of stage survival (columns of U) in a year it strikes, shape (populations, stages)."""
    fecundity_multiplier: FloatArray
    """Multiplier of fecundity (columns of F) in a year it strikes, shape (populations, stages)."""
    carrying_capacity_multiplier: FloatArray
    """Multiplier of K in a year it strikes, shape (populations,)."""


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class Schedule:
    """What a scenario does to one species, year by year, as arrays the engine applies.

    All arrays are indexed first by projection step ``t = 0 .. years - 1`` (the step from year ``t``
    to year ``t + 1``), then by population and stage. The order in the engine's yearly step is:
    environment → these multipliers (and events) → density dependence → survival, transitions and
    births → harvest → releases → dispersal → record.
    """

    survival_multiplier: FloatArray
    """Multiplies every entry of column j of U (survival of stage j), shape (years, populations, stages).
    Products above what keeps a column sum <= 1 are capped by the engine."""
    fecundity_multiplier: FloatArray
    """Multiplies column j of F (and C), shape (years, populations, stages)."""
    carrying_capacity_multiplier: FloatArray
    """Multiplies K, shape (years, populations)."""
    harvest_proportion: FloatArray
    """Expected fraction of each stage removed after the demographic step (binomial with demographic
    stochasticity), shape (years, populations, stages)."""
    harvest_number: FloatArray
    """Expected number removed per stage after the proportional harvest (Poisson, capped at what is
    there), shape (years, populations, stages)."""
    release_number: FloatArray
    """Individuals released per stage after harvest (rounded down to whole individuals with
    demographic stochasticity), shape (years, populations, stages)."""
    release_survival: FloatArray
    """Probability that a released individual survives release (binomial), same shape."""
    events: tuple[StochasticEvent, ...] = ()
    """Random threats the scenario adds, drawn from the ``events`` stream in this order."""
    annual_cost: FloatArray | None = None
    """Cost of the scenario's interventions per step, shape (years,), in the study's currency."""

    @classmethod
    def neutral(cls, *, years: int, populations: int, stages: int) -> Schedule:
        """The schedule of a scenario that changes nothing."""
        ones = np.ones((years, populations, stages))
        zeros = np.zeros((years, populations, stages))
        return cls(
            survival_multiplier=ones,
            fecundity_multiplier=ones.copy(),
            carrying_capacity_multiplier=np.ones((years, populations)),
            harvest_proportion=zeros,
            harvest_number=zeros.copy(),
            release_number=zeros.copy(),
            release_survival=ones.copy(),
            events=(),
            annual_cost=np.zeros(years),
        )
