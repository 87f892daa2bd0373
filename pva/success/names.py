"""Names of the variables and dims of success results (:func:`pva.success.run_success`) and of
their analysis (:func:`pva.success.analyse`), with units: the one place readers take them from.

Dims: ``species``, ``scenario`` and ``replicate`` as in a results file (:mod:`pva.results`), and
``design`` (the scenarios other than no action). The analysis adds ``outcome``, ``term``,
``factor``, ``point``, ``intervention_type`` and ``rank_type``.
"""

from __future__ import annotations

DESIGN = "design"
"""Dim of the designs: the study's scenarios other than no action."""
EXTINCT = "extinct"
"""(species, scenario, replicate) int8: no individuals at all at the horizon."""
CATEGORY = "category"
"""(species, scenario, replicate) int8: Red List category code at the horizon."""
GREEN_SCORE = "green_score"
"""(species, scenario, replicate): Species Recovery Score (percent) at the horizon."""
TOTAL_COST = "total_cost"
"""(species, scenario): cost of the interventions over years 0 .. horizon - 1, as run."""

OUTCOMES: dict[str, tuple[str, str]] = {
    "extinctions_prevented": ("species", "E[extinct under no action - extinct under the design]"),
    "extinction_avoided": ("1", "P(extinct under no action and not under the design)"),
    "downlisted": ("1", "P(a better Red List category than under no action)"),
    "uplisted": ("1", "P(a worse Red List category than under no action)"),
    "delta_rli": ("1", "the species' contribution to ΔRLI (design - no action)"),
    "green_gain": ("percent", "Green Score (design) - Green Score (no action)"),
}
"""Paired outcome -> (units, long name): per species and design, means over replicates."""

FACTORS: dict[str, tuple[str, str]] = {
    "growth_rate": ("1", "λ of the mean matrix"),
    "generation_length": ("years", "generation length (mean age of parents)"),
    "net_reproductive_rate": ("1", "R0"),
    "adult_survival_elasticity": ("1", "elasticity of λ to adult survival"),
    "initial_mature": ("individuals", "mature individuals at year 0"),
    "threat_intensity": ("1", "1 - λ under the threats / λ"),
    "habitat_loss": ("1", "fraction of K lost by the horizon under no action"),
    "start": ("year", "first year the interventions act"),
    "duration": ("years", "years the interventions act before the horizon"),
    "effort": ("1", "effort level within the type, 0 (lowest) .. 1 (highest)"),
    "cost": ("currency units", "cost over the horizon, undiscounted"),
}
"""Numeric factor -> (units, long name). ``type`` (the intervention type) is categorical."""

TYPE = "type"
"""(species, design) str: the intervention type of the design for the species ("none": not
applicable)."""
APPLICABLE = "applicable"
"""(species, design) bool: the design has an intervention for the species."""

SUCCESS_KIND = "success"
"""Value of the ``pva_results`` attribute of success results."""

OUTCOME = "outcome"
TERM = "term"
FACTOR = "factor"
POINT = "point"
INTERVENTION_TYPE = "intervention_type"
RANK_TYPE = "rank_type"
