"""The one layout of pva results: names, units, the builder and the provenance reader.

Everything pva writes into an :class:`xarray.Dataset` is named here (one concept, one place), and a
results Dataset is built only by :func:`build`, which both :func:`pva.runner.run_study` and
:func:`pva.simulate` use:

* a study (``pva run``) has dims ``species, scenario, replicate, year, population`` (see
  :data:`LAYOUT` for the dims of every variable);
* :func:`pva.simulate` returns the same Dataset for one species and one scenario, selected: the dims
  ``species`` and ``scenario`` are gone, and their values are left as scalar coordinates. It also
  carries what it was asked to record (``abundance`` by stage, ``carrying_capacity``).

:func:`study_layout` turns the second form back into the first (length-one ``species`` and
``scenario`` dims), so that every reader handles both. How a Dataset was made (the study, the seed
entropy, replicates, chunk size, the quasi-extinction setting of each species, the no-action
scenario, the currency of costs) is read by :func:`provenance` only.

Dataset attributes: ``pva_version``, ``seed_entropy`` (a string, as netCDF holds no 128-bit integers),
``n_replicates``, ``chunk_size`` and ``study``: the study in the study-file schema
(:meth:`pva.study.Study.to_dict`, see ``docs/study-file.md``) as JSON, plus the key ``no_action``
naming the scenario the others are compared with. There is no timestamp: the same seed gives an
identical Dataset.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import types
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import xarray as xr

import pva
from pva import kernels, validation

if TYPE_CHECKING:
    from pva.schedule import Schedule
    from pva.study import Study

# ---------------------------------------------------------------------------------------------------
# dimensions (singular, as xarray and CF prefer)
# ---------------------------------------------------------------------------------------------------

SPECIES = "species"
SCENARIO = "scenario"
REPLICATE = "replicate"
YEAR = "year"
POPULATION = "population"
STAGE = "stage"
QUANTILE = "quantile"
"""Quantile levels of a summary."""
HORIZON = "horizon"
"""Reporting horizons (years since the start) of a summary table."""
GREEN_YEAR = "green_year"
"""Years at which a summary table reports the Green Score."""
CATEGORY_DIM = "category"
"""Red List categories of a summary table's category shares."""
CATEGORY_FROM = "category_from"
"""Rows of a Red List transition matrix: the category in the first year
(:func:`pva.redlist.transition_matrix`)."""
CATEGORY_TO = "category_to"
"""Columns of a Red List transition matrix: the category in the second year."""

# ---------------------------------------------------------------------------------------------------
# results variables
# ---------------------------------------------------------------------------------------------------

ABUNDANCE = "abundance"
"""Individuals by stage: (species, scenario, replicate, year, population, stage); recorded by
:func:`pva.simulate` on request."""
MATURE = "mature_abundance"
"""Mature individuals (those the Red List counts): (species, scenario, replicate, year, population)."""
TOTAL = "total_abundance"
"""All individuals: (species, scenario, replicate, year, population)."""
CARRYING_CAPACITY = "carrying_capacity"
"""Realised carrying capacity: (species, scenario, replicate, year, population); recorded by
:func:`pva.simulate` on request."""
GENE_DIVERSITY = "gene_diversity"
"""Gene diversity (expected heterozygosity) relative to year 0's reference (the species'
:class:`~pva.model.Genetics`): (species, scenario, replicate, year, population); NaN where the
population has no individuals and for species without genetics."""
INBREEDING = "inbreeding"
"""Inbreeding ``F = 1 - gene_diversity`` (relative to year 0): dims as :data:`GENE_DIVERSITY`."""
CAPTIVE_INDIVIDUALS = "captive_individuals"
"""Individuals held in the scenario's ex-situ programmes (:class:`~pva.scenario.ExSituProgramme`):
(species, scenario, replicate, year); present when some scenario keeps one."""
CAPTIVE_GENE_DIVERSITY = "captive_gene_diversity"
"""Gene diversity of the captive individuals (mean over programmes weighted by individuals),
relative to the species' reference: (species, scenario, replicate, year); NaN where none."""
POPULATION_EXISTS = "population_exists"
"""Whether population p of a species exists (species have different numbers; the rest is padding):
(species, population), bool."""
POPULATION_NAME = "population_name"
"""Name of each population (site), "" for padding: coordinate (species, population)."""
GENERATION_LENGTH = "generation_length"
"""Generation length in years, NaN if unknown: (species,)."""
QUASI_EXTINCTION_THRESHOLD = "quasi_extinction_threshold"
"""Quasi-extinction threshold in individuals: (species,). What it counts (mature or all
individuals) is the species' ``quasi_extinction_on`` in the study (:func:`provenance`)."""
ANNUAL_COST = "annual_cost"
"""Cost of a scenario's interventions in year t (the step from t to t + 1): (species, scenario, year)."""
TAXON = "taxon"
"""Scientific name: coordinate (species,), "" if unknown."""
COUNTRY = "country"
"""Country or countries: coordinate (species,), "" if unknown."""
SITE = "site"
"""Site or range: coordinate (species,), "" if unknown."""
EXTINCTION_RISK = "extinction_risk"
"""Nested criterion-E probabilities of extinction within the CR, EN and VU windows from each
replicate's state: (species, scenario, replicate, year, window), NaN at years not assessed
(:mod:`pva.nested`; read by :func:`pva.redlist.assess`)."""
E_WINDOW = "window"
"""Dimension of :data:`EXTINCTION_RISK`: the criterion E windows."""
E_WINDOWS = ("CR", "EN", "VU")
"""Coordinate of :data:`E_WINDOW`: the CR, EN and VU windows of criterion E
(:func:`pva.redlist.e_windows`)."""
PROJECTED_MATURE = "projected_mature"
"""Nested projections for A3, A4 and projected C1: expected mature individuals ``lead`` years after
each assessment year, projected from each replicate's state there: (species, scenario, replicate,
year, lead), NaN at years not assessed (see :func:`pva.redlist.classify`, ``projected_mature``)."""
LEAD = "lead"
"""Dimension of :data:`PROJECTED_MATURE`: years after the assessment year, 0 .. at most 100."""

# Red List (pva.redlist)
CRITERION = "criterion"
"""Dim of the Red List sub-criteria (:data:`pva.redlist.CRITERIA`) in :func:`pva.redlist.assess`'s
output."""
CRITERION_LEVEL = "criterion_level"
"""Level each sub-criterion met, as a category code: (species, scenario, replicate, year,
criterion), from :func:`pva.redlist.assess`."""
CATEGORY = "category"
"""IUCN Red List category code, int8 (see pva.redlist): (species, scenario, replicate, year)."""
CRITERIA = "criteria"
"""Red List criteria met, IUCN style ("EN A3; C1"): (species, scenario, replicate, year)."""
RLI = "red_list_index"
"""Red List Index of the species jointly: (scenario, replicate, year)."""

# ---------------------------------------------------------------------------------------------------
# summaries (pva.outcomes.summarize and pva.summary.summary_table)
# ---------------------------------------------------------------------------------------------------

