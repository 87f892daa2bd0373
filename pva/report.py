"""A self-contained HTML report of a results Dataset, for planners to open offline and forward.

One file, nothing fetched: styles are inline, figures are embedded as base64 PNG (or inline SVG) and
no link points outside the page. The page needs no JavaScript; a few lines of it only mark, for the
headless-browser test and for anyone inspecting the page, whether every figure decoded
(``data-loaded`` on each ``<img>``, ``data-figures-loaded="n/m"`` on ``<body>``) and whether any
resource failed (``data-errors`` on ``<html>``).

Layout: an overview with the all-species comparison (Red List Index, ΔRLI, extinctions prevented,
cost), then per species the scenarios side by side with intervals and the figures, then the Red List
section, then the assumptions (the study specification as stored with the results).
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import os
import re
import struct
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

import pva
from pva import io, plots, redlist, summary
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
table.spec td { text-align: left; }
table.matrix td { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0 1.6rem; }
figure img, figure svg { max-width: 100%; height: auto; display: block;
                         border: 1px solid var(--rule); background: #fff; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .4rem 0; }
dl.kv dt { font-weight: 600; } dl.kv dd { margin: 0; }
code, pre { font: .85rem/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: var(--band); padding: .6rem; overflow-x: auto; }
@media print { body { max-width: none; } h2 { break-before: page; } figure { break-inside: avoid; } }
"""

# Only marks what loaded; the page reads the same without it.
_SCRIPT = """
(function () {
  var root = document.documentElement, errors = 0;
  root.setAttribute('data-errors', '0');
  window.addEventListener('error', function () {
    errors += 1; root.setAttribute('data-errors', String(errors));
  }, true);
  window.addEventListener('load', function () {
    var images = document.images, loaded = 0;
    for (var i = 0; i < images.length; i++) {
      if (images[i].complete && images[i].naturalWidth > 0) {
        images[i].setAttribute('data-loaded', 'true'); loaded += 1;
      }
    }
    document.body.setAttribute('data-figures-loaded', loaded + '/' + images.length);
  });
})();
"""

FIGURE_FORMATS = ("png", "svg")


def _figure_html(fig: Figure, *, alt: str, caption: str, fmt: str, dpi: int) -> str:
    """A ``<figure>`` with ``fig`` embedded (base64 PNG ``<img>`` or inline SVG)."""
    buffer = BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_figure_metadata(fmt))
    if fmt == "png":
        png = buffer.getvalue()
        data = base64.b64encode(png).decode("ascii")
        # pixel size from the PNG header (IHDR, PNG specification 11.2.2): what the browser reserves
        width, height = struct.unpack(">II", png[16:24])
        body = (
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
            f'width="{width}" height="{height}">'
        )
    else:
        svg = buffer.getvalue().decode("utf-8")
        # the XML prolog and DOCTYPE (which names a DTD by URL) are not allowed inside HTML
        svg = re.sub(r"^.*?(?=<svg\b)", "", svg, flags=re.DOTALL)
        body = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(alt)}" ', 1)
    return f"<figure>{body}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _figure_metadata(fmt: str) -> dict[str, Any]:
    # no creation date or tool URL inside the image: identical inputs give identical figures
    if fmt == "png":
        return {"Software": None}
    return {"Date": None, "Creator": None}


def _kv(pairs: Sequence[tuple[str, Any]]) -> str:
    items = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{_value_html(v)}</dd>" for k, v in pairs)
    return f'<dl class="kv">{items}</dl>'


def _is_number_matrix(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(row, list) and row for row in value)
        and all(isinstance(x, int | float) for row in value for x in row)
    )


def _value_html(value: Any) -> str:
    """Any JSON value as HTML: objects as key/value lists, number matrices as tables."""
    if isinstance(value, dict):
        if not value:
            return "<em>none</em>"
        return _kv(list(value.items()))
    if _is_number_matrix(value):
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(f'{x:g}')}</td>" for x in row) + "</tr>"
            for row in value
        )
        return f'<table class="matrix"><tbody>{rows}</tbody></table>'
    if isinstance(value, list):
        if not value:
            return "<em>none</em>"
        if all(not isinstance(v, dict | list) for v in value):
            return html.escape(", ".join(_scalar_text(v) for v in value))
        return "<ol>" + "".join(f"<li>{_value_html(v)}</li>" for v in value) + "</ol>"
    return html.escape(_scalar_text(value))


