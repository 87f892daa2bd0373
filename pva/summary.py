"""Tables of a results Dataset: per species and scenario, the numbers a recovery plan quotes.

:func:`summary_table` gathers, for every species x scenario of a results Dataset (as written by
:func:`pva.runner.run` and read by :func:`pva.io.open_results`):

* the probability of extinction by chosen horizons, with its interval;
* median final abundance and the expected minimum abundance (McCarthy & Thompson 2001);
* through :func:`pva.redlist.assess`, the Red List category distribution in the final year, the Red
  List Index by scenario with its interval (Butchart et al. 2007), ΔRLI against no action as paired
  differences over replicates, expected extinctions prevented (the quantity Bolam et al. 2021
  estimated by expert elicitation), and the cost per extinction prevented where ``annual_cost`` is
  recorded.

Nothing is estimated here: every number comes from :mod:`pva.outcomes` or :mod:`pva.redlist`; this
module only selects, aligns and formats (one concept, one place). :func:`format_table` renders the
table as aligned text, Markdown or HTML, and :func:`table_to_json` as JSON.

Extinction means no individuals of any stage left in any population (total abundance summed over
populations is 0); quasi-extinction means abundance summed over populations at or below the
species' ``quasi_extinction_threshold`` (total or mature individuals, as the species'
``quasi_extinction_on`` in the study says).

Which scenario is "no action": the study's ``no_action`` key names it (``study`` attribute, JSON);
otherwise the scenario named "no action" (case, spaces, ``-`` and ``_`` ignored); otherwise the first
scenario. Pass ``no_action=`` to override.

References
----------
Bolam, F.C. et al. 2021. How many bird and mammal extinctions has recent conservation action
prevented? Conservation Letters 14:e12762.
Butchart, S.H.M. et al. 2007. Improvements to the Red List Index. PLoS ONE 2:e140.
McCarthy, M.A. & C. Thompson. 2001. Expected minimum population size as a measure of threat. Animal
Conservation 4:351-355.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import scipy.stats
import xarray as xr

from pva import outcomes, redlist
from pva import results as names
from pva.study import GreenStatus

Horizon = int | Literal["final"]
DEFAULT_HORIZONS: tuple[Horizon, ...] = (10, 20, 50, "final")
"""Years at which extinction probabilities are reported; ``"final"`` is the last simulated year."""

TableStyle = Literal["text", "markdown", "html"]

HORIZON = "horizon"
"""Dimension of the reporting horizons (years since the start) in a summary table."""

STUDY_ATTR = names.ATTR_STUDY
"""Dataset attribute holding the study specification as JSON."""

_NO_ACTION_KEY = "no_action"


# ---------------------------------------------------------------------------------------------------
# input checks and small helpers
# ---------------------------------------------------------------------------------------------------


def check_results(results: object) -> xr.Dataset:
    """``results`` if it is a results Dataset (the variables and dims summaries need), else raise
    :class:`TypeError` (not a Dataset) or :class:`ValueError` naming what is missing."""
    if not isinstance(results, xr.Dataset):
        raise TypeError(f"results must be an xarray.Dataset; got {type(results).__name__}")
    missing = [v for v in (names.TOTAL, names.MATURE) if v not in results.data_vars]
    missing += [
        d
        for d in (names.SPECIES, names.SCENARIO, names.REPLICATE, names.YEAR, names.POPULATION)
        if d not in results.dims
    ]
    if missing:
        raise ValueError(
            f"results is not a pva results Dataset: missing {missing!r} "
            f"(has variables {sorted(map(str, results.data_vars))!r})"
        )
    return results


def study_spec(results: xr.Dataset) -> dict[str, Any]:
    """The study specification stored in the ``study`` attribute (``{}`` when absent)."""
    raw = results.attrs.get(STUDY_ATTR, "")
    if not raw:
        return {}
    try:
        spec = json.loads(raw)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"results attribute {STUDY_ATTR!r} is not valid JSON: {exc}") from exc
    if not isinstance(spec, dict):
        raise ValueError(f"results attribute {STUDY_ATTR!r} must hold a JSON object; got {spec!r}")
    return spec


def study_name(results: xr.Dataset) -> str:
    """The study's name from its specification ("" when not recorded)."""
    spec = study_spec(results)
    head = spec.get("study")
    name = head.get("name") if isinstance(head, dict) else spec.get("name")
    return str(name) if name else ""


def default_horizons(results: xr.Dataset) -> tuple[Horizon, ...]:
    """The study's ``outputs.horizons`` plus the final year, else :data:`DEFAULT_HORIZONS`."""
    outputs = study_spec(results).get("outputs")
    chosen = outputs.get("horizons") if isinstance(outputs, dict) else None
    if isinstance(chosen, list) and chosen and all(isinstance(h, int) for h in chosen):
        return (*chosen, "final")
    return DEFAULT_HORIZONS


def red_list_unavailable(results: xr.Dataset) -> str:
    """Why the Red List part cannot be computed for ``results`` ("" when it can).

    :func:`pva.redlist.assess` needs a generation length (years > 0) for every species.
    """
    if names.GENERATION_LENGTH not in results:
        return "the results record no generation length"
    gl = np.asarray(results[names.GENERATION_LENGTH].values, dtype=float)
    missing = [
        str(sp)
        for sp, g in zip(results[names.SPECIES].values, gl, strict=True)
        if not (np.isfinite(g) and g > 0)
    ]
    if missing:
        return f"no generation length for {', '.join(missing)}"
    return ""