MCSE_SUFFIX = "_mcse"
"""Suffix of an estimate's Monte Carlo standard error."""
LOWER_SUFFIX = "_lower"
"""Suffix of the lower end of an estimate's ``confidence`` interval."""
UPPER_SUFFIX = "_upper"
"""Suffix of the upper end of an estimate's ``confidence`` interval."""
SPREAD_LOWER_SUFFIX = "_spread_lower"
"""Suffix of the lower end of the central ``confidence`` share of replicates (the range of futures,
not an interval of the estimate)."""
SPREAD_UPPER_SUFFIX = "_spread_upper"
"""Suffix of the upper end of the central ``confidence`` share of replicates."""

P_EXTINCTION = "p_extinction"
"""Probability of extinction (no individuals left) by year or horizon."""
P_QUASI_EXTINCTION = "p_quasi_extinction"
"""Probability of falling to the quasi-extinction threshold or below by year or horizon."""
EXPECTED_MINIMUM = "expected_minimum_abundance"
"""Expected minimum abundance (McCarthy & Thompson 2001)."""
MEAN_ABUNDANCE = "mean_abundance"
"""Mean abundance over replicates by year."""
ABUNDANCE_QUANTILE = "abundance_quantile"
"""Quantiles of abundance over replicates by year."""
MEDIAN_TIME_TO_EXTINCTION = "median_time_to_extinction"
MEDIAN_TIME_TO_QUASI_EXTINCTION = "median_time_to_quasi_extinction"
STOCHASTIC_GROWTH_RATE = "log_stochastic_growth_rate"
QUASI_EXTINCTION_ON = "quasi_extinction_on"
"""What a quasi-extinction threshold counts: "total" or "mature" individuals (a summary variable)."""
MEDIAN_FINAL_ABUNDANCE = "median_final_abundance"
TOTAL_COST = "total_cost"
CATEGORY_SHARE = "category_share"
RLI_SUMMARY = "rli"
"""Red List Index in the final year, mean over replicates (a summary table's variable)."""
DELTA_RLI = "delta_rli"
CATEGORY_SHARE_BY_HORIZON = "category_share_by_horizon"
"""Share of replicates in each Red List category at each horizon: (species, scenario, horizon,
category)."""
MOST_LIKELY_CATEGORY = "most_likely_category"
"""The category most replicates are in at each horizon (ties: the more threatened):
(species, scenario, horizon), a label."""
MOST_LIKELY_SHARE = "most_likely_share"
"""Share of replicates in the most likely category: (species, scenario, horizon)."""
MOST_LIKELY_CRITERIA = "most_likely_criteria"
"""The criteria that set the most likely category in most of its replicates, IUCN style ("D",
"A3+4; C1"; "" for LC and EX): (species, scenario, horizon)."""
MOST_LIKELY_LOWER_BOUND = "most_likely_lower_bound"
"""Whether the most likely category is a lower bound in some of its replicates (criteria not
evaluated that could have given a higher one): (species, scenario, horizon)."""
LOWER_BOUND_SHARE = "lower_bound_share"
"""Share of replicates whose category at the horizon is a lower bound because some criterion was
not evaluated there: (species, scenario, horizon)."""
NOT_EVALUATED = "not_evaluated"
"""What was not evaluated at the horizon and why ("A3, A4, E not evaluated: no projections at year
20"), "" if nothing: (species, scenario, horizon)."""
RLI_BY_HORIZON = "rli_by_horizon"
"""Red List Index at each horizon, mean over replicates: (scenario, horizon)."""
DELTA_RLI_BY_HORIZON = "delta_rli_by_horizon"
"""ΔRLI against no action at each horizon, paired over replicates: (scenario, horizon)."""
P_RLI_IMPROVED_BY_HORIZON = "p_rli_improved_by_horizon"
"""Share of replicates with a higher RLI than under no action at each horizon."""
P_RLI_IMPROVED = "p_rli_improved"
EXTINCTIONS_PREVENTED = "extinctions_prevented"
P_ANY_PREVENTED = "p_any_prevented"
INCREMENTAL_COST = "incremental_cost"
COST_PER_EXTINCTION_PREVENTED = "cost_per_extinction_prevented"
COST_PER_DELTA_RLI = "cost_per_delta_rli"
"""Expected cost beyond no action per unit of expected ΔRLI (scenario)."""
EXTINCTIONS_PREVENTED_PER_COST = "extinctions_prevented_per_cost"
"""Expected extinctions prevented per million currency units beyond no action (scenario)."""
RANK_BY_DELTA_RLI = "rank_by_delta_rli"
"""Rank of a single intervention by ΔRLI (scenario; 1 = best, NaN = not ranked)."""
RANK_BY_COST_EFFECTIVENESS = "rank_by_cost_effectiveness"
"""Rank of a single intervention by extinctions prevented per cost (scenario)."""
ABSOLUTE_EXTINCTIONS_PREVENTED = "absolute_extinctions_prevented"
"""Expected extinctions prevented counting absolute extinction (no individuals) (scenario)."""
DELTA_RLI_CONTRIBUTION = "delta_rli_contribution"
"""A species' share of ΔRLI: its paired category-weight difference over W_EX N (species, scenario)."""
RISK_MEASURE = "risk_measure"
"""The event a species' risk measure counts, in words (species)."""
ABUNDANCE_COUNTS = "abundance_counts"
"""What a species' abundance figures count, in its stage names (species)."""
P_SITE_EXTINCTION = "p_site_extinction"
"""Probability that a site (population) has no individuals in some year from the year the scenario
founds it to a horizon (species, scenario, population, horizon); NaN before the founding
(:mod:`pva.summary.sites`)."""
P_SITE_QUASI_EXTINCTION = "p_site_quasi_extinction"
"""Probability that a site is at or below the species' quasi-extinction threshold in some year from
its founding to a horizon; NaN before the founding."""
SITE_FOUNDING_YEAR = "site_founding_year"
"""The year a scenario founds a site: the first year some replicate has individuals there (species,
scenario, population); NaN where the scenario never founds it."""
SITES_OCCUPIED = "sites_occupied"
"""Mean number of sites with individuals in a year (species, scenario, horizon)."""
GENE_DIVERSITY_TARGET = 0.95
"""Share of the initial gene diversity to retain: GSAP action 4.5 ("at least 95%"), GBF Target 4."""
GENE_DIVERSITY_KEPT = "gene_diversity_kept"
"""Mean share of the species' initial gene diversity kept in a year, over the replicates in which
the species is extant (species, scenario, horizon); the species' gene diversity is the mean of its
sites' weighted by their individuals (:mod:`pva.summary.genetics`)."""
MEAN_INBREEDING = "mean_inbreeding"
"""Mean inbreeding ``F = 1 - gene_diversity`` of the species in a year, over the replicates in which
it is extant (species, scenario, horizon)."""
P_GENE_DIVERSITY_TARGET = "p_gene_diversity_target"
"""Probability that the species is extant with at least 95% of its initial gene diversity in a year
(species, scenario, horizon); extinction counts as failing the target."""
YEARS_ABOVE_GENE_DIVERSITY_TARGET = "years_above_gene_diversity_target"
"""Expected years until the species' gene diversity first falls below 95% of its initial value (or
the species dies out), counted to the final year at most: ``E[min(T, final year)]`` (species,
scenario)."""
SITE_GENE_DIVERSITY = "site_gene_diversity"
"""Mean gene diversity of a site in a year relative to the species' reference, over the replicates
in which the site has individuals (species, scenario, population, horizon)."""
BEST_SCENARIO = "best_scenario"
"""Per species, the scenario with the lowest risk by the final year (species)."""
RISK_REDUCTION = "risk_reduction"
"""Per species, the best scenario's risk below no action's, paired (species)."""
RUNNER_UP = "runner_up"
"""Per species, the scenario with the second-lowest risk (species)."""
MARGIN = "margin"
"""Per species, the runner-up's risk minus the best scenario's, paired (species)."""
BEST_RANKED_BY = "best_ranked_by"
"""Per species, what the best scenario, its reduction and margin were judged by: ``"risk"`` (the
species' risk measure), or ``"absolute extinction"`` where every scenario has the same risk
(species)."""
GREEN_SCORE = "green_score"
SPECIES_RECOVERY_SCORE = "species_recovery_score"
CONSERVATION_LEGACY = "conservation_legacy"
CONSERVATION_DEPENDENCE = "conservation_dependence"
CONSERVATION_GAIN = "conservation_gain"
RECOVERY_POTENTIAL = "recovery_potential"

