"""Threats and interventions as scenarios, each a small strategy object that compiles itself into the
year-by-year :class:`~pva.schedule.Schedule` the engine applies.

The engine never sees threat or intervention objects: :meth:`Scenario.compile` turns a scenario, for
one species and horizon, into a :class:`~pva.schedule.Schedule` of plain arrays. It is a loop: a
:class:`ScheduleBuilder` starts from the neutral schedule, every intervention that reduces a threat
records that in :meth:`Action.abate`, then every action — threats first, then interventions, each in
the order given — changes the arrays in :meth:`Action.apply`. A new threat or intervention is
therefore one class with an ``apply`` (and, if it abates threats, an ``abate``); neither the compiler
nor the engine changes.

Threats (:class:`HabitatLoss`, :class:`Harvest`, :class:`VitalRateReduction` and its kinds
:class:`Disease` and :class:`InvasivePredator`, :class:`ClimateTrend`) and interventions
(:class:`ThreatAbatement`, :class:`PredatorControl`, :class:`ConflictMitigation`,
:class:`HabitatProtection`, :class:`HabitatRestoration`, and the releases :class:`Translocation`,
:class:`Reintroduction`, :class:`Supplementation`, :class:`ExSituRelease`) are small frozen values,
each time-bounded (start, end or duration, linear ramp-in), with ``to_dict``/``from_dict`` tagged by
``"type"`` (:func:`pva.validation.from_table`). The kinds follow the unified classification of
threats and actions (Salafsky et al. 2008); the mechanics (harvest after the demographic step,
releases with a post-release survival, catastrophe-like epidemics) follow Morris & Doak (2002, ch. 2)
and VORTEX (Lacy 2000).

References
----------
Lacy, R.C. 2000. Structure of the VORTEX simulation model for population viability analysis.
Ecological Bulletins 48:191-203.
Morris, W.F. & D.F. Doak. 2002. Quantitative Conservation Biology. Sinauer.
Salafsky, N. et al. 2008. A standard lexicon for biodiversity conservation: unified classifications
of threats and actions. Conservation Biology 22:897-911.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar, cast

import numpy as np
import numpy.typing as npt

from pva import validation
from pva.schedule import Captive, Schedule, StochasticEvent, Transfer
from pva.validation import UnknownKeyError

if TYPE_CHECKING:
    from pva.model import Species

__all__ = [
    "Action",
    "ClimateTrend",
    "ConflictMitigation",
    "Disease",
    "ExSituProgramme",
    "ExSituRelease",
    "HabitatLoss",
    "HabitatProtection",
    "HabitatRestoration",
    "Harvest",
    "Intervention",
    "InvasivePredator",
    "PredatorControl",
    "Reintroduction",
    "Release",
    "Scenario",
    "ScheduleBuilder",
    "Supplementation",
    "Threat",
    "ThreatAbatement",
    "Translocation",
    "UnknownKeyError",
    "VitalRateReduction",
    "dump",
    "load",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
CapacityStep = Callable[[int, FloatArray], FloatArray]
"""``step(t, k) -> k'``: how an action changes the relative carrying capacity ``k`` (populations,)
in projection step ``t`` (see :meth:`ScheduleBuilder.add_capacity_step`)."""


def _set(obj: object, field: str, value: object) -> None:
    object.__setattr__(obj, field, value)


# ---------------------------------------------------------------------------------------------------
# the species as compile() sees it: stage and population names only
# ---------------------------------------------------------------------------------------------------


def _stage_names(species: object) -> tuple[str, ...]:
    stages = getattr(species, "stages", None)
    if stages is None:
        raise TypeError(f"species must have stage names (a 'stages' attribute); got {species!r}")
    return tuple(str(getattr(s, "name", s)) for s in stages)


def _population_names(species: object) -> tuple[str, ...]:
    names = getattr(species, "population_names", None)
    if names is not None:
        return tuple(str(n) for n in names)
    populations = getattr(species, "populations", None)
    if populations is None or len(populations) == 0:
        return ("main",)
    return tuple(str(getattr(p, "name", p)) for p in populations)


# ---------------------------------------------------------------------------------------------------
# the schedule under construction
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class ScheduleBuilder:
    """The schedule being built by :meth:`Scenario.compile`: what :meth:`Action.abate` and
    :meth:`Action.apply` work on.

    Arrays are indexed by projection step ``t`` (``years`` of them), population and stage, as in
    :class:`~pva.schedule.Schedule`; actions change them in place (multiplying or adding), so that
    their effects combine in the order the scenario lists them. :meth:`schedule` turns the result
    into a :class:`~pva.schedule.Schedule`, with every field no action touched at its neutral value.
    """

    scenario: str
    """Name of the scenario being compiled (for messages)."""
    species: str
    """Name of the species (for messages)."""
    years: int
    """Number of projection steps."""
    stages: tuple[str, ...]
    """The species' stage names, in order."""
    populations: tuple[str, ...]
    """The species' population names, in order."""
    threats: tuple[Threat, ...]
    """The scenario's threats, in order."""
    kept: dict[str, FloatArray]
    """Fraction of each threat's effect left after abatements, by threat name, shape (years,):
    ``prod(1 - a_i)`` over the abatements ``a_i`` of that threat (:meth:`abate`)."""
    survival_multiplier: FloatArray
    """Multiplier of survival (columns of U), (years, populations, stages)."""
    fecundity_multiplier: FloatArray
    """Multiplier of fecundity (columns of F and C), (years, populations, stages)."""
    harvest_kept: FloatArray
    """Fraction of each stage that proportional harvests leave, (years, populations, stages)."""
    harvest_number: FloatArray
    """Expected number removed per stage, (years, populations, stages)."""
    release_number: FloatArray
    """Individuals released per stage from outside the model, (years, populations, stages)."""
    release_survivors: FloatArray
    """Expected survivors of those releases, (years, populations, stages)."""
    annual_cost: FloatArray
    """Cost of the interventions per step, (years,)."""
    events: list[StochasticEvent] = dataclasses.field(default_factory=list)
    """Random threats, in order."""
    transfers: list[Transfer] = dataclasses.field(default_factory=list)
    """Translocations between populations, in order."""
    capacity_steps: list[CapacityStep] = dataclasses.field(default_factory=list)
    """Changes of the relative K, applied in order in every step (:meth:`add_capacity_step`)."""
    programmes: dict[str, Captive] = dataclasses.field(default_factory=dict)
    """Ex-situ programmes by name, in order (:class:`ExSituProgramme`)."""
    programme_releases: list[tuple[str, FloatArray, FloatArray]] = dataclasses.field(
        default_factory=list
    )
    """Releases from a programme: (its name, individuals requested and expected survivors, each
    (years, populations, stages)), combined into the programme by :meth:`schedule`."""

    @classmethod
    def start(cls, scenario: Scenario, species: Species, *, years: int) -> ScheduleBuilder:
        """The neutral schedule of ``scenario`` for ``species`` over ``years`` steps."""
        stages, pops = _stage_names(species), _population_names(species)
        neutral = Schedule.neutral(years=years, populations=len(pops), stages=len(stages))
        return cls(
            scenario=scenario.name,
            species=str(getattr(species, "name", "species")),
            years=years,
            stages=stages,
            populations=pops,
            threats=scenario.threats,
            kept={t.name: np.ones(years) for t in scenario.threats},
            survival_multiplier=neutral.survival_multiplier,
            fecundity_multiplier=neutral.fecundity_multiplier,
            harvest_kept=1.0 - neutral.harvest_proportion,
            harvest_number=neutral.harvest_number,
            release_number=neutral.release_number,
            release_survivors=np.zeros_like(neutral.release_number),
            annual_cost=np.zeros(years),
        )

    # ---- the species' names as indices and masks ------------------------------------------------

    def check_names(self, action: Action) -> None:
        """Raise ValueError if ``action`` names a stage or population the species does not have."""
        known = {"stages": self.stages, "populations": self.populations}
        for kind, names in action.references().items():
            if kind not in known:
                continue
            for n in names:
                if n not in known[kind]:
                    raise ValueError(
                        f"scenario {self.scenario!r}: {validation.owner(action)} names {kind[:-1]} "
                        f"{n!r}, which species {self.species!r} does not have "
                        f"({kind}: {list(known[kind])})"
                    )

    def stage_index(self, name: str) -> int:
        """Index of stage ``name``."""
        return self.stages.index(name)

    def population_index(self, name: str | None) -> int:
        """Index of population ``name``; None = the first population."""
        return 0 if name is None else self.populations.index(name)

    def stage_mask(self, names: tuple[str, ...]) -> BoolArray:
        """True for the named stages, (stages,); empty ``names`` = all."""
        mask = np.zeros(len(self.stages), dtype=bool)
        mask[[self.stage_index(n) for n in names] if names else slice(None)] = True
        return mask

    def population_mask(self, names: tuple[str, ...]) -> BoolArray:
        """True for the named populations, (populations,); empty ``names`` = all."""
        mask = np.zeros(len(self.populations), dtype=bool)
        mask[[self.population_index(n) for n in names] if names else slice(None)] = True
        return mask

    def cell(self, populations: tuple[str, ...], stages: tuple[str, ...]) -> FloatArray:
        """1.0 where both the population and the stage are named (empty = all), else 0.0,
        (populations, stages)."""
        return np.outer(self.population_mask(populations), self.stage_mask(stages)).astype(float)

    # ---- threats and their abatement ------------------------------------------------------------

    def abate(self, threat: str, fraction: FloatArray) -> None:
        """Remove ``fraction`` (years,) of the effect of threat ``threat``; abatements combine as
        ``1 - prod(1 - a_i)``."""
        self.kept[threat] *= 1.0 - fraction

    def effect(self, threat: Threat) -> FloatArray:
        """Fraction of the full effect of ``threat`` on each step, (years,): its ramp and timing
        (:meth:`Action.weight`) times what abatements left of it."""
        return threat.weight(self.years) * self.kept[threat.name]

    def add_capacity_step(self, step: CapacityStep) -> None:
        """Add a change of the relative carrying capacity. K is a recurrence (a loss keeps the level
        it reached): in each step ``t`` every ``step(t, k)`` is applied in the order added, starting
        from ``k = 1`` for every population, and the result is that step's K multiplier."""
        self.capacity_steps.append(step)

    # ---- the result -----------------------------------------------------------------------------

    def _carrying_capacity(self) -> FloatArray:
        k = np.ones(len(self.populations))
        out = np.ones((self.years, k.size))
        if not self.capacity_steps:
            return out
        for t in range(self.years):
            for step in self.capacity_steps:
                k = step(t, k)
            out[t] = k
        return out

    def schedule(self) -> Schedule:
        """The :class:`~pva.schedule.Schedule` built so far."""
        with np.errstate(invalid="ignore", divide="ignore"):
            release_survival = np.where(
                self.release_number > 0, self.release_survivors / self.release_number, 1.0
            )
        neutral = Schedule.neutral(
            years=self.years, populations=len(self.populations), stages=len(self.stages)
        )
        return dataclasses.replace(
            neutral,
            survival_multiplier=self.survival_multiplier,
            fecundity_multiplier=self.fecundity_multiplier,
            carrying_capacity_multiplier=self._carrying_capacity(),
            harvest_proportion=1.0 - self.harvest_kept,
            harvest_number=self.harvest_number,
            release_number=self.release_number,
            release_survival=release_survival,
            events=tuple(self.events),
            annual_cost=self.annual_cost,
            transfers=tuple(self.transfers),
            programmes=self._programmes(),
        )

    def _programmes(self) -> tuple[Captive, ...]:
        """The ex-situ programmes with the releases that draw on them."""
        out = []
        for name, programme in self.programmes.items():
            number = np.zeros_like(programme.release_number)
            survivors = np.zeros_like(programme.release_number)
            for source, n, alive in self.programme_releases:
                if source == name:
                    number += n
                    survivors += alive
            with np.errstate(invalid="ignore", divide="ignore"):
                survival = np.where(number > 0, survivors / number, 1.0)
            out.append(
                dataclasses.replace(programme, release_number=number, release_survival=survival)
            )
        missing = sorted(
            {source for source, _, _ in self.programme_releases} - set(self.programmes)
        )
        if missing:
            raise ValueError(
                f"scenario {self.scenario!r}: releases draw on ex-situ programmes {missing!r}, "
                "which the scenario does not have"
            )
        return tuple(out)


