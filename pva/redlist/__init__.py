"""IUCN Red List categories from simulated trajectories, the Red List Index, and the Green Status.

Everything here works on plain arrays and :mod:`xarray` objects; nothing knows of the engine.

What an assessor at year t knows
--------------------------------
Each replicate is one possible future, and its category at year ``t`` is the one an assessor
standing at ``t`` in that future would give (IUCN 2012; Guidelines 3.1 on observed, estimated and
projected data). It reads:

* **the past and present of that replicate**, years ``<= t`` (and any history before year 0): the
  reductions of A1 and A2 over the window that ends at ``t`` (the longer of 10 years or 3
  generations, never capped: 3 G = 120 years looks back 120 years), the past part of A4, past C1
  rates (only while the decline is still going on at ``t``), the continuing decline and extreme
  fluctuations of B and C2, the subpopulation structure of C2a, the size of D, and EX (no
  individuals at all at ``t``);
* **the fixed attributes of the species**: generation length, EOO, AOO, locations, severe
  fragmentation, a plausible threat (D2);
* **projections from its state at t**: the expected mature individuals ahead (A3, the future part
  of A4 and projected C1, at most 100 years ahead) and the probabilities of extinction within the
  E windows, passed as ``projected_mature`` and ``extinction_probability`` (nested simulations from
  each replicate's state, :mod:`pva.nested`; results variables :data:`PROJECTED_MATURE` and
  :data:`EXTINCTION_RISK`, which ``pva run`` records at the years of the study's
  ``[outputs.red_list_e]`` from the same inner futures: the mean of their mature individuals 0 ..
  :func:`projection_leads` years ahead, and the fraction with no individuals at all within each E
  window, the event of EX). At year 0, when all replicates start from one state, the replicates
  themselves are that projection (their mean trajectory; the fraction extinct within each window).

It never reads the replicate's own years after ``t``: one realised future is not something an
assessor can know, and reading it classifies identical starting states as LC, VU, EN and CR by luck.
Without projections from ``t``, A3, A4, projected C1 and E are not evaluated at ``t`` (``NE``); a
species is LC where no criterion that could be evaluated is met at NT or above, and
:attr:`Classification.not_evaluated` lists the others. The Red List Index of a replicate-year is
over one fixed set of species (every species but the Data Deficient ones), never over those that
happened to get a category (:func:`rli_by_replicate`).

Natural fluctuations
--------------------
A reduction is read from the window as IUCN defines it (point to point, or the fitted trend), with
no test that it exceeds the population's own fluctuations: IUCN 2012 (definition 4) says a
reduction "should not be interpreted as part of a fluctuation unless there is good evidence for
this", and within one window the downward phase of a fluctuation cannot be told from a decline.
A continuing decline is a trend significant at ``decline_alpha`` allowing for autocorrelation
(:func:`pva.redlist.windows.significant_decline`). Measured on a stationary Ricker population at
K = 5,000 (environmental sd 0.055 of log growth, lag-1 autocorrelation of log N 0.90; G = 3 years;
A2 and C; ``experiments/redlist_fluctuations.py``): LC in 91.6% of replicate-years, NT in 5.3%
(A2 within ``nt_reduction_margin`` of 30%: 6.8%), VU or above in 3.1% (a false continuing decline
makes a single population below 10,000 VU C2a(ii): 2.5%). ``nt_reduction_margin=0`` makes it LC
in 96.9%, ``decline_alpha=0.001`` in 93.1% (VU or above 1.1%); the same population declining 5% a
year is still VU or above in 88.8% and 87.1%. docs/redlist.md gives the whole table.

Criteria strings
----------------
:attr:`Classification.criteria` is written in IUCN notation, the same in every output: criteria
in the order A to E separated by "; ", sub-criteria of one criterion joined by "+", subconditions
that hold after each: ``"CR A2a; B1ab(v)+2ab(v); C1"``, ``"VU C2a(i)"``, ``"VU D1+2"``. A1 and A2
carry basis (a) (they read the series itself); A3 and A4 carry none (the basis of a projection is
the assessor's); B carries (a), (b)(v) and (c)(iv) where they hold.

Modules
-------
:mod:`~pva.redlist.categories`
    Category names, ``int8`` codes and their order; Red List Index weights.
:mod:`~pva.redlist.settings`
    :class:`RedListSettings`, the choices the IUCN Guidelines leave to the assessor.
:mod:`~pva.redlist.criteria`
    Criteria A, B, C, D and E, one function per criterion, on (replicate, year) arrays.
:mod:`~pva.redlist.classification`
    :func:`classify` (the criteria combined into a category) and :func:`classify_range`.
:mod:`~pva.redlist.index`
    The Red List Index, its interval and ΔRLI, category distributions and transitions,
    extinctions prevented.
:mod:`~pva.redlist.green_status`
    The IUCN Green Status of Species.
:mod:`~pva.redlist.assessment`
    :func:`assess`: every species and scenario of a results Dataset.

The internal helpers live in :mod:`~pva.redlist.logic` (three-valued logic of the criteria),
:mod:`~pva.redlist.windows` (time windows, reductions, fluctuations) and
:mod:`~pva.redlist.inputs` (validation).

References
----------
IUCN (2012) IUCN Red List Categories and Criteria, Version 3.1, second edition. Gland: IUCN.
IUCN Standards and Petitions Committee (2024) Guidelines for Using the IUCN Red List Categories and
Criteria, Version 16 (cited as "Guidelines" with section numbers).
Butchart S.H.M. et al. (2004) Measuring global trends in the status of biodiversity: Red List Indices
for birds. PLoS Biology 2: e383. Butchart S.H.M. et al. (2007) Improvements to the Red List Index.
PLoS ONE 2: e140.
Akçakaya H.R. et al. (2000) Making consistent IUCN classifications under uncertainty. Conservation
Biology 14: 1001-1013 (ranges of categories, as in RAMAS Red List).
Akçakaya H.R. et al. (2018) Quantifying species recovery and conservation success to develop an IUCN
Green List of Species. Conservation Biology 32: 1128-1138; IUCN (2021) IUCN Green Status of Species:
a global standard for measuring species recovery and assessing conservation impact, Version 2.0.
"""