# ---------------------------------------------------------------------------------------------------
# sweeps and parameter uncertainty (pva.sensitivity)
# ---------------------------------------------------------------------------------------------------

SAMPLE = "sample"
"""Dim of a sweep's results: one point of the design (a set of parameter values) per sample."""
PARAMETER = "parameter"
"""Dim of the swept (or uncertain) parameters, labelled by their short names."""
PARAMETER_PREFIX = "param_"
"""Prefix of the coordinate holding a parameter's value in each sample (or draw):
``param_<name>`` (sample), e.g. ``param_carrying_capacity``."""
PARAMETER_PATH = "parameter_path"
"""The dotted path of each parameter into the study (:mod:`pva.sensitivity.paths`): (parameter)."""
PARAMETER_LOW = "parameter_low"
"""Lower end of each parameter's range in the design: (parameter)."""
PARAMETER_HIGH = "parameter_high"
"""Upper end of each parameter's range in the design: (parameter)."""
PARAMETER_BASE = "parameter_base"
"""Each parameter's value in the study as written (NaN where the study leaves it unset):
(parameter)."""
DESIGN_POINT = "design_point"
"""Each sample's point in the unit hypercube of the design (before the parameters' ranges or
distributions are applied): (sample, parameter)."""
EXTINCT_BY_HORIZON = "extinct_by_horizon"
"""Per replicate, 1 if extinct (no individuals) by the horizon, 0 if not, -1 where the horizon
lies beyond the sample's years: (sample, species, scenario, replicate, horizon), int8."""
QUASI_EXTINCT_BY_HORIZON = "quasi_extinct_by_horizon"
"""As :data:`EXTINCT_BY_HORIZON`, for quasi-extinction at the species' threshold."""
CATEGORY_BY_HORIZON = "category_by_horizon"
"""Per replicate, the Red List category code at the horizon: (sample, species, scenario,
replicate, horizon), int8 (:data:`pva.redlist.NOT_EVALUABLE` beyond the sample's years)."""
SOBOL_FIRST = "sobol_first"
"""First-order Sobol' index of each parameter: (species, scenario, horizon, parameter)."""
SOBOL_TOTAL = "sobol_total"
"""Total-order Sobol' index of each parameter: (species, scenario, horizon, parameter)."""
MORRIS_MU = "morris_mu"
"""Mean elementary effect (Morris 1991): (species, scenario, horizon, parameter)."""
MORRIS_MU_STAR = "morris_mu_star"
"""Mean absolute elementary effect (Campolongo et al. 2007)."""
MORRIS_SIGMA = "morris_sigma"
"""Standard deviation of the elementary effects (Morris 1991)."""
PRCC = "prcc"
"""Partial rank correlation coefficient of each parameter with the risk (Blower & Dowlatabadi
1994): (species, scenario, horizon, parameter)."""
PRCC_P_VALUE = "prcc_p_value"
"""Two-sided p-value of the PRCC against 0 (t test with n - 2 - k degrees of freedom)."""
SE_SUFFIX = "_se"
"""Suffix of a bootstrap (or jackknife) standard error."""

DRAW = "draw"
"""Dim of the parameter draws of a run with parameter uncertainty."""
REPLICATE_DRAW = "replicate_draw"
"""The draw each replicate's parameters come from: coordinate (replicate)."""
RISK_BY_DRAW = "risk_by_draw"
"""The risk (each species' risk measure, :mod:`pva.measures`) estimated from each draw's replicates: (draw, species,
scenario, horizon)."""
VARIANCE_TOTAL = "risk_variance_total"
"""Variance of the risk indicator (extinct or not by the horizon) over replicates and draws:
(species, scenario, horizon)."""
VARIANCE_PARAMETER = "risk_variance_parameter"
"""The part of :data:`VARIANCE_TOTAL` due to parameter uncertainty, Var_θ(P(extinct | θ))."""
VARIANCE_PROCESS = "risk_variance_process"
"""The part of :data:`VARIANCE_TOTAL` due to process stochasticity, E_θ[P(1 - P) | θ]."""
PARAMETER_SHARE = "risk_parameter_share"
"""Share of the variance of the risk indicator due to parameter uncertainty."""
CATEGORY_BY_DRAW = "category_by_draw"
"""The median Red List category of each draw's replicates: (draw, species, scenario,
assessment_year), int8."""
CATEGORY_RANGE_LOWER = "category_range_lower"
"""Lowest category of the central draws (Akçakaya et al. 2000's plausible range): (species,
scenario, assessment_year), a label."""
CATEGORY_RANGE_UPPER = "category_range_upper"
"""Highest category of the central draws: (species, scenario, assessment_year), a label."""
CATEGORY_MODE = "category_mode"
"""The category most draws have: (species, scenario, assessment_year), a label."""
ASSESSMENT_YEAR = "assessment_year"
"""Dim of the Red List range of a run with parameter uncertainty: year 0 and the horizons."""

ATTR_SWEEP = "sweep"
"""Dataset attribute of a sweep: the design and its parameters as JSON."""
ATTR_UNCERTAINTY = "uncertainty"
"""Dataset attribute of a run with parameter uncertainty: the distributions as JSON."""

# ---------------------------------------------------------------------------------------------------
# attributes
# ---------------------------------------------------------------------------------------------------

ATTR_VERSION = "pva_version"
ATTR_SEED_ENTROPY = "seed_entropy"
ATTR_REPLICATES = "n_replicates"
ATTR_CHUNK_SIZE = "chunk_size"
ATTR_STUDY = "study"
"""Dataset attribute holding the study as JSON (study-file schema plus the key ``no_action``)."""
ATTR_KERNELS = "engine_kernels"
"""Dataset attribute naming the engine's path for the fate draws (:func:`pva.kernels.name`):
``"numpy"`` or ``"numba <version>"`` (both draw the same numbers)."""
NO_ACTION_KEY = "no_action"
"""Key of the study JSON naming the scenario the others are compared with."""
ATTR_SPEC = "spec"
"""Attribute of earlier :func:`pva.simulate` Datasets (species and scenario as JSON). No longer
written: :func:`pva.simulate` records a study like ``pva run``; read only by
:func:`pva.redlist.assess` as a fallback for a generation length."""

# ---------------------------------------------------------------------------------------------------
# units and long names
# ---------------------------------------------------------------------------------------------------

