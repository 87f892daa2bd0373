"""The tables of a success analysis: rows of cells, and the whole as text, Markdown or HTML.

Pure functions of a success results Dataset (:func:`pva.success.run_success`) and its analysis
(:func:`pva.success.analyse`); ``pva success`` prints :func:`format_success`, the report and
``experiments/success_factors.py`` use the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import xarray as xr

from pva import results
from pva.success.names import (
    APPLICABLE,
    DESIGN,
    FACTORS,
    INTERVENTION_TYPE,
    OUTCOME,
    OUTCOMES,
    RANK_TYPE,
    TERM,
    TYPE,
)
from pva.summary.formatting import TableStyle, render_rows

__all__ = [
    "OUTCOME_LABELS",
    "design_rows",
    "effect_rows",
    "format_success",
    "overview_rows",
    "ranking_rows",
    "term_label",
]

Rows = tuple[list[str], list[list[str]]]

OUTCOME_LABELS: dict[str, str] = {
    "extinction_avoided": "P(extinction avoided)",
    "downlisted": "P(downlisted)",
    "extinctions_prevented": "extinctions prevented",
    "delta_rli": "ΔRLI contribution",
    "green_gain": "Green Score gain (points)",
}
"""How each outcome is named in tables and figures."""

_FACTOR_LABELS = {
    "growth_rate": "λ (log, per SD)",
    "generation_length": "generation length (log, per SD)",
    "net_reproductive_rate": "R0 (log, per SD)",
    "adult_survival_elasticity": "elasticity of adult survival (per SD)",
    "initial_mature": "initial size (log, per SD)",
    "threat_intensity": "threat intensity (per SD)",
    "habitat_loss": "habitat loss (per SD)",
    "start": "start year (per SD)",
    "duration": "duration (per SD)",
    "effort": "effort level (per SD)",
    "cost": "cost (log, per SD)",
}


def term_label(term: str, reference: str = "") -> str:
    """A model term as a reader sees it: ``"λ (log, per SD)"``, ``"translocation vs threat
    abatement"``."""
    if term.startswith("type: "):
        kind = term.removeprefix("type: ")
        return f"{kind} vs {reference}" if reference else kind
    return _FACTOR_LABELS.get(term, term)


