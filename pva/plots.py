"""Figures of a results Dataset: extinction risk, trajectories, Red List categories and the RLI.

Every function takes the results Dataset (of ``pva run`` or :func:`pva.simulate`; and, to avoid
recomputation, optionally what :mod:`pva.summary` or :func:`pva.redlist.assess` already computed
from it) and returns a
:class:`matplotlib.figure.Figure`. Figures are built on matplotlib's object API with the Agg canvas,
never through ``pyplot``: no global figure registry, no display needed, nothing to close. matplotlib is
imported only when a figure is made, so ``import pva`` stays quick.

Axis labels come from the ``long_name`` and ``units`` attributes of what is plotted (as CF and
xarray's ``label_from_attrs`` do). Intervals are the ones :mod:`pva.outcomes` and :mod:`pva.redlist`
compute; nothing here estimates anything.
"""

from __future__ import annotations

import importlib
import json
import pickle
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from pva import io, measures, outcomes, redlist, summary
from pva import results as names

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles of the fan chart: the median and the central 50% and 90% bands."""

CATEGORY_COLOURS = {
    "LC": "#60c659",
    "NT": "#cce226",
    "VU": "#f9e814",
    "EN": "#fc7f3f",
    "CR": "#d81e05",
    "EW": "#542344",
    "EX": "#000000",
    "DD": "#d1d1c6",
    "NE": "#ffffff",
}
"""The colours the IUCN Red List uses for its categories."""

_WIDTH = 7.0  # inches: a figure fills the width of an A4 page or a report column at 100 dpi


def require_matplotlib() -> type[Figure]:
    """matplotlib's Figure class; raises :class:`ImportError` with the install hint when
    matplotlib is missing (call it to fail early, before any work)."""
    try:
        figure_module = importlib.import_module("matplotlib.figure")
        importlib.import_module("matplotlib.backends.backend_agg")
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency of pva
        raise ImportError(
            "pva figures need matplotlib, a dependency of pva that is missing here: reinstall pva "
            "(from a checkout: `python3 -m pip install .`) or `python3 -m pip install matplotlib`"
        ) from exc
    return figure_module.Figure  # type: ignore[no-any-return]


def _new_figure(
    n_panels: int = 1, *, height: float = 3.2, sharey: bool = True, sharex: bool = True
) -> tuple[Figure, list[Axes]]:
    """A figure with ``n_panels`` axes side by side, on the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure_cls = require_matplotlib()
    n_cols = min(n_panels, 3)
    n_rows = -(-n_panels // n_cols)
    width = _WIDTH if n_cols > 1 else _WIDTH * 0.8
    fig = figure_cls(figsize=(width, height * n_rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=sharex, sharey=sharey).ravel()
    for extra in axes[n_panels:]:
        extra.set_visible(False)
    return fig, list(axes[:n_panels])


def _set_xlabel(fig: Figure, axes: Sequence[Axes], label: str) -> None:
    """One x label for the figure when panels sit side by side, else on the single axes."""
    if len(axes) > 1:
        fig.supxlabel(label, fontsize="medium")
    else:
        axes[0].set_xlabel(label)


def axis_label(da: xr.DataArray | xr.Variable, default: str = "") -> str:
    """``"long_name [units]"`` from a variable's attributes (units omitted when dimensionless)."""
    name = str(da.attrs.get("long_name", default or getattr(da, "name", "") or ""))
    units = str(da.attrs.get("units", ""))
    if units and units != "1":
        return f"{name} [{units}]" if name else f"[{units}]"
    return name


def scenario_colours(scenarios: Iterable[object]) -> dict[str, Any]:
    """One colour per scenario, the same in every figure (matplotlib's tab10 cycle, in order)."""
    palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]  # fmt: skip
    return {str(s): palette[i % len(palette)] for i, s in enumerate(scenarios)}


def _species_list(results: xr.Dataset, species: str | Sequence[str] | None) -> list[str]:
    known = names.names_of(results, names.SPECIES)
    if species is None:
        return known
    chosen = [species] if isinstance(species, str) else [str(s) for s in species]
    for name in chosen:
        if name not in known:
            raise ValueError(f"species {name!r} is not in the results; known: {known!r}")
    return chosen


def _scenario_list(results: xr.Dataset) -> list[str]:
    return names.names_of(results, names.SCENARIO)


def _error_bar(estimate: float, lower: float, upper: float) -> list[list[float]]:
    """Error-bar half-widths for matplotlib, never negative.

    An estimate of exactly 0 or 1 can lie a rounding error outside its own interval, and
    matplotlib refuses negative error bars.
    """
    return [[max(0.0, estimate - lower)], [max(0.0, upper - estimate)]]


def plot_extinction_cdf(
    results: xr.Dataset,
    *,
    species: str | Sequence[str] | None = None,
    quasi: bool | None = None,
    confidence: float = 0.95,
    curves: xr.Dataset | None = None,
) -> Figure:
    """Each species' risk by year: the probability of its risk event (the study's
    quasi-extinction threshold on what it counts, :mod:`pva.measures`) as a line with its interval
    band per scenario, and absolute extinction (no individuals of any stage) as a dashed line
    beside it.

    One panel per species. ``quasi=True`` draws the risk measure alone, ``quasi=False`` absolute
    extinction alone, ``None`` (default) both. The curves and their ``confidence`` intervals come
    from :func:`pva.summary.extinction_curves` (pass ``curves`` to reuse one of them).
    """
    results = summary.check_results(results)
    wanted = [True, False] if quasi is None else [bool(quasi)]
    given = {bool(curves.attrs.get("quasi")): curves} if curves is not None else {}
    sets = {
        q: given[q]
        if q in given
        else summary.extinction_curves(results, quasi=q, confidence=confidence)
        for q in wanted
    }
    chosen = _species_list(results, species)
    colours = scenario_colours(_scenario_list(results))
    fig, axes = _new_figure(len(chosen))
    risk = measures.risk_measures(results, species=chosen)
    for ax, sp in zip(axes, chosen, strict=True):
        # a measure that is absolute extinction itself is drawn once
        shown = [q for q in wanted if not (q and False in sets and risk[sp].is_extinction)]
        for q in shown:
            _draw_curves(ax, sets[q], sp, colours, quasi=q, band=len(shown) == 1 or q)
        title = sp if len(chosen) > 1 else f"{sp}: risk by year"
        ax.set_title(title, fontsize="medium")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    years = next(iter(sets.values()))[names.YEAR]
    _set_xlabel(fig, axes, axis_label(years))
    axes[0].set_ylabel("probability by year")
    handles = _scenario_handles(colours)
    styles = _style_handles(chosen, risk, wanted)
    axes[0].legend(
        handles=handles + styles,
        loc="best",
        fontsize="small",
        title=f"scenario ({confidence:.0%} band)",
    )
    return fig


def _draw_curves(
    ax: Axes, curves: xr.Dataset, sp: str, colours: dict[str, Any], *, quasi: bool, band: bool
) -> None:
    p = names.P_QUASI_EXTINCTION if quasi else names.P_EXTINCTION
    years = curves[names.YEAR].values
    for scenario, colour in colours.items():
        sel = curves.sel({names.SPECIES: sp, names.SCENARIO: scenario})
        if band:
            ax.fill_between(
                years, sel[p + names.LOWER_SUFFIX].values, sel[p + names.UPPER_SUFFIX].values,
                color=colour, alpha=0.2, linewidth=0,
            )  # fmt: skip
        label = scenario if quasi else f"{scenario} (extinct)"
        ax.plot(years, sel[p].values, color=colour, linestyle="-" if quasi else "--", label=label)


def _scenario_handles(colours: dict[str, Any]) -> list[Any]:
    from matplotlib.lines import Line2D

    return [Line2D([], [], color=c, label=s) for s, c in colours.items()]


def _style_handles(
    chosen: Sequence[str], risk: dict[str, measures.RiskMeasure], wanted: Sequence[bool]
) -> list[Any]:
    """Legend entries for the line styles: the risk measure (solid) and extinction (dashed)."""
    from matplotlib.lines import Line2D

    out = []
    if True in wanted and not all(risk[sp].is_extinction for sp in chosen):
        events = {risk[sp].event for sp in chosen}
        label = events.pop() if len(events) == 1 else "each species' risk measure"
        out.append(Line2D([], [], color="black", linestyle="-", label=label))
    if False in wanted:
        out.append(Line2D([], [], color="black", linestyle="--", label="extinct (no individuals)"))
    return out


def plot_fan_chart(
    results: xr.Dataset,
    *,
    species: str,
    variable: str | None = None,
    quantiles: xr.DataArray | None = None,
    log: bool | None = None,
    threshold: bool = True,
) -> Figure:
    """Fan chart of one species' abundance summed over populations, every scenario overlaid in
    one panel: the median line, the central 50% of replicates shaded and the central 90% lightly.

    Abundance is counted as the species' abundance figures are (mature individuals for a species
    with mature stages, :func:`pva.measures.abundance_count`) unless ``variable`` names
    ``mature_abundance`` or ``total_abundance``. ``log``: a logarithmic y axis (symmetric log, so
    that 0 stays on it); ``None`` chooses it when the 95% quantile exceeds 100 individuals.
    ``threshold``: draw the species' quasi-extinction threshold as a horizontal line when it
    counts what the chart counts. Quantiles come from :func:`pva.summary.trajectory_quantiles`
    (pass ``quantiles`` to reuse them).
    """
    results = summary.check_results(results)
    (sp,) = _species_list(results, species)
    if quantiles is None:
        quantiles = summary.trajectory_quantiles(
            results, variable=variable, quantiles=FAN_QUANTILES
        )
    counted = _counts_of(quantiles, results, sp)
    q = quantiles.sel({names.SPECIES: sp})
    fig, (ax,) = _new_figure(1, height=3.4)
    line = fan_threshold(results, species=sp, quantiles=quantiles) if threshold else None
    _draw_fan(ax, q, scenario_colours(_scenario_list(results)), log=log, threshold=line)
    ax.set_xlabel(axis_label(q[names.YEAR]))
    ax.set_ylabel(f"{counted.label} [individuals]")
    ax.set_title(f"{sp}: {counted.noun} by year", fontsize="medium")
    ax.legend(loc="best", fontsize="small", title="median; 50% and 90% of replicates")
    return fig


def fan_threshold(
    results: xr.Dataset,
    *,
    species: str,
    quantiles: xr.DataArray | None = None,
    count: measures.Count | None = None,
) -> float | None:
    """The quasi-extinction threshold that a fan chart of ``species`` draws as a dotted line, or
    None when it draws none: the line is drawn only when the species' risk measure counts what
    the chart counts (as ``quantiles`` say, else ``count``, else the species' abundance figures),
    since a threshold of mature individuals is no mark on a chart of all individuals. Captions
    use it to say what is drawn."""
    counted = (
        _counts_of(quantiles, results, species)
        if quantiles is not None
        else measures.abundance_count(results, species, count)
    )
    measure = measures.risk_measure(results, species)
    return measure.threshold if measure.counted.on == counted.on else None


def _counts_of(quantiles: xr.DataArray, results: xr.Dataset, species: str) -> measures.Counted:
    """What the quantiles of ``species`` count (from their ``counts`` attribute, else the
    species' default count)."""
    labels = json.loads(quantiles.attrs.get("counts", "null") or "null")
    if labels is None:
        return measures.abundance_count(results, species)
    i = names.names_of(quantiles, names.SPECIES).index(species)
    on: measures.Count = "mature" if str(labels[i]).startswith("mature") else "total"
    return measures.abundance_count(results, species, on)


def _draw_fan(
    ax: Axes,
    q: xr.DataArray,
    colours: dict[str, Any],
    *,
    log: bool | None,
    threshold: float | None,
) -> None:
    """Median line and 50%/90% bands of every scenario of ``q`` (quantile, scenario, year)."""
    years = q[names.YEAR].values
    for scenario, colour in colours.items():
        s = q.sel({names.SCENARIO: scenario})

        def at(level: float, s: xr.DataArray = s) -> np.ndarray:
            return np.asarray(s.sel({names.QUANTILE: level}).values, dtype=float)

        ax.fill_between(years, at(0.05), at(0.95), color=colour, alpha=0.12, linewidth=0)
        ax.fill_between(years, at(0.25), at(0.75), color=colour, alpha=0.3, linewidth=0)
        ax.plot(years, at(0.5), color=colour, label=scenario)
    top = float(np.nanmax(q.sel({names.QUANTILE: 0.95}).values))
    if log is None:
        log = top > 100
    if threshold is not None:
        ax.axhline(
            threshold, color="black", linewidth=0.9, linestyle=":", label=f"threshold {threshold:g}"
        )
    if log:
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(0, max(1.5 * top, 2.0))
    else:
        ax.set_ylim(0, 1.05 * top if top > 0 else 1)
    ax.set_xlim(years[0], years[-1])
    ax.grid(alpha=0.3)


def plot_site_fan_charts(
    results: xr.Dataset,
    *,
    species: str,
    log: bool | None = None,
    count: measures.Count | None = None,
) -> Figure:
    """Fan charts of each site (population) of one species, one panel per site with every
    scenario overlaid (as :func:`plot_fan_chart`), counted as the species' abundance figures are;
    the species' quasi-extinction threshold is drawn for reference (it applies to the species,
    per site it marks the same count).

    Each panel has its own y axis, up to its own 95% quantile: sites of a species may differ by
    orders of magnitude (a wild site of hundreds, a founded one of tens), and one axis for all
    would cut the large ones off or flatten the small ones. ``log=None`` chooses one scale for
    every panel: logarithmic when some site's 95% quantile exceeds 100 individuals."""
    results = summary.check_results(results)
    (sp,) = _species_list(results, species)
    counted = measures.abundance_count(results, sp, count)
    exists = (
        results[names.POPULATION_EXISTS].sel({names.SPECIES: sp}).values
        if names.POPULATION_EXISTS in results
        else np.ones(results.sizes[names.POPULATION], dtype=bool)
    )
    sites = [int(p) for p in np.flatnonzero(exists)]
    labels = (
        results[names.POPULATION_NAME].sel({names.SPECIES: sp}).values
        if names.POPULATION_NAME in results.coords
        else np.array([str(p) for p in results[names.POPULATION].values])
    )
    da = results[counted.variable].sel({names.SPECIES: sp}).isel({names.POPULATION: sites})
    bands = outcomes.quantile_bands(da, list(FAN_QUANTILES)).estimate
    line = fan_threshold(results, species=sp, count=count)
    colours = scenario_colours(_scenario_list(results))
    if log is None:
        log = float(np.nanmax(bands.sel({names.QUANTILE: 0.95}).values)) > 100
    fig, axes = _new_figure(len(sites), height=2.8, sharey=False)
    for ax, index, p in zip(axes, range(len(sites)), sites, strict=True):
        q = bands.isel({names.POPULATION: index})
        _draw_fan(ax, q, colours, log=log, threshold=line)
        ax.set_title(f"site {labels[p]}", fontsize="medium")
    _set_xlabel(fig, axes, axis_label(results[names.YEAR]))
    axes[0].set_ylabel(f"{counted.noun} [individuals]")
    axes[0].legend(loc="best", fontsize="x-small")
    fig.suptitle(f"{sp}: {counted.label} by site", fontsize="medium")
    return fig


def plot_species_overview(
    results: xr.Dataset,
    *,
    species: str,
    curves: Sequence[xr.Dataset] = (),
    quantiles: xr.DataArray | None = None,
    confidence: float = 0.95,
) -> Figure:
    """One compact figure per species for a study of many: its risk by year (the risk measure,
    solid, and absolute extinction, dashed) beside its fan chart, scenarios overlaid in both."""
    results = summary.check_results(results)
    (sp,) = _species_list(results, species)
    sets = {bool(c.attrs.get("quasi")): c for c in curves}
    for q in (True, False):
        if q not in sets:
            sets[q] = summary.extinction_curves(results, quasi=q, confidence=confidence)
    if quantiles is None:
        quantiles = summary.trajectory_quantiles(results, quantiles=FAN_QUANTILES)
    counted = _counts_of(quantiles, results, sp)
    colours = scenario_colours(_scenario_list(results))
    fig, (risk_ax, fan_ax) = _new_figure(2, height=2.6, sharey=False)
    measure = measures.risk_measure(results, sp)
    for q in (True, False):
        if q and measure.is_extinction:
            continue
        _draw_curves(risk_ax, sets[q], sp, colours, quasi=q, band=q or measure.is_extinction)
    risk_ax.set_ylim(-0.02, 1.02)
    risk_ax.set_ylabel("probability by year")
    risk_ax.set_title(measure.probability_label("t"), fontsize="small")
    risk_ax.grid(alpha=0.3)
    line = fan_threshold(results, species=sp, quantiles=quantiles)
    _draw_fan(fan_ax, quantiles.sel({names.SPECIES: sp}), colours, log=None, threshold=line)
    fan_ax.set_title(counted.label, fontsize="small")
    _set_xlabel(fig, [risk_ax, fan_ax], "year")
    fan_ax.legend(handles=_scenario_handles(colours), fontsize="x-small", loc="best")
    return fig


def plot_intervention_comparison(
    results: xr.Dataset,
    *,
    horizon: int | None = None,
    species: str | Sequence[str] | None = None,
    table: xr.Dataset | None = None,
    confidence: float = 0.95,
) -> Figure:
    """Each species' risk by ``horizon`` (default: the final year) with its interval, per
    scenario: the risk measure (filled circle) and absolute extinction (open circle).

    One panel per species, read from :func:`pva.summary.summary_table` (pass ``table`` to reuse
    it).
    """
    results = summary.check_results(results)
    if table is None:
        table = summary.summary_table(results, confidence=confidence, red_list=False)
    horizons = [int(h) for h in table[names.HORIZON].values]
    h = horizons[-1] if horizon is None else int(horizon)
    if h not in horizons:
        raise ValueError(f"horizon {horizon!r} is not in the table; available: {horizons!r}")
    scenarios = [str(s) for s in table[names.SCENARIO].values]
    colours = scenario_colours(scenarios)
    chosen = _species_list(results, species)
    risk = measures.risk_measures(results, species=chosen)
    fig, axes = _new_figure(len(chosen), height=1.6 + 0.35 * len(scenarios))
    for ax, sp in zip(axes, chosen, strict=True):
        t = table.sel({names.SPECIES: sp, names.HORIZON: h})
        marks = [(names.P_EXTINCTION, "none", 0.12)]
        if not risk[sp].is_extinction:
            marks.insert(0, (names.P_QUASI_EXTINCTION, None, -0.12))
        for i, scenario in enumerate(scenarios):
            row = t.sel({names.SCENARIO: scenario})
            for var, face, offset in marks:
                p = float(row[var])
                lo = float(row[var + names.LOWER_SUFFIX])
                hi = float(row[var + names.UPPER_SUFFIX])
                ax.errorbar(
                    p, i + offset, xerr=_error_bar(p, lo, hi), fmt="o", color=colours[scenario],
                    markerfacecolor=face or colours[scenario], capsize=3,
                )  # fmt: skip
        ax.set_yticks(range(len(scenarios)), scenarios)
        ax.set_ylim(len(scenarios) - 0.5, -0.5)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel(f"P(by year {h})")
        title = (
            sp if risk[sp].is_extinction else f"{sp}\n● {risk[sp].probability_label(h)}  ○ extinct"
        )
        ax.set_title(title, fontsize="small")
        ax.grid(alpha=0.3, axis="x")
    return fig


def plot_delta_rli(table: xr.Dataset) -> Figure:
    """ΔRLI against no action in the final year per scenario: the mean (paired over replicates)
    with the normal interval of the mean (thick) and the central share of replicates (thin), from
    :func:`pva.summary.summary_table` with the Red List part."""
    no_action = str(table.attrs["no_action"])
    scenarios = [str(s) for s in table[names.SCENARIO].values if str(s) != no_action]
    colours = scenario_colours(str(s) for s in table[names.SCENARIO].values)
    fig, (ax,) = _new_figure(1, height=1.4 + 0.35 * max(len(scenarios), 1))
    for i, scenario in enumerate(scenarios):
        row = table.sel({names.SCENARIO: scenario})
        value = float(row[names.DELTA_RLI])
        spread = (
            float(row[names.DELTA_RLI + names.SPREAD_LOWER_SUFFIX]),
            float(row[names.DELTA_RLI + names.SPREAD_UPPER_SUFFIX]),
        )
        ci = (
            float(row[names.DELTA_RLI + names.LOWER_SUFFIX]),
            float(row[names.DELTA_RLI + names.UPPER_SUFFIX]),
        )
        ax.hlines(i, *spread, color=colours[scenario], linewidth=1, alpha=0.6)
        ax.hlines(i, *ci, color=colours[scenario], linewidth=5)
        ax.plot(value, i, "o", color="black", markersize=4)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(scenarios)), scenarios)
    ax.set_ylim(len(scenarios) - 0.5, -0.5)
    ax.set_xlabel(f"ΔRLI against {no_action!r} in year {int(table.attrs['final_year'])}")
    ax.grid(alpha=0.3, axis="x")
    return fig


