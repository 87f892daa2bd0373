"""Formatting of summary tables (:mod:`pva.summary.tables`): aligned text, Markdown, HTML and JSON.

Nothing is computed here but the layout of numbers already in a table: a cell shows an estimate
with its interval in parentheses.
"""

from __future__ import annotations

import html
import json
import math
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
    if not math.isfinite(value):
        return "–"
    return f"{value:,.0f}"


def _fmt_whole(value: float) -> str:
    return f"{value:.0f}" if math.isfinite(value) else "–"


def _fmt_signed(value: float) -> str:
    return f"{value:+.0f}" if math.isfinite(value) else "–"


def _with_interval(value: float, lower: float, upper: float, fmt: Formatter) -> str:
    low, high = fmt(lower), fmt(upper)
    # an en dash between negative numbers reads as a minus sign: "-30 to -29", not "-30–-29"
    joiner = " to " if low.startswith("-") or high.startswith("-") else "–"
    return f"{fmt(value)} ({low}{joiner}{high})"


def _cell(table: xr.Dataset, var: str, fmt: Formatter, **where: Any) -> str:
    """``var`` at ``where`` with its ``_lower``/``_upper`` interval."""
    value, lower, upper = (
        float(table[var + suffix].sel(where)) for suffix in ("", LOWER_SUFFIX, UPPER_SUFFIX)
    )
    return _with_interval(value, lower, upper, fmt)


# ---------------------------------------------------------------------------------------------------
# rows
# ---------------------------------------------------------------------------------------------------


def species_rows(table: xr.Dataset, species: str) -> Rows:
    """The comparison of one species as ``(header, rows)``: metrics down, scenarios across."""
    scenarios = results.names_of(table, results.SCENARIO)
    t = table.sel({results.SPECIES: species})
    final = table.attrs["final_year"]
    rows = [
        [f"P(extinct by year {int(h)})"]
        + [
            _cell(t, results.P_EXTINCTION, _fmt_p, **{results.SCENARIO: s, results.HORIZON: h})
            for s in scenarios
        ]
        for h in table[results.HORIZON].values
    ]
    if results.P_QUASI_EXTINCTION in t and float(t[results.QUASI_EXTINCTION_THRESHOLD]) > 0:
        threshold = float(t[results.QUASI_EXTINCTION_THRESHOLD])
        h = int(table[results.HORIZON].values[-1])
        rows.append(
            [f"P(≤ {threshold:g} individuals by year {h})"]
            + [
                _cell(
                    t,
                    results.P_QUASI_EXTINCTION,
                    _fmt_p,
                    **{results.SCENARIO: s, results.HORIZON: h},
                )
                for s in scenarios
            ]
        )
    for var, label in (
        (results.MEDIAN_FINAL_ABUNDANCE, f"median abundance in year {final}"),
        (results.EXPECTED_MINIMUM, "expected minimum abundance"),
    ):
        rows.append([label] + [_cell(t, var, _fmt_n, **{results.SCENARIO: s}) for s in scenarios])
    rows.extend(_red_list_rows(table, t, scenarios))
    rows.extend(_green_rows(table, t, scenarios))
    if results.TOTAL_COST in t:
        cost = t[results.TOTAL_COST]
        rows.append(
            [str(cost.attrs["long_name"])]
            + [_fmt_money(float(cost.sel({results.SCENARIO: s}))) for s in scenarios]
        )
    return ["", *scenarios], rows


# ---------------------------------------------------------------------------------------------------
# the Red List rows (pva.summary.tables.red_list_by_horizon)


LOWER_BOUND_MARK = "≥ "
"""Marks a category that is a lower bound (criteria not evaluated could have given a higher one)."""
UPPER_BOUND_MARK = "≤ "
"""Marks a Red List Index that is an upper bound (some species' category is a lower bound)."""