def _scalar_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


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
    spec = made.study
    if made.no_action is not None:
        spec[names.NO_ACTION_KEY] = made.no_action
    years = results[names.YEAR].values
    settings: list[tuple[str, Any]] = [
        ("years simulated", f"{int(years[0])} to {int(years[-1])}"),
        (
            "replicates",
            made.replicates if made.replicates is not None else results.sizes[names.REPLICATE],
        ),
        ("seed entropy", str(_recorded(made.seed_entropy))),
        ("replicates per chunk", _recorded(made.chunk_size)),
        ("pva version", str(_recorded(made.version))),
        ("scenarios", ", ".join(names.names_of(results, names.SCENARIO))),
        ("compared against", table.attrs["no_action"]),
        ("extinction", "no individuals left in any population"),
        ("intervals", f"{table.attrs['confidence']:.0%} (Monte Carlo)"),
    ]
    parts = ["<h3>Settings</h3>", _kv(settings)]
    head = spec.get("study")
    if isinstance(head, dict) and head:
        parts.append("<h3>Study</h3>" + _value_html(head))
    for key, heading in _SPEC_SECTIONS:
        items = _named_items(spec, key)
        if items:
            parts.append(f"<h3>{heading}</h3>")
            parts.extend(f"<h4>{html.escape(n)}</h4>{_value_html(body)}" for n, body in items)
        elif key == "species":
            parts.append(f"<h3>{heading}</h3>" + _species_from_results(results))
    known = {"study", names.NO_ACTION_KEY, *(k for k, _ in _SPEC_SECTIONS)}
    others = {k: v for k, v in spec.items() if k not in known}
    if others:
        parts.append("<h3>Other settings</h3>" + _value_html(others))
    if spec:
        parts.append(
            "<details><summary>Study specification as stored with the results (JSON)</summary>"
            "<pre>"
            + html.escape(json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True))
            + "</pre></details>"
        )
    return "\n".join(parts)


