"""Formatting of summary tables (:mod:`pva.summary.tables`): aligned text, Markdown, HTML and JSON.

Nothing is computed here but the layout of numbers already in a table: a cell shows an estimate
with its interval in parentheses.
"""

from __future__ import annotations

import html
import json
import math
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import xarray as xr

from pva import results
from pva.results import LOWER_SUFFIX, UPPER_SUFFIX
from pva.summary import sweep

TableStyle = Literal["text", "markdown", "html"]
Formatter = Callable[[float], str]
Rows = tuple[list[str], list[list[str]]]
"""A header and rows of cells."""
_TEXT_WIDTH = 100
"""Sentences of the text summary are wrapped at this many characters."""


# ---------------------------------------------------------------------------------------------------
# numbers
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
    """A sum of money as people write it: 12,500 and 2,497,650 (never 1.25e+04); three
    significant digits below 100."""
    if not math.isfinite(value):
        return "–"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def money(value: float, currency: str) -> str:
    """``value`` in ``currency``: "12,500 USD"; "–" when not finite."""
    text = _fmt_money(value)
    return text if text == "–" else f"{text} {currency}"


def _fmt_rate(value: float) -> str:
    """A small positive rate (extinctions per million): two significant digits."""
    if math.isinf(value):
        return "free"
    if not math.isfinite(value):
        return "–"
    return f"{value:.2g}" if value else "0"


def _fmt_whole(value: float) -> str:
    return f"{value:.0f}" if math.isfinite(value) else "–"


def _fmt_signed(value: float) -> str:
    return f"{value:+.0f}" if math.isfinite(value) else "–"


def _with_interval(value: float, lower: float, upper: float, fmt: Formatter) -> str:
    low, high = fmt(lower), fmt(upper)
    # an en dash between negative numbers reads as a minus sign: "-30 to -29", not "-30–-29"
    joiner = " to " if low.startswith("-") or high.startswith("-") else "–"
    return f"{fmt(value)} ({low}{joiner}{high})"


def _scalar(table: xr.Dataset, var: str, where: dict[str, Any]) -> Any:
    """``table[var].sel(where).item()`` (``where`` naming every dim of ``var``), read from the
    variable's array: a table of 100 species has thousands of cells, and building a DataArray for
    each costs more than the rest of the formatting."""
    variable = table.variables[var]
    index = tuple(table.get_index(d).get_loc(where[d]) for d in variable.dims)
    return np.asarray(variable.values[index]).item()


def _triple(table: xr.Dataset, var: str, where: dict[str, Any]) -> tuple[float, float, float]:
    """``var`` at ``where`` with its ``_lower`` and ``_upper`` bounds."""
    value, lower, upper = (
        float(_scalar(table, var + suffix, where)) for suffix in ("", LOWER_SUFFIX, UPPER_SUFFIX)
    )
    return value, lower, upper


def _cell(table: xr.Dataset, var: str, fmt: Formatter, **where: Any) -> str:
    """``var`` at ``where`` with its ``_lower``/``_upper`` interval."""
    return _with_interval(*_triple(table, var, where), fmt)


# ---------------------------------------------------------------------------------------------------
# rows
# ---------------------------------------------------------------------------------------------------


def species_rows(table: xr.Dataset, species: str) -> Rows:
    """The comparison of one species as ``(header, rows)``: metrics down, scenarios across.

    Rows: the species' risk measure at every horizon, absolute extinction at every horizon, median
    final and expected minimum abundance (labelled with what they count), per-site rows for a
    species with several sites, the Red List category, the Green Status and the expected cost."""
    scenarios = results.names_of(table, results.SCENARIO)
    t = table.sel({results.SPECIES: species})
    final = table.attrs["final_year"]
    horizons = [int(h) for h in table[results.HORIZON].values]
    short = _risk_short(t)
    rows = []
    if short is not None:
        rows += [
            [short.format(year=h), *_cells(t, results.P_QUASI_EXTINCTION, _fmt_p, scenarios, h)]
            for h in horizons
        ]
    rows += [
        [f"P(extinct by year {h})", *_cells(t, results.P_EXTINCTION, _fmt_p, scenarios, h)]
        for h in horizons
    ]
    noun = _count_noun(t)
    for var, label in (
        (results.MEDIAN_FINAL_ABUNDANCE, f"median {noun} in year {final}"),
        (results.EXPECTED_MINIMUM, f"expected minimum {noun}, years 0–{final}"),
    ):
        rows.append([label] + [_cell(t, var, _fmt_n, **{results.SCENARIO: s}) for s in scenarios])
    rows.extend(_site_rows(table, t, scenarios, short))
    rows.extend(_genetic_rows(table, t, scenarios))
    rows.extend(_red_list_rows(table, t, scenarios))
    rows.extend(_green_rows(table, t, scenarios))
    if results.TOTAL_COST in t:
        cost = t[results.TOTAL_COST]
        currency = str(cost.attrs.get("units", table.attrs.get("currency", "")))
        rows.append(
            [_cost_label(cost)]
            + [
                _with_interval_money(t, results.TOTAL_COST, currency, **{results.SCENARIO: s})
                for s in scenarios
            ]
        )
    return ["", *scenarios], rows