def quasi_extinction_on(results: xr.Dataset, species: str) -> str:
    """``"total"`` or ``"mature"``: what a species' quasi-extinction threshold counts, from the
    study specification (the species' ``quasi_extinction_on``; default ``"total"``)."""
    for entry in study_spec(results).get("species", []) or []:
        if isinstance(entry, dict) and entry.get("name") == species:
            on = entry.get("quasi_extinction_on", "total")
            return "mature" if on == "mature" else "total"
    return "total"


def _normalise(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def no_action_scenario(results: xr.Dataset, no_action: str | None = None) -> str:
    """The scenario that others are compared with (see the module docstring for the rule)."""
    scenarios = [str(s) for s in results[names.SCENARIO].values]
    if no_action is None:
        marked = study_spec(results).get(_NO_ACTION_KEY)
        if isinstance(marked, str) and marked:
            no_action = marked
    if no_action is not None:
        if no_action not in scenarios:
            raise ValueError(f"no_action {no_action!r} is not a scenario; known: {scenarios!r}")
        return no_action
    for scenario in scenarios:
        if _normalise(scenario) == "noaction":
            return scenario
    return scenarios[0]


def _resolve_horizons(results: xr.Dataset, horizons: Sequence[Horizon]) -> list[int]:
    years = [int(y) for y in results[names.YEAR].values]
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


def _summed(results: xr.Dataset, variable: str) -> xr.DataArray:
    """Abundance summed over populations (padded populations hold 0), keeping attrs."""
    da = results[variable]
    out = da.sum(names.POPULATION)
    out.attrs = dict(da.attrs)
    return out


# ---------------------------------------------------------------------------------------------------
# metric curves (thin adapters over pva.outcomes)
# ---------------------------------------------------------------------------------------------------


def extinction_curves(
    results: xr.Dataset, *, quasi: bool = False, confidence: float = 0.95
) -> xr.Dataset:
    """P(extinct by year t) per species x scenario with its interval: variables ``p``, ``low``,
    ``high`` of shape (species, scenario, year).

    With ``quasi=True``, quasi-extinction at each species' ``quasi_extinction_threshold``. Estimates
    and Wilson intervals from :func:`pva.outcomes.extinction_probability` and
    :func:`pva.outcomes.quasi_extinction_probability`.
    """
    results = check_results(results)
    total = _summed(results, names.TOTAL)
    dims = (names.SPECIES, names.SCENARIO, names.YEAR)
    if not quasi:
        est = outcomes.extinction_probability(total, confidence=confidence)
        parts = [est.estimate, est.lower, est.upper]
    else:
        if names.QUASI_EXTINCTION_THRESHOLD not in results:
            raise ValueError(
                f"results has no {names.QUASI_EXTINCTION_THRESHOLD!r} for quasi-extinction"
            )
        mature = _summed(results, names.MATURE)
        pieces: list[list[xr.DataArray]] = [[], [], []]
        for sp in results[names.SPECIES].values:
            threshold = float(results[names.QUASI_EXTINCTION_THRESHOLD].sel({names.SPECIES: sp}))
            counted = mature if quasi_extinction_on(results, str(sp)) == "mature" else total
            est = outcomes.quasi_extinction_probability(
                counted.sel({names.SPECIES: [sp]}), threshold, confidence=confidence
            )
            for piece, field in zip(pieces, (est.estimate, est.lower, est.upper), strict=True):
                piece.append(field)
        parts = [xr.concat(p, dim=names.SPECIES) for p in pieces]
        for part in parts:
            part.attrs["long_name"] = "probability of quasi-extinction by year"
    p, low, high = (part.transpose(*dims) for part in parts)
    out = xr.Dataset({"p": p, "low": low, "high": high})
    out.attrs = {"confidence": confidence, "quasi": int(quasi)}
    return out


def trajectory_quantiles(
    results: xr.Dataset,
    *,
    variable: str = names.MATURE,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> xr.DataArray:
    """Quantiles over replicates of abundance summed over populations, by year:
    shape (quantile, species, scenario, year), from :func:`pva.outcomes.quantile_bands`."""
    results = check_results(results)
    summed = _summed(results, variable)
    est = outcomes.quantile_bands(summed, list(quantiles))
    out = est.estimate.transpose(outcomes.QUANTILE, names.SPECIES, names.SCENARIO, names.YEAR)
    out.attrs = {
        "long_name": str(results[variable].attrs.get("long_name", variable)),
        "units": str(results[variable].attrs.get("units", "individuals")),
    }
    return out


# ---------------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------------


def summary_table(
    results: xr.Dataset,
    *,
    horizons: Sequence[Horizon] | None = None,
    no_action: str | None = None,
    confidence: float = 0.95,
    red_list: bool | None = None,
    assessment: xr.Dataset | None = None,
    green_status: GreenStatus | None = None,
) -> xr.Dataset:
    """Per species x scenario: extinction risk, abundance, and the Red List view of the results.

    Parameters
    ----------
    results
        A results Dataset (dims species, scenario, replicate, year, population).
    horizons
        Years since the start at which P(extinction) is reported; ``"final"`` is the last simulated
        year. Horizons beyond the simulation are dropped. Default: :func:`default_horizons`.
    no_action
        The scenario the others are compared with; default as in the module docstring.
    confidence
        Coverage of every interval, e.g. 0.95.
    red_list
        Whether to add the Red List part (:func:`pva.redlist.assess`; it needs a generation
        length for every species, see :func:`red_list_unavailable`). ``None``: add it when it can
        be computed, else record why not in the attribute ``red_list_skipped``; ``True``: raise
        :class:`ValueError` when it cannot.
    assessment
        What :func:`pva.redlist.assess` returned for ``results``, to avoid assessing twice.
    green_status
        Counterfactual scenarios and unit thresholds of the Green Status of Species; default the
        study's ``[outputs.green_status]`` (see :func:`green_status_settings`); none: no Green
        Status part.

    Returns
    -------
    xarray.Dataset
        Variables (each ``*_low``/``*_high`` is the ``confidence`` interval of its estimate):

        * ``p_extinction`` (species, scenario, horizon), probability;
        * ``p_quasi_extinction`` (species, scenario, horizon), when some species has a
          quasi-extinction threshold above 0, with ``quasi_extinction_threshold`` (species);
        * ``median_final_abundance`` (species, scenario), total individuals in the last year,
          summed over populations, with ``*_low``/``*_high`` the order-statistic interval;
        * ``expected_minimum_abundance`` (species, scenario), individuals;
        * ``total_cost`` (species, scenario) when ``annual_cost`` is recorded;
        * with ``red_list``: ``category_share`` (species, scenario, category) in the final year,
          ``rli`` (scenario) over all species jointly, ``delta_rli`` (scenario) against no action,
          each a mean over replicates with ``*_mcse`` and the normal interval of the mean in
          ``*_low``/``*_high``, and the central ``confidence`` share of replicates in
          ``*_spread_low``/``*_spread_high`` (the range of futures); ``p_rli_improved``;
          ``extinctions_prevented`` (scenario), ``p_any_prevented`` (scenario) and, with costs,
          ``incremental_cost`` and ``cost_per_extinction_prevented`` (scenario).
        * with a Green Status: ``green_score`` (species, scenario, green_year), the Species
          Recovery Score each scenario reaches in years ``short_term`` and ``long_term`` (clipped
          to the final year), and ``species_recovery_score`` plus, when their scenarios exist,
          ``conservation_legacy``, ``conservation_dependence``, ``conservation_gain`` and
          ``recovery_potential`` (species), all in percent, with ``*_mcse``, ``*_low``/``*_high``
          and ``*_spread_low``/``*_spread_high`` as for the RLI (see :func:`_add_green_status`).

        Attributes: ``no_action``, ``final_year``, ``confidence``, ``n_replicates``.
    """
    results = check_results(results)
    action0 = no_action_scenario(results, no_action)
    years = _resolve_horizons(results, default_horizons(results) if horizons is None else horizons)
    final_year = int(results[names.YEAR].values[-1])
    total = _summed(results, names.TOTAL)

    curves = extinction_curves(results, confidence=confidence).sel({names.YEAR: years})
    curves = curves.rename({names.YEAR: HORIZON})
    curves = curves.assign_coords({HORIZON: np.asarray(years)})
    prob_attrs = {"units": "1", "long_name": "probability of extinction"}
    table = xr.Dataset(
        {
            "p_extinction": curves["p"].assign_attrs(prob_attrs),
            "p_extinction_low": curves["low"].assign_attrs(prob_attrs),
            "p_extinction_high": curves["high"].assign_attrs(prob_attrs),
        }
    )
    table[HORIZON].attrs = {"units": "year", "long_name": "years since the start"}
    if names.QUASI_EXTINCTION_THRESHOLD in results and bool(
        (results[names.QUASI_EXTINCTION_THRESHOLD] > 0).any()
    ):
        quasi = extinction_curves(results, quasi=True, confidence=confidence)
        quasi = quasi.sel({names.YEAR: years}).rename({names.YEAR: HORIZON})
        quasi = quasi.assign_coords({HORIZON: np.asarray(years)})
        q_attrs = {"units": "1", "long_name": "probability of quasi-extinction"}
        table["p_quasi_extinction"] = quasi["p"].assign_attrs(q_attrs)
        table["p_quasi_extinction_low"] = quasi["low"].assign_attrs(q_attrs)
        table["p_quasi_extinction_high"] = quasi["high"].assign_attrs(q_attrs)
        table[names.QUASI_EXTINCTION_THRESHOLD] = results[names.QUASI_EXTINCTION_THRESHOLD]

    final = outcomes.final_abundance_quantiles(total, [0.5], confidence=confidence)
    abundance_attrs = {"units": "individuals", "long_name": "median final abundance"}
    for suffix, field in (("", final.estimate), ("_low", final.lower), ("_high", final.upper)):
        table[f"median_final_abundance{suffix}"] = (
            field.isel({outcomes.QUANTILE: 0}, drop=True)
            .transpose(names.SPECIES, names.SCENARIO)
            .assign_attrs(abundance_attrs)
        )
    ema = outcomes.expected_minimum_abundance(total, confidence=confidence)
    ema_attrs = {"units": "individuals", "long_name": "expected minimum abundance"}
    for suffix, field in (("", ema.estimate), ("_low", ema.lower), ("_high", ema.upper)):
        table[f"expected_minimum_abundance{suffix}"] = field.transpose(
            names.SPECIES, names.SCENARIO
        ).assign_attrs(ema_attrs)

    # the runner always writes annual_cost; all zeros means no intervention has a cost
    if names.ANNUAL_COST in results and bool((results[names.ANNUAL_COST] != 0).any()):
        cost = results[names.ANNUAL_COST].sum(names.YEAR)
        table["total_cost"] = cost.transpose(names.SPECIES, names.SCENARIO).assign_attrs(
            {
                "units": str(
                    results[names.ANNUAL_COST].attrs.get("units", "currency units")
                ).replace(" per year", ""),
                "long_name": f"total cost over years 0..{final_year}",
            }
        )

    table.attrs = {
        "no_action": action0,
        "final_year": final_year,
        "confidence": confidence,
        "n_replicates": int(results.sizes[names.REPLICATE]),
    }
    reason = red_list_unavailable(results) if assessment is None and red_list is not False else ""
    if reason and red_list:
        raise ValueError(f"cannot assess Red List categories: {reason}")
    if reason:
        table.attrs["red_list_skipped"] = reason
    elif red_list is not False:
        _add_red_list(table, results, action0, confidence=confidence, assessment=assessment)
    settings = green_status_settings(results) if green_status is None else green_status
    if settings is not None:
        _add_green_status(table, results, action0, settings, confidence=confidence)
    return table


def _add_red_list(
    table: xr.Dataset,
    results: xr.Dataset,
    no_action: str,
    *,
    confidence: float,
    assessment: xr.Dataset | None,
) -> None:
    """Add the Red List variables of :func:`summary_table` to ``table`` in place.

    Categories and the RLI come from :func:`pva.redlist.assess`; the RLI interval and ΔRLI are
    :func:`pva.redlist.rli_summary` and :func:`pva.redlist.delta_rli` (paired over replicates);
    extinctions prevented are :func:`pva.redlist.extinctions_prevented` applied to "extinct by the
    final year" from :func:`pva.outcomes.first_passage_year`, the same event as ``p_extinction``.
    """
    if assessment is None:
        assessment = redlist.assess(results)
    final = int(table.attrs["final_year"])
    scenarios = [str(s) for s in results[names.SCENARIO].values]
    categories = assessment[names.CATEGORY].sel({names.YEAR: final}, drop=True)

    share = redlist.category_distribution(categories).transpose(
        names.SPECIES, names.SCENARIO, "category"
    )
    table["category_share"] = share.assign_attrs(
        {
            "units": "1",
            "long_name": f"share of replicates in each Red List category in year {final}",
        }
    )

    rli = redlist.rli_summary(
        assessment[names.RLI].sel({names.YEAR: final}, drop=True), level=confidence
    )
    spread = f"central {confidence:.0%} of replicates"
    ci = f"{confidence:.0%} confidence interval of the mean (normal, from the MC standard error)"
    z = float(scipy.stats.norm.isf((1.0 - confidence) / 2.0))
    rli_attrs = {"units": "1", "long_name": f"Red List Index in year {final}"}
    table["rli"] = rli["mean"].assign_attrs(rli_attrs)
    table["rli_mcse"] = rli["mcse"].assign_attrs(rli_attrs)
    table["rli_low"] = (rli["mean"] - z * rli["mcse"]).assign_attrs(rli_attrs, interval=ci)
    table["rli_high"] = (rli["mean"] + z * rli["mcse"]).assign_attrs(rli_attrs, interval=ci)
    table["rli_spread_low"] = rli["lower"].assign_attrs(rli_attrs, interval=spread)
    table["rli_spread_high"] = rli["upper"].assign_attrs(rli_attrs, interval=spread)

    total = _summed(results, names.TOTAL).sel({names.YEAR: slice(None, final)})
    first = outcomes.first_passage_year(total, 0.0)
    extinct = np.isfinite(first).transpose(names.SPECIES, names.SCENARIO, names.REPLICATE)

    n = len(scenarios)
    delta = {k: np.full(n, np.nan) for k in ("mean", "mcse", "lower", "upper", "p_improved")}
    prevented = {k: np.full(n, np.nan) for k in ("expected", "mcse", "low", "high", "p_any")}
    base_categories = categories.sel({names.SCENARIO: no_action}, drop=True)
    base_extinct = extinct.sel({names.SCENARIO: no_action}).values
    for i, scenario in enumerate(scenarios):
        d = redlist.delta_rli(
            categories.sel({names.SCENARIO: scenario}, drop=True), base_categories, level=confidence
        )
        for key in delta:
            delta[key][i] = float(d[key])
        e = redlist.extinctions_prevented(
            base_extinct, extinct.sel({names.SCENARIO: scenario}).values, level=confidence
        )
        prevented["expected"][i] = e.expected
        prevented["mcse"][i] = e.mcse
        prevented["low"][i], prevented["high"][i] = e.ci
        prevented["p_any"][i] = e.p_at_least_one

    dim = (names.SCENARIO,)
    d_attrs = {"units": "1", "long_name": f"ΔRLI against {no_action!r} in year {final}"}
    table["delta_rli"] = (dim, delta["mean"], d_attrs)
    table["delta_rli_mcse"] = (dim, delta["mcse"], d_attrs)
    table["delta_rli_low"] = (dim, delta["mean"] - z * delta["mcse"], {**d_attrs, "interval": ci})
    table["delta_rli_high"] = (dim, delta["mean"] + z * delta["mcse"], {**d_attrs, "interval": ci})
    table["delta_rli_spread_low"] = (dim, delta["lower"], {**d_attrs, "interval": spread})
    table["delta_rli_spread_high"] = (dim, delta["upper"], {**d_attrs, "interval": spread})
    table["p_rli_improved"] = (
        dim,
        delta["p_improved"],
        {
            "units": "1",
            "long_name": "share of replicates in which the RLI is higher than under no action",
        },
    )
    p_attrs = {"units": "species", "long_name": "expected extinctions prevented"}
    table["extinctions_prevented"] = (dim, prevented["expected"], p_attrs)
    table["extinctions_prevented_mcse"] = (dim, prevented["mcse"], p_attrs)
    table["extinctions_prevented_low"] = (dim, prevented["low"], {**p_attrs, "interval": ci})
    table["extinctions_prevented_high"] = (dim, prevented["high"], {**p_attrs, "interval": ci})
    table["p_any_prevented"] = (
        dim,
        prevented["p_any"],
        {"units": "1", "long_name": "P(at least one extinction prevented)"},
    )
    if "total_cost" in table:
        cost = table["total_cost"].sum(names.SPECIES)
        extra = cost - cost.sel({names.SCENARIO: no_action})
        with np.errstate(divide="ignore", invalid="ignore"):
            per = extra / table["extinctions_prevented"]
        # no extinction prevented (or more extinctions): the ratio has no meaning
        per = per.where(table["extinctions_prevented"] > 0)
        table["incremental_cost"] = extra.assign_attrs(
            units=table["total_cost"].attrs["units"],
            long_name=f"cost of all species beyond that of {no_action!r}",
        )
        table["cost_per_extinction_prevented"] = per.assign_attrs(
            units=f"{table['total_cost'].attrs['units']} per species",
            long_name="incremental cost per expected extinction prevented",
        )
    if assessment.attrs.get("notes"):
        table.attrs["red_list_notes"] = str(assessment.attrs["notes"])


def green_status_settings(results: xr.Dataset) -> GreenStatus | None:
    """The study's ``[outputs.green_status]`` as a :class:`pva.study.GreenStatus` (None if unset)."""
    outputs = study_spec(results).get("outputs")
    raw = outputs.get("green_status") if isinstance(outputs, dict) else None
    return None if raw is None else GreenStatus.from_dict(raw)


def _population_k(results: xr.Dataset, species: str, exists: np.ndarray) -> np.ndarray:
    """K of the existing populations of a species: the recorded ``carrying_capacity``
    (replicate, year, population) per scenario if the results hold it, else the base K of the
    study's species table, shape (population,); ``inf`` where unlimited."""
    if names.CARRYING_CAPACITY in results:
        k = results[names.CARRYING_CAPACITY].sel({names.SPECIES: species})
        return np.asarray(k.transpose(names.SCENARIO, ...).values[..., exists], dtype=float)
    for entry in study_spec(results).get("species", []) or []:
        if isinstance(entry, dict) and entry.get("name") == species:
            # the species table's populations, in the order of the results (Species.all_populations)
            pops = entry.get("populations") or [entry]
            k = [p.get("carrying_capacity") if isinstance(p, dict) else None for p in pops]
            if len(k) != int(exists.sum()):
                raise ValueError(
                    f"species {species!r}: the study lists {len(k)} populations but the results "
                    f"hold {int(exists.sum())}"
                )
            return np.array([np.inf if v is None else float(v) for v in k])
    return np.full(int(exists.sum()), np.inf)


def _add_green_status(
    table: xr.Dataset,
    results: xr.Dataset,
    no_action: str,
    settings: GreenStatus,
    *,
    confidence: float,
) -> None:
    """Add the Green Status of Species (Akçakaya et al. 2018; IUCN Green Status standard v2.0) to
    ``table`` in place.

    Spatial units are the species' populations (padding left out through ``population_exists``);
    unit states and scores come from :func:`pva.redlist.green_status` with the thresholds of
    ``settings``. The current state is the no-action scenario in year 0. Every score is per
    replicate, paired over scenarios by common random numbers, and summarised as the RLI is
    (:func:`pva.redlist.rli_summary`: mean, Monte Carlo standard error, normal interval of the
    mean, central ``confidence`` share of replicates). Metrics whose year lies beyond the
    simulation (``short_term`` > final year) are left out, and noted in ``green_status_notes``.
    """
    final = int(table.attrs["final_year"])
    scenarios = [str(s) for s in results[names.SCENARIO].values]
    species = [str(s) for s in results[names.SPECIES].values]
    years = sorted({y for y in (settings.short_term, min(settings.long_term, final)) if y <= final})
    z = float(scipy.stats.norm.isf((1.0 - confidence) / 2.0))
    chosen = {
        "no_action": settings.no_action or no_action,
        "action": settings.action,
        "potential": settings.potential,
        "without_past_conservation": settings.without_past_conservation,
    }
    notes = []
    if settings.short_term > final:
        notes.append(
            f"short term (year {settings.short_term}) lies beyond the simulation (0..{final}): "
            "no Conservation Dependence or Gain"
        )
        chosen["action"] = ""

    score = np.full((len(species), len(scenarios), len(years), 4), np.nan)
    metrics: dict[str, np.ndarray] = {}
    for i, sp in enumerate(species):
        exists = np.asarray(
            results[names.POPULATION_EXISTS].sel({names.SPECIES: sp}).values, dtype=bool
        )
        mature = results[names.MATURE].sel({names.SPECIES: sp})
        mature = mature.transpose(names.SCENARIO, names.REPLICATE, names.YEAR, names.POPULATION)
        mature_by = {s: np.asarray(mature.values[j][..., exists]) for j, s in enumerate(scenarios)}
        k_all = _population_k(results, sp, exists)
        # an unlimited population has no K to be a fraction of: it is never functional by that
        # rule, which a K beyond any count expresses within green_status_states' finite inputs
        k_all = np.where(np.isfinite(k_all), k_all, np.finfo(float).max)

        def k_of(s: str, k_all: np.ndarray = k_all) -> np.ndarray:
            return k_all[scenarios.index(s)] if k_all.ndim == 4 else k_all

        kw = dict(settings.thresholds(sp))
        for j, sc in enumerate(scenarios):
            for y, year in enumerate(years):
                ds = redlist.green_status(
                    mature_by[sc], carrying_capacity=k_of(sc), current_year=year, **kw
                )
                score[i, j, y] = _summary4(ds["species_recovery_score"], confidence)
        base = chosen["no_action"]
        counterfactuals: dict[str, Any] = {}
        for key in ("action", "potential", "without_past_conservation"):
            if chosen[key]:
                counterfactuals[key] = mature_by[chosen[key]]
        if settings.short_term <= final:
            counterfactuals["no_action"] = mature_by[base]
        # one K for all counterfactuals: recorded K differs only through the scenarios' actions
        ds = redlist.green_status(
            mature_by[base],
            carrying_capacity=k_of(base),
            short_term=settings.short_term,
            long_term=settings.long_term,
            **counterfactuals,
            **kw,
        )
        for var in ds.data_vars:
            metrics.setdefault(str(var), np.full((len(species), 4), np.nan))[i] = _summary4(
                ds[var], confidence
            )

    g_attrs = {"units": "percent", "long_name": "Species Recovery Score (Green Score)"}
    spread = f"central {confidence:.0%} of replicates"
    ci = f"{confidence:.0%} confidence interval of the mean (normal, from the MC standard error)"
    dims = (names.SPECIES, names.SCENARIO, "green_year")
    table.coords["green_year"] = ("green_year", np.asarray(years), {"units": "year"})
    for suffix, col, extra in (("", 0, {}), ("_mcse", 1, {}), ("_spread_low", 2, {"interval": spread}),
                               ("_spread_high", 3, {"interval": spread})):  # fmt: skip
        table[f"green_score{suffix}"] = (dims, score[..., col], {**g_attrs, **extra})
    table["green_score_low"] = (
        dims,
        score[..., 0] - z * score[..., 1],
        {**g_attrs, "interval": ci},
    )
    table["green_score_high"] = (
        dims,
        score[..., 0] + z * score[..., 1],
        {**g_attrs, "interval": ci},
    )
    long_names = {
        "species_recovery_score": "current Species Recovery Score (no action, year 0)",
        "conservation_legacy": f"Conservation Legacy (vs {chosen['without_past_conservation']!r})",
        "conservation_dependence": f"Conservation Dependence (vs {chosen['no_action']!r})",
        "conservation_gain": f"Conservation Gain ({chosen['action']!r})",
        "recovery_potential": f"Recovery Potential ({chosen['potential']!r})",
    }
    for var, m in metrics.items():
        attrs = {"units": "percent", "long_name": long_names[var]}
        table[var] = ((names.SPECIES,), m[:, 0], attrs)
        table[f"{var}_mcse"] = ((names.SPECIES,), m[:, 1], attrs)
        table[f"{var}_low"] = ((names.SPECIES,), m[:, 0] - z * m[:, 1], {**attrs, "interval": ci})
        table[f"{var}_high"] = ((names.SPECIES,), m[:, 0] + z * m[:, 1], {**attrs, "interval": ci})
        table[f"{var}_spread_low"] = ((names.SPECIES,), m[:, 2], {**attrs, "interval": spread})
        table[f"{var}_spread_high"] = ((names.SPECIES,), m[:, 3], {**attrs, "interval": spread})
    table.attrs["green_status"] = json.dumps({**settings.to_dict(), **chosen}, sort_keys=True)
    if notes:
        table.attrs["green_status_notes"] = "; ".join(notes)


def _summary4(per_replicate: xr.DataArray, confidence: float) -> list[float]:
    """Mean, MCSE and central interval over replicates (:func:`pva.redlist.rli_summary`)."""
    s = redlist.rli_summary(per_replicate, level=confidence)
    return [float(s[k]) for k in ("mean", "mcse", "lower", "upper")]


# ---------------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------------


def _fmt_p(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.2f}" if value not in (0.0, 1.0) else f"{value:.0f}"


def _fmt_n(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if abs(value) >= 10 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.1f}"


def _fmt_money(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:,.0f}"


def _with_interval(value: float, low: float, high: float, fmt: Any) -> str:
    lower, upper = fmt(low), fmt(high)
    # an en dash between negative numbers reads as a minus sign: "-30 to -29", not "-30–-29"
    joiner = " to " if lower.startswith("-") or upper.startswith("-") else "–"
    return f"{fmt(value)} ({lower}{joiner}{upper})"


def species_rows(table: xr.Dataset, species: str) -> tuple[list[str], list[list[str]]]:
    """The comparison of one species as ``(header, rows)``: metrics down, scenarios across."""
    scenarios = [str(s) for s in table[names.SCENARIO].values]
    t = table.sel({names.SPECIES: species})
    header = ["", *scenarios]
    rows: list[list[str]] = []
    for h in table[HORIZON].values:
        label = f"P(extinct by year {int(h)})"
        rows.append(
            [label]
            + [
                _with_interval(
                    *(
                        float(t[v].sel({names.SCENARIO: s, HORIZON: h}))
                        for v in ("p_extinction", "p_extinction_low", "p_extinction_high")
                    ),
                    _fmt_p,
                )
                for s in scenarios
            ]
        )
    if "p_quasi_extinction" in t and float(t[names.QUASI_EXTINCTION_THRESHOLD]) > 0:
        threshold = float(t[names.QUASI_EXTINCTION_THRESHOLD])
        h = int(table[HORIZON].values[-1])
        rows.append(
            [f"P(≤ {threshold:g} individuals by year {h})"]
            + [
                _with_interval(
                    *(
                        float(t[v].sel({names.SCENARIO: s, HORIZON: h}))
                        for v in (
                            "p_quasi_extinction",
                            "p_quasi_extinction_low",
                            "p_quasi_extinction_high",
                        )
                    ),
                    _fmt_p,
                )
                for s in scenarios
            ]
        )
    for var, label in (
        ("median_final_abundance", f"median abundance in year {table.attrs['final_year']}"),
        ("expected_minimum_abundance", "expected minimum abundance"),
    ):
        rows.append(
            [label]
            + [
                _with_interval(
                    *(
                        float(t[v].sel({names.SCENARIO: s}))
                        for v in (var, f"{var}_low", f"{var}_high")
                    ),
                    _fmt_n,
                )
                for s in scenarios
            ]
        )
    if "category_share" in t:
        shares = t["category_share"]
        cells = []
        for s in scenarios:
            row = shares.sel({names.SCENARIO: s})
            parts = [
                f"{c} {100 * float(v):.0f}%"
                for c, v in zip(row["category"].values, row.values, strict=True)
                if float(v) > 0
            ]
            cells.append(", ".join(parts) or "–")
        rows.append([f"Red List category in year {table.attrs['final_year']}", *cells])
    rows.extend(_green_rows(table, t, scenarios))
    if "total_cost" in t:
        rows.append(
            [str(t["total_cost"].attrs["long_name"])]
            + [_fmt_money(float(t["total_cost"].sel({names.SCENARIO: s}))) for s in scenarios]
        )
    return header, rows


_GREEN_METRICS = (
    ("species_recovery_score", "Species Recovery Score now (%)", "no_action"),
    ("conservation_legacy", "Conservation Legacy (points)", "without_past_conservation"),
    ("conservation_dependence", "Conservation Dependence (points)", "no_action"),
    ("conservation_gain", "Conservation Gain (points)", "action"),
    ("recovery_potential", "Recovery Potential (points)", "potential"),
)
"""Green Status metrics, their row labels and the scenario whose column shows them."""


def _green_rows(table: xr.Dataset, t: xr.Dataset, scenarios: list[str]) -> list[list[str]]:
    """Green Status rows of one species: Green Scores by year per scenario, then each metric in the
    column of the scenario it is computed from."""
    if "green_score" not in t:
        return []
    rows: list[list[str]] = []

    def fmt(v: float) -> str:
        return f"{v:.0f}" if math.isfinite(v) else "–"

    def signed(v: float) -> str:
        return f"{v:+.0f}" if math.isfinite(v) else "–"

    for year in table["green_year"].values:
        cells = []
        for sc in scenarios:
            at = t.sel({names.SCENARIO: sc, "green_year": year})
            cells.append(
                _with_interval(
                    *(float(at[v]) for v in ("green_score", "green_score_low", "green_score_high")),
                    fmt,
                )
            )
        rows.append([f"Green Score in year {int(year)} (%)", *cells])
    chosen = json.loads(table.attrs.get("green_status", "{}"))
    for var, label, role in _GREEN_METRICS:
        if var not in t:
            continue
        value = _with_interval(
            *(float(t[v]) for v in (var, f"{var}_low", f"{var}_high")),
            fmt if var == "species_recovery_score" else signed,
        )
        rows.append([label, *(value if sc == chosen.get(role) else "–" for sc in scenarios)])
    return rows


def green_status_rows(table: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """The Green Status metrics of every species as ``(header, rows)``: species down, the current
    Species Recovery Score and the conservation metrics across; empty without a Green Status."""
    present = [(v, label) for v, label, _ in _GREEN_METRICS if v in table]
    if "green_score" not in table or not present:
        return [], []
    rows = []
    for sp in table[names.SPECIES].values:
        t = table.sel({names.SPECIES: sp})
        cells = []
        for var, _ in present:
            v = [float(t[n]) for n in (var, f"{var}_low", f"{var}_high")]
            sign = "" if var == "species_recovery_score" else "+"
            cells.append(
                _with_interval(*v, lambda x, s=sign: f"{x:{s}.0f}" if math.isfinite(x) else "–")
            )
        rows.append([str(sp), *cells])
    return ["", *(label for _, label in present)], rows


def study_rows(table: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """The all-species comparison (Red List Index, extinctions prevented, cost) as ``(header, rows)``;
    empty when the table has no Red List part."""
    if "rli" not in table:
        return [], []
    scenarios = [str(s) for s in table[names.SCENARIO].values]
    no_action = table.attrs["no_action"]
    year = table.attrs["final_year"]

    def cell(var: str, s: str, fmt: Any) -> str:
        v = [float(table[n].sel({names.SCENARIO: s})) for n in (var, f"{var}_low", f"{var}_high")]
        return _with_interval(*v, fmt)

    def signed(value: float) -> str:
        return f"{value:+.3f}" if math.isfinite(value) else "–"

    rows = [
        [
            f"Red List Index in year {year}",
            *(cell("rli", s, lambda v: f"{v:.3f}") for s in scenarios),
        ],
        [
            f"ΔRLI vs {no_action!r} (paired)",
            *(cell("delta_rli", s, signed) if s != no_action else "–" for s in scenarios),
        ],
        [
            f"extinctions prevented vs {no_action!r}",
            *(
                cell("extinctions_prevented", s, _fmt_p) if s != no_action else "–"
                for s in scenarios
            ),
        ],
        [
            "P(at least one extinction prevented)",
            *(
                _fmt_p(float(table["p_any_prevented"].sel({names.SCENARIO: s})))
                if s != no_action
                else "–"
                for s in scenarios
            ),
        ],
    ]
    if "cost_per_extinction_prevented" in table:
        rows.append(
            [
                "cost per extinction prevented",
                *(
                    _fmt_money(
                        float(table["cost_per_extinction_prevented"].sel({names.SCENARIO: s}))
                    )
                    if s != no_action
                    else "–"
                    for s in scenarios
                ),
            ]
        )
    return ["", *scenarios], rows


def render_rows(header: Sequence[str], rows: Sequence[Sequence[str]], style: TableStyle) -> str:
    """Render a header and rows of cells as aligned text, a Markdown table or an HTML table."""
    if style == "text":
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(
                (c.ljust(w) if i == 0 else c.rjust(w))
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
            for r in [header, *rows]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)
    if style == "markdown":

        def md(r: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"

        return "\n".join([md(header), "|" + "|".join(["---", *["---:"] * (len(header) - 1)]) + "|"]
                         + [md(r) for r in rows])  # fmt: skip
    if style == "html":
        head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in header)
        body = "".join(
            "<tr>"
            + f'<th scope="row">{html.escape(r[0])}</th>'
            + "".join(f"<td>{html.escape(c)}</td>" for c in r[1:])
            + "</tr>"
            for r in rows
        )
        return f'<table class="summary"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    raise ValueError(f"style must be 'text', 'markdown' or 'html'; got {style!r}")


def format_table(table: xr.Dataset, *, style: TableStyle = "text") -> str:
    """The whole summary table as text, Markdown or HTML: one block per species, then the
    all-species Red List comparison. Intervals are shown in parentheses."""
    blocks: list[str] = []
    confidence = float(table.attrs.get("confidence", 0.95))
    note = (
        f"{table.attrs['n_replicates']} replicates; {confidence:.0%} intervals in parentheses; "
        f"comparisons against {table.attrs['no_action']!r}"
    )
    for sp in table[names.SPECIES].values:
        header, rows = species_rows(table, str(sp))
        blocks.append(_titled(str(sp), render_rows(header, rows, style), style))
    header, rows = study_rows(table)
    if rows:
        blocks.append(_titled("All species", render_rows(header, rows, style), style))
    if table.attrs.get("red_list_skipped"):
        note += f"; Red List part skipped: {table.attrs['red_list_skipped']}"
    blocks.append(html.escape(note) if style == "html" else note)
    return "\n\n".join(blocks) + "\n"


def _titled(title: str, body: str, style: TableStyle) -> str:
    if style == "markdown":
        return f"### {title}\n\n{body}"
    if style == "html":
        return f"<h3>{html.escape(title)}</h3>\n{body}"
    return f"{title}\n{body}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def table_to_json(table: xr.Dataset) -> str:
    """The summary table as a JSON document: attrs, coordinates and every variable as nested lists
    (dims listed beside the data); non-finite numbers become ``null``."""
    doc: dict[str, Any] = {"attrs": dict(table.attrs), "coords": {}, "variables": {}}
    for dim in table.dims:
        doc["coords"][str(dim)] = table[dim].values.tolist()
    for name, var in table.data_vars.items():
        doc["variables"][str(name)] = {
            "dims": [str(d) for d in var.dims],
            "attrs": dict(var.attrs),
            "data": var.values.tolist(),
        }
    return json.dumps(_jsonable(doc), indent=1, ensure_ascii=False)
