"""The numbers of a summary: per species and scenario, as :class:`xarray.Dataset` tables.

Nothing is estimated here: every number comes from :mod:`pva.outcomes` or :mod:`pva.redlist`; this
module selects and aligns them (formatting is :mod:`pva.summary.formatting`). Every function takes
a results Dataset of ``pva run`` or of :func:`pva.simulate` (a study of one species and one
scenario; see :func:`pva.results.study_layout`) and returns tables with ``species`` and
``scenario`` dims.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar, cast

import numpy as np
import xarray as xr

from pva import measures, outcomes, redlist, results
from pva.results import LOWER_SUFFIX, MCSE_SUFFIX, UPPER_SUFFIX
from pva.summary import answer, aze, costs, genetics, green, sites, sweep

Horizon = int | Literal["final"]
DEFAULT_HORIZONS: tuple[Horizon, ...] = (10, 20, 50, "final")
"""Years at which extinction probabilities are reported; ``"final"`` is the last simulated year."""

T = TypeVar("T", xr.Dataset, xr.DataArray)

SPREAD_LOWER = results.SPREAD_LOWER_SUFFIX
SPREAD_UPPER = results.SPREAD_UPPER_SUFFIX


# ---------------------------------------------------------------------------------------------------
# input checks and small helpers
# ---------------------------------------------------------------------------------------------------


def check_results(ds: object) -> xr.Dataset:
    """``ds`` in the study layout if it is a results Dataset (of ``pva run`` or
    :func:`pva.simulate`) with what summaries need, else raise :class:`TypeError` (not a Dataset)
    or :class:`ValueError` naming what is missing (:func:`pva.results.check`)."""
    return results.check(ds)


def default_horizons(ds: xr.Dataset) -> tuple[Horizon, ...]:
    """The study's ``outputs.horizons`` plus the final year, else :data:`DEFAULT_HORIZONS`."""
    chosen = results.provenance(ds).horizons
    return (*chosen, "final") if chosen else DEFAULT_HORIZONS


def red_list_unavailable(ds: xr.Dataset) -> str:
    """Why the Red List part cannot be computed for ``ds`` ("" when it can).

    :func:`pva.redlist.assess` needs a generation length (years > 0) for every species.
    """
    if results.GENERATION_LENGTH not in ds:
        return "the results record no generation length"
    gl = np.atleast_1d(np.asarray(ds[results.GENERATION_LENGTH].values, dtype=float))
    missing = [
        sp
        for sp, g in zip(results.names_of(ds, results.SPECIES), gl, strict=True)
        if not (np.isfinite(g) and g > 0)
    ]
    if missing:
        return f"no generation length for {', '.join(missing)}"
    return ""


def _resolve_horizons(ds: xr.Dataset, horizons: Sequence[Horizon]) -> list[int]:
    years = [int(y) for y in ds[results.YEAR].values]
    final = years[-1]
    out: list[int] = []
    for h in horizons:
        if isinstance(h, str):
            if h != "final":
                raise ValueError(f"horizons must be years or 'final'; got {h!r}")
            year = final
        elif isinstance(h, bool) or not isinstance(h, int | np.integer):
            raise TypeError(f"horizons must be integer years or 'final'; got {h!r}")
        else:
            year = int(h)
            if year not in years:
                # a horizon beyond the simulation is dropped, not extrapolated
                if year > final:
                    continue
                raise ValueError(f"horizon {h!r} is not a simulated year (0..{final})")
        if year not in out:
            out.append(year)
    if not out:
        raise ValueError(
            f"no horizon in {list(horizons)!r} lies within the simulated years 0..{final}"
        )
    return sorted(out)


def _summed(ds: xr.Dataset, variable: str) -> xr.DataArray:
    """Abundance summed over populations (padded populations hold 0), keeping attrs."""
    da = ds[variable]
    out = da.sum(results.POPULATION)
    out.attrs = dict(da.attrs)
    return out


TaskMap = Callable[[Callable[..., Any], Iterable[Mapping[str, Any]]], Iterable[Any]]
"""How independent tasks run in parallel: ``task_map(function, tasks)`` yields
``function(**task)`` for every task, in the order of ``tasks``, taking the tasks as it needs them;
``function`` is a module-level function (worker processes import it). E.g.
``functools.partial(pva.runner.map_tasks, jobs=2)``, which ``pva summary``, ``pva plot`` and ``pva
report`` pass for ``--jobs``. The summaries give it blocks of species read lazily from the
results file (each worker reads its own block) and the figures to render
(:func:`pva.plots.render_each`); None: one after the other in this process. The numbers are the
same either way."""


BLOCK_BYTES = 64 * 2**20
"""Bytes of results loaded at a time by the summaries (:func:`species_blocks`): several species
per block share the fixed cost of each step, and memory stays bounded whatever the species."""


PARALLEL_BLOCKS = 8
"""Fewest blocks of species :func:`species_blocks` cuts for tasks run in parallel (a few per
worker: none is left running alone at the end)."""


ASSESSMENT_BYTES = 250
"""Bytes a Red List assessment holds per replicate, scenario and year classified (the levels of
13 sub-criteria, the category and two texts of criteria, about 30 and 20 characters): what
:func:`species_blocks` budgets for it."""


