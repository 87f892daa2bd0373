"""The real portfolio: every shipped COMPADRE/COMADRE record that passes strict quality flags, one
per species, each given a threat profile, an initial size and a carrying capacity by written rules
from its own life history, and a factorial set of intervention designs.

Quality flags (:data:`QUALITY_FLAGS`, :func:`quality_flags`) are computed here from each record's
matrices and metadata, not read from its ``qc`` block: complete U, F and C; A = U + F + C; U column
sums <= 1; every individual eventually dies (spectral radius of U < 1, so that R0 and the
generation length exist); some reproduction; A irreducible (ergodic); an annual time step; a wild,
unmanipulated population; an average matrix (COMPADRE ``MatrixComposite`` "Mean" or "Pooled", not
a single year or site). One record per species (:func:`portfolio_records`): a "Mean" matrix before
a "Pooled" one, then the longest study, then the lowest source row.

Every rule that turns a record into a species under threat, and every intervention design, is an
ASSUMPTION of this module, written in :data:`RULES` (the report and ``results/success_factors.md``
print them) and marked in the code where it is applied. The success factors found on this
portfolio are conditional on these rules.

References
----------
Salguero-Gómez, R. et al. (2015) The COMPADRE Plant Matrix Database. Journal of Ecology 103:202-218.
Salguero-Gómez, R. et al. (2016) COMADRE: a global data base of animal demography. Journal of
Animal Ecology 85:371-384.
Caswell, H. (2001) Matrix Population Models, 2nd ed. Sinauer (elasticities, R0, generation time).
Salafsky, N. et al. (2008) A standard lexicon for biodiversity conservation: unified
classifications of threats and actions. Conservation Biology 22:897-911 (threat and action kinds).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from pva import analysis, datasets, streams
from pva.datasets import MatrixData
from pva.model import Catastrophe, DensityDependence, Species
from pva.scenario import (
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
    Scenario,
    Threat,
    ThreatAbatement,
    Translocation,
)
from pva.study import Outputs, Study, StudySpecies

__all__ = [
    "DESIGN_KINDS",
    "NO_ACTION",
    "QUALITY_FLAGS",
    "RULES",
    "Design",
    "LifeHistory",
    "PortfolioSpecies",
    "designs",
    "fractional_designs",
    "life_history",
    "portfolio",
    "portfolio_records",
    "portfolio_study",
    "quality_flags",
]

FloatArray = npt.NDArray[np.float64]

NO_ACTION = "no action"
"""Name of the scenario with the threats only."""

# ---------------------------------------------------------------------------------------------------
# quality flags
# ---------------------------------------------------------------------------------------------------

QUALITY_FLAGS: tuple[tuple[str, str], ...] = (
    ("complete", "U, F and C given, with no missing (NA) entry"),
    ("parts_sum_to_A", "A = U + F + C (to 1e-6)"),
    ("survival_at_most_1", "every column sum of U is <= 1"),
    ("mortal", "the spectral radius of U is < 1: every individual dies, so R0 and T exist"),
    ("reproduces", "F + C has a positive entry"),
    ("irreducible", "A is irreducible (every stage reaches every other: ergodic)"),
    ("annual", "AnnualPeriodicity is 1 (one projection step per year)"),
    ("wild", "MatrixCaptivity is W (a wild population)"),
    ("unmanipulated", "MatrixTreatment is Unmanipulated"),
    ("average_matrix", "MatrixComposite is Mean or Pooled (not one year or site)"),
)
"""(flag, rule) pairs a record must all pass to enter the portfolio."""


def quality_flags(record: MatrixData) -> dict[str, bool]:
    """Each flag of :data:`QUALITY_FLAGS` for a COMPADRE/COMADRE record (True: passes).

    Flags that need the matrices are False when they are incomplete.
    """
    meta = record.metadata
    parts = (record.A, record.U, record.F, record.C)
    complete = all(m is not None and not np.isnan(m).any() for m in parts)
    flags = dict.fromkeys((name for name, _ in QUALITY_FLAGS), False)
    flags["complete"] = complete
    if complete:
        A, U, F, C = (np.asarray(m, dtype=float) for m in parts)
        flags["parts_sum_to_A"] = bool(np.allclose(A, U + F + C, rtol=0.0, atol=1e-6))
        flags["survival_at_most_1"] = bool(np.all(U.sum(axis=0) <= 1.0 + 1e-9))
        flags["mortal"] = bool(np.max(np.abs(np.linalg.eigvals(U))) < 1.0 - 1e-9)
        flags["reproduces"] = bool(np.any(F + C > 0))
        flags["irreducible"] = bool(analysis.is_irreducible(A))
    flags["annual"] = meta.get("AnnualPeriodicity") == "1"
    flags["wild"] = meta.get("MatrixCaptivity") == "W"
    flags["unmanipulated"] = meta.get("MatrixTreatment") == "Unmanipulated"
    flags["average_matrix"] = meta.get("MatrixComposite") in ("Mean", "Pooled")
    return flags


def _preference(record: MatrixData) -> tuple[int, float, int]:
    """Sort key among the passing records of one species: Mean before Pooled, the longest study,
    the lowest source row."""
    meta = record.metadata
    duration = meta.get("StudyDuration")
    return (
        0 if meta.get("MatrixComposite") == "Mean" else 1,
        -float(duration) if isinstance(duration, int | float) else 0.0,
        int(meta.get("source_row") or 0),
    )


def portfolio_records() -> tuple[MatrixData, ...]:
    """The shipped COMPADRE and COMADRE records that pass every quality flag, one per species
    (``SpeciesAccepted``; see :func:`_preference`), plants first, each database in record order."""
    chosen: dict[str, MatrixData] = {}
    for record_id in datasets.compadre_ids():
        record = datasets.load_compadre(record_id)
        if not all(quality_flags(record).values()):
            continue
        taxon = str(record.metadata.get("SpeciesAccepted") or record_id)
        if taxon not in chosen or _preference(record) < _preference(chosen[taxon]):
            chosen[taxon] = record
    return tuple(chosen.values())


# ---------------------------------------------------------------------------------------------------
# life history (pva.analysis)
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LifeHistory:
    """Life-history traits of a mean matrix model (Caswell 2001), the species-level factors."""

    growth_rate: float
    """λ, the dominant eigenvalue of A = U + F (:func:`pva.analysis.growth_rate`)."""
    generation_length: float
    """Mean age of parents, years (:func:`pva.analysis.generation_length`, IUCN's)."""
    net_reproductive_rate: float
    """R0, offspring per lifetime (:func:`pva.analysis.net_reproductive_rate`)."""
    adult_survival_elasticity: float
    """Sum of the elasticities of λ to the U entries of the mature stages' columns
    (``u_ij s_ij / λ``, Caswell 2001 section 9.2): the share of λ carried by adult survival."""
    adult_survival: float
    """Annual survival of the mature stages (column sums of U), weighted by the stable stage
    distribution."""
    mature_fraction: float
    """Share of mature individuals in the stable stage distribution."""
    mature: tuple[bool, ...]
    """Mature stages: those with a positive column of F (sexual and clonal reproduction)."""


def life_history(U: npt.ArrayLike, F: npt.ArrayLike) -> LifeHistory:
    """The traits of :class:`LifeHistory` for survival matrix ``U`` and reproduction ``F`` (include
    clonal reproduction in ``F``), both (stages, stages), ``[to, from]``, per year.

    Raises
    ------
    ValueError
        If the model has no reproduction that contributes to growth or U does not let individuals
        die (see :func:`pva.analysis.generation_length`).
    """
    Um, Fm = np.asarray(U, dtype=float), np.asarray(F, dtype=float)
    A = Um + Fm
    lam = analysis.growth_rate(A)
    mature = Fm.sum(axis=0) > 0
    w = analysis.stable_stage(A)
    survival = Um.sum(axis=0)
    elasticity_u = Um * analysis.sensitivity(A) / lam
    return LifeHistory(
        growth_rate=float(lam),
        generation_length=float(analysis.generation_length(Um, Fm)),
        net_reproductive_rate=float(analysis.net_reproductive_rate(Um, Fm)),
        adult_survival_elasticity=float(elasticity_u[:, mature].sum()),
        adult_survival=float(np.sum(survival[mature] * w[mature]) / np.sum(w[mature])),
        mature_fraction=float(np.sum(w[mature])),
        mature=tuple(bool(m) for m in mature),
    )


# ---------------------------------------------------------------------------------------------------
# the written rules (every one an ASSUMPTION)
# ---------------------------------------------------------------------------------------------------

INITIAL_MATURE_PER_GENERATION = 5000.0
"""ASSUMPTION (rule "initial size"): initial mature individuals = this / generation length."""
INITIAL_MATURE_RANGE = (50, 2500)
"""ASSUMPTION: bounds of the initial mature individuals (CR D to above VU D1)."""
K_OVER_INITIAL = 2.0
"""ASSUMPTION (rule "carrying capacity"): K of mature individuals = this x initial mature."""
HABITAT_LOSS_RATE = 0.015
"""ASSUMPTION (rule "habitat loss"): fraction of K lost a year, every species, to the horizon."""
HABITAT_LOSS_FLOOR = 0.1
"""ASSUMPTION: habitat loss never takes K below this fraction of its initial value."""
HARVEST_MIN_GENERATION = 5.0
"""ASSUMPTION (rule "killing of adults"): species with a generation length of at least this many
years lose adults to people (hunting and persecution of animals; collection and logging of plants)."""
HARVEST_SHARE_OF_MORTALITY = 0.5
"""ASSUMPTION: the harvest kills this share of the adults' natural annual mortality, a year."""
HARVEST_RANGE = (0.01, 0.2)
"""ASSUMPTION: bounds of the annual proportion of adults killed."""
DISEASE_FREQUENCY = 0.1
"""ASSUMPTION (rule "disease"): annual probability of an epidemic in an animal species."""
DISEASE_SURVIVAL = 0.7
"""ASSUMPTION: survival multiplier of every stage in an epidemic year."""
INVASIVE_FECUNDITY = 0.7
"""ASSUMPTION (rule "invasive competitor"): fecundity multiplier, every plant, chronic."""
BAD_YEAR = Catastrophe(
    name="bad year", probability=0.1, survival_multiplier=0.9, fecundity_multiplier=0.5
)
"""ASSUMPTION (rule "environment"): the records are mean matrices without their variation; a bad
year once a decade on average (survival x 0.9, fecundity x 0.5) stands in for it."""

RULES: tuple[tuple[str, str], ...] = (
    (
        "initial size",
        f"initial mature individuals = {INITIAL_MATURE_PER_GENERATION:,.0f} / generation length, "
        f"between {INITIAL_MATURE_RANGE[0]} and {INITIAL_MATURE_RANGE[1]:,} (long-lived species are "
        "rarer), at the stable stage distribution",
    ),
    (
        "carrying capacity",
        f"K = {K_OVER_INITIAL:g} x the initial mature individuals, a ceiling on the mature stages",
    ),
    (
        "environment",
        "demographic stochasticity and a bad year with probability 0.1 (survival x 0.9, "
        "fecundity x 0.5); the records give no annual variation",
    ),
    (
        "habitat loss",
        f"every species: K falls by {HABITAT_LOSS_RATE:.1%} a year to the horizon, never below "
        f"{HABITAT_LOSS_FLOOR:.0%} of its initial value",
    ),
    (
        "killing of adults",
        f"generation length >= {HARVEST_MIN_GENERATION:g} years: a proportion of the mature stages "
        f"killed each year equal to {HARVEST_SHARE_OF_MORTALITY:g} x their natural mortality "
        f"(between {HARVEST_RANGE[0]:g} and {HARVEST_RANGE[1]:g}); hunting and persecution of "
        "animals, collection and logging of plants",
    ),
    (
        "disease",
        f"animals: epidemics with annual probability {DISEASE_FREQUENCY:g}, survival of every "
        f"stage x {DISEASE_SURVIVAL:g} in an epidemic year",
    ),
    (
        "invasive competitor",
        f"plants: chronic, fecundity of every stage x {INVASIVE_FECUNDITY:g}",
    ),
)
"""(rule, text): how a record becomes a threatened species; every rule is an ASSUMPTION."""


# designs -------------------------------------------------------------------------------------------

DesignKind = Literal[
    "threat abatement",
    "protection/restoration",
    "translocation",
    "ex-situ release",
    "conflict mitigation",
]
DESIGN_KINDS: tuple[str, ...] = (
    "threat abatement",
    "protection/restoration",
    "translocation",
    "ex-situ release",
    "conflict mitigation",
)
"""The intervention types of the designs (Salafsky et al. 2008 action kinds)."""
STARTS = (0, 5, 10)
"""Start of the interventions: now, in 5 and in 10 years."""
INTENSITIES = ("low", "high")
DURATIONS: tuple[int | None, ...] = (10, None)
"""Years the intervention acts: 10, or to the horizon (None)."""

ABATEMENT_FRACTION = {"low": 0.5, "high": 0.9}
"""ASSUMPTION: fraction of the threat (disease, invasive competitor, killing) removed."""
PROTECTION = {"low": (0.5, 0.0), "high": (1.0, 0.01)}
"""ASSUMPTION: (fraction of the habitat loss halted, K restored a year as a fraction of the
initial K)."""
TRANSLOCATED = {"low": 0.02, "high": 0.05}
"""ASSUMPTION: adults moved in from a donor population a year, as a fraction of the initial mature
individuals (at least 1)."""
TRANSLOCATION_SURVIVAL = 0.7
"""ASSUMPTION: survival of a translocated adult through its release."""
RELEASED = {"low": 0.05, "high": 0.15}
"""ASSUMPTION: captive-bred or nursery-grown individuals released a year, as a fraction of the
initial mature individuals (at least 1)."""
RELEASE_SURVIVAL = 0.4
"""ASSUMPTION: survival of an ex-situ individual through its release."""

COST_ABATEMENT = 20_000.0
"""ASSUMPTION (cost rule): USD a year for threat abatement at full effect (x fraction)."""
COST_PROTECTION_PER_K = 40.0
"""ASSUMPTION: USD a year per mature individual of K for protection at full effect (x fraction);
restoration doubles it (its area scales with K)."""
COST_TRANSLOCATION = {"animal": 2_000.0, "plant": 100.0}
"""ASSUMPTION: USD per individual translocated."""
COST_RELEASE = {"animal": 4_000.0, "plant": 40.0}
"""ASSUMPTION: USD per individual bred or grown ex situ and released."""
COST_CONFLICT = 30_000.0
"""ASSUMPTION: USD a year for conflict mitigation (wardens, compensation) at full effect."""
CURRENCY = "USD"

DESIGN_RULES: tuple[tuple[str, str], ...] = (
    (
        "threat abatement",
        "animals: the disease's epidemics abated (vaccination, biosecurity); plants: the invasive "
        f"competitor controlled; fraction {ABATEMENT_FRACTION['low']:g} (low) or "
        f"{ABATEMENT_FRACTION['high']:g} (high); {COST_ABATEMENT:,.0f} USD a year x fraction",
    ),
    (
        "protection/restoration",
        f"low: halts {PROTECTION['low'][0]:.0%} of the habitat loss; high: halts all of it and "
        f"restores {PROTECTION['high'][1]:.0%} of the initial K a year; {COST_PROTECTION_PER_K:g} "
        "USD a year per mature individual of K x fraction, twice that when restoring",
    ),
    (
        "translocation",
        f"adults from a donor population outside the model into the largest mature stage, "
        f"{TRANSLOCATED['low']:.0%} (low) or {TRANSLOCATED['high']:.0%} (high) of the initial "
        f"mature individuals a year, survival {TRANSLOCATION_SURVIVAL:g}; "
        f"{COST_TRANSLOCATION['animal']:,.0f} USD per animal, {COST_TRANSLOCATION['plant']:,.0f} "
        "per plant",
    ),
    (
        "ex-situ release",
        f"captive-bred or nursery-grown individuals of the immature stage with the highest "
        f"reproductive value, {RELEASED['low']:.0%} (low) or {RELEASED['high']:.0%} (high) of the "
        f"initial mature individuals a year, survival {RELEASE_SURVIVAL:g}; "
        f"{COST_RELEASE['animal']:,.0f} USD per animal, {COST_RELEASE['plant']:,.0f} per plant",
    ),
    (
        "conflict mitigation",
        "the killing of adults abated (wardens, compensation, deterrents), where there is any; "
        f"fraction {ABATEMENT_FRACTION['low']:g} or {ABATEMENT_FRACTION['high']:g}; "
        f"{COST_CONFLICT:,.0f} USD a year x fraction",
    ),
    (
        "timing, duration",
        f"start now, in 5 or in 10 years ({', '.join(map(str, STARTS))}); acting for 10 years or "
        "to the horizon; costs are paid while an intervention acts, undiscounted",
    ),
)
"""(design rule, text): the interventions of each type; every rule is an ASSUMPTION."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Design:
    """One intervention design of the factorial: a type, a start, an intensity and a duration.

    Applied to every species of the portfolio for which its type exists (conflict mitigation needs
    a killing threat); the species-specific numbers follow the rules of :data:`DESIGN_RULES`.
    """

    kind: DesignKind
    start: int
    intensity: Literal["low", "high"]
    duration: int | None
    """Years it acts; None: to the horizon."""

    def __post_init__(self) -> None:
        if self.kind not in DESIGN_KINDS:
            raise ValueError(f"Design.kind must be one of {list(DESIGN_KINDS)}; got {self.kind!r}")
        if self.intensity not in INTENSITIES:
            raise ValueError(f"Design.intensity must be 'low' or 'high'; got {self.intensity!r}")
        if isinstance(self.start, bool) or not isinstance(self.start, int) or self.start < 0:
            raise ValueError(f"Design.start must be an integer >= 0; got {self.start!r}")
        if self.duration is not None and (
            isinstance(self.duration, bool)
            or not isinstance(self.duration, int)
            or self.duration < 1
        ):
            raise ValueError(
                f"Design.duration must be an integer >= 1 or None; got {self.duration!r}"
            )

    @property
    def name(self) -> str:
        """Scenario name, e.g. ``"translocation, start 5, high, 10 years"``."""
        lasting = "to the horizon" if self.duration is None else f"{self.duration} years"
        return f"{self.kind}, start {self.start}, {self.intensity}, {lasting}"


def designs(
    kinds: Sequence[str] = DESIGN_KINDS,
    starts: Sequence[int] = STARTS,
    intensities: Sequence[str] = INTENSITIES,
    durations: Sequence[int | None] = DURATIONS,
) -> tuple[Design, ...]:
    """The full factorial of the given levels (default 5 types x 3 starts x 2 intensities x 2
    durations = 60 designs), type by type."""
    return tuple(
        Design(kind=k, start=s, intensity=i, duration=d)  # type: ignore[arg-type]
        for k, s, i, d in itertools.product(kinds, starts, intensities, durations)
    )


SHOWCASE_COMBINATIONS: tuple[tuple[str, int | None], ...] = (
    ("low", 10),
    ("high", 10),
    ("low", None),
    ("high", None),
)


def fractional_designs(
    kinds: Sequence[str] = DESIGN_KINDS, starts: Sequence[int] = STARTS
) -> tuple[Design, ...]:
    """One design per type and start (15 by default), each with the (intensity, duration) of
    :data:`SHOWCASE_COMBINATIONS` number ``(type index + start index) mod 4``: a fraction of the
    full factorial in which every type meets three of the four combinations and each combination
    occurs 3 or 4 times, so that type, start, intensity and duration all vary and are nearly
    uncorrelated (main effects only; interactions are not separable)."""
    out = []
    for k, kind in enumerate(kinds):
        for i, start in enumerate(starts):
            intensity, duration = SHOWCASE_COMBINATIONS[(k + i) % len(SHOWCASE_COMBINATIONS)]
            out.append(Design(kind=kind, start=start, intensity=intensity, duration=duration))  # type: ignore[arg-type]
    return tuple(out)


# ---------------------------------------------------------------------------------------------------
# a record as a threatened species
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PortfolioSpecies:
    """A portfolio species: its record, its traits, the species built by the rules and its threats."""

    record_id: str
    kingdom: Literal["plant", "animal"]
    traits: LifeHistory
    species: StudySpecies
    threats: tuple[Threat, ...]
    """Habitat loss, disease or invasive competitor, and (long-lived) killing of adults."""

    @property
    def name(self) -> str:
        return self.species.name

    @property
    def initial_mature(self) -> int:
        """Mature individuals at year 0."""
        s = self.species.species
        return int(s.initial_abundance[:, s.mature_mask].sum())

    def threat(self, kind: type[Threat]) -> Threat | None:
        """The species' threat of that class, if any."""
        return next((t for t in self.threats if isinstance(t, kind)), None)


def _stage_names(record: MatrixData) -> tuple[str, ...]:
    """The record's stage labels if they are distinct and short, else "stage 1" .. "stage n"."""
    names = tuple(str(s).strip() for s in record.stages)
    if len(set(names)) == len(names) and all(0 < len(n) <= 40 for n in names):
        return names
    return tuple(f"stage {i + 1}" for i in range(len(names)))


def _initial_mature(traits: LifeHistory) -> int:
    """ASSUMPTION (rule "initial size")."""
    low, high = INITIAL_MATURE_RANGE
    return int(min(max(round(INITIAL_MATURE_PER_GENERATION / traits.generation_length), low), high))


def portfolio_species(record: MatrixData) -> PortfolioSpecies:
    """The species a record becomes under :data:`RULES` (stages, U, F and C from the record)."""
    meta = record.metadata
    taxon = str(meta.get("SpeciesAccepted") or record.name)
    kingdom: Literal["plant", "animal"] = "animal" if meta.get("database") == "COMADRE" else "plant"
    U, F = np.asarray(record.U, dtype=float), np.asarray(record.F, dtype=float)
    C = np.asarray(record.C, dtype=float)
    traits = life_history(U, F + C)
    stages = _stage_names(record)
    mature = tuple(s for s, m in zip(stages, traits.mature, strict=True) if m)
    n_mature = _initial_mature(traits)
    initial_total = max(round(n_mature / traits.mature_fraction), n_mature)
    species = Species(
        name=taxon,
        stages=stages,
        U=U.tolist(),
        F=F.tolist(),
        C=C.tolist() if np.any(C) else None,
        mature_stages=mature,
        initial_total=int(initial_total),
        # ASSUMPTION (rule "carrying capacity"): a ceiling on the mature stages only
        carrying_capacity=K_OVER_INITIAL * n_mature,
        density_dependence=DensityDependence(
            kind="ceiling", weights=tuple(1.0 if m else 0.0 for m in traits.mature)
        ),
        catastrophes=(BAD_YEAR,),  # ASSUMPTION (rule "environment")
    )
    cite = ", ".join(
        str(meta[k]) for k in ("Authors", "YearPublication", "Journal", "DOI_ISBN") if meta.get(k)
    )
    study_species = StudySpecies(
        species=species,
        taxon=taxon,
        common_name=str(meta.get("CommonName") or ""),
        country=str(meta.get("Country") or ""),
        site=str(meta.get("MatrixPopulation") or ""),
        source=f"{cite} (via {record.name}, Salguero-Gómez et al. 2015/2016)",
        notes="Initial size, K, the bad year, threats and interventions: ASSUMPTIONS by the "
        "written rules of pva.success.portfolio (RULES, DESIGN_RULES).",
    )
    return PortfolioSpecies(
        record_id=record.name,
        kingdom=kingdom,
        traits=traits,
        species=study_species,
        threats=_threats(taxon, kingdom, traits, mature),
    )


def _threats(
    taxon: str, kingdom: str, traits: LifeHistory, mature: tuple[str, ...]
) -> tuple[Threat, ...]:
    """ASSUMPTIONS: rules "habitat loss", "disease" / "invasive competitor", "killing of adults"."""
    out: list[Threat] = [
        HabitatLoss(
            name=f"habitat loss ({taxon})", rate=HABITAT_LOSS_RATE, floor=HABITAT_LOSS_FLOOR
        )
    ]
    if kingdom == "animal":
        out.append(
            Disease(
                name=f"disease ({taxon})", frequency=DISEASE_FREQUENCY, survival=DISEASE_SURVIVAL
            )
        )
    else:
        out.append(
            InvasivePredator(name=f"invasive competitor ({taxon})", fecundity=INVASIVE_FECUNDITY)
        )
    if traits.generation_length >= HARVEST_MIN_GENERATION:
        low, high = HARVEST_RANGE
        share = HARVEST_SHARE_OF_MORTALITY * (1.0 - traits.adult_survival)
        out.append(
            Harvest(
                name=f"killing of adults ({taxon})",
                stages=mature,
                proportion=round(min(max(share, low), high), 4),
            )
        )
    return tuple(out)


def _release_stages(entry: PortfolioSpecies) -> tuple[str, str]:
    """(stage translocated adults join, stage ex-situ individuals are released into): the mature
    stage with the largest stable share; the immature stage with the highest reproductive value
    (the first stage if every stage is mature)."""
    s = entry.species.species
    mature = np.asarray(entry.traits.mature)
    w = analysis.stable_stage(s.A)
    v = analysis.reproductive_value(s.A)
    adult = int(np.argmax(np.where(mature, w, -np.inf)))
    young = int(np.argmax(np.where(~mature, v, -np.inf))) if not mature.all() else 0
    return s.stages[adult], s.stages[young]


def interventions(entry: PortfolioSpecies, design: Design) -> tuple[Intervention, ...]:
    """The interventions of ``design`` for one species by :data:`DESIGN_RULES` (ASSUMPTIONS);
    empty where the type does not apply (conflict mitigation without a killing threat)."""
    taxon = entry.name
    name = f"{design.name} ({taxon})"
    timing = {"start": design.start, "duration": design.duration}
    n0 = entry.initial_mature
    if design.kind == "threat abatement":
        fraction = ABATEMENT_FRACTION[design.intensity]
        cost = COST_ABATEMENT * fraction
        disease = entry.threat(Disease)
        if disease is not None:
            return (
                ThreatAbatement(
                    name=name, threat=disease.name, fraction=fraction, annual_cost=cost, **timing
                ),
            )
        invasive = entry.threat(InvasivePredator)
        if invasive is None:  # every species has one of the two (rules "disease", "invasive ...")
            return ()
        return (
            PredatorControl(
                name=name, threat=invasive.name, fraction=fraction, annual_cost=cost, **timing
            ),
        )
    if design.kind == "protection/restoration":
        fraction, rate = PROTECTION[design.intensity]
        k = K_OVER_INITIAL * n0
        cost = COST_PROTECTION_PER_K * k * fraction * (2.0 if rate > 0 else 1.0)
        kind = HabitatRestoration if rate > 0 else HabitatProtection
        return (
            kind(name=name, fraction=fraction, restoration_rate=rate, annual_cost=cost, **timing),
        )
    adult, young = _release_stages(entry)
    if design.kind == "translocation":
        moved = max(1, round(TRANSLOCATED[design.intensity] * n0))
        return (
            Translocation(
                name=name,
                individuals={adult: float(moved)},
                survival=TRANSLOCATION_SURVIVAL,
                annual_cost=COST_TRANSLOCATION[entry.kingdom] * moved,
                **timing,
            ),
        )
    if design.kind == "ex-situ release":
        released = max(1, round(RELEASED[design.intensity] * n0))
        return (
            ExSituRelease(
                name=name,
                programme="nursery" if entry.kingdom == "plant" else "captive breeding",
                individuals={young: float(released)},
                survival=RELEASE_SURVIVAL,
                annual_cost=COST_RELEASE[entry.kingdom] * released,
                **timing,
            ),
        )
    harvest = entry.threat(Harvest)
    if harvest is None:
        return ()
    fraction = ABATEMENT_FRACTION[design.intensity]
    return (
        ConflictMitigation(
            name=name,
            threat=harvest.name,
            fraction=fraction,
            annual_cost=COST_CONFLICT * fraction,
            **timing,
        ),
    )


# ---------------------------------------------------------------------------------------------------
# the study
# ---------------------------------------------------------------------------------------------------


def portfolio(records: Sequence[MatrixData] | None = None) -> tuple[PortfolioSpecies, ...]:
    """:func:`portfolio_species` of every record (default :func:`portfolio_records`)."""
    return tuple(portfolio_species(r) for r in (records or portfolio_records()))


def portfolio_study(
    *,
    species: Sequence[PortfolioSpecies] | None = None,
    design_set: Sequence[Design] | None = None,
    years: int = 100,
    replicates: int = 1000,
    seed: int | None = 2026,
    chunk_size: int = streams.DEFAULT_CHUNK_SIZE,
    name: str = "success_portfolio",
) -> Study:
    """The portfolio as a :class:`~pva.study.Study`: every species under "no action" (its threats)
    and under each design (its threats and the design's interventions for it), each action
    restricted to its species (``applies_to``).

    Parameters
    ----------
    species
        Default :func:`portfolio` (every passing record).
    design_set
        Default :func:`designs` (the full factorial).
    """
    entries = tuple(species) if species is not None else portfolio()
    chosen = tuple(design_set) if design_set is not None else designs()
    threats = tuple(t for e in entries for t in e.threats)
    applies: dict[str, tuple[str, ...]] = {t.name: (e.name,) for e in entries for t in e.threats}
    scenarios = [Scenario(NO_ACTION, threats, description="the threats of every species")]
    for design in chosen:
        actions: list[Intervention] = []
        for e in entries:
            for action in interventions(e, design):
                actions.append(action)
                applies[action.name] = (e.name,)
        scenarios.append(Scenario(design.name, (*threats, *actions)))
    return Study(
        name=name,
        description="Success factors (GSAP action 4.7): COMPADRE/COMADRE portfolio x intervention "
        "designs; threats, sizes and designs are ASSUMPTIONS by pva.success's written rules",
        species=tuple(e.species for e in entries),
        scenarios=tuple(scenarios),
        years=years,
        replicates=replicates,
        seed=seed,
        chunk_size=chunk_size,
        applies_to=tuple(applies.items()),
        outputs=Outputs(currency=CURRENCY),
        no_action=NO_ACTION,
    )


# ---------------------------------------------------------------------------------------------------
# the portfolio as a study file
# ---------------------------------------------------------------------------------------------------


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_string(key)


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _toml_value(value: object) -> str:
    """A TOML value: string, bool, integer, float (repr: exact), array, inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML has no {value!r}")
        return repr(value)
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _toml_table(header: str, table: dict[str, object]) -> list[str]:
    """``[[header]]`` (or ``[header]``) and its keys; nested tables as ``[header.key]`` and lists
    of tables as ``[[header.key]]``, after the plain keys."""
    lines = [header]
    nested: list[str] = []
    inner = header.strip("[]")
    for key, value in table.items():
        if isinstance(value, dict) and key != "individuals":
            nested += ["", *_toml_table(f"[{inner}.{key}]", value)]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                nested += ["", *_toml_table(f"[[{inner}.{key}]]", item)]
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    return lines + nested


def _non_default(cls: type, table: dict[str, object]) -> dict[str, object]:
    """``table`` without the keys at their default in ``cls`` (and without ``type``)."""
    defaults = {
        f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
    }
    return {
        k: v
        for k, v in table.items()
        if k != "type" and not (k in defaults and _same(v, defaults[k]))
    }


def _same(value: object, default: object) -> bool:
    if isinstance(default, tuple):
        return isinstance(value, list | tuple) and tuple(value) == default
    return value == default


def portfolio_file_text(study: Study, entries: Sequence[PortfolioSpecies]) -> str:
    """``study`` (a :func:`portfolio_study` of ``entries``) as a study file: each species by its
    COMPADRE/COMADRE id (``compadre = "<id>"``; stages and matrices come from the record) with the
    keys the rules set, then the threats, interventions, scenarios and outputs of the study.
    :func:`pva.io.read_study` of the text gives ``study`` back."""
    data = study.to_dict()
    by_name = {e.name: e for e in entries}
    lines = [
        "# The success-factor portfolio (issue 12, GSAP action 4.7). GENERATED by",
        "# experiments/success_factors.py from pva.success.portfolio: do not edit by hand.",
        "# Species: every shipped COMPADRE/COMADRE record passing the quality flags of",
        "# pva.success.portfolio.QUALITY_FLAGS, one per species (sources in each record).",
        "# ASSUMPTIONS: initial size, K, the bad year, every threat and every intervention follow",
        "# the written rules of pva.success.portfolio (RULES, DESIGN_RULES; docs/success.md).",
        "",
        *_toml_table("[study]", data["study"]),
    ]
    for table in data["species"]:
        entry = by_name[table["name"]]
        record = datasets.load_compadre(entry.record_id)
        keep = {"compadre": entry.record_id, "name": table["name"]}
        if tuple(table["stages"]) != tuple(str(s).strip() for s in record.stages):
            keep["stages"] = table["stages"]
        for key in ("mature_stages", "initial_total", "carrying_capacity", "notes"):
            if key in table:
                keep[key] = table[key]
        keep["density_dependence"] = _non_default(DensityDependence, table["density_dependence"])
        keep["catastrophes"] = [_non_default(Catastrophe, c) for c in table["catastrophes"]]
        lines += ["", *_toml_table("[[species]]", keep)]
    for group in ("threats", "interventions"):
        for table in data[group]:
            lines += ["", *_toml_table(f"[[{group}]]", table)]
    for table in data["scenarios"]:
        table = {k: v for k, v in table.items() if k != "threats"}  # default: every threat
        lines += ["", *_toml_table("[[scenarios]]", table)]
    if "outputs" in data:
        lines += ["", *_toml_table("[outputs]", data["outputs"])]
    return "\n".join(lines) + "\n"
