"""The numbers of a summary: per species and scenario, as :class:`xarray.Dataset` tables.

Nothing is estimated here: every number comes from :mod:`pva.outcomes` or :mod:`pva.redlist`; this
module selects and aligns them (formatting is :mod:`pva.summary.formatting`). Every function takes
a results Dataset of ``pva run`` or of :func:`pva.simulate` (a study of one species and one
scenario; see :func:`pva.results.study_layout`) and returns tables with ``species`` and
``scenario`` dims.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import scipy.stats
import xarray as xr

from pva import outcomes, redlist, results
from pva.results import LOWER_SUFFIX, MCSE_SUFFIX, UPPER_SUFFIX
from pva.summary import green

Horizon = int | Literal["final"]
DEFAULT_HORIZONS: tuple[Horizon, ...] = (10, 20, 50, "final")
"""Years at which extinction probabilities are reported; ``"final"`` is the last simulated year."""

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


def _z(confidence: float) -> float:
    return float(scipy.stats.norm.isf((1.0 - confidence) / 2.0))


def _interval_note(confidence: float) -> str:
    return f"{confidence:.0%} confidence interval of the mean (normal, from the MC standard error)"


def _spread_note(confidence: float) -> str:
    return f"central {confidence:.0%} of replicates"


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
    total = _summed(ds, results.TOTAL)
    dims = (results.SPECIES, results.SCENARIO, results.YEAR)
    if not quasi:
        name, long_name = results.P_EXTINCTION, "probability of extinction by year"
        est = outcomes.extinction_probability(total, confidence=confidence)
        parts = [est.estimate, est.lower, est.upper]
    else:
        name, long_name = results.P_QUASI_EXTINCTION, "probability of quasi-extinction by year"
        mature = _summed(ds, results.MATURE)
        settings = results.provenance(ds).quasi_extinction
        pieces: list[list[xr.DataArray]] = [[], [], []]
        for sp in results.names_of(ds, results.SPECIES):
            setting = settings[sp]
            counted = mature if setting.on == "mature" else total
            est = outcomes.quasi_extinction_probability(
                counted.sel({results.SPECIES: [sp]}), setting.threshold, confidence=confidence
            )
            for piece, field in zip(pieces, (est.estimate, est.lower, est.upper), strict=True):
                piece.append(field)
        parts = [xr.concat(p, dim=results.SPECIES) for p in pieces]
    p, lower, upper = (part.transpose(*dims).assign_attrs(long_name=long_name) for part in parts)
    out = xr.Dataset({name: p, name + LOWER_SUFFIX: lower, name + UPPER_SUFFIX: upper})
    out.attrs = {"confidence": confidence, "quasi": int(quasi)}
    return out


def trajectory_quantiles(
    ds: xr.Dataset,
    *,
    variable: str = results.MATURE,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> xr.DataArray:
    """Quantiles over replicates of abundance summed over populations, by year:
    shape (quantile, species, scenario, year), from :func:`pva.outcomes.quantile_bands`."""
    ds = check_results(ds)
    summed = _summed(ds, variable)
    est = outcomes.quantile_bands(summed, list(quantiles))
    out = est.estimate.transpose(results.QUANTILE, results.SPECIES, results.SCENARIO, results.YEAR)
    out.attrs = {
        "long_name": str(ds[variable].attrs.get("long_name", variable)),
        "units": str(ds[variable].attrs.get("units", "individuals")),
    }
    return out


def run_overview(ds: xr.Dataset) -> xr.Dataset:
    """What ``pva run`` prints: per species x scenario, the probability of extinction by the final
    year (:func:`extinction_curves`) and the median total abundance in the final year
    (:func:`pva.outcomes.final_abundance_quantiles`), shape (species, scenario)."""
    ds = check_results(ds)
    final = extinction_curves(ds).isel({results.YEAR: -1})
    median = outcomes.final_abundance_quantiles(_summed(ds, results.TOTAL), [0.5])
    out = xr.Dataset(
        {
            results.P_EXTINCTION: final[results.P_EXTINCTION],
            results.MEDIAN_FINAL_ABUNDANCE: median.estimate.isel(
                {results.QUANTILE: 0}, drop=True
            ).transpose(results.SPECIES, results.SCENARIO),
        }
    )
    out.attrs = {"final_year": int(ds[results.YEAR].values[-1])}
    return out


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
) -> xr.Dataset:
    """Per species x scenario: extinction risk, abundance, and the Red List view of the results.

    Parameters
    ----------
    ds
        A results Dataset of ``pva run`` (dims species, scenario, replicate, year, population) or
        of :func:`pva.simulate` (a study of one species and one scenario).
    horizons
        Years since the start at which P(extinction) is reported; ``"final"`` is the last simulated
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

    Returns
    -------
    xarray.Dataset
        Variables (each ``*_lower``/``*_upper`` is the ``confidence`` interval of its estimate):

        * ``p_extinction`` (species, scenario, horizon), probability;
        * ``p_quasi_extinction`` (species, scenario, horizon), when some species has a
          quasi-extinction threshold above 0, with ``quasi_extinction_threshold`` (species);
        * ``median_final_abundance`` (species, scenario), total individuals in the last year,
          summed over populations, with ``*_lower``/``*_upper`` the order-statistic interval;
        * ``expected_minimum_abundance`` (species, scenario), individuals;
        * ``total_cost`` (species, scenario) when ``annual_cost`` is recorded;
        * with ``red_list``: ``category_share`` (species, scenario, category) in the final year,
          ``rli`` (scenario) over all species jointly, ``delta_rli`` (scenario) against no action,
          each a mean over replicates with ``*_mcse`` and the normal interval of the mean in
          ``*_lower``/``*_upper``, and the central ``confidence`` share of replicates in
          ``*_spread_lower``/``*_spread_upper`` (the range of futures); ``p_rli_improved``;
          ``extinctions_prevented`` (scenario), ``p_any_prevented`` (scenario) and, with costs,
          ``incremental_cost`` and ``cost_per_extinction_prevented`` (scenario).
        * with a Green Status: ``green_score`` (species, scenario, green_year) and the conservation
          metrics (species), see :func:`pva.summary.green.add_green_status`.

        Attributes: ``no_action``, ``final_year``, ``confidence``, ``n_replicates``.
    """
    ds = check_results(ds)
    action0 = results.no_action_scenario(ds, no_action)
    years = _resolve_horizons(ds, default_horizons(ds) if horizons is None else horizons)
    final_year = int(ds[results.YEAR].values[-1])
    table = _extinction_at_horizons(ds, years, confidence)
    _add_abundance(table, ds, confidence)
    _add_cost(table, ds, final_year)
    table.attrs = {
        "no_action": action0,
        "final_year": final_year,
        "confidence": confidence,
        "n_replicates": int(ds.sizes[results.REPLICATE]),
    }
    reason = red_list_unavailable(ds) if assessment is None and red_list is not False else ""
    if reason and red_list:
        raise ValueError(f"cannot assess Red List categories: {reason}")
    if reason:
        table.attrs["red_list_skipped"] = reason
    elif red_list is not False:
        _add_red_list(table, ds, action0, confidence=confidence, assessment=assessment)
    settings = green.green_status_settings(ds) if green_status is None else green_status
    if settings is not None:
        green.add_green_status(table, ds, action0, settings, confidence=confidence)
    return table


def _at_horizons(curves: xr.Dataset, years: list[int]) -> xr.Dataset:
    """Extinction curves at the horizons (dim ``horizon`` instead of ``year``)."""
    out = curves.sel({results.YEAR: years}).rename({results.YEAR: results.HORIZON})
    return out.assign_coords({results.HORIZON: np.asarray(years)})


def _extinction_at_horizons(ds: xr.Dataset, years: list[int], confidence: float) -> xr.Dataset:
    """``p_extinction`` and (when some threshold is above 0) ``p_quasi_extinction`` with their
    intervals at the horizons."""
    table = xr.Dataset()
    curves = _at_horizons(extinction_curves(ds, confidence=confidence), years)
    for suffix in ("", LOWER_SUFFIX, UPPER_SUFFIX):
        name = results.P_EXTINCTION + suffix
        table[name] = curves[name].assign_attrs(results.VARIABLE_ATTRS[results.P_EXTINCTION])
    table[results.HORIZON].attrs = dict(results.VARIABLE_ATTRS[results.HORIZON])
    settings = results.provenance(ds).quasi_extinction
    thresholds = [settings[sp].threshold for sp in results.names_of(ds, results.SPECIES)]
    if any(t > 0 for t in thresholds):
        quasi = _at_horizons(extinction_curves(ds, quasi=True, confidence=confidence), years)
        attrs = results.VARIABLE_ATTRS[results.P_QUASI_EXTINCTION]
        for suffix in ("", LOWER_SUFFIX, UPPER_SUFFIX):
            name = results.P_QUASI_EXTINCTION + suffix
            table[name] = quasi[name].assign_attrs(attrs)
        table[results.QUASI_EXTINCTION_THRESHOLD] = results.variable(
            results.QUASI_EXTINCTION_THRESHOLD, (results.SPECIES,), np.asarray(thresholds)
        )
    return table


def _add_abundance(table: xr.Dataset, ds: xr.Dataset, confidence: float) -> None:
    """Median final total abundance and the expected minimum abundance, with intervals."""
    total = _summed(ds, results.TOTAL)
    final = outcomes.final_abundance_quantiles(total, [0.5], confidence=confidence)
    ema = outcomes.expected_minimum_abundance(total, confidence=confidence)
    pairs = (
        (results.MEDIAN_FINAL_ABUNDANCE, final, {"drop": True}),
        (results.EXPECTED_MINIMUM, ema, None),
    )
    for name, est, quantile in pairs:
        attrs = results.VARIABLE_ATTRS[name]
        for suffix, field in (
            ("", est.estimate),
            (LOWER_SUFFIX, est.lower),
            (UPPER_SUFFIX, est.upper),
        ):
            if quantile is not None:
                field = field.isel({results.QUANTILE: 0}, drop=True)
            table[name + suffix] = field.transpose(results.SPECIES, results.SCENARIO).assign_attrs(
                attrs
            )


def _add_cost(table: xr.Dataset, ds: xr.Dataset, final_year: int) -> None:
    """``total_cost`` over the simulated years, unless no intervention has a cost (the runner
    always writes ``annual_cost``; all zeros means none)."""
    if results.ANNUAL_COST not in ds or not bool((ds[results.ANNUAL_COST] != 0).any()):
        return
    cost = ds[results.ANNUAL_COST].sum(results.YEAR)
    table[results.TOTAL_COST] = cost.transpose(results.SPECIES, results.SCENARIO).assign_attrs(
        {
            "units": results.provenance(ds).currency,
            "long_name": f"total cost over years 0..{final_year}",
        }
    )


def _add_red_list(
    table: xr.Dataset,
    ds: xr.Dataset,
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
        assessment = redlist.assess(ds)
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
    _add_paired_comparisons(table, ds, categories, no_action, final, confidence)
    if results.TOTAL_COST in table:
        _add_cost_effectiveness(table, no_action)
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
    z = _z(confidence)
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
    ds: xr.Dataset,
    categories: xr.DataArray,
    no_action: str,
    final: int,
    confidence: float,
) -> None:
    """ΔRLI and extinctions prevented against ``no_action``, paired over replicates."""
    scenarios = results.names_of(ds, results.SCENARIO)
    total = _summed(ds, results.TOTAL).sel({results.YEAR: slice(None, final)})
    first = outcomes.first_passage_year(total, 0.0)
    extinct = np.isfinite(first).transpose(results.SPECIES, results.SCENARIO, results.REPLICATE)
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
    attrs = results.VARIABLE_ATTRS[results.EXTINCTIONS_PREVENTED]
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


def _add_cost_effectiveness(table: xr.Dataset, no_action: str) -> None:
    """Cost beyond no action and the cost per expected extinction prevented."""
    cost = table[results.TOTAL_COST].sum(results.SPECIES)
    extra = cost - cost.sel({results.SCENARIO: no_action})
    prevented = table[results.EXTINCTIONS_PREVENTED]
    with np.errstate(divide="ignore", invalid="ignore"):
        per = extra / prevented
    # no extinction prevented (or more extinctions): the ratio has no meaning
    per = per.where(prevented > 0)
    units = table[results.TOTAL_COST].attrs["units"]
    table[results.INCREMENTAL_COST] = extra.assign_attrs(
        units=units, long_name=f"cost of all species beyond that of {no_action!r}"
    )
    table[results.COST_PER_EXTINCTION_PREVENTED] = per.assign_attrs(
        units=f"{units} per species",
        long_name=results.VARIABLE_ATTRS[results.COST_PER_EXTINCTION_PREVENTED]["long_name"],
    )