def _cells(
    t: xr.Dataset, var: str, fmt: Formatter, scenarios: list[str], horizon: int
) -> list[str]:
    return [
        _cell(t, var, fmt, **{results.SCENARIO: s, results.HORIZON: horizon}) for s in scenarios
    ]


def _risk_short(t: xr.Dataset) -> str | None:
    """The row label of a species' risk measure with ``{year}`` to fill in, e.g.
    "P(≤ 10 mature by year {year})"; None when the measure is absolute extinction itself."""
    if results.P_QUASI_EXTINCTION not in t or results.QUASI_EXTINCTION_THRESHOLD not in t:
        return None
    threshold = float(t[results.QUASI_EXTINCTION_THRESHOLD])
    on = str(t[results.QUASI_EXTINCTION_ON].values) if results.QUASI_EXTINCTION_ON in t else "total"
    if threshold == 0 and on == "total":
        return None
    counted = "mature" if on == "mature" else "individuals"
    return f"P(≤ {threshold:g} {counted} by year {{year}})"


def _count_noun(t: xr.Dataset) -> str:
    """ "mature individuals" or "individuals", as the species' abundance figures count."""
    if results.ABUNDANCE_COUNTS not in t:
        return "abundance"
    label = str(t[results.ABUNDANCE_COUNTS].values)
    return "mature individuals" if label.startswith("mature") else "individuals"


def _cost_label(cost: xr.DataArray) -> str:
    """ "expected cost, years 0–49, while the species is extant" from the variable's long name."""
    return str(cost.attrs.get("long_name", "expected cost")).replace(
        "expected cost of interventions", "expected cost"
    )


def _with_interval_money(t: xr.Dataset, var: str, currency: str, **where: Any) -> str:
    """A cost with its interval: "99,906 USD (99,853–99,959)"; the interval left out when it is a
    single number (a cost that does not depend on the replicate)."""
    value, lower, upper = _triple(t, var, where)
    text = money(value, currency)
    if text == "–" or not (math.isfinite(lower) and math.isfinite(upper)):
        return text
    low, high = _fmt_money(lower), _fmt_money(upper)
    if low == high == _fmt_money(value):
        return text
    joiner = " to " if low.startswith("-") or high.startswith("-") else "–"
    return f"{text} ({low}{joiner}{high})"


def _site_rows(
    table: xr.Dataset, t: xr.Dataset, scenarios: list[str], short: str | None
) -> list[list[str]]:
    """Per-site rows of a species with several sites (none for one site): each site's risk and
    P(no individuals) by the final horizon, counted from the year the scenario founds the site
    ("not founded" in a scenario that has not founded it by then), and the mean number of sites
    occupied at each horizon."""
    if results.P_SITE_EXTINCTION not in t:
        return []
    exists = (
        t[results.POPULATION_EXISTS].values
        if results.POPULATION_EXISTS in t.coords
        else np.ones(t.sizes[results.POPULATION], dtype=bool)
    )
    if int(np.sum(exists)) < 2:
        return []
    names = (
        [str(n) for n in t[results.POPULATION_NAME].values]
        if results.POPULATION_NAME in t.coords
        else [str(p) for p in t[results.POPULATION].values]
    )
    horizons = [int(h) for h in table[results.HORIZON].values]
    h = horizons[-1]
    rows = []
    for p, (name, real) in enumerate(zip(names, exists, strict=True)):
        if not real:
            continue
        site = t.isel({results.POPULATION: p})
        rows.extend(_founding_rows(site, name, scenarios))
        if short is not None:
            label = short.format(year=h).replace("P(", f"site {name}: P(", 1)
            rows.append([label, *_site_cells(site, results.P_SITE_QUASI_EXTINCTION, scenarios, h)])
        extinct = _site_cells(site, results.P_SITE_EXTINCTION, scenarios, h)
        rows.append([f"site {name}: P(no individuals by year {h})", *extinct])
    n = int(np.sum(exists))
    rows.extend(
        [
            f"sites occupied in year {year} (of {n})",
            *(
                _cell(t, results.SITES_OCCUPIED, _fmt_sites, scenario=s, horizon=year)
                for s in scenarios
            ),
        ]
        for year in horizons
    )
    return rows


NOT_FOUNDED = "not founded"
"""The cell of a site's risk in a year before the scenario founds the site (or in a scenario that
never founds it), where the risk is NaN (:mod:`pva.summary.sites`)."""


