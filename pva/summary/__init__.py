"""Tables of a results Dataset: per species and scenario, the numbers a recovery plan quotes.

:func:`summary_table` gathers, for every species x scenario of a results Dataset (as written by
:func:`pva.runner.run_study` and read by :func:`pva.io.open_results`, or returned by
:func:`pva.simulate`, which counts as a study of one species and one scenario):

* the probability of extinction by chosen horizons, with its interval;
* median final abundance and the expected minimum abundance (McCarthy & Thompson 2001);
* through :func:`pva.redlist.assess`, at every horizon (:func:`red_list_by_horizon`) the Red
  List category distribution, the most likely category and the criteria that set it, what could
  not be evaluated there and why (a category is then a lower bound), the Red List Index by
  scenario with its interval (Butchart et al. 2007) and ΔRLI against no action as paired
  differences over replicates; expected extinctions prevented by the final year (the quantity
  Bolam et al. 2021 estimated by expert elicitation), and the cost per extinction prevented where
  ``annual_cost`` is recorded;
* with a Green Status setting, the Green Scores and conservation metrics (:mod:`pva.summary.green`);
* with ``[[sites]]`` in the study, site indicators (trigger species present and still threatened,
  the site's share of the RLI) and the budgeted choice of site actions (:mod:`pva.summary.aze`).

Building the numbers (:mod:`pva.summary.tables`) is separate from formatting them
(:mod:`pva.summary.formatting`: aligned text, Markdown, HTML and JSON). Nothing is estimated here:
every number comes from :mod:`pva.outcomes` or :mod:`pva.redlist`.

Extinction means no individuals of any stage left in any population (total abundance summed over
populations is 0); quasi-extinction means abundance summed over populations at or below the
species' ``quasi_extinction_threshold`` (total or mature individuals, as the species'
``quasi_extinction_on`` in the study says; :func:`pva.results.provenance`). The scenario "no
action" is :func:`pva.results.no_action_scenario`; pass ``no_action=`` to override.

References
----------
Bolam, F.C. et al. 2021. How many bird and mammal extinctions has recent conservation action
prevented? Conservation Letters 14:e12762.
Butchart, S.H.M. et al. 2007. Improvements to the Red List Index. PLoS ONE 2:e140.
McCarthy, M.A. & C. Thompson. 2001. Expected minimum population size as a measure of threat. Animal
Conservation 4:351-355.
"""

from __future__ import annotations

from pva.results import no_action_scenario
from pva.summary import sweep
from pva.summary.aze import SiteChoice, site_choice, site_indicators, site_portfolio
from pva.summary.costs import CostSettings, cost_settings, replicate_costs, single_interventions
from pva.summary.formatting import (
    LOWER_BOUND_MARK,
    LOWER_BOUND_NOTE,
    TableStyle,
    best_action_text,
    category_share,
    format_run_overview,
    format_table,
    green_status_rows,
    money,
    ranking_note,
    ranking_rows,
    red_list_notes,
    red_list_rows,
    render_rows,
    rli_rows,
    run_rows,
    species_note,
    species_rows,
    study_rows,
    table_to_json,
)
from pva.summary.green import green_status_settings
from pva.summary.sites import occupancy, site_counts, site_curves
from pva.summary.tables import (
    BLOCK_BYTES,
    DEFAULT_HORIZONS,
    EVERY_YEAR_UP_TO,
    Horizon,
    TaskMap,
    abundance_counts,
    assess_by_species,
    assessment_grid,
    by_species,
    check_results,
    default_horizons,
    extinction_curves,
    figure_years,
    lower_bounds,
    reached_by,
    red_list_by_horizon,
    red_list_unavailable,
    red_list_years,
    run_overview,
    species_blocks,
    summary_table,
    trajectory_quantiles,
)

__all__ = [
    "BLOCK_BYTES",
    "DEFAULT_HORIZONS",
    "EVERY_YEAR_UP_TO",
    "LOWER_BOUND_MARK",
    "LOWER_BOUND_NOTE",
    "CostSettings",
    "Horizon",
    "SiteChoice",
    "TableStyle",
    "TaskMap",
    "abundance_counts",
    "assess_by_species",
    "assessment_grid",
    "best_action_text",
    "by_species",
    "category_share",
    "check_results",
    "cost_settings",
    "default_horizons",
    "extinction_curves",
    "figure_years",
    "format_run_overview",
    "format_table",
    "green_status_rows",
    "green_status_settings",
    "lower_bounds",
    "money",
    "no_action_scenario",
    "occupancy",
    "ranking_note",
    "ranking_rows",
    "reached_by",
    "red_list_by_horizon",
    "red_list_notes",
    "red_list_rows",
    "red_list_unavailable",
    "red_list_years",
    "render_rows",
    "replicate_costs",
    "rli_rows",
    "run_overview",
    "run_rows",
    "single_interventions",
    "site_choice",
    "site_counts",
    "site_curves",
    "site_indicators",
    "site_portfolio",
    "species_blocks",
    "species_note",
    "species_rows",
    "study_rows",
    "summary_table",
    "sweep",
    "table_to_json",
    "trajectory_quantiles",
]