def species_blocks(
    ds: xr.Dataset, block_bytes: int | None = None, *, assessed_years: int = 0, load: bool = True
) -> Iterator[xr.Dataset]:
    """``ds`` in consecutive blocks of whole species, each loaded into memory (when ``ds`` is
    read lazily from a file) and holding at most ``block_bytes`` (default :data:`BLOCK_BYTES`)
    of it, at least one species: memory bounded by the block, time linear in species. With
    ``assessed_years``, the budget also counts the Red List assessment of that many years
    (:data:`ASSESSMENT_BYTES` per replicate, scenario and year): classifying every year holds
    far more than the trajectories themselves. ``load=False``: the blocks as they are (still on
    file for a lazy ``ds``), for tasks that read their block where they run (:data:`TaskMap`),
    and at least :data:`PARALLEL_BLOCKS` of them when there are that many species, so that the
    workers share the work."""
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    n = ds.sizes[results.SPECIES]
    cells = ds.sizes.get(results.SCENARIO, 1) * ds.sizes.get(results.REPLICATE, 1)
    per_species = max(1, ds.nbytes // max(n, 1) + cells * assessed_years * ASSESSMENT_BYTES)
    step = int(max(1, block_bytes // per_species))
    if not load:
        step = min(step, -(-n // PARALLEL_BLOCKS))
    for start in range(0, n, step):
        block = ds.isel({results.SPECIES: slice(start, start + step)})
        yield block.load() if load else block


def by_species(ds: xr.Dataset, reduce: Callable[[xr.Dataset], T]) -> T:
    """``reduce`` applied to blocks of species of ``ds`` (:func:`species_blocks`), concatenated
    along ``species``. ``reduce`` must treat species independently and return a Dataset or
    DataArray with a ``species`` dim."""
    parts = [reduce(block) for block in species_blocks(ds)]
    return cast(T, xr.concat(parts, results.SPECIES))  # type: ignore[type-var]


def _interval_note(confidence: float) -> str:
    return f"{confidence:.0%} confidence interval of the mean (normal, from the MC standard error)"


def _spread_note(confidence: float) -> str:
    return f"central {confidence:.0%} of replicates"


# ---------------------------------------------------------------------------------------------------
# the Red List assessment, species by species (bounded memory)
# ---------------------------------------------------------------------------------------------------

NEVER_EVALUATED = "never_evaluated"
"""Variable of :func:`assess_by_species`'s second Dataset: whether a sub-criterion was ``NE`` in
every replicate and year of a species and scenario (species, scenario, criterion), bool."""
LOWER_BOUND = "lower_bound"
"""Variable of :func:`assess_by_species`'s first Dataset: whether a replicate's category is a
lower bound (:func:`lower_bounds`), (species, scenario, replicate, year), bool."""
EVALUATED_CRITERIA = "evaluated_criteria"
"""Attribute of :func:`assess_by_species`'s second Dataset: the sub-criteria evaluated (level >= 0)
somewhere, or listed as not evaluated somewhere, in any year (comma-separated)."""


def _shared_strings(values: np.ndarray) -> np.ndarray:
    """``values`` (strings) as an object array whose equal strings are one Python object: a few
    distinct texts over a million cells take pointers, not a fixed-width copy of each."""
    # a dict of the texts seen (hashing, linear) rather than np.unique (sorting texts)
    seen: dict[str, str] = {}
    shared = [seen.setdefault(text, text) for text in values.ravel().tolist()]
    return np.array(shared, dtype=object).reshape(values.shape)


def _requested_in(assessment: xr.Dataset) -> set[str]:
    """The sub-criteria of ``assessment`` evaluated somewhere or listed as not evaluated."""
    order = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR)
    levels = assessment[redlist.CRITERION_LEVEL].transpose(*order, redlist.CRITERION).values
    subs = [str(c) for c in assessment[redlist.CRITERION].values]
    return _requested_criteria(assessment, levels, subs)


def red_list_years(ds: xr.Dataset, horizons: Sequence[Horizon] | None = None) -> list[int]:
    """The years at which summaries and reports read the Red List criteria: year 0, the
    ``horizons`` (default :func:`default_horizons`) and the final year."""
    ds = check_results(ds)
    chosen = _resolve_horizons(ds, default_horizons(ds) if horizons is None else horizons)
    return sorted({0, *chosen, int(ds[results.YEAR].values[-1])})


def assessment_grid(
    ds: xr.Dataset, horizons: Sequence[Horizon] | None = None, *, at_most: int = 21
) -> list[int]:
    """Years at which figures by year read the Red List categories of a large study: evenly
    spaced whole years from the first to the last (at most ``at_most`` of them) plus
    :func:`red_list_years`, so that classifying costs the same whatever the length of the run
    (:func:`pva.redlist.classify` at chosen years)."""
    ds = check_results(ds)
    if isinstance(at_most, bool) or not isinstance(at_most, int) or at_most < 2:
        raise ValueError(f"at_most must be an integer >= 2; got {at_most!r}")
    values = [int(y) for y in ds[results.YEAR].values]
    first, last = values[0], values[-1]
    step = max(1, -(-(last - first) // (at_most - 1)))
    return sorted({*range(first, last + 1, step), last, *red_list_years(ds, horizons)})


EVERY_YEAR_UP_TO = 6
"""Species: figures by year of a study of up to this many species read the Red List categories
every year; larger studies read them on :func:`assessment_grid` (:func:`figure_years`)."""


def figure_years(ds: xr.Dataset, horizons: Sequence[Horizon] | None = None) -> list[int] | None:
    """The years at which figures by year read the Red List categories: every year (None) for a
    study of up to :data:`EVERY_YEAR_UP_TO` species, else :func:`assessment_grid`, so that the
    figures of 100 species cost seconds, not minutes."""
    ds = check_results(ds)
    if ds.sizes[results.SPECIES] <= EVERY_YEAR_UP_TO:
        return None
    return assessment_grid(ds, horizons)


def assess_by_species(
    ds: xr.Dataset,
    *,
    years: Sequence[int] | None = None,
    by_year: Sequence[int] | None = None,
    task_map: TaskMap | None = None,
) -> tuple[xr.Dataset, xr.Dataset]:
    """:func:`pva.redlist.assess` of ``ds`` by blocks of species, keeping what summaries read.

    The full assessment holds each replicate's criteria as text in every year (for 100 species x 3
    scenarios x 1,000 replicates x 101 years, gigabytes); summaries read the texts only at a few
    years. Each block of species (:func:`species_blocks`) is classified (a species' categories do
    not depend on the other species) and reduced before the next one is.

    Parameters
    ----------
    ds
        A results Dataset (:func:`check_results`).
    years
        The years at which the second Dataset keeps every variable (default: every year).
    by_year
        The years of the first Dataset (default: every year); e.g. :func:`assessment_grid` for a
        large study. Only these years and ``years`` are classified.
    task_map
        Assess the blocks in parallel (:data:`TaskMap`); the same Datasets.

    Returns
    -------
    by_year : xarray.Dataset
        ``category`` (species, scenario, replicate, year) and ``red_list_index`` (scenario,
        replicate, year) of all species jointly (:func:`pva.redlist.rli_by_replicate`), every year
        (or at ``by_year``): what :func:`pva.redlist.assess` returns for them; and
        ``lower_bound`` (species, scenario, replicate, year): whether the category is a lower
        bound (:func:`lower_bounds`).
    at_years : xarray.Dataset
        Every variable of :func:`pva.redlist.assess` at ``years`` (the criteria texts as shared
        Python strings), the RLI of all species jointly, plus ``never_evaluated`` (species,
        scenario, criterion) and the attribute ``evaluated_criteria``: what
        :func:`red_list_by_horizon` reads over all years. The ``notes`` attribute joins the
        notes of each species (each distinct text once, in species order).
    """
    ds = check_results(ds)
    assessed_years = len(_classified(ds, years, by_year))
    blocks = species_blocks(ds, assessed_years=assessed_years, load=task_map is None)
    tasks = ({"one": block, "years": years, "by_year": by_year} for block in blocks)
    return _joined([part for parts in _each(_assess_block, tasks, task_map) for part in parts])


def _each(
    function: Callable[..., T], tasks: Iterable[Mapping[str, Any]], task_map: TaskMap | None
) -> Iterator[T]:
    """``function(**task)`` for each of ``tasks`` in order: here, or by ``task_map``."""
    if task_map is None:
        return (function(**task) for task in tasks)
    return iter(task_map(function, tasks))


@dataclasses.dataclass(frozen=True)
class _SpeciesAssessment:
    """What summaries keep of one species' :func:`pva.redlist.assess`."""

    category: xr.DataArray
    """(species, scenario, replicate, year), every year or the years asked for."""
    lower_bound: xr.DataArray
    """(species, scenario, replicate, year) as ``category``: :func:`lower_bounds`."""
    at_years: xr.Dataset
    """Every variable at the chosen years, criteria texts as shared strings, no RLI."""
    never: xr.DataArray
    """(species, scenario, criterion): NE in every replicate and assessed year."""
    requested: frozenset[str]
    notes: str
    """The species' notes, as :func:`pva.redlist.assess` joins them (one species: the notes of
    several species are not split again)."""


def _classified(
    ds: xr.Dataset, years: Sequence[int] | None, by_year: Sequence[int] | None
) -> list[int]:
    """The years :func:`_assess_species` classifies: ``years`` and ``by_year`` (None: every
    year)."""
    if years is None or by_year is None:
        return [int(y) for y in ds[results.YEAR].values]
    return sorted({*years, *by_year})


def _assess_block(
    one: xr.Dataset, years: Sequence[int] | None, *, by_year: Sequence[int] | None
) -> list[_SpeciesAssessment]:
    """:func:`_assess_species` of each species of a block (read here if still on file: a
    worker of a :data:`TaskMap`). One species at a time (classification goes species by
    species anyway), so that the notes are each species' own, whatever the blocks."""
    one = one.load()
    return [
        _assess_species(one.isel({results.SPECIES: [i]}), years, by_year=by_year)
        for i in range(one.sizes[results.SPECIES])
    ]


def _assess_species(
    one: xr.Dataset, years: Sequence[int] | None, *, by_year: Sequence[int] | None
) -> _SpeciesAssessment:
    """:func:`pva.redlist.assess` of ``one`` (a results Dataset of some species), reduced: every
    variable at ``years`` (default every year) and the categories at ``by_year`` (default every
    year). Only the years asked for are classified (:func:`pva.redlist.classify`'s ``years``):
    a summary's few years cost a fraction of every year's."""
    classified = _classified(one, years, by_year)
    every = len(classified) == one.sizes[results.YEAR]
    full = redlist.assess(one, years=None if every else classified)
    at = full.drop_vars(results.RLI)
    if years is not None:
        at = at.sel({results.YEAR: list(years)})
    category = full[results.CATEGORY]
    if by_year is not None:
        category = category.sel({results.YEAR: sorted(set(by_year))})
    lower = lower_bounds(full, [int(y) for y in category[results.YEAR].values])
    for name in (results.CRITERIA, "not_evaluated"):
        at[name] = at[name].copy(data=_shared_strings(at[name].values))
    never = (full[redlist.CRITERION_LEVEL] == redlist.NE).all((results.REPLICATE, results.YEAR))
    return _SpeciesAssessment(
        category=category,
        lower_bound=lower.assign_coords(category.coords),
        at_years=at,
        never=never,
        requested=frozenset(_requested_in(full)),
        notes=str(full.attrs.get("notes", "")),
    )


def _joined(parts: Sequence[_SpeciesAssessment]) -> tuple[xr.Dataset, xr.Dataset]:
    """:func:`assess_by_species`'s two Datasets from each species' part."""
    category = xr.concat([p.category for p in parts], results.SPECIES)
    by_year = category.to_dataset()
    by_year[LOWER_BOUND] = xr.concat([p.lower_bound for p in parts], results.SPECIES)
    by_year[results.RLI] = redlist.rli_by_replicate(category)
    return by_year, _joined_at_years(parts)


def _joined_at_years(parts: Sequence[_SpeciesAssessment]) -> xr.Dataset:
    """:func:`assess_by_species`'s second Dataset from each species' part (the RLI by year of the
    first, over every year, is not computed: summaries read the second only)."""
    at_years = xr.concat([p.at_years for p in parts], results.SPECIES)
    at_years[results.RLI] = redlist.rli_by_replicate(at_years[results.CATEGORY])
    at_years[NEVER_EVALUATED] = xr.concat([p.never for p in parts], results.SPECIES)
    requested = set().union(*(p.requested for p in parts))
    at_years.attrs = {
        # each species' notes once, in species order (a note may hold "; " itself, so they are
        # not split): the same text whatever the blocks
        "notes": "; ".join(dict.fromkeys(p.notes for p in parts if p.notes)),
        EVALUATED_CRITERIA: ",".join(c for c in redlist.CRITERIA if c in requested),
    }
    return at_years


# ---------------------------------------------------------------------------------------------------
# metric curves (thin adapters over pva.outcomes)
# ---------------------------------------------------------------------------------------------------


def extinction_curves(
    ds: xr.Dataset, *, quasi: bool = False, confidence: float = 0.95
) -> xr.Dataset:
    """P(extinct by year t) per species x scenario with its interval: variables ``p_extinction``,
    ``p_extinction_lower`` and ``p_extinction_upper`` of shape (species, scenario, year).

    With ``quasi=True``, quasi-extinction (``p_quasi_extinction...``) at each species' setting
    (:func:`pva.results.provenance`). Estimates and Wilson intervals from
    :func:`pva.outcomes.extinction_probability` and :func:`pva.outcomes.quasi_extinction_probability`.
    """
    ds = check_results(ds)
    return by_species(ds, lambda one: _extinction_curves(one, quasi=quasi, confidence=confidence))


def _extinction_curves(ds: xr.Dataset, *, quasi: bool, confidence: float) -> xr.Dataset:
    """:func:`extinction_curves` of ``ds`` (loaded), computed on arrays: one call of
    :mod:`pva.outcomes` per species, each counted as its risk measure says, and no DataArray per
    species (a summary of 100 species would make hundreds of them)."""
    order = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR)
    total = _summed(ds, results.TOTAL).transpose(*order)
    counted = {"total": total.values}
    if quasi:
        counted["mature"] = _summed(ds, results.MATURE).transpose(*order).values
    settings = results.provenance(ds).quasi_extinction
    template = total.isel({results.REPLICATE: 0}, drop=True)  # (species, scenario, year)
    fields = np.empty((3, *template.shape))
    for i, sp in enumerate(results.names_of(ds, results.SPECIES)):
        setting = settings[sp]
        est = outcomes.quasi_extinction_probability(
            np.moveaxis(counted[setting.on if quasi else "total"][i], 0, -1),  # (rep, year, scen)
            setting.threshold if quasi else 0.0,
            confidence=confidence,
        )
        for k, field in enumerate((est.estimate, est.lower, est.upper)):
            fields[k, i] = field.T
    if quasi:
        name, long_name = results.P_QUASI_EXTINCTION, "probability of quasi-extinction by year"
    else:
        name, long_name = results.P_EXTINCTION, "probability of extinction by year"
    out = xr.Dataset(
        {
            name + suffix: xr.DataArray(
                fields[k],
                dims=template.dims,
                coords=template.coords,
                attrs={"units": "1", "long_name": long_name},
            )
            for k, suffix in enumerate(("", LOWER_SUFFIX, UPPER_SUFFIX))
        }
    )
    out.attrs = {"confidence": confidence, "quasi": int(quasi)}
    return out


def trajectory_quantiles(
    ds: xr.Dataset,
    *,
    variable: str | None = None,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
    count: measures.Count | None = None,
) -> xr.DataArray:
    """Quantiles over replicates of abundance summed over populations, by year:
    shape (quantile, species, scenario, year), from :func:`pva.outcomes.quantile_bands`.

    Each species is counted as its abundance figures are (:func:`pva.measures.abundance_count`:
    mature individuals for a species with mature stages) unless ``count`` ("mature" or "total")
    or ``variable`` (a results variable) says otherwise; the attribute ``counts`` says what each
    species' quantiles count (JSON list, in species order).
    """
    ds = check_results(ds)
    if variable is not None:
        count = "mature" if variable == results.MATURE else "total"
        if variable not in (results.MATURE, results.TOTAL):
            raise ValueError(
                f"variable must be {results.MATURE!r} or {results.TOTAL!r}; got {variable!r}"
            )
    counts = abundance_counts(ds, count)

    def bands(one: xr.Dataset) -> xr.DataArray:
        counted = measures.counted_abundance(one, abundance_counts(one, count))
        est = outcomes.quantile_bands(counted, list(quantiles))
        return est.estimate

    out = by_species(ds, bands)
    out = out.transpose(results.QUANTILE, results.SPECIES, results.SCENARIO, results.YEAR)
    out.attrs = {
        # the label of all species' counts together (read on year 0 only: cheap)
        "long_name": str(
            measures.counted_abundance(ds.isel({results.YEAR: [0]}), counts).attrs["long_name"]
        ),
        "units": "individuals",
        "counts": json.dumps([c.label for c in counts], ensure_ascii=False),
    }
    return out


def abundance_counts(ds: xr.Dataset, count: measures.Count | None = None) -> list[measures.Counted]:
    """What each species' abundance figures count (:func:`pva.measures.abundance_count`)."""
    return measures.abundance_counts(ds, count)


def reached_by(ds: xr.Dataset, year: int, *, absolute: bool = False) -> xr.DataArray:
    """Whether each replicate reached its species' risk event (:mod:`pva.measures`; with
    ``absolute``, no individuals of any stage) in some year up to ``year``: bool (species,
    scenario, replicate), the per-replicate events behind ``p_quasi_extinction`` and
    ``p_extinction``."""
    ds = check_results(ds)
    window = {results.YEAR: slice(None, year)}
    if absolute:
        total = _summed(ds, results.TOTAL).sel(window)
        return (
            (total <= 0)
            .any(results.YEAR)
            .transpose(results.SPECIES, results.SCENARIO, results.REPLICATE)
        )
    risk = measures.risk_measures(ds)
    counted = measures.counted_abundance(ds, [m.counted for m in risk.values()]).sel(window)
    thresholds = xr.DataArray([m.threshold for m in risk.values()], dims=(results.SPECIES,))
    return (
        (counted <= thresholds)
        .any(results.YEAR)
        .transpose(results.SPECIES, results.SCENARIO, results.REPLICATE)
    )


def run_overview(ds: xr.Dataset) -> xr.Dataset:
    """What ``pva run`` prints: per species x scenario, the probability of each species' risk
    event (:mod:`pva.measures`) and of absolute extinction by the final year
    (:func:`extinction_curves`), and the median abundance in the final year, each species counted
    as its abundance figures are (:func:`abundance_counts`), shape (species, scenario).

    Per species (variables ``risk_measure`` and ``abundance_counts``): the event and the count in
    words."""
    ds = check_results(ds)
    final = extinction_curves(ds).isel({results.YEAR: -1})
    quasi = extinction_curves(ds, quasi=True).isel({results.YEAR: -1})
    counts = abundance_counts(ds)
    # the final year only: a lazily read file is not read whole
    last = ds.isel({results.YEAR: [-1]})
    median = outcomes.final_abundance_quantiles(measures.counted_abundance(last, counts), [0.5])
    out = xr.Dataset(
        {
            results.P_QUASI_EXTINCTION: quasi[results.P_QUASI_EXTINCTION],
            results.P_EXTINCTION: final[results.P_EXTINCTION],
            results.MEDIAN_FINAL_ABUNDANCE: median.estimate.isel(
                {results.QUANTILE: 0}, drop=True
            ).transpose(results.SPECIES, results.SCENARIO),
        }
    )
    _add_labels(out, ds, counts)
    out.attrs = {"final_year": int(ds[results.YEAR].values[-1])}
    return out


def _add_labels(table: xr.Dataset, ds: xr.Dataset, counts: Sequence[measures.Counted]) -> None:
    """``risk_measure`` (with the settings ``quasi_extinction_threshold`` and
    ``quasi_extinction_on``) and ``abundance_counts``, per species."""
    risk = measures.risk_measures(ds)

    def per_species(name: str, values: list[object], dtype: object = object) -> xr.DataArray:
        return results.variable(name, (results.SPECIES,), np.array(values, dtype=dtype))

    table[results.RISK_MEASURE] = per_species(
        results.RISK_MEASURE, [m.event for m in risk.values()]
    )
    table[results.QUASI_EXTINCTION_THRESHOLD] = per_species(
        results.QUASI_EXTINCTION_THRESHOLD, [m.threshold for m in risk.values()], float
    )
    table[results.QUASI_EXTINCTION_ON] = per_species(
        results.QUASI_EXTINCTION_ON, [m.counted.on for m in risk.values()]
    )
    table[results.ABUNDANCE_COUNTS] = per_species(
        results.ABUNDANCE_COUNTS, [c.label for c in counts]
    )


# ---------------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------------


def summary_table(
    ds: xr.Dataset,
    *,
    horizons: Sequence[Horizon] | None = None,
    no_action: str | None = None,
    confidence: float = 0.95,
    red_list: bool | None = None,
    assessment: xr.Dataset | None = None,
    green_status: green.GreenStatus | None = None,
    count: measures.Count | None = None,
    costs_stop_at_extinction: bool | None = None,
    discount_rate: float | None = None,
    task_map: TaskMap | None = None,
) -> xr.Dataset:
    """Per species x scenario: extinction risk, abundance, sites, costs and the Red List view.

    Parameters
    ----------
    ds
        A results Dataset of ``pva run`` (dims species, scenario, replicate, year, population) or
        of :func:`pva.simulate` (a study of one species and one scenario).
    horizons
        Years since the start at which risks are reported; ``"final"`` is the last simulated
        year. Horizons beyond the simulation are dropped. Default: :func:`default_horizons`.
    no_action
        The scenario the others are compared with; default :func:`pva.results.no_action_scenario`.
    confidence
        Coverage of every interval, e.g. 0.95.
    red_list
        Whether to add the Red List part (:func:`pva.redlist.assess`; it needs a generation
        length for every species, see :func:`red_list_unavailable`). ``None``: add it when it can
        be computed, else record why not in the attribute ``red_list_skipped``; ``True``: raise
        :class:`ValueError` when it cannot.
    assessment
        What :func:`pva.redlist.assess` returned for ``ds``, to avoid assessing twice.
    green_status
        Counterfactual scenarios and unit thresholds of the Green Status of Species; default the
        study's ``[outputs.green_status]`` (:func:`pva.summary.green_status_settings`); none: no
        Green Status part.
    count
        What abundance figures count ("mature" or "total"); default per species
        (:func:`pva.measures.abundance_count`: mature individuals when it has mature stages).
    costs_stop_at_extinction, discount_rate
        How costs are counted (:mod:`pva.summary.costs`); default the study's ``[outputs]``
        (costs stop at extinction, no discounting).
    task_map
        Reduce the blocks of species in parallel (:data:`TaskMap`); the same table.

    Returns
    -------
    xarray.Dataset
        Variables (each ``*_lower``/``*_upper`` is the ``confidence`` interval of its estimate):

        * per species, ``risk_measure`` (the event of the species' risk measure in words, with its
          settings ``quasi_extinction_threshold`` and ``quasi_extinction_on``) and
          ``abundance_counts`` (what its abundance figures count);
        * ``p_quasi_extinction`` (species, scenario, horizon): the species' risk measure, and
          ``p_extinction``: absolute extinction (no individuals of any stage), probabilities;
        * ``median_final_abundance`` (species, scenario) in the last year, summed over
          populations, with ``*_lower``/``*_upper`` the order-statistic interval, and
          ``expected_minimum_abundance`` (species, scenario), both counted as
          ``abundance_counts`` says;
        * when some species has several sites, ``p_site_extinction`` and
          ``p_site_quasi_extinction`` (species, scenario, population, horizon) and
          ``sites_occupied`` (species, scenario, horizon) (:mod:`pva.summary.sites`);
        * for a species with genetics, ``gene_diversity_kept``, ``mean_inbreeding`` and
          ``p_gene_diversity_target`` (species, scenario, horizon),
          ``years_above_gene_diversity_target`` (species, scenario) and, with several sites,
          ``site_gene_diversity`` (species, scenario, population, horizon)
          (:mod:`pva.summary.genetics`);
        * ``best_scenario``, ``risk_reduction``, ``runner_up``, ``margin``, ``best_ranked_by`` (species)
          (:mod:`pva.summary.answer`);
        * ``total_cost`` (species, scenario) when some intervention has a cost: the expected cost
          in the study's currency (:mod:`pva.summary.costs`);
        * with ``red_list``: ``category_share`` (species, scenario, category) in the final year,
          ``rli`` (scenario) over all species jointly, ``delta_rli`` (scenario) against no action,
          each a mean over replicates with ``*_mcse`` and the normal interval of the mean in
          ``*_lower``/``*_upper``, and the central ``confidence`` share of replicates in
          ``*_spread_lower``/``*_spread_upper`` (the range of futures); ``p_rli_improved``;
          ``delta_rli_contribution`` (species, scenario); ``extinctions_prevented`` (scenario,
          counted by each species' risk measure), ``absolute_extinctions_prevented`` and
          ``p_any_prevented`` (scenario) and, with costs, ``incremental_cost``,
          ``cost_per_extinction_prevented``, ``cost_per_delta_rli``,
          ``extinctions_prevented_per_cost`` and the ranks of single interventions (scenario).
        * with a Green Status: ``green_score`` (species, scenario, green_year) and the conservation
          metrics (species), see :func:`pva.summary.green.add_green_status`.

        Attributes: ``no_action``, ``final_year``, ``confidence``, ``n_replicates``,
        ``currency``.

        For a sweep's results (a ``sample`` dim), the numbers the sweep recorded per sample, with
        the parameter values and sensitivity indices (:func:`pva.summary.sweep.sweep_table`).
    """
    if sweep.is_sweep(ds):  # a sweep's results hold these numbers per sample already
        return sweep.sweep_table(ds, horizons=horizons, no_action=no_action, red_list=red_list)
    ds = check_results(ds)
    action0 = results.no_action_scenario(ds, no_action)
    years = _resolve_horizons(ds, default_horizons(ds) if horizons is None else horizons)
    final_year = int(ds[results.YEAR].values[-1])
    cost_settings = costs.cost_settings(
        ds, stop_at_extinction=costs_stop_at_extinction, discount_rate=discount_rate
    )
    with_costs = costs.has_costs(ds)
    reason = red_list_unavailable(ds) if assessment is None and red_list is not False else ""
    if reason and red_list:
        raise ValueError(f"cannot assess Red List categories: {reason}")
    assess_here = assessment is None and red_list is not False and not reason
    # by blocks of species: only one block's trajectories (and Red List texts) in memory at a time
    read = sorted({0, *years, final_year})
    blocks = species_blocks(
        ds, assessed_years=len(read) if assess_here else 0, load=task_map is None
    )
    options = {
        "years": years,
        "final_year": final_year,
        "confidence": confidence,
        "count": count,
        "cost_settings": cost_settings if with_costs else None,
        "assessed_years": read if assess_here else None,
    }
    summaries = list(_each(_summarise_block, ({"one": b, **options} for b in blocks), task_map))
    parts = [b.part for b in summaries]
    per_cost = [b.per_cost for b in summaries if b.per_cost is not None]
    reached_parts = [b.reached for b in summaries]
    extinct_parts = [b.extinct for b in summaries]
    assessed = [part for b in summaries for part in b.assessed]
    table = xr.concat(parts, results.SPECIES)
    sites.add_sites(table, ds, years, measures.risk_measures(ds), confidence=confidence)
    genetics.add_genetics(table, ds, years, confidence=confidence)
    per_replicate_cost = xr.concat(per_cost, results.SPECIES) if with_costs else None
    table.attrs = {
        "no_action": action0,
        "final_year": final_year,
        "confidence": confidence,
        "n_replicates": int(ds.sizes[results.REPLICATE]),
        "currency": cost_settings.currency,
    }
    reached = xr.concat(reached_parts, results.SPECIES)
    extinct = xr.concat(extinct_parts, results.SPECIES)
    answer.add_best_actions(table, reached, extinct, action0, confidence=confidence)
    if reason:
        table.attrs["red_list_skipped"] = reason
    elif red_list is not False:
        if assessment is None:
            assessment = _joined_at_years(assessed)
        _add_red_list(table, action0, confidence=confidence, assessment=assessment, reached=reached)
        _add_absolute_extinctions_prevented(table, extinct, action0, confidence)
        _add_rli_contributions(table, assessment, action0, confidence)
        aze.add_site_indicators(table, ds, years, assessment, confidence=confidence)
        if per_replicate_cost is not None:
            final_rli = assessment[results.RLI].sel({results.YEAR: final_year}, drop=True)
            costs.add_cost_effectiveness(
                table,
                per_replicate_cost,
                prevented=_prevented_per_replicate(reached, action0),
                delta_rli=final_rli - final_rli.sel({results.SCENARIO: action0}),
                no_action=action0,
                settings=cost_settings,
                confidence=confidence,
                entropy=results.provenance(ds).seed_entropy,
                single_interventions=costs.single_interventions(ds, action0),
            )
    settings = green.green_status_settings(ds) if green_status is None else green_status
    if settings is not None:
        green.add_green_status(table, ds, action0, settings, confidence=confidence)
    return table


@dataclasses.dataclass(frozen=True)
class _BlockSummary:
    """What :func:`summary_table` keeps of one block of species."""

    part: xr.Dataset
    """The table's rows of the block's species: risks, abundance, costs."""
    per_cost: xr.DataArray | None
    """Each replicate's cost (species, scenario, replicate), with costs."""
    reached: xr.DataArray
    """Whether each replicate met the species' risk event by the final year."""
    extinct: xr.DataArray
    """Whether each replicate had no individuals left by the final year."""
    assessed: list[_SpeciesAssessment]
    """The Red List assessment of each species at the years the table reads (none: not
    assessed here)."""


def _summarise_block(
    one: xr.Dataset,
    *,
    years: list[int],
    final_year: int,
    confidence: float,
    count: measures.Count | None,
    cost_settings: costs.CostSettings | None,
    assessed_years: list[int] | None,
) -> _BlockSummary:
    """:func:`summary_table`'s numbers of one block of species (:func:`species_blocks`), read
    here if still on file (a worker of a :data:`TaskMap`)."""
    one = one.load()
    part = _extinction_at_horizons(one, years, confidence)
    counts = abundance_counts(one, count)
    _add_labels(part, one, counts)
    _add_abundance(part, one, confidence, counts)
    per_cost = (
        None
        if cost_settings is None
        else costs.add_costs(part, one, cost_settings, confidence=confidence)
    )
    assessed = (
        [] if assessed_years is None else _assess_block(one, assessed_years, by_year=assessed_years)
    )
    return _BlockSummary(
        part=part,
        per_cost=per_cost,
        reached=reached_by(one, final_year),
        extinct=reached_by(one, final_year, absolute=True),
        assessed=assessed,
    )


def _at_horizons(curves: xr.Dataset, years: list[int]) -> xr.Dataset:
    """Extinction curves at the horizons (dim ``horizon`` instead of ``year``)."""
    out = curves.sel({results.YEAR: years}).rename({results.YEAR: results.HORIZON})
    return out.assign_coords({results.HORIZON: np.asarray(years)})


def _extinction_at_horizons(ds: xr.Dataset, years: list[int], confidence: float) -> xr.Dataset:
    """``p_quasi_extinction`` (each species' risk measure) and ``p_extinction`` (absolute
    extinction) with their intervals at the horizons."""
    table = xr.Dataset()
    for quasi, name in ((True, results.P_QUASI_EXTINCTION), (False, results.P_EXTINCTION)):
        curves = _at_horizons(_extinction_curves(ds, quasi=quasi, confidence=confidence), years)
        for suffix in ("", LOWER_SUFFIX, UPPER_SUFFIX):
            table[name + suffix] = curves[name + suffix]
            table[name + suffix].attrs = dict(results.VARIABLE_ATTRS[name])
    table[results.HORIZON].attrs = dict(results.VARIABLE_ATTRS[results.HORIZON])
    return table


def _add_abundance(
    table: xr.Dataset, ds: xr.Dataset, confidence: float, counts: Sequence[measures.Counted]
) -> None:
    """Median final abundance and the expected minimum abundance, with intervals, each species
    counted as ``counts`` says."""
    counted = measures.counted_abundance(ds, counts)
    final = outcomes.final_abundance_quantiles(counted, [0.5], confidence=confidence)
    ema = outcomes.expected_minimum_abundance(counted, confidence=confidence)
    last = int(ds[results.YEAR].values[-1])
    pairs = (
        (results.MEDIAN_FINAL_ABUNDANCE, final, True, f"median abundance in year {last}"),
        (results.EXPECTED_MINIMUM, ema, False, f"expected minimum abundance over years 0–{last}"),
    )
    for name, est, quantile, long_name in pairs:
        attrs = {
            **results.VARIABLE_ATTRS[name],
            "long_name": f"{long_name} (counted as abundance_counts says)",
        }
        for suffix, field in (
            ("", est.estimate),
            (LOWER_SUFFIX, est.lower),
            (UPPER_SUFFIX, est.upper),
        ):
            if quantile:
                field = field.isel({results.QUANTILE: 0}, drop=True)
            table[name + suffix] = field.transpose(results.SPECIES, results.SCENARIO).assign_attrs(
                attrs
            )


def _prevented_per_replicate(reached: xr.DataArray, no_action: str) -> xr.DataArray:
    """Extinctions (each species' risk event) prevented against ``no_action`` in each replicate,
    summed over species: (scenario, replicate)."""
    count = reached.astype(np.int64).sum(results.SPECIES)
    return (count.sel({results.SCENARIO: no_action}) - count).transpose(
        results.SCENARIO, results.REPLICATE
    )


def _add_absolute_extinctions_prevented(
    table: xr.Dataset, extinct: xr.DataArray, no_action: str, confidence: float
) -> None:
    """``absolute_extinctions_prevented`` (scenario): as ``extinctions_prevented``, counting
    absolute extinction (no individuals of any stage) by the final year (``extinct``:
    :func:`reached_by` with ``absolute``)."""
    base = extinct.sel({results.SCENARIO: no_action}).values
    scenarios = results.names_of(extinct, results.SCENARIO)
    out = {
        k: np.full(len(scenarios), np.nan) for k in ("", MCSE_SUFFIX, LOWER_SUFFIX, UPPER_SUFFIX)
    }
    for i, scenario in enumerate(scenarios):
        e = redlist.extinctions_prevented(
            base, extinct.sel({results.SCENARIO: scenario}).values, level=confidence
        )
        out[""][i], out[MCSE_SUFFIX][i] = e.expected, e.mcse
        out[LOWER_SUFFIX][i], out[UPPER_SUFFIX][i] = e.ci
    attrs = results.VARIABLE_ATTRS[results.ABSOLUTE_EXTINCTIONS_PREVENTED]
    for suffix, values in out.items():
        table[results.ABSOLUTE_EXTINCTIONS_PREVENTED + suffix] = xr.DataArray(
            values, dims=(results.SCENARIO,), attrs=attrs
        )


def _add_rli_contributions(
    table: xr.Dataset, assessment: xr.Dataset, no_action: str, confidence: float
) -> None:
    """``delta_rli_contribution`` (species, scenario): each species' share of ΔRLI in the final
    year, ``(W(no action) - W(scenario)) / (W_EX N)`` paired over replicates (the species' own
    ΔRLI over the N species of the RLI), so that the contributions sum to ``delta_rli``; mean with
    ``_lower``/``_upper`` (normal interval of the mean)."""
    final = int(table.attrs["final_year"])
    categories = assessment[results.CATEGORY].sel({results.YEAR: final}, drop=True)
    joint = redlist.rli_by_replicate(categories)
    n = int(joint.attrs.get("species_counted", 0))
    if n == 0:
        return
    parts = []
    for sp in results.names_of(categories, results.SPECIES):
        alone = redlist.rli_by_replicate(categories.sel({results.SPECIES: [sp]}))
        if int(alone.attrs.get("species_counted", 0)) == 0:
            alone = xr.full_like(alone, np.nan, dtype=float)
        parts.append((alone - alone.sel({results.SCENARIO: no_action})) / n)
    per_replicate = xr.concat(parts, dim=results.SPECIES).assign_coords(
        {results.SPECIES: categories[results.SPECIES].values}
    )
    z = outcomes.z_score(confidence)
    mean = per_replicate.mean(results.REPLICATE, skipna=True)
    se = per_replicate.std(results.REPLICATE, ddof=1, skipna=True) / np.sqrt(
        per_replicate.notnull().sum(results.REPLICATE)
    )
    attrs = {
        **results.VARIABLE_ATTRS[results.DELTA_RLI_CONTRIBUTION],
        "long_name": f"the species' contribution to ΔRLI against {no_action!r} in year {final}",
    }
    dims = (results.SPECIES, results.SCENARIO)
    for suffix, value in (("", mean), (LOWER_SUFFIX, mean - z * se), (UPPER_SUFFIX, mean + z * se)):
        table[results.DELTA_RLI_CONTRIBUTION + suffix] = value.transpose(*dims).assign_attrs(attrs)


def _add_red_list(
    table: xr.Dataset,
    no_action: str,
    *,
    confidence: float,
    assessment: xr.Dataset,
    reached: xr.DataArray,
) -> None:
    """Add the Red List variables of :func:`summary_table` to ``table`` in place.

    Categories and the RLI come from :func:`pva.redlist.assess`; the RLI interval and ΔRLI are
    :func:`pva.redlist.rli_summary` and :func:`pva.redlist.delta_rli` (paired over replicates);
    extinctions prevented are :func:`pva.redlist.extinctions_prevented` applied to each species'
    risk event by the final year (``reached``: :func:`reached_by`), the event of
    ``p_quasi_extinction``.
    """
    final = int(table.attrs["final_year"])
    categories = assessment[results.CATEGORY].sel({results.YEAR: final}, drop=True)
    share = redlist.category_distribution(categories).transpose(
        results.SPECIES, results.SCENARIO, results.CATEGORY_DIM
    )
    table[results.CATEGORY_SHARE] = share.assign_attrs(
        {
            "units": "1",
            "long_name": f"share of replicates in each Red List category in year {final}",
        }
    )
    rli = redlist.rli_summary(
        assessment[results.RLI].sel({results.YEAR: final}, drop=True), level=confidence
    )
    _put_replicate_summary(
        table,
        results.RLI_SUMMARY,
        rli["mean"],
        rli["mcse"],
        rli["lower"],
        rli["upper"],
        attrs={"units": "1", "long_name": f"Red List Index in year {final}"},
        confidence=confidence,
    )
    _add_paired_comparisons(table, reached, categories, no_action, final, confidence)
    by_horizon = red_list_by_horizon(
        assessment, table[results.HORIZON].values, no_action=no_action, confidence=confidence
    )
    for name, variable in by_horizon.data_vars.items():
        table[name] = variable
    if assessment.attrs.get("notes"):
        table.attrs["red_list_notes"] = str(assessment.attrs["notes"])


def _put_replicate_summary(
    table: xr.Dataset,
    name: str,
    mean: xr.DataArray,
    mcse: xr.DataArray,
    spread_lower: xr.DataArray,
    spread_upper: xr.DataArray,
    *,
    attrs: dict[str, str],
    confidence: float,
) -> None:
    """``name`` (a mean over replicates) with ``_mcse``, the normal interval of the mean
    (``_lower``/``_upper``) and the central ``confidence`` share of replicates (``_spread_*``)."""
    z = outcomes.z_score(confidence)
    ci = {**attrs, "interval": _interval_note(confidence)}
    spread = {**attrs, "interval": _spread_note(confidence)}
    for suffix, value, value_attrs in (
        ("", mean, attrs),
        (MCSE_SUFFIX, mcse, attrs),
        (LOWER_SUFFIX, mean - z * mcse, ci),
        (UPPER_SUFFIX, mean + z * mcse, ci),
        (SPREAD_LOWER, spread_lower, spread),
        (SPREAD_UPPER, spread_upper, spread),
    ):
        table[name + suffix] = value.assign_attrs(value_attrs)


def _add_paired_comparisons(
    table: xr.Dataset,
    extinct: xr.DataArray,
    categories: xr.DataArray,
    no_action: str,
    final: int,
    confidence: float,
) -> None:
    """ΔRLI and extinctions prevented against ``no_action``, paired over replicates
    (``extinct``: each species' risk event by ``final``, :func:`reached_by`, the event of
    ``p_quasi_extinction``)."""
    scenarios = results.names_of(extinct, results.SCENARIO)
    n = len(scenarios)
    delta = {k: np.full(n, np.nan) for k in ("mean", "mcse", "lower", "upper", "p_improved")}
    prevented = {k: np.full(n, np.nan) for k in ("expected", "mcse", "lower", "upper", "p_any")}
    base_categories = categories.sel({results.SCENARIO: no_action}, drop=True)
    base_extinct = extinct.sel({results.SCENARIO: no_action}).values
    for i, scenario in enumerate(scenarios):
        d = redlist.delta_rli(
            categories.sel({results.SCENARIO: scenario}, drop=True),
            base_categories,
            level=confidence,
        )
        for key in delta:
            delta[key][i] = float(d[key])
        e = redlist.extinctions_prevented(
            base_extinct, extinct.sel({results.SCENARIO: scenario}).values, level=confidence
        )
        prevented["expected"][i] = e.expected
        prevented["mcse"][i] = e.mcse
        prevented["lower"][i], prevented["upper"][i] = e.ci
        prevented["p_any"][i] = e.p_at_least_one

    def column(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(values, dims=(results.SCENARIO,))

    _put_replicate_summary(
        table,
        results.DELTA_RLI,
        column(delta["mean"]),
        column(delta["mcse"]),
        column(delta["lower"]),
        column(delta["upper"]),
        attrs={"units": "1", "long_name": f"ΔRLI against {no_action!r} in year {final}"},
        confidence=confidence,
    )
    table[results.P_RLI_IMPROVED] = results.variable(
        results.P_RLI_IMPROVED, (results.SCENARIO,), delta["p_improved"]
    )
    attrs = {
        **results.VARIABLE_ATTRS[results.EXTINCTIONS_PREVENTED],
        "event": "each species' risk measure (risk_measure)",
    }
    ci = {**attrs, "interval": _interval_note(confidence)}
    for suffix, key, value_attrs in (
        ("", "expected", attrs),
        (MCSE_SUFFIX, "mcse", attrs),
        (LOWER_SUFFIX, "lower", ci),
        (UPPER_SUFFIX, "upper", ci),
    ):
        table[results.EXTINCTIONS_PREVENTED + suffix] = column(prevented[key]).assign_attrs(
            value_attrs
        )
    table[results.P_ANY_PREVENTED] = results.variable(
        results.P_ANY_PREVENTED, (results.SCENARIO,), prevented["p_any"]
    )


# ---------------------------------------------------------------------------------------------------
# the Red List at every horizon
# ---------------------------------------------------------------------------------------------------

PROJECTED_CRITERIA = ("A3", "A4", "C1", "E")
"""Sub-criteria read from projections from the assessment year (:func:`pva.redlist.classify`): at
a later year they need the nested projections of ``[outputs.red_list_e]``."""
INPUT_CRITERIA = ("B1", "B2", "C2a(i)", "C2a(ii)", "D2")
"""Sub-criteria that need inputs a study may not give (EOO, AOO, locations, subpopulations); when
not evaluated at any year they are left out of the per-horizon notes (the assessment's notes say
why)."""


def red_list_by_horizon(
    assessment: xr.Dataset,
    horizons: Sequence[int],
    *,
    no_action: str,
    confidence: float = 0.95,
) -> xr.Dataset:
    """The Red List at each horizon: categories, the most likely one and what sets it, what was
    not evaluated, and the Red List Index and ΔRLI with their intervals.

    Parameters
    ----------
    assessment
        What :func:`pva.redlist.assess` returned (with ``criterion_level``).
    horizons
        Years (simulated years of ``assessment``).
    no_action
        The scenario ΔRLI is taken against.
    confidence
        Coverage of the intervals.

    Returns
    -------
    xarray.Dataset
        With a ``horizon`` dim (the years given):

        * ``category_share_by_horizon`` (species, scenario, horizon, category): share of
          replicates in each category (:func:`pva.redlist.category_distribution`);
        * ``most_likely_category`` (species, scenario, horizon): the category with the largest
          share (ties: the more threatened), ``most_likely_share`` its share, and
          ``most_likely_criteria`` the criteria that set it in most of its replicates (IUCN
          notation, e.g. ``"D"`` or ``"A3+4; C1"``; ``""`` for LC and EX);
        * ``lower_bound_share`` (species, scenario, horizon): the share of replicates whose
          category is a lower bound: some sub-criterion listed in ``not_evaluated`` was not
          evaluated in it and could have given a higher category (any but CR and EX, and but VU
          and above for D2); ``most_likely_lower_bound`` whether some replicate of the most
          likely category is such a lower bound;
        * ``not_evaluated`` (species, scenario, horizon): those sub-criteria and why, e.g.
          ``"A3, A4, E not evaluated: no projections at year 20"`` (A3, A4, projected C1 and E at
          a year without nested projections) or ``"A2 not evaluated: window not covered at year
          10"`` (a window longer than the years simulated before or after it); ``""`` if none.
          Sub-criteria never evaluated for want of inputs (B, C2a, D2 without EOO, AOO,
          locations or subpopulations) are left out: the assessment's ``notes`` say so once;
        * ``rli_by_horizon`` (scenario, horizon): the Red List Index of all species jointly, mean
          over replicates (:func:`pva.redlist.rli_summary`), and ``delta_rli_by_horizon``
          (scenario, horizon): ΔRLI against ``no_action`` paired over replicates
          (:func:`pva.redlist.delta_rli`), each with ``_mcse``, the normal interval of the mean
          (``_lower``/``_upper``) and the central ``confidence`` share of replicates
          (``_spread_lower``/``_spread_upper``); ``p_rli_improved_by_horizon`` (scenario,
          horizon).

        Where ``lower_bound_share`` is above 0 the Red List Index at that horizon is an upper
        bound (a higher category lowers it).
    """
    years = [int(y) for y in horizons]
    if not years:
        raise ValueError("horizons must name at least one year")
    at = assessment.sel({results.YEAR: years}).rename({results.YEAR: results.HORIZON})
    at = at.assign_coords({results.HORIZON: np.asarray(years, dtype=np.int64)})
    dims = (results.SPECIES, results.SCENARIO, results.HORIZON)
    out = xr.Dataset()
    share = redlist.category_distribution(at[results.CATEGORY]).transpose(
        *dims, results.CATEGORY_DIM
    )
    out[results.CATEGORY_SHARE_BY_HORIZON] = share.assign_attrs(
        results.VARIABLE_ATTRS[results.CATEGORY_SHARE_BY_HORIZON]
    )
    lower, why = _not_evaluated(assessment, at, years)
    label, label_share, criteria, label_lower = _most_likely(at, share, lower)
    for name, values in (
        (results.MOST_LIKELY_CATEGORY, label),
        (results.MOST_LIKELY_SHARE, label_share),
        (results.MOST_LIKELY_CRITERIA, criteria),
        (results.MOST_LIKELY_LOWER_BOUND, label_lower),
        (results.LOWER_BOUND_SHARE, lower.mean(axis=2)),
        (results.NOT_EVALUATED, why),
    ):
        out[name] = results.variable(name, dims, values)
    _add_rli_by_horizon(out, at, no_action, confidence)
    out.attrs = {"horizons": years, "no_action": no_action, "confidence": confidence}
    return out


def _most_likely(
    at: xr.Dataset, share: xr.DataArray, lower: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (species, scenario, horizon): the most likely category label (ties: the more
    threatened), its share, the criteria most of its replicates meet it under, and whether it is
    a lower bound in some of them (``lower``: species, scenario, replicate, horizon)."""
    labels = [str(c) for c in share[results.CATEGORY_DIM].values]
    values = share.values  # (species, scenario, horizon, category)
    # among equal shares the more threatened wins: look at the categories from EX down to LC
    # (argmax takes the first maximum); the sentinels (DD, NE, not evaluable) come last
    threat = [redlist.category_code(c) if c in redlist.CATEGORIES else -1 for c in labels]
    order = np.argsort(-np.asarray(threat), kind="stable")
    best = order[np.argmax(values[..., order], axis=-1)]
    label = np.array(labels, dtype=object)[best]
    label_share = np.take_along_axis(values, best[..., None], axis=-1)[..., 0]
    category = at[results.CATEGORY].transpose(
        results.SPECIES, results.SCENARIO, results.HORIZON, results.REPLICATE
    )
    strings = at[results.CRITERIA].transpose(*category.dims).values
    codes = category.values
    bound = np.moveaxis(lower, 2, 3)  # (species, scenario, horizon, replicate)
    criteria = np.full(label.shape, "", dtype=object)
    label_lower = np.zeros(label.shape, dtype=bool)
    for idx in np.ndindex(label.shape):
        name = str(label[idx])
        if name not in redlist.CATEGORIES:
            continue
        members = codes[idx] == redlist.category_code(name)
        label_lower[idx] = bool(np.any(bound[idx][members]))
        chosen = strings[idx][members]
        if chosen.size:
            texts, counts = np.unique(chosen, return_counts=True)
            # "CR D; E" -> "D; E": the category is the label, the rest the criteria
            criteria[idx] = str(texts[np.argmax(counts)]).partition(" ")[2]
    return label, label_share, criteria, label_lower


def lower_bounds(assessment: xr.Dataset, years: Sequence[int] | None = None) -> xr.DataArray:
    """Whether each replicate's category is a lower bound (species, scenario, replicate, year),
    the rule of the summary's "≥" (:func:`red_list_by_horizon`): some sub-criterion not
    evaluated there could have given a higher category.

    ``assessment`` is :func:`pva.redlist.assess` of the results, or either Dataset of
    :func:`assess_by_species` (the first carries ``lower_bound`` at its years, the second
    ``criterion_level``); ``years`` default to all of its years.

    Raises
    ------
    ValueError
        If ``assessment`` records neither ``lower_bound`` nor ``criterion_level``.
    """
    chosen = [int(y) for y in (assessment[results.YEAR].values if years is None else years)]
    if LOWER_BOUND in assessment:
        return assessment[LOWER_BOUND].sel({results.YEAR: chosen})
    if redlist.CRITERION_LEVEL not in assessment:
        raise ValueError(
            f"assessment records neither {LOWER_BOUND!r} nor {redlist.CRITERION_LEVEL!r}: it "
            "does not say which categories are lower bounds"
        )
    at = assessment.sel({results.YEAR: chosen}).rename({results.YEAR: results.HORIZON})
    lower, _ = _not_evaluated(assessment, at, chosen, reasons=False)
    dims = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR)
    coords = {d: assessment[d].values for d in dims[:-1]}
    return xr.DataArray(lower, dims=dims, coords={**coords, results.YEAR: chosen}, name=LOWER_BOUND)


def _not_evaluated(
    assessment: xr.Dataset, at: xr.Dataset, years: list[int], *, reasons: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each replicate's category is a lower bound (species, scenario, replicate,
    horizon), and per (species, scenario, horizon) which sub-criteria were not evaluated and
    why (left empty with ``reasons=False``)."""
    subs = [str(c) for c in assessment[redlist.CRITERION].values]
    if NEVER_EVALUATED in assessment:  # reduced over all years by assess_by_species
        requested = set(str(assessment.attrs.get(EVALUATED_CRITERIA, "")).split(","))
        never_all = (
            assessment[NEVER_EVALUATED]
            .transpose(results.SPECIES, results.SCENARIO, redlist.CRITERION)
            .values
        )
    else:
        order = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR)
        levels_all = assessment[redlist.CRITERION_LEVEL].transpose(*order, redlist.CRITERION).values
        requested = _requested_criteria(assessment, levels_all, subs)
        never_all = np.all(levels_all == redlist.NE, axis=(2, 3))
    h_order = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.HORIZON)
    levels = at[redlist.CRITERION_LEVEL].transpose(*h_order, redlist.CRITERION).values
    category = at[results.CATEGORY].transpose(*h_order).values
    # the highest level each sub-criterion can give (VU D2; CR for the others): a category at or
    # above it would not change had that sub-criterion been evaluated
    ceiling = np.array([redlist.VU if c == "D2" else redlist.CR for c in subs], dtype=np.int8)
    n_sp, n_sc = levels.shape[:2]
    lower = np.zeros((n_sp, n_sc, levels.shape[2], len(years)), dtype=bool)
    why = np.full((n_sp, n_sc, len(years)), "", dtype=object)
    for i, j in np.ndindex(n_sp, n_sc):
        never = never_all[i, j]
        listed = [
            k
            for k, c in enumerate(subs)
            if c in requested and not (c in INPUT_CRITERIA and never[k])
        ]
        alive = category[i, j] != redlist.EX  # (rep, h)
        missing = (levels[i, j][:, :, listed] < 0) & alive[:, :, None]  # (rep, h, sub)
        below = category[i, j][:, :, None] < ceiling[listed]
        lower[i, j] = (missing & below).any(axis=2)
        for h, year in enumerate(years if reasons else ()):
            reasons: dict[str, list[str]] = {}
            for col, k in enumerate(listed):
                gone = missing[:, h, col]
                if not gone.any():
                    continue
                not_covered = bool(np.any(levels[i, j][gone, h, k] == redlist.NOT_EVALUABLE))
                if not_covered:
                    reason = f"window not covered at year {year}"
                elif subs[k] in PROJECTED_CRITERIA:
                    reason = f"no projections at year {year}"
                else:
                    reason = f"not evaluated at year {year}"
                reasons.setdefault(reason, []).append(subs[k])
            why[i, j, h] = "; ".join(
                f"{', '.join(names)} not evaluated: {reason}" for reason, names in reasons.items()
            )
    return lower, why


def _requested_criteria(assessment: xr.Dataset, levels: np.ndarray, subs: list[str]) -> set[str]:
    """The sub-criteria the assessment asked for: those evaluated somewhere and those it lists
    as not evaluated somewhere (the others are NE everywhere and never listed)."""
    evaluated = {c for k, c in enumerate(subs) if np.any(levels[..., k] >= 0)}
    texts = set(np.asarray(assessment["not_evaluated"].values).ravel().tolist())
    listed = {part.strip() for text in texts for part in str(text).split(",") if part.strip()}
    return evaluated | (listed & set(subs))


def _add_rli_by_horizon(out: xr.Dataset, at: xr.Dataset, no_action: str, confidence: float) -> None:
    """``rli_by_horizon`` and ``delta_rli_by_horizon`` (scenario, horizon) with their intervals."""
    rli = redlist.rli_summary(at[results.RLI], level=confidence)
    order = (results.SCENARIO, results.HORIZON)
    _put_replicate_summary(
        out,
        results.RLI_BY_HORIZON,
        rli["mean"].transpose(*order),
        rli["mcse"].transpose(*order),
        rli["lower"].transpose(*order),
        rli["upper"].transpose(*order),
        attrs=results.VARIABLE_ATTRS[results.RLI_BY_HORIZON],
        confidence=confidence,
    )
    categories = at[results.CATEGORY]
    base = categories.sel({results.SCENARIO: no_action}, drop=True)
    parts = [
        redlist.delta_rli(
            categories.sel({results.SCENARIO: s}, drop=True), base, level=confidence
        ).drop_vars("delta")
        for s in results.names_of(at, results.SCENARIO)
    ]
    d = xr.concat(parts, dim=results.SCENARIO).assign_coords(
        {results.SCENARIO: at[results.SCENARIO].values}
    )
    _put_replicate_summary(
        out,
        results.DELTA_RLI_BY_HORIZON,
        d["mean"].transpose(*order),
        d["mcse"].transpose(*order),
        d["lower"].transpose(*order),
        d["upper"].transpose(*order),
        attrs={
            **results.VARIABLE_ATTRS[results.DELTA_RLI_BY_HORIZON],
            "long_name": f"ΔRLI against {no_action!r} (paired)",
        },
        confidence=confidence,
    )
    out[results.P_RLI_IMPROVED_BY_HORIZON] = (
        d["p_improved"]
        .transpose(*order)
        .assign_attrs(results.VARIABLE_ATTRS[results.P_RLI_IMPROVED_BY_HORIZON])
    )