def _founding_rows(site: xr.Dataset, name: str, scenarios: list[str]) -> list[list[str]]:
    """ "site NAME: founded in year" in each scenario, for a site that some scenario founds after
    year 0 or never (none for a site occupied from the start in every scenario)."""
    if results.SITE_FOUNDING_YEAR not in site:
        return []
    years = [
        float(_scalar(site, results.SITE_FOUNDING_YEAR, {results.SCENARIO: s})) for s in scenarios
    ]
    if all(y == 0 for y in years):
        return []
    cells = [f"{y:.0f}" if math.isfinite(y) else NOT_FOUNDED for y in years]
    return [[f"site {name}: founded in year", *cells]]


def _site_cells(site: xr.Dataset, var: str, scenarios: list[str], horizon: int) -> list[str]:
    """A site's risk ``var`` by ``horizon`` in each scenario with its interval, or
    :data:`NOT_FOUNDED`."""
    cells = []
    for s in scenarios:
        where = {results.SCENARIO: s, results.HORIZON: horizon}
        value, lower, upper = _triple(site, var, where)
        cells.append(
            _with_interval(value, lower, upper, _fmt_p) if math.isfinite(value) else NOT_FOUNDED
        )
    return cells


def _genetic_rows(table: xr.Dataset, t: xr.Dataset, scenarios: list[str]) -> list[list[str]]:
    """Rows of a species with genetics (none without, :mod:`pva.summary.genetics`): gene diversity
    kept and P(at least 95% kept) at each horizon, mean inbreeding and the expected years above
    95% by the final year, each site's gene diversity by the final horizon."""
    if results.P_GENE_DIVERSITY_TARGET not in t:
        return []
    if not np.isfinite(t[results.P_GENE_DIVERSITY_TARGET].values).any():
        return []
    horizons = [int(h) for h in table[results.HORIZON].values]
    h = horizons[-1]

    def share(var: str, year: int, at: xr.Dataset = t) -> list[str]:
        return [_genetic_cell(at, var, _fmt_share, scenario=s, horizon=year) for s in scenarios]

    rows = [
        [f"gene diversity kept in year {y} (extant)", *share(results.GENE_DIVERSITY_KEPT, y)]
        for y in horizons
    ]
    rows += [
        [
            f"P(≥ 95% gene diversity kept in year {y})",
            *_cells(t, results.P_GENE_DIVERSITY_TARGET, _fmt_p, scenarios, y),
        ]
        for y in horizons
    ]
    rows.append([f"mean inbreeding F in year {h} (extant)", *share(results.MEAN_INBREEDING, h)])
    years = t[results.YEARS_ABOVE_GENE_DIVERSITY_TARGET]
    final = int(years.attrs.get("final_year", table.attrs.get("final_year", h)))
    rows.append(
        [
            f"expected years with ≥ 95% gene diversity (to year {final})",
            *(
                _genetic_cell(t, results.YEARS_ABOVE_GENE_DIVERSITY_TARGET, _fmt_years, scenario=s)
                for s in scenarios
            ),
        ]
    )
    if results.SITE_GENE_DIVERSITY in t and results.POPULATION_EXISTS in t.coords:
        names = [str(n) for n in t[results.POPULATION_NAME].values]
        exists = t[results.POPULATION_EXISTS].values
        rows.extend(
            [
                f"site {name}: gene diversity in year {h}",
                *share(results.SITE_GENE_DIVERSITY, h, t.isel({results.POPULATION: p})),
            ]
            for p, (name, real) in enumerate(zip(names, exists, strict=True))
            if real
        )
    return rows


def _genetic_cell(t: xr.Dataset, var: str, fmt: Formatter, **where: Any) -> str:
    """As :func:`_cell`, the interval left out where it is not finite (a single replicate)."""
    value, lower, upper = _triple(t, var, where)
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return fmt(value)
    return _with_interval(value, lower, upper, fmt)