# ---------------------------------------------------------------------------------------------------
# actions: threats and interventions
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Action:
    """A time-bounded threat or intervention (the base of every action; not used directly).

    Timing is in projection steps ``t = 0, 1, ...`` (the step from year ``t`` to ``t + 1``). An action
    acts on steps ``start <= t < end``; with ``ramp = N >= 1`` its effect grows linearly over its first
    ``N`` steps, ``(t - start + 1) / N``, and is full from step ``start + N - 1`` on (``ramp = 0``: full
    at once). Effects that accumulate (loss of carrying capacity, a climate trend) keep the level they
    reached when the action ends; others (killing, chronic disease, releases) stop.

    A subclass is a strategy: it validates its fields in ``__post_init__``, names the stages,
    populations and threats it refers to in :meth:`references`, and changes the schedule being built
    in :meth:`apply` (and, if it reduces threats, :meth:`abate`). Study files and ``from_dict`` find
    it by its class name (``type = "..."``) without registration.
    """

    _abstract = True  # files name concrete types only (see pva.validation.table_types)

    name: str
    """Unique name within a scenario; interventions refer to threats by it."""
    start: int = 0
    """First projection step on which the action acts (years from the start)."""
    end: int | None = None
    """First step on which it no longer acts; ``None`` (with ``duration`` ``None``): to the horizon."""
    duration: int | None = None
    """Number of steps it acts, as an alternative to ``end``."""
    ramp: int = 0
    """Steps of linear ramp-in until the full effect (0: full effect from ``start``)."""

    def __post_init__(self) -> None:
        if type(self).__dict__.get("_abstract", False):
            kinds = sorted(validation.table_types(Action))
            raise TypeError(f"{type(self).__name__} is abstract: use one of {kinds}")
        own = validation.owner(self)
        validation.name(self.name, "name", owner=type(self).__name__)
        validation.integer(self.start, "start", owner=own, minimum=0)
        validation.integer(self.ramp, "ramp", owner=own, minimum=0)
        if self.end is not None and self.duration is not None:
            raise ValueError(
                f"{own}: give end or duration, not both; got end={self.end!r}, "
                f"duration={self.duration!r}"
            )
        if self.end is not None:
            validation.integer(self.end, "end", owner=own, minimum=0)
            if self.end <= self.start:
                raise ValueError(f"{own}: end must be after start={self.start!r}; got {self.end!r}")
        if self.duration is not None:
            validation.integer(self.duration, "duration", owner=own, minimum=1)

    @property
    def stop(self) -> int | None:
        """First step on which the action no longer acts (``None``: never stops)."""
        if self.end is not None:
            return self.end
        if self.duration is not None:
            return self.start + self.duration
        return None

    def active(self, years: int, *, delay: int = 0) -> FloatArray:
        """1.0 on the steps the action acts (from ``start + delay``), else 0.0; shape (years,)."""
        t = np.arange(years)
        stop = self.stop if self.stop is not None else years
        return ((t >= self.start + delay) & (t < stop)).astype(float)

    def weight(self, years: int, *, delay: int = 0) -> FloatArray:
        """Fraction of the full effect on each step, in [0, 1], shape (years,): ramp times active."""
        t = np.arange(years, dtype=float)
        first = self.start + delay
        ramp = np.ones(years) if self.ramp == 0 else np.clip((t - first + 1) / self.ramp, 0.0, 1.0)
        return ramp * self.active(years, delay=delay)

    def references(self) -> dict[str, tuple[str, ...]]:
        """Names this action refers to, by kind: ``stages``, ``populations``, ``threats``."""
        return {}

    def check_in(self, scenario: Scenario) -> None:
        """Raise ValueError if the action does not fit ``scenario`` (e.g. it abates a threat the
        scenario does not have). Called by :class:`Scenario` once its actions are known."""

    def abate(self, builder: ScheduleBuilder) -> None:
        """Reduce threats of the schedule being built (:meth:`ScheduleBuilder.abate`), before any
        action applies. Most actions abate nothing."""

    def apply(self, builder: ScheduleBuilder) -> None:
        """Change the schedule being built: its multipliers, harvests, releases, events, transfers,
        carrying capacity or cost (see :class:`ScheduleBuilder`)."""
        raise NotImplementedError(f"{type(self).__name__} must define apply(builder)")

    def to_dict(self) -> dict[str, object]:
        """A plain dict tagged with ``"type"``, holding the fields that differ from their default."""
        out: dict[str, object] = {"type": type(self).__name__}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            if f.name == "individuals":
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, where: str = "action") -> Action:
        """Build an action from :meth:`to_dict` output (or a study-file table).

        ``Action.from_dict`` builds whatever ``"type"`` names; ``Harvest.from_dict`` (say) also
        accepts a dict without ``"type"`` and refuses one of another type.

        Raises
        ------
        ValueError
            If ``"type"`` is missing or unknown, or a key is not a field of that type (the message
            names the key, ``where`` it was and the keys allowed).
        """
        return validation.from_table(cls, data, where=where)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Threat(Action):
    """A threat; its effect can be reduced by interventions that name it."""

    _abstract = True

    populations: tuple[str, ...] = ()
    """Populations it acts in (empty: all)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        _set(
            self,
            "populations",
            validation.names(self.populations, "populations", owner=own, single=True),
        )

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Intervention(Action):
    """An intervention, with an optional cost for each step it acts."""

    _abstract = True

    annual_cost: float = 0.0
    """Cost per year while the intervention acts (``start <= t < end``, ramp and delay included,
    because the work is paid for from the start), in the study's currency."""

    def __post_init__(self) -> None:
        super().__post_init__()
        cost = validation.number(
            self.annual_cost, "annual_cost", owner=validation.owner(self), low=0.0
        )
        _set(self, "annual_cost", cost)

    def apply(self, builder: ScheduleBuilder) -> None:
        """Add the cost of each step the intervention acts (subclasses add their effect)."""
        builder.annual_cost += self.annual_cost * self.active(builder.years)