def plot_cost_effectiveness(table: xr.Dataset) -> Figure:
    """What each scenario costs beyond no action (x, in the study's currency) against what it
    buys (y): ΔRLI and extinctions prevented, each with its interval, from
    :func:`pva.summary.summary_table` with costs and the Red List part."""
    no_action = str(table.attrs["no_action"])
    currency = str(table.attrs.get("currency", "currency units"))
    scenarios = [str(s) for s in table[names.SCENARIO].values if str(s) != no_action]
    colours = scenario_colours(str(s) for s in table[names.SCENARIO].values)
    effects = [
        (names.DELTA_RLI, f"ΔRLI against {no_action!r}"),
        (names.EXTINCTIONS_PREVENTED, "extinctions prevented"),
    ]
    fig, axes = _new_figure(len(effects), height=3.0, sharey=False)
    costs = [float(table[names.INCREMENTAL_COST].sel({names.SCENARIO: s})) for s in scenarios]
    right = 1.1 * max([*costs, 0.0]) or 1.0
    for ax, (var, label) in zip(axes, effects, strict=True):
        for scenario in scenarios:
            row = table.sel({names.SCENARIO: scenario})
            x = float(row[names.INCREMENTAL_COST])
            y = float(row[var])
            lo, hi = float(row[var + names.LOWER_SUFFIX]), float(row[var + names.UPPER_SUFFIX])
            ax.errorbar(
                x, y, yerr=_error_bar(y, lo, hi), fmt="o", color=colours[scenario],
                capsize=3, label=scenario,
            )  # fmt: skip
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xlim(0, right)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        _money_axis(ax.xaxis)
    _set_xlabel(fig, axes, f"expected cost beyond {no_action!r} [{currency}]")
    axes[0].legend(fontsize="small", loc="best")
    return fig


