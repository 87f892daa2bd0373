"""The :class:`Schedule`: what a scenario does to one species, year by year — the engine's only input
besides the species.

A scenario (:mod:`pva.scenario`) compiles, for one species and horizon, into a Schedule of plain
arrays that :func:`pva.engine.project` applies inside its yearly step; the engine never sees threat or
intervention objects. That keeps the engine small and lets scenarios grow without touching it.

Every array field declares its axes in its metadata (:func:`axes`): ``"year"`` (projection
step ``t``, the step from year ``t`` to ``t + 1``), ``"population"`` and ``"stage"``, and the value
that means "no effect". From that one declaration come :meth:`Schedule.neutral` (the schedule of a
scenario that does nothing), :meth:`Schedule.check` (shapes against a species and horizon) and
:meth:`Schedule.window` (the steps a projection starting at a later year sees, as
:func:`pva.nested.extinction_risk_windows` needs). Adding a field to the schedule is therefore one
edit here (and its use in the engine); nothing else lists the fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

YEAR, POPULATION, STAGE = "year", "population", "stage"
"""Axis names of schedule arrays (the year axis is always first)."""

_Timed = TypeVar("_Timed", bound="_TimeIndexed")


def axes(*names: str, neutral: float) -> dict[str, Any]:
    """Metadata of a dataclass field that holds an array over the axes ``names`` (``"year"`` first
    if present), whose value ``neutral`` means "no effect": ``dataclasses.field(metadata=axes(...))``.
    """
    return {"axes": names, "neutral": neutral}


ITEMS: dict[str, Any] = {"items": True}
"""Metadata of a field that holds a tuple of time-indexed records (events, transfers)."""


def _arrays(obj: object) -> Iterator[tuple[str, tuple[str, ...], Any]]:
    """(name, axes, neutral) of the array fields of a dataclass (instance or class)."""
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        if "axes" in f.metadata:
            yield f.name, f.metadata["axes"], f.metadata["neutral"]


def _timed_items(obj: object) -> Iterator[str]:
    """Names of the fields that hold a tuple of time-indexed records (events, transfers)."""
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        if f.metadata.get("items"):
            yield f.name


class _TimeIndexed:
    """Shape checks and time windows for a dataclass whose arrays declare their axes."""

    def _check_shapes(self, sizes: Mapping[str, int], where: str) -> None:
        for name, dims, _ in _arrays(self):
            value = getattr(self, name)
            if value is None:
                continue
            want = tuple(sizes[a] for a in dims)
            got = np.shape(value)
            if got != want:
                raise ValueError(
                    f"{where}.{name} must have shape ({', '.join(dims)}) = {want!r}; got {got!r}"
                )
        for name in _timed_items(self):
            for i, item in enumerate(getattr(self, name)):
                item.check_item(sizes, f"{where}.{name}[{i}] ({item.name!r})")

    def _take(self: _Timed, steps: npt.NDArray[np.intp]) -> _Timed:
        """A copy whose year axes hold ``steps`` of the original (other fields shared)."""
        changes: dict[str, Any] = {
            name: None if getattr(self, name) is None else np.asarray(getattr(self, name))[steps]
            for name, dims, _ in _arrays(self)
            if dims[:1] == (YEAR,)
        }
        for name in _timed_items(self):
            changes[name] = tuple(item._take(steps) for item in getattr(self, name))
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class StochasticEvent(_TimeIndexed):
    """A threat that strikes at random, e.g. a disease outbreak, applied like a catastrophe.

    Arrays are indexed by projection step ``t`` (the step from year ``t`` to ``t + 1``).
    """

    name: str
    probability: FloatArray = dataclasses.field(metadata=axes(YEAR, neutral=0.0))
    """Annual probability that the event strikes a replicate, shape (years,)."""
    survival_multiplier: FloatArray = dataclasses.field(
        metadata=axes(POPULATION, STAGE, neutral=1.0)
    )
    """Multiplier of stage survival (columns of U) in a year it strikes, shape (populations, stages)."""
    fecundity_multiplier: FloatArray = dataclasses.field(
        metadata=axes(POPULATION, STAGE, neutral=1.0)
    )
    """Multiplier of fecundity (columns of F) in a year it strikes, shape (populations, stages)."""
    carrying_capacity_multiplier: FloatArray = dataclasses.field(
        metadata=axes(POPULATION, neutral=1.0)
    )
    """Multiplier of K in a year it strikes, shape (populations,)."""
    shared: bool = False
    """Whether the event strikes every species that has it in the same replicates and years (a
    catastrophe at a site shared by species): its draws come from a stream keyed by the study's
    seed and the event's name, not by the species (:func:`pva.streams.event_stream`)."""

    def check_item(self, sizes: Mapping[str, int], where: str) -> None:
        """Raise ValueError unless the arrays fit ``sizes`` (years, populations, stages)."""
        self._check_shapes(sizes, where)


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class Transfer(_TimeIndexed):
    """Individuals moved from one population to another (a translocation with a source).

    The engine takes ``min(number, individuals there)`` of each stage from ``source`` after harvest
    (so a donor with fewer than requested gives what it has, and an empty one gives nothing) and adds
    those that survive release (binomial, probability ``survival``) to ``population``: moved
    individuals are never created (RAMAS Metapop's translocation management action; Akçakaya &
    Root 2005). Arrays are indexed by projection step ``t``.
    """

    name: str
    source: int
    """Index of the donor population."""
    population: int
    """Index of the receiving population."""
    number: FloatArray = dataclasses.field(metadata=axes(YEAR, STAGE, neutral=0.0))
    """Individuals requested per stage, shape (years, stages) (a whole number drawn by unbiased
    random rounding with demographic stochasticity)."""
    survival: float
    """Probability that a moved individual survives release, in [0, 1]."""

    def check_item(self, sizes: Mapping[str, int], where: str) -> None:
        """Raise ValueError unless ``number`` fits ``sizes`` and both populations exist and differ."""
        self._check_shapes(sizes, where)
        P = sizes[POPULATION]
        if not (
            0 <= self.source < P and 0 <= self.population < P and self.source != self.population
        ):
            raise ValueError(
                f"{where} must move between two of the {P} populations; got "
                f"source={self.source!r}, population={self.population!r}"
            )


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class Captive(_TimeIndexed):
    """An ex-situ (captive or cultivated) population a scenario keeps: founders taken from a wild
    population, its own demography or a production schedule, a capacity, releases to the wild.

    Each step, in the engine's order: founders are taken from ``source`` at the start of the step
    (at most what is there: ``min(founders, individuals)``, drawn as whole numbers by unbiased
    random rounding) and join the captive population with their gene diversity; the captive
    population then lives by the species' mean matrices with ``survival_multiplier`` and
    ``fecundity_multiplier`` (no environmental variation, no mate limitation: a managed stock),
    or, with ``production``, keeps its stock and produces ``production`` individuals a year
    (Poisson) for release; it is truncated to ``capacity`` (0 outside the programme's years: the
    stock is given up when the programme ends); releases take ``min(release_number, available)``
    of each stage, population by population in order, after the wild year's transfers, each
    surviving release with ``release_survival`` (binomial). All of these draws come from the
    ex-situ stream (:func:`pva.streams.ex_situ_stream`), so the wild draws of a scenario are those
    of any other scenario in the same state. Arrays are indexed by projection step ``t``.
    """

    name: str
    source: int
    """Index of the wild population founders come from."""
    founders: FloatArray = dataclasses.field(metadata=axes(YEAR, STAGE, neutral=0.0))
    """Founders requested per stage, shape (years, stages)."""
    capacity: FloatArray = dataclasses.field(metadata=axes(YEAR, neutral=0.0))
    """Largest number of captive individuals in each step, shape (years,)."""
    release_number: FloatArray = dataclasses.field(
        metadata=axes(YEAR, POPULATION, STAGE, neutral=0.0)
    )
    """Individuals requested for release, shape (years, populations, stages)."""
    release_survival: FloatArray = dataclasses.field(
        metadata=axes(YEAR, POPULATION, STAGE, neutral=1.0)
    )
    """Probability that a released individual survives release, same shape."""
    survival_multiplier: float = 1.0
    """Captive survival relative to the species' mean U (columns capped at 1)."""
    fecundity_multiplier: float = 1.0
    """Captive fecundity relative to the species' mean F (and C)."""
    production: FloatArray | None = dataclasses.field(
        default=None, metadata=axes(YEAR, STAGE, neutral=0.0)
    )
    """Expected individuals produced per stage and step for release, shape (years, stages);
    None: the captive population's own demography."""
    effective_size_ratio: float | None = None
    """Ne / N of the captive population (None: the species' genetics rule)."""

    def check_item(self, sizes: Mapping[str, int], where: str) -> None:
        """Raise ValueError unless the arrays fit ``sizes`` and ``source`` exists."""
        self._check_shapes(sizes, where)
        P = sizes[POPULATION]
        if not 0 <= self.source < P:
            raise ValueError(
                f"{where} must take founders from one of the {P} populations; got "
                f"source={self.source!r}"
            )


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class Schedule(_TimeIndexed):
    """What a scenario does to one species, year by year, as arrays the engine applies.

    All arrays are indexed first by projection step ``t = 0 .. years - 1`` (the step from year ``t``
    to year ``t + 1``), then by population and stage. The order in the engine's yearly step is:
    founders into ex-situ programmes → environment → these multipliers (and events) → density
    dependence (and inbreeding depression) → survival, transitions and births (and the captive
    year) → harvest → transfers → releases (from outside and from programmes) → dispersal →
    ceiling → genetics → record.
    """

    survival_multiplier: FloatArray = dataclasses.field(
        metadata=axes(YEAR, POPULATION, STAGE, neutral=1.0)
    )
    """Multiplies every entry of column j of U (survival of stage j), shape (years, populations, stages).
    Products above what keeps a column sum <= 1 are capped by the engine."""
    fecundity_multiplier: FloatArray = dataclasses.field(
        metadata=axes(YEAR, POPULATION, STAGE, neutral=1.0)
    )
    """Multiplies column j of F (and C), shape (years, populations, stages)."""
    carrying_capacity_multiplier: FloatArray = dataclasses.field(
        metadata=axes(YEAR, POPULATION, neutral=1.0)
    )
    """Multiplies K, shape (years, populations)."""
    harvest_proportion: FloatArray = dataclasses.field(
        metadata=axes(YEAR, POPULATION, STAGE, neutral=0.0)
    )
    """Expected fraction of each stage removed after the demographic step (binomial with demographic
    stochasticity), shape (years, populations, stages)."""
    harvest_number: FloatArray = dataclasses.field(
        metadata=axes(YEAR, POPULATION, STAGE, neutral=0.0)
    )
    """Expected number removed per stage after the proportional harvest (Poisson, capped at what is
    there), shape (years, populations, stages)."""
    release_number: FloatArray = dataclasses.field(
        metadata=axes(YEAR, POPULATION, STAGE, neutral=0.0)
    )
    """Individuals released per stage after harvest, shape (years, populations, stages). With
    demographic stochasticity a fractional number (e.g. on a ramp) is rounded at random to one of
    its two neighbouring whole numbers with the mean kept (4.3: 5 with probability 0.3, else 4)."""
    release_survival: FloatArray = dataclasses.field(
        metadata=axes(YEAR, POPULATION, STAGE, neutral=1.0)
    )
    """Probability that a released individual survives release (binomial), same shape."""
    events: tuple[StochasticEvent, ...] = dataclasses.field(default=(), metadata=ITEMS)
    """Random threats the scenario adds, each drawn from its own child of the ``events`` stream
    (:func:`pva.streams.event_stream`), applied in this order."""
    annual_cost: FloatArray | None = dataclasses.field(
        default=None, metadata=axes(YEAR, neutral=0.0)
    )
    """Cost of the scenario's interventions per step, shape (years,), in the study's currency."""
    transfers: tuple[Transfer, ...] = dataclasses.field(default=(), metadata=ITEMS)
    """Translocations between populations of the species, applied after harvest and before releases
    in this order (see :class:`Transfer`)."""
    programmes: tuple[Captive, ...] = dataclasses.field(default=(), metadata=ITEMS)
    """Ex-situ programmes (see :class:`Captive`): founders taken at the start of a step, releases
    after the transfers."""

    @classmethod
    def neutral(cls, *, years: int, populations: int, stages: int) -> Schedule:
        """The schedule of a scenario that changes nothing: every array at its neutral value."""
        sizes = {YEAR: years, POPULATION: populations, STAGE: stages}
        arrays: dict[str, Any] = {
            name: np.full(tuple(sizes[a] for a in dims), float(neutral))
            for name, dims, neutral in _arrays(cls)
        }
        return cls(**arrays)

    @property
    def years(self) -> int:
        """Number of projection steps the schedule covers."""
        for name, dims, _ in _arrays(self):
            value = getattr(self, name)
            if value is not None and dims[:1] == (YEAR,):
                return int(np.shape(value)[0])
        raise ValueError("a Schedule needs at least one array over years")  # pragma: no cover

    def check(self, *, years: int, populations: int, stages: int) -> None:
        """Raise ValueError unless every array (and every event and transfer) has the shape its axes
        give for ``years`` steps, ``populations`` and ``stages``, and transfers move between two
        existing populations."""
        self._check_shapes({YEAR: years, POPULATION: populations, STAGE: stages}, "schedule")

    def window(self, *, start: int, years: int) -> Schedule:
        """Steps ``start .. start + years - 1`` of the schedule, for a projection that starts at year
        ``start``; steps past its last one hold the last step's values (the scenario as it stands at
        the horizon continues unchanged)."""
        steps = np.minimum(np.arange(start, start + years), self.years - 1)
        return self._take(steps)