from __future__ import annotations

from pva.redlist.assessment import assess
from pva.redlist.categories import (
    CATEGORIES,
    CATEGORY_CODES,
    CATEGORY_LABELS,
    CR,
    DD,
    DEFAULT_WEIGHTS,
    EN,
    EW,
    EX,
    LC,
    NE,
    NOT_EVALUABLE,
    NT,
    VU,
    Category,
    category_code,
    category_name,
)
from pva.redlist.classification import (
    DEFAULT_CRITERION_A,
    Classification,
    ClassificationRange,
    classify,
    classify_range,
)
from pva.redlist.criteria import CRITERIA, e_windows, projection_leads
from pva.redlist.green_status import (
    GREEN_STATES,
    GREEN_WEIGHTS,
    conservation_metrics,
    green_status,
    green_status_states,
    species_recovery_score,
)
from pva.redlist.index import (
    ExtinctionsPrevented,
    category_distribution,
    delta_rli,
    extinctions_prevented,
    red_list_index,
    rli_by_replicate,
    rli_summary,
    transition_matrix,
)
from pva.redlist.settings import CriterionA, RedListSettings, ReductionMethod

# results variables and dims the Red List code reads, defined in pva.results (the one place for
# result names); also here, where they were first defined
from pva.results import (
    CRITERION,
    CRITERION_LEVEL,
    E_WINDOW,
    E_WINDOWS,
    EXTINCTION_RISK,
    LEAD,
    PROJECTED_MATURE,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_CODES",
    "CATEGORY_LABELS",
    "CR",
    "CRITERIA",
    "CRITERION",
    "CRITERION_LEVEL",
    "DD",
    "DEFAULT_CRITERION_A",
    "DEFAULT_WEIGHTS",
    "EN",
    "EW",
    "EX",
    "EXTINCTION_RISK",
    "E_WINDOW",
    "E_WINDOWS",
    "GREEN_STATES",
    "GREEN_WEIGHTS",
    "LC",
    "LEAD",
    "NE",
    "NOT_EVALUABLE",
    "NT",
    "PROJECTED_MATURE",
    "VU",
    "Category",
    "Classification",
    "ClassificationRange",
    "CriterionA",
    "ExtinctionsPrevented",
    "RedListSettings",
    "ReductionMethod",
    "assess",
    "category_code",
    "category_distribution",
    "category_name",
    "classify",
    "classify_range",
    "conservation_metrics",
    "delta_rli",
    "e_windows",
    "extinctions_prevented",
    "green_status",
    "green_status_states",
    "projection_leads",
    "red_list_index",
    "rli_by_replicate",
    "rli_summary",
    "species_recovery_score",
    "transition_matrix",
]
