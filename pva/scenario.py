"""Threats and interventions as scenarios, and the year-by-year :class:`Schedule` they compile to.

The engine never sees threat or intervention objects: a scenario is compiled, for one species and
horizon, into a :class:`Schedule` of plain arrays that the engine applies inside its yearly step.
That keeps the engine small and lets scenarios grow without touching it.

Threats (:class:`HabitatLoss`, :class:`Harvest`, :class:`VitalRateReduction` and its kinds
:class:`Disease` and :class:`InvasivePredator`, :class:`ClimateTrend`) and interventions
(:class:`ThreatAbatement`, :class:`PredatorControl`, :class:`ConflictMitigation`,
:class:`HabitatProtection`, :class:`HabitatRestoration`, and the releases :class:`Translocation`,
:class:`Reintroduction`, :class:`Supplementation`, :class:`ExSituRelease`) are small frozen values,
each time-bounded (start, end or duration, linear ramp-in), with ``to_dict``/``from_dict`` tagged by
``"type"``. The kinds follow the unified classification of threats and actions (Salafsky et al.
2008); the mechanics (harvest after the demographic step, releases with a post-release survival,
catastrophe-like epidemics) follow Morris & Doak (2002, ch. 2) and VORTEX (Lacy 2000).

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
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from pva.errors import StudyFileError

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
class Transfer:
    """Individuals moved from one population to another (a :class:`Translocation` with a source).

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
    number: FloatArray
    """Individuals requested per stage, shape (years, stages) (a whole number drawn by unbiased
    random rounding with demographic stochasticity)."""
    survival: float
    """Probability that a moved individual survives release, in [0, 1]."""


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class Schedule:
    """What a scenario does to one species, year by year, as arrays the engine applies.

    All arrays are indexed first by projection step ``t = 0 .. years - 1`` (the step from year ``t``
    to year ``t + 1``), then by population and stage. The order in the engine's yearly step is:
    environment → these multipliers (and events) → density dependence → survival, transitions and
    births → harvest → transfers → releases → dispersal → ceiling → record.
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
    """Individuals released per stage after harvest, shape (years, populations, stages). With
    demographic stochasticity a fractional number (e.g. on a ramp) is rounded at random to one of
    its two neighbouring whole numbers with the mean kept (4.3: 5 with probability 0.3, else 4)."""
    release_survival: FloatArray
    """Probability that a released individual survives release (binomial), same shape."""
    events: tuple[StochasticEvent, ...] = ()
    """Random threats the scenario adds, drawn from the ``events`` stream in this order."""
    annual_cost: FloatArray | None = None
    """Cost of the scenario's interventions per step, shape (years,), in the study's currency."""
    transfers: tuple[Transfer, ...] = ()
    """Translocations between populations of the species, applied after harvest and before releases
    in this order (see :class:`Transfer`)."""

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


class UnknownKeyError(StudyFileError):
    """A table (of a study file, or a dict for ``from_dict``) has a key its schema does not know.

    ``key`` is the offending key and ``table`` the path of the table it is in (e.g.
    ``species[0].catastrophes[1]``), so that a reader of the file can point at the line.
    """

    def __init__(self, message: str, *, key: str, table: str) -> None:
        super().__init__(message)
        self.key = key
        self.table = table


# ---------------------------------------------------------------------------------------------------
# validation helpers: messages name the field, show the value with !r and state the rule
# ---------------------------------------------------------------------------------------------------


def _where(obj: object) -> str:
    name = getattr(obj, "name", None)
    return f"{type(obj).__name__} {name!r}" if name else type(obj).__name__


def _check_int(obj: object, field: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{_where(obj)}: {field} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{_where(obj)}: {field} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _check_float(
    obj: object,
    field: str,
    value: object,
    *,
    low: float = -np.inf,
    high: float = np.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{_where(obj)}: {field} must be a number; got {value!r}")
    x = float(value)
    too_low = x <= low if low_open else x < low
    too_high = x >= high if high_open else x > high
    if not np.isfinite(x) or too_low or too_high:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(
            f"{_where(obj)}: {field} must be a finite number in {lo}{low}, {high}{hi}; got {value!r}"
        )
    return x


def _check_names(obj: object, field: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f"{_where(obj)}: {field} must be a list of non-empty names; got {value!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"{_where(obj)}: {field} must not repeat a name; got {value!r}")
    return tuple(value)


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


def _species_name(species: object) -> str:
    return str(getattr(species, "name", "species"))


# ---------------------------------------------------------------------------------------------------
# actions: threats and interventions
# ---------------------------------------------------------------------------------------------------

_REGISTRY: dict[str, type[Action]] = {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Action:
    """A time-bounded threat or intervention (the base of every action; not used directly).

    Timing is in projection steps ``t = 0, 1, ...`` (the step from year ``t`` to ``t + 1``). An action
    acts on steps ``start <= t < end``; with ``ramp = N >= 1`` its effect grows linearly over its first
    ``N`` steps, ``(t - start + 1) / N``, and is full from step ``start + N - 1`` on (``ramp = 0``: full
    at once). Effects that accumulate (loss of carrying capacity, a climate trend) keep the level they
    reached when the action ends; others (killing, chronic disease, releases) stop.
    """

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

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _REGISTRY[cls.__name__] = cls

    def __post_init__(self) -> None:
        if type(self) in (Action, Threat, Intervention):
            raise TypeError(f"{type(self).__name__} is abstract: use one of {sorted(_REGISTRY)}")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(
                f"{type(self).__name__}: name must be a non-empty string; got {self.name!r}"
            )
        _check_int(self, "start", self.start, minimum=0)
        _check_int(self, "ramp", self.ramp, minimum=0)
        if self.end is not None and self.duration is not None:
            raise ValueError(
                f"{_where(self)}: give end or duration, not both; got end={self.end!r}, "
                f"duration={self.duration!r}"
            )
        if self.end is not None:
            _check_int(self, "end", self.end, minimum=0)
            if self.end <= self.start:
                raise ValueError(
                    f"{_where(self)}: end must be after start={self.start!r}; got {self.end!r}"
                )
        if self.duration is not None:
            _check_int(self, "duration", self.duration, minimum=1)

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
        if not isinstance(data, Mapping):
            raise TypeError(f"{where} must be a table; got {data!r}")
        kind = data.get("type")
        if kind is None:
            if cls.__name__ not in _REGISTRY:
                raise ValueError(f"{where}: missing key 'type' (one of {sorted(_REGISTRY)})")
            kind = cls.__name__
        target = _REGISTRY.get(str(kind))
        if target is None:
            raise ValueError(f"{where}: unknown type {kind!r}; expected one of {sorted(_REGISTRY)}")
        if not issubclass(target, cls):
            raise ValueError(f"{where}: type {kind!r} is not a {cls.__name__}")
        cls = target
        allowed = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k != "type"}
        for key in kwargs:
            if key not in allowed:
                raise UnknownKeyError(
                    f"{where}: unknown key {key!r} for type {kind!r}; allowed: {sorted(allowed)}",
                    key=key,
                    table=where,
                )
        try:
            return cls(**kwargs)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{where}: {exc}") from None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Threat(Action):
    """A threat; its effect can be reduced by interventions that name it."""

    populations: tuple[str, ...] = ()
    """Populations it acts in (empty: all)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, "populations", _check_names(self, "populations", self.populations))

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Intervention(Action):
    """An intervention, with an optional cost for each step it acts."""

    annual_cost: float = 0.0
    """Cost per year while the intervention acts (``start <= t < end``, ramp and delay included,
    because the work is paid for from the start), in the study's currency."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, "annual_cost", _check_float(self, "annual_cost", self.annual_cost, low=0.0))


# the two bases are abstract: files name concrete types only
del _REGISTRY["Threat"], _REGISTRY["Intervention"]

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
        _set(
            self,
            "floor",
            _check_float(self, "floor", self.floor, low=0.0, high=1.0, high_open=True),
        )
        if self.rate is None:
            if self.stop is None:
                raise ValueError(
                    f"{_where(self)}: without rate, the loss runs linearly to floor={self.floor!r} "
                    "and needs end or duration"
                )
        else:
            _set(
                self,
                "rate",
                _check_float(
                    self, "rate", self.rate, low=0.0, high=1.0, low_open=True, high_open=True
                ),
            )


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
        _set(self, "stages", _check_names(self, "stages", self.stages))
        if (self.proportion is None) == (self.number is None):
            raise ValueError(
                f"{_where(self)}: give exactly one of proportion or number; got "
                f"proportion={self.proportion!r}, number={self.number!r}"
            )
        if self.proportion is not None:
            _set(
                self, "proportion", _check_float(self, "proportion", self.proportion, low=0, high=1)
            )
        if self.number is not None:
            _set(self, "number", _check_float(self, "number", self.number, low=0))

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations, "stages": self.stages}


@dataclasses.dataclass(frozen=True, kw_only=True)
class VitalRateReduction(Threat):
    """A threat that lowers survival and fecundity of the listed stages (and, in epidemics, K):
    trampling, pollution, disturbance; :class:`Disease` and :class:`InvasivePredator` are the same
    mechanics under their own names.

    Chronic (``frequency`` ``None``): the multipliers act every year, moving from 1 to their value
    over the ramp. Episodic (``frequency`` = p): a :class:`StochasticEvent` that strikes each
    replicate with probability p a year with the full multipliers (like a catastrophe, Morris &
    Doak 2002 ch. 2); a ramp or an abatement then scales p (fewer outbreaks), not their severity.
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
        _set(self, "stages", _check_names(self, "stages", self.stages))
        for field in ("survival", "fecundity", "carrying_capacity"):
            _set(self, field, _check_float(self, field, getattr(self, field), low=0.0, high=1.0))
        if self.frequency is not None:
            _set(
                self,
                "frequency",
                _check_float(self, "frequency", self.frequency, low=0.0, high=1.0, low_open=True),
            )
        elif self.carrying_capacity != 1.0:
            raise ValueError(
                f"{_where(self)}: carrying_capacity={self.carrying_capacity!r} applies to epidemics "
                "only; give frequency"
            )

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations, "stages": self.stages}


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
        _set(self, "stages", _check_names(self, "stages", self.stages))
        _set(
            self,
            "survival_trend",
            _check_float(self, "survival_trend", self.survival_trend, low=-1, high=1),
        )
        _set(
            self,
            "fecundity_trend",
            _check_float(self, "fecundity_trend", self.fecundity_trend, low=-1),
        )

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"populations": self.populations, "stages": self.stages}


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

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.threat, str) or not self.threat:
            raise ValueError(f"{_where(self)}: threat must name a threat; got {self.threat!r}")
        _set(self, "fraction", _check_float(self, "fraction", self.fraction, low=0.0, high=1.0))
        _set(self, "delay", _check_int(self, "delay", self.delay, minimum=0))

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"threats": (self.threat,)}

    def abatement(self, years: int) -> FloatArray:
        """Fraction of the threat's effect removed on each step, shape (years,)."""
        return self.fraction * self.weight(years, delay=self.delay)


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
        if self.threat is not None and (not isinstance(self.threat, str) or not self.threat):
            raise ValueError(
                f"{_where(self)}: threat must name a threat or be omitted; got {self.threat!r}"
            )
        _set(self, "fraction", _check_float(self, "fraction", self.fraction, low=0.0, high=1.0))
        _set(self, "delay", _check_int(self, "delay", self.delay, minimum=0))
        _set(
            self,
            "restoration_rate",
            _check_float(self, "restoration_rate", self.restoration_rate, low=0.0),
        )
        _set(
            self,
            "restoration_target",
            _check_float(
                self, "restoration_target", self.restoration_target, low=0.0, low_open=True
            ),
        )
        _set(self, "populations", _check_names(self, "populations", self.populations))

    def references(self) -> dict[str, tuple[str, ...]]:
        refs: dict[str, tuple[str, ...]] = {"populations": self.populations}
        if self.threat is not None:
            refs["threats"] = (self.threat,)
        return refs

    def abatement(self, years: int) -> FloatArray:
        """Fraction of the K loss halted on each step, shape (years,)."""
        return self.fraction * self.weight(years, delay=self.delay)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HabitatRestoration(HabitatProtection):
    """:class:`HabitatProtection` whose aim is to restore K (``restoration_rate`` > 0 required)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.restoration_rate <= 0:
            raise ValueError(
                f"{_where(self)}: restoration_rate must be > 0 for a restoration; "
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
        items = self.individuals
        if isinstance(items, Mapping):
            items = tuple(items.items())
        if not isinstance(items, tuple | list) or not items:
            raise ValueError(
                f"{_where(self)}: individuals must map stage names to numbers released; got "
                f"{self.individuals!r}"
            )
        pairs = []
        for item in items:
            if not isinstance(item, tuple | list) or len(item) != 2 or not isinstance(item[0], str):
                raise TypeError(
                    f"{_where(self)}: individuals must map stage names to numbers; got {item!r}"
                )
            pairs.append(
                (item[0], _check_float(self, f"individuals[{item[0]!r}]", item[1], low=0.0))
            )
        if len({p[0] for p in pairs}) != len(pairs):
            raise ValueError(
                f"{_where(self)}: individuals names a stage twice; got {self.individuals!r}"
            )
        _set(self, "individuals", tuple(pairs))
        if self.population is not None and (
            not isinstance(self.population, str) or not self.population
        ):
            raise ValueError(f"{_where(self)}: population must be a name; got {self.population!r}")
        _set(self, "survival", _check_float(self, "survival", self.survival, low=0.0, high=1.0))
        _set(self, "interval", _check_int(self, "interval", self.interval, minimum=1))

    def references(self) -> dict[str, tuple[str, ...]]:
        pops = () if self.population is None else (self.population,)
        return {"populations": pops, "stages": tuple(s for s, _ in self.individuals)}

    def releases(self, years: int) -> FloatArray:
        """Multiplier of ``individuals`` on each step: the ramp on release years, else 0."""
        on = (np.arange(years) - self.start) % self.interval == 0
        return self.weight(years) * on


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reintroduction(Release):
    """Release into a population where the species is extinct (or was never counted)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Supplementation(Release):
    """Release into an existing population to add individuals (reinforcement)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExSituRelease(Release):
    """The release stream of an ex-situ (captive or cultivated) programme."""

    programme: str = ""
    """Name of the ex-situ programme (for reports)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.programme, str):
            raise TypeError(f"{_where(self)}: programme must be a string; got {self.programme!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Translocation(Release):
    """Moves individuals between sites. With ``source``, the individuals are taken from that
    population after harvest (at most as many as it has: a donor that is short gives what it has)
    and only those taken are released, each surviving with probability ``survival``
    (a :class:`Transfer`); without ``source`` they come from outside the model, like a
    :class:`Supplementation`."""

    source: str | None = None
    """Population the individuals come from (``None``: from outside the model)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.source is not None:
            if not isinstance(self.source, str) or not self.source:
                raise ValueError(
                    f"{_where(self)}: source must be a population name; got {self.source!r}"
                )
            if self.source == self.population:
                raise ValueError(
                    f"{_where(self)}: source and population must differ; both are {self.source!r}"
                )

    def references(self) -> dict[str, tuple[str, ...]]:
        refs = super().references()
        if self.source is not None:
            refs["populations"] = (*refs["populations"], self.source)
        return refs


# ---------------------------------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A named list of threats and interventions; "no action" is the scenario with the threats only.

    Names must be unique, and an abatement must name a threat of the same scenario (of the right
    type). Stage and population names are checked against a species by :meth:`compile`.
    """

    name: str
    """Scenario name (a coordinate of the results)."""
    actions: tuple[Action, ...] = ()
    """Threats and interventions, applied in this order where order matters (events)."""
    description: str = ""
    """Free text for reports."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Scenario: name must be a non-empty string; got {self.name!r}")
        if not isinstance(self.actions, tuple | list):
            raise TypeError(
                f"Scenario {self.name!r}: actions must be a list of actions; got {self.actions!r}"
            )
        object.__setattr__(self, "actions", tuple(self.actions))
        if not isinstance(self.description, str):
            raise TypeError(
                f"Scenario {self.name!r}: description must be a string; got {self.description!r}"
            )
        seen: set[str] = set()
        for action in self.actions:
            if not isinstance(action, Action):
                raise TypeError(
                    f"Scenario {self.name!r}: actions must be threats or interventions; got {action!r}"
                )
            if action.name in seen:
                raise ValueError(f"Scenario {self.name!r}: two actions are named {action.name!r}")
            seen.add(action.name)
        threats = {t.name: t for t in self.threats}
        for action in self.interventions:
            if isinstance(action, ThreatAbatement):
                target = threats.get(action.threat)
                if target is None:
                    raise ValueError(
                        f"Scenario {self.name!r}: {_where(action)} names threat {action.threat!r}, "
                        f"which is not in the scenario (threats: {sorted(threats)})"
                    )
                if action.target_type and not isinstance(target, action.target_type):
                    kinds = " or ".join(c.__name__ for c in action.target_type)
                    raise ValueError(
                        f"Scenario {self.name!r}: {_where(action)} must name a {kinds} threat; "
                        f"{action.threat!r} is a {type(target).__name__}"
                    )
            elif isinstance(action, HabitatProtection) and action.threat is not None:
                target = threats.get(action.threat)
                if not isinstance(target, HabitatLoss):
                    raise ValueError(
                        f"Scenario {self.name!r}: {_where(action)} names threat {action.threat!r}, "
                        "which is not a HabitatLoss threat of the scenario (HabitatLoss threats: "
                        f"{sorted(n for n, t in threats.items() if isinstance(t, HabitatLoss))})"
                    )

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
        if not isinstance(data, Mapping):
            raise TypeError(f"{where} must be a table; got {data!r}")
        if data.get("type", "Scenario") != "Scenario":
            raise ValueError(f"{where}: type must be 'Scenario'; got {data['type']!r}")
        for key in data:
            if key not in ("type", "name", "actions", "description"):
                raise UnknownKeyError(
                    f"{where}: unknown key {key!r}; allowed: ['actions', 'description', 'name']",
                    key=key,
                    table=where,
                )
        actions = data.get("actions", ())
        if not isinstance(actions, list | tuple):
            raise TypeError(f"{where}.actions must be a list of tables; got {actions!r}")
        return cls(
            name=data.get("name", ""),  # type: ignore[arg-type]
            actions=tuple(
                Action.from_dict(a, where=f"{where}.actions[{i}]") for i, a in enumerate(actions)
            ),
            description=data.get("description", ""),  # type: ignore[arg-type]
        )

    def compile(self, species: object, *, years: int) -> Schedule:
        """The :class:`Schedule` of this scenario for ``species`` over ``years`` projection steps.

        Stage, population and threat names are checked here, with messages naming them.

        Raises
        ------
        ValueError
            If an action names a stage or population the species does not have.
        """
        years = _check_int(self, "years", years, minimum=1)
        stages = _stage_names(species)
        pops = _population_names(species)
        self._check_references(species, stages, pops)
        P, S = len(pops), len(stages)
        s_index = {s: i for i, s in enumerate(stages)}
        p_index = {p: i for i, p in enumerate(pops)}

        def stage_mask(names: tuple[str, ...]) -> npt.NDArray[np.bool_]:
            mask = np.zeros(S, dtype=bool)
            mask[[s_index[n] for n in names] if names else slice(None)] = True
            return mask

        def pop_mask(names: tuple[str, ...]) -> npt.NDArray[np.bool_]:
            mask = np.zeros(P, dtype=bool)
            mask[[p_index[n] for n in names] if names else slice(None)] = True
            return mask

        # abatement of each threat, combined as 1 - prod(1 - a_i)
        kept = {t.name: np.ones(years) for t in self.threats}
        for action in self.interventions:
            if isinstance(action, ThreatAbatement):
                kept[action.threat] *= 1.0 - action.abatement(years)
            elif isinstance(action, HabitatProtection):
                names = (
                    [action.threat]
                    if action.threat is not None
                    else [t.name for t in self.threats if isinstance(t, HabitatLoss)]
                )
                for n in names:
                    kept[n] *= 1.0 - action.abatement(years)

        survival = np.ones((years, P, S))
        fecundity = np.ones((years, P, S))
        harvest_kept = np.ones((years, P, S))
        harvest_number = np.zeros((years, P, S))
        events: list[StochasticEvent] = []
        for threat in self.threats:
            effect = threat.weight(years) * kept[threat.name]  # (years,)
            pm = pop_mask(threat.populations)
            if isinstance(threat, Harvest):
                cell = np.outer(pm, stage_mask(threat.stages)).astype(float)  # (P, S)
                if threat.proportion is not None:
                    harvest_kept *= 1.0 - threat.proportion * effect[:, None, None] * cell
                else:
                    harvest_number += threat.number * effect[:, None, None] * cell
            elif isinstance(threat, VitalRateReduction):
                cell = np.outer(pm, stage_mask(threat.stages)).astype(float)
                if threat.frequency is None:
                    survival *= 1.0 - (1.0 - threat.survival) * effect[:, None, None] * cell
                    fecundity *= 1.0 - (1.0 - threat.fecundity) * effect[:, None, None] * cell
                else:
                    events.append(
                        StochasticEvent(
                            name=threat.name,
                            probability=threat.frequency * effect,
                            survival_multiplier=1.0 - (1.0 - threat.survival) * cell,
                            fecundity_multiplier=1.0 - (1.0 - threat.fecundity) * cell,
                            carrying_capacity_multiplier=1.0
                            - (1.0 - threat.carrying_capacity) * pm,
                        )
                    )
            elif isinstance(threat, ClimateTrend):
                cell = np.outer(pm, stage_mask(threat.stages)).astype(float)
                for trend, target in (
                    (threat.survival_trend, survival),
                    (threat.fecundity_trend, fecundity),
                ):
                    path = np.maximum(np.cumprod(1.0 + trend * effect), 0.0)  # compounding
                    target *= 1.0 - (1.0 - path[:, None, None]) * cell

        capacity = self._carrying_capacity(years, pop_mask, kept)

        release_number = np.zeros((years, P, S))
        surviving = np.zeros((years, P, S))  # expected survivors, to average survival per cell
        transfers: list[Transfer] = []
        cost = np.zeros(years)
        for action in self.interventions:
            cost += action.annual_cost * action.active(years)
            if not isinstance(action, Release):
                continue
            p = p_index[action.population] if action.population is not None else 0
            per_step = action.releases(years)
            for stage, n in action.individuals:
                s = s_index[stage]
                if isinstance(action, Translocation) and action.source is not None:
                    continue  # moved by a Transfer, below
                release_number[:, p, s] += n * per_step
                surviving[:, p, s] += n * per_step * action.survival
            if isinstance(action, Translocation) and action.source is not None:
                if p_index[action.source] == p:
                    raise ValueError(
                        f"scenario {self.name!r}: {_where(action)} moves individuals from "
                        f"{action.source!r} into the same population (population defaults to the "
                        f"first, {pops[0]!r}); name another population"
                    )
                number = np.zeros((years, S))
                for stage, n in action.individuals:
                    number[:, s_index[stage]] += n * per_step
                transfers.append(
                    Transfer(
                        name=action.name,
                        source=p_index[action.source],
                        population=p,
                        number=number,
                        survival=action.survival,
                    )
                )
        with np.errstate(invalid="ignore", divide="ignore"):
            release_survival = np.where(release_number > 0, surviving / release_number, 1.0)

        return Schedule(
            survival_multiplier=survival,
            fecundity_multiplier=fecundity,
            carrying_capacity_multiplier=capacity,
            harvest_proportion=1.0 - harvest_kept,
            harvest_number=harvest_number,
            release_number=release_number,
            release_survival=release_survival,
            events=tuple(events),
            annual_cost=cost,
            transfers=tuple(transfers),
        )

    def _carrying_capacity(
        self,
        years: int,
        pop_mask: Callable[[tuple[str, ...]], npt.NDArray[np.bool_]],
        kept: dict[str, FloatArray],
    ) -> FloatArray:
        losses = [t for t in self.threats if isinstance(t, HabitatLoss)]
        restorations = [
            a
            for a in self.interventions
            if isinstance(a, HabitatProtection) and a.restoration_rate > 0
        ]
        k = np.ones(len(pop_mask(())))
        out = np.ones((years, k.size))
        if not losses and not restorations:
            return out
        loss_terms = []
        for threat in losses:
            effect = threat.weight(years) * kept[threat.name]
            if threat.rate is None:
                span = threat.stop - threat.start  # type: ignore[operator]
                loss_terms.append(
                    (threat, pop_mask(threat.populations), effect, (1 - threat.floor) / span)
                )
            else:
                loss_terms.append((threat, pop_mask(threat.populations), effect, None))
        restore_terms = [
            (a, pop_mask(a.populations), a.weight(years, delay=a.delay)) for a in restorations
        ]
        for t in range(years):
            for threat, pm, effect, step in loss_terms:
                if step is None:
                    lowered = k * (1.0 - threat.rate * effect[t])  # type: ignore[operator]
                else:
                    lowered = k - step * effect[t]
                # a threat never drives K below its own floor, nor raises K already below it
                lowered = np.maximum(lowered, np.minimum(k, threat.floor))
                k = np.where(pm, lowered, k)
            for action, pm, effect in restore_terms:
                target = action.restoration_target
                raised = np.minimum(k + action.restoration_rate * effect[t], np.maximum(k, target))
                k = np.where(pm, raised, k)
            out[t] = k
        return out

    def _check_references(
        self, species: object, stages: tuple[str, ...], pops: tuple[str, ...]
    ) -> None:
        known = {"stages": stages, "populations": pops}
        for action in self.actions:
            for kind, names in action.references().items():
                if kind not in known:
                    continue
                for n in names:
                    if n not in known[kind]:
                        raise ValueError(
                            f"scenario {self.name!r}: {_where(action)} names {kind[:-1]} {n!r}, which "
                            f"species {_species_name(species)!r} does not have ({kind}: {list(known[kind])})"
                        )


def dump(scenario: Scenario) -> dict[str, object]:
    """``scenario`` as a plain dict (for study files and provenance); :func:`load` inverts it."""
    return scenario.to_dict()


def load(data: Mapping[str, object]) -> Scenario:
    """The scenario that :func:`dump` wrote."""
    return Scenario.from_dict(data)
