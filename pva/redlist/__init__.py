"""IUCN Red List categories from simulated trajectories, the Red List Index, and the Green Status.

Everything here works on plain arrays and :mod:`xarray` objects; nothing knows of the engine.

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
from pva.redlist.classification import Classification, ClassificationRange, classify, classify_range
from pva.redlist.criteria import CRITERIA, E_WINDOW, E_WINDOWS, EXTINCTION_RISK, e_windows
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

__all__ = [
    "CATEGORIES",
    "CATEGORY_CODES",
    "CATEGORY_LABELS",
    "CR",
    "CRITERIA",
    "DD",
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
    "NE",
    "NOT_EVALUABLE",
    "NT",
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
    "red_list_index",
    "rli_by_replicate",
    "rli_summary",
    "species_recovery_score",
    "transition_matrix",
]
