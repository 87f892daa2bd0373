"""Per species and design, the outcomes of a study paired against no action, and the factors.

:func:`run_success` runs a study species by species, each species one task on the runner's
execution step (:func:`pva.runner.map_tasks`: loky processes, a temporary Dask cluster, or a
running one named by its scheduler address). A task runs the species under every scenario
(:func:`pva.runner.run_study` of the one-species study, on the streams of the whole study, which
are keyed by the species' name: the numbers are those of ``pva run`` on the whole study) and
reduces its trajectories at the horizon to what the analysis needs, per scenario and replicate:
extinct or not, the Red List category (:func:`pva.redlist.assess`), the Green Score
(:func:`pva.redlist.green_status_states`, :func:`pva.redlist.species_recovery_score`), and the
cost. So memory stays at one species' trajectories per worker, and the Red List assessment, as
costly as the simulation, runs in parallel too. A finished species is checkpointed (through
:mod:`pva.io`); a rerun with the same study and seed resumes.

:func:`paired_outcomes` then compares each design with no action replicate by replicate (common
random numbers: replicate ``r`` of every scenario of a species shares its random numbers):
extinctions prevented, extinction avoided, downlisting, the species' contribution to ΔRLI and the
Green Score gained. :func:`factors` reads the factors from the study itself: life-history traits
(:mod:`pva.analysis`), initial size, threat intensity, and the type, start, duration, effort and
cost of each design's interventions, so any study file works, not only the portfolio.

References
----------
Butchart, S.H.M. et al. (2007) Improvements to the Red List Index. PLoS ONE 2:e140.
Akçakaya, H.R. et al. (2018) Quantifying species recovery and conservation success to develop an
IUCN Green List of Species. Conservation Biology 32:1128-1138.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import analysis, io, redlist, results, runner, streams
from pva.runner import Backend
from pva.scenario import (
    ConflictMitigation,
    ExSituRelease,
    HabitatProtection,
    Intervention,
    Release,
    Scenario,
    ThreatAbatement,
)
from pva.schedule import Schedule
from pva.study import GreenStatus, Study
from pva.success.names import (
    CATEGORY,
    DESIGN,
    EXTINCT,
    FACTORS,
    GREEN_SCORE,
    OUTCOMES,
    TOTAL_COST,
)
from pva.success.portfolio import life_history

__all__ = [
    "factors",
    "intervention_type",
    "paired_outcomes",
    "run_success",
    "species_outcomes",
    "threat_intensity",
]

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[int, int], None]

# ---------------------------------------------------------------------------------------------------
# one species: the task
# ---------------------------------------------------------------------------------------------------


def species_study(study: Study, species: str) -> Study:
    """The one-species study of ``species``: its scenarios as it sees them (the actions that apply
    to it), the same settings. Its run equals that species' slice of the whole study's run (the
    streams are keyed by the species' name)."""
    index = study.species_names.index(species)
    scenarios = tuple(
        Scenario(sc.name, study.scenario_for(index, j).actions, sc.description)
        for j, sc in enumerate(study.scenarios)
    )
    return study.with_(
        name=f"{study.name}-{index:04d}",
        species=(study.species[index],),
        scenarios=scenarios,
        applies_to=(),
    )


def species_outcomes(
    study: Study, *, entropy: int, horizon: int, red_list: bool = True
) -> xr.Dataset:
    """Run a one-species study (:func:`species_study`) with seed ``entropy`` and reduce it at year
    ``horizon``: the task of :func:`run_success` (runs in a worker).

    Returns
    -------
    xarray.Dataset
        ``extinct`` and ``category`` (scenario, replicate) int8, ``green_score`` (scenario,
        replicate) percent, ``total_cost`` (scenario).
    """
    ds = runner.run_study(study, backend="sequential", seed=entropy)
    return reduce_species(ds, horizon=horizon, green=_green_settings(study), red_list=red_list)


def _green_settings(study: Study) -> dict[str, Any]:
    settings = study.outputs.green_status or GreenStatus()
    return settings.thresholds(study.species[0].name)


def reduce_species(
    ds: xr.Dataset, *, horizon: int, green: dict[str, Any], red_list: bool = True
) -> xr.Dataset:
    """Extinction, Red List category and Green Score at ``horizon`` per scenario and replicate,
    and the cost over years 0 .. horizon - 1, of a one-species results Dataset.

    The category is that of :func:`pva.redlist.assess` (every criterion the results allow, as
    ``pva summary`` gives it); ``red_list=False`` skips it (category ``NE``), for analyses that
    need extinction only.
    """
    at = {results.YEAR: horizon}
    if red_list:
        assessed = redlist.assess(ds.isel({results.YEAR: slice(0, horizon + 1)}))
        category = assessed[results.CATEGORY].isel({results.SPECIES: 0}).sel(at)
    else:
        category = xr.full_like(
            ds[results.TOTAL].isel({results.SPECIES: 0, results.POPULATION: 0}).sel(at), redlist.NE
        )
    ds = ds.isel({results.SPECIES: 0})
    exists = np.asarray(ds[results.POPULATION_EXISTS].values, dtype=bool)
    total = ds[results.TOTAL].sel(at).sum(results.POPULATION)
    mature = ds[results.MATURE].transpose(results.SCENARIO, results.REPLICATE, results.YEAR, ...)
    mature = np.asarray(mature.values)[..., exists]
    k = _base_capacity(ds, exists)
    scores = np.stack(
        [
            redlist.species_recovery_score(
                redlist.green_status_states(
                    m[:, horizon : horizon + 1, :],
                    viable_threshold=green["viable_threshold"],
                    functional_threshold=green["functional_threshold"],
                    functional_fraction=green["functional_fraction"],
                    carrying_capacity=k,
                )[:, 0, :]
            )
            for m in mature
        ]
    )
    cost = ds[results.ANNUAL_COST].isel({results.YEAR: slice(0, horizon)}).sum(results.YEAR)
    dims = (results.SCENARIO, results.REPLICATE)
    return xr.Dataset(
        {
            EXTINCT: (dims, (total.transpose(*dims).values == 0).astype(np.int8)),
            CATEGORY: (dims, category.transpose(*dims).values.astype(np.int8)),
            GREEN_SCORE: (dims, scores),
            TOTAL_COST: ((results.SCENARIO,), np.asarray(cost.values, dtype=float)),
        },
        coords={results.SCENARIO: ds[results.SCENARIO].values},
    )


def _base_capacity(ds: xr.Dataset, exists: npt.NDArray[np.bool_]) -> FloatArray:
    """K of the species' populations from the study's species table (inf: no K, never
    functional by the fraction-of-K rule)."""
    name = str(ds[results.SPECIES].values)
    entry = results.provenance(ds).species_table(name) or {}
    pops = entry.get("populations") or [entry]
    k = np.array([float(p.get("carrying_capacity") or np.inf) for p in pops])[: int(exists.sum())]
    return np.where(np.isfinite(k), k, np.finfo(float).max)


# ---------------------------------------------------------------------------------------------------
# the study: species by species, in parallel, checkpointed
# ---------------------------------------------------------------------------------------------------


def run_success(
    study: Study,
    *,
    horizon: int | None = None,
    jobs: int = 1,
    backend: Backend = "loky",
    scheduler: str | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    red_list: bool = True,
) -> xr.Dataset:
    """Outcomes of every species x design of ``study`` against its no-action scenario, with the
    factors of each pair.

    Parameters
    ----------
    study
        Species x scenarios; the no-action scenario is ``study.baseline``, every other scenario a
        design.
    horizon
        Year at which outcomes are read (default: the study's last year).
    jobs, backend, scheduler
        Where the species run (:func:`pva.runner.map_tasks`); they do not change the numbers.
    checkpoint_dir
        Folder for finished species; a rerun with the same study and seed resumes from it.
    seed
        Overrides ``study.seed`` (as in :func:`pva.runner.run_study`).
    progress
        ``progress(done, total)`` in species, at the start and after each species.
    red_list
        False: skip the Red List assessment (categories ``NE``; downlisting and ΔRLI are then not
        informative), for analyses of extinction only.

    Returns
    -------
    xarray.Dataset
        Per replicate (species, scenario, replicate): ``extinct``, ``category``, ``green_score``;
        ``total_cost`` (species, scenario), as run; the paired outcomes of :data:`OUTCOMES` (species, design)
        with ``_mcse`` for the means; the factors of :data:`FACTORS` and ``type`` (species,
        design, or species for traits) and ``applicable`` (the design has an intervention for the
        species). Attributes: the study's JSON, the seed entropy, the horizon, the no-action
        scenario, the currency.
    """
    if not isinstance(study, Study):
        raise TypeError(f"study must be a pva.study.Study; got {study!r}")
    if len(study.scenarios) < 2:
        raise ValueError(
            f"study {study.name!r} needs a no-action scenario and at least one design; "
            f"got scenarios {list(study.scenario_names)}"
        )
    if seed is not None:
        study = study.with_(seed=streams.resolve_entropy(seed))
    horizon = study.years if horizon is None else _check_horizon(horizon, study.years)
    given = None if study.seed is None else streams.resolve_entropy(study.seed)
    store = None if checkpoint_dir is None else _Store(checkpoint_dir, study, given, red_list)
    entropy = (
        store.entropy
        if store is not None
        else (given if given is not None else streams.resolve_entropy(None))
    )
    names = study.species_names
    done: dict[int, xr.Dataset] = {}
    if store is not None:
        done = {i: ds for i in range(len(names)) if (ds := store.load(i, horizon)) is not None}
    todo = [i for i in range(len(names)) if i not in done]
    if progress is not None:
        progress(len(done), len(names))
    tasks = [
        {
            "study": species_study(study, names[i]),
            "entropy": entropy,
            "horizon": horizon,
            "red_list": red_list,
        }
        for i in todo
    ]
    outputs = runner.map_tasks(
        species_outcomes, tasks, jobs=jobs, backend=backend, scheduler=scheduler
    )
    for i, out in zip(todo, outputs, strict=True):
        done[i] = out
        if store is not None:
            store.save(i, out, horizon)
        if progress is not None:
            progress(len(done), len(names))
    per_replicate = xr.concat([done[i] for i in range(len(names))], dim=results.SPECIES)
    per_replicate = per_replicate.assign_coords({results.SPECIES: list(names)})
    return assemble(study, per_replicate, entropy=entropy, horizon=horizon)


def _check_horizon(horizon: object, years: int) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        raise TypeError(f"horizon must be a whole number of years; got {horizon!r}")
    if not 1 <= int(horizon) <= years:
        raise ValueError(f"horizon must lie in 1 .. years={years}; got {horizon!r}")
    return int(horizon)


class _Store:
    """Finished species of one study and seed: :class:`pva.io.Checkpoints` keeps the manifest
    (the study's digest and the seed entropy, refusing another study or seed); each species is a
    small NetCDF file written atomically through :func:`pva.io.write_results`."""

    def __init__(
        self, folder: str | os.PathLike[str], study: Study, entropy: int | None, red_list: bool
    ) -> None:
        # the digest covers what the species files hold: the study and whether categories are in
        self.digest = study.digest() + ("" if red_list else "-no-red-list")
        self.checkpoints = io.Checkpoints(folder, self.digest, entropy)
        self.entropy = self.checkpoints.entropy
        self.folder = Path(folder)

    def _path(self, i: int) -> Path:
        return self.folder / f"success-{i:04d}.nc"

    def load(self, i: int, horizon: int) -> xr.Dataset | None:
        path = self._path(i)
        if not path.is_file():
            return None
        ds = io.open_results(path)
        if (
            ds.attrs.get("digest") != self.digest
            or ds.attrs.get("entropy") != str(self.entropy)
            or int(ds.attrs.get("horizon", -1)) != horizon
        ):
            raise ValueError(f"checkpoint {path} belongs to a different study, seed or horizon")
        ds.attrs = {}
        return ds

    def save(self, i: int, ds: xr.Dataset, horizon: int) -> None:
        marked = ds.assign_attrs(digest=self.digest, entropy=str(self.entropy), horizon=horizon)
        io.write_results(marked, self._path(i))


# ---------------------------------------------------------------------------------------------------
# paired outcomes
# ---------------------------------------------------------------------------------------------------


def assemble(study: Study, per_replicate: xr.Dataset, *, entropy: int, horizon: int) -> xr.Dataset:
    """The success results: ``per_replicate`` (species, scenario, replicate) with the paired
    outcomes (:func:`paired_outcomes`) and the factors (:func:`factors`)."""
    paired = paired_outcomes(per_replicate, no_action=study.baseline)
    out = xr.merge([per_replicate, paired, factors(study, horizon=horizon)])
    out.attrs = {
        results.ATTR_STUDY: study.to_json(),
        results.ATTR_SEED_ENTROPY: str(entropy),
        results.ATTR_REPLICATES: int(study.replicates),
        "horizon": int(horizon),
        "no_action": study.baseline,
        "currency": study.outputs.currency or "currency units",
        "pva_results": "success",
    }
    return out


def paired_outcomes(per_replicate: xr.Dataset, *, no_action: str) -> xr.Dataset:
    """Each design against ``no_action``, replicate by replicate, as means with their Monte Carlo
    standard errors (``_mcse``; SD of the paired differences / sqrt(replicates)).

    ΔRLI: the species' contribution ``(W(no action) - W(design)) / (W_EX N)`` with the weights
    of :data:`pva.redlist.DEFAULT_WEIGHTS` over the ``N`` species (Butchart et al. 2007): summed
    over species it is the RLI of the design applied to all of them minus that of no action.
    Green gain: the Green Score of the design minus that of no action at the horizon, which is
    Akçakaya et al.'s (2018) Conservation Gain plus Conservation Dependence at that horizon.
    """
    scenarios = [str(s) for s in per_replicate[results.SCENARIO].values]
    if no_action not in scenarios:
        raise ValueError(f"no_action {no_action!r} is not a scenario; got {scenarios}")
    designs = [s for s in scenarios if s != no_action]
    base = per_replicate.sel({results.SCENARIO: no_action}, drop=True)
    act = per_replicate.sel({results.SCENARIO: designs}).rename({results.SCENARIO: DESIGN})
    weights = np.array([redlist.DEFAULT_WEIGHTS[c] for c in redlist.CATEGORIES])
    w_max = float(weights.max())
    n_species = per_replicate.sizes[results.SPECIES]

    def weight(codes: xr.DataArray) -> xr.DataArray:
        """RLI weight of each category code; NaN for DD, NE and not evaluable."""
        c = np.asarray(codes.values)
        valid = (c >= 0) & (c < len(weights))
        return codes.copy(data=np.where(valid, weights[np.clip(c, 0, len(weights) - 1)], np.nan))

    ext_na, ext = base[EXTINCT].astype(float), act[EXTINCT].astype(float)
    differences = {
        "extinctions_prevented": ext_na - ext,
        "extinction_avoided": ext_na * (1.0 - ext),
        "downlisted": (act[CATEGORY] < base[CATEGORY]).astype(float),
        "uplisted": (act[CATEGORY] > base[CATEGORY]).astype(float),
        "delta_rli": (weight(base[CATEGORY]) - weight(act[CATEGORY])) / (w_max * n_species),
        "green_gain": act[GREEN_SCORE] - base[GREEN_SCORE],
    }
    reps = per_replicate.sizes[results.REPLICATE]
    out = xr.Dataset(coords={DESIGN: designs})
    for name, d in differences.items():
        units, long_name = OUTCOMES[name]
        out[name] = d.mean(results.REPLICATE).assign_attrs(units=units, long_name=long_name)
        out[name + results.MCSE_SUFFIX] = (
            d.std(results.REPLICATE, ddof=1) / np.sqrt(reps)
        ).assign_attrs(units=units, long_name=f"Monte Carlo SE of {name}")
    out["p_extinct"] = act[EXTINCT].mean(results.REPLICATE).assign_attrs(units="1")
    out["p_extinct_no_action"] = base[EXTINCT].mean(results.REPLICATE).assign_attrs(units="1")
    return out


# ---------------------------------------------------------------------------------------------------
# factors, from the study
# ---------------------------------------------------------------------------------------------------

_TYPES: tuple[tuple[type[Intervention], str], ...] = (
    (ConflictMitigation, "conflict mitigation"),
    (ThreatAbatement, "threat abatement"),
    (HabitatProtection, "protection/restoration"),
    (ExSituRelease, "ex-situ release"),
    (Release, "translocation"),
)
"""Intervention class -> type, most specific first (a Reintroduction, Supplementation or
Translocation is a release into the wild from elsewhere: "translocation")."""


def intervention_type(intervention: Intervention) -> str:
    """The type of an intervention (the kinds of :data:`pva.success.portfolio.DESIGN_KINDS`, or
    the class name of another kind)."""
    for cls, label in _TYPES:
        if isinstance(intervention, cls):
            return label
    return type(intervention).__name__


def _effort_key(intervention: Intervention) -> tuple[float, ...]:
    """What "more effort" means for an intervention, to rank designs of one type: the fraction
    of the threat abated (and K restored a year), or the survivors released a year."""
    if isinstance(intervention, Release):
        per_year = sum(n for _, n in intervention.individuals) / intervention.interval
        return (per_year * intervention.survival,)
    if isinstance(intervention, HabitatProtection):
        return (intervention.fraction, intervention.restoration_rate)
    if isinstance(intervention, ThreatAbatement):
        return (intervention.fraction,)
    return (float(intervention.annual_cost),)


def threat_intensity(species: Any, schedule: Schedule) -> float:
    """``1 - λ_threatened / λ``: the relative loss of growth rate the threats of ``schedule`` (a
    no-action schedule) cause at their mean effect over the years.

    λ_threatened is the dominant eigenvalue of ``diag(1 - h) (U diag(s) + (F + C) diag(f))`` for
    the first population, with ``s`` and ``f`` the mean survival and fecundity multipliers over the
    years (an episodic event counts at its expected multiplier ``1 + p (m - 1)``) and ``h`` the mean
    proportion harvested after the demographic step. A first-order summary for a factor, not a
    projection: it ignores habitat loss (see ``habitat_loss``) and harvests of numbers.
    """
    s = schedule.survival_multiplier[:, 0, :].mean(axis=0)
    f = schedule.fecundity_multiplier[:, 0, :].mean(axis=0)
    for event in schedule.events:
        p = float(np.mean(event.probability))
        s = s * (1.0 + p * (np.asarray(event.survival_multiplier)[0] - 1.0))
        f = f * (1.0 + p * (np.asarray(event.fecundity_multiplier)[0] - 1.0))
    h = schedule.harvest_proportion[:, 0, :].mean(axis=0)
    U, R = species.U_array, species.F_array + species.C_array
    threatened = np.diag(1.0 - h) @ (U * s[None, :] + R * f[None, :])
    return float(1.0 - analysis.growth_rate(threatened) / analysis.growth_rate(U + R))


def _species_factors(study: Study, horizon: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in list(FACTORS)[:7]}
    baseline = study.scenario_names.index(study.baseline)
    for i, entry in enumerate(study.species):
        sp = entry.species
        traits = life_history(sp.U_array, sp.F_array + sp.C_array)
        schedule = study.scenario_for(i, baseline).compile(sp, years=study.years)
        out["growth_rate"].append(traits.growth_rate)
        out["generation_length"].append(traits.generation_length)
        out["net_reproductive_rate"].append(traits.net_reproductive_rate)
        out["adult_survival_elasticity"].append(traits.adult_survival_elasticity)
        out["initial_mature"].append(float(sp.initial_abundance[:, sp.mature_mask].sum()))
        out["threat_intensity"].append(threat_intensity(sp, schedule))
        k = schedule.carrying_capacity_multiplier[min(horizon, study.years) - 1]
        out["habitat_loss"].append(float(1.0 - np.mean(k)))
    return out


@dataclasses.dataclass
class _DesignFactors:
    type: str
    start: float
    duration: float
    effort_key: tuple[float, ...]
    cost: float
    applicable: bool


def _design_factors(study: Study, i: int, j: int, horizon: int) -> _DesignFactors:
    sp = study.species[i].species
    actions = study.scenario_for(i, j).interventions
    if not actions:
        return _DesignFactors("none", np.nan, np.nan, (), 0.0, False)
    kinds = sorted({intervention_type(a) for a in actions})
    start = min(a.start for a in actions)
    stop = max(horizon if a.stop is None else min(a.stop, horizon) for a in actions)
    cost = study.scenario_for(i, j).compile(sp, years=study.years).annual_cost
    return _DesignFactors(
        type=kinds[0] if len(kinds) == 1 else " + ".join(kinds),
        start=float(start),
        duration=float(max(stop - start, 0)),
        effort_key=tuple(v for a in actions for v in _effort_key(a)),
        cost=float(np.sum(cost[:horizon])) if cost is not None else 0.0,
        applicable=True,
    )


def _effort_levels(rows: list[_DesignFactors]) -> list[float]:
    """Effort level of each design of one species within its type: the rank of its effort among
    the distinct efforts of that type, scaled to 0 (lowest) .. 1 (highest); 1 when one level."""
    levels: dict[str, list[tuple[float, ...]]] = {}
    for r in rows:
        if r.applicable:
            levels.setdefault(r.type, [])
            if r.effort_key not in levels[r.type]:
                levels[r.type].append(r.effort_key)
    ranked = {t: sorted(keys) for t, keys in levels.items()}
    out = []
    for r in rows:
        if not r.applicable:
            out.append(np.nan)
            continue
        keys = ranked[r.type]
        out.append(1.0 if len(keys) == 1 else keys.index(r.effort_key) / (len(keys) - 1))
    return out


def factors(study: Study, *, horizon: int | None = None) -> xr.Dataset:
    """The factors of every species x design of ``study``, read from the study itself.

    Species (dim ``species``): the life-history traits of :func:`pva.success.life_history`,
    initial mature individuals, :func:`threat_intensity` and the fraction of K lost by the horizon
    under no action. Designs (``species``, ``design``): ``type`` (:func:`intervention_type`;
    several types joined by " + "), ``start``, ``duration`` (years acting before the horizon),
    ``effort`` (level within the type, :func:`_effort_levels`), ``cost`` (over the horizon) and
    ``applicable`` (the design has an intervention for the species).
    """
    horizon = study.years if horizon is None else horizon
    names = list(study.species_names)
    designs = [s for s in study.scenario_names if s != study.baseline]
    columns = [study.scenario_names.index(d) for d in designs]
    out = xr.Dataset(coords={results.SPECIES: names, DESIGN: designs})
    for key, values in _species_factors(study, horizon).items():
        units, long_name = FACTORS[key]
        out[key] = (
            (results.SPECIES,),
            np.asarray(values),
            {"units": units, "long_name": long_name},
        )
    grid = [[_design_factors(study, i, j, horizon) for j in columns] for i in range(len(names))]
    effort = [_effort_levels(row) for row in grid]
    dims = (results.SPECIES, DESIGN)
    for key in ("start", "duration", "cost"):
        units, long_name = FACTORS[key]
        values = np.array([[getattr(c, key) for c in row] for row in grid], dtype=float)
        out[key] = (dims, values, {"units": units, "long_name": long_name})
    units, long_name = FACTORS["effort"]
    out["effort"] = (dims, np.array(effort, dtype=float), {"units": units, "long_name": long_name})
    out["type"] = (dims, np.array([[c.type for c in row] for row in grid], dtype=str))
    out["applicable"] = (dims, np.array([[c.applicable for c in row] for row in grid]))
    return out


def study_of(success: xr.Dataset) -> dict[str, Any]:
    """The study (as :meth:`pva.study.Study.to_dict`) a success results Dataset was made from."""
    return dict(json.loads(success.attrs[results.ATTR_STUDY]))
