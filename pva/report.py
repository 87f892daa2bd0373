"""A self-contained HTML report of a results Dataset, for planners to open offline and forward.

One file, nothing fetched: styles are inline, figures are embedded as base64 PNG (or inline SVG) and
no link points outside the page. The page reads without JavaScript; a few lines of it make the
portfolio table sortable (click a column heading) and mark, for the headless-browser test and for
anyone inspecting the page, whether every figure decoded and at what size (``data-loaded`` and
``data-rendered="WxH"`` on each ``<img>``, ``data-figures-loaded="n/m"`` on ``<body>``) and whether
any resource failed (``data-errors`` on ``<html>``).

Layout: the answer first: per species, the risk under each scenario (the species' own risk measure,
with absolute extinction beside it) and the best action with its margin and interval; a study of
many species opens instead with the portfolio, one sortable table of species x scenarios (risk,
Red List category, contribution to ΔRLI), with the RLI and ΔRLI. Then costs and cost-effectiveness,
the species (full sections with every figure for a few species, compact ones with one figure each
for many), the Red List Index, the Green Status and the assumptions (the study as recorded with the
results, without engine settings, matrices labelled with their stages).
"""

from __future__ import annotations

import base64
import datetime
import html
import itertools
import json
import os
import re
import struct
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

import pva
from pva import io, measures, plots, redlist, summary
from pva import results as names

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_CSS = """
:root { --ink: #1d2327; --muted: #5c6670; --rule: #d5dade; --band: #f4f6f7; --accent: #1f5f8b; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1060px; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 .6rem; padding-top: .6rem; border-top: 2px solid var(--rule); }
h3 { font-size: 1.08rem; margin: 1.4rem 0 .4rem; }
h4 { font-size: .98rem; margin: .9rem 0 .2rem; }
p.meta, p.note, figcaption { color: var(--muted); font-size: .9rem; }
nav ol { columns: 2; padding-left: 1.2rem; margin: .4rem 0; }
nav a, a { color: var(--accent); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .88rem; }
th, td { border: 1px solid var(--rule); padding: .3rem .55rem; vertical-align: top; }
thead th { background: var(--band); text-align: center; }
tbody th { text-align: left; font-weight: 600; background: #fafbfb; }
table.summary td { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.summary tbody th { min-width: 12em; }
table.summary td.text { text-align: left; }
table.spec td { text-align: left; }
table.matrix td { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0 1.6rem; }
figure img, figure svg { max-width: 100%; height: auto; display: block;
                         border: 1px solid var(--rule); background: #fff; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .4rem 0; }
dl.kv dt { font-weight: 600; } dl.kv dd { margin: 0; }
code, pre { font: .85rem/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: var(--band); padding: .6rem; overflow-x: auto; }
table.sortable th { cursor: pointer; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; }
.answer { background: var(--band); border-left: 4px solid var(--accent); padding: .5rem .8rem; }
.compact figure { margin: .4rem 0 1rem; }
@media print { body { max-width: none; } h2 { break-before: page; } figure { break-inside: avoid; } }
"""

# Marks what loaded and its size, and makes tables of class "sortable" sortable; the page reads the
# same without it.
_SCRIPT = """
(function () {
  var root = document.documentElement, errors = 0;
  root.setAttribute('data-errors', '0');
  window.addEventListener('error', function () {
    errors += 1; root.setAttribute('data-errors', String(errors));
  }, true);
  function sortBy(table, column, th) {
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var down = th.getAttribute('aria-sort') === 'ascending';
    rows.sort(function (a, b) {
      var x = a.cells[column].getAttribute('data-value'), y = b.cells[column].getAttribute('data-value');
      var nx = parseFloat(x), ny = parseFloat(y), r;
      if (!isNaN(nx) && !isNaN(ny)) { r = nx - ny; } else { r = String(x).localeCompare(String(y)); }
      return down ? -r : r;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute('aria-sort'); }
    th.setAttribute('aria-sort', down ? 'descending' : 'ascending');
  }
  window.addEventListener('load', function () {
    var images = document.images, loaded = 0;
    for (var i = 0; i < images.length; i++) {
      var box = images[i].getBoundingClientRect();
      images[i].setAttribute('data-rendered', Math.round(box.width) + 'x' + Math.round(box.height));
      if (images[i].complete && images[i].naturalWidth > 0) {
        images[i].setAttribute('data-loaded', 'true'); loaded += 1;
      }
    }
    document.body.setAttribute('data-figures-loaded', loaded + '/' + images.length);
    var tables = document.querySelectorAll('table.sortable');
    for (var t = 0; t < tables.length; t++) {
      (function (table) {
        var heads = table.tHead.rows[0].cells;
        for (var c = 0; c < heads.length; c++) {
          (function (column) {
            heads[column].addEventListener('click', function () { sortBy(table, column, heads[column]); });
          })(c);
        }
        table.setAttribute('data-sortable', 'ready');
      })(tables[t]);
    }
  });
})();
"""

FIGURE_FORMATS = ("png", "svg")


def _figure_html(fig: Figure, *, alt: str, caption: str, fmt: str, dpi: int) -> str:
    """A ``<figure>`` with ``fig`` embedded (base64 PNG ``<img>`` or inline SVG)."""
    fig.set_dpi(dpi)
    return _figure_markup(encode_figure(fig, fmt=fmt), alt=alt, caption=caption, fmt=fmt)


def encode_figure(fig: Figure, *, fmt: str) -> bytes:
    """``fig`` as the report embeds it, at the figure's own dpi: a PNG of few colours
    (:func:`_palette_png`) or an SVG. Module-level: the workers of a parallel report run it
    (:func:`pva.plots.render_each`)."""
    (image,) = plots.render(fig, formats=(fmt,), dpi="figure")
    return _palette_png(image) if fmt == "png" else image


def _figure_markup(image: bytes, *, alt: str, caption: str, fmt: str) -> str:
    """The ``<figure>`` element of an image made by :func:`encode_figure`."""
    if fmt == "png":
        data = base64.b64encode(image).decode("ascii")
        # pixel size from the PNG header (IHDR, PNG specification 11.2.2): what the browser reserves
        width, height = struct.unpack(">II", image[16:24])
        body = (
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
            f'width="{width}" height="{height}">'
        )
    else:
        svg = image.decode("utf-8")
        # the XML prolog and DOCTYPE (which names a DTD by URL) are not allowed inside HTML
        svg = re.sub(r"^.*?(?=<svg\b)", "", svg, flags=re.DOTALL)
        body = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(alt)}" ', 1)
    return f"<figure>{body}<figcaption>{html.escape(caption)}</figcaption></figure>"


PALETTE_COLOURS = 128
"""Colours of the palette embedded PNG figures are reduced to."""


def _palette_png(png: bytes) -> bytes:
    """``png`` with its colours reduced to a palette of :data:`PALETTE_COLOURS` (median cut),
    about a quarter of the bytes: the figures are flat lines, bands and text on white, so the
    difference does not show, and a report of many species stays a few MB. Pillow (a dependency
    of matplotlib) does it; the result is the same for the same figure."""
    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    palette = image.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT)
    out = BytesIO()
    palette.save(out, format="PNG")
    return out.getvalue()


FULL_SECTIONS_UP_TO = 6
"""A study of up to this many species gets full per-species sections (every figure); more species
get the portfolio view and compact sections (one figure each)."""