def _species_from_results(results: xr.Dataset) -> str:
    """Per-species parameters recorded as variables, when the study spec does not list them."""
    rows = []
    per_species = [
        v
        for v in (names.GENERATION_LENGTH, names.QUASI_EXTINCTION_THRESHOLD)
        if v in results.data_vars
    ]
    for sp in names.names_of(results, names.SPECIES):
        sel = results.sel({names.SPECIES: sp})
        pairs = [(plots.axis_label(results[v], v), f"{float(sel[v]):g}") for v in per_species]
        rows.append(f"<h4>{html.escape(str(sp))}</h4>{_kv(pairs)}")
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
        Resolution of PNG figures, in dots per inch.
    source
        Name of the results file, shown in the header.
    """
    if figure_format not in FIGURE_FORMATS:
        raise ValueError(f"figure_format must be 'png' or 'svg'; got {figure_format!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 30 <= dpi <= 600:
        raise ValueError(f"dpi must be an integer between 30 and 600; got {dpi!r}")
    results = summary.check_results(results)
    skipped = summary.red_list_unavailable(results) if red_list is not False else ""
    if skipped and red_list:
        raise ValueError(f"cannot assess Red List categories: {skipped}")
    assessment = redlist.assess(results) if red_list is not False and not skipped else None
    table = summary.summary_table(
        results,
        horizons=horizons,
        no_action=no_action,
        confidence=confidence,
        red_list=assessment is not None,
        assessment=assessment,
    )
    title = title or names.provenance(results).name or "Population viability analysis"
    species = names.names_of(results, names.SPECIES)
    curves = summary.extinction_curves(results, confidence=confidence)
    quantiles = summary.trajectory_quantiles(results, quantiles=plots.FAN_QUANTILES)

    def figure(fig: Figure, alt: str, caption: str) -> str:
        return _figure_html(fig, alt=alt, caption=caption, fmt=figure_format, dpi=dpi)

    band = f"{confidence:.0%}"
    toc = ['<li><a href="#overview">Overview</a></li>']
    toc += [f'<li><a href="#{_anchor("species", sp)}">{html.escape(sp)}</a></li>' for sp in species]
    if assessment is not None:
        toc.append('<li><a href="#red-list">Red List Index and extinctions prevented</a></li>')
    if names.GREEN_SCORE in table:
        toc.append('<li><a href="#green-status">Green Status of Species</a></li>')
    toc.append('<li><a href="#assumptions">Assumptions</a></li>')

    body: list[str] = []
    generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = [
        f"{len(species)} species",
        f"{results.sizes[names.SCENARIO]} scenarios",
        f"{results.sizes[names.REPLICATE]} replicates",
        f"years 0–{table.attrs['final_year']}",
        f"pva {names.provenance(results).version or '?'}",
        f"generated {generated}",
    ]
    if source:
        meta.insert(0, f"results: {source}")
    body.append(f"<header><h1>{html.escape(title)}</h1>")
    body.append(f'<p class="meta">{html.escape(" · ".join(meta))}</p></header>')
    body.append(f'<nav aria-label="contents"><ol>{"".join(toc)}</ol></nav>')

    body.append('<section id="overview"><h2>Overview</h2>')
    body.append(
        "<p>Each species was projected under every scenario with the same random environmental "
        "history in each replicate (common random numbers), so differences between scenarios are "
        f"paired. Numbers in parentheses are {band} Monte Carlo intervals; comparisons are against "
        f"the scenario <strong>{html.escape(table.attrs['no_action'])}</strong>.</p>"
    )
    header, rows = summary.study_rows(table)
    if rows:
        body.append(f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div>')
    if skipped:
        body.append(
            f'<p class="note">Red List assessment not shown: {html.escape(skipped)} '
            "(the IUCN criteria need it).</p>"
        )
    body.append(
        figure(
            plots.plot_intervention_comparison(results, table=table),
            "probability of extinction by the final year per scenario and species",
            f"Probability of extinction by year {table.attrs['final_year']}, with {band} intervals.",
        )
    )
    body.append("</section>")

    for sp in species:
        body.append(f'<section id="{_anchor("species", sp)}"><h2>{html.escape(sp)}</h2>')
        body.append(_species_meta(results, sp))
        header, rows = summary.species_rows(table, sp)
        body.append(f'<div class="scroll">{summary.render_rows(header, rows, "html")}</div>')
        body.append(
            figure(
                plots.plot_extinction_cdf(
                    results, species=sp, curves=curves, confidence=confidence
                ),
                f"{sp}: cumulative probability of extinction by year per scenario",
                f"{sp}: probability of extinction by each year; shaded: {band} interval.",
            )
        )
        body.append(
            figure(
                plots.plot_fan_chart(results, species=sp, quantiles=quantiles),
                f"{sp}: mature individuals by year per scenario, median and bands",
                f"{sp}: mature individuals, median line with the central 50% and 90% of "
                "replicates shaded.",
            )
        )
        if assessment is not None:
            body.append("<h3>Red List category</h3>")
            body.append(
                figure(
                    plots.plot_category_distribution(assessment, species=sp),
                    f"{sp}: share of replicates in each Red List category by year",
                    f"{sp}: share of replicates in each IUCN Red List category by year.",
                )
            )
            body.append(
                figure(
                    plots.plot_transition_matrix(assessment, species=sp),
                    f"{sp}: Red List category transition probabilities",
                    f"{sp}: probability of each category at the end given the category at the "
                    "start (rows), per scenario.",
                )
            )
        body.append("</section>")

    if assessment is not None:
        body.append('<section id="red-list"><h2>Red List Index and extinctions prevented</h2>')
        body.append(
            "<p>The Red List Index (Butchart et al. 2007) weights categories LC 0, NT 1, VU 2, EN 3, "
            "CR 4, EW and EX 5 and is 1 when every species is Least Concern and 0 when all are "
            "extinct; it is computed per replicate over all species jointly. Extinctions prevented "
            "are expected extinctions under no action minus under the scenario, paired over "
            "replicates.</p>"
        )
        body.append(
            figure(
                plots.plot_rli(assessment, confidence=confidence),
                "Red List Index by year per scenario",
                f"Red List Index of all species by year: mean over replicates; shaded: the "
                f"central {band} of replicates.",
            )
        )
        if table.attrs.get("red_list_notes"):
            body.append(
                '<p class="note">Assessment notes: '
                f"{html.escape(table.attrs['red_list_notes'])}.</p>"
            )
        if results.sizes[names.SCENARIO] > 1:
            body.append(
                figure(
                    plots.plot_extinctions_prevented(table),
                    "expected extinctions prevented per scenario",
                    f"Expected extinctions prevented against {table.attrs['no_action']!r} by year "
                    f"{table.attrs['final_year']}, with {band} intervals.",
                )
            )
        body.append("</section>")

    green_header, green_rows = summary.green_status_rows(table)
    if green_rows:
        body.append(_green_status_html(table, green_header, green_rows))

    body.append('<section id="assumptions"><h2>Assumptions</h2>')
    body.append(_assumptions_html(results, table))
    body.append("</section>")
    body.append(
        f'<footer><p class="note">Generated by pva {html.escape(str(pva_version()))}. '
        "This page is self-contained: it can be saved, opened offline and forwarded.</p></footer>"
    )

    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n"
        f"<script>{_SCRIPT}</script>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


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
