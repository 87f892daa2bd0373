"""Summaries of a sweep's results (a Dataset with a ``sample`` dim, :func:`pva.sensitivity.sweep`)
and of the parameter-uncertainty part of a run with parameter uncertainty.

A sweep's results already hold, per sample, what ``pva summary`` reports for a results file
(computed by the sweep from each sample's replicates), so :func:`sweep_table` selects, it does not
estimate: the risk at the chosen horizons with its interval, median final abundance, expected
minimum abundance, the Red List Index and ΔRLI against each sample's own no-action scenario, the
parameter values of each sample, and the sensitivity indices of the design. :func:`format_sweep_table`
prints one row per sample (the parameter values, then the numbers), per species and scenario, and
the indices per parameter.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from pva import measures, results
from pva.results import LOWER_SUFFIX, UPPER_SUFFIX

_PER_SAMPLE = (
    results.P_EXTINCTION,
    results.P_QUASI_EXTINCTION,
    results.MEDIAN_FINAL_ABUNDANCE,
    results.EXPECTED_MINIMUM,
    results.TOTAL_COST,
    results.CATEGORY_SHARE_BY_HORIZON,
    results.RLI_BY_HORIZON,
    results.DELTA_RLI_BY_HORIZON,
    results.P_RLI_IMPROVED_BY_HORIZON,
    results.QUASI_EXTINCTION_THRESHOLD,
    results.QUASI_EXTINCTION_ON,
    results.RISK_MEASURE,
)
_INDICES = (
    results.SOBOL_FIRST,
    results.SOBOL_TOTAL,
    results.MORRIS_MU,
    results.MORRIS_MU_STAR,
    results.MORRIS_SIGMA,
    results.PRCC,
    results.PRCC_P_VALUE,
)


def is_sweep(ds: xr.Dataset) -> bool:
    """Whether ``ds`` is a sweep's results (it has a ``sample`` dim)."""
    return isinstance(ds, xr.Dataset) and results.SAMPLE in ds.dims


def _horizons(ds: xr.Dataset, horizons: Sequence[int | str] | None) -> list[int]:
    stored = [int(h) for h in ds[results.HORIZON].values]
    if horizons is None:
        return stored
    out: list[int] = []
    for h in horizons:
        year = stored[-1] if h == "final" else h
        if isinstance(year, bool) or not isinstance(year, int | np.integer):
            raise TypeError(f"horizons must be integer years or 'final'; got {h!r}")
        if int(year) not in stored:
            raise ValueError(
                f"horizon {h!r} is not among the horizons the sweep recorded {stored}; a sweep "
                "stores its study's outputs.horizons and final year"
            )
        if int(year) not in out:
            out.append(int(year))
    return sorted(out)