# threats ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class HabitatLoss(Threat):
    """Loss of carrying capacity K: by a fraction ``rate`` of the remaining K each year (geometric),
    or, without ``rate``, linearly down to ``floor`` over the threat's (bounded) period.

    K never falls below ``floor`` times its initial value through this threat. The loss of step ``t``
    applies to the K used in step ``t``; K keeps its level after the threat ends.
    """

    rate: float | None = None
    """Fraction of K lost per year, in (0, 1)."""
    floor: float = 0.0
    """Fraction of the initial K that remains at worst, in [0, 1)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        _set(
            self,
            "floor",
            validation.number(self.floor, "floor", owner=own, low=0.0, high=1.0, high_open=True),
        )
        if self.rate is None:
            if self.stop is None:
                raise ValueError(
                    f"{own}: without rate, the loss runs linearly to floor={self.floor!r} "
                    "and needs end or duration"
                )
        else:
            rate = validation.number(
                self.rate, "rate", owner=own, low=0.0, high=1.0, low_open=True, high_open=True
            )
            _set(self, "rate", rate)

    def apply(self, builder: ScheduleBuilder) -> None:
        effect = builder.effect(self)
        populations = builder.population_mask(self.populations)
        rate, floor = self.rate, self.floor
        # linear loss: (1 - floor) of the initial K spread over the threat's period
        linear = None if rate is not None else (1 - floor) / (self.stop - self.start)  # type: ignore[operator]

        def lose(t: int, k: FloatArray) -> FloatArray:
            lowered = k * (1.0 - rate * effect[t]) if linear is None else k - linear * effect[t]
            # a threat never drives K below its own floor, nor raises K already below it
            lowered = np.maximum(lowered, np.minimum(k, floor))
            return np.where(populations, lowered, k)

        builder.add_capacity_step(lose)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Harvest(Threat):
    """Killing by people (harvest, poaching, conflict): a proportion or an expected number of each
    listed stage removed per year after the demographic step.

    The engine draws the removals (binomial for a proportion, Poisson for a number, capped at what is
    there), so the killing itself is stochastic.
    """

    stages: tuple[str, ...] = ()
    """Stages taken (empty: all)."""
    proportion: float | None = None
    """Expected fraction of each listed stage killed per year, in [0, 1]."""
    number: float | None = None
    """Expected number of each listed stage killed per year, >= 0."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        _set(self, "stages", validation.names(self.stages, "stages", owner=own, single=True))
        if (self.proportion is None) == (self.number is None):
            raise ValueError(
                f"{own}: give exactly one of proportion or number; got "
                f"proportion={self.proportion!r}, number={self.number!r}"
            )
        if self.proportion is not None:
            _set(
                self,
                "proportion",
                validation.number(self.proportion, "proportion", owner=own, low=0, high=1),
            )
        if self.number is not None:
            _set(self, "number", validation.number(self.number, "number", owner=own, low=0))

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations, "stages": self.stages}

    def apply(self, builder: ScheduleBuilder) -> None:
        effect = builder.effect(self)[:, None, None]
        cell = builder.cell(self.populations, self.stages)
        if self.proportion is not None:
            builder.harvest_kept *= 1.0 - self.proportion * effect * cell
        else:
            builder.harvest_number += self.number * effect * cell  # type: ignore[operator]