_NOT_FOUNDED_COMMENT = (
    "NaN (null in JSON): not founded, in the years before the scenario founds the site "
    "(site_founding_year) and in scenarios that never found it"
)
VARIABLE_ATTRS: dict[str, dict[str, str]] = {
    ABUNDANCE: {"units": "individuals", "long_name": "abundance by stage"},
    MATURE: {"units": "individuals", "long_name": "mature individuals"},
    TOTAL: {"units": "individuals", "long_name": "total abundance"},
    CARRYING_CAPACITY: {"units": "individuals", "long_name": "carrying capacity"},
    GENE_DIVERSITY: {
        "units": "1",
        "long_name": "gene diversity relative to year 0 (NaN: no individuals)",
    },
    INBREEDING: {
        "units": "1",
        "long_name": "inbreeding coefficient F = 1 - gene diversity (NaN: no individuals)",
    },
    CAPTIVE_INDIVIDUALS: {"units": "individuals", "long_name": "individuals in ex-situ programmes"},
    CAPTIVE_GENE_DIVERSITY: {
        "units": "1",
        "long_name": "gene diversity of the ex-situ individuals (NaN: none)",
    },
    YEAR: {"units": "year", "long_name": "years since the start of the projection"},
    REPLICATE: {"units": "1", "long_name": "Monte Carlo replicate"},
    POPULATION_EXISTS: {"units": "1", "long_name": "population exists (false: padding)"},
    POPULATION_NAME: {"units": "1", "long_name": "population (site) name"},
    QUASI_EXTINCTION_THRESHOLD: {"units": "individuals", "long_name": "quasi-extinction threshold"},
    ANNUAL_COST: {"units": "currency units per year", "long_name": "annual cost of interventions"},
    SPECIES: {"units": "1", "long_name": "species"},
    SCENARIO: {"units": "1", "long_name": "scenario"},
    POPULATION: {"units": "1", "long_name": "population (site) index"},
    STAGE: {"units": "1", "long_name": "life-cycle stage"},
    TAXON: {"units": "1", "long_name": "scientific name"},
    COUNTRY: {"units": "1", "long_name": "country"},
    SITE: {"units": "1", "long_name": "site"},
    GENERATION_LENGTH: {"units": "year", "long_name": "generation length"},
    EXTINCTION_RISK: {
        "units": "1",
        "long_name": "probability of extinction within the criterion E window (nested simulation)",
    },
    PROJECTED_MATURE: {
        "units": "individuals",
        "long_name": "expected mature individuals ahead of the assessment year (nested simulation)",
    },
    LEAD: {"units": "year", "long_name": "years after the assessment year"},
    QUANTILE: {"units": "1", "long_name": "quantile level"},
    HORIZON: {"units": "year", "long_name": "years since the start"},
    GREEN_YEAR: {"units": "year", "long_name": "year of the Green Score"},
    QUASI_EXTINCTION_ON: {"units": "1", "long_name": "individuals the threshold counts"},
    P_EXTINCTION: {"units": "1", "long_name": "probability of extinction"},
    P_QUASI_EXTINCTION: {"units": "1", "long_name": "probability of quasi-extinction"},
    EXPECTED_MINIMUM: {"units": "individuals", "long_name": "expected minimum abundance"},
    MEAN_ABUNDANCE: {"units": "individuals", "long_name": "mean abundance"},
    ABUNDANCE_QUANTILE: {
        "units": "individuals",
        "long_name": "quantile of abundance over replicates",
    },
    MEDIAN_TIME_TO_EXTINCTION: {
        "units": "year",
        "long_name": "median time to extinction (inf: beyond the horizon)",
    },
    MEDIAN_TIME_TO_QUASI_EXTINCTION: {
        "units": "year",
        "long_name": "median time to quasi-extinction (inf: beyond the horizon)",
    },
    STOCHASTIC_GROWTH_RATE: {"units": "1/year", "long_name": "log stochastic growth rate"},
    MEDIAN_FINAL_ABUNDANCE: {"units": "individuals", "long_name": "median final abundance"},
    TOTAL_COST: {"units": "currency units", "long_name": "total cost"},
    CATEGORY_SHARE: {"units": "1", "long_name": "share of replicates in each Red List category"},
    RLI_SUMMARY: {"units": "1", "long_name": "Red List Index"},
    DELTA_RLI: {"units": "1", "long_name": "ΔRLI against no action"},
    P_RLI_IMPROVED: {
        "units": "1",
        "long_name": "share of replicates in which the RLI is higher than under no action",
    },
    CATEGORY_SHARE_BY_HORIZON: {
        "units": "1",
        "long_name": "share of replicates in each Red List category",
    },
    MOST_LIKELY_CATEGORY: {"units": "1", "long_name": "most likely Red List category"},
    MOST_LIKELY_SHARE: {
        "units": "1",
        "long_name": "share of replicates in the most likely Red List category",
    },
    MOST_LIKELY_CRITERIA: {
        "units": "1",
        "long_name": "criteria that set the most likely category in most of its replicates",
    },
    MOST_LIKELY_LOWER_BOUND: {
        "units": "1",
        "long_name": "the most likely category is a lower bound (criteria not evaluated)",
    },
    LOWER_BOUND_SHARE: {
        "units": "1",
        "long_name": "share of replicates whose category is a lower bound (criteria not evaluated)",
    },
    NOT_EVALUATED: {"units": "1", "long_name": "criteria not evaluated, and why"},
    RLI_BY_HORIZON: {"units": "1", "long_name": "Red List Index"},
    DELTA_RLI_BY_HORIZON: {"units": "1", "long_name": "ΔRLI against no action (paired)"},
    P_RLI_IMPROVED_BY_HORIZON: {
        "units": "1",
        "long_name": "share of replicates in which the RLI is higher than under no action",
    },
    EXTINCTIONS_PREVENTED: {"units": "species", "long_name": "expected extinctions prevented"},
    P_ANY_PREVENTED: {"units": "1", "long_name": "P(at least one extinction prevented)"},
    INCREMENTAL_COST: {"units": "currency units", "long_name": "incremental cost"},
    COST_PER_EXTINCTION_PREVENTED: {
        "units": "currency units per species",
        "long_name": "incremental cost per expected extinction prevented",
    },
    COST_PER_DELTA_RLI: {
        "units": "currency units per unit of RLI",
        "long_name": "expected cost beyond no action per unit of expected ΔRLI",
    },
    EXTINCTIONS_PREVENTED_PER_COST: {
        "units": "species per 1,000,000 currency units",
        "long_name": "expected extinctions prevented per million currency units",
    },
    ABSOLUTE_EXTINCTIONS_PREVENTED: {
        "units": "species",
        "long_name": "expected absolute extinctions (no individuals left) prevented",
    },
    DELTA_RLI_CONTRIBUTION: {"units": "1", "long_name": "the species' contribution to ΔRLI"},
    RISK_MEASURE: {"units": "1", "long_name": "what the species' risk measure counts"},
    ABUNDANCE_COUNTS: {"units": "1", "long_name": "what the species' abundance figures count"},
    P_SITE_EXTINCTION: {
        "units": "1",
        "long_name": "probability that the site has had no individuals in some year since the "
        "scenario founded it",
        "comment": _NOT_FOUNDED_COMMENT,
    },
    P_SITE_QUASI_EXTINCTION: {
        "units": "1",
        "long_name": "probability that the site has been at or below the species' "
        "quasi-extinction threshold in some year since the scenario founded it",
        "comment": _NOT_FOUNDED_COMMENT,
    },
    SITE_FOUNDING_YEAR: {
        "units": "year",
        "long_name": "year the scenario founds the site (first year some replicate has "
        "individuals there)",
        "comment": "NaN (null in JSON): the scenario never founds the site",
    },
    SITES_OCCUPIED: {"units": "sites", "long_name": "mean number of sites with individuals"},
    GENE_DIVERSITY_KEPT: {
        "units": "1",
        "long_name": "mean share of the initial gene diversity kept (extant replicates)",
    },
    MEAN_INBREEDING: {
        "units": "1",
        "long_name": "mean inbreeding coefficient F (extant replicates)",
    },
    P_GENE_DIVERSITY_TARGET: {
        "units": "1",
        "long_name": "probability of being extant with at least 95% of the initial gene diversity",
    },
    YEARS_ABOVE_GENE_DIVERSITY_TARGET: {
        "units": "year",
        "long_name": "expected years until gene diversity falls below 95% of its initial value "
        "(to the final year at most)",
    },
    SITE_GENE_DIVERSITY: {
        "units": "1",
        "long_name": "mean gene diversity of the site (replicates in which it has individuals)",
    },
    BEST_SCENARIO: {"units": "1", "long_name": "scenario with the lowest risk"},
    RISK_REDUCTION: {
        "units": "1",
        "long_name": "risk under no action minus under the best scenario",
    },
    RUNNER_UP: {"units": "1", "long_name": "scenario with the second-lowest risk"},
    MARGIN: {"units": "1", "long_name": "risk under the runner-up minus under the best scenario"},
    BEST_RANKED_BY: {
        "units": "1",
        "long_name": "what the best scenario was judged by: the risk measure, or absolute "
        "extinction where every scenario has the same risk",
    },
    GREEN_SCORE: {"units": "percent", "long_name": "Species Recovery Score (Green Score)"},
    SPECIES_RECOVERY_SCORE: {"units": "percent", "long_name": "Species Recovery Score"},
    CONSERVATION_LEGACY: {"units": "percent", "long_name": "Conservation Legacy"},
    CONSERVATION_DEPENDENCE: {"units": "percent", "long_name": "Conservation Dependence"},
    CONSERVATION_GAIN: {"units": "percent", "long_name": "Conservation Gain"},
    RECOVERY_POTENTIAL: {"units": "percent", "long_name": "Recovery Potential"},
    SAMPLE: {"units": "1", "long_name": "sample of the sweep's design"},
    PARAMETER: {"units": "1", "long_name": "parameter"},
    PARAMETER_PATH: {"units": "1", "long_name": "path of the parameter in the study"},
    PARAMETER_LOW: {"units": "1", "long_name": "lower end of the parameter's range"},
    PARAMETER_HIGH: {"units": "1", "long_name": "upper end of the parameter's range"},
    PARAMETER_BASE: {"units": "1", "long_name": "the parameter's value in the study"},
    DESIGN_POINT: {"units": "1", "long_name": "point of the design in the unit hypercube"},
    EXTINCT_BY_HORIZON: {
        "units": "1",
        "long_name": "extinct by the horizon (1), not (0), horizon not simulated (-1)",
    },
    QUASI_EXTINCT_BY_HORIZON: {
        "units": "1",
        "long_name": "quasi-extinct by the horizon (1), not (0), horizon not simulated (-1)",
    },
    CATEGORY_BY_HORIZON: {"units": "1", "long_name": "Red List category code at the horizon"},
    SOBOL_FIRST: {"units": "1", "long_name": "first-order Sobol' index"},
    SOBOL_TOTAL: {"units": "1", "long_name": "total-order Sobol' index"},
    MORRIS_MU: {"units": "1", "long_name": "mean elementary effect (Morris mu)"},
    MORRIS_MU_STAR: {"units": "1", "long_name": "mean absolute elementary effect (Morris mu*)"},
    MORRIS_SIGMA: {"units": "1", "long_name": "SD of the elementary effects (Morris sigma)"},
    PRCC: {"units": "1", "long_name": "partial rank correlation coefficient"},
    PRCC_P_VALUE: {"units": "1", "long_name": "p-value of the PRCC against 0"},
    DRAW: {"units": "1", "long_name": "parameter draw"},
    REPLICATE_DRAW: {"units": "1", "long_name": "parameter draw of the replicate"},
    RISK_BY_DRAW: {"units": "1", "long_name": "risk estimated from the draw's replicates"},
    VARIANCE_TOTAL: {"units": "1", "long_name": "variance of the risk indicator"},
    VARIANCE_PARAMETER: {
        "units": "1",
        "long_name": "variance of the risk indicator due to parameter uncertainty",
    },
    VARIANCE_PROCESS: {
        "units": "1",
        "long_name": "variance of the risk indicator due to process stochasticity",
    },
    PARAMETER_SHARE: {
        "units": "1",
        "long_name": "share of the variance of the risk due to parameter uncertainty",
    },
    CATEGORY_BY_DRAW: {"units": "1", "long_name": "median Red List category of the draw"},
    CATEGORY_RANGE_LOWER: {"units": "1", "long_name": "plausible range of categories: lowest"},
    CATEGORY_RANGE_UPPER: {"units": "1", "long_name": "plausible range of categories: highest"},
    CATEGORY_MODE: {"units": "1", "long_name": "category of most parameter draws"},
    ASSESSMENT_YEAR: {"units": "year", "long_name": "year of the Red List assessment"},
}
"""``units`` and ``long_name`` of every variable and coordinate pva writes (CF conventions)."""