def _num(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 0.01:
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{value:.2e}"


def _with_interval(value: float, lower: float, upper: float) -> str:
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return _num(value)
    sep = " to " if lower < 0 or upper < 0 else "–"
    return f"{_num(value)} ({_num(lower)}{sep}{_num(upper)})"


def overview_rows(success: xr.Dataset, analysis: xr.Dataset | None = None) -> Rows:
    """What was analysed: species, designs, pairs, replicates, horizon, models."""
    applicable = np.asarray(success[APPLICABLE].values)
    kinds = sorted({str(t) for t in np.asarray(success[TYPE].values)[applicable]})
    rows = [
        ["species", str(success.sizes[results.SPECIES])],
        ["designs (besides no action)", str(success.sizes[DESIGN])],
        ["species x design pairs analysed", str(int(applicable.sum()))],
        ["intervention types", ", ".join(kinds)],
        ["replicates per scenario", str(success.sizes.get(results.REPLICATE, "–"))],
        ["horizon (years)", str(success.attrs.get("horizon", "–"))],
        ["no-action scenario", str(success.attrs.get("no_action", "–"))],
    ]
    if analysis is not None:
        rows.append(["reference type", str(analysis.attrs.get("reference_type", ""))])
        if analysis.attrs.get("dropped"):
            rows.append(["factors left out (constant or aliased)", analysis.attrs["dropped"]])
        boots = analysis["bootstrap"].values if "bootstrap" in analysis else []
        if len(boots):
            rows.append(["bootstrap samples over species", str(int(np.max(boots)))])
        if "note" in analysis:
            for outcome, note in zip(
                analysis[OUTCOME].values, analysis["note"].values, strict=True
            ):
                if str(note):
                    rows.append([OUTCOME_LABELS.get(str(outcome), str(outcome)), str(note)])
    return ["", "value"], rows


def ranking_rows(analysis: xr.Dataset) -> Rows:
    """Intervention types by ΔRLI per million currency units (best first), with intervals."""
    currency = str(analysis.attrs.get("currency", "currency units"))
    header = [
        "intervention type",
        f"ΔRLI per million {currency}",
        f"extinctions prevented per million {currency}",
        "P(best ΔRLI per unit)",
        f"total cost ({currency})",
        "species x designs",
    ]
    rows = []
    for kind in analysis[RANK_TYPE].values:
        r = analysis.sel({RANK_TYPE: kind})

        def cell(name: str, r: xr.Dataset = r) -> str:
            return _with_interval(
                float(r[f"rank_{name}"]),
                float(r[f"rank_{name}_lower"]),
                float(r[f"rank_{name}_upper"]),
            )

        rows.append(
            [
                str(kind),
                cell("delta_rli_per_million"),
                cell("extinctions_prevented_per_million"),
                _num(float(r["rank_p_best"])),
                f"{float(r['rank_total_cost']):,.0f}",
                str(int(r["rank_pairs"])),
            ]
        )
    return header, rows


def effect_rows(analysis: xr.Dataset, outcomes: Sequence[str] | None = None) -> Rows:
    """Each term's effect on each outcome (outcome scale, bootstrap interval in parentheses)."""
    chosen = list(outcomes) if outcomes is not None else [str(o) for o in analysis[OUTCOME].values]
    reference = str(analysis.attrs.get("reference_type", ""))
    header = ["factor", *(OUTCOME_LABELS.get(o, o) for o in chosen)]
    rows = []
    for term in analysis[TERM].values:
        row = [term_label(str(term), reference)]
        for o in chosen:
            e = analysis.sel({OUTCOME: o, TERM: term})
            row.append(
                _with_interval(
                    float(e["effect"]), float(e["effect_lower"]), float(e["effect_upper"])
                )
            )
        rows.append(row)
    return header, rows


def design_rows(success: xr.Dataset, *, top: int | None = None) -> Rows:
    """Designs by ΔRLI summed over species (the design applied to every species it fits), with
    extinctions prevented and cost."""
    currency = str(success.attrs.get("currency", "currency units"))
    applicable = success[APPLICABLE]
    d_rli = success["delta_rli"].where(applicable).sum(results.SPECIES)
    prevented = success["extinctions_prevented"].where(applicable).sum(results.SPECIES)
    cost = success["cost"].where(applicable).sum(results.SPECIES)
    order = np.argsort(-np.asarray(d_rli.values), kind="stable")
    if top is not None:
        order = order[:top]
    header = ["design", "ΔRLI", "extinctions prevented", f"cost ({currency})", "species"]
    rows = [
        [
            str(success[DESIGN].values[k]),
            _num(float(d_rli.values[k])),
            _num(float(prevented.values[k])),
            f"{float(cost.values[k]):,.0f}",
            str(int(applicable.values[:, k].sum())),
        ]
        for k in order
    ]
    return header, rows


def _type_dependence_rows(analysis: xr.Dataset, outcomes: Sequence[str]) -> Rows:
    header = ["intervention type", *(OUTCOME_LABELS.get(o, o) for o in outcomes)]
    rows = []
    for kind in analysis[INTERVENTION_TYPE].values:
        row = [str(kind)]
        for o in outcomes:
            t = analysis.sel({OUTCOME: o, INTERVENTION_TYPE: kind})
            row.append(
                _with_interval(
                    float(t["type_dependence"]),
                    float(t["type_dependence_lower"]),
                    float(t["type_dependence_upper"]),
                )
            )
        rows.append(row)
    return header, rows


def format_success(
    success: xr.Dataset, analysis: xr.Dataset, *, style: TableStyle = "text", top: int = 10
) -> str:
    """The analysis as text, Markdown or HTML: overview, ranking per currency unit, effects of the
    factors on each outcome, the mean outcome by type, and the best designs."""
    confidence = float(analysis.attrs.get("confidence", 0.95))
    outcomes = [str(o) for o in analysis[OUTCOME].values]
    blocks = [
        ("What was analysed", overview_rows(success, analysis)),
        ("Intervention types per currency unit (best first)", ranking_rows(analysis)),
        ("Effects of the factors (outcome scale)", effect_rows(analysis)),
        ("Mean fitted outcome by intervention type", _type_dependence_rows(analysis, outcomes)),
        (f"Designs by ΔRLI over all species (top {top})", design_rows(success, top=top)),
    ]
    out = []
    for title, (header, rows) in blocks:
        table = render_rows(
            header, rows, style, align="left" if title.startswith("What") else "numbers"
        )
        if style == "markdown":
            out.append(f"### {title}\n\n{table}")
        elif style == "html":
            out.append(f"<h3>{title}</h3>\n{table}")
        else:
            out.append(f"{title}\n{table}")
    note = (
        f"{confidence:.0%} intervals in parentheses: bootstrap over species (percentile). A "
        "numeric factor's effect is the average change of the fitted outcome for one SD more of "
        "it, a type's the average difference from the reference type; ΔRLI per species is its "
        "contribution to the RLI of all species. The factors found are conditional on the "
        "study's threat, size and cost rules."
    )
    out.append(f"<p>{note}</p>" if style == "html" else note)
    return "\n\n".join(out) + "\n"


_AXIS_LABELS = {
    "growth_rate": "λ",
    "generation_length": "generation length (years)",
    "net_reproductive_rate": "R0",
    "adult_survival_elasticity": "elasticity of adult survival",
    "initial_mature": "initial mature individuals",
    "threat_intensity": "threat intensity (1 - λ threatened / λ)",
    "habitat_loss": "K lost by the horizon",
    "start": "start (year)",
    "duration": "years acting",
    "effort": "effort level (0 low .. 1 high)",
    "cost": "cost over the horizon",
}


def factor_label(factor: str) -> str:
    """A short axis label of a factor, with its units (:data:`pva.success.names.FACTORS`)."""
    if factor in _AXIS_LABELS:
        return _AXIS_LABELS[factor]
    units, long_name = FACTORS.get(factor, ("", factor))
    return f"{long_name} ({units})" if units and units != "1" else long_name


def outcome_units(outcome: str) -> str:
    return OUTCOMES.get(outcome, ("", ""))[0]