@dataclasses.dataclass(frozen=True, kw_only=True)
class VitalRateReduction(Threat):
    """A threat that lowers survival and fecundity of the listed stages (and, in epidemics, K):
    trampling, pollution, disturbance; :class:`Disease` and :class:`InvasivePredator` are the same
    mechanics under their own names.

    Chronic (``frequency`` ``None``): the multipliers act every year, moving from 1 to their value
    over the ramp. Episodic (``frequency`` = p): a :class:`~pva.schedule.StochasticEvent` that
    strikes each replicate with probability p a year with the full multipliers (like a catastrophe,
    Morris & Doak 2002 ch. 2); a ramp or an abatement then scales p (fewer outbreaks), not their
    severity.
    """

    stages: tuple[str, ...] = ()
    """Stages affected (empty: all)."""
    survival: float = 1.0
    """Multiplier of the survival of affected stages, in [0, 1]."""
    fecundity: float = 1.0
    """Multiplier of the fecundity of affected stages, in [0, 1]."""
    carrying_capacity: float = 1.0
    """Multiplier of K in a year an epidemic strikes, in [0, 1] (epidemics only)."""
    frequency: float | None = None
    """Annual probability of an outbreak, in (0, 1]; ``None``: chronic."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        _set(self, "stages", validation.names(self.stages, "stages", owner=own, single=True))
        for field in ("survival", "fecundity", "carrying_capacity"):
            _set(
                self,
                field,
                validation.number(getattr(self, field), field, owner=own, low=0.0, high=1.0),
            )
        if self.frequency is not None:
            frequency = validation.number(
                self.frequency, "frequency", owner=own, low=0.0, high=1.0, low_open=True
            )
            _set(self, "frequency", frequency)
        elif self.carrying_capacity != 1.0:
            raise ValueError(
                f"{own}: carrying_capacity={self.carrying_capacity!r} applies to epidemics "
                "only; give frequency"
            )

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations, "stages": self.stages}

    def apply(self, builder: ScheduleBuilder) -> None:
        effect = builder.effect(self)
        cell = builder.cell(self.populations, self.stages)
        if self.frequency is None:
            builder.survival_multiplier *= (
                1.0 - (1.0 - self.survival) * effect[:, None, None] * cell
            )
            builder.fecundity_multiplier *= (
                1.0 - (1.0 - self.fecundity) * effect[:, None, None] * cell
            )
            return
        populations = builder.population_mask(self.populations)
        builder.events.append(
            StochasticEvent(
                name=self.name,
                probability=self.frequency * effect,
                survival_multiplier=1.0 - (1.0 - self.survival) * cell,
                fecundity_multiplier=1.0 - (1.0 - self.fecundity) * cell,
                carrying_capacity_multiplier=cast(
                    FloatArray, 1.0 - (1.0 - self.carrying_capacity) * populations
                ),
            )
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Disease(VitalRateReduction):
    """A disease, chronic or as epidemics of a given annual frequency (see
    :class:`VitalRateReduction`)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class InvasivePredator(VitalRateReduction):
    """An invasive predator (or competitor), see :class:`VitalRateReduction`; :class:`PredatorControl`
    abates it."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClimateTrend(Threat):
    """Vital rates of the listed stages changing by a fraction each year, compounding:
    the multiplier on step t is the product of ``1 + trend * w(s)`` over steps s <= t.

    The rates keep the level they reached when the trend ends.
    """

    stages: tuple[str, ...] = ()
    """Stages affected (empty: all)."""
    survival_trend: float = 0.0
    """Relative change of survival per year, in [-1, 1] (e.g. -0.01 = 1% lower each year)."""
    fecundity_trend: float = 0.0
    """Relative change of fecundity per year, >= -1."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        _set(self, "stages", validation.names(self.stages, "stages", owner=own, single=True))
        _set(
            self,
            "survival_trend",
            validation.number(self.survival_trend, "survival_trend", owner=own, low=-1, high=1),
        )
        _set(
            self,
            "fecundity_trend",
            validation.number(self.fecundity_trend, "fecundity_trend", owner=own, low=-1),
        )

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations, "stages": self.stages}

    def apply(self, builder: ScheduleBuilder) -> None:
        effect = builder.effect(self)
        cell = builder.cell(self.populations, self.stages)
        for trend, target in (
            (self.survival_trend, builder.survival_multiplier),
            (self.fecundity_trend, builder.fecundity_multiplier),
        ):
            path = np.maximum(np.cumprod(1.0 + trend * effect), 0.0)  # compounding
            target *= 1.0 - (1.0 - path[:, None, None]) * cell


