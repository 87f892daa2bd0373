"""Red List categories: names, ``int8`` codes, their order, and the Red List Index weights.

Categories are stored in arrays as ``int8``:

====================  ====  ==========================================================
name                  code  meaning
====================  ====  ==========================================================
``"LC"``                 0  Least Concern (evaluated, no criterion met or nearly met)
``"NT"``                 1  Near Threatened (a documented near-threshold rule met)
``"VU"``                 2  Vulnerable
``"EN"``                 3  Endangered
``"CR"``                 4  Critically Endangered
``"EW"``                 5  Extinct in the Wild (never produced by :func:`pva.redlist.classify`)
``"EX"``                 6  Extinct
``"DD"``                -1  Data Deficient (hand lists only)
``"NE"``                -2  Not Evaluated: the criterion or species was not assessed
``"not evaluable"``     -3  the data do not cover the window a criterion needs
====================  ====  ==========================================================

Codes 0..6 are ordered by extinction risk, so ``max`` over criteria gives the category. The negative
codes are sentinels and never enter a Red List Index.

References
----------
IUCN (2012) IUCN Red List Categories and Criteria, Version 3.1, second edition. Gland: IUCN.
Butchart S.H.M. et al. (2004) Measuring global trends in the status of biodiversity: Red List Indices
for birds. PLoS Biology 2: e383. Butchart S.H.M. et al. (2007) Improvements to the Red List Index.
PLoS ONE 2: e140.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import numpy as np

Category: TypeAlias = Literal["LC", "NT", "VU", "EN", "CR", "EW", "EX"]
"""A Red List category a species can be assigned from data (IUCN 2012, section IV)."""

CATEGORIES: tuple[Category, ...] = ("LC", "NT", "VU", "EN", "CR", "EW", "EX")
"""Evaluated categories in order of extinction risk; the index is the ``int8`` code."""

LC, NT, VU, EN, CR, EW, EX = range(7)
DD = -1
NE = -2
NOT_EVALUABLE = -3

CATEGORY_CODES: dict[str, int] = {
    **{c: i for i, c in enumerate(CATEGORIES)},
    "DD": DD,
    "NE": NE,
    "not evaluable": NOT_EVALUABLE,
}
"""Name -> ``int8`` code, sentinels included."""

CATEGORY_LABELS: tuple[str, ...] = (*CATEGORIES, "DD", "NE", "not evaluable")
"""Every label of the ``category`` coordinate written by the summaries, in display order."""

CODE_TO_NAME: dict[int, str] = {v: k for k, v in CATEGORY_CODES.items()}
"""``int8`` code -> name (the inverse of :data:`CATEGORY_CODES`)."""

DEFAULT_WEIGHTS: dict[str, float] = {
    "LC": 0.0,
    "NT": 1.0,
    "VU": 2.0,
    "EN": 3.0,
    "CR": 4.0,
    "EW": 5.0,
    "EX": 5.0,
}
"""Red List Index weights (Butchart et al. 2004, 2007: "equal steps")."""

POSSIBLY_EXTINCT: tuple[str, ...] = ("CR(PE)", "CR(PEW)")
"""Tags of Critically Endangered species "Possibly Extinct (in the Wild)"; their category is CR,
their Red List Index weight 5 by default (UN SDG indicator 15.5.1 metadata, 4.c; see
:func:`pva.redlist.red_list_index`)."""


def category_code(name: str) -> int:
    """Return the ``int8`` code of a category name (``"LC"`` .. ``"EX"``, ``"DD"``, ``"NE"``,
    ``"not evaluable"``; ``"CR(PE)"`` and ``"CR(PEW)"`` map to CR).

    Raises
    ------
    ValueError
        If ``name`` is not a category.
    """
    if name in POSSIBLY_EXTINCT:
        return CR
    try:
        return CATEGORY_CODES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown Red List category {name!r}; expected one of {list(CATEGORY_CODES)}"
            " or 'CR(PE)', 'CR(PEW)'"
        ) from None


def category_name(code: int) -> str:
    """Return the name of an ``int8`` category code (the inverse of :func:`category_code`)."""
    try:
        return CODE_TO_NAME[int(code)]
    except KeyError:
        raise ValueError(
            f"unknown category code {code!r}; expected one of {sorted(CODE_TO_NAME)}"
        ) from None


def category_attrs() -> dict[str, Any]:
    """CF flag attributes of a variable of category codes, so that netCDF readers decode them."""
    codes = sorted(CODE_TO_NAME)
    return {
        "long_name": "IUCN Red List category",
        "units": "1",
        "flag_values": np.array(codes, dtype=np.int8),
        "flag_meanings": " ".join(CODE_TO_NAME[c].replace(" ", "_") for c in codes),
    }