def variable(name: str, dims: str | tuple[str, ...], data: Any, **attrs: Any) -> xr.Variable:
    """The variable ``name`` with its ``units`` and ``long_name`` from :data:`VARIABLE_ATTRS`
    (``attrs`` override or add to them)."""
    return xr.Variable(dims, data, attrs={**VARIABLE_ATTRS[name], **attrs})


# ---------------------------------------------------------------------------------------------------
# the layout and its builder
# ---------------------------------------------------------------------------------------------------

PER_POPULATION = (SPECIES, SCENARIO, REPLICATE, YEAR, POPULATION)
LAYOUT: Mapping[str, tuple[str, ...]] = types.MappingProxyType(
    {
        MATURE: PER_POPULATION,
        TOTAL: PER_POPULATION,
        ABUNDANCE: (*PER_POPULATION, STAGE),
        CARRYING_CAPACITY: PER_POPULATION,
        GENE_DIVERSITY: PER_POPULATION,
        INBREEDING: PER_POPULATION,
        CAPTIVE_INDIVIDUALS: (SPECIES, SCENARIO, REPLICATE, YEAR),
        CAPTIVE_GENE_DIVERSITY: (SPECIES, SCENARIO, REPLICATE, YEAR),
        POPULATION_EXISTS: (SPECIES, POPULATION),
        POPULATION_NAME: (SPECIES, POPULATION),
        GENERATION_LENGTH: (SPECIES,),
        QUASI_EXTINCTION_THRESHOLD: (SPECIES,),
        ANNUAL_COST: (SPECIES, SCENARIO, YEAR),
        TAXON: (SPECIES,),
        COUNTRY: (SPECIES,),
        SITE: (SPECIES,),
        EXTINCTION_RISK: (SPECIES, SCENARIO, REPLICATE, YEAR, E_WINDOW),
        PROJECTED_MATURE: (SPECIES, SCENARIO, REPLICATE, YEAR, LEAD),
    }
)
"""Dims of every variable and non-index coordinate of a study's results (the ``pva run`` file)."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def build(
    study: Study,
    *,
    mature: npt.NDArray[Any],
    total: npt.NDArray[Any],
    schedules: Sequence[Sequence[Schedule]],
    entropy: int,
    extinction_risk: FloatArray | None = None,
    projected_mature: FloatArray | None = None,
    abundance: npt.NDArray[Any] | None = None,
    carrying_capacity: FloatArray | None = None,
    gene_diversity: FloatArray | None = None,
    captive_individuals: FloatArray | None = None,
    captive_gene_diversity: FloatArray | None = None,
    engine_kernels: str | None = None,
) -> xr.Dataset:
    """The results Dataset of ``study`` from its trajectories (the one place it is assembled).

    Parameters
    ----------
    study
        The :class:`pva.study.Study` that was run.
    mature, total
        Mature and all individuals, shape (species, scenario, replicate, year, population), padded
        with 0 where a species has fewer populations than the largest.
    schedules
        ``schedules[i][j]``: the compiled schedule of species i under scenario j (for the costs).
    entropy
        Root seed entropy the streams were drawn from.
    extinction_risk
        Nested criterion-E probabilities, shape (species, scenario, replicate, year, 3) for the CR,
        EN and VU windows, NaN at the years not assessed (needs ``study.outputs.red_list_e``).
    projected_mature
        Nested projections of mature individuals, shape (species, scenario, replicate, year,
        lead), NaN at the years not assessed (needs ``study.outputs.red_list_e``).
    abundance
        Individuals by stage, shape (species, scenario, replicate, year, population, stage): only
        for a study of one species (whose stages name the ``stage`` coordinate).
    carrying_capacity
        Realised carrying capacity, the shape of ``mature``.
    gene_diversity
        Gene diversity relative to the reference, the shape of ``mature``, NaN where a population
        is empty and for species without genetics; adds ``gene_diversity`` and ``inbreeding``
        (:func:`genetics_variables`).
    captive_individuals, captive_gene_diversity
        Individuals in the ex-situ programmes and their gene diversity, (species, scenario,
        replicate, year), when some scenario keeps a programme.
    engine_kernels
        The engine's path in the processes that ran the projections (:func:`pva.kernels.name`
        there), for ``attrs["engine_kernels"]``; None: this process's.

    Returns
    -------
    xarray.Dataset
        See :data:`LAYOUT` and the module docstring. ``annual_cost`` holds the cost of the step from
        year t to t + 1 at year t (0 in the final year), in the study's currency per year.
    """
    n_sp, _, n_rep, n_year, n_pop = np.shape(mature)
    data: dict[str, xr.Variable] = {
        MATURE: variable(MATURE, PER_POPULATION, mature),
        TOTAL: variable(TOTAL, PER_POPULATION, total),
        POPULATION_EXISTS: variable(
            POPULATION_EXISTS, LAYOUT[POPULATION_EXISTS], _population_exists(study, n_pop)
        ),
        GENERATION_LENGTH: variable(
            GENERATION_LENGTH,
            LAYOUT[GENERATION_LENGTH],
            np.array(
                [
                    np.nan if s.species.generation_length is None else s.species.generation_length
                    for s in study.species
                ]
            ),
        ),
        QUASI_EXTINCTION_THRESHOLD: variable(
            QUASI_EXTINCTION_THRESHOLD,
            LAYOUT[QUASI_EXTINCTION_THRESHOLD],
            np.array([s.species.quasi_extinction_threshold for s in study.species], dtype=float),
        ),
        ANNUAL_COST: variable(
            ANNUAL_COST,
            LAYOUT[ANNUAL_COST],
            _annual_cost(schedules, n_year),
            units=f"{study.outputs.currency or 'currency units'} per year",
        ),
    }
    if extinction_risk is not None:
        settings = study.outputs.red_list_e
        if settings is None:
            raise ValueError("extinction_risk needs the study's outputs.red_list_e settings")
        data[EXTINCTION_RISK] = variable(
            EXTINCTION_RISK,
            LAYOUT[EXTINCTION_RISK],
            extinction_risk,
            inner_replicates=int(settings.inner_replicates),
            quasi_extinction=int(settings.quasi_extinction),
        )
    if projected_mature is not None:
        settings = study.outputs.red_list_e
        if settings is None:
            raise ValueError("projected_mature needs the study's outputs.red_list_e settings")
        data[PROJECTED_MATURE] = variable(
            PROJECTED_MATURE,
            LAYOUT[PROJECTED_MATURE],
            projected_mature,
            inner_replicates=int(settings.inner_replicates),
            statistic="mean",
        )
    if abundance is not None:
        if n_sp != 1:
            raise ValueError(f"abundance by stage needs a study of one species; got {n_sp}")
        data[ABUNDANCE] = variable(ABUNDANCE, LAYOUT[ABUNDANCE], abundance)
    if carrying_capacity is not None:
        data[CARRYING_CAPACITY] = variable(
            CARRYING_CAPACITY, LAYOUT[CARRYING_CAPACITY], carrying_capacity
        )
    if gene_diversity is not None:
        data.update(genetics_variables(gene_diversity))
    for name, values in (
        (CAPTIVE_INDIVIDUALS, captive_individuals),
        (CAPTIVE_GENE_DIVERSITY, captive_gene_diversity),
    ):
        if values is not None:
            data[name] = variable(name, LAYOUT[name], np.asarray(values, dtype=float))
    coords: dict[str, xr.Variable] = {
        SPECIES: variable(SPECIES, SPECIES, np.array(study.species_names, dtype=object)),
        SCENARIO: variable(SCENARIO, SCENARIO, np.array(study.scenario_names, dtype=object)),
        REPLICATE: variable(REPLICATE, REPLICATE, np.arange(n_rep, dtype=np.int64)),
        YEAR: variable(YEAR, YEAR, np.arange(n_year, dtype=np.int64)),
        POPULATION: variable(POPULATION, POPULATION, np.arange(n_pop, dtype=np.int64)),
        POPULATION_NAME: variable(
            POPULATION_NAME, LAYOUT[POPULATION_NAME], _population_names(study, n_pop)
        ),
    }
    for name in (TAXON, COUNTRY, SITE):
        values = np.array([getattr(s, name) for s in study.species], dtype=object)
        coords[name] = variable(name, LAYOUT[name], values)
    if abundance is not None:
        stages = np.array(study.species[0].species.stages, dtype=object)
        coords[STAGE] = variable(STAGE, STAGE, stages)
    ds = xr.Dataset(
        data,
        coords=coords,
        attrs={
            ATTR_VERSION: pva.__version__,
            ATTR_SEED_ENTROPY: str(entropy),
            ATTR_REPLICATES: int(n_rep),
            ATTR_CHUNK_SIZE: int(study.chunk_size),
            ATTR_KERNELS: kernels.name() if engine_kernels is None else engine_kernels,
            ATTR_STUDY: json.dumps(
                {**study.to_dict(), NO_ACTION_KEY: study.baseline}, sort_keys=True
            ),
        },
    )
    if extinction_risk is not None:
        # an index coordinate without units: it labels the windows of IUCN criterion E
        ds = ds.assign_coords({E_WINDOW: list(E_WINDOWS)})
    if projected_mature is not None:
        leads = np.arange(np.shape(projected_mature)[-1], dtype=np.int64)
        ds = ds.assign_coords({LEAD: variable(LEAD, LEAD, leads)})
    return ds


def streamed_layout(
    study: Study,
    *,
    schedules: Sequence[Sequence[Schedule]],
    entropy: int,
    leads: int | None,
    genetics: bool,
    captive: bool,
) -> tuple[xr.Dataset, xr.Dataset]:
    """The Dataset :func:`build` makes for ``study``, split for a file written while the run goes
    on (:class:`pva.io.ResultsStream`): ``(skeleton, template)``.

    ``template`` holds the per-replicate variables (mature and total abundance, and as the run
    makes them, ``extinction_risk`` and ``projected_mature`` with ``leads`` + 1 leads (None:
    none), ``gene_diversity`` and ``inbreeding`` (``genetics``), the ex-situ programmes
    (``captive``)) with a replicate dimension of length 1; ``skeleton`` holds all the rest at full
    size, its ``engine_kernels`` attribute empty (the writer sets it at the end)."""
    n_pop = max(s.species.n_populations for s in study.species)
    one = (len(study.species), len(study.scenarios), 1, study.years + 1)
    nan = np.full((*one, n_pop), np.nan)
    tiny = build(
        study,
        mature=np.zeros((*one, n_pop), dtype=np.int64),
        total=np.zeros((*one, n_pop), dtype=np.int64),
        schedules=schedules,
        entropy=entropy,
        extinction_risk=None if leads is None else np.full((*one, len(E_WINDOWS)), np.nan),
        projected_mature=None if leads is None else np.full((*one, leads + 1), np.nan),
        gene_diversity=nan if genetics else None,
        captive_individuals=np.zeros(one) if captive else None,
        captive_gene_diversity=np.full(one, np.nan) if captive else None,
        engine_kernels="",
    )
    per_replicate = [n for n, v in tiny.data_vars.items() if REPLICATE in v.dims]
    replicates = np.arange(study.replicates, dtype=np.int64)
    skeleton = tiny.drop_vars(per_replicate).assign_coords(
        {REPLICATE: variable(REPLICATE, REPLICATE, replicates)}
    )
    skeleton.attrs[ATTR_REPLICATES] = int(study.replicates)
    return skeleton, tiny[per_replicate]


def genetics_variables(gene_diversity: FloatArray) -> dict[str, xr.Variable]:
    """``gene_diversity`` and ``inbreeding`` (``1 - gene_diversity``) as results variables, from
    gene diversity of shape (species, scenario, replicate, year, population)."""
    h = np.asarray(gene_diversity, dtype=float)
    return {
        GENE_DIVERSITY: variable(GENE_DIVERSITY, LAYOUT[GENE_DIVERSITY], h),
        INBREEDING: variable(INBREEDING, LAYOUT[INBREEDING], 1.0 - h),
    }


def _population_names(study: Study, n_pop: int) -> npt.NDArray[np.object_]:
    """(species, population): the name of each population, "" for padding."""
    names = np.full((len(study.species), n_pop), "", dtype=object)
    for i, s in enumerate(study.species):
        pops = s.species.population_names
        names[i, : len(pops)] = pops
    return names


def _population_exists(study: Study, n_pop: int) -> npt.NDArray[np.bool_]:
    """(species, population): True for a species' own populations, False for padding."""
    exists = np.zeros((len(study.species), n_pop), dtype=bool)
    for i, s in enumerate(study.species):
        exists[i, : s.species.n_populations] = True
    return exists