# interventions ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class ThreatAbatement(Intervention):
    """Reduces the effect of the threat named ``threat`` by ``fraction``, from ``start + delay``
    (ramped over ``ramp`` steps from then). Several abatements of one threat combine as
    ``1 - prod(1 - a_i)``. What "effect" means depends on the threat: the K lost per year, the
    killing, the chronic multiplier's distance from 1 or an epidemic's frequency, a trend's rate.
    """

    threat: str = ""
    """Name of the threat in the same scenario."""
    fraction: float = 1.0
    """Fraction of the threat's effect removed at full effect, in [0, 1]."""
    delay: int = 0
    """Steps between the start (and first cost) and the first effect."""

    target_type: ClassVar[tuple[type[Threat], ...]] = ()
    """Kinds of threat it may abate (empty: any)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        validation.name(self.threat, "threat", owner=own)
        _set(
            self,
            "fraction",
            validation.number(self.fraction, "fraction", owner=own, low=0.0, high=1.0),
        )
        _set(self, "delay", validation.integer(self.delay, "delay", owner=own, minimum=0))

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"threats": (self.threat,)}

    def check_in(self, scenario: Scenario) -> None:
        threats = {t.name: t for t in scenario.threats}
        target = threats.get(self.threat)
        if target is None:
            raise ValueError(
                f"Scenario {scenario.name!r}: {validation.owner(self)} names threat {self.threat!r}, "
                f"which is not in the scenario (threats: {sorted(threats)})"
            )
        if self.target_type and not isinstance(target, self.target_type):
            kinds = " or ".join(c.__name__ for c in self.target_type)
            raise ValueError(
                f"Scenario {scenario.name!r}: {validation.owner(self)} must name a {kinds} threat; "
                f"{self.threat!r} is a {type(target).__name__}"
            )

    def abatement(self, years: int) -> FloatArray:
        """Fraction of the threat's effect removed on each step, shape (years,)."""
        return self.fraction * self.weight(years, delay=self.delay)

    def abate(self, builder: ScheduleBuilder) -> None:
        builder.abate(self.threat, self.abatement(builder.years))


