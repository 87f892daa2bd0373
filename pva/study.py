"""A study: species x scenarios x settings, as one frozen, validated value.

A :class:`Study` is what a study file (TOML, read by :func:`pva.io.read_study`) says, and what the
runner (:func:`pva.runner.run_study`) executes. Validation happens here, in the dataclasses, so a
study built in Python and one read from a file fail with the same messages. :meth:`Study.to_dict`
writes the study in the study-file schema (``docs/study-file.md``) and :meth:`Study.from_dict` reads
it back: ``Study.from_dict(s.to_dict()) == s``.

Threats and interventions are declared once for the study and may be restricted to some species
(``applies_to``); each :class:`~pva.scenario.Scenario` lists the actions it takes, and
:meth:`Study.scenario_for` gives the scenario as one species sees it (the actions that apply to it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from pva import model, streams, validation
from pva.errors import InactiveActionWarning, StudyFileError, SurvivalCapWarning
from pva.model import Species
from pva.scenario import (
    Action,
    ClimateTrend,
    ExSituProgramme,
    Intervention,
    Scenario,
    ScheduleBuilder,
    Threat,
)
from pva.sites import Site
from pva.validation import UnknownKeyError, check_keys

__all__ = ["GreenStatus", "Outputs", "RedListE", "Study", "StudySpecies", "UnknownKeyError"]


_METADATA = ("taxon", "common_name", "country", "site", "source", "notes")


@dataclasses.dataclass(frozen=True, kw_only=True)
class StudySpecies:
    """A species in a study: its specification and what reports say about it."""

    species: Species
    """The specification the engine projects."""
    taxon: str = ""
    """Scientific name (e.g. "Hudsonia montana"); "" if unknown."""
    common_name: str = ""
    """Common name, for reports."""
    country: str = ""
    """Country or countries (ISO 3166 codes or names), "" if unknown."""
    site: str = ""
    """Site or range, "" if unknown."""
    source: str = ""
    """Where the parameters come from (a citation)."""
    notes: str = ""
    """Free text: assumptions and caveats."""

    def __post_init__(self) -> None:
        validation.instance(self.species, "species", Species, owner="StudySpecies")
        for field in _METADATA:
            validation.text(getattr(self, field), field, owner=f"species {self.species.name!r}")

    @property
    def name(self) -> str:
        """The species' name (its coordinate in the results)."""
        return self.species.name

    def to_dict(self) -> dict[str, Any]:
        """The species table of a study file (specification keys plus the metadata that is set)."""
        out = self.species.to_dict()
        out.pop("type", None)
        out.update({f: getattr(self, f) for f in _METADATA if getattr(self, f)})
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "species") -> StudySpecies:
        """Build from a species table; unknown keys (at any depth) raise :class:`UnknownKeyError`."""
        spec_keys = [f.name for f in dataclasses.fields(Species)]
        check_keys(data, [*spec_keys, *_METADATA, "type"], where)
        meta = {k: data[k] for k in _METADATA if k in data}
        spec = {k: v for k, v in data.items() if k not in _METADATA}
        return cls(species=validation.from_table(Species, spec, where=where), **meta)