def sweep_table(
    ds: xr.Dataset,
    *,
    horizons: Sequence[int | str] | None = None,
    no_action: str | None = None,
    red_list: bool | None = None,
) -> xr.Dataset:
    """The summary table of a sweep: per sample, species, scenario (and horizon) the numbers the
    sweep recorded, the parameter values ``param_<name>`` (sample) as variables, and the design's
    sensitivity indices.

    Parameters
    ----------
    ds
        A sweep's results.
    horizons
        A subset of the recorded horizons (years or ``"final"``); default all.
    no_action
        Must be the scenario the sweep compared with (ΔRLI is stored per sample, against it).
    red_list
        False leaves out the Red List variables; True requires them.

    Raises
    ------
    ValueError
        For a horizon the sweep did not record, another ``no_action``, or ``red_list=True``
        without Red List variables.
    """
    recorded = results.no_action_scenario(ds)
    if no_action is not None and no_action != recorded:
        raise ValueError(
            f"a sweep's ΔRLI is recorded against {recorded!r} in every sample; rerun the sweep "
            f"with [study] no_action = {no_action!r} to compare with it"
        )
    years = _horizons(ds, horizons)
    has_red_list = results.RLI_BY_HORIZON in ds
    if red_list and not has_red_list:
        raise ValueError("cannot show Red List categories: the sweep recorded none")
    keep = [
        name
        for name in ds.data_vars
        if any(str(name).startswith(stem) for stem in (*_PER_SAMPLE, *_INDICES))
        and (red_list is not False or not _red_list_variable(str(name)))
    ]
    table = ds[keep].sel({results.HORIZON: years})
    # the parameter values as variables, so that every table format (JSON too) carries them
    listed = [
        str(c)
        for c in ds.coords
        if str(c).startswith(results.PARAMETER_PREFIX)
        or c in (results.PARAMETER_PATH, results.PARAMETER_LOW, results.PARAMETER_HIGH)
    ]
    table = table.assign_coords({c: ds[c] for c in listed}).reset_coords(listed)
    sweep = json.loads(ds.attrs.get(results.ATTR_SWEEP, "{}"))
    table.attrs = {
        "no_action": recorded,
        "final_year": int(ds[results.HORIZON].values[-1]),
        "confidence": float(ds.attrs.get("confidence", 0.95)),
        "n_replicates": int(ds.attrs.get(results.ATTR_REPLICATES, 0)),
        "design": str(sweep.get("design", "")),
        "samples": int(ds.sizes[results.SAMPLE]),
    }
    return table


def _red_list_variable(name: str) -> bool:
    return name.startswith(("category_share", "rli", "delta_rli", "p_rli"))


# ---------------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------------


def _fmt(value: float, digits: int = 2) -> str:
    return "–" if not math.isfinite(value) else f"{value:.{digits}f}"


def _fmt_n(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:,.0f}"


def _fmt_value(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.4g}"


def _cell(t: xr.Dataset, name: str, fmt: Any = _fmt, **where: Any) -> str:
    value = float(t[name].sel(where))
    if name + LOWER_SUFFIX not in t:
        return fmt(value)
    low, high = float(t[name + LOWER_SUFFIX].sel(where)), float(t[name + UPPER_SUFFIX].sel(where))
    joiner = " to " if fmt(low).startswith("-") or fmt(high).startswith("-") else "–"
    return f"{fmt(value)} ({fmt(low)}{joiner}{fmt(high)})"


def risk_label(ds: xr.Dataset, species: str, year: int | str) -> str:
    """The label of a species' risk measure in a sweep's results (or table), as the summary
    labels it (:meth:`pva.measures.RiskMeasure.probability_label`), e.g. ``"P(≤ 10 mature by
    year 50)"``; ``"P(quasi-extinct by year 50)"`` where the threshold was swept."""
    at = {results.SPECIES: species}
    if results.QUASI_EXTINCTION_THRESHOLD not in ds:  # swept: it differs between samples
        return f"P(quasi-extinct by year {year})"
    threshold = ds[results.QUASI_EXTINCTION_THRESHOLD].sel(at)
    on = str(ds[results.QUASI_EXTINCTION_ON].sel(at).values)
    measure = measures.RiskMeasure(
        species=species,
        threshold=float(threshold),
        counted=measures.Counted(on=on),  # type: ignore[arg-type]
    )
    return measure.probability_label(year)


def _risk_label(t: xr.Dataset, species: str, year: int) -> tuple[str, str]:
    return results.P_QUASI_EXTINCTION, risk_label(t, species, year)


def parameter_names(table: xr.Dataset) -> list[str]:
    """The parameters' short names, in order."""
    return [str(p) for p in table[results.PARAMETER].values]


