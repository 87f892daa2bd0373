"""Sites shared by species: the places a study's populations live, and the threats that strike a
site as a whole.

A :class:`Site` is a place with a name, optional coordinates and area, and a flag for an Alliance
for Zero Extinction (AZE) site. A species' population is at a site when it carries the site's name
(``[[species.populations]] name = "Isla Guadalupe"``), so several species can share one site. A
study's threats and interventions can be written for a site (``site = "..."`` in their table, see
``docs/study-file.md``): they then act on the population of that name of every species that has
one, and on no other population.

A deterministic action (habitat loss, protection, chronic predation, releases) acts identically on
every species it reaches. A random one must strike them together: a hurricane that hits the island
hits every species on it in the same year. :class:`SiteCatastrophe` is that threat; its draws come
from a stream keyed by the study's seed and its own name, never by the species
(:func:`pva.streams.event_stream` with ``shared=True``), so in replicate r it strikes the same years
in every species and every scenario that has it.

AZE sites (Ricketts et al. 2005; AZE 2018) hold the last population(s) of one or more Endangered or
Critically Endangered species (the site's *trigger species*); a site's ``trigger_species`` default
to every species with a population there.

References
----------
Ricketts T.H. et al. (2005) Pinpointing and preventing imminent extinctions. PNAS 102: 18497-18501.
Alliance for Zero Extinction (2018) AZE Sites: criteria and the 2018 update. www.zeroextinction.org.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from pva import validation
from pva.scenario import ScheduleBuilder, Threat
from pva.schedule import StochasticEvent


@dataclasses.dataclass(frozen=True, kw_only=True)
class Site:
    """A place shared by the populations of one or more species (``[[sites]]`` of a study)."""

    name: str
    """The site's name; a species' population of this name lives here."""
    coordinates: tuple[float, float] | None = None
    """Position (x, y) in km on a planar projection, as the populations' ``coordinates``."""
    area: float | None = None
    """Area of the site in km², > 0."""
    aze: bool = False
    """Whether it is an Alliance for Zero Extinction site."""
    trigger_species: tuple[str, ...] = ()
    """Species for which the site matters (for an AZE site: the EN/CR species whose last
    population it holds); empty: every species with a population here."""
    description: str = ""
    """Free text for reports."""

    def __post_init__(self) -> None:
        validation.name(self.name, "name", owner="Site")
        own = validation.owner(self)
        if self.coordinates is not None:
            xy = validation.numbers(
                self.coordinates, "coordinates (x, y in km)", owner=own, length=2
            )
            object.__setattr__(self, "coordinates", xy)
        if self.area is not None:
            area = validation.number(self.area, "area (km²)", owner=own, low=0, low_open=True)
            object.__setattr__(self, "area", area)
        validation.flag(self.aze, "aze", owner=own)
        triggers = validation.names(self.trigger_species, "trigger_species", owner=own, single=True)
        object.__setattr__(self, "trigger_species", triggers)
        validation.text(self.description, "description", owner=own)

    def to_dict(self) -> dict[str, Any]:
        """The ``[[sites]]`` table (keys at their default left out)."""
        out: dict[str, Any] = {"name": self.name}
        if self.coordinates is not None:
            out["coordinates"] = list(self.coordinates)
        if self.area is not None:
            out["area"] = self.area
        if self.aze:
            out["aze"] = True
        if self.trigger_species:
            out["trigger_species"] = list(self.trigger_species)
        if self.description:
            out["description"] = self.description
        return out

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "[[sites]]") -> Site:
        """Build from a ``[[sites]]`` table; unknown keys are errors naming the key."""
        validation.check_keys(
            data, ("name", "coordinates", "area", "aze", "trigger_species", "description"), where
        )
        try:
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{where}: {exc}") from None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SiteCatastrophe(Threat):
    """A catastrophe of a site (a hurricane, a fire, a flood, a spill): strikes with an annual
    probability and multiplies survival, fecundity and K of the populations it names — the
    populations at the site — of every species it applies to, all in the same replicates and years.

    Written for a site (``site = "..."`` in a study file) its ``populations`` are that site's
    population of each species. Its draws come from a stream keyed by the study's seed and its
    name (not the species): in replicate r it strikes every species in the same years, and every
    scenario that has it too (common random numbers). An intervention that abates it (a
    :class:`~pva.scenario.ThreatAbatement` naming it) lowers its annual probability. The effect of
    a strike is a single-year multiplicative effect, as for a species' own catastrophes
    (:class:`pva.model.Catastrophe`; Mangel & Tier 1994).
    """

    probability: float = 0.0
    """Annual probability of striking, in [0, 1]."""
    survival: float = 1.0
    """Multiplier of the survival of the stages struck in a year it strikes, in [0, 1]."""
    fecundity: float = 1.0
    """Multiplier of their fecundity, in [0, 1]."""
    carrying_capacity: float = 1.0
    """Multiplier of K of the populations struck in a year it strikes, in [0, 1]."""
    stages: tuple[str, ...] = ()
    """Stages struck (empty: all)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        object.__setattr__(
            self, "probability", validation.probability(self.probability, "probability", owner=own)
        )
        for field in ("survival", "fecundity", "carrying_capacity"):
            value = validation.number(getattr(self, field), field, owner=own, low=0.0, high=1.0)
            object.__setattr__(self, field, value)
        stages = validation.names(self.stages, "stages", owner=own, single=True)
        object.__setattr__(self, "stages", stages)

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations, "stages": self.stages}

    def apply(self, builder: ScheduleBuilder) -> None:
        effect = builder.effect(self)  # timing, ramp and abatement scale the probability
        cell = builder.cell(self.populations, self.stages)
        populations = builder.population_mask(self.populations)
        builder.events.append(
            StochasticEvent(
                name=self.name,
                probability=self.probability * effect,
                survival_multiplier=1.0 - (1.0 - self.survival) * cell,
                fecundity_multiplier=1.0 - (1.0 - self.fecundity) * cell,
                carrying_capacity_multiplier=np.asarray(
                    1.0 - (1.0 - self.carrying_capacity) * populations, dtype=float
                ),
                shared=True,
            )
        )


__all__ = ["Site", "SiteCatastrophe"]