def _annual_cost(schedules: Sequence[Sequence[Schedule]], n_year: int) -> FloatArray:
    cost = np.zeros((len(schedules), len(schedules[0]), n_year))
    for i, row in enumerate(schedules):
        for j, schedule in enumerate(row):
            if schedule.annual_cost is not None:
                cost[i, j, : n_year - 1] = schedule.annual_cost
    return cost


def study_layout(results: xr.Dataset) -> xr.Dataset:
    """``results`` with ``species`` and ``scenario`` dims: a :func:`pva.simulate` Dataset (one
    species and one scenario, left as scalar coordinates) gets them back with length one, each
    variable in its dims of :data:`LAYOUT`; a study's results are returned as they are.

    Raises
    ------
    TypeError
        If ``results`` is not a Dataset.
    ValueError
        If a missing dim is not even a scalar coordinate.
    """
    if not isinstance(results, xr.Dataset):
        raise TypeError(f"results must be an xarray.Dataset; got {type(results).__name__}")
    missing = [d for d in (SPECIES, SCENARIO) if d not in results.dims]
    if not missing:
        return results
    absent = [d for d in missing if d not in results.coords or results[d].ndim != 0]
    if absent:
        raise ValueError(
            f"results has neither a dim nor a scalar coordinate {absent[0]!r}; it is not a pva "
            "results Dataset (of pva run or pva.simulate)"
        )
    variables: dict[str, xr.Variable] = {}
    for name, var in results.variables.items():
        if name in missing:
            continue
        wanted = LAYOUT.get(str(name), ())
        new = [d for d in wanted if d in missing and d not in var.dims]
        if new:
            var = var.set_dims({**dict.fromkeys(new, 1), **dict(var.sizes)})
            var = var.transpose(*[d for d in wanted if d in var.dims], ...)
        variables[str(name)] = var
    coords = {
        name: var
        for name, var in variables.items()
        if name in results.coords and name not in missing
    }
    for d in missing:
        scalar = results[d].variable
        coords[d] = xr.Variable(d, [scalar.values.item()], attrs=dict(scalar.attrs))
    data = {name: var for name, var in variables.items() if name not in results.coords}
    out = xr.Dataset(data, coords=coords, attrs=dict(results.attrs))
    return out[[*results.data_vars]]  # keep the variables' order