# ---------------------------------------------------------------------------------------------------
# outputs
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outputs:
    """What the summary reports (the runner always records mature and total abundance)."""

    horizons: tuple[int, ...] = ()
    """Years at which the summary reports extinction risk (default: the final year)."""
    currency: str = ""
    """Currency of intervention costs, e.g. "USD" (the ``units`` of ``annual_cost``)."""
    green_status: GreenStatus | None = None
    """Counterfactual scenarios and unit thresholds of the Green Status (None: not reported)."""
    red_list_e: RedListE | None = None
    """Projections from each replicate's state at later years, for A3, A4, projected C1 and E
    (None: those criteria at year 0 only)."""
    discount_rate: float = 0.0
    """Annual discount rate of intervention costs, in [0, 1): the summary reports costs as present
    values, year t's cost divided by (1 + rate)^t (0: undiscounted)."""
    costs_stop_at_extinction: bool = True
    """Whether an intervention's cost stops, replicate by replicate, in the year the species goes
    extinct (no individuals left); False: costs run to the horizon whatever happens."""

    def __post_init__(self) -> None:
        if self.green_status is not None and not isinstance(self.green_status, GreenStatus):
            raise TypeError(
                f"Outputs.green_status must be a GreenStatus or None; got {self.green_status!r}"
            )
        if self.red_list_e is not None and not isinstance(self.red_list_e, RedListE):
            raise TypeError(
                f"Outputs.red_list_e must be a RedListE or None; got {self.red_list_e!r}"
            )
        h = validation.integers(
            self.horizons, "horizons", owner="Outputs", minimum=1, increasing=True
        )
        object.__setattr__(self, "horizons", h)
        validation.text(self.currency, "currency", owner="Outputs")
        rate = validation.number(
            self.discount_rate, "discount_rate", owner="Outputs", low=0, high=1, high_open=True
        )
        object.__setattr__(self, "discount_rate", rate)
        validation.flag(self.costs_stop_at_extinction, "costs_stop_at_extinction", owner="Outputs")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "[outputs]") -> Outputs:
        """Build from an ``[outputs]`` table; unknown keys are errors naming the key."""
        check_keys(
            data,
            (
                "horizons",
                "currency",
                "green_status",
                "red_list_e",
                "discount_rate",
                "costs_stop_at_extinction",
            ),
            where,
        )
        data = dict(data)
        if "green_status" in data:
            data["green_status"] = GreenStatus.from_dict(
                data["green_status"], where=f"{where[:-1]}.green_status]"
            )
        if "red_list_e" in data:
            data["red_list_e"] = RedListE.from_dict(
                data["red_list_e"], where=f"{where[:-1]}.red_list_e]"
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The ``[outputs]`` table (keys at their default left out)."""
        out: dict[str, Any] = {}
        if self.horizons:
            out["horizons"] = list(self.horizons)
        if self.currency:
            out["currency"] = self.currency
        if self.green_status is not None:
            out["green_status"] = self.green_status.to_dict()
        if self.red_list_e is not None:
            out["red_list_e"] = self.red_list_e.to_dict()
        if self.discount_rate:
            out["discount_rate"] = self.discount_rate
        if not self.costs_stop_at_extinction:
            out["costs_stop_at_extinction"] = False
        return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class RedListE:
    """Projections from each replicate's state at later assessment years (:mod:`pva.nested`): what
    an assessor standing at such a year could project, for criteria A3, A4, projected C1 and E.

    At each assessment year the runner projects ``inner_replicates`` futures from every replicate's
    state (individuals by stage in each population) under the same scenario and records, from
    those same inner futures, the probability of extinction within the CR, EN and VU windows of E
    (results variable ``extinction_risk``) and the expected mature individuals 0 .. L years ahead
    (``projected_mature``, L = :func:`pva.redlist.projection_leads`, at most 100).
    :func:`pva.redlist.assess` then evaluates A3, A4, projected C1 and E at those years (IUCN
    Guidelines sections 4.5.2 and 9); without this table they are evaluated at year 0 only (from
    the replicates) and are "not evaluated" at later years.

    Cost: each assessment year projects ``replicates x inner_replicates`` futures of 100 years
    (the longest E window) per scenario, ``len(years) x inner_replicates x 100`` projected years
    per replicate and scenario against ``years`` for the run itself (``scenarios/demo.toml`` with
    3 years x 200 inner replicates: 255 s of CPU against 3 s); ``projected_mature`` holds
    ``replicates x scenarios x (years + 1) x (L + 1)`` floats per species in memory (NaN at the
    years not assessed, which compress away in the file).

    The name is historical (the table first gave criterion E only); it is kept so that study files
    and results written with it keep working.
    """

    years: tuple[int, ...] = ()
    """Assessment years (0 .. the study's ``years``), increasing; empty = off."""
    inner_replicates: int = 100
    """Inner futures per replicate and year (Monte Carlo SE of each probability <= 0.05 at 100)."""
    quasi_extinction: bool = False
    """False (default): an inner future counts as extinct when it has no individuals at all
    (total abundance, summed over populations, at 0): the event of EX and of extinctions
    prevented. True: when it falls to each species' ``quasi_extinction_threshold`` or below
    (counting what the species' ``quasi_extinction_on`` says); :func:`pva.redlist.assess` then
    evaluates E at year 0 at the same threshold."""

    def __post_init__(self) -> None:
        own = "RedListE"
        y = validation.integers(self.years, "years", owner=own, minimum=0, increasing=True)
        object.__setattr__(self, "years", y)
        validation.integer(self.inner_replicates, "inner_replicates", owner=own, minimum=1)
        if not isinstance(self.quasi_extinction, bool):
            raise TypeError(
                f"RedListE.quasi_extinction must be true (each species' quasi_extinction_threshold)"
                f" or false (extinction: no individuals at all); got {self.quasi_extinction!r}"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "[outputs.red_list_e]") -> RedListE:
        """Build from an ``[outputs.red_list_e]`` table; unknown keys are errors naming the key."""
        check_keys(data, ("years", "inner_replicates", "quasi_extinction"), where)
        try:
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{where}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The ``[outputs.red_list_e]`` table (keys at their default left out, ``years`` kept)."""
        out: dict[str, Any] = {"years": list(self.years)}
        if self.inner_replicates != 100:
            out["inner_replicates"] = self.inner_replicates
        if self.quasi_extinction:
            out["quasi_extinction"] = True
        return out


_GREEN_SCENARIOS = ("no_action", "action", "potential", "without_past_conservation")
_GREEN_THRESHOLDS = ("viable_threshold", "functional_fraction", "functional_threshold")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GreenStatus:
    """Which scenarios stand for the Green Status counterfactuals, and when a unit is viable or
    functional (IUCN Green Status of Species standard v2.0; Akçakaya et al. 2018).

    Spatial units are the populations of each species. The current Species Recovery Score is the
    ``no_action`` scenario in year 0; Conservation Dependence compares it with ``no_action`` in year
    ``short_term``, Conservation Gain with ``action`` in year ``short_term``, Recovery Potential with
    ``potential`` in year ``long_term`` (or the last simulated year), Conservation Legacy with
    ``without_past_conservation`` in year 0 (see :func:`pva.redlist.green_status`).

    Unit states (:func:`pva.redlist.green_status_states`), from mature individuals per population:
    viable when ``>= viable_threshold`` (default 1,000, the VU D1 bound: a unit of that size is not
    threatened under criterion D); functional when also ``>= functional_fraction`` x the
    population's K (default 0.5; units without a K cannot be functional by this rule) and, if set,
    ``>= functional_threshold``. These defaults are this package's assumptions, not the standard's:
    the standard leaves both thresholds to the assessor. ``species`` overrides them per species.
    """

    no_action: str = ""
    """Future without conservation; "" = the study's no-action scenario."""
    action: str = ""
    """Future with planned conservation ("" = not reported)."""
    potential: str = ""
    """Long-term recovery potential ("" = not reported)."""
    without_past_conservation: str = ""
    """Counterfactual present without past conservation ("" = not reported)."""
    short_term: int = 10
    """Years to the short-term future (Akçakaya et al. 2018: 10)."""
    long_term: int = 100
    """Years to the long-term potential (clipped to the last simulated year)."""
    viable_threshold: float = 1000.0
    """Mature individuals for a viable unit."""
    functional_fraction: float = 0.5
    """Fraction of K (mature individuals) for a functional unit."""
    functional_threshold: float | None = None
    """Mature individuals for a functional unit (optional extra condition)."""
    species: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    """Per-species overrides of the three thresholds: (species name, ((key, value), ...))."""

    def __post_init__(self) -> None:
        own = "GreenStatus"
        for f in _GREEN_SCENARIOS:
            validation.text(getattr(self, f), f, owner=own)
        validation.integer(self.short_term, "short_term", owner=own, minimum=0)
        validation.integer(self.long_term, "long_term", owner=own, minimum=0)
        overrides = self.species
        if isinstance(overrides, Mapping):
            overrides = tuple((k, tuple(dict(v).items())) for k, v in overrides.items())
        overrides = tuple((str(n), tuple(sorted(dict(v).items()))) for n, v in overrides)
        for sp, pairs in overrides:
            check_keys(dict(pairs), _GREEN_THRESHOLDS, f"{own}.species[{sp!r}]")
        object.__setattr__(self, "species", overrides)
        for sp, pairs in (("", tuple(self._defaults().items())), *overrides):
            where = f"{own}.species[{sp!r}]" if sp else own
            for key, v in pairs:
                if v is None and key == "functional_threshold":
                    continue
                high = 1 if key == "functional_fraction" else None  # a fraction of K
                validation.number(v, key, owner=where, low=0, low_open=True, high=high)

    def _defaults(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _GREEN_THRESHOLDS}

    def thresholds(self, species: str) -> dict[str, Any]:
        """``viable_threshold``, ``functional_fraction`` and ``functional_threshold`` of a species."""
        out = self._defaults()
        out.update(dict(dict(self.species).get(species, ())))
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, where: str = "[outputs.green_status]"
    ) -> GreenStatus:
        """Build from an ``[outputs.green_status]`` table; unknown keys are errors naming the key."""
        check_keys(
            data,
            (*_GREEN_SCENARIOS, *_GREEN_THRESHOLDS, "short_term", "long_term", "species"),
            where,
        )
        species = data.get("species", {})
        if not isinstance(species, Mapping) or not all(
            isinstance(v, Mapping) for v in species.values()
        ):
            raise TypeError(f"{where}.species must be a table of tables; got {species!r}")
        try:
            return cls(**{**data, "species": species})
        except StudyFileError:
            raise
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{where}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The ``[outputs.green_status]`` table (keys at their default left out)."""
        default = GreenStatus()
        out: dict[str, Any] = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "species" and getattr(self, f.name) != getattr(default, f.name)
        }
        if self.species:
            out["species"] = {sp: dict(pairs) for sp, pairs in self.species}
        return out


# ---------------------------------------------------------------------------------------------------
# the study
# ---------------------------------------------------------------------------------------------------

_STUDY_KEYS = ("name", "years", "replicates", "seed", "chunk_size", "description", "no_action")
_TOP_KEYS = (
    "study",
    "species",
    "sites",
    "threats",
    "interventions",
    "scenarios",
    "outputs",
    # a sweep's design and parameter uncertainty: read by pva.io.read_sweep (`pva sweep`); the
    # study itself is the base they start from, which `pva run` runs as it is
    "sweep",
    "uncertainty",
)
_SCENARIO_KEYS = ("name", "threats", "actions", "description")


def _check_captive_survival(programme: ExSituProgramme, species: StudySpecies) -> None:
    """An ex-situ programme's survival multiplier may exceed 1 (better care than in the wild), but
    not so far that a stage's captive survival (a column sum of the mean U) would exceed 1: the
    engine would cap it, so the stated effect could not happen (as for catastrophes,
    :class:`pva.model.Species`)."""
    survival = species.species.U_array.sum(axis=0)
    m = programme.survival_multiplier
    k = int(np.argmax(survival))  # the stage that survives best limits the multiplier
    if m * survival[k] > 1 + 1e-9:
        stage = species.species.stages[k]
        raise ValueError(
            f"Study: {validation.owner(programme)} survival_multiplier={m!r} would raise the "
            f"captive survival of stage {stage!r} of species {species.name!r} from "
            f"{survival[k]:.6g} to {m * survival[k]:.6g}, above 1; for this species it must be "
            f"at most {1 / survival[k]:.6g} (survival is a probability)"
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Study:
    """Species x scenarios x settings: everything a run needs, and nothing else.

    Examples
    --------
    >>> from pva.model import Species
    >>> from pva.scenario import HabitatLoss, HabitatProtection, Scenario
    >>> sp = Species(name="toy", stages=("adult",), U=((0.9,),), F=((0.15,),), initial=(50,),
    ...              carrying_capacity=100.0)
    >>> loss = HabitatLoss(name="clearing", rate=0.02)
    >>> study = Study(name="toy", species=(sp,), years=20, replicates=100, seed=1,
    ...               scenarios=(Scenario("no action", (loss,)),
    ...                          Scenario("protect", (loss, HabitatProtection(name="park")))))
    >>> study.scenario_names
    ('no action', 'protect')
    """

    name: str
    """Study name (default output file ``results/<name>.nc``)."""
    species: tuple[StudySpecies, ...]
    """The species (a :class:`~pva.model.Species` is wrapped into a :class:`StudySpecies`)."""
    scenarios: tuple[Scenario, ...] = ()
    """The scenarios; default one scenario "no action" without actions."""
    years: int = 100
    """Projection horizon in years."""
    replicates: int = 1000
    """Monte Carlo replicates per species and scenario."""
    seed: int | None = None
    """Root seed; ``None`` draws fresh entropy (recorded in the results)."""
    chunk_size: int = streams.DEFAULT_CHUNK_SIZE
    """Replicates per task; part of the reproducibility contract (results depend on it)."""
    applies_to: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(action name, species names) pairs restricting an action to some species (default: all)."""
    outputs: Outputs = dataclasses.field(default_factory=Outputs)
    """What the summary reports."""
    description: str = ""
    """Free text for reports."""
    no_action: str | None = None
    """The scenario others are compared with (default: the first without interventions, else the
    first)."""
    sites: tuple[Site, ...] = ()
    """Places shared by species (``[[sites]]``): a species' population lives at the site of its
    name (:mod:`pva.sites`)."""
    action_sites: tuple[tuple[str, str], ...] = ()
    """(action name, site name) pairs: actions written for a site, which act on the population of
    that name of every species that has one (their ``populations`` are the site; the species they
    apply to are those with a population there)."""

    def __post_init__(self) -> None:
        own = "Study"
        validation.name(self.name, "name", owner=own)
        for field in ("years", "replicates", "chunk_size"):
            value = validation.integer(getattr(self, field), field, owner=own, minimum=1)
            object.__setattr__(self, field, value)
        if self.seed is not None:
            object.__setattr__(
                self, "seed", validation.integer(self.seed, "seed", owner=own, minimum=0)
            )
        validation.text(self.description, "description", owner=own)
        validation.instance(self.outputs, "outputs", Outputs, owner=own)
        for h in self.outputs.horizons:
            if h > self.years:
                raise ValueError(
                    f"Study.outputs.horizons must lie within years={self.years}; got {h!r}"
                )
        if self.outputs.red_list_e is not None:
            for y in self.outputs.red_list_e.years:
                if y > self.years:
                    raise ValueError(
                        f"Study.outputs.red_list_e.years must lie within years={self.years}; "
                        f"got {y!r}"
                    )

        if not isinstance(self.species, list | tuple) or not self.species:
            raise ValueError(f"Study.species must list at least one species; got {self.species!r}")
        wrapped = tuple(
            StudySpecies(species=s) if isinstance(s, Species) else s for s in self.species
        )
        for s in wrapped:
            if not isinstance(s, StudySpecies):
                raise TypeError(f"Study.species must hold Species or StudySpecies; got {s!r}")
        names = [s.name for s in wrapped]
        if len(set(names)) != len(names):
            raise ValueError(f"Study.species names must be unique; got {names!r}")
        object.__setattr__(self, "species", wrapped)

        scenarios = tuple(self.scenarios) or (Scenario("no action"),)
        for sc in scenarios:
            if not isinstance(sc, Scenario):
                raise TypeError(f"Study.scenarios must hold Scenario objects; got {sc!r}")
        snames = [sc.name for sc in scenarios]
        if len(set(snames)) != len(snames):
            raise ValueError(f"Study.scenarios names must be unique; got {snames!r}")
        # threats first, then interventions, each in the order given: the order a study file
        # writes them in, so that to_dict/from_dict is an exact round trip
        scenarios = tuple(
            dataclasses.replace(sc, actions=(*sc.threats, *sc.interventions)) for sc in scenarios
        )
        object.__setattr__(self, "scenarios", scenarios)
        # one action per name across scenarios
        by_name: dict[str, Action] = {}
        for sc in scenarios:
            for a in sc.actions:
                if by_name.setdefault(a.name, a) != a:
                    raise ValueError(
                        f"Study: two different actions are named {a.name!r} (scenario {sc.name!r}); "
                        "give them different names"
                    )

        pairs = []
        for item in (
            self.applies_to.items() if isinstance(self.applies_to, Mapping) else self.applies_to
        ):
            action, targets = item
            if action not in by_name:
                raise ValueError(
                    f"Study.applies_to names action {action!r}, which no scenario uses "
                    f"(actions: {sorted(by_name)})"
                )
            targets = (targets,) if isinstance(targets, str) else tuple(targets)
            for t in targets:
                if t not in names:
                    raise ValueError(
                        f"action {action!r} applies to species {t!r}, which is not in the study "
                        f"(species: {names})"
                    )
            pairs.append((action, targets))
        object.__setattr__(self, "applies_to", tuple(pairs))

        if self.no_action is not None and self.no_action not in snames:
            raise ValueError(
                f"Study.no_action must name a scenario {snames}; got {self.no_action!r}"
            )
        green = self.outputs.green_status
        if green is not None:
            for field in _GREEN_SCENARIOS:
                value = getattr(green, field)
                if value and value not in snames:
                    raise ValueError(
                        f"Study.outputs.green_status.{field} must name a scenario {snames}; "
                        f"got {value!r}"
                    )
            unknown = sorted({sp for sp, _ in green.species} - set(names))
            if unknown:
                raise ValueError(
                    f"Study.outputs.green_status.species names unknown species {unknown!r}; "
                    f"species: {names}"
                )

        self._check_sites(wrapped, by_name)

        # every scenario must make sense for every species: the stages and populations each
        # action names are checked here; the year-by-year schedules are compiled by the runner,
        # after the run's memory has been estimated (a study of 1e9 years must be refused before
        # anything year-sized exists, see pva.resources)
        for s in wrapped:
            for j in range(len(scenarios)):
                sc = self.scenario_for(s.name, j)
                builder = ScheduleBuilder.start(sc, s.species, years=1)
                for action in (*sc.threats, *sc.interventions):
                    builder.check_names(action)
                    if isinstance(action, ExSituProgramme):
                        _check_captive_survival(action, s)
            model.warn_inert_density_dependence(s.species)  # valid, but a silent no-op
        self._warn_inactive(by_name)
        self._warn_survival_trends(wrapped, scenarios)

    def _warn_inactive(self, actions: Mapping[str, Action]) -> None:
        """:class:`~pva.errors.InactiveActionWarning` for an action that starts (or, after its
        ``delay``, takes effect) at or after the horizon: it would never act."""
        for a in actions.values():
            delay = int(getattr(a, "delay", 0))
            if a.start >= self.years:
                warnings.warn(
                    f"Study: {validation.owner(a)} starts at step {a.start}, at or after the "
                    f"horizon of years={self.years}: it never acts",
                    InactiveActionWarning,
                    stacklevel=4,
                )
            elif a.start + delay >= self.years:
                warnings.warn(
                    f"Study: {validation.owner(a)} takes effect at step {a.start + delay} "
                    f"(start {a.start} + delay {delay}), at or after the horizon of "
                    f"years={self.years}: it never acts (its cost is still counted)",
                    InactiveActionWarning,
                    stacklevel=4,
                )

    def _warn_survival_trends(
        self, species: tuple[StudySpecies, ...], scenarios: tuple[Scenario, ...]
    ) -> None:
        """:class:`~pva.errors.SurvivalCapWarning` for a rising survival trend that may take a
        stage's survival above 1 within the horizon (where the engine caps it at 1). The factor
        is bounded by ``(1 + trend)^steps`` over the steps the trend acts (ramps and abatements
        only lower it), so the warning says "may"."""
        warned: set[tuple[str, str]] = set()
        for s in species:
            survival = s.species.U_array.sum(axis=0)  # of each stage, at the mean matrices
            for j in range(len(scenarios)):
                for a in self.scenario_for(s.name, j).threats:
                    if not isinstance(a, ClimateTrend) or a.survival_trend <= 0:
                        continue
                    if (a.name, s.name) in warned:
                        continue
                    stop = self.years if a.stop is None else min(a.stop, self.years)
                    steps = max(stop - a.start, 0)
                    log_factor = steps * math.log1p(a.survival_trend)
                    for k, stage in enumerate(s.species.stages):
                        if a.stages and stage not in a.stages:
                            continue
                        if survival[k] > 0 and math.log(survival[k]) + log_factor > 1e-12:
                            warned.add((a.name, s.name))
                            warnings.warn(
                                f"Study: ClimateTrend {a.name!r} may raise the survival of stage "
                                f"{stage!r} of species {s.name!r} ({survival[k]:.6g}) above 1 "
                                f"within years={self.years} (by a factor of up to "
                                f"{math.exp(min(log_factor, 700.0)):.6g}); the engine caps "
                                "survival at 1",
                                SurvivalCapWarning,
                                stacklevel=4,
                            )
                            break

    def _check_sites(
        self, wrapped: tuple[StudySpecies, ...], by_name: Mapping[str, Action]
    ) -> None:
        """Sites: unique names, each holding some population, trigger species that live there,
        coordinates that agree with those of the populations; actions written for a site act on
        that population and apply to the species that live there."""
        sites = tuple(self.sites)
        for site in sites:
            validation.instance(site, "sites", Site, owner="Study")
        site_names = [site.name for site in sites]
        if len(set(site_names)) != len(site_names):
            raise ValueError(f"Study.sites names must be unique; got {site_names!r}")
        object.__setattr__(self, "sites", sites)
        for site in sites:
            living = self.species_at(site.name, wrapped)
            if not living:
                raise ValueError(
                    f"Study: site {site.name!r} holds no population (a species' population lives "
                    f"at the site of its name; populations: "
                    f"{sorted({p for s in wrapped for p in s.species.population_names})})"
                )
            strangers = [t for t in site.trigger_species if t not in living]
            if strangers:
                raise ValueError(
                    f"Study: site {site.name!r} lists trigger species {strangers!r} without a "
                    f"population there (species at the site: {list(living)})"
                )
            for s in wrapped:
                for pop in s.species.all_populations:
                    if (
                        pop.name == site.name
                        and pop.coordinates is not None
                        and site.coordinates is not None
                        and tuple(pop.coordinates) != tuple(site.coordinates)
                    ):
                        raise ValueError(
                            f"Study: population {pop.name!r} of species {s.name!r} has coordinates "
                            f"{pop.coordinates!r}, but its site has {site.coordinates!r}"
                        )
        pairs = tuple(tuple(p) for p in self.action_sites)
        limits = dict(self.applies_to)
        for action, site in pairs:
            if action not in by_name:
                raise ValueError(
                    f"Study.action_sites names action {action!r}, which no scenario uses "
                    f"(actions: {sorted(by_name)})"
                )
            if site not in site_names:
                raise ValueError(
                    f"action {action!r} is written for site {site!r}, which is not among the "
                    f"study's [[sites]] {site_names!r}"
                )
            populations = getattr(by_name[action], "populations", None)
            if populations is not None and tuple(populations) != (site,):
                raise ValueError(
                    f"action {action!r} is written for site {site!r}; its populations must be "
                    f"[{site!r}] (or left out); got {list(populations)!r}"
                )
            living = self.species_at(site, wrapped)
            chosen = tuple(n for n in living if n in limits.get(action, living))
            if not chosen:
                raise ValueError(
                    f"action {action!r} at site {site!r} applies to no species living there "
                    f"(species at the site: {list(living)}; action limited to "
                    f"{list(limits.get(action, ()))})"
                )
            limits[action] = chosen
        object.__setattr__(self, "action_sites", pairs)
        if pairs:
            # one order whatever the order limits were given in (threats, then interventions, as
            # the scenarios list them): to_dict/from_dict is an exact round trip
            kinds = [n for n, a in by_name.items() if isinstance(a, Threat)]
            kinds += [n for n, a in by_name.items() if not isinstance(a, Threat)]
            order = {n: i for i, n in enumerate(kinds)}
            limits = dict(sorted(limits.items(), key=lambda item: order[item[0]]))
        object.__setattr__(self, "applies_to", tuple(limits.items()))

    def species_at(
        self, site: str, species: tuple[StudySpecies, ...] | None = None
    ) -> tuple[str, ...]:
        """Names of the species with a population at ``site`` (in study order)."""
        listed = self.species if species is None else species
        return tuple(s.name for s in listed if site in s.species.population_names)

    def site(self, name: str) -> Site:
        """The site ``name``."""
        for site in self.sites:
            if site.name == name:
                return site
        raise ValueError(f"no site {name!r}; sites: {[s.name for s in self.sites]}")

    def site_actions(self) -> dict[str, tuple[str, ...]]:
        """The interventions written for each site, by site name (in the study's order)."""
        out: dict[str, list[str]] = {site.name: [] for site in self.sites}
        for action, site in self.action_sites:
            out[site].append(action)
        return {k: tuple(v) for k, v in out.items()}

    # ---- derived --------------------------------------------------------------------------------

    @property
    def species_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.species)

    @property
    def scenario_names(self) -> tuple[str, ...]:
        return tuple(sc.name for sc in self.scenarios)

    @property
    def has_genetics(self) -> bool:
        """Whether some species tracks gene diversity (its results then have it)."""
        return any(s.species.genetics is not None for s in self.species)

    @property
    def baseline(self) -> str:
        """The "no action" scenario: ``no_action`` if set, else the first scenario without
        interventions, else the first scenario."""
        if self.no_action is not None:
            return self.no_action
        for sc in self.scenarios:
            if not sc.interventions:
                return sc.name
        return self.scenarios[0].name

    def scenario_for(self, species: str | int, scenario: str | int) -> Scenario:
        """Scenario ``scenario`` as species ``species`` sees it: the actions that apply to it."""
        name = self.species[species].name if isinstance(species, int) else species
        sc = self.scenarios[scenario] if isinstance(scenario, int) else self._scenario(scenario)
        limits = dict(self.applies_to)
        kept = tuple(a for a in sc.actions if name in limits.get(a.name, (name,)))
        try:
            return dataclasses.replace(sc, actions=kept)
        except ValueError as exc:
            raise ValueError(f"for species {name!r}: {exc}") from None

    def _scenario(self, name: str) -> Scenario:
        for sc in self.scenarios:
            if sc.name == name:
                return sc
        raise ValueError(f"no scenario {name!r}; scenarios: {list(self.scenario_names)}")

    def with_(self, **changes: Any) -> Study:
        """A copy with settings changed (validated again), e.g. ``study.with_(replicates=100)``."""
        return dataclasses.replace(self, **changes)

    # ---- serialisation --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The study in the study-file schema (JSON- and TOML-ready; ``None`` values left out)."""
        head: dict[str, Any] = {
            "name": self.name,
            "years": self.years,
            "replicates": self.replicates,
            "chunk_size": self.chunk_size,
        }
        if self.seed is not None:
            head["seed"] = self.seed
        if self.description:
            head["description"] = self.description
        if self.no_action is not None:
            head["no_action"] = self.no_action
        limits = dict(self.applies_to)
        at_site = dict(self.action_sites)
        threats: dict[str, dict[str, Any]] = {}
        interventions: dict[str, dict[str, Any]] = {}
        scenarios = []
        for sc in self.scenarios:
            for a in sc.actions:
                table = threats if isinstance(a, Threat) else interventions
                if a.name not in table:
                    entry = a.to_dict()
                    if a.name in limits:
                        entry["species"] = list(limits[a.name])
                    if a.name in at_site:
                        entry.pop("populations", None)
                        entry["site"] = at_site[a.name]
                    table[a.name] = entry
            entry_sc: dict[str, Any] = {
                "name": sc.name,
                "threats": [a.name for a in sc.threats],
                "actions": [a.name for a in sc.interventions],
            }
            if sc.description:
                entry_sc["description"] = sc.description
            scenarios.append(entry_sc)
        out: dict[str, Any] = {
            "study": head,
            "species": [_drop_none(s.to_dict()) for s in self.species],
            **({"sites": [site.to_dict() for site in self.sites]} if self.sites else {}),
            "threats": list(threats.values()),
            "interventions": list(interventions.values()),
            "scenarios": scenarios,
        }
        outputs = self.outputs.to_dict()
        if outputs:
            out["outputs"] = outputs
        return out

    def to_json(self) -> str:
        """:meth:`to_dict` as canonical JSON (sorted keys): provenance and the checkpoint hash."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def digest(self, *, seed: bool = True) -> str:
        """SHA-256 of :meth:`to_json`: identifies the study (settings, species and scenarios).

        With ``seed=False`` the seed is left out: checkpoints identify the study by it and the
        seed by its entropy, so that a resume with another seed is told so, not that the study
        changed."""
        doc = self.to_dict()
        if not seed:
            doc["study"].pop("seed", None)
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Study:
        """Build a study from a parsed study file (species tables already resolved, see
        :func:`pva.io.read_study`) or from :meth:`to_dict` output.

        Raises
        ------
        UnknownKeyError
            For a key the schema does not know, naming it and its table.
        ValueError, TypeError
            For a bad value or a bad reference, naming it.
        """
        check_keys(data, _TOP_KEYS, "the study file")
        head = data.get("study")
        if head is None:
            raise StudyFileError(
                "the study file needs a [study] table (name, years, replicates, ...)"
            )
        check_keys(head, _STUDY_KEYS, "[study]")
        if "name" not in head:
            raise StudyFileError("[study]: missing key 'name'")

        species_tables = _list_of_tables(data.get("species", []), "[[species]]")
        species = tuple(
            StudySpecies.from_dict(t, where=f"species[{i}]") for i, t in enumerate(species_tables)
        )

        sites = tuple(
            Site.from_dict(t, where=f"sites[{i}]")
            for i, t in enumerate(_list_of_tables(data.get("sites", []), "[[sites]]"))
        )
        action_sites: list[tuple[str, str]] = []
        limits: dict[str, tuple[str, ...]] = {}
        actions: dict[str, Action] = {}
        threat_order: list[str] = []
        for group, base in (("threats", Threat), ("interventions", Intervention)):
            for i, table in enumerate(_list_of_tables(data.get(group, []), f"[[{group}]]")):
                where = f"{group}[{i}]"
                body = dict(table)
                targets = body.pop("species", None)
                site = body.pop("site", None)
                if site is not None:
                    validation.name(site, "site", owner=where)
                    if "populations" in body and list(body["populations"]) != [site]:
                        raise StudyFileError(
                            f"{where}: an action written for site {site!r} acts on the "
                            f"population of that name; leave populations out (got "
                            f"{body['populations']!r})"
                        )
                    if "populations" in _fields_of(body):
                        body["populations"] = [site]
                action = Action.from_dict(body, where=where)
                if site is not None:
                    action_sites.append((action.name, site))
                if not isinstance(action, base):
                    raise StudyFileError(
                        f"{where}: {type(action).__name__} is not a {base.__name__.lower()}; "
                        f"put it under [[{'interventions' if group == 'threats' else 'threats'}]]"
                    )
                if action.name in actions:
                    raise StudyFileError(f"{where}: the name {action.name!r} is used twice")
                actions[action.name] = action
                if group == "threats":
                    threat_order.append(action.name)
                if targets is not None:
                    if isinstance(targets, str):
                        targets = [targets]
                    if not isinstance(targets, list) or not all(
                        isinstance(t, str) for t in targets
                    ):
                        raise TypeError(
                            f"{where}.species must be a list of species names; got {targets!r}"
                        )
                    limits[action.name] = tuple(targets)

        scenarios = []
        for i, table in enumerate(_list_of_tables(data.get("scenarios", []), "[[scenarios]]")):
            where = f"scenarios[{i}]"
            check_keys(table, _SCENARIO_KEYS, where)
            chosen_threats = _name_list(table.get("threats", threat_order), f"{where}.threats")
            chosen = _name_list(table.get("actions", []), f"{where}.actions")
            items = []
            for n in chosen_threats:
                if n not in actions or not isinstance(actions[n], Threat):
                    raise StudyFileError(
                        f"{where}.threats names {n!r}, which is not a threat of the study "
                        f"(threats: {threat_order})"
                    )
                items.append(actions[n])
            for n in chosen:
                if n not in actions:
                    raise StudyFileError(
                        f"{where}.actions names {n!r}, which is not an intervention of the study "
                        f"(interventions: {[k for k in actions if k not in threat_order]})"
                    )
                if isinstance(actions[n], Threat) and n in chosen_threats:
                    raise StudyFileError(
                        f"{where}.actions names threat {n!r}, already in its threats"
                    )
                items.append(actions[n])
            try:
                scenarios.append(
                    Scenario(
                        name=table.get("name", ""),
                        actions=tuple(items),
                        description=table.get("description", ""),
                    )
                )
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"{where}: {exc}") from None
        used = {a.name for sc in scenarios for a in sc.actions}
        unused = [n for n in actions if n not in used]
        if unused and scenarios:
            raise StudyFileError(f"actions {unused} are declared but no scenario uses them")
        if not scenarios and any(n not in threat_order for n in actions):
            raise StudyFileError(
                "interventions are declared but there is no [[scenarios]] table using them"
            )
        if not scenarios:
            scenarios = [Scenario("no action", tuple(actions[n] for n in threat_order))]

        outputs = Outputs.from_dict(data.get("outputs", {}))
        return cls(
            name=head["name"],
            species=species,
            scenarios=tuple(scenarios),
            years=head.get("years", 100),
            replicates=head.get("replicates", 1000),
            seed=head.get("seed"),
            chunk_size=head.get("chunk_size", streams.DEFAULT_CHUNK_SIZE),
            applies_to=tuple(limits.items()),
            outputs=outputs,
            description=head.get("description", ""),
            no_action=head.get("no_action"),
            sites=sites,
            action_sites=tuple(action_sites),
        )


def _fields_of(table: Mapping[str, Any]) -> set[str]:
    """Field names of the action type a table names (empty if the type is unknown: the error is
    then raised by :meth:`Action.from_dict`)."""
    kind = validation.table_types(Action).get(str(table.get("type", "")))
    return {f.name for f in dataclasses.fields(kind)} if kind is not None else set()


def _list_of_tables(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, Mapping) for v in value):
        raise TypeError(f"{where} must be an array of tables; got {value!r}")
    return list(value)


def _name_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{where} must be a list of names; got {value!r}")
    return list(value)


def _drop_none(value: Any) -> Any:
    """TOML has no null: leave out keys whose value is None (they are the defaults)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