def _category_cells(shares: xr.DataArray, scenarios: list[str]) -> list[str]:
    """Per scenario, the categories some replicate is in, with their shares ("CR 20%, EX 80%")."""
    cells = []
    for s in scenarios:
        row = shares.sel({results.SCENARIO: s})
        parts = [
            f"{c} {_percent(float(v))}"
            for c, v in zip(row[results.CATEGORY_DIM].values, row.values, strict=True)
            if float(v) > 0
        ]
        cells.append(", ".join(parts) or "–")
    return cells


def _percent(share: float) -> str:
    """A share as a whole percentage; "<1%" and ">99%" where rounding would show 0% or 100%."""
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{100 * share:.0f}%"


def _most_likely_cell(t: xr.Dataset, **where: Any) -> str:
    """The most likely category with the criteria that set it ("CR D"), marked "≥ " when it is a
    lower bound."""
    at = t.sel(where)
    label = str(at[results.MOST_LIKELY_CATEGORY].item())
    criteria = str(at[results.MOST_LIKELY_CRITERIA].item())
    mark = LOWER_BOUND_MARK if bool(at[results.MOST_LIKELY_LOWER_BOUND]) else ""
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
        lines.append(
            f"{LOWER_BOUND_MARK.strip()} a lower bound: a criterion not evaluated could have "
            "given a higher category"
        )
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
    """The all-species comparison (Red List Index, extinctions prevented, cost) as ``(header, rows)``;
    empty when the table has no Red List part."""
    if results.RLI_SUMMARY not in table:
        return [], []
    scenarios = results.names_of(table, results.SCENARIO)
    no_action = table.attrs["no_action"]
    year = table.attrs["final_year"]

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
            f"extinctions prevented vs {no_action!r} by year {year}",
            *against(results.EXTINCTIONS_PREVENTED, _fmt_p),
        ],
        ["P(at least one extinction prevented)", *plain(results.P_ANY_PREVENTED, _fmt_p)],
    ]
    if results.COST_PER_EXTINCTION_PREVENTED in table:
        rows.append(
            [
                "cost per extinction prevented",
                *plain(results.COST_PER_EXTINCTION_PREVENTED, _fmt_money),
            ]
        )
    return ["", *scenarios], rows


def run_rows(overview: xr.Dataset) -> Rows:
    """:func:`pva.summary.run_overview` as ``(header, rows)``: one row per species x scenario with
    P(extinct by the final year) to 3 decimals and the median final abundance."""
    header = [
        "species",
        "scenario",
        f"P(extinct by year {overview.attrs['final_year']})",
        "median final abundance",
    ]
    rows = []
    for sp in results.names_of(overview, results.SPECIES):
        for sc in results.names_of(overview, results.SCENARIO):
            at = overview.sel({results.SPECIES: sp, results.SCENARIO: sc})
            p = float(at[results.P_EXTINCTION])
            median = float(at[results.MEDIAN_FINAL_ABUNDANCE])
            rows.append([sp, sc, f"{p:.3f}", f"{median:g}"])
    return header, rows


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
        blocks.append(_titled(sp, render_rows(header, rows, style), style))
        blocks.extend(_notes(red_list_notes(table, sp), style))
    header, rows = study_rows(table)
    if rows:
        blocks.append(_titled("All species", render_rows(header, rows, style), style))
    if table.attrs.get("red_list_skipped"):
        note += f"; Red List part skipped: {table.attrs['red_list_skipped']}"
    blocks.append(html.escape(note) if style == "html" else note)
    return "\n\n".join(blocks) + "\n"


def format_run_overview(overview: xr.Dataset) -> str:
    """:func:`pva.summary.run_overview` as an aligned text table (what ``pva run`` prints)."""
    header, rows = run_rows(overview)
    return render_rows(header, rows, "text", align="left")


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
    for name, var in table.data_vars.items():
        doc["variables"][str(name)] = {
            "dims": [str(d) for d in var.dims],
            "attrs": dict(var.attrs),
            "data": var.values.tolist(),
        }
    return json.dumps(_jsonable(doc), indent=1, ensure_ascii=False)