def check(results: object) -> xr.Dataset:
    """``results`` in the study layout (:func:`study_layout`) if it has what every summary needs
    (mature and total abundance over species, scenario, replicate, year and population).

    Raises
    ------
    TypeError
        If ``results`` is not a Dataset.
    ValueError
        Naming what is missing.
    """
    if not isinstance(results, xr.Dataset):
        raise TypeError(f"results must be an xarray.Dataset; got {type(results).__name__}")
    ds = study_layout(results)
    missing = [v for v in (TOTAL, MATURE) if v not in ds.data_vars]
    missing += [d for d in PER_POPULATION if d not in ds.dims]
    if missing:
        raise ValueError(
            f"results is not a pva results Dataset: missing {missing!r} "
            f"(has variables {sorted(map(str, ds.data_vars))!r})"
        )
    return ds


def names_of(results: xr.Dataset, dim: str) -> list[str]:
    """The labels of ``dim`` as strings (a scalar coordinate gives one)."""
    return [str(v) for v in np.atleast_1d(results[dim].values)]


# ---------------------------------------------------------------------------------------------------
# provenance
# ---------------------------------------------------------------------------------------------------

QuasiExtinctionOn = Literal["total", "mature"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class QuasiExtinction:
    """A species' quasi-extinction setting: abundance at or below ``threshold`` counts."""

    threshold: float
    """Individuals (inclusive: ``N <= threshold``)."""
    on: QuasiExtinctionOn
    """What the threshold counts: ``"total"`` (all individuals) or ``"mature"`` individuals,
    summed over populations."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Provenance:
    """How a results Dataset was made, as its attributes and per-species variables record it.

    Returned by :func:`provenance`; fields are ``None`` (or empty) when not recorded.
    """

    study_json: str
    """The ``study`` attribute as stored ("" if absent): the study as JSON plus ``no_action``."""
    no_action: str | None
    """The scenario the study compares the others with, as recorded."""
    seed_entropy: int | None
    """Root seed entropy: rerunning the study with ``seed=seed_entropy`` repeats it exactly."""
    replicates: int | None
    chunk_size: int | None
    """Replicates per task (the results depend on it, not on the number of workers)."""
    version: str | None
    """The pva version that made the results."""
    quasi_extinction: Mapping[str, QuasiExtinction]
    """Each species' quasi-extinction setting, by species name (read-only)."""

    @property
    def study(self) -> dict[str, Any]:
        """The study in the study-file schema (:meth:`pva.study.Study.to_dict`), without the
        ``no_action`` key; a fresh copy on every call (``{}`` if not recorded)."""
        spec = copy.deepcopy(_study_document(self.study_json))
        spec.pop(NO_ACTION_KEY, None)
        return spec

    @property
    def name(self) -> str:
        """The study's name ("" if not recorded)."""
        head = _study_document(self.study_json).get("study")
        name = head.get("name") if isinstance(head, dict) else None
        return str(name) if name else ""

    @property
    def species(self) -> list[dict[str, Any]]:
        """The species tables of the study, in order (each a fresh dict; read their values, do
        not change them)."""
        tables = _study_document(self.study_json).get("species") or []
        return [dict(t) for t in tables if isinstance(t, dict)]

    def species_table(self, name: str) -> dict[str, Any] | None:
        """The species table named ``name``, or None."""
        return next((t for t in self.species if t.get("name") == name), None)

    @property
    def outputs(self) -> dict[str, Any]:
        """The study's ``[outputs]`` table (empty if not recorded; a fresh copy)."""
        outputs = _study_document(self.study_json).get("outputs")
        return copy.deepcopy(outputs) if isinstance(outputs, dict) else {}

    @property
    def currency(self) -> str:
        """Currency of intervention costs ("currency units" if not given)."""
        return str(self.outputs.get("currency") or "currency units")

    @property
    def discount_rate(self) -> float:
        """The study's ``outputs.discount_rate`` (annual; 0 if not given)."""
        rate = self.outputs.get("discount_rate")
        return float(rate) if isinstance(rate, int | float) and not isinstance(rate, bool) else 0.0

    @property
    def costs_stop_at_extinction(self) -> bool:
        """The study's ``outputs.costs_stop_at_extinction`` (default True)."""
        return self.outputs.get("costs_stop_at_extinction") is not False

    @property
    def horizons(self) -> tuple[int, ...]:
        """The study's ``outputs.horizons`` (years), possibly empty."""
        chosen = self.outputs.get("horizons")
        if isinstance(chosen, list) and all(validation.is_integer(h) for h in chosen):
            return tuple(chosen)
        return ()


@functools.lru_cache(maxsize=8)
def _study_document(text: str) -> dict[str, Any]:
    """The study JSON of a results file, parsed once per text: summaries read it for every block
    of species, and a 100-species study takes milliseconds to parse. Never changed by callers
    (:attr:`Provenance.study` hands out deep copies)."""
    if not text:
        return {}
    try:
        spec = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"results attribute {ATTR_STUDY!r} is not valid JSON: {exc}") from exc
    if not isinstance(spec, dict):
        raise ValueError(f"results attribute {ATTR_STUDY!r} must hold a JSON object; got {spec!r}")
    return spec