_IDENTIFIERS = frozenset({"seed", "seed entropy", "compadre"})
"""Keys whose numbers are identifiers, printed without thousands separators."""
_ENGINE_INTERNALS = frozenset({"chunk_size", "span"})
"""Keys of the study specification that set how the engine computes, not what it assumes: left out
of the assumptions (the results file keeps them)."""


# ---------------------------------------------------------------------------------------------------
# the study as recorded: assumptions
# ---------------------------------------------------------------------------------------------------


class _Spec:
    """Renders the recorded study (JSON values) as HTML: objects as key/value lists, number matrices
    as tables labelled with the species' stage names, costs with their currency, numbers as people
    write them."""

    def __init__(self, currency: str, stages: Sequence[str] = ()) -> None:
        self.currency = currency
        self.stages = list(stages)

    def kv(self, pairs: Sequence[tuple[str, Any]]) -> str:
        states = dict(pairs).get("names")  # the states of a MatrixSelection environment
        states = states if isinstance(states, list) else None
        items = "".join(
            f"<dt>{html.escape(str(k))}</dt><dd>{self.value(v, key=str(k), states=states)}</dd>"
            for k, v in pairs
        )
        return f'<dl class="kv">{items}</dl>'

    def value(self, value: Any, *, key: str = "", states: list[Any] | None = None) -> str:
        """Any JSON value as HTML."""
        if isinstance(value, dict):
            if not value:
                return "<em>none</em>"
            return self.kv(list(value.items()))
        if _is_number_matrix(value):
            return self.matrix(value)
        if isinstance(value, list):
            if not value:
                return "<em>none</em>"
            if all(_is_number_matrix(v) for v in value):  # one matrix per environmental state
                labels = states if states is not None and len(states) == len(value) else None
                return "".join(
                    (f"<p>{html.escape(str(labels[i]))}</p>" if labels else "") + self.matrix(v)
                    for i, v in enumerate(value)
                )
            if all(not isinstance(v, dict | list) for v in value):
                return html.escape(", ".join(_scalar_text(v) for v in value))
            return "<ol>" + "".join(f"<li>{self.value(v)}</li>" for v in value) + "</ol>"
        if key.endswith("cost") and isinstance(value, int | float) and not isinstance(value, bool):
            return html.escape(summary.money(float(value), self.currency) + " a year")
        if key in _IDENTIFIERS:
            return html.escape(str(value))
        return html.escape(_scalar_text(value))

    def matrix(self, rows: list[list[float]]) -> str:
        """A number matrix; with the species' stages on rows (to) and columns (from) when it is
        a square stage matrix."""
        n = len(rows)
        labelled = len(self.stages) == n and all(len(r) == n for r in rows)
        head = ""
        if labelled:
            cells = "".join(f'<th scope="col">{html.escape(s)}</th>' for s in self.stages)
            head = f'<thead><tr><th scope="col">to \\ from</th>{cells}</tr></thead>'
        body = "".join(
            "<tr>"
            + (f'<th scope="row">{html.escape(self.stages[i])}</th>' if labelled else "")
            + "".join(f"<td>{html.escape(_number_text(x))}</td>" for x in row)
            + "</tr>"
            for i, row in enumerate(rows)
        )
        return f'<table class="matrix">{head}<tbody>{body}</tbody></table>'


def _is_number_matrix(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(row, list) and row for row in value)
        and all(
            isinstance(x, int | float) and not isinstance(x, bool) for row in value for x in row
        )
    )