def sample_rows(
    table: xr.Dataset, species: str, scenario: str
) -> tuple[list[str], list[list[str]]]:
    """One row per sample: its parameter values, then the risk at every horizon, median final
    abundance and, with the Red List, the RLI and ΔRLI in the final year."""
    params = parameter_names(table)
    final = int(table[results.HORIZON].values[-1])
    horizons = [int(h) for h in table[results.HORIZON].values]
    header = ["sample", *params]
    measure = ""
    for h in horizons:
        measure, label = _risk_label(table, species, h)
        header.append(label)
    header.append(f"median N in {final}")
    red_list = results.RLI_BY_HORIZON in table
    if red_list:
        header += [f"RLI {final}", f"ΔRLI {final}"]
    rows = []
    where = {results.SPECIES: species, results.SCENARIO: scenario}
    for s in table[results.SAMPLE].values:
        t = table.sel({results.SAMPLE: s})
        row = [str(int(s))]
        row += [_fmt_value(float(t[results.PARAMETER_PREFIX + p])) for p in params]
        row += [_cell(t, measure, **where, **{results.HORIZON: h}) for h in horizons]
        row.append(_cell(t, results.MEDIAN_FINAL_ABUNDANCE, _fmt_n, **where))
        if red_list:
            at = {results.SCENARIO: scenario, results.HORIZON: final}
            row.append(_cell(t, results.RLI_BY_HORIZON, _fmt, **at))
            row.append(_cell(t, results.DELTA_RLI_BY_HORIZON, _signed, **at))
        rows.append(row)
    return header, rows


def _signed(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:+.2f}"


def index_rows(
    table: xr.Dataset, species: str, scenario: str, year: int
) -> tuple[list[str], list[list[str]]]:
    """The design's sensitivity indices of the risk at ``year``, one row per parameter (empty for
    grid and one-at-a-time designs)."""
    where = {results.SPECIES: species, results.SCENARIO: scenario, results.HORIZON: year}
    columns: list[tuple[str, str, Any]] = []
    if results.SOBOL_FIRST in table:
        columns = [
            ("first-order S", results.SOBOL_FIRST, _fmt),
            ("total-order ST", results.SOBOL_TOTAL, _fmt),
        ]
    elif results.MORRIS_MU_STAR in table:
        columns = [
            ("μ*", results.MORRIS_MU_STAR, _fmt3),
            ("μ", results.MORRIS_MU, _fmt3),
            ("σ", results.MORRIS_SIGMA, _fmt3),
        ]
    elif results.PRCC in table:
        columns = [("PRCC", results.PRCC, _fmt), ("p-value", results.PRCC_P_VALUE, _fmt_pvalue)]
    if not columns:
        return [], []
    header = ["parameter", "path", *(label for label, _, _ in columns)]
    rows = []
    for i, p in enumerate(parameter_names(table)):
        at = {**where, results.PARAMETER: p}
        path = str(table[results.PARAMETER_PATH].values[i])
        rows.append([p, path, *(_cell(table, name, fmt, **at) for _, name, fmt in columns)])
    return header, rows


def _fmt3(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.3f}"