def _int_attr(results: xr.Dataset, key: str) -> int | None:
    value = results.attrs.get(key)
    return None if value is None else int(value)


def provenance(results: xr.Dataset) -> Provenance:
    """How ``results`` (of ``pva run`` or :func:`pva.simulate`) were made.

    Reads the attributes (see the module docstring) and, for the quasi-extinction settings, the
    variable ``quasi_extinction_threshold`` (which wins over the study, so that a what-if edit of
    the variable is honoured) and each species' ``quasi_extinction_on`` in the study (default
    ``"total"``; threshold default 0).

    Raises
    ------
    TypeError
        If ``results`` is not a Dataset.
    ValueError
        If the ``study`` attribute is not a JSON object.
    """
    if not isinstance(results, xr.Dataset):
        raise TypeError(f"results must be an xarray.Dataset; got {type(results).__name__}")
    raw = results.attrs.get(ATTR_STUDY, "")
    if raw and not isinstance(raw, str):
        raise ValueError(f"results attribute {ATTR_STUDY!r} is not valid JSON: not a string")
    spec = _study_document(raw or "")
    no_action = spec.get(NO_ACTION_KEY)
    entropy = results.attrs.get(ATTR_SEED_ENTROPY)
    out = Provenance(
        study_json=str(raw or ""),
        no_action=str(no_action) if isinstance(no_action, str) and no_action else None,
        seed_entropy=None if entropy is None else int(entropy),
        replicates=_int_attr(results, ATTR_REPLICATES),
        chunk_size=_int_attr(results, ATTR_CHUNK_SIZE),
        version=None if ATTR_VERSION not in results.attrs else str(results.attrs[ATTR_VERSION]),
        quasi_extinction={},
    )
    species = names_of(results, SPECIES) if SPECIES in results.coords else []
    recorded = (
        np.atleast_1d(np.asarray(results[QUASI_EXTINCTION_THRESHOLD].values, dtype=float))
        if QUASI_EXTINCTION_THRESHOLD in results
        else None
    )
    tables = {t.get("name"): t for t in out.species}
    settings: dict[str, QuasiExtinction] = {}
    for i, name in enumerate(species):
        table = tables.get(name, {})
        threshold = (
            float(recorded[i])
            if recorded is not None
            else float(table.get("quasi_extinction_threshold") or 0.0)
        )
        on: QuasiExtinctionOn = (
            "mature" if table.get("quasi_extinction_on") == "mature" else "total"
        )
        settings[name] = QuasiExtinction(threshold=threshold, on=on)
    return dataclasses.replace(out, quasi_extinction=types.MappingProxyType(settings))


def _normalise(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def no_action_scenario(results: xr.Dataset, no_action: str | None = None) -> str:
    """The scenario that others are compared with: ``no_action`` if given; else the one the study
    names (its ``no_action``); else the scenario named "no action" (case, spaces, ``-`` and ``_``
    ignored); else the first scenario.

    Raises
    ------
    ValueError
        If ``no_action`` is not a scenario of ``results``.
    """
    scenarios = names_of(results, SCENARIO)
    if no_action is None:
        no_action = provenance(results).no_action
    if no_action is not None:
        if no_action not in scenarios:
            raise ValueError(f"no_action {no_action!r} is not a scenario; known: {scenarios!r}")
        return no_action
    for scenario in scenarios:
        if _normalise(scenario) == "noaction":
            return scenario
    return scenarios[0]