def _money_axis(axis: Any) -> None:
    """Few ticks, written as people write sums: 100,000 (not 1e5)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=3, min_n_ticks=2))
    axis.set_major_formatter(FuncFormatter(_money_text))


def _money_text(value: float, _position: object) -> str:
    # a module-level function, not a lambda: figures are pickled to the processes that render them
    return f"{value:,.0f}"


def _present_categories(shares: xr.DataArray, *extra_dims: str) -> list[str]:
    """Category labels that some replicate occupies, in the order of pva.redlist.CATEGORY_LABELS."""
    other = [d for d in shares.dims if d not in (names.CATEGORY_DIM, *extra_dims)]
    used = (shares > 0).any(other) if other else shares > 0
    labels = shares[names.CATEGORY_DIM].values
    return [str(c) for c, u in zip(labels, used.values, strict=True) if u]


LOWER_BOUND_LABEL = "≥ lower bound: criteria\nnot evaluated (hatched)"
"""Legend entry of the hatching of years whose Red List categories are lower bounds."""
LOWER_BOUND_GID = "lower-bound"
"""The ``gid`` of the hatched spans (and so the id of their group in SVG output)."""
_BOUND_HATCH = "//"
_BOUND_EDGE = "#333333"


def _lower_bound_years(assessment: xr.Dataset, species: str) -> xr.DataArray | None:
    """(scenario, year): whether some replicate's category is a lower bound, by the summary's
    rule (:func:`pva.summary.lower_bounds`); None when ``assessment`` does not say."""
    try:  # the one species: a figure per species must not classify every species again
        bound = summary.lower_bounds(assessment.sel({names.SPECIES: [species]}))
    except ValueError:
        return None
    return bound.sel({names.SPECIES: species}).any(names.REPLICATE)


def _hatch_years(ax: Axes, years: np.ndarray, marked: np.ndarray) -> None:
    """Hatch the spans of the ``marked`` years (each year to the midpoints of its neighbours;
    runs of marked years as one span)."""
    edges = np.concatenate(([years[0]], (years[1:] + years[:-1]) / 2, [years[-1]]))
    start = None
    for k, flag in enumerate([*np.asarray(marked, dtype=bool), False]):
        if flag and start is None:
            start = k
        elif not flag and start is not None:
            ax.axvspan(
                edges[start], edges[k], facecolor="none", edgecolor=_BOUND_EDGE,
                hatch=_BOUND_HATCH, linewidth=0, gid=LOWER_BOUND_GID,
            )  # fmt: skip
            start = None


def plot_category_distribution(
    assessment: xr.Dataset,
    *,
    species: str,
) -> Figure:
    """Share of replicates in each Red List category by year (stacked area), one panel per scenario.

    ``assessment`` is what :func:`pva.redlist.assess` returns for the results (or the first
    Dataset of :func:`pva.summary.assess_by_species`); shares are
    :func:`pva.redlist.category_distribution`. Categories no replicate ever reaches are left out of
    the legend; "not evaluable" and NE (a criterion's window not yet covered) are shown in grey.

    Years whose categories are lower bounds in some replicate (:func:`pva.summary.lower_bounds`,
    the summary's "≥") are hatched: typically every year after year 0, where A3, A4, projected C1
    and E have no projections to read (without ``[outputs.red_list_e]``), so a fall from EN at
    year 0 to VU at year 1 may be no improvement at all.
    """
    (sp,) = _species_list(assessment, species)
    bound = _lower_bound_years(assessment, sp)
    dist = redlist.category_distribution(assessment[names.CATEGORY].sel({names.SPECIES: sp}))
    categories = _present_categories(dist)
    dist = dist.sel({names.CATEGORY_DIM: categories})
    scenarios = [str(s) for s in dist[names.SCENARIO].values]
    fig, axes = _new_figure(len(scenarios))
    years = dist[names.YEAR].values
    for ax, scenario in zip(axes, scenarios, strict=True):
        shares = dist.sel({names.SCENARIO: scenario}).transpose(names.CATEGORY_DIM, names.YEAR)
        ax.stackplot(
            years,
            shares.values,
            labels=categories,
            colors=[CATEGORY_COLOURS.get(c, "#bbbbbb") for c in categories],
            edgecolor="#555555",
            linewidth=0.3,
        )
        ax.set_title(scenario)
        ax.set_xlim(years[0], years[-1])
        ax.set_ylim(0, 1)
        if bound is not None:
            _hatch_years(ax, years, bound.sel({names.SCENARIO: scenario}).values)
    _set_xlabel(fig, axes, axis_label(dist[names.YEAR]))
    axes[0].set_ylabel(axis_label(dist))
    handles, labels = axes[0].get_legend_handles_labels()
    handles, labels = handles[::-1], labels[::-1]
    if bound is not None and bool(bound.any()):
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor="none", edgecolor=_BOUND_EDGE, hatch=_BOUND_HATCH))
        labels.append(LOWER_BOUND_LABEL)
    fig.legend(handles, labels, loc="outside right center", fontsize="small")
    fig.suptitle(f"{sp}: Red List category by year")
    return fig


def plot_rli(assessment: xr.Dataset, *, confidence: float = 0.95) -> Figure:
    """The Red List Index of all species jointly by year: mean over replicates per scenario, with
    the band holding the central ``confidence`` share of replicates
    (:func:`pva.redlist.rli_summary`)."""
    rli = redlist.rli_summary(assessment[names.RLI], level=confidence)
    scenarios = [str(s) for s in rli[names.SCENARIO].values]
    colours = scenario_colours(scenarios)
    fig, (ax,) = _new_figure(1)
    years = rli[names.YEAR].values
    # overlapping bands of many scenarios hide each other: bands for up to three only
    bands = len(scenarios) <= 3
    for scenario in scenarios:
        s = rli.sel({names.SCENARIO: scenario})
        colour = colours[scenario]
        if bands:
            ax.fill_between(
                years, s["lower"].values, s["upper"].values, color=colour, alpha=0.2, lw=0
            )
        # assessed at a grid of years (a large study): mark the years assessed
        marker = "o" if len(years) > 1 and np.any(np.diff(years) > 1) else None
        ax.plot(years, s["mean"].values, color=colour, label=scenario, marker=marker, ms=3)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(axis_label(rli[names.YEAR]))
    ax.set_ylabel(axis_label(assessment[names.RLI]))
    ax.grid(alpha=0.3)
    title = f"scenario (central {confidence:.0%})" if bands else "scenario (mean)"
    ax.legend(loc="best", fontsize="small", title=title)
    return fig


def _transition_label(year: int, *, lower_bound: bool) -> str:
    """ "category in year 50", or "≥ category in year 50 (a lower bound)"."""
    if lower_bound:
        return f"≥ category in year {year} (a lower bound)"
    return f"category in year {year}"


def plot_transition_matrix(
    assessment: xr.Dataset,
    *,
    species: str,
    year_from: int | None = None,
    year_to: int | None = None,
) -> Figure:
    """P(category at ``year_to`` | category at ``year_from``) as a heatmap, one panel per scenario.

    Defaults: the first and the last assessed year. Probabilities are
    :func:`pva.redlist.transition_matrix`; rows of categories no replicate occupies at
    ``year_from`` are blank, and only categories occupied at either year are shown.

    A year whose categories are lower bounds in some replicate of a scenario
    (:func:`pva.summary.lower_bounds`, the summary's "≥") is marked on that panel's axis label
    ("≥ … a lower bound"): after year 0, A3, A4, projected C1 and E are usually not evaluated, so
    a move to a lower category need not be an improvement.
    """
    (sp,) = _species_list(assessment, species)
    bound = _lower_bound_years(assessment, sp)
    categories = assessment[names.CATEGORY].sel({names.SPECIES: sp})
    years = [int(y) for y in categories[names.YEAR].values]
    y0 = years[0] if year_from is None else int(year_from)
    y1 = years[-1] if year_to is None else int(year_to)
    tm = redlist.transition_matrix(categories, y0, y1)
    counts = redlist.transition_matrix(categories, y0, y1, normalize=False)
    rows = _present_categories(counts.sum("category_to").rename(category_from=names.CATEGORY_DIM))
    cols = _present_categories(counts.sum("category_from").rename(category_to=names.CATEGORY_DIM))
    shown = [c for c in tm["category_from"].values if c in rows or c in cols]
    tm = tm.sel(category_from=shown, category_to=shown)
    scenarios = [str(s) for s in tm[names.SCENARIO].values]
    fig, axes = _new_figure(len(scenarios), height=2.4 + 0.2 * len(shown), sharey=False)
    image = None
    for ax, scenario in zip(axes, scenarios, strict=True):
        m = tm.sel({names.SCENARIO: scenario}).transpose("category_from", "category_to").values
        image = ax.imshow(np.ma.masked_invalid(m), vmin=0, vmax=1, cmap="Blues", aspect="auto")
        for (i, j), value in np.ndenumerate(m):
            if np.isfinite(value) and value > 0:
                colour = "white" if value > 0.6 else "black"
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
        ax.set_xticks(range(len(shown)), shown)
        ax.set_yticks(range(len(shown)), shown)
        marks = (
            [bool(bound.sel({names.SCENARIO: scenario, names.YEAR: y})) for y in (y0, y1)]
            if bound is not None
            else [False, False]
        )
        ax.set_xlabel(_transition_label(y1, lower_bound=marks[1]))
        if ax is axes[0] or marks[0]:
            ax.set_ylabel(_transition_label(y0, lower_bound=marks[0]))
        ax.set_title(scenario)
    if image is not None:
        fig.colorbar(image, ax=axes, label="transition probability", shrink=0.9)
    fig.suptitle(f"{sp}: Red List category transitions")
    return fig


def plot_extinctions_prevented(table: xr.Dataset) -> Figure:
    """Expected extinctions prevented by each action scenario against no action, with the interval.

    ``table`` is :func:`pva.summary.summary_table` with the Red List part (``red_list=True``).
    """
    prevented = table[names.EXTINCTIONS_PREVENTED]
    action = [
        str(s) for s in prevented[names.SCENARIO].values if str(s) != table.attrs["no_action"]
    ]
    colours = scenario_colours(str(s) for s in table[names.SCENARIO].values)
    fig, (ax,) = _new_figure(1, height=2.0 + 0.35 * max(len(action), 1))
    for i, scenario in enumerate(action):
        row = table.sel({names.SCENARIO: scenario})
        value = float(row[names.EXTINCTIONS_PREVENTED])
        lo = float(row[names.EXTINCTIONS_PREVENTED + names.LOWER_SUFFIX])
        hi = float(row[names.EXTINCTIONS_PREVENTED + names.UPPER_SUFFIX])
        ax.barh(i, value, color=colours[scenario], alpha=0.8)
        ax.errorbar(value, i, xerr=_error_bar(value, lo, hi), fmt="none", color="black", capsize=4)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(action)), action)
    ax.set_ylim(len(action) - 0.5, -0.5)
    ax.set_xlabel(axis_label(prevented))
    n_species = table.sizes[names.SPECIES]
    ax.set_title(
        f"{n_species} species, against {table.attrs['no_action']!r}, by year "
        f"{int(table.attrs['final_year'])}"
    )
    ax.grid(alpha=0.3, axis="x")
    return fig


# ---------------------------------------------------------------------------------------------------
# sweeps (a `sample` dim, pva.sensitivity.sweep) and parameter uncertainty
# ---------------------------------------------------------------------------------------------------


def _sweep_choice(
    sweep: xr.Dataset, species: str | None, scenario: str | None, horizon: int | None
) -> tuple[str, str, int, str]:
    """The species (default the first), scenario (default no action), horizon (default the last
    recorded) and risk variable (the species' ``risk_measure``) of a sweep figure."""
    (sp,) = _species_list(
        sweep, species if species is not None else names.names_of(sweep, names.SPECIES)[0]
    )
    scenarios = _scenario_list(sweep)
    sc = names.no_action_scenario(sweep) if scenario is None else scenario
    if sc not in scenarios:
        raise ValueError(f"scenario {sc!r} is not in the sweep; known: {scenarios!r}")
    horizons = [int(h) for h in sweep[names.HORIZON].values]
    h = horizons[-1] if horizon is None else int(horizon)
    if h not in horizons:
        raise ValueError(f"horizon {horizon!r} is not in the sweep; recorded: {horizons!r}")
    return sp, sc, h, names.P_QUASI_EXTINCTION  # each species' risk measure


def _risk_axis_label(sweep: xr.Dataset, species: str, measure: str, year: int) -> str:
    return summary.sweep.risk_label(sweep, species, year)


def _parameters(sweep: xr.Dataset) -> list[str]:
    return [str(p) for p in sweep[names.PARAMETER].values]


def _design(sweep: xr.Dataset) -> str:
    return str(json.loads(sweep.attrs.get(names.ATTR_SWEEP, "{}")).get("design", ""))


def plot_response_curves(
    sweep: xr.Dataset,
    *,
    species: str | None = None,
    horizon: int | None = None,
) -> Figure:
    """The risk against each swept parameter, one panel per parameter, one colour per scenario,
    with the risk's interval (Wilson, as recorded).

    A one-at-a-time sweep shows, per parameter, the samples that vary it (the others at the study's
    values) joined by a line; a grid with one parameter a line; other designs every sample (the
    spread at one value comes from the other parameters).
    """
    sp, _, h, measure = _sweep_choice(sweep, species, None, horizon)
    parameters = _parameters(sweep)
    scenarios = _scenario_list(sweep)
    colours = scenario_colours(scenarios)
    design = _design(sweep)
    fig, axes = _new_figure(len(parameters), sharey=True, sharex=False)
    for i, (ax, parameter) in enumerate(zip(axes, parameters, strict=True)):
        x = sweep[names.PARAMETER_PREFIX + parameter]
        chosen = np.ones(sweep.sizes[names.SAMPLE], dtype=bool)
        if design == "oat" and "varied_parameter" in sweep.coords:
            varied = sweep["varied_parameter"].values
            chosen = (varied == i) | (varied == -1)
        joined = design == "oat" or (design == "grid" and len(parameters) == 1)
        order = np.argsort(x.values[chosen], kind="stable")
        for scenario in scenarios:
            where = {names.SPECIES: sp, names.SCENARIO: scenario, names.HORIZON: h}
            y = sweep[measure].sel(where).values[chosen][order]
            lo = sweep[measure + names.LOWER_SUFFIX].sel(where).values[chosen][order]
            hi = sweep[measure + names.UPPER_SUFFIX].sel(where).values[chosen][order]
            xs = x.values[chosen][order]
            colour = colours[scenario]
            errors = np.vstack([np.maximum(y - lo, 0), np.maximum(hi - y, 0)])
            ax.errorbar(
                xs, y, yerr=errors, fmt="o-" if joined else "o", color=colour, capsize=2,
                markersize=3, linewidth=1, alpha=1.0 if joined else 0.6, label=scenario,
            )  # fmt: skip
        # long paths wrap (at spaces in quoted names) so that neighbouring panels' labels stay apart
        where = textwrap.fill(str(sweep[names.PARAMETER_PATH].values[i]), 30)
        ax.set_xlabel(f"{parameter}\n{where}", fontsize="small")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(_risk_axis_label(sweep, sp, measure, h))
    axes[0].legend(loc="best", fontsize="small", title="scenario")
    fig.suptitle(
        f"{sp}: response of the risk ({design} design, {len(sweep[names.SAMPLE])} samples)"
    )
    return fig


def plot_tornado(
    sweep: xr.Dataset,
    *,
    species: str | None = None,
    scenario: str | None = None,
    horizon: int | None = None,
) -> Figure:
    """Tornado plot of a one-at-a-time sweep: for each parameter, the risk at its lowest and
    highest value with the others at the study's values, as a bar from the base point's risk,
    parameters ordered by the width of their swing (widest on top)."""
    sp, sc, h, measure = _sweep_choice(sweep, species, scenario, horizon)
    if _design(sweep) != "oat" or "varied_parameter" not in sweep.coords:
        raise ValueError("a tornado plot needs a one-at-a-time (oat) sweep")
    where = {names.SPECIES: sp, names.SCENARIO: sc, names.HORIZON: h}
    y = sweep[measure].sel(where).values
    varied = sweep["varied_parameter"].values
    base = float(y[varied == -1][0])
    parameters = _parameters(sweep)
    bars = []
    for i, parameter in enumerate(parameters):
        x = sweep[names.PARAMETER_PREFIX + parameter].values[varied == i]
        risk = y[varied == i]
        low, high = risk[np.argmin(x)], risk[np.argmax(x)]
        bars.append((abs(high - low), parameter, float(low), float(high), x.min(), x.max()))
    bars.sort(key=lambda b: -b[0] if np.isfinite(b[0]) else 0.0)
    fig, (ax,) = _new_figure(1, height=1.2 + 0.45 * len(bars))
    for row, (_, _name, low, high, x_low, x_high) in enumerate(bars):
        ax.barh(row, low - base, left=base, color="#4c72b0", height=0.6,
                label="lowest value" if row == 0 else None)  # fmt: skip
        ax.barh(row, high - base, left=base, color="#dd8452", height=0.6,
                label="highest value" if row == 0 else None)  # fmt: skip
        if low != high:  # the values at the ends of each bar
            for risk, value in ((low, x_low), (high, x_high)):
                side = "right" if risk < max(low, high) else "left"
                ax.text(risk, row, f" {value:.3g} ", va="center", ha=side, fontsize="small")
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(range(len(bars)), [b[1] for b in bars])
    ax.set_ylim(len(bars) - 0.5, -0.5)
    ax.set_xlabel(f"{_risk_axis_label(sweep, sp, measure, h)}; at the study's values {base:.2f}")
    ax.set_title(f"{sp} — {sc}: one parameter at a time")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3, axis="x")
    return fig


def plot_sobol_indices(
    sweep: xr.Dataset,
    *,
    species: str | None = None,
    horizon: int | None = None,
) -> Figure:
    """First- and total-order Sobol' indices of the risk with their bootstrap intervals: one panel
    per scenario, two bars per parameter."""
    sp, _, h, measure = _sweep_choice(sweep, species, None, horizon)
    if names.SOBOL_FIRST not in sweep:
        raise ValueError("Sobol' bars need a sobol sweep (it holds sobol_first and sobol_total)")
    scenarios = _scenario_list(sweep)
    parameters = _parameters(sweep)
    fig, axes = _new_figure(len(scenarios), height=1.6 + 0.4 * len(parameters))
    rows = np.arange(len(parameters))
    for ax, sc in zip(axes, scenarios, strict=True):
        where = {names.SPECIES: sp, names.SCENARIO: sc, names.HORIZON: h}
        for offset, name, colour, label in (
            (-0.18, names.SOBOL_FIRST, "#4c72b0", "first order S"),
            (0.18, names.SOBOL_TOTAL, "#dd8452", "total order ST"),
        ):
            value = sweep[name].sel(where).values
            lo = sweep[name + names.LOWER_SUFFIX].sel(where).values
            hi = sweep[name + names.UPPER_SUFFIX].sel(where).values
            errors = np.vstack([np.maximum(value - lo, 0), np.maximum(hi - value, 0)])
            ax.barh(rows + offset, value, height=0.36, color=colour, label=label)
            ax.errorbar(value, rows + offset, xerr=errors, fmt="none", color="black", capsize=2)
        ax.set_yticks(rows, parameters)
        ax.set_ylim(len(parameters) - 0.5, -0.5)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(sc)
        ax.grid(alpha=0.3, axis="x")
    _set_xlabel(fig, axes, "Sobol' index (share of the variance of the risk)")
    axes[0].legend(loc="best", fontsize="small")
    fig.suptitle(f"{sp}: {_risk_axis_label(sweep, sp, measure, h)}")
    return fig


def plot_morris(
    sweep: xr.Dataset,
    *,
    species: str | None = None,
    horizon: int | None = None,
) -> Figure:
    """Morris screening: each parameter's mean absolute elementary effect μ* (with its interval)
    against the standard deviation σ of its effects, one panel per scenario."""
    sp, _, h, measure = _sweep_choice(sweep, species, None, horizon)
    if names.MORRIS_MU_STAR not in sweep:
        raise ValueError("a Morris plot needs a morris sweep (it holds morris_mu_star)")
    scenarios = _scenario_list(sweep)
    fig, axes = _new_figure(len(scenarios), sharey=False, sharex=False)
    for ax, sc in zip(axes, scenarios, strict=True):
        where = {names.SPECIES: sp, names.SCENARIO: sc, names.HORIZON: h}
        mu = sweep[names.MORRIS_MU_STAR].sel(where).values
        lo = sweep[names.MORRIS_MU_STAR + names.LOWER_SUFFIX].sel(where).values
        hi = sweep[names.MORRIS_MU_STAR + names.UPPER_SUFFIX].sel(where).values
        sigma = sweep[names.MORRIS_SIGMA].sel(where).values
        errors = np.vstack([np.maximum(mu - lo, 0), np.maximum(hi - mu, 0)])
        ax.errorbar(mu, sigma, xerr=errors, fmt="o", color="#4c72b0", capsize=2)
        for x, y, label in zip(mu, sigma, _parameters(sweep), strict=True):
            ax.annotate(label, (x, y), fontsize="small", xytext=(3, 3), textcoords="offset points")
        ax.set_title(sc)
        ax.grid(alpha=0.3)
    _set_xlabel(fig, axes, "μ*: mean |elementary effect| over the parameter's range")
    axes[0].set_ylabel("σ of the elementary effects")
    fig.suptitle(f"{sp}: {_risk_axis_label(sweep, sp, measure, h)}")
    return fig


def plot_prcc(
    sweep: xr.Dataset,
    *,
    species: str | None = None,
    horizon: int | None = None,
) -> Figure:
    """Partial rank correlation of each parameter with the risk, with Fisher intervals: one panel
    per scenario."""
    sp, _, h, measure = _sweep_choice(sweep, species, None, horizon)
    if names.PRCC not in sweep:
        raise ValueError("PRCC bars need an lhs sweep (it holds prcc)")
    scenarios = _scenario_list(sweep)
    parameters = _parameters(sweep)
    fig, axes = _new_figure(len(scenarios), height=1.4 + 0.35 * len(parameters))
    rows = np.arange(len(parameters))
    for ax, sc in zip(axes, scenarios, strict=True):
        where = {names.SPECIES: sp, names.SCENARIO: sc, names.HORIZON: h}
        r = sweep[names.PRCC].sel(where).values
        lo = sweep[names.PRCC + names.LOWER_SUFFIX].sel(where).values
        hi = sweep[names.PRCC + names.UPPER_SUFFIX].sel(where).values
        errors = np.vstack([np.maximum(r - lo, 0), np.maximum(hi - r, 0)])
        ax.barh(rows, r, height=0.6, color=np.where(r >= 0, "#dd8452", "#4c72b0"))
        ax.errorbar(r, rows, xerr=errors, fmt="none", color="black", capsize=2)
        ax.set_yticks(rows, parameters)
        ax.set_ylim(len(parameters) - 0.5, -0.5)
        ax.set_xlim(-1.05, 1.05)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(sc)
        ax.grid(alpha=0.3, axis="x")
    _set_xlabel(fig, axes, "partial rank correlation with the risk")
    fig.suptitle(f"{sp}: {_risk_axis_label(sweep, sp, measure, h)}")
    return fig


def plot_risk_by_draw(results: xr.Dataset, *, species: str | None = None) -> Figure:
    """Parameter uncertainty: the distribution over parameter draws of the risk each draw's
    replicates give at the final horizon (a histogram per scenario), with the pooled risk (all
    draws, which includes parameter uncertainty) as a line."""
    if names.RISK_BY_DRAW not in results:
        raise ValueError("this figure needs results of a run with parameter uncertainty")
    sp = (
        _species_list(results, species)[0]
        if species is not None
        else names.names_of(results, names.SPECIES)[0]
    )
    h = int(results[names.HORIZON].values[-1])
    label = measures.risk_measure(results, sp).probability_label(h)
    scenarios = _scenario_list(results)
    colours = scenario_colours(scenarios)
    fig, axes = _new_figure(len(scenarios))
    bins = np.linspace(0, 1, 21)
    for ax, sc in zip(axes, scenarios, strict=True):
        risk = results[names.RISK_BY_DRAW].sel(
            {names.SPECIES: sp, names.SCENARIO: sc, names.HORIZON: h}
        )
        ax.hist(risk.values, bins=bins, color=colours[sc], alpha=0.7)
        ax.axvline(float(risk.mean()), color="black", linewidth=1.2, label="pooled")
        ax.set_title(sc)
        ax.grid(alpha=0.3)
    _set_xlabel(fig, axes, f"{label} given the draw")
    axes[0].set_ylabel("parameter draws")
    axes[0].legend(loc="best", fontsize="small")
    fig.suptitle(f"{sp}: risk over {results.sizes[names.DRAW]} parameter draws")
    return fig


def iter_sweep_figures(sweep: xr.Dataset) -> Iterator[tuple[str, Figure]]:
    """``(name, figure)`` for every figure of a sweep: response curves per species, then by
    design the tornado plot (oat), Sobol' bars (sobol), the Morris plot (morris) or the PRCC bars
    (lhs) per species."""
    for sp in names.names_of(sweep, names.SPECIES):
        stem = safe_name(sp)
        yield f"response_{stem}", plot_response_curves(sweep, species=sp)
        design = _design(sweep)
        if design == "oat":
            for sc in _scenario_list(sweep):
                yield (
                    f"tornado_{stem}_{safe_name(sc)}",
                    plot_tornado(sweep, species=sp, scenario=sc),
                )
        elif names.SOBOL_FIRST in sweep:
            yield f"sobol_{stem}", plot_sobol_indices(sweep, species=sp)
        elif names.MORRIS_MU_STAR in sweep:
            yield f"morris_{stem}", plot_morris(sweep, species=sp)
        elif names.PRCC in sweep:
            yield f"prcc_{stem}", plot_prcc(sweep, species=sp)


def render(figure: Figure, *, formats: Sequence[str], dpi: float | str) -> list[bytes]:
    """The bytes of ``figure`` in each of ``formats`` (matplotlib's; ``dpi`` for raster ones, in
    dots per inch, or ``"figure"``: the figure's own), without a creation date or tool URL inside
    (the same figure gives the same bytes)."""
    import matplotlib

    rendered = []
    # SVG ids are hashed with a salt matplotlib draws at random unless one is set
    with matplotlib.rc_context({"svg.hashsalt": "pva"}):
        for fmt in formats:
            buffer = BytesIO()
            figure.savefig(buffer, format=fmt, dpi=dpi, metadata=figure_metadata(fmt))
            rendered.append(buffer.getvalue())
    return rendered


def figure_metadata(fmt: str) -> dict[str, Any]:
    """The metadata ``savefig`` writes into a figure of format ``fmt``: none that changes between
    runs (no date, no tool URL)."""
    if fmt == "png":
        return {"Software": None}
    if fmt == "pdf":
        return {"Creator": None, "Producer": None, "CreationDate": None}
    return {"Date": None, "Creator": None}


def _render_pickled(function: Callable[..., Any], figure: bytes, options: Mapping[str, Any]) -> Any:
    """``function(figure, **options)`` for a figure pickled by :func:`render_each`."""
    return function(pickle.loads(figure), **options)


def render_each(
    figures: Iterable[Figure],
    function: Callable[..., Any] = render,
    *,
    task_map: summary.TaskMap | None = None,
    **options: Any,
) -> Iterator[Any]:
    """``function(figure, **options)`` for each of ``figures``, in their order.

    Without ``task_map``, one after the other here. With it (:data:`summary.TaskMap`), each figure is
    pickled as soon as it is drawn and rendered where ``task_map`` runs its tasks, while the next
    ones are drawn: ``function`` must then be a module-level function (the workers import it).
    """
    if task_map is None:
        for figure in figures:
            yield function(figure, **options)
        return
    tasks = (
        {
            "function": function,
            "figure": pickle.dumps(f, pickle.HIGHEST_PROTOCOL),
            "options": options,
        }
        for f in figures
    )
    yield from task_map(_render_pickled, tasks)


def _check_formats(formats: Sequence[str]) -> None:
    for fmt in formats:
        if fmt not in {"png", "svg", "pdf"}:
            raise ValueError(f"formats must be among 'png', 'svg', 'pdf'; got {fmt!r}")


def write_figures(
    figures: Iterable[tuple[str, Figure]],
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ("png",),
    dpi: int = 120,
    task_map: summary.TaskMap | None = None,
) -> list[Path]:
    """Write ``(stem, figure)`` pairs as ``<stem>.<format>`` files into ``out_dir`` (created if
    needed) through :func:`pva.io.write_bytes`, each as soon as it is rendered; return the paths.
    ``task_map``: render in parallel (:data:`summary.TaskMap`). Bad ``formats`` are refused
    before any figure is drawn (``figures`` is read only after the check)."""
    _check_formats(formats)
    out = Path(out_dir)
    stems: list[str] = []

    def drawn() -> Iterator[Figure]:
        for stem, figure in figures:
            stems.append(stem)  # before its figure is rendered: the stems keep up with the bytes
            yield figure

    written: list[Path] = []
    rendered = render_each(drawn(), formats=tuple(formats), dpi=dpi, task_map=task_map)
    for i, images in enumerate(rendered):
        for fmt, image in zip(formats, images, strict=True):
            written.append(io.write_bytes(out / f"{stems[i]}.{fmt}", image))
    return written


def plot_all(
    results: xr.Dataset,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ("png",),
    dpi: int = 120,
    red_list: bool | None = None,
    confidence: float = 0.95,
    task_map: summary.TaskMap | None = None,
) -> list[Path]:
    """Write every figure of ``results`` into ``out_dir`` (created if needed); return the paths.

    Files are named ``<figure>[_<species>].<format>`` with the species name made file-safe, and
    written through :func:`pva.io.write_bytes`. ``formats`` are matplotlib's (``"png"``, ``"svg"``,
    ``"pdf"``). ``red_list``: whether to draw the Red List figures; ``None`` draws them when they
    can be computed (see :func:`pva.summary.red_list_unavailable`). ``confidence``: coverage of the
    intervals drawn. ``task_map``: assess the species and render the figures in parallel
    (:data:`pva.summary.TaskMap`); the files are the same.
    """
    figures = iter_figures(results, red_list=red_list, confidence=confidence, task_map=task_map)
    return write_figures(figures, out_dir, formats=formats, dpi=dpi, task_map=task_map)


def iter_figures(
    results: xr.Dataset,
    *,
    red_list: bool | None = None,
    confidence: float = 0.95,
    task_map: summary.TaskMap | None = None,
) -> Iterator[tuple[str, Figure]]:
    """``(name, figure)`` for every figure of ``results``, computing each metric once.

    Names are file-safe stems such as ``extinction_cdf`` or ``fan_chart_<species>``. A sweep's
    results (a ``sample`` dim) give :func:`iter_sweep_figures`. ``task_map``: assess the species
    in parallel (:data:`pva.summary.TaskMap`).
    """
    if names.SAMPLE in results.dims:
        yield from iter_sweep_figures(results)
        return
    results = summary.check_results(results)
    if red_list is None:
        red_list = not summary.red_list_unavailable(results)
    # species by species, keeping the criteria texts only at the years the table reads them
    assessment, at_years = (
        summary.assess_by_species(
            results,
            years=summary.red_list_years(results),
            by_year=summary.figure_years(results),
            task_map=task_map,
        )
        if red_list
        else (None, None)
    )
    table = summary.summary_table(
        results, confidence=confidence, red_list=red_list, assessment=at_years, task_map=task_map
    )
    quantiles = summary.trajectory_quantiles(results, quantiles=FAN_QUANTILES)
    yield "extinction_cdf", plot_extinction_cdf(results, confidence=confidence)
    yield "intervention_comparison", plot_intervention_comparison(results, table=table)
    counts = summary.site_counts(results)
    for sp in _species_list(results, None):
        yield f"fan_chart_{safe_name(sp)}", plot_fan_chart(results, species=sp, quantiles=quantiles)
        if counts[sp] > 1:
            yield f"site_fan_charts_{safe_name(sp)}", plot_site_fan_charts(results, species=sp)
    if names.RISK_BY_DRAW in results:  # a run with parameter uncertainty
        for sp in _species_list(results, None):
            yield f"risk_by_draw_{safe_name(sp)}", plot_risk_by_draw(results, species=sp)
    if assessment is None:
        return
    yield "red_list_index", plot_rli(assessment, confidence=confidence)
    if results.sizes[names.SCENARIO] > 1:
        yield "delta_rli", plot_delta_rli(table)
        yield "extinctions_prevented", plot_extinctions_prevented(table)
        if names.INCREMENTAL_COST in table:
            yield "cost_effectiveness", plot_cost_effectiveness(table)
    for sp in _species_list(results, None):
        stem = safe_name(sp)
        yield f"red_list_categories_{stem}", plot_category_distribution(assessment, species=sp)
        yield f"red_list_transitions_{stem}", plot_transition_matrix(assessment, species=sp)


def safe_name(name: str) -> str:
    """``name`` with everything but letters, digits, ``-`` and ``_`` replaced by ``_``."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_") or "unnamed"


# ---------------------------------------------------------------------------------------------------
# success factors (pva.success): effect sizes, partial dependence, types per currency unit
# ---------------------------------------------------------------------------------------------------


def _panels(
    n_panels: int, *, height: float, width: float = _WIDTH * 1.2
) -> tuple[Figure, list[Axes]]:
    """A grid of ``n_panels`` axes, 3 a row, sharing the y axis only (each panel its own x)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure_cls = require_matplotlib()
    n_cols = min(n_panels, 3)
    n_rows = -(-n_panels // n_cols)
    fig = figure_cls(figsize=(width, height * n_rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=False, sharey=True).ravel()
    for extra in axes[n_panels:]:
        extra.set_visible(False)
    return fig, list(axes[:n_panels])


def plot_success_effects(analysis: xr.Dataset, *, outcomes: Sequence[str] | None = None) -> Figure:
    """Effect of each factor on each outcome with its bootstrap interval (one panel per outcome).

    ``analysis`` is :func:`pva.success.analyse` output: ``effect``, ``effect_lower`` and
    ``effect_upper`` (outcome, term), on each outcome's own scale (per SD of a numeric factor, or a
    type against the reference type).
    """
    from pva.success import names as success_names
    from pva.success import tables

    chosen = (
        [str(o) for o in analysis[success_names.OUTCOME].values]
        if outcomes is None
        else list(outcomes)
    )
    terms = [str(t) for t in analysis[success_names.TERM].values]
    reference = str(analysis.attrs.get("reference_type", ""))
    fig, axes = _panels(len(chosen), height=0.28 * len(terms) + 1.2, width=_WIDTH * 1.3)
    y = np.arange(len(terms))
    for ax, outcome in zip(axes, chosen, strict=True):
        e = analysis.sel({success_names.OUTCOME: outcome})
        mid = np.asarray(e["effect"].values, dtype=float)
        lo = np.asarray(e["effect_lower"].values, dtype=float)
        hi = np.asarray(e["effect_upper"].values, dtype=float)
        has = np.isfinite(lo) & np.isfinite(hi)
        excludes_zero = has & ((lo > 0) | (hi < 0))
        for chosen, colour in ((~excludes_zero, "#1f77b4"), (excludes_zero, "#d62728")):
            if not chosen.any():
                continue
            ax.errorbar(
                mid[chosen],
                y[chosen],
                xerr=np.vstack(
                    [
                        np.where(has, np.maximum(mid - lo, 0), 0)[chosen],
                        np.where(has, np.maximum(hi - mid, 0), 0)[chosen],
                    ]
                ),
                fmt="o",
                color=colour,
                markersize=3.5,
                elinewidth=1.2,
                capsize=2,
            )
        ax.axvline(0.0, color="0.5", lw=0.8)
        ax.set_title(tables.OUTCOME_LABELS.get(outcome, outcome), fontsize="medium")
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(y, [tables.term_label(t, reference) for t in terms], fontsize="small")
    axes[0].invert_yaxis()
    confidence = float(analysis.attrs.get("confidence", 0.95))
    _set_xlabel(
        fig,
        axes,
        f"effect on the outcome's scale, {confidence:.0%} bootstrap interval over species "
        "(red: excludes 0)",
    )
    return fig


def plot_partial_dependence(analysis: xr.Dataset, outcome: str) -> Figure:
    """Partial dependence of one outcome on each numeric factor (fitted mean over the rows with the
    factor set to each value, on its own scale) and on the intervention type, with bootstrap
    bands (:func:`pva.success.analyse`)."""
    from pva.success import names as success_names
    from pva.success import tables

    a = analysis.sel({success_names.OUTCOME: outcome})
    factors = [str(f) for f in a[success_names.FACTOR].values]
    fig, axes = _panels(len(factors) + 1, height=2.4)
    for ax, factor in zip(axes, factors, strict=False):
        p = a.sel({success_names.FACTOR: factor})
        x = np.asarray(p["pd_value"].values, dtype=float)
        ax.fill_between(
            x,
            np.asarray(p["partial_dependence_lower"].values, dtype=float),
            np.asarray(p["partial_dependence_upper"].values, dtype=float),
            color="#1f77b4",
            alpha=0.2,
            lw=0,
        )
        ax.plot(x, np.asarray(p["partial_dependence"].values, dtype=float), color="#1f77b4")
        ax.set_xlabel(tables.factor_label(factor), fontsize="small")
        log_scale = ("initial_mature", "cost", "generation_length", "net_reproductive_rate")
        if factor in log_scale and np.all(x > 0) and np.ptp(x) > 0:
            ax.set_xscale("log")
        ax.tick_params(labelsize="small", labelbottom=True)
        ax.grid(alpha=0.3)
    ax = axes[-1]
    kinds = [str(k) for k in a[success_names.INTERVENTION_TYPE].values]
    mid = np.asarray(a["type_dependence"].values, dtype=float)
    lo = np.asarray(a["type_dependence_lower"].values, dtype=float)
    hi = np.asarray(a["type_dependence_upper"].values, dtype=float)
    xs = np.arange(len(kinds))
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.errorbar(
        xs,
        mid,
        yerr=np.vstack(
            [np.where(ok, np.maximum(mid - lo, 0), 0), np.where(ok, np.maximum(hi - mid, 0), 0)]
        ),
        fmt="o",
        color="#1f77b4",
        capsize=3,
    )
    ax.set_xticks(xs, kinds, rotation=30, ha="right", fontsize="small")
    ax.set_xlabel("intervention type", fontsize="small")
    ax.grid(alpha=0.3, axis="y")
    confidence = float(analysis.attrs.get("confidence", 0.95))
    fig.supylabel(tables.OUTCOME_LABELS.get(outcome, outcome), fontsize="medium")
    fig.suptitle(
        f"Partial dependence, {confidence:.0%} bootstrap band over species", fontsize="medium"
    )
    return fig


def plot_success_ranking(analysis: xr.Dataset) -> Figure:
    """Intervention types by ΔRLI and by extinctions prevented per million currency units, with
    bootstrap intervals over species (:func:`pva.success.rank_types`)."""
    from pva.success import names as success_names

    kinds = [str(k) for k in analysis[success_names.RANK_TYPE].values]
    currency = str(analysis.attrs.get("currency", "currency units"))
    fig, axes = _panels(2, height=0.45 * len(kinds) + 1.4, width=_WIDTH)
    y = np.arange(len(kinds))
    for ax, key, label in zip(
        axes,
        ("delta_rli_per_million", "extinctions_prevented_per_million"),
        (f"ΔRLI per million {currency}", f"extinctions prevented per million {currency}"),
        strict=True,
    ):
        mid = np.asarray(analysis[f"rank_{key}"].values, dtype=float)
        lo = np.asarray(analysis[f"rank_{key}_lower"].values, dtype=float)
        hi = np.asarray(analysis[f"rank_{key}_upper"].values, dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(mid)
        ax.barh(y, np.where(np.isfinite(mid), mid, 0), color="#9ecae1")
        ax.errorbar(
            np.where(ok, mid, np.nan),
            y,
            xerr=np.vstack(
                [np.where(ok, np.maximum(mid - lo, 0), 0), np.where(ok, np.maximum(hi - mid, 0), 0)]
            ),
            fmt="none",
            ecolor="#08519c",
            capsize=3,
        )
        ax.axvline(0.0, color="0.5", lw=0.8)
        ax.set_xlabel(label, fontsize="small")
        ax.grid(alpha=0.3, axis="x")
        ax.locator_params(axis="x", nbins=4)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 4))
    axes[0].set_yticks(y, kinds)
    axes[0].invert_yaxis()
    return fig


def iter_success_figures(analysis: xr.Dataset) -> Iterator[tuple[str, Figure]]:
    """``(name, figure)`` for every figure of a success analysis: the effects, the ranking and
    the partial dependence of each outcome."""
    from pva.success import names as success_names

    yield "success_effects", plot_success_effects(analysis)
    yield "success_ranking", plot_success_ranking(analysis)
    for outcome in analysis[success_names.OUTCOME].values:
        yield (
            f"success_partial_dependence_{safe_name(str(outcome))}",
            plot_partial_dependence(analysis, str(outcome)),
        )


def write_success_figures(
    analysis: xr.Dataset,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ("png",),
    dpi: int = 120,
    task_map: summary.TaskMap | None = None,
) -> list[Path]:
    """Write :func:`iter_success_figures` into ``out_dir`` (:func:`write_figures`); return the
    paths."""
    figures = iter_success_figures(analysis)
    return write_figures(figures, out_dir, formats=formats, dpi=dpi, task_map=task_map)