@dataclasses.dataclass(frozen=True, kw_only=True)
class PredatorControl(ThreatAbatement):
    """Control of an :class:`InvasivePredator` (trapping, baiting, fencing)."""

    target_type: ClassVar[tuple[type[Threat], ...]] = (InvasivePredator,)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConflictMitigation(ThreatAbatement):
    """Less killing from a :class:`Harvest` threat (anti-poaching, compensation, deterrents)."""

    target_type: ClassVar[tuple[type[Threat], ...]] = (Harvest,)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HabitatProtection(Intervention):
    """Halts (``fraction = 1``) or slows the loss of K from :class:`HabitatLoss` threats, and
    restores K by ``restoration_rate`` of its initial value a year, up to ``restoration_target``.
    """

    threat: str | None = None
    """The habitat-loss threat protected against (``None``: every HabitatLoss in the scenario)."""
    fraction: float = 1.0
    """Fraction of the loss halted, in [0, 1]."""
    delay: int = 0
    """Steps between the start (and first cost) and the first effect."""
    restoration_rate: float = 0.0
    """K regained per year, as a fraction of the initial K, >= 0."""
    restoration_target: float = 1.0
    """Restoration stops when K reaches this fraction of the initial K, > 0."""
    populations: tuple[str, ...] = ()
    """Populations where K is restored (empty: all)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        if self.threat is not None:
            validation.name(self.threat, "threat", owner=own)
        _set(
            self,
            "fraction",
            validation.number(self.fraction, "fraction", owner=own, low=0.0, high=1.0),
        )
        _set(self, "delay", validation.integer(self.delay, "delay", owner=own, minimum=0))
        _set(
            self,
            "restoration_rate",
            validation.number(self.restoration_rate, "restoration_rate", owner=own, low=0.0),
        )
        _set(
            self,
            "restoration_target",
            validation.number(
                self.restoration_target, "restoration_target", owner=own, low=0.0, low_open=True
            ),
        )
        _set(
            self,
            "populations",
            validation.names(self.populations, "populations", owner=own, single=True),
        )

    def references(self) -> dict[str, tuple[str, ...]]:
        refs: dict[str, tuple[str, ...]] = {"populations": self.populations}
        if self.threat is not None:
            refs["threats"] = (self.threat,)
        return refs

    def check_in(self, scenario: Scenario) -> None:
        if self.threat is None:
            return
        losses = sorted(t.name for t in scenario.threats if isinstance(t, HabitatLoss))
        if self.threat not in losses:
            raise ValueError(
                f"Scenario {scenario.name!r}: {validation.owner(self)} names threat {self.threat!r}, "
                f"which is not a HabitatLoss threat of the scenario (HabitatLoss threats: {losses})"
            )

    def abatement(self, years: int) -> FloatArray:
        """Fraction of the K loss halted on each step, shape (years,)."""
        return self.fraction * self.weight(years, delay=self.delay)

    def abate(self, builder: ScheduleBuilder) -> None:
        names = (
            [self.threat]
            if self.threat is not None
            else [t.name for t in builder.threats if isinstance(t, HabitatLoss)]
        )
        for name in names:
            builder.abate(name, self.abatement(builder.years))

    def apply(self, builder: ScheduleBuilder) -> None:
        super().apply(builder)
        if self.restoration_rate <= 0:
            return
        populations = builder.population_mask(self.populations)
        effect = self.weight(builder.years, delay=self.delay)
        rate, target = self.restoration_rate, self.restoration_target

        def restore(t: int, k: FloatArray) -> FloatArray:
            raised = np.minimum(k + rate * effect[t], np.maximum(k, target))
            return np.where(populations, raised, k)

        builder.add_capacity_step(restore)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HabitatRestoration(HabitatProtection):
    """:class:`HabitatProtection` whose aim is to restore K (``restoration_rate`` > 0 required)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.restoration_rate <= 0:
            raise ValueError(
                f"{validation.owner(self)}: restoration_rate must be > 0 for a restoration; "
                f"got {self.restoration_rate!r}"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Release(Intervention):
    """Individuals of given stages released into a population every ``interval`` years.

    ``individuals`` maps stage names to numbers per release (scaled by the ramp; with demographic
    stochasticity a fractional number is rounded at random, keeping its mean); each released
    individual survives release with probability ``survival`` (the engine draws it, binomial).
    Releases are added after harvest, before dispersal.
    """

    population: str | None = None
    """Population released into (``None``: the species' first population)."""
    individuals: tuple[tuple[str, float], ...] = ()
    """(stage, number released per release) pairs; a table ``{stage = number}`` in files."""
    survival: float = 1.0
    """Probability that a released individual survives the release, in [0, 1]."""
    interval: int = 1
    """Years between releases (1: every year)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        items = self.individuals
        if isinstance(items, Mapping):
            items = tuple(items.items())
        if not isinstance(items, tuple | list) or not items:
            raise ValueError(
                f"{own}: individuals must map stage names to numbers released; got "
                f"{self.individuals!r}"
            )
        pairs = []
        for item in items:
            if not isinstance(item, tuple | list) or len(item) != 2 or not isinstance(item[0], str):
                raise TypeError(f"{own}: individuals must map stage names to numbers; got {item!r}")
            number = validation.number(item[1], f"individuals[{item[0]!r}]", owner=own, low=0.0)
            pairs.append((item[0], number))
        if len({p[0] for p in pairs}) != len(pairs):
            raise ValueError(f"{own}: individuals names a stage twice; got {self.individuals!r}")
        _set(self, "individuals", tuple(pairs))
        if self.population is not None:
            validation.name(self.population, "population", owner=own)
        _set(self, "survival", validation.probability(self.survival, "survival", owner=own))
        _set(self, "interval", validation.integer(self.interval, "interval", owner=own, minimum=1))

    def references(self) -> dict[str, tuple[str, ...]]:
        pops = () if self.population is None else (self.population,)
        return {"populations": pops, "stages": tuple(s for s, _ in self.individuals)}

    def releases(self, years: int) -> FloatArray:
        """Multiplier of ``individuals`` on each step: the ramp on release years, else 0."""
        on = (np.arange(years) - self.start) % self.interval == 0
        return self.weight(years) * on

    def apply(self, builder: ScheduleBuilder) -> None:
        super().apply(builder)
        self._deliver(
            builder, builder.population_index(self.population), self.releases(builder.years)
        )

    def _deliver(self, builder: ScheduleBuilder, population: int, per_step: FloatArray) -> None:
        """Add ``individuals x per_step`` released from outside the model into ``population``."""
        for stage, n in self.individuals:
            s = builder.stage_index(stage)
            builder.release_number[:, population, s] += n * per_step
            builder.release_survivors[:, population, s] += n * per_step * self.survival


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reintroduction(Release):
    """Release into a population where the species is extinct (or was never counted)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Supplementation(Release):
    """Release into an existing population to add individuals (reinforcement)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExSituRelease(Release):
    """The release stream of an ex-situ (captive or cultivated) programme.

    With ``source`` naming an :class:`ExSituProgramme` of the same scenario, the individuals come
    from that programme's captive population (at most what it holds) and bring its gene
    diversity; without it they come from outside the model (a programme that is not modelled),
    with the gene diversity ``Genetics.release_gene_diversity``.
    """

    programme: str = ""
    """Description of the ex-situ programme (for reports)."""
    source: str | None = None
    """Name of the :class:`ExSituProgramme` of the scenario the individuals come from."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        validation.text(self.programme, "programme", owner=own)
        if self.source is not None:
            validation.name(self.source, "source", owner=own)

    def check_in(self, scenario: Scenario) -> None:
        if self.source is None:
            return
        programmes = sorted(a.name for a in scenario.actions if isinstance(a, ExSituProgramme))
        if self.source not in programmes:
            raise ValueError(
                f"Scenario {scenario.name!r}: {validation.owner(self)} draws on {self.source!r}, "
                f"which is not an ExSituProgramme of the scenario (programmes: {programmes})"
            )

    def _deliver(self, builder: ScheduleBuilder, population: int, per_step: FloatArray) -> None:
        if self.source is None:
            super()._deliver(builder, population, per_step)
            return
        number = np.zeros((builder.years, len(builder.populations), len(builder.stages)))
        for stage, n in self.individuals:
            number[:, population, builder.stage_index(stage)] += n * per_step
        builder.programme_releases.append((self.source, number, number * self.survival))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExSituProgramme(Intervention):
    """An ex-situ (captive or cultivated) population: founders taken from the wild, its own
        demography or a production schedule, a capacity and an annual cost (GSAP action 4.4).

        Founders (``founders`` per year, for ``founding_years`` years from ``start``) are removed from
        the wild population ``source`` (at most what it has) with their gene diversity. The captive
        population lives by the species' mean matrices times ``survival_multiplier`` and
        ``fecundity_multiplier`` (no environmental variation), or, with ``production``, keeps its
        founders and produces that many individuals a year for release. It never exceeds
        ``capacity``, loses gene diversity at its own effective size (of its mature individuals, or of
    the whole stock for a production schedule), and is given up when the
        programme ends (``end``/``duration``). Individuals reach the wild only through
        :class:`ExSituRelease` actions that name it as their ``source``. The engine's mechanics are
        :class:`pva.schedule.Captive`'s.
    """

    source: str | None = None
    """Wild population the founders come from (``None``: the species' first population)."""
    founders: tuple[tuple[str, float], ...] = ()
    """(stage, founders taken per year) pairs; a table ``{stage = number}`` in files."""
    founding_years: int = 1
    """Years, from ``start``, in which founders are taken."""
    capacity: float = 0.0
    """Largest number of captive individuals, > 0."""
    survival_multiplier: float = 1.0
    """Captive survival relative to the wild mean, >= 0; a study refuses one that would raise a
    stage's survival above 1."""
    fecundity_multiplier: float = 1.0
    """Captive fecundity relative to the wild mean, >= 0."""
    production: tuple[tuple[str, float], ...] | None = None
    """(stage, individuals produced per year) pairs for a production schedule instead of the
    captive population's own demography."""
    effective_size_ratio: float | None = None
    """Ne / N of the captive population, in (0, 2] (None: the species' genetics rule)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        _set(self, "founders", _stage_numbers(self.founders, "founders", own))
        if not self.founders:
            raise ValueError(
                f"{own}: founders must map stage names to the founders taken per year; got "
                f"{self.founders!r}"
            )
        if self.production is not None:
            _set(self, "production", _stage_numbers(self.production, "production", own))
        if self.source is not None:
            validation.name(self.source, "source", owner=own)
        _set(
            self,
            "founding_years",
            validation.integer(self.founding_years, "founding_years", owner=own, minimum=1),
        )
        _set(
            self,
            "capacity",
            validation.number(self.capacity, "capacity", owner=own, low=0.0, low_open=True),
        )
        for field in ("survival_multiplier", "fecundity_multiplier"):
            _set(self, field, validation.number(getattr(self, field), field, owner=own, low=0.0))
        if self.effective_size_ratio is not None:
            _set(
                self,
                "effective_size_ratio",
                validation.number(
                    self.effective_size_ratio,
                    "effective_size_ratio",
                    owner=own,
                    low=0.0,
                    high=2.0,
                    low_open=True,
                ),
            )

    def references(self) -> dict[str, tuple[str, ...]]:
        stages = [s for s, _ in (*self.founders, *(self.production or ()))]
        return {
            "populations": () if self.source is None else (self.source,),
            "stages": tuple(dict.fromkeys(stages)),
        }

    def apply(self, builder: ScheduleBuilder) -> None:
        super().apply(builder)
        years, S, P = builder.years, len(builder.stages), len(builder.populations)
        active = self.active(years)
        collecting = active * (np.arange(years) < self.start + self.founding_years)
        founders = np.zeros((years, S))
        for stage, n in self.founders:
            founders[:, builder.stage_index(stage)] += n * collecting
        production = None
        if self.production is not None:
            production = np.zeros((years, S))
            for stage, n in self.production:
                production[:, builder.stage_index(stage)] += n * active
        builder.programmes[self.name] = Captive(
            name=self.name,
            source=builder.population_index(self.source),
            founders=founders,
            capacity=self.capacity * active,
            release_number=np.zeros((years, P, S)),
            release_survival=np.ones((years, P, S)),
            survival_multiplier=self.survival_multiplier,
            fecundity_multiplier=self.fecundity_multiplier,
            production=production,
            effective_size_ratio=self.effective_size_ratio,
        )

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        for field in ("founders", "production"):
            value = getattr(self, field)
            if value:
                out[field] = dict(value)
        return out


def _stage_numbers(items: object, field: str, own: str) -> tuple[tuple[str, float], ...]:
    """``{stage = number}`` (or (stage, number) pairs) as a tuple of pairs, numbers >= 0."""
    if isinstance(items, Mapping):
        items = tuple(items.items())
    if not isinstance(items, tuple | list):
        raise TypeError(f"{own}: {field} must map stage names to numbers; got {items!r}")
    pairs = []
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2 or not isinstance(item[0], str):
            raise TypeError(f"{own}: {field} must map stage names to numbers; got {item!r}")
        pairs.append(
            (item[0], validation.number(item[1], f"{field}[{item[0]!r}]", owner=own, low=0.0))
        )
    if len({p[0] for p in pairs}) != len(pairs):
        raise ValueError(f"{own}: {field} names a stage twice; got {items!r}")
    return tuple(pairs)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Translocation(Release):
    """Moves individuals between sites. With ``source``, the individuals are taken from that
    population after harvest (at most as many as it has: a donor that is short gives what it has)
    and only those taken are released, each surviving with probability ``survival``
    (a :class:`~pva.schedule.Transfer`); without ``source`` they come from outside the model, like a
    :class:`Supplementation`."""

    source: str | None = None
    """Population the individuals come from (``None``: from outside the model)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = validation.owner(self)
        if self.source is not None:
            validation.name(self.source, "source", owner=own)
            if self.source == self.population:
                raise ValueError(
                    f"{own}: source and population must differ; both are {self.source!r}"
                )

    def references(self) -> dict[str, tuple[str, ...]]:
        refs = super().references()
        if self.source is not None:
            refs["populations"] = (*refs["populations"], self.source)
        return refs

    def _deliver(self, builder: ScheduleBuilder, population: int, per_step: FloatArray) -> None:
        if self.source is None:
            super()._deliver(builder, population, per_step)
            return
        source = builder.population_index(self.source)
        if source == population:
            raise ValueError(
                f"scenario {builder.scenario!r}: {validation.owner(self)} moves individuals from "
                f"{self.source!r} into the same population (population defaults to the "
                f"first, {builder.populations[0]!r}); name another population"
            )
        number = np.zeros((builder.years, len(builder.stages)))
        for stage, n in self.individuals:
            number[:, builder.stage_index(stage)] += n * per_step
        builder.transfers.append(
            Transfer(
                name=self.name,
                source=source,
                population=population,
                number=number,
                survival=self.survival,
            )
        )


# ---------------------------------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A named list of threats and interventions; "no action" is the scenario with the threats only.

    Names must be unique, and an abatement must name a threat of the same scenario (of the right
    type: :meth:`Action.check_in`). Stage and population names are checked against a species by
    :meth:`compile`.
    """

    name: str
    """Scenario name (a coordinate of the results)."""
    actions: tuple[Action, ...] = ()
    """Threats and interventions, applied in this order where order matters (events)."""
    description: str = ""
    """Free text for reports."""

    def __post_init__(self) -> None:
        validation.name(self.name, "name", owner="Scenario")
        own = validation.owner(self)
        if not isinstance(self.actions, tuple | list):
            raise TypeError(f"{own}: actions must be a list of actions; got {self.actions!r}")
        object.__setattr__(self, "actions", tuple(self.actions))
        validation.text(self.description, "description", owner=own)
        seen: set[str] = set()
        for action in self.actions:
            if not isinstance(action, Action):
                raise TypeError(f"{own}: actions must be threats or interventions; got {action!r}")
            if action.name in seen:
                raise ValueError(f"{own}: two actions are named {action.name!r}")
            seen.add(action.name)
        for action in self.actions:
            action.check_in(self)

    @property
    def threats(self) -> tuple[Threat, ...]:
        """The threats, in order."""
        return tuple(a for a in self.actions if isinstance(a, Threat))

    @property
    def interventions(self) -> tuple[Intervention, ...]:
        """The interventions, in order."""
        return tuple(a for a in self.actions if isinstance(a, Intervention))

    def to_dict(self) -> dict[str, object]:
        """A plain (JSON- and TOML-ready) dict; :meth:`from_dict` inverts it."""
        out: dict[str, object] = {
            "type": "Scenario",
            "name": self.name,
            "actions": [a.to_dict() for a in self.actions],
        }
        if self.description:
            out["description"] = self.description
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, where: str = "scenario") -> Scenario:
        """Build a scenario from :meth:`to_dict` output; unknown keys are errors naming the key."""
        return validation.from_table(cls, data, where=where)

    def compile(self, species: Species, *, years: int) -> Schedule:
        """The :class:`~pva.schedule.Schedule` of this scenario for ``species`` over ``years``
        projection steps.

        Stage and population names are checked first, with messages naming them. Then every action
        abates (:meth:`Action.abate`), then every action applies itself (:meth:`Action.apply`), threats
        before interventions, each in the order given.

        Raises
        ------
        ValueError
            If an action names a stage or population the species does not have.
        """
        years = validation.integer(years, "years", owner=validation.owner(self), minimum=1)
        builder = ScheduleBuilder.start(self, species, years=years)
        ordered = (*self.threats, *self.interventions)
        for action in ordered:
            builder.check_names(action)
        for action in ordered:
            action.abate(builder)
        for action in ordered:
            action.apply(builder)
        return builder.schedule()


def dump(scenario: Scenario) -> dict[str, object]:
    """``scenario`` as a plain dict (for study files and provenance); :func:`load` inverts it."""
    return scenario.to_dict()


def load(data: Mapping[str, object]) -> Scenario:
    """The scenario that :func:`dump` wrote."""
    return Scenario.from_dict(data)