def _fmt_share(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "–"


def _fmt_years(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "–"


def _fmt_sites(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "–"


def species_note(table: xr.Dataset, species: str) -> str:
    """What one species' rows count, in words: its risk measure, its abundance count and what
    absolute extinction means."""
    t = table.sel({results.SPECIES: species})
    parts = []
    if results.RISK_MEASURE in t:
        parts.append(f"risk: {t[results.RISK_MEASURE].values}")
    if results.ABUNDANCE_COUNTS in t:
        parts.append(f"abundance: {t[results.ABUNDANCE_COUNTS].values}")
    parts.append("extinct: no individuals of any stage")
    return "; ".join(parts)


def best_action_text(table: xr.Dataset, species: str) -> str:
    """The answer for one species in one sentence: the best scenario with its risk and
    probability of extinction, the reduction against no action and the margin over the
    runner-up, with intervals (paired); "" when there is nothing to compare."""
    if results.BEST_SCENARIO not in table:
        return ""
    t = table.sel({results.SPECIES: species})
    best = str(t[results.BEST_SCENARIO].values)
    if not best:
        return ""
    final = int(table.attrs["final_year"])
    no_action = str(table.attrs["no_action"])
    short = _risk_short(t)
    at = {results.SCENARIO: best, results.HORIZON: final}
    parts = []
    if short is not None:
        parts.append(
            f"{short.format(year=final)} = {_cell(t, results.P_QUASI_EXTINCTION, _fmt_p, **at)}"
        )
    parts.append(f"P(extinct by year {final}) = {_cell(t, results.P_EXTINCTION, _fmt_p, **at)}")
    text = f"best: {best} — " + ", ".join(parts)
    noun = "risk"
    if results.BEST_RANKED_BY in t and str(t[results.BEST_RANKED_BY].values) != "risk":
        noun = str(t[results.BEST_RANKED_BY].values)
        risk = _fmt_p(float(t[results.P_QUASI_EXTINCTION].sel(at)))
        text += f"; every scenario has the same risk ({risk}), so they are judged by {noun}"
    text += "; " + _difference(t, results.RISK_REDUCTION, repr(no_action), noun)
    runner = str(t[results.RUNNER_UP].values)
    if runner:
        text += "; " + _difference(t, results.MARGIN, f"the runner-up {runner!r}", noun)
    return text


def _difference(t: xr.Dataset, var: str, other: str, noun: str = "risk") -> str:
    """ "risk 0.04 (0.03–0.05) below 'no action' (paired)", or "risk no different from ..." when
    the interval of the paired difference includes 0 (``noun``: what the difference is in)."""
    value, lower, upper = (float(t[var + s]) for s in ("", LOWER_SUFFIX, UPPER_SUFFIX))
    if not math.isfinite(value):
        return ""
    if lower <= 0 <= upper:
        return f"{noun} no different from {other} ({value:.2f}; {lower:.2f} to {upper:.2f}, paired)"
    cell = _with_interval(value, lower, upper, lambda v: f"{v:.2f}")
    return f"{noun} {cell} below {other} (paired)"


# ---------------------------------------------------------------------------------------------------
# the Red List rows (pva.summary.tables.red_list_by_horizon)


LOWER_BOUND_MARK = "≥ "
"""Marks a category that is a lower bound (criteria not evaluated could have given a higher one)."""
UPPER_BOUND_MARK = "≤ "
"""Marks a Red List Index that is an upper bound (some species' category is a lower bound)."""


LOWER_BOUND_NOTE = (
    f"{LOWER_BOUND_MARK.strip()} a lower bound: a criterion not evaluated could have given a "
    "higher category"
)
"""What :data:`LOWER_BOUND_MARK` means, said once under a table that uses it."""


def category_share(
    category: str, share: float, *, criteria: str = "", lower_bound: bool = False
) -> str:
    """One category of a cell of Red List shares, as summaries and the report write it:
    ``"≥ EN >99% (D)"``.

    The share is a whole percentage ("<1%" and ">99%" where rounding would show 0% or 100%);
    ``criteria`` (IUCN notation, without the category) follow in parentheses unless the share
    is under 1% (the criteria of a handful of replicates say little) or empty; ``lower_bound``
    (some replicate in the category is a lower bound, :func:`pva.summary.lower_bounds`) puts
    :data:`LOWER_BOUND_MARK` first.
    """
    percent = _percent(share)
    text = f"{LOWER_BOUND_MARK if lower_bound else ''}{category} {percent}"
    if criteria and percent != "<1%":
        text += f" ({criteria})"
    return text


def _category_cells(shares: xr.DataArray, scenarios: list[str]) -> list[str]:
    """Per scenario, the categories some replicate is in, with their shares ("CR 20%, EX 80%")."""
    cells = []
    for s in scenarios:
        row = shares.sel({results.SCENARIO: s})
        parts = [
            category_share(str(c), float(v))
            for c, v in zip(row[results.CATEGORY_DIM].values, row.values, strict=True)
            if float(v) > 0
        ]
        cells.append(", ".join(parts) or "–")
    return cells


def _percent(share: float) -> str:
    """A share as a whole percentage; "<1%" and ">99%" where rounding would show 0% or 100%
    (0.5% rounds to even, to 0)."""
    text = f"{100 * share:.0f}"
    if share > 0 and text == "0":
        return "<1%"
    if share < 1 and text == "100":
        return ">99%"
    return f"{text}%"


def _most_likely_cell(t: xr.Dataset, **where: Any) -> str:
    """The most likely category with the criteria that set it ("CR D"), marked "≥ " when it is a
    lower bound."""
    label = str(_scalar(t, results.MOST_LIKELY_CATEGORY, where))
    criteria = str(_scalar(t, results.MOST_LIKELY_CRITERIA, where))
    mark = LOWER_BOUND_MARK if bool(_scalar(t, results.MOST_LIKELY_LOWER_BOUND, where)) else ""
    return f"{mark}{label} {criteria}".rstrip()


def red_list_rows(table: xr.Dataset, species: str) -> Rows:
    """The Red List rows of one species as ``(header, rows)``, scenarios across: at each horizon
    the share of replicates in each category and the most likely category with the criteria that
    set it ("≥ " where it is a lower bound, see :func:`red_list_notes`). Empty without the Red
    List part."""
    scenarios = results.names_of(table, results.SCENARIO)
    rows = _red_list_rows(table, table.sel({results.SPECIES: species}), scenarios)
    return (["", *scenarios], rows) if rows else ([], [])


def _red_list_rows(table: xr.Dataset, t: xr.Dataset, scenarios: list[str]) -> list[list[str]]:
    if results.CATEGORY_SHARE_BY_HORIZON not in t:
        if results.CATEGORY_SHARE not in t:
            return []
        # a table of an earlier version: the final year only
        final = table.attrs["final_year"]
        return [
            [
                f"Red List category in year {final}",
                *_category_cells(t[results.CATEGORY_SHARE], scenarios),
            ]
        ]
    rows = []
    for h in table[results.HORIZON].values:
        at = {results.HORIZON: h}
        shares = t[results.CATEGORY_SHARE_BY_HORIZON].sel(at)
        rows.append([f"Red List category in year {int(h)}", *_category_cells(shares, scenarios)])
        rows.append(
            [
                "  most likely, criteria",
                *(_most_likely_cell(t, **at, **{results.SCENARIO: s}) for s in scenarios),
            ]
        )
    return rows


def red_list_notes(table: xr.Dataset, species: str) -> list[str]:
    """What was not evaluated for one species at each horizon and why, one line per reason
    (prefixed by the scenarios it holds for when it does not hold for all), then what "≥ " means
    where some category is a lower bound. Empty without the Red List part."""
    if results.NOT_EVALUATED not in table:
        return []
    scenarios = results.names_of(table, results.SCENARIO)
    t = table.sel({results.SPECIES: species})
    lines = []
    for h in table[results.HORIZON].values:
        by_note: dict[str, list[str]] = {}
        for s in scenarios:
            note = str(
                t[results.NOT_EVALUATED].sel({results.HORIZON: h, results.SCENARIO: s}).item()
            )
            if note:
                by_note.setdefault(note, []).append(s)
        for note, where in by_note.items():
            prefix = "" if len(where) == len(scenarios) else f"{', '.join(where)}: "
            # one line per reason ("A2 not evaluated: ...; A3, E not evaluated: ...")
            lines.extend(f"{prefix}{part}" for part in note.split("; "))
    if bool(t[results.MOST_LIKELY_LOWER_BOUND].any()):
        lines.append(LOWER_BOUND_NOTE)
    return lines


def rli_rows(table: xr.Dataset) -> Rows:
    """The Red List Index and ΔRLI against no action at each horizon, with their intervals, as
    ``(header, rows)`` (scenarios across); "≤ " marks an index that is an upper bound because
    some species' category is a lower bound there. Empty without the Red List part."""
    if results.RLI_BY_HORIZON not in table:
        return [], []
    scenarios = results.names_of(table, results.SCENARIO)
    return ["", *scenarios], _rli_rows(table, scenarios)


def _rli_rows(table: xr.Dataset, scenarios: list[str]) -> list[list[str]]:
    no_action = table.attrs["no_action"]
    rows = []
    for h in table[results.HORIZON].values:
        at = {results.HORIZON: h}
        bound = table[results.LOWER_BOUND_SHARE].sel(at).max(results.SPECIES) > 0
        cells = []
        deltas = []
        for s in scenarios:
            where = {**at, results.SCENARIO: s}
            mark = UPPER_BOUND_MARK if bool(bound.sel({results.SCENARIO: s})) else ""
            cells.append(mark + _cell(table, results.RLI_BY_HORIZON, _fmt_rli, **where))
            deltas.append(
                "–"
                if s == no_action
                else _cell(table, results.DELTA_RLI_BY_HORIZON, _signed, **where)
            )
        rows.append([f"Red List Index in year {int(h)}", *cells])
        rows.append([f"ΔRLI vs {no_action!r} in year {int(h)}", *deltas])
    return rows


def _fmt_rli(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "–"


def _signed(value: float) -> str:
    return f"{value:+.3f}" if math.isfinite(value) else "–"


_GREEN_METRICS = (
    (results.SPECIES_RECOVERY_SCORE, "Species Recovery Score now (%)", "no_action"),
    (results.CONSERVATION_LEGACY, "Conservation Legacy (points)", "without_past_conservation"),
    (results.CONSERVATION_DEPENDENCE, "Conservation Dependence (points)", "no_action"),
    (results.CONSERVATION_GAIN, "Conservation Gain (points)", "action"),
    (results.RECOVERY_POTENTIAL, "Recovery Potential (points)", "potential"),
)
"""Green Status metrics, their row labels and the scenario whose column shows them."""


def _green_rows(table: xr.Dataset, t: xr.Dataset, scenarios: list[str]) -> list[list[str]]:
    """Green Status rows of one species: Green Scores by year per scenario, then each metric in the
    column of the scenario it is computed from."""
    if results.GREEN_SCORE not in t:
        return []
    rows: list[list[str]] = []
    for year in table[results.GREEN_YEAR].values:
        cells = [
            _cell(
                t,
                results.GREEN_SCORE,
                _fmt_whole,
                **{results.SCENARIO: sc, results.GREEN_YEAR: year},
            )
            for sc in scenarios
        ]
        rows.append([f"Green Score in year {int(year)} (%)", *cells])
    chosen = json.loads(table.attrs.get("green_status", "{}"))
    for var, label, role in _GREEN_METRICS:
        if var not in t:
            continue
        fmt = _fmt_whole if var == results.SPECIES_RECOVERY_SCORE else _fmt_signed
        value = _cell(t, var, fmt)
        rows.append([label, *(value if sc == chosen.get(role) else "–" for sc in scenarios)])
    return rows


def green_status_rows(table: xr.Dataset) -> Rows:
    """The Green Status metrics of every species as ``(header, rows)``: species down, the current
    Species Recovery Score and the conservation metrics across; empty without a Green Status."""
    present = [(v, label) for v, label, _ in _GREEN_METRICS if v in table]
    if results.GREEN_SCORE not in table or not present:
        return [], []
    rows = []
    for sp in results.names_of(table, results.SPECIES):
        t = table.sel({results.SPECIES: sp})
        cells = [
            _cell(t, var, _fmt_whole if var == results.SPECIES_RECOVERY_SCORE else _fmt_signed)
            for var, _ in present
        ]
        rows.append([sp, *cells])
    return ["", *(label for _, label in present)], rows


def study_rows(table: xr.Dataset) -> Rows:
    """The all-species comparison (Red List Index, ΔRLI, extinctions prevented, costs and
    cost-effectiveness) as ``(header, rows)``; empty when the table has no Red List part."""
    if results.RLI_SUMMARY not in table:
        return [], []
    scenarios = results.names_of(table, results.SCENARIO)
    no_action = table.attrs["no_action"]
    year = table.attrs["final_year"]
    currency = str(table.attrs.get("currency", "currency units"))

    def signed(value: float) -> str:
        return f"{value:+.3f}" if math.isfinite(value) else "–"

    def against(var: str, fmt: Formatter) -> list[str]:
        """``var`` with its interval for every scenario but no action itself."""
        return [
            _cell(table, var, fmt, **{results.SCENARIO: s}) if s != no_action else "–"
            for s in scenarios
        ]

    def plain(var: str, fmt: Formatter) -> list[str]:
        return [
            fmt(float(table[var].sel({results.SCENARIO: s}))) if s != no_action else "–"
            for s in scenarios
        ]

    if results.RLI_BY_HORIZON in table:
        rows = _rli_rows(table, scenarios)
    else:  # a table of an earlier version: the final year only
        rows = [
            [
                f"Red List Index in year {year}",
                *(
                    _cell(table, results.RLI_SUMMARY, _fmt_rli, **{results.SCENARIO: s})
                    for s in scenarios
                ),
            ],
            [f"ΔRLI vs {no_action!r} (paired)", *against(results.DELTA_RLI, signed)],
        ]
    rows += [
        [
            f"extinctions prevented vs {no_action!r} by year {year} (risk measures)",
            *against(results.EXTINCTIONS_PREVENTED, _fmt_p),
        ],
    ]
    if results.ABSOLUTE_EXTINCTIONS_PREVENTED in table:
        rows.append(
            [
                "absolute extinctions prevented (no individuals)",
                *against(results.ABSOLUTE_EXTINCTIONS_PREVENTED, _fmt_p),
            ]
        )
    rows.append(["P(at least one extinction prevented)", *plain(results.P_ANY_PREVENTED, _fmt_p)])
    if results.INCREMENTAL_COST in table:
        rows.append(
            [
                f"expected cost beyond {no_action!r}",
                *(
                    _with_interval_money(table, results.INCREMENTAL_COST, currency, scenario=s)
                    if s != no_action
                    else "–"
                    for s in scenarios
                ),
            ]
        )
        for var, label in (
            (results.COST_PER_EXTINCTION_PREVENTED, "cost per extinction prevented"),
            (results.COST_PER_DELTA_RLI, "cost per unit of ΔRLI"),
        ):
            if var in table:
                rows.append([label, *_ratio_cells(table, var, currency, scenarios, no_action)])
        if results.EXTINCTIONS_PREVENTED_PER_COST in table:
            rows.append(
                [
                    f"extinctions prevented per 1,000,000 {currency}",
                    *plain(results.EXTINCTIONS_PREVENTED_PER_COST, _fmt_rate),
                ]
            )
    return ["", *scenarios], rows


SITE_INDICATOR_LABELS = (
    ("site_trigger_present", "trigger species present", "{:.2f}"),
    ("site_trigger_threatened", "still threatened there", "{:.2f}"),
    ("site_rli_contribution", "share of the RLI's shortfall", "{:.3f}"),
)
"""The site indicators of :mod:`pva.summary.aze` and how rows show them."""


def site_indicator_rows(table: xr.Dataset) -> Rows:
    """The site indicators (study's ``[[sites]]``) by site and horizon as ``(header, rows)``;
    empty when the table has none."""
    if "study_site" not in table.dims:
        return [], []
    scenarios = results.names_of(table, results.SCENARIO)
    rows = []
    for site in table["study_site"].values:
        aze = bool(table["aze"].sel(study_site=site)) if "aze" in table.coords else False
        name = f"{site} (AZE)" if aze else str(site)
        for h in table[results.HORIZON].values:
            for var, label, pattern in SITE_INDICATOR_LABELS:
                if var not in table:
                    continue
                fmt = pattern.format
                cells = [
                    _cell(table, var, fmt, study_site=site, scenario=s, horizon=h)
                    for s in scenarios
                ]
                rows.append([f"{name}: {label}, year {int(h)}", *cells])
    return ["", *scenarios], rows


def _ratio_cells(
    table: xr.Dataset, var: str, currency: str, scenarios: list[str], no_action: str
) -> list[str]:
    """A cost-effectiveness ratio with its bootstrap interval, "not estimable" where the effect's
    interval includes 0."""
    not_estimable = set(str(table[var].attrs.get("not_estimable", "")).split("; ")) - {""}
    cells = []
    for s in scenarios:
        if s == no_action:
            cells.append("–")
        elif s in not_estimable:
            cells.append("not estimable")
        else:
            cells.append(_with_interval_money(table, var, currency, scenario=s))
    return cells


def ranking_note(table: xr.Dataset) -> str:
    """Why a table with costs ranks no single intervention (no scenario adds exactly one
    intervention to no action's), as a sentence; empty when it ranks some or has no costs."""
    if results.RANK_BY_DELTA_RLI in table or results.INCREMENTAL_COST not in table:
        return ""
    if table.sizes.get(results.SCENARIO, 1) < 2:
        return ""
    return (
        "Single interventions are not ranked: no scenario adds exactly one intervention to "
        f"{table.attrs.get('no_action', 'no action')!r}; add such scenarios to rank them."
    )


def ranking_rows(table: xr.Dataset) -> Rows:
    """Single interventions (scenarios adding one intervention to no action) ranked by ΔRLI, with
    their rank by extinctions prevented per currency unit, as ``(header, rows)``; empty when the
    table ranks none."""
    if results.RANK_BY_DELTA_RLI not in table:
        return [], []
    currency = str(table.attrs.get("currency", "currency units"))
    ranks = table[results.RANK_BY_DELTA_RLI]
    ranked = sorted(
        (int(r), str(s))
        for s, r in zip(ranks[results.SCENARIO].values, ranks.values, strict=True)
        if math.isfinite(float(r))
    )
    header = [
        "intervention",
        "rank by ΔRLI",
        "ΔRLI (paired)",
        "extinctions prevented",
        "cost beyond no action",
        f"prevented per 1,000,000 {currency}",
        "rank by cost-effectiveness",
    ]
    rows = []
    for rank, s in ranked:
        at = {results.SCENARIO: s}
        other = (
            float(table[results.RANK_BY_COST_EFFECTIVENESS].sel(at))
            if results.RANK_BY_COST_EFFECTIVENESS in table
            else float("nan")
        )
        rows.append(
            [
                s,
                str(rank),
                _cell(table, results.DELTA_RLI, lambda v: f"{v:+.3f}", **at),
                _cell(table, results.EXTINCTIONS_PREVENTED, _fmt_p, **at),
                money(float(table[results.INCREMENTAL_COST].sel(at)), currency)
                if results.INCREMENTAL_COST in table
                else "–",
                _fmt_rate(float(table[results.EXTINCTIONS_PREVENTED_PER_COST].sel(at)))
                if results.EXTINCTIONS_PREVENTED_PER_COST in table
                else "–",
                str(int(other)) if math.isfinite(other) else "not estimable",
            ]
        )
    return header, rows


def run_rows(overview: xr.Dataset) -> Rows:
    """:func:`pva.summary.run_overview` as ``(header, rows)``: one row per species x scenario with
    the probability of the species' risk event (quasi-extinction at the threshold the study sets)
    and of absolute extinction by the final year (3
    decimals) and the median final abundance (as the species counts it)."""
    year = overview.attrs["final_year"]
    header = [
        "species",
        "scenario",
        f"P(quasi-extinct by year {year})",
        f"P(extinct by year {year})",
        f"median abundance in year {year}",
    ]
    rows = []
    for sp in results.names_of(overview, results.SPECIES):
        for sc in results.names_of(overview, results.SCENARIO):
            at = overview.sel({results.SPECIES: sp, results.SCENARIO: sc})
            quasi = float(at[results.P_QUASI_EXTINCTION])
            p = float(at[results.P_EXTINCTION])
            median = float(at[results.MEDIAN_FINAL_ABUNDANCE])
            rows.append([sp, sc, f"{quasi:.3f}", f"{p:.3f}", f"{median:,.6g}"])
    return header, rows


def run_notes(overview: xr.Dataset) -> list[str]:
    """What the columns of :func:`run_rows` count, one line per species, and absolute extinction."""
    lines = []
    for sp in results.names_of(overview, results.SPECIES):
        at = overview.sel({results.SPECIES: sp})
        lines.append(
            f"{sp}: quasi-extinct = {at[results.RISK_MEASURE].values}; "
            f"abundance = {at[results.ABUNDANCE_COUNTS].values}"
        )
    lines.append("extinct: no individuals of any stage left")
    return lines


# ---------------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------------


def render_rows(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    style: TableStyle,
    *,
    align: Literal["numbers", "left"] = "numbers",
) -> str:
    """Render a header and rows of cells as aligned text, a Markdown table or an HTML table.

    ``align="numbers"``: in text, the first column left-aligned and the others right-aligned;
    ``"left"``: every column left-aligned.
    """
    if style == "text":
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def justify(i: int, cell: str, width: int) -> str:
            return cell.ljust(width) if i == 0 or align == "left" else cell.rjust(width)

        lines = [
            "  ".join(
                justify(i, c, w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
            for r in [header, *rows]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)
    if style == "markdown":

        def md(r: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"

        rule = "|" + "|".join(["---", *["---:"] * (len(header) - 1)]) + "|"
        return "\n".join([md(header), rule] + [md(r) for r in rows])
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
    all-species Red List comparison. Intervals are shown in parentheses. A sweep's table (a
    ``sample`` dim) is printed by :func:`pva.summary.sweep.format_sweep_table`."""
    if results.SAMPLE in table.dims:
        return sweep.format_sweep_table(table, style=style)
    blocks: list[str] = []
    confidence = float(table.attrs.get("confidence", 0.95))
    note = (
        f"{table.attrs['n_replicates']} replicates; {confidence:.0%} intervals in parentheses; "
        f"comparisons against {table.attrs['no_action']!r}"
    )
    for sp in results.names_of(table, results.SPECIES):
        header, rows = species_rows(table, sp)
        lines = [species_note(table, sp), render_rows(header, rows, style)]
        best = best_action_text(table, sp)
        if best:
            lines.append(best)
        blocks.append(_titled(sp, _joined(lines, style), style))
        blocks.extend(_notes(red_list_notes(table, sp), style))
    header, rows = study_rows(table)
    if rows:
        blocks.append(_titled("All species", render_rows(header, rows, style), style))
    header, rows = site_indicator_rows(table)
    if rows:
        blocks.append(_titled("Sites shared by species", render_rows(header, rows, style), style))
    header, rows = ranking_rows(table)
    if rows:
        body = render_rows(header, rows, style)
        blocks.append(_titled("Single interventions ranked", body, style))
    elif unranked := ranking_note(table):
        blocks.append(html.escape(unranked) if style == "html" else unranked)
    if table.attrs.get("red_list_skipped"):
        note += f"; Red List part skipped: {table.attrs['red_list_skipped']}"
    blocks.append(html.escape(note) if style == "html" else note)
    return "\n\n".join(blocks) + "\n"


def format_run_overview(overview: xr.Dataset) -> str:
    """:func:`pva.summary.run_overview` as an aligned text table with a line per species saying
    what its risk event and abundance count (what ``pva run`` prints)."""
    header, rows = run_rows(overview)
    return "\n".join([render_rows(header, rows, "text", align="left"), *run_notes(overview)])


def _joined(lines: list[str], style: TableStyle) -> str:
    """Lines of a block: sentences become paragraphs in HTML (escaped) and stay lines elsewhere;
    tables (already rendered) are kept as they are."""
    if style == "text":
        # sentences wrapped for a terminal; tables (several lines already) kept as they are
        return "\n".join(
            line if "\n" in line else textwrap.fill(line, _TEXT_WIDTH, subsequent_indent="  ")
            for line in lines
        )
    if style != "html":
        return "\n\n".join(lines)
    return "\n".join(
        line if line.startswith("<table") else f'<p class="note">{html.escape(line)}</p>'
        for line in lines
    )


def _notes(lines: list[str], style: TableStyle) -> list[str]:
    """Notes under a table: one block of lines (a list in Markdown, paragraphs in HTML)."""
    if not lines:
        return []
    if style == "markdown":
        return ["\n".join(f"- {line}" for line in lines)]
    if style == "html":
        return ["\n".join(f'<p class="note">{html.escape(line)}</p>' for line in lines)]
    return ["\n".join(lines)]


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
    for name, coord in table.coords.items():
        if name not in table.dims:  # e.g. population_name (species, population)
            doc["coords"][str(name)] = {
                "dims": [str(d) for d in coord.dims],
                "data": coord.values.tolist(),
            }
    for name, var in table.data_vars.items():
        doc["variables"][str(name)] = {
            "dims": [str(d) for d in var.dims],
            "attrs": dict(var.attrs),
            "data": var.values.tolist(),
        }
    return json.dumps(_jsonable(doc), indent=1, ensure_ascii=False)