def _number_text(x: float) -> str:
    """A number as people write it: 12,500 and 0.4995, never 1.25e+04."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if float(x) == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.6g}"


def _scalar_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number_text(value)
    return str(value)


def _without_internals(value: Any) -> Any:
    """``value`` without the keys of :data:`_ENGINE_INTERNALS`, at any depth."""
    if isinstance(value, dict):
        return {k: _without_internals(v) for k, v in value.items() if k not in _ENGINE_INTERNALS}
    if isinstance(value, list):
        return [_without_internals(v) for v in value]
    return value


def _named_items(spec: dict[str, Any], key: str) -> list[tuple[str, Any]]:
    """``spec[key]`` as (name, body) pairs, whether it is a list of named objects or a mapping."""
    value = spec.get(key)
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                name = str(item.get("name", item.get("id", f"{key} {i + 1}")))
                out.append((name, {k: v for k, v in item.items() if k != "name"}))
            else:
                out.append((f"{key} {i + 1}", item))
        return out
    return []


_SPEC_SECTIONS = (
    ("species", "Species parameters"),
    ("threats", "Threats"),
    ("interventions", "Interventions"),
    ("scenarios", "Scenarios"),
)


def _recorded(value: Any) -> Any:
    return "not recorded" if value is None else value


def _assumptions_html(results: xr.Dataset, table: xr.Dataset) -> str:
    made = names.provenance(results)
    spec = _without_internals(made.study)
    if made.no_action is not None:
        spec[names.NO_ACTION_KEY] = made.no_action
    currency = str(table.attrs.get("currency", made.currency))
    plain = _Spec(currency)
    years = results[names.YEAR].values
    settings: list[tuple[str, Any]] = [
        ("years simulated", f"{int(years[0])} to {int(years[-1])}"),
        (
            "replicates",
            made.replicates if made.replicates is not None else results.sizes[names.REPLICATE],
        ),
        ("seed entropy", str(_recorded(made.seed_entropy))),
        ("pva version", str(_recorded(made.version))),
        ("scenarios", ", ".join(names.names_of(results, names.SCENARIO))),
        ("compared against", table.attrs["no_action"]),
        ("extinction", "no individuals left in any population"),
        ("intervals", f"{table.attrs['confidence']:.0%} (Monte Carlo)"),
        ("costs", _cost_assumption(table)),
    ]
    parts = ["<h3>Settings</h3>", plain.kv(settings)]
    head = spec.get("study")
    if isinstance(head, dict) and head:
        parts.append("<h3>Study</h3>" + plain.value(head))
    for key, heading in _SPEC_SECTIONS:
        items = _named_items(spec, key)
        if items:
            parts.append(f"<h3>{heading}</h3>")
            for n, body in items:
                stages = body.get("stages", ()) if isinstance(body, dict) else ()
                render = _Spec(currency, stages if isinstance(stages, list) else ())
                parts.append(f"<h4>{html.escape(n)}</h4>{render.value(body)}")
        elif key == "species":
            parts.append(f"<h3>{heading}</h3>" + _species_from_results(results))
    known = {"study", names.NO_ACTION_KEY, *(k for k, _ in _SPEC_SECTIONS)}
    others = {k: v for k, v in spec.items() if k not in known}
    if others:
        parts.append("<h3>Other settings</h3>" + plain.value(others))
    if spec and results.sizes[names.SPECIES] <= FULL_SECTIONS_UP_TO:
        parts.append(
            "<details><summary>The study as recorded with the results (JSON, without engine "
            "settings)</summary><pre>"
            + html.escape(json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True))
            + "</pre></details>"
        )
    elif spec:  # the tables above hold every value; the JSON would double a long page
        parts.append(
            '<p class="note">The study as JSON is in the results file (its attribute '
            "<code>study</code>).</p>"
        )
    return "\n".join(parts)


def _cost_assumption(table: xr.Dataset) -> str:
    if names.TOTAL_COST not in table:
        return "no intervention has a cost"
    cost = table[names.TOTAL_COST].attrs
    stop = (
        "stop in the year a species goes extinct"
        if cost.get("stops_at_extinction")
        else ("run to the horizon whatever happens")
    )
    rate = float(cost.get("discount_rate", 0.0))
    discount = f"discounted at {100 * rate:g}% a year" if rate else "not discounted"
    return f"in {table.attrs.get('currency', 'currency units')}; {stop}; {discount}"


def _species_from_results(results: xr.Dataset) -> str:
    """Per-species parameters recorded as variables, when the study spec does not list them."""
    rows = []
    per_species = [
        v
        for v in (names.GENERATION_LENGTH, names.QUASI_EXTINCTION_THRESHOLD)
        if v in results.data_vars
    ]
    plain = _Spec("")
    for sp in names.names_of(results, names.SPECIES):
        sel = results.sel({names.SPECIES: sp})
        pairs = [
            (plots.axis_label(results[v], v), _number_text(float(sel[v]))) for v in per_species
        ]
        rows.append(f"<h4>{html.escape(str(sp))}</h4>{plain.kv(pairs)}")
    return "".join(rows)


def _species_meta(results: xr.Dataset, sp: str) -> str:
    sel = results.sel({names.SPECIES: sp})
    bits = [
        f"{coord}: {html.escape(str(sel[coord].values))}"
        for coord in (names.TAXON, names.COUNTRY, names.SITE)
        if coord in sel.coords and str(sel[coord].values)
    ]
    if names.POPULATION_NAME in sel.coords:
        exists = (
            sel[names.POPULATION_EXISTS].values
            if names.POPULATION_EXISTS in sel
            else [True] * sel.sizes[names.POPULATION]
        )
        pops = [
            str(n)
            for n, e in zip(sel[names.POPULATION_NAME].values, exists, strict=True)
            if e and n
        ]
        bits.append(f"populations: {html.escape(', '.join(pops))}")
    return f'<p class="meta">{" · ".join(bits)}</p>' if bits else ""


def _anchor(prefix: str, name: str) -> str:
    return f"{prefix}-{plots.safe_name(name).lower()}"


# ---------------------------------------------------------------------------------------------------
# the answer and the portfolio
# ---------------------------------------------------------------------------------------------------


def _p(value: float) -> str:
    return (
        "–" if value != value else (f"{value:.2f}" if value not in (0.0, 1.0) else f"{value:.0f}")
    )


def _interval(table: xr.Dataset, var: str, **at: Any) -> str:
    value, low, high = (
        float(table[var + s].sel(at)) for s in ("", names.LOWER_SUFFIX, names.UPPER_SUFFIX)
    )
    return f"{_p(value)} ({_p(low)}–{_p(high)})"


def _modal_category(table: xr.Dataset, sp: str, scenario: str) -> tuple[str, float]:
    """The category most replicates are in by the final year, and its share."""
    if names.CATEGORY_SHARE not in table:
        return "", float("nan")
    share = table[names.CATEGORY_SHARE].sel({names.SPECIES: sp, names.SCENARIO: scenario})
    i = int(np.argmax(share.values))
    return str(share[names.CATEGORY_DIM].values[i]), float(share.values[i])


def _answer_html(table: xr.Dataset, sp: str) -> str:
    """One species' answer: the risk under every scenario at the final year and the best action
    with its margin and interval."""
    final = int(table.attrs["final_year"])
    t = table.sel({names.SPECIES: sp})
    measure_label = str(t[names.RISK_MEASURE].values)
    # a measure that is absolute extinction itself gets one column
    quasi = float(t[names.QUASI_EXTINCTION_THRESHOLD]) > 0 or (
        str(t[names.QUASI_EXTINCTION_ON].values) != "total"
    )
    currency = str(table.attrs.get("currency", ""))
    header = ["scenario"]
    if quasi:
        header.append(f"P({measure_label} by year {final})")
    header.append(f"P(extinct by year {final})")
    if names.CATEGORY_SHARE in table:
        header.append(f"Red List category in year {final}")
    if names.TOTAL_COST in table:
        header.append(f"expected cost ({currency})")
    rows = []
    for scenario in names.names_of(table, names.SCENARIO):
        at = {names.SCENARIO: scenario, names.HORIZON: final}
        row = [scenario]
        if quasi:
            row.append(_interval(t, names.P_QUASI_EXTINCTION, **at))
        row.append(_interval(t, names.P_EXTINCTION, **at))
        if names.CATEGORY_SHARE in table:
            category, share = _modal_category(table, sp, scenario)
            row.append(f"{category} ({share:.0%} of futures)")
        if names.TOTAL_COST in table:
            row.append(
                summary.money(float(t[names.TOTAL_COST].sel({names.SCENARIO: scenario})), currency)
            )
        rows.append(row)
    parts = [f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div>']
    best = summary.best_action_text(table, sp)
    if best:
        parts.append(f'<p class="answer">{html.escape(best[0].upper() + best[1:])}.</p>')
    return "\n".join(parts)


_TEXT_CELL = ' class="text"'
"""Marks a table cell holding words (left-aligned) rather than a number."""


def _portfolio_html(table: xr.Dataset) -> str:
    """One sortable table of species x scenarios: the risk measure and absolute extinction by the
    final year, the modal Red List category and the species' contribution to ΔRLI."""
    final = int(table.attrs["final_year"])
    no_action = str(table.attrs["no_action"])
    columns = [
        "species",
        "scenario",
        f"P(quasi-extinct by year {final})",
        f"P(extinct by year {final})",
        f"Red List category in year {final}",
        f"contribution to ΔRLI vs {no_action!r}",
        "best action for the species",
        "quasi-extinct at",
    ]
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in columns)
    body = []
    red_list = names.CATEGORY_SHARE in table
    contribution = names.DELTA_RLI_CONTRIBUTION in table
    for sp in names.names_of(table, names.SPECIES):
        t = table.sel({names.SPECIES: sp})
        best = str(t[names.BEST_SCENARIO].values) if names.BEST_SCENARIO in t else ""
        on = str(t[names.QUASI_EXTINCTION_ON].values)
        threshold = f"≤ {float(t[names.QUASI_EXTINCTION_THRESHOLD]):g} {'mature' if on == 'mature' else 'individuals'}"
        for scenario in names.names_of(table, names.SCENARIO):
            at = {names.SCENARIO: scenario, names.HORIZON: final}
            risk = float(t[names.P_QUASI_EXTINCTION].sel(at))
            extinct = float(t[names.P_EXTINCTION].sel(at))
            category, share = _modal_category(table, sp, scenario) if red_list else ("", 0.0)
            code = redlist.CATEGORY_CODES.get(category, -9) if category else -9
            delta, low, high = (
                (
                    float(t[names.DELTA_RLI_CONTRIBUTION + suffix].sel({names.SCENARIO: scenario}))
                    for suffix in ("", names.LOWER_SUFFIX, names.UPPER_SUFFIX)
                )
                if contribution
                else (float("nan"),) * 3
            )
            cells = [
                (sp, sp),
                (scenario, scenario),
                (_p(risk), risk),
                (_p(extinct), extinct),
                (f"{category} {share:.0%}" if category else "–", code),
                (
                    "–"
                    if scenario == no_action or delta != delta
                    else f"{delta:+.4f} ({low:+.4f} to {high:+.4f})",
                    delta,
                ),
                ("best" if scenario == best else "", 1 if scenario == best else 0),
                (threshold, threshold),
            ]
            body.append(
                "<tr>"
                + "".join(
                    f"<td{_TEXT_CELL if isinstance(v, str) else ''} "
                    f'data-value="{html.escape(str(v))}">{html.escape(str(c))}</td>'
                    for c, v in cells
                )
                + "</tr>"
            )
    return (
        '<div class="scroll"><table class="summary sortable" id="portfolio-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _threshold_caption(results: xr.Dataset, sp: str, line: float | None) -> str:
    """What a fan chart of ``sp`` shows of the species' risk measure: the dotted threshold
    ``line`` (:func:`pva.plots.fan_threshold`), or why there is none."""
    measure = measures.risk_measure(results, sp)
    if line is not None:
        return f"dotted: the quasi-extinction threshold ({line:g} {measure.counted.noun})."
    return (
        f"no threshold line: the risk measure ({measure.event}) counts other individuals than "
        "the chart."
    )


# ---------------------------------------------------------------------------------------------------
# Red List categories by year, with the criteria that set them
# ---------------------------------------------------------------------------------------------------


def _categories_by_year_html(assessment: xr.Dataset, sp: str, years: Sequence[int]) -> str:
    """Per scenario and year, the categories replicates are in with their shares, each with the
    criteria most often met by the replicates in it, as the summary writes them
    (:func:`pva.summary.category_share`: "≥ EN >99% (D), CR <1%"); the note on "≥" under the
    table when some category is a lower bound."""
    categories = assessment[names.CATEGORY].sel({names.SPECIES: sp})
    criteria = (
        assessment[names.CRITERIA].sel({names.SPECIES: sp})
        if names.CRITERIA in assessment
        else None
    )
    bound = summary.lower_bounds(assessment, years).sel({names.SPECIES: sp})
    scenarios = names.names_of(categories, names.SCENARIO)
    rows = []
    for year in years:
        row = [f"year {year}"]
        for scenario in scenarios:
            at = {names.SCENARIO: scenario, names.YEAR: year}
            codes = categories.sel(at).values
            texts = criteria.sel(at).values if criteria is not None else None
            row.append(_category_cell(codes, texts, bound.sel(at).values))
        rows.append(row)
    table = summary.render_rows(["", *scenarios], rows, "html")
    if any(summary.LOWER_BOUND_MARK in cell for row in rows for cell in row[1:]):
        table += f'<p class="note">{html.escape(summary.LOWER_BOUND_NOTE)}</p>'
    return table


def _category_cell(codes: Any, texts: Any, bound: Any) -> str:
    """The categories of one scenario and year, most frequent first: each with its share, the
    criteria most of its replicates meet it under, and "≥" where some of them is a lower bound
    (``bound``, by replicate)."""
    codes = np.asarray(codes)
    values, counts = np.unique(codes, return_counts=True)
    parts = []
    for k in np.argsort(-counts, kind="stable"):
        code = int(values[k])
        name = redlist.category_name(code)
        members = codes == code
        setting = ""
        if texts is not None:
            common, times = np.unique(np.asarray(texts)[members], return_counts=True)
            setting = str(common[int(np.argmax(times))]).removeprefix(name).strip()
        parts.append(
            summary.category_share(
                name,
                counts[k] / counts.sum(),
                criteria=setting,
                lower_bound=bool(np.asarray(bound)[members].any()),
            )
        )
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------------------------------


def render_report(
    results: xr.Dataset,
    *,
    title: str | None = None,
    horizons: Sequence[summary.Horizon] | None = None,
    no_action: str | None = None,
    confidence: float = 0.95,
    red_list: bool | None = None,
    figure_format: str = "png",
    dpi: int = 100,
    source: str | None = None,
    log_scale: bool | None = None,
    task_map: summary.TaskMap | None = None,
) -> str:
    """The report of ``results`` as one self-contained HTML document (a string).

    Parameters
    ----------
    results
        A results Dataset of ``pva run`` or :func:`pva.simulate` (see :mod:`pva.summary`).
    title
        Page title; default the study's name, else "Population viability analysis".
    horizons, no_action, confidence, red_list
        As in :func:`pva.summary.summary_table` (``red_list=None``: the Red List section when it
        can be computed, else a note saying why not).
    figure_format
        ``"png"`` (embedded as base64) or ``"svg"`` (inlined).
    dpi
        Resolution of PNG figures, in dots per inch (compact sections of a study of many species
        use four fifths of it).
    source
        Name of the results file, shown in the header.
    log_scale
        Fan charts on a logarithmic abundance axis (True), a linear one (False) or chosen by their
        range (None).
    task_map
        Assess the species and render the figures in parallel (:data:`pva.summary.TaskMap`);
        the page is the same.
    """
    if figure_format not in FIGURE_FORMATS:
        raise ValueError(f"figure_format must be 'png' or 'svg'; got {figure_format!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 30 <= dpi <= 600:
        raise ValueError(f"dpi must be an integer between 30 and 600; got {dpi!r}")
    if summary.sweep.is_sweep(results):  # a sweep's results: its own page (render_sweep_report)
        return render_sweep_report(
            results, title=title, figure_format=figure_format, dpi=dpi, source=source
        )
    results = summary.check_results(results)
    skipped = summary.red_list_unavailable(results) if red_list is not False else ""
    if skipped and red_list:
        raise ValueError(f"cannot assess Red List categories: {skipped}")
    # species by species; the criteria texts only at the years the tables read them
    assessment, at_years = (
        summary.assess_by_species(
            results,
            years=summary.red_list_years(results, horizons),
            by_year=summary.figure_years(results, horizons),
            task_map=task_map,
        )
        if red_list is not False and not skipped
        else (None, None)
    )
    table = summary.summary_table(
        results,
        horizons=horizons,
        no_action=no_action,
        confidence=confidence,
        red_list=assessment is not None,
        assessment=at_years,
        task_map=task_map,
    )
    page = _Page(results, table, assessment, at_years, confidence, figure_format, dpi, log_scale)
    page.task_map = task_map
    title = title or names.provenance(results).name or "Population viability analysis"
    return page.document(title, source, skipped)


_PLACEHOLDER = "\x00figure:([0-9]+)\x00"
"""Where a figure rendered later goes in the page (NUL never occurs in the page's text: names are
refused with control characters, and html.escape would not let one through)."""


def _placeholder(index: int) -> str:
    return _PLACEHOLDER.replace("([0-9]+)", str(index))


class _Page:
    """The sections of one report, sharing what they compute."""

    def __init__(
        self,
        results: xr.Dataset,
        table: xr.Dataset,
        assessment: xr.Dataset | None,
        at_years: xr.Dataset | None,
        confidence: float,
        figure_format: str,
        dpi: int,
        log_scale: bool | None,
    ) -> None:
        self.results = results
        self.table = table
        self.assessment = assessment
        """Categories and the RLI by year (:func:`pva.summary.assess_by_species`)."""
        self.at_years = at_years
        """The whole assessment at year 0 and the horizons, criteria texts included."""
        self.confidence = confidence
        self.format = figure_format
        self.dpi = dpi
        self.log = log_scale
        self.species = names.names_of(results, names.SPECIES)
        self.compact = len(self.species) > FULL_SECTIONS_UP_TO
        self.curves = [
            summary.extinction_curves(results, quasi=q, confidence=confidence)
            for q in (True, False)
        ]
        self.quantiles = summary.trajectory_quantiles(results, quantiles=plots.FAN_QUANTILES)
        self.band = f"{confidence:.0%}"
        self._pending = []
        self.final = int(table.attrs["final_year"])
        self.no_action = str(table.attrs["no_action"])

    task_map: summary.TaskMap | None = None
    """Where figures are rendered (None: here, as each is drawn)."""
    _pending: list[tuple[Figure, str, str]]
    """With a ``task_map``: the figures drawn, with their alt text and caption, to be rendered
    together when the page is complete (:meth:`_rendered`)."""

    def figure(self, fig: Figure, alt: str, caption: str, *, dpi: int | None = None) -> str:
        """The ``<figure>`` of ``fig``; with a :attr:`task_map`, a placeholder for it that
        :meth:`document` fills in."""
        fig.set_dpi(dpi if dpi is not None else self.dpi)
        if self.task_map is None:
            return _figure_html(fig, alt=alt, caption=caption, fmt=self.format, dpi=int(fig.dpi))
        self._pending.append((fig, alt, caption))
        return _placeholder(len(self._pending) - 1)

    def _rendered(self, page: str) -> str:
        """``page`` with the placeholders of the pending figures replaced by the figures, rendered
        by :attr:`task_map` (several at once) in the order they were drawn."""
        pending, self._pending = self._pending, []
        images = plots.render_each(
            (fig for fig, _, _ in pending),
            encode_figure,
            task_map=self.task_map,
            fmt=self.format,
        )
        markup = [
            _figure_markup(image, alt=alt, caption=caption, fmt=self.format)
            for (_, alt, caption), image in zip(pending, images, strict=True)
        ]
        return re.sub(_PLACEHOLDER, lambda m: markup[int(m.group(1))], page)

    # ---- the page --------------------------------------------------------------------------------

    def document(self, title: str, source: str | None, skipped: str) -> str:
        sections = [self.answer(skipped)]
        if names.TOTAL_COST in self.table:
            sections.append(self.costs())
        sections.extend(self.species_section(sp) for sp in self.species)
        if self.assessment is not None:
            sections.append(self.red_list())
        green_header, green_rows = summary.green_status_rows(self.table)
        if green_rows:
            sections.append(_green_status_html(self.table, green_header, green_rows))
        if summary.sweep.has_uncertainty(self.results):
            sections.append(_uncertainty_section(self.results, self.figure))
        sections.append(
            '<section id="assumptions"><h2>Assumptions</h2>'
            + _assumptions_html(self.results, self.table)
            + "</section>"
        )
        body = [self.header(title, source), self.contents(), *sections]
        body.append(
            f'<footer><p class="note">Generated by pva {html.escape(str(pva_version()))}. '
            "This page is self-contained: it can be saved, opened offline and forwarded.</p>"
            "</footer>"
        )
        page = (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n"
            f"<script>{_SCRIPT}</script>\n</head>\n<body>\n"
            + "\n".join(body)
            + "\n</body>\n</html>\n"
        )
        return self._rendered(page) if self._pending else page

    def header(self, title: str, source: str | None) -> str:
        generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        meta = [
            f"{len(self.species)} species",
            f"{self.results.sizes[names.SCENARIO]} scenarios",
            f"{self.results.sizes[names.REPLICATE]} replicates",
            f"years 0–{self.final}",
            f"pva {names.provenance(self.results).version or '?'}",
            f"generated {generated}",
        ]
        if source:
            meta.insert(0, f"results: {source}")
        return (
            f"<header><h1>{html.escape(title)}</h1>"
            f'<p class="meta">{html.escape(" · ".join(meta))}</p></header>'
        )

    def contents(self) -> str:
        toc = [("answer", "Portfolio" if self.compact else "The answer")]
        if names.TOTAL_COST in self.table:
            toc.append(("costs", "Costs and cost-effectiveness"))
        if not self.compact:
            toc += [(_anchor("species", sp), sp) for sp in self.species]
        else:
            toc.append((_anchor("species", self.species[0]), "Species"))
        if self.assessment is not None:
            toc.append(("red-list", "Red List Index and extinctions prevented"))
        if names.GREEN_SCORE in self.table:
            toc.append(("green-status", "Green Status of Species"))
        if summary.sweep.has_uncertainty(self.results):
            toc.append(("parameter-uncertainty", "Parameter uncertainty"))
        toc.append(("assumptions", "Assumptions"))
        items = "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in toc)
        return f'<nav aria-label="contents"><ol>{items}</ol></nav>'

    # ---- sections --------------------------------------------------------------------------------

    def answer(self, skipped: str) -> str:
        heading = "Portfolio" if self.compact else "The answer"
        parts = [f'<section id="answer"><h2>{heading}</h2>']
        parts.append(
            "<p>Risk is each species' own measure, as the study sets it (its quasi-extinction "
            "threshold on what it counts, e.g. mature individuals), shown beside absolute "
            "extinction (no individuals of any stage left). Each species was projected under "
            "every scenario with the same random environmental history in each replicate "
            "(common random numbers), so differences between scenarios are paired. Numbers in "
            f"parentheses are {self.band} Monte Carlo intervals; comparisons are against "
            f"<strong>{html.escape(self.no_action)}</strong>.</p>"
        )
        if not self.compact:
            for sp in self.species:
                parts.append(f"<h3>{html.escape(sp)}</h3>")
                parts.append(
                    f'<p class="note">{html.escape(summary.species_note(self.table, sp))}</p>'
                )
                parts.append(_answer_html(self.table, sp))
        if skipped:
            parts.append(
                f'<p class="note">Red List assessment not shown: {html.escape(skipped)} '
                "(the IUCN criteria need it).</p>"
            )
        if len(self.species) > 1:
            joint = self.all_species()
            if joint:
                parts.append("<h3>All species</h3>")
                parts.extend(joint)
            parts.append("<h3>Species by scenario</h3>")
            parts.append("<p>One row per species and scenario; click a column heading to sort.</p>")
            parts.append(_portfolio_html(self.table))
        parts.append("</section>")
        return "\n".join(parts)

    def all_species(self) -> list[str]:
        """The Red List Index and ΔRLI of all species: the table, the ΔRLI figure and, for a
        study of many species, the RLI by year (which the Red List section shows otherwise)."""
        header, rows = summary.study_rows(self.table)
        if not rows:
            return []
        parts = [f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div>']
        if self.results.sizes[names.SCENARIO] > 1:
            parts.append(
                self.figure(
                    plots.plot_delta_rli(self.table),
                    "ΔRLI against no action per scenario with intervals",
                    f"ΔRLI against {self.no_action!r} in year {self.final}: mean (dot), "
                    f"{self.band} interval of the mean (thick) and the central {self.band} of "
                    "replicates (thin).",
                )
            )
        if self.compact and self.assessment is not None:
            parts.append(self.rli_figure())
        return parts

    def rli_figure(self) -> str:
        assert self.assessment is not None
        return self.figure(
            plots.plot_rli(self.assessment, confidence=self.confidence),
            "Red List Index by year per scenario",
            "Red List Index of all species by year: mean over replicates (with the central "
            f"{self.band} of replicates shaded for up to three scenarios)"
            + _assessed_years_note(self.assessment)
            + ".",
        )

    def costs(self) -> str:
        currency = str(self.table.attrs.get("currency", "currency units"))
        parts = ['<section id="costs"><h2>Costs and cost-effectiveness</h2>']
        parts.append(
            f"<p>Costs are in {html.escape(currency)}: "
            f"{html.escape(_cost_assumption(self.table).split('; ', 1)[1])}. Cost-effectiveness is "
            "the expected cost beyond no action over the expected effect, with a paired bootstrap "
            "interval over replicates; it is <em>not estimable</em> when the effect's own interval "
            "includes 0.</p>"
        )
        header, rows = summary.ranking_rows(self.table)
        if rows:
            parts.append("<h3>Single interventions ranked</h3>")
            parts.append(f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div>')
        elif unranked := summary.ranking_note(self.table):
            parts.append(f'<p class="note">{html.escape(unranked)}</p>')
        if len(self.species) == 1:
            header, rows = summary.study_rows(self.table)
            if rows:
                parts.append(
                    f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div>'
                )
        if names.INCREMENTAL_COST in self.table and self.results.sizes[names.SCENARIO] > 1:
            parts.append(
                self.figure(
                    plots.plot_cost_effectiveness(self.table),
                    f"what each scenario costs beyond no action in {currency} and what it buys",
                    f"Expected cost beyond {self.no_action!r} ({currency}) against ΔRLI and "
                    f"extinctions prevented, with {self.band} intervals.",
                )
            )
        parts.append("</section>")
        return "\n".join(parts)

    def species_section(self, sp: str) -> str:
        parts = [
            f'<section id="{_anchor("species", sp)}"'
            + (' class="compact"' if self.compact else "")
            + f"><h2>{html.escape(sp)}</h2>"
        ]
        parts.append(_species_meta(self.results, sp))
        parts.append(f'<p class="note">{html.escape(summary.species_note(self.table, sp))}</p>')
        if self.compact:
            parts.append(_answer_html(self.table, sp))
            parts.append(
                self.figure(
                    plots.plot_species_overview(
                        self.results,
                        species=sp,
                        curves=self.curves,
                        quantiles=self.quantiles,
                        confidence=self.confidence,
                    ),
                    f"{sp}: risk by year and abundance by year per scenario",
                    f"{sp}: left, risk by year (solid: the species' risk measure with its "
                    f"{self.band} band; dashed: extinction); right, median and the central 50% and "
                    "90% of replicates; "
                    + _threshold_caption(
                        self.results,
                        sp,
                        plots.fan_threshold(self.results, species=sp, quantiles=self.quantiles),
                    ),
                    dpi=max(30, self.dpi * 4 // 5),
                )
            )
            parts.append("</section>")
            return "\n".join(parts)
        header, rows = summary.species_rows(self.table, sp)
        parts.append(f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div>')
        parts.append(
            self.figure(
                plots.plot_extinction_cdf(
                    self.results, species=sp, curves=self.curves[0], confidence=self.confidence
                ),
                f"{sp}: cumulative probability of the risk event and of extinction by year",
                f"{sp}: probability of the risk event (solid, {self.band} band) and of extinction "
                "(dashed) by each year, per scenario.",
            )
        )
        parts.append(
            self.figure(
                plots.plot_fan_chart(
                    self.results, species=sp, quantiles=self.quantiles, log=self.log
                ),
                f"{sp}: abundance by year, every scenario, median and bands",
                f"{sp}: median (line) and the central 50% and 90% of replicates (shaded), every "
                "scenario in one panel; "
                + _threshold_caption(
                    self.results,
                    sp,
                    plots.fan_threshold(self.results, species=sp, quantiles=self.quantiles),
                ),
            )
        )
        if summary.site_counts(self.results)[sp] > 1:
            parts.append(
                self.figure(
                    plots.plot_site_fan_charts(self.results, species=sp, log=self.log),
                    f"{sp}: abundance by year at each site",
                    f"{sp}: each site's median and central 50% and 90% of replicates, each "
                    "site on its own scale; "
                    + _threshold_caption(
                        self.results, sp, plots.fan_threshold(self.results, species=sp)
                    ),
                )
            )
        if self.assessment is not None:
            parts.append("<h3>Red List category</h3>")
            parts.append(
                "<p>Share of futures in each category, with the criteria most often met by the "
                "futures in it (the criterion that sets the category).</p>"
            )
            years = sorted({0, *(int(h) for h in self.table[names.HORIZON].values)})
            parts.append(
                f'<div class="scroll">{_categories_by_year_html(self.at_years, sp, years)}</div>'
            )
            parts.append(
                self.figure(
                    plots.plot_category_distribution(self.assessment, species=sp),
                    f"{sp}: share of replicates in each Red List category by year",
                    f"{sp}: share of replicates in each IUCN Red List category by year; "
                    "hatched: years whose categories are lower bounds in some replicate (a "
                    "criterion not evaluated there, such as A3 or E without projections after "
                    "year 0, could have given a higher category), so a fall in category into "
                    "those years need not be an improvement.",
                )
            )
            parts.append(
                self.figure(
                    plots.plot_transition_matrix(self.assessment, species=sp),
                    f"{sp}: Red List category transition probabilities",
                    f"{sp}: probability of each category at the end given the category at the "
                    "start (rows), per scenario; an axis marked ≥ gives categories that are "
                    "lower bounds in that year (criteria not evaluated).",
                )
            )
        parts.append("</section>")
        return "\n".join(parts)

    def red_list(self) -> str:
        assert self.assessment is not None
        parts = ['<section id="red-list"><h2>Red List Index and extinctions prevented</h2>']
        parts.append(
            "<p>The Red List Index (Butchart et al. 2007) weights categories LC 0, NT 1, VU 2, EN "
            "3, CR 4, EW and EX 5 and is 1 when every species is Least Concern and 0 when all are "
            "extinct; it is computed per replicate over all species jointly. Extinctions prevented "
            "are expected risk events (each species' own measure) under no action minus under the "
            "scenario, paired over replicates; absolute extinctions prevented count species with "
            "no individuals left.</p>"
        )
        if len(self.species) == 1:
            header, rows = summary.study_rows(self.table)
            if rows and names.TOTAL_COST not in self.table:
                parts.append(
                    f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div>'
                )
            if self.results.sizes[names.SCENARIO] > 1:
                parts.append(
                    self.figure(
                        plots.plot_delta_rli(self.table),
                        "ΔRLI against no action per scenario with intervals",
                        f"ΔRLI against {self.no_action!r} in year {self.final}: mean (dot), "
                        f"{self.band} interval of the mean (thick) and the central {self.band} of "
                        "replicates (thin).",
                    )
                )
        if not self.compact:
            parts.append(self.rli_figure())
        if self.table.attrs.get("red_list_notes"):
            parts.append(
                '<p class="note">Assessment notes: '
                f"{html.escape(self.table.attrs['red_list_notes'])}.</p>"
            )
        if self.results.sizes[names.SCENARIO] > 1:
            parts.append(
                self.figure(
                    plots.plot_extinctions_prevented(self.table),
                    "expected extinctions prevented per scenario",
                    f"Expected extinctions prevented (each species' risk measure) against "
                    f"{self.no_action!r} by year {self.final}, with {self.band} intervals.",
                )
            )
        parts.append("</section>")
        return "\n".join(parts)


# ---------------------------------------------------------------------------------------------------
# sweeps and parameter uncertainty (pva.sensitivity)
# ---------------------------------------------------------------------------------------------------

_DESIGN_TEXT = {
    "grid": "every combination of the parameters' values (a full factorial grid)",
    "oat": "one parameter at a time over its range, the others at the study's values",
    "lhs": "a Latin hypercube over the parameters' ranges (McKay et al. 1979); partial rank "
    "correlations (PRCC) measure each parameter's monotone effect on the risk",
    "sobol": "Saltelli's design for Sobol' indices (Saltelli et al. 2010): the first-order index "
    "is the share of the risk's variance a parameter explains alone, the total-order index "
    "adds its interactions",
    "morris": "Morris elementary effects (Morris 1991): μ* ranks the parameters by their mean "
    "absolute effect over their range, σ shows interactions and non-linearity",
}


def render_sweep_report(
    sweep: xr.Dataset,
    *,
    title: str | None = None,
    figure_format: str = "png",
    dpi: int = 100,
    source: str | None = None,
) -> str:
    """The report of a sweep's results (a ``sample`` dim) as one self-contained HTML document:
    the design and its parameters, the response figures and sensitivity indices per species, the
    per-sample table, and the base study's assumptions."""
    table = summary.summary_table(sweep)
    name = names.provenance(sweep).name
    title = title or (f"{name}: parameter sweep" if name else "Parameter sweep")

    def figure(fig: Figure, alt: str, caption: str) -> str:
        return _figure_html(fig, alt=alt, caption=caption, fmt=figure_format, dpi=dpi)

    generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = [
        f"{table.attrs['design']} design",
        f"{table.attrs['samples']} samples",
        f"{table.attrs['n_replicates']} replicates each",
        f"pva {names.provenance(sweep).version or '?'}",
        f"generated {generated}",
    ]
    if source:
        meta.insert(0, f"results: {source}")
    body = [
        f"<header><h1>{html.escape(title)}</h1>",
        f'<p class="meta">{html.escape(" · ".join(meta))}</p></header>',
        _sweep_section(sweep, table, figure),
        '<section id="assumptions"><h2>Assumptions (the base study)</h2>',
        _assumptions_from_study(sweep),
        "</section>",
        f'<footer><p class="note">Generated by pva {html.escape(str(pva_version()))}. '
        "This page is self-contained: it can be saved, opened offline and forwarded.</p></footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n"
        f"<script>{_SCRIPT}</script>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _sweep_section(sweep: xr.Dataset, table: xr.Dataset, figure: Any) -> str:
    """The sweep section: design, parameters, figures and indices per species, per-sample rows."""
    design = str(table.attrs["design"])
    final = int(table.attrs["final_year"])
    band = f"{float(table.attrs['confidence']):.0%}"
    parts = [
        '<section id="sweep"><h2>Parameter sweep</h2>',
        f"<p>The study was run at {table.attrs['samples']} samples of "
        f"{html.escape(_DESIGN_TEXT.get(design, design))}. Every sample used the same random "
        "numbers in each replicate (common random numbers), so differences between samples are "
        "paired and the response curves are smooth. The risk is each species' probability of "
        "quasi-extinction where the study sets a threshold, else of extinction; intervals are "
        f"{band} Monte Carlo intervals.</p>",
        '<div class="scroll">'
        + summary.render_rows(*summary.sweep.parameter_rows(table), "html", align="left")
        + "</div>",
    ]
    figures = dict(plots.iter_sweep_figures(sweep))
    for sp in names.names_of(sweep, names.SPECIES):
        stem = plots.safe_name(sp)
        parts.append(f"<h3>{html.escape(sp)}</h3>")
        for key, fig in figures.items():
            if key == f"response_{stem}":
                caption = f"{sp}: the risk by year {final} against each parameter, per scenario."
            elif key.startswith(f"tornado_{stem}_"):
                caption = f"{sp}: the risk at each parameter's lowest and highest value."
            elif key.endswith(f"_{stem}"):
                caption = (
                    f"{sp}: sensitivity indices of the risk by year {final}, {band} intervals."
                )
            else:
                continue
            parts.append(figure(fig, caption, caption))
        for sc in names.names_of(sweep, names.SCENARIO):
            header, rows = summary.sweep.index_rows(table, sp, sc, final)
            if rows:
                parts.append(f"<h4>{html.escape(sc)}: sensitivity indices</h4>")
                parts.append(
                    f'<div class="scroll">{summary.render_rows(header, rows, "html", align="left")}</div>'
                )
        for sc in names.names_of(sweep, names.SCENARIO):
            header, rows = summary.sweep.sample_rows(table, sp, sc)
            parts.append(
                f"<details><summary>{html.escape(sc)}: every sample</summary>"
                f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div></details>'
            )
    parts.append("</section>")
    return "\n".join(parts)


def _assumptions_from_study(sweep: xr.Dataset) -> str:
    """The base study as stored with a sweep's results."""
    spec = names.provenance(sweep).study
    text = json.dumps(spec, indent=1, ensure_ascii=False)
    return f"<details><summary>The study as JSON</summary><pre>{html.escape(text)}</pre></details>"


def _uncertainty_section(results: xr.Dataset, figure: Any) -> str:
    """The parameter-uncertainty section: the variance split, the category range, the figure."""
    draws = results.sizes[names.DRAW]
    block = results.sizes[names.REPLICATE] // draws
    parts = [
        '<section id="parameter-uncertainty"><h2>Parameter uncertainty</h2>',
        f"<p>The uncertain parameters were drawn {draws} times, each draw shared by {block} "
        "replicates, so the risks in the tables above include parameter uncertainty. The "
        "variance of the risk indicator (extinct or not) splits into a part due to the parameters "
        "and a part due to process stochasticity (law of total variance; variance components of "
        "the draws, with jackknife standard errors). The risk's standard error is taken over "
        "draws: the intervals in the tables above treat replicates as independent and are too "
        "narrow where the parameter share is large.</p>",
        '<div class="scroll">'
        + summary.render_rows(*summary.sweep.uncertainty_rows(results), "html", align="left")
        + "</div>",
    ]
    header, rows = summary.sweep.category_range_rows(results)
    if rows:
        parts.append(
            "<p>The plausible range of Red List categories (Akçakaya et al. 2000): each draw's "
            "category is the median of its replicates; the range spans the central draws.</p>"
        )
        parts.append(
            f'<div class="scroll">{summary.render_rows(header, rows, "html", align="left")}</div>'
        )
    for sp in names.names_of(results, names.SPECIES):
        caption = f"{sp}: the risk given each parameter draw, and the pooled risk."
        parts.append(figure(plots.plot_risk_by_draw(results, species=sp), caption, caption))
    parts.append("</section>")
    return "\n".join(parts)


def _green_status_html(table: xr.Dataset, header: list[str], rows: list[list[str]]) -> str:
    """The Green Status section: what the scores mean, the settings used, the metrics table."""
    settings = json.loads(table.attrs.get("green_status", "{}"))
    years = ", ".join(str(int(y)) for y in table[names.GREEN_YEAR].values)
    parts = [
        '<section id="green-status"><h2>Green Status of Species</h2>',
        "<p>The Species Recovery Score (Akçakaya et al. 2018; IUCN Green Status standard v2.0) "
        "scores each population as absent (0), present (3), viable (6) or functional (9) and "
        "reports the sum as a percentage of every population being functional. Here a population "
        f"is viable with at least {settings.get('viable_threshold', 1000):g} mature individuals "
        f"and functional when it also holds at least {settings.get('functional_fraction', 0.5):g} "
        "of its carrying capacity in mature individuals (the assessor's thresholds; per-species "
        "settings in the study file override them). The current score is "
        f"<strong>{html.escape(str(settings.get('no_action', '')))}</strong> in year 0; "
        "Conservation Dependence is it minus the no-action score in the short term, Conservation "
        "Gain the score with action in the short term minus it, Recovery Potential the long-term "
        "score of the potential scenario minus it (percentage points, paired over replicates). "
        f"Each scenario's Green Score in years {html.escape(years)} is in the species tables.</p>",
        f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div>',
    ]
    if table.attrs.get("green_status_notes"):
        parts.append(f'<p class="note">{html.escape(table.attrs["green_status_notes"])}.</p>')
    parts.append("</section>")
    return "\n".join(parts)


def pva_version() -> str:
    """The installed pva version (the report's generator)."""
    return pva.__version__


def write_report(results: xr.Dataset, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write :func:`render_report` of ``results`` to ``path`` (UTF-8, atomically through
    :func:`pva.io.write_text`); return the path.

    ``options`` are passed on to :func:`render_report`.
    """
    out = Path(path)
    if out.is_dir():
        raise ValueError(
            f"report path {str(out)!r} is a directory; give a file name such as report.html"
        )
    return io.write_text(out, render_report(results, **options))


# ---------------------------------------------------------------------------------------------------
# success factors (pva.success): a section, and a page of its own
# ---------------------------------------------------------------------------------------------------


def render_success_section(
    success: xr.Dataset, analysis: xr.Dataset, *, figure_format: str = "png", dpi: int = 100
) -> str:
    """The success-factor section (HTML ``<section>``) of a success results Dataset
    (:func:`pva.success.run_success`) and its analysis (:func:`pva.success.analyse`): what was
    analysed, intervention types per currency unit, the effects of the factors with their
    intervals, partial dependence, and the best designs, with the caveat that the factors found
    are conditional on the study's threat, size and cost rules."""
    from pva.success import names as success_names
    from pva.success import tables

    if figure_format not in FIGURE_FORMATS:
        raise ValueError(f"figure_format must be 'png' or 'svg'; got {figure_format!r}")
    confidence = float(analysis.attrs.get("confidence", 0.95))
    band = f"{confidence:.0%}"

    def table(rows: tuple[list[str], list[list[str]]]) -> str:
        return f'<div class="scroll">{summary.render_rows(rows[0], rows[1], "html")}</div>'

    def figure(fig: Figure, alt: str, caption: str) -> str:
        return _figure_html(fig, alt=alt, caption=caption, fmt=figure_format, dpi=dpi)

    parts = [
        '<section id="success-factors"><h2>Success factors</h2>',
        "<p>Each design is compared with no action replicate by replicate (common random "
        "numbers) at the horizon: extinctions prevented, extinction avoided, downlisting (a better "
        "Red List category), the species' contribution to ΔRLI and the Green Score gained. The "
        "outcomes are modelled on the factors (life history, initial size, threat intensity, and "
        "the intervention's type, start, duration, effort and cost) by GLMs with species-clustered "
        f"errors; intervals are {band} percentile intervals of a bootstrap over species.</p>",
        '<p class="note"><strong>The factors found are conditional on the written threat, size '
        "and cost rules of the study</strong>: another set of rules can rank factors and "
        "intervention types differently.</p>",
        "<h3>What was analysed</h3>",
        table(tables.overview_rows(success, analysis)),
        "<h3>Intervention types per currency unit</h3>",
        table(tables.ranking_rows(analysis)),
        figure(
            plots.plot_success_ranking(analysis),
            "intervention types by ΔRLI and extinctions prevented per million",
            f"ΔRLI and extinctions prevented per million {analysis.attrs.get('currency', '')} "
            f"spent on each type across the portfolio, with {band} bootstrap intervals.",
        ),
        "<h3>Effects of the factors</h3>",
        table(tables.effect_rows(analysis)),
        figure(
            plots.plot_success_effects(analysis),
            "effect of each factor on each outcome",
            f"Average change of each fitted outcome per SD of a factor, or of a type against "
            f"{analysis.attrs.get('reference_type', 'the reference')}, with {band} bootstrap "
            "intervals; red where the interval excludes 0.",
        ),
        "<h3>Partial dependence</h3>",
    ]
    for outcome in analysis[success_names.OUTCOME].values:
        label = tables.OUTCOME_LABELS.get(str(outcome), str(outcome))
        parts.append(
            figure(
                plots.plot_partial_dependence(analysis, str(outcome)),
                f"partial dependence of {label}",
                f"{label}: the fitted mean over all species x designs with one factor set to each "
                f"value (or every design set to each type), with {band} bootstrap bands.",
            )
        )
    parts += [
        "<h3>Designs by ΔRLI over all species</h3>",
        table(tables.design_rows(success, top=15)),
        "</section>",
    ]
    return "\n".join(parts)


def render_success_report(
    success: xr.Dataset,
    analysis: xr.Dataset,
    *,
    title: str | None = None,
    figure_format: str = "png",
    dpi: int = 100,
) -> str:
    """A self-contained HTML page holding :func:`render_success_section`."""
    if title is None:
        study = json.loads(success.attrs.get(names.ATTR_STUDY, "{}")).get("study", {})
        title = f"Success factors: {study['name']}" if study.get("name") else "Success factors"
    body = [
        f"<header><h1>{html.escape(title)}</h1>",
        f'<p class="meta">Horizon {int(success.attrs.get("horizon", 0))} years; '
        f"{success.sizes.get(names.REPLICATE, 0)} replicates per scenario; seed entropy "
        f"{html.escape(str(success.attrs.get(names.ATTR_SEED_ENTROPY, '')))}.</p></header>",
        render_success_section(success, analysis, figure_format=figure_format, dpi=dpi),
        f'<footer><p class="note">Generated by pva {html.escape(str(pva_version()))}.</p></footer>',
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n"
        f"<script>{_SCRIPT}</script>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def write_success_report(
    success: xr.Dataset, analysis: xr.Dataset, path: str | os.PathLike[str], **options: Any
) -> Path:
    """Write :func:`render_success_report` to ``path`` through :func:`pva.io.write_text`."""
    out = Path(path)
    if out.is_dir():
        raise ValueError(
            f"report path {str(out)!r} is a directory; give a file name such as success.html"
        )
    return io.write_text(out, render_success_report(success, analysis, **options))


def _assessed_years_note(assessment: xr.Dataset) -> str:
    """ ", assessed at years 0, 5, ..." when the categories were read on a grid of years (a large
    study, :func:`pva.summary.figure_years`); "" when every year was assessed."""
    years = [int(y) for y in assessment[names.YEAR].values]
    if len(years) < 2 or all(b - a == 1 for a, b in itertools.pairwise(years)):
        return ""
    return ", assessed at years " + ", ".join(str(y) for y in years) + " (the dots)"