def _fmt_pvalue(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def parameter_rows(table: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """One row per parameter: its name, path and range."""
    rows = [
        [
            p,
            str(table[results.PARAMETER_PATH].values[i]),
            f"{_fmt_value(float(table[results.PARAMETER_LOW].values[i]))} – "
            f"{_fmt_value(float(table[results.PARAMETER_HIGH].values[i]))}",
        ]
        for i, p in enumerate(parameter_names(table))
    ]
    return ["parameter", "path", "range"], rows


def format_sweep_table(table: xr.Dataset, *, style: str = "text") -> str:
    """A sweep's summary table (:func:`sweep_table`) as text, Markdown or HTML: the parameters,
    then per species and scenario one row per sample, and the sensitivity indices."""
    from pva.summary.formatting import render_rows

    def titled(title: str, body: str) -> str:
        if style == "markdown":
            return f"### {title}\n\n{body}"
        if style == "html":
            return f"<h3>{html.escape(title)}</h3>\n{body}"
        return f"{title}\n{body}"

    blocks = [titled("Parameters", render_rows(*parameter_rows(table), style, align="left"))]  # type: ignore[arg-type]
    final = int(table.attrs["final_year"])
    for sp in results.names_of(table, results.SPECIES):
        for sc in results.names_of(table, results.SCENARIO):
            header, rows = sample_rows(table, sp, sc)
            blocks.append(titled(f"{sp} — {sc}", render_rows(header, rows, style)))  # type: ignore[arg-type]
            header, rows = index_rows(table, sp, sc, final)
            if rows:
                _, label = _risk_label(table, sp, final)
                blocks.append(
                    titled(
                        f"{sp} — {sc}: sensitivity of {label}",
                        render_rows(header, rows, style, align="left"),  # type: ignore[arg-type]
                    )
                )
    confidence = float(table.attrs.get("confidence", 0.95))
    note = (
        f"{table.attrs['design']} design, {table.attrs['samples']} samples of "
        f"{table.attrs['n_replicates']} replicates with common random numbers; "
        f"{confidence:.0%} intervals in parentheses; ΔRLI against {table.attrs['no_action']!r}"
    )
    blocks.append(html.escape(note) if style == "html" else note)
    return "\n\n".join(blocks) + "\n"


# ---------------------------------------------------------------------------------------------------
# parameter uncertainty
# ---------------------------------------------------------------------------------------------------


def has_uncertainty(ds: xr.Dataset) -> bool:
    """Whether ``ds`` holds the summaries of a run with parameter uncertainty."""
    return isinstance(ds, xr.Dataset) and results.VARIANCE_PARAMETER in ds


def uncertainty_rows(ds: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """Per species, scenario and horizon: the risk with its standard error over draws, and the
    variance of the risk indicator split into its parameter and process parts."""
    header = [
        "species",
        "scenario",
        "year",
        "risk (SE over draws)",
        "variance: parameter",
        "process",
        "parameter share",
    ]
    rows = []
    by_draw = ds[results.RISK_BY_DRAW]
    draws = ds.sizes[results.DRAW]
    for sp in results.names_of(ds, results.SPECIES):
        for sc in results.names_of(ds, results.SCENARIO):
            for h in ds[results.HORIZON].values:
                where = {results.SPECIES: sp, results.SCENARIO: sc, results.HORIZON: h}
                risk = by_draw.sel(where).values
                se = float(np.std(risk, ddof=1) / math.sqrt(draws))

                def part(name: str, w: dict[str, Any] = where) -> str:
                    value = float(ds[name].sel(w))
                    error = float(ds[name + results.SE_SUFFIX].sel(w))
                    return f"{_fmt(value, 3)} ± {_fmt(error, 3)}"

                rows.append(
                    [
                        sp,
                        sc,
                        str(int(h)),
                        f"{_fmt(float(risk.mean()), 3)} ± {_fmt(se, 3)}",
                        part(results.VARIANCE_PARAMETER),
                        part(results.VARIANCE_PROCESS),
                        part(results.PARAMETER_SHARE),
                    ]
                )
    return header, rows


def category_range_rows(ds: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """Per species, scenario and assessment year: the plausible range of Red List categories over
    the parameter draws and the category of most draws (empty without them)."""
    if results.CATEGORY_RANGE_LOWER not in ds:
        return [], []
    header = ["species", "scenario", "year", "plausible range", "most draws"]
    rows = []
    for sp in results.names_of(ds, results.SPECIES):
        for sc in results.names_of(ds, results.SCENARIO):
            for y in ds[results.ASSESSMENT_YEAR].values:
                where = {results.SPECIES: sp, results.SCENARIO: sc, results.ASSESSMENT_YEAR: y}
                low = str(ds[results.CATEGORY_RANGE_LOWER].sel(where).values)
                high = str(ds[results.CATEGORY_RANGE_UPPER].sel(where).values)
                shown = low if low == high else f"{low}–{high}"
                rows.append(
                    [sp, sc, str(int(y)), shown, str(ds[results.CATEGORY_MODE].sel(where).values)]
                )
    return header, rows
