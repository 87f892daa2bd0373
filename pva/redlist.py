"""IUCN Red List categories from simulated trajectories, the Red List Index, and the Green Status.

Everything here works on plain arrays and :mod:`xarray` objects; nothing knows of the engine.

Category codes
--------------
Categories are stored in arrays as ``int8``:

====================  ====  ==========================================================
name                  code  meaning
====================  ====  ==========================================================
``"LC"``                 0  Least Concern (evaluated, no criterion met or nearly met)
``"NT"``                 1  Near Threatened (a documented near-threshold rule met)
``"VU"``                 2  Vulnerable
``"EN"``                 3  Endangered
``"CR"``                 4  Critically Endangered
``"EW"``                 5  Extinct in the Wild (never produced by :func:`classify`)
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

import dataclasses
import itertools
import json
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import results as names

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
    "ExtinctionsPrevented",
    "RedListSettings",
    "assess",
    "category_code",
    "category_distribution",
    "category_name",
    "classify",
    "classify_range",
    "conservation_metrics",
    "delta_rli",
    "extinctions_prevented",
    "green_status",
    "green_status_states",
    "red_list_index",
    "rli_by_replicate",
    "rli_summary",
    "species_recovery_score",
    "transition_matrix",
]

# ---------------------------------------------------------------------------------------------------
# categories and codes

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

_CODE_TO_NAME = {v: k for k, v in CATEGORY_CODES.items()}

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

_POSSIBLY_EXTINCT = ("CR(PE)", "CR(PEW)")

CRITERIA: tuple[str, ...] = (
    "A1",
    "A2",
    "A3",
    "A4",
    "B1",
    "B2",
    "C1",
    "C2a(i)",
    "C2a(ii)",
    "C2b",
    "D",
    "D2",
    "E",
)
"""Sub-criteria reported per (replicate, year) in :attr:`Classification.levels`, in this order."""

_IDX = {c: i for i, c in enumerate(CRITERIA)}

# IUCN (2012) thresholds, ordered (CR, EN, VU)
_A1_THRESHOLDS = (0.90, 0.70, 0.50)
_A234_THRESHOLDS = (0.80, 0.50, 0.30)
_B1_EOO = (100.0, 5_000.0, 20_000.0)  # km², strict "<"
_B2_AOO = (10.0, 500.0, 2_000.0)  # km², strict "<"
_B_LOCATIONS = (1, 5, 10)  # "<="
_C_SIZE = (250.0, 2_500.0, 10_000.0)  # strict "<"
_C1_RATE = (0.25, 0.20, 0.10)
_C1_YEARS = (3, 5, 10)
_C1_GENERATIONS = (1, 2, 3)
_C2AI_MAX = (50.0, 250.0, 1_000.0)  # "no subpopulation > x" i.e. "<="
_C2AII_FRACTION = (0.90, 0.95, 1.00)  # ">="
_D_SIZE = (50.0, 250.0, 1_000.0)  # strict "<"
_E_PROB = (0.50, 0.20, 0.10)  # ">="
_E_YEARS = (10, 20, 100)
_E_GENERATIONS = (3, 5, None)
_MAX_FUTURE = 100  # years: the cap on projected windows (A3, A4, C1, E)

# float comparisons at thresholds: 1 - 200/1000 must count as "at least 80%"
_TOL = 1e-9


def category_code(name: str) -> int:
    """Return the ``int8`` code of a category name (``"LC"`` .. ``"EX"``, ``"DD"``, ``"NE"``,
    ``"not evaluable"``; ``"CR(PE)"`` and ``"CR(PEW)"`` map to CR).

    Raises
    ------
    ValueError
        If ``name`` is not a category.
    """
    if name in _POSSIBLY_EXTINCT:
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
        return _CODE_TO_NAME[int(code)]
    except KeyError:
        raise ValueError(
            f"unknown category code {code!r}; expected one of {sorted(_CODE_TO_NAME)}"
        ) from None


# ---------------------------------------------------------------------------------------------------
# settings


ReductionMethod: TypeAlias = Literal["point", "fitted"]
CriterionA: TypeAlias = Literal["A1", "A2", "A3", "A4"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RedListSettings:
    """Choices the IUCN Guidelines leave to the assessor, made explicit.

    The defaults follow the Guidelines (IUCN 2024) where they give a rule and are documented choices
    of this package where they do not.
    """

    reduction_method: ReductionMethod = "point"
    """How a reduction over a window is computed from a trajectory (Guidelines section 4.5.1).
    ``"point"``: point-to-point, ``1 - N(end) / N(start)`` (a reduction is a difference between two
    points in time: Guidelines 4.5). ``"fitted"``: from the least-squares exponential trend through all
    years of the window, ``1 - exp(b * L)`` with ``b`` the slope of ``log N`` (counts below 0.5 are
    floored at 0.5 so that zeros have a logarithm); robust to year-to-year noise."""
    c1_direction: Literal["future", "past"] = "future"
    """Window of continuing decline (C1, C2, B b(v)): projected from the assessment year (up to
    100 years ahead, IUCN 2012 C1) or observed up to it (not capped: the cap is on the future)."""
    nt_reduction_margin: float = 0.10
    """NT under A when the reduction is at least the VU threshold minus this (0.20 for A2-A4, from
    the Guidelines section 10.1 example "declined by an estimated 20-25% in three generations"; 0.40
    for A1 by the same margin)."""
    nt_size_margin: float = 0.5
    """NT under C and D1 when the number of mature individuals is at most ``(1 + margin)`` times the
    VU threshold (15,000 for C with a C1 rate of decline or a C2 structure, 1,500 for D1) - a choice
    of this package in the spirit of Guidelines section 10.1 ("close to the VU thresholds"); the
    bound is inclusive because IUCN's Red List training examples list 15,000 mature individuals
    with a 10% decline in three generations as "NT C1"."""
    d2_max_locations: int = 5
    """VU D2: number of locations at or below which, with a plausible threat, D2 is met ("typically
    5 or fewer", IUCN 2012 D2; Guidelines section 8)."""
    d2_max_aoo: float = 20.0
    """VU D2: area of occupancy (km²) below which, with a plausible threat, D2 is met ("typically
    less than 20 km²", IUCN 2012 D2; Guidelines section 8)."""
    fluctuation_ratio: float = 10.0
    """Extreme fluctuations (Guidelines section 4.7): within the window a rise AND a fall by at least
    this factor ("more than one order of magnitude"); counts are floored at 1 for the ratio."""
    quasi_extinction: float = 0.0
    """Criterion E at year 0: a replicate counts as extinct within a window when its mature
    individuals fall to or below this number in the window (0: true extinction)."""
    criteria: tuple[str, ...] = ("A", "B", "C", "D", "E")
    """Criteria evaluated; the others are reported as ``NE``."""
    lc_rule: Literal["all", "any"] = "all"
    """When nothing is met: ``"all"`` assigns LC only if every evaluated criterion could be evaluated
    for that year (otherwise ``not evaluable``); ``"any"`` assigns LC as soon as one could."""

    def __post_init__(self) -> None:
        if self.reduction_method not in ("point", "fitted"):
            raise ValueError(
                f"reduction_method must be 'point' or 'fitted'; got {self.reduction_method!r}"
            )
        if self.c1_direction not in ("future", "past"):
            raise ValueError(f"c1_direction must be 'future' or 'past'; got {self.c1_direction!r}")
        if self.lc_rule not in ("all", "any"):
            raise ValueError(f"lc_rule must be 'all' or 'any'; got {self.lc_rule!r}")
        for field in ("nt_reduction_margin", "nt_size_margin"):
            v = getattr(self, field)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{field} must be a finite number >= 0; got {v!r}")
        if not (np.isfinite(self.fluctuation_ratio) and self.fluctuation_ratio > 1):
            raise ValueError(f"fluctuation_ratio must be > 1; got {self.fluctuation_ratio!r}")
        if not (np.isfinite(self.quasi_extinction) and self.quasi_extinction >= 0):
            raise ValueError(f"quasi_extinction must be >= 0; got {self.quasi_extinction!r}")
        if isinstance(self.d2_max_locations, bool) or int(self.d2_max_locations) < 1:
            raise ValueError(
                f"d2_max_locations must be an integer >= 1; got {self.d2_max_locations!r}"
            )
        if not (np.isfinite(self.d2_max_aoo) and self.d2_max_aoo > 0):
            raise ValueError(f"d2_max_aoo must be finite and > 0 (km²); got {self.d2_max_aoo!r}")
        object.__setattr__(self, "criteria", tuple(self.criteria))
        bad = [c for c in self.criteria if c not in ("A", "B", "C", "D", "E")]
        if bad:
            raise ValueError(f"criteria must be a subset of 'A'..'E'; got unknown {bad!r}")


# ---------------------------------------------------------------------------------------------------
# the classification result


@dataclasses.dataclass(frozen=True, eq=False)
class Classification:
    """Red List classification of each replicate at each assessment year.

    Arrays are indexed ``(replicate, year)``; ``years[j]`` is the year of column ``j``.
    """

    category: npt.NDArray[np.int8]
    """Category code (replicate, year); see the module docstring. ``NOT_EVALUABLE`` when nothing is
    met and some evaluated criterion could not be evaluated (``lc_rule="all"``). When some criteria
    were not evaluable the category is a lower bound: see :attr:`complete`."""
    levels: npt.NDArray[np.int8]
    """Level met by each sub-criterion (replicate, year, criterion), codes as categories: 0 not met,
    1 nearly met (NT), 2..4 VU..CR; ``NE`` not evaluated; ``NOT_EVALUABLE`` window not covered."""
    criteria: npt.NDArray[np.str_]
    """Category and the criteria that give it, IUCN style: ``"EN A3; C1"``, ``"LC"``, ``"EX"``."""
    complete: npt.NDArray[np.bool_]
    """True where every evaluated criterion could be evaluated (the category is then exact)."""
    years: npt.NDArray[np.int64]
    """Year of each column (``-years_before .. T``)."""
    notes: tuple[str, ...] = ()
    """What was not evaluated and why (e.g. "E evaluated at year 0 only")."""
    criterion_names: tuple[str, ...] = CRITERIA
    """Labels of the last axis of :attr:`levels`."""

    def to_dataset(self) -> xr.Dataset:
        """The classification as a Dataset with dims (replicate, year, criterion)."""
        coords = {
            names.REPLICATE: np.arange(self.category.shape[0]),
            names.YEAR: self.years,
            "criterion": list(self.criterion_names),
        }
        ds = xr.Dataset(
            {
                names.CATEGORY: ((names.REPLICATE, names.YEAR), self.category),
                names.CRITERIA: ((names.REPLICATE, names.YEAR), self.criteria),
                "criterion_level": ((names.REPLICATE, names.YEAR, "criterion"), self.levels),
                "complete": ((names.REPLICATE, names.YEAR), self.complete),
            },
            coords=coords,
            attrs={"notes": "; ".join(self.notes)},
        )
        ds[names.CATEGORY].attrs.update(_category_attrs())
        return ds


@dataclasses.dataclass(frozen=True, eq=False)
class ClassificationRange:
    """A best classification and the plausible range of categories under uncertain inputs
    (Akçakaya et al. 2000; RAMAS Red List)."""

    best: Classification
    """Classification with every uncertain parameter at its best value."""
    lower: npt.NDArray[np.int8]
    """Lowest evaluated category over the combinations of (min, best, max) (replicate, year)."""
    upper: npt.NDArray[np.int8]
    """Highest evaluated category over the combinations (replicate, year)."""


def _category_attrs() -> dict[str, Any]:
    # CF flag convention, so that netCDF readers can decode the codes
    codes = sorted(_CODE_TO_NAME)
    return {
        "long_name": "IUCN Red List category",
        "units": "1",
        "flag_values": np.array(codes, dtype=np.int8),
        "flag_meanings": " ".join(_CODE_TO_NAME[c].replace(" ", "_") for c in codes),
    }


# ---------------------------------------------------------------------------------------------------
# three-valued logic: 1.0 met, 0.0 not met, NaN unknown (window not covered)


def _and3(*xs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out = np.ones_like(xs[0])
    for x in xs:
        out = np.where(
            (out == 0) | (x == 0), 0.0, np.where(np.isnan(out) | np.isnan(x), np.nan, 1.0)
        )
    return out


def _or3(*xs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out = np.zeros_like(xs[0])
    for x in xs:
        out = np.where(
            (out == 1) | (x == 1), 1.0, np.where(np.isnan(out) | np.isnan(x), np.nan, 0.0)
        )
    return out


def _ge3(x: npt.NDArray[np.float64], threshold: float) -> npt.NDArray[np.float64]:
    """x >= threshold (within _TOL), NaN where x is NaN."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(x), np.nan, (x >= threshold - _TOL).astype(float))


_Levels: TypeAlias = tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]


def _levels(conds: Sequence[tuple[int, npt.NDArray[np.float64]]]) -> _Levels:
    """Highest level whose condition is met; 0 if all are known not met; NOT_EVALUABLE otherwise.

    Also returns where a condition above the level found could not be checked (the level is then
    a lower bound)."""
    shape = conds[0][1].shape
    out = np.zeros(shape, dtype=np.int8)
    for level, c in sorted(conds, key=lambda lc: lc[0]):
        out = np.where(c == 1, np.int8(level), out)
    incomplete = np.zeros(shape, dtype=bool)
    for level, c in conds:
        incomplete |= np.isnan(c) & (out < level)
    # "not met" is only a statement when every condition could be checked
    out = np.where((out == 0) & incomplete, np.int8(NOT_EVALUABLE), out).astype(np.int8)
    return out, incomplete


# ---------------------------------------------------------------------------------------------------
# windows and reductions


def _years_window(years_min: int, generations: float | None, generation_length: float) -> int:
    """The longer of ``years_min`` and ``generations`` generations, in whole years (nearest)."""
    if generations is None:
        return int(years_min)
    return max(int(years_min), int(np.floor(generations * generation_length + 0.5)))


EXTINCTION_RISK = "extinction_risk"
"""Results variable of nested criterion-E probabilities (species, scenario, replicate, year,
window)."""
E_WINDOW = "window"
"""Its window dim."""
E_WINDOWS = ("CR", "EN", "VU")
"""Its window coordinate: the CR, EN and VU windows of criterion E (:func:`e_windows`)."""


def e_windows(generation_length: float) -> tuple[int, int, int]:
    """Lengths in years of the CR, EN and VU windows of criterion E: the longer of 10 years or 3
    generations, of 20 years or 5 generations, and 100 years, each capped at 100 years (IUCN 2012,
    criterion E; Guidelines section 9)."""
    g = _check_generation_length(generation_length)
    out = tuple(
        min(_years_window(yrs, gens, g), _MAX_FUTURE)
        for yrs, gens in zip(_E_YEARS, _E_GENERATIONS, strict=True)
    )
    return out  # type: ignore[return-value]


def _window_reduction(
    n: npt.NDArray[np.float64], length: int, method: ReductionMethod
) -> npt.NDArray[np.float64]:
    """Reduction over ``[s, s + length]`` for every start column ``s`` (replicate, year); NaN where
    the window runs past the last year. Negative values are increases."""
    reps, cols = n.shape
    out = np.full((reps, cols), np.nan)
    if length < 1 or length >= cols:
        return out
    if method == "point":
        a, b = n[:, : cols - length], n[:, length:]
        with np.errstate(divide="ignore", invalid="ignore"):
            # a window starting at zero holds nobody to lose: no reduction
            out[:, : cols - length] = np.where(a > 0, 1.0 - b / np.where(a > 0, a, 1.0), 0.0)
        return out
    y = np.log(np.maximum(n, 0.5))
    k = np.arange(cols, dtype=float)
    c0 = np.concatenate([np.zeros((reps, 1)), np.cumsum(y, axis=1)], axis=1)
    c1 = np.concatenate([np.zeros((reps, 1)), np.cumsum(y * k, axis=1)], axis=1)
    s = np.arange(cols - length)
    sum_y = c0[:, s + length + 1] - c0[:, s]
    sum_ky = c1[:, s + length + 1] - c1[:, s] - s * sum_y  # x measured from the window start
    x = np.arange(length + 1, dtype=float)
    sxx = float(np.sum((x - x.mean()) ** 2))
    slope = (sum_ky - x.mean() * sum_y) / sxx
    out[:, : cols - length] = 1.0 - np.exp(slope * length)
    return out


def _shift(w: npt.NDArray[np.float64], offset: int) -> npt.NDArray[np.float64]:
    """``out[:, i] = w[:, i + offset]``, NaN outside."""
    out = np.full_like(w, np.nan)
    cols = w.shape[1]
    lo, hi = max(0, -offset), min(cols, cols - offset)
    if lo < hi:
        out[:, lo:hi] = w[:, lo + offset : hi + offset]
    return out


def _directed(w: npt.NDArray[np.float64], length: int, direction: str) -> npt.NDArray[np.float64]:
    """Window statistic indexed by assessment column: starting there (future) or ending there."""
    return w if direction == "future" else _shift(w, -length)


def _fluctuation(n: npt.NDArray[np.float64], length: int, ratio: float) -> npt.NDArray[np.float64]:
    """1.0 where the window ``[s, s + length]`` holds a rise and a fall by >= ``ratio``; NaN where it
    runs past the data (Guidelines section 4.7)."""
    reps, cols = n.shape
    out = np.full((reps, cols), np.nan)
    if length < 1 or length >= cols:
        return out
    y = np.log(np.maximum(n, 1.0))
    m = cols - length
    run_min = y[:, :m].copy()
    run_max = y[:, :m].copy()
    rise = np.zeros((reps, m))
    fall = np.zeros((reps, m))
    for k in range(1, length + 1):
        yk = y[:, k : k + m]
        rise = np.maximum(rise, yk - run_min)
        fall = np.maximum(fall, run_max - yk)
        run_min = np.minimum(run_min, yk)
        run_max = np.maximum(run_max, yk)
    lr = np.log(ratio) - _TOL
    out[:, :m] = ((rise >= lr) & (fall >= lr)).astype(float)
    return out


# ---------------------------------------------------------------------------------------------------
# validation helpers


def _check_generation_length(g: Any) -> float:
    if isinstance(g, tuple | list):
        raise ValueError(
            f"generation_length must be a number of years; got {g!r} - use classify_range for"
            " a (min, best, max) range"
        )
    try:
        gf = float(g)
    except (TypeError, ValueError):
        raise ValueError(f"generation_length must be a number of years > 0; got {g!r}") from None
    if not (np.isfinite(gf) and gf > 0):
        raise ValueError(f"generation_length must be finite and > 0 (years); got {g!r}")
    return gf


def _check_counts(x: Any, field: str, ndims: tuple[int, ...]) -> npt.NDArray[np.float64]:
    a = np.asarray(x.values if isinstance(x, xr.DataArray) else x, dtype=float)
    if a.ndim not in ndims:
        raise ValueError(
            f"{field} must have {' or '.join(map(str, ndims))} dims; got shape {a.shape}"
        )
    if a.size == 0:
        raise ValueError(f"{field} must not be empty; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{field} must be finite; got {a[~np.isfinite(a)][:3]!r} among its values")
    if np.any(a < 0):
        raise ValueError(f"{field} must be >= 0; got {a[a < 0][:3]!r} among its values")
    return a


def _parse_criterion_a(criterion_a: str | Iterable[str]) -> tuple[str, ...]:
    chosen = (criterion_a,) if isinstance(criterion_a, str) else tuple(criterion_a)
    bad = [c for c in chosen if c not in ("A1", "A2", "A3", "A4")]
    if bad or not chosen:
        raise ValueError(
            f"criterion_a must be one or more of 'A1', 'A2', 'A3', 'A4'; got {criterion_a!r}"
        )
    return chosen


# ---------------------------------------------------------------------------------------------------
# classification


def classify(
    mature: npt.ArrayLike,
    *,
    generation_length: float,
    years_before: int = 0,
    subpopulation_mature: npt.ArrayLike | None = None,
    locations: int | None = None,
    plausible_threat: bool = False,
    extinction_probability: npt.ArrayLike | None = None,
    partial_extinction_probability: bool = False,
    criterion_a: CriterionA | Iterable[CriterionA] = "A3",
    eoo: float | None = None,
    aoo: float | None = None,
    severely_fragmented: bool = False,
    total: npt.ArrayLike | None = None,
    settings: RedListSettings | None = None,
) -> Classification:
    """Classify each replicate at each year under IUCN Red List criteria A to E.

    Parameters
    ----------
    mature : array_like, shape (replicate, year) or (replicate, year, population)
        Mature individuals (IUCN 2012 "mature individuals"; Guidelines 4.3). Column ``j`` is year
        ``j - years_before``; consecutive columns are one year apart. With a population axis,
        criteria A, B, C1, D and E use the total over populations and C2a uses each population as a
        subpopulation (Guidelines 4.2).
    generation_length : float
        Generation length in years, > 0 (Guidelines 4.4). Sets the windows: the longer of 10 years
        or 3 generations (A), of 3/5/10 years or 1/2/3 generations (C1), of 10/20 years or 3/5
        generations (E), rounded to the nearest year.
    years_before : int
        Number of leading columns that are history before the simulation starts (year 0); they let
        A2/A4 windows reach into the past. Criterion E (from replicates) is evaluated at year 0.
    subpopulation_mature : array_like, shape (replicate, year, population), optional
        Mature individuals by subpopulation for C2a when ``mature`` is 2-D; without either, C2a is
        not evaluated (``NE``).
    locations : int, optional
        Number of locations (Guidelines 4.11) for B(a) and VU D2; None: not given.
    plausible_threat : bool
        Whether a plausible threat could drive the taxon to CR or EX in a very short time (VU D2,
        Guidelines section 8).
    extinction_probability : array_like, shape (replicate, year, 3), optional
        Probability of extinction within the CR, EN and VU windows of criterion E, from the state of
        each replicate at each year (e.g. a nested simulation); NaN for unknown. Without it E is
        estimated from the replicates at year 0 only (the fraction whose mature individuals fall to
        ``settings.quasi_extinction`` within each window, the same value for every replicate), and
        E is ``NE`` (not evaluated) at every other year.
    partial_extinction_probability : bool
        If True, a year whose ``extinction_probability`` is NaN for every replicate and window
        counts as not assessed rather than unknown: E there is treated as without
        ``extinction_probability`` (from the replicates at year 0, ``NE`` at other years). For
        nested simulations run at a few assessment years (:mod:`pva.nested`).
    criterion_a : {"A1", "A2", "A3", "A4"} or a sequence of them
        Sub-criteria of A to apply (IUCN 2012): A1 and A2 on the window ending at the assessment
        year (A1 with thresholds 90/70/50% for reductions whose causes have ceased), A3 on the window
        starting there (capped at 100 years), A4 on every window of the same length that contains the
        assessment year strictly inside it and ends at most 100 years ahead (the worst is taken).
        Thresholds 80/50/30% for A2-A4.
    eoo, aoo : float, optional
        Extent of occurrence and area of occupancy (km²) for B1 and B2; without both, B is ``NE``.
        ``aoo`` also serves VU D2 (restricted AOO, ``settings.d2_max_aoo``); D2 is ``NE`` without
        both ``locations`` and ``aoo`` and is judged on whichever of them is given.
    severely_fragmented : bool
        B(a): the population is severely fragmented (Guidelines 4.8).
    total : array_like, shape (replicate, year), optional
        All individuals; EX then needs no individuals at all (otherwise: no mature individuals).
    settings : RedListSettings, optional
        Documented choices (reduction method, NT margins, ...).

    Returns
    -------
    Classification
        Category codes, the level of each sub-criterion, IUCN-style criteria strings.

    Notes
    -----
    A condition is "met" as soon as the data show it; it is "not met" only when the whole window it
    needs lies within the data; otherwise it is ``NOT_EVALUABLE`` for that year. The category is the
    highest level met by any criterion (IUCN 2012, Preamble; Guidelines 2.3), and is a lower bound
    where :attr:`Classification.complete` is False; EX when no (mature) individuals remain.
    For E, extinctions seen before the end of a window the run does not cover, or a probability
    given for a shorter (nested) window, bound the probability of that window from below: E is met
    when the bound reaches the threshold and not evaluable otherwise.
    Near Threatened is given when a near-threshold rule of :class:`RedListSettings` is met
    (Guidelines section 10.1): a reduction within ``nt_reduction_margin`` of the VU threshold of A;
    fewer than 10,000 mature individuals with a continuing decline but no C1 rate or C2 structure;
    a C1 VU rate, or a C2 structure at the VU level with a continuing decline, with at most
    ``(1 + nt_size_margin)`` x 10,000; at most ``(1 + nt_size_margin)`` x 1,000 mature individuals
    (D1); the B area thresholds for VU met with a continuing decline but fewer than two of
    B(a)-(c). Continuing decline (C2, B b(v)) is a strictly positive reduction over the longer of
    3 years or 1 generation (the C1 CR window).

    Examples
    --------
    >>> import numpy as np
    >>> n = np.array([[1000.0] * 10 + [200.0]])   # 80% reduction over 10 years
    >>> c = classify(n, generation_length=2.0, criterion_a="A2")
    >>> str(c.criteria[0, -1])
    'CR A2'
    """
    settings = RedListSettings() if settings is None else settings
    if not isinstance(settings, RedListSettings):
        raise TypeError(f"settings must be a RedListSettings; got {type(settings).__name__}")
    g = _check_generation_length(generation_length)
    m3 = _check_counts(mature, "mature", (2, 3))
    n = m3.sum(axis=2) if m3.ndim == 3 else m3
    reps, cols = n.shape
    if isinstance(years_before, bool) or int(years_before) != years_before or years_before < 0:
        raise ValueError(f"years_before must be an integer >= 0; got {years_before!r}")
    if years_before >= cols:
        raise ValueError(f"years_before={years_before!r} leaves no year 0 in {cols} columns")
    i0 = int(years_before)
    chosen_a = _parse_criterion_a(criterion_a)
    for field, flag in (
        ("plausible_threat", plausible_threat),
        ("severely_fragmented", severely_fragmented),
    ):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{field} must be a bool; got {flag!r}")
    if locations is not None and (
        isinstance(locations, bool) or int(locations) != locations or locations < 1
    ):
        raise ValueError(f"locations must be an integer >= 1; got {locations!r}")
    for field, v in (("eoo", eoo), ("aoo", aoo)):
        if v is not None and not (np.isfinite(v) and v > 0):
            raise ValueError(f"{field} must be finite and > 0 (km²); got {v!r}")
    subs: npt.NDArray[np.float64] | None = None
    if m3.ndim == 3:
        subs = m3
    if subpopulation_mature is not None:
        subs = _check_counts(subpopulation_mature, "subpopulation_mature", (3,))
        if subs.shape[:2] != (reps, cols):
            raise ValueError(
                f"subpopulation_mature must have shape ({reps}, {cols}, population); got {subs.shape}"
            )
    tot = None
    if total is not None:
        tot = _check_counts(total, "total", (2,))
        if tot.shape != n.shape:
            raise ValueError(f"total must have the shape of mature {n.shape}; got {tot.shape}")

    method = settings.reduction_method
    direction = settings.c1_direction
    evaluated = set(settings.criteria)
    notes: list[str] = []
    levels = np.full((reps, cols, len(CRITERIA)), np.int8(NE), dtype=np.int8)
    incomplete = np.zeros((reps, cols), dtype=bool)
    shape = (reps, cols)

    def put(criterion: str, result: _Levels) -> None:
        nonlocal incomplete
        levels[:, :, _IDX[criterion]] = result[0]
        incomplete = incomplete | result[1]

    # IUCN 2012 C1 caps its windows at 100 years "in the future" only; a past window, like A2's,
    # keeps its full length of generations
    c_cap = _MAX_FUTURE if direction == "future" else None

    def c_window(yrs: int, gens: int) -> int:
        w = _years_window(yrs, gens, g)
        return w if c_cap is None else min(w, c_cap)

    # --- continuing decline and extreme fluctuations, shared by B and C -------------------------
    l_short = c_window(_C1_YEARS[0], _C1_GENERATIONS[0])
    decline_red = _directed(_window_reduction(n, l_short, method), l_short, direction)
    with np.errstate(invalid="ignore"):
        declining = np.where(np.isnan(decline_red), np.nan, (decline_red > _TOL).astype(float))
    l_vu = c_window(_C1_YEARS[2], _C1_GENERATIONS[2])
    fluct = _directed(_fluctuation(n, l_vu, settings.fluctuation_ratio), l_vu, direction)

    # --- A: reduction (IUCN 2012 criterion A; Guidelines 4.5 and 5) -----------------------------
    if "A" in evaluated:
        la = _years_window(10, 3, g)
        w_full = _window_reduction(n, la, method)
        for sub in chosen_a:
            thr = _A1_THRESHOLDS if sub == "A1" else _A234_THRESHOLDS
            if sub in ("A1", "A2"):
                red = _shift(w_full, -la)  # window ending at the assessment year
                lv = _levels_from_reduction(red, thr, settings.nt_reduction_margin)
            elif sub == "A3":
                l3 = min(la, _MAX_FUTURE)
                red = _window_reduction(n, l3, method) if l3 != la else w_full
                lv = _levels_from_reduction(red, thr, settings.nt_reduction_margin)
            else:
                lv = _a4_levels(w_full, la, thr, settings.nt_reduction_margin)
            put(sub, lv)

    # --- B: geographic range (only with EOO/AOO; Guidelines 4.9, 4.10, 6) -----------------------
    if "B" in evaluated and (eoo is not None or aoo is not None):
        for sub, area, thresholds in (("B1", eoo, _B1_EOO), ("B2", aoo, _B2_AOO)):
            if area is None:
                continue
            conds = []
            nt_cond = np.zeros(shape)
            for level, area_thr, loc_thr in zip(
                (CR, EN, VU), thresholds, _B_LOCATIONS, strict=True
            ):
                if not area < area_thr:
                    continue
                a_cond = float(
                    severely_fragmented or (locations is not None and locations <= loc_thr)
                )
                n_true = a_cond + (declining == 1) + (fluct == 1)
                n_unknown = np.isnan(declining).astype(float) + np.isnan(fluct)
                met = np.where(n_true >= 2, 1.0, np.where(n_true + n_unknown >= 2, np.nan, 0.0))
                conds.append((level, met))
                if level == VU:
                    # Guidelines 10.1: area thresholds met and declining, too few subconditions
                    nt_cond = (declining == 1).astype(float)
            conds.append((NT, nt_cond))
            put(sub, _levels(conds))
    elif "B" in evaluated:
        notes.append("B not evaluated: no extent of occurrence or area of occupancy given")

    # --- C: small population and decline (Guidelines 4.6, 7) -----------------------------------
    if "C" in evaluated:
        conds_c1 = []
        rates = []
        for level, size, rate, yrs, gens in zip(
            (CR, EN, VU), _C_SIZE, _C1_RATE, _C1_YEARS, _C1_GENERATIONS, strict=True
        ):
            lk = c_window(yrs, gens)
            red = _directed(_window_reduction(n, lk, method), lk, direction)
            small = (n < size).astype(float)
            conds_c1.append((level, _and3(small, _ge3(red, rate))))
            rates.append(red)
        decline_vu = rates[-1]
        near_size = (n <= _C_SIZE[2] * (1.0 + settings.nt_size_margin) + _TOL).astype(float)
        nt_c = _or3(
            _and3((n < _C_SIZE[2]).astype(float), declining),
            _and3(near_size, _ge3(decline_vu, _C1_RATE[2])),
        )
        conds_c1.append((NT, nt_c))
        put("C1", _levels(conds_c1))

        conds_b = []
        for level, size in zip((CR, EN, VU), _C_SIZE, strict=True):
            small = (n < size).astype(float)
            conds_b.append((level, _and3(small, declining, fluct)))
        # NT: a C2 structure at the VU level with a population close to (not under) 10,000
        # (Guidelines 10.1; IUCN training example: 13,250 declining, all in one subpopulation)
        conds_b.append((NT, _and3(near_size, declining, fluct)))
        put("C2b", _levels(conds_b))
        if subs is not None:
            biggest = subs.max(axis=2)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(n > 0, biggest / np.where(n > 0, n, 1.0), 0.0)
            conds_ai, conds_aii = [], []
            for level, size, ai, aii in zip(
                (CR, EN, VU), _C_SIZE, _C2AI_MAX, _C2AII_FRACTION, strict=True
            ):
                small = (n < size).astype(float)
                conds_ai.append((level, _and3(small, declining, (biggest <= ai).astype(float))))
                conds_aii.append((level, _and3(small, declining, _ge3(share, aii))))
            conds_ai.append(
                (NT, _and3(near_size, declining, (biggest <= _C2AI_MAX[2]).astype(float)))
            )
            conds_aii.append((NT, _and3(near_size, declining, _ge3(share, _C2AII_FRACTION[2]))))
            put("C2a(i)", _levels(conds_ai))
            put("C2a(ii)", _levels(conds_aii))
        else:
            notes.append("C2a not evaluated: no subpopulations given")

    # --- D: very small or restricted population (Guidelines 8) ---------------------------------
    if "D" in evaluated:
        d = np.zeros(shape, dtype=np.int8)
        d[n <= _D_SIZE[2] * (1.0 + settings.nt_size_margin) + _TOL] = NT
        d[n < _D_SIZE[2]] = VU
        d[n < _D_SIZE[1]] = EN
        d[n < _D_SIZE[0]] = CR
        put("D", (d, np.zeros(shape, dtype=bool)))
        if locations is not None or aoo is not None:
            # IUCN 2012 D2: a restricted AOO (typically < 20 km²) OR few locations (typically
            # <= 5), with a plausible threat; either one given is enough to meet it
            restricted = (locations is not None and locations <= settings.d2_max_locations) or (
                aoo is not None and aoo < settings.d2_max_aoo
            )
            d2 = VU if (plausible_threat and restricted) else LC
            put("D2", (np.full(shape, np.int8(d2)), np.zeros(shape, dtype=bool)))
        else:
            notes.append("D2 not evaluated: neither number of locations nor AOO given")

    # --- E: quantitative analysis (Guidelines 9) ------------------------------------------------
    if "E" in evaluated:
        put(
            "E",
            _e_levels(
                n, g, i0, extinction_probability, settings, notes, partial_extinction_probability
            ),
        )

    # --- category ------------------------------------------------------------------------------
    best = np.max(np.where(levels >= 0, levels, np.int8(-1)), axis=2).astype(np.int8)
    any_unknown = np.any(levels == NOT_EVALUABLE, axis=2)
    complete = ~(any_unknown | incomplete)
    category = best.copy()
    nothing = best <= LC
    if settings.lc_rule == "all":
        category[nothing & any_unknown] = NOT_EVALUABLE
    category[best < 0] = NOT_EVALUABLE
    gone = n <= 0 if tot is None else (n <= 0) & (tot <= 0)
    category[gone] = EX
    complete = complete | gone
    criteria = _criteria_strings(category, levels)
    years = np.arange(cols, dtype=np.int64) - i0
    return Classification(
        category=category.astype(np.int8),
        levels=levels,
        criteria=criteria,
        complete=complete,
        years=years,
        notes=tuple(notes),
    )


def _levels_from_reduction(
    red: npt.NDArray[np.float64], thresholds: tuple[float, float, float], nt_margin: float
) -> _Levels:
    conds = [(lvl, _ge3(red, t)) for lvl, t in zip((CR, EN, VU), thresholds, strict=True)]
    conds.append((NT, _ge3(red, thresholds[2] - nt_margin)))
    return _levels(conds)


def _a4_levels(
    w: npt.NDArray[np.float64], la: int, thresholds: tuple[float, float, float], nt_margin: float
) -> _Levels:
    """A4: the worst of the windows of length ``la`` with the assessment year strictly inside and
    the end at most 100 years ahead; "not met" needs every such window covered."""
    offsets = range(-(la - 1), min(-1, _MAX_FUTURE - la) + 1)
    worst = np.full_like(w, -np.inf)
    covered_all = np.ones(w.shape, dtype=bool)
    for off in offsets:
        s = _shift(w, off)
        covered_all &= ~np.isnan(s)
        worst = np.fmax(worst, s)
    worst = np.where(np.isneginf(worst), np.nan, worst)
    lv, incomplete = _levels_from_reduction(worst, thresholds, nt_margin)
    # a covered window not meeting a threshold says nothing about the uncovered ones
    incomplete = incomplete | (~covered_all & (lv < CR))
    lv = np.where((lv == LC) & ~covered_all, np.int8(NOT_EVALUABLE), lv).astype(np.int8)
    return lv, incomplete


def _e_levels(
    n: npt.NDArray[np.float64],
    g: float,
    i0: int,
    extinction_probability: npt.ArrayLike | None,
    settings: RedListSettings,
    notes: list[str],
    partial: bool = False,
) -> _Levels:
    reps, cols = n.shape
    if not isinstance(partial, bool | np.bool_):
        raise TypeError(f"partial_extinction_probability must be a bool; got {partial!r}")
    if extinction_probability is not None and partial:
        p = np.asarray(extinction_probability, dtype=float)
        if p.shape != (reps, cols, 3):
            raise ValueError(
                f"extinction_probability must have shape ({reps}, {cols}, 3); got {p.shape}"
            )
        assessed = ~np.all(np.isnan(p), axis=(0, 2))
        lv, incomplete = _e_levels(n, g, i0, None, settings, [], False)
        if assessed.any():
            lv_p, inc_p = _e_levels(n, g, i0, p, settings, [], False)
            lv[:, assessed] = lv_p[:, assessed]
            incomplete[:, assessed] = inc_p[:, assessed]
        done = [int(j) - i0 for j in np.flatnonzero(assessed)]
        notes.append(
            f"E evaluated from nested simulations at years {done}"
            + ("" if assessed[i0] else " and from the replicates at year 0")
            + "; not evaluated (NE) at other years"
        )
        return lv, incomplete
    if extinction_probability is not None:
        p = np.asarray(extinction_probability, dtype=float)
        if p.shape != (reps, cols, 3):
            raise ValueError(
                f"extinction_probability must have shape ({reps}, {cols}, 3); got {p.shape}"
            )
        finite = p[~np.isnan(p)]
        if np.any((finite < 0) | (finite > 1)) or np.any(np.isinf(p)):
            raise ValueError("extinction_probability must lie in [0, 1] (NaN for unknown)")
    lower = np.full((reps, cols, 3), np.nan)  # lower bounds where a window is not covered
    if extinction_probability is None:
        p = np.full((reps, cols, 3), np.nan)
        for k, (yrs, gens) in enumerate(zip(_E_YEARS, _E_GENERATIONS, strict=True)):
            wk = min(_years_window(yrs, gens, g), _MAX_FUTURE)
            # a window running past the data still gives a lower bound: the fraction extinct
            # by the last simulated year (extinction within a window only grows with its length)
            hit = np.min(n[:, i0 : i0 + wk + 1], axis=1) <= settings.quasi_extinction
            if i0 + wk < cols:
                p[:, i0, k] = hit.mean()
            else:
                lower[:, i0, k] = hit.mean()
        notes.append("E evaluated at year 0 only (from the replicates); not evaluated (NE) later")
    # The CR, EN and VU windows are nested (max(10 y, 3 G) <= max(20 y, 5 G) <= 100 y, each capped
    # at 100), so a probability known for a shorter window bounds those of the longer ones: "met"
    # as soon as the data show it (IUCN 2012 E), unknown otherwise.
    lower = np.fmax.accumulate(np.fmax(lower, p), axis=2)
    conds = []
    for k, (lvl, t) in enumerate(zip((CR, EN, VU), _E_PROB, strict=True)):
        known = np.fmax(p[:, :, k], lower[:, :, k])
        bound_met = lower[:, :, k] >= t - _TOL
        pk = np.where(np.isnan(p[:, :, k]), np.where(bound_met, lower[:, :, k], np.nan), known)
        conds.append((lvl, _ge3(pk, t)))
    lv, incomplete = _levels(conds)
    if extinction_probability is None:
        later = np.arange(cols) != i0
        lv[:, later] = NE
        incomplete[:, later] = False
    return lv, incomplete


# ---------------------------------------------------------------------------------------------------
# criteria strings


def _criteria_strings(
    category: npt.NDArray[np.int8], levels: npt.NDArray[np.int8]
) -> npt.NDArray[np.str_]:
    reps, cols, k = levels.shape
    flat = np.concatenate([category.reshape(-1, 1), levels.reshape(-1, k)], axis=1)
    # one int64 key per row (codes -3..6 are base-10 digits; 15 digits < 2**63), because
    # np.unique(axis=0) sorts structured rows, far slower on (replicate x year) rows
    digits = (flat.astype(np.int64) + 3) * (10 ** np.arange(k + 1, dtype=np.int64))
    keys = digits.sum(axis=1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    texts = np.array([_format_row(int(flat[i, 0]), flat[i, 1:]) for i in first], dtype=np.str_)
    return texts[inverse.reshape(-1)].reshape(reps, cols)


def _format_row(cat: int, lv: npt.NDArray[np.int8]) -> str:
    name = category_name(cat)
    if cat in (LC, EX, EW, NOT_EVALUABLE):
        return name
    met = {c for c, v in zip(CRITERIA, lv, strict=True) if v == cat}
    parts = []
    a = [c[1] for c in ("A1", "A2", "A3", "A4") if c in met]
    if a:
        parts.append("A" + "+".join(a))
    b = [c[1] for c in ("B1", "B2") if c in met]
    if b:
        parts.append("B" + "+".join(b))
    # IUCN notation: C1+2a(i,ii)b
    a_parts = [s for s, key in (("i", "C2a(i)"), ("ii", "C2a(ii)")) if key in met]
    c2 = ("a(" + ",".join(a_parts) + ")" if a_parts else "") + ("b" if "C2b" in met else "")
    c = (["1"] if "C1" in met else []) + (["2" + c2] if c2 else [])
    if c:
        parts.append("C" + "+".join(c))
    if cat in (VU, NT):
        d = [s for s, key in (("1", "D"), ("2", "D2")) if key in met]
        if d:
            parts.append("D" + "+".join(d))
    elif "D" in met:
        parts.append("D")
    if "E" in met:
        parts.append("E")
    return f"{name} " + "; ".join(parts) if parts else name


# ---------------------------------------------------------------------------------------------------
# uncertain inputs


def classify_range(
    mature: npt.ArrayLike,
    *,
    generation_length: float | tuple[float, float, float],
    locations: int | tuple[int, int, int] | None = None,
    eoo: float | tuple[float, float, float] | None = None,
    aoo: float | tuple[float, float, float] | None = None,
    **kwargs: Any,
) -> ClassificationRange:
    """Classify with uncertain scalar inputs given as ``(min, best, max)``.

    Every combination of the minimum, best and maximum values is classified; the best category is
    the one with all parameters at their best values and the plausible range runs from the lowest
    to the highest evaluated category over the combinations (Akçakaya et al. 2000; Guidelines
    section 3.2; RAMAS Red List reports a category range the same way). Other keyword arguments go
    to :func:`classify` unchanged.

    Returns
    -------
    ClassificationRange
        ``best`` classification and ``lower``/``upper`` category codes (replicate, year). Where no
        combination could be evaluated, both bounds are ``NOT_EVALUABLE``.
    """
    uncertain = {
        "generation_length": generation_length,
        "locations": locations,
        "eoo": eoo,
        "aoo": aoo,
    }
    triples: dict[str, tuple[Any, Any, Any]] = {}
    for field, v in uncertain.items():
        if isinstance(v, tuple | list):
            if len(v) != 3:
                raise ValueError(f"{field} range must be (min, best, max); got {v!r}")
            lo, best, hi = v
            if not (lo <= best <= hi):
                raise ValueError(f"{field} range must satisfy min <= best <= max; got {v!r}")
            triples[field] = (lo, best, hi)
        else:
            triples[field] = (v, v, v)
    best_kwargs = {f: t[1] for f, t in triples.items()}
    best = classify(mature, **best_kwargs, **kwargs)
    lower = np.full(best.category.shape, np.int8(127), dtype=np.int8)
    upper = np.full(best.category.shape, np.int8(-1), dtype=np.int8)
    fields = list(triples)
    for combo in itertools.product(*(tuple(dict.fromkeys(triples[f])) for f in fields)):
        c = classify(mature, **dict(zip(fields, combo, strict=True)), **kwargs).category
        ok = c >= 0
        lower = np.where(ok, np.minimum(lower, c), lower)
        upper = np.where(ok, np.maximum(upper, c), upper)
    none = upper < 0
    lower = np.where(none, np.int8(NOT_EVALUABLE), lower).astype(np.int8)
    upper = np.where(none, np.int8(NOT_EVALUABLE), upper).astype(np.int8)
    return ClassificationRange(best=best, lower=lower, upper=upper)


# ---------------------------------------------------------------------------------------------------
# Red List Index


def _weight_table(
    weights: Mapping[str, float] | None, cr_pe_weight: float | None = None
) -> tuple[dict[str, float], float]:
    w = dict(DEFAULT_WEIGHTS)
    if weights is not None:
        for k, v in weights.items():
            if k not in DEFAULT_WEIGHTS:
                raise ValueError(
                    f"unknown category {k!r} in weights; expected keys of {list(DEFAULT_WEIGHTS)}"
                )
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"weight of {k!r} must be finite and >= 0; got {v!r}")
            w[k] = float(v)
    w_ex = w["EX"]
    if w_ex <= 0 or any(v > w_ex for v in w.values()):
        raise ValueError(f"the EX weight must be the largest and > 0; got weights {w!r}")
    pe = w["CR"] if cr_pe_weight is None else float(cr_pe_weight)
    if not (np.isfinite(pe) and 0 <= pe <= w_ex):
        raise ValueError(f"cr_pe_weight must lie in [0, W_EX={w_ex}]; got {cr_pe_weight!r}")
    w["CR(PE)"] = w["CR(PEW)"] = pe
    return w, w_ex


def red_list_index(
    categories: Iterable[str | int],
    *,
    weights: Mapping[str, float] | None = None,
    cr_pe_weight: float | None = None,
) -> float:
    """Red List Index of a set of species (Butchart et al. 2004, 2007).

    ``RLI = 1 - sum_s W_c(s) / (W_EX * N)`` over the ``N`` species not Data Deficient or Not
    Evaluated, with weights LC 0, NT 1, VU 2, EN 3, CR 4, EW 5, EX 5. RLI = 1: every species LC;
    RLI = 0: every species extinct.

    Parameters
    ----------
    categories : iterable of str or int
        Category names (``"LC"`` .. ``"EX"``, ``"DD"``, ``"NE"``, ``"CR(PE)"``, ``"CR(PEW)"``) or
        ``int8`` codes; ``DD``, ``NE`` and ``not evaluable`` are excluded. Names are read without
        regard to case or surrounding spaces (``"en"`` is EN).
    weights : mapping, optional
        Replacement weights by category name (e.g. ``{"EW": 4.5}``); EX must keep the largest.
    cr_pe_weight : float, optional
        Weight of CR(PE) / CR(PEW), "Possibly Extinct (in the Wild)" (Butchart et al. 2006): by
        default the CR weight 4, as in the published RLI; 5 treats them as extinct.

    Raises
    ------
    ValueError
        An unknown category (named in the message), or no species left after exclusions.

    Examples
    --------
    >>> red_list_index(["LC", "EN", "EX", "DD"])   # 1 - (0 + 3 + 5) / (5 * 3)
    0.4666666666666667
    """
    w, w_ex = _weight_table(weights, cr_pe_weight)
    if isinstance(categories, str):
        # A bare string would be iterated letter by letter and fail on "L" of "LC".
        raise TypeError(
            f"categories must be an iterable of category names or codes; got the string {categories!r}"
        )
    total = 0.0
    count = 0
    for c in categories:
        if isinstance(c, str):
            # Assessments typed by hand or exported from spreadsheets often use "en" or " EN ";
            # the IUCN codes themselves are case-insensitive abbreviations.
            key = c.strip().upper()
            if key in ("DD", "NE", "NOT EVALUABLE"):
                continue
            if key not in w:
                category_code(c)  # raises naming it
            total += w[key]
        else:
            if isinstance(c, bool) or not isinstance(c, int | np.integer):
                raise TypeError(f"categories must hold category names or integer codes; got {c!r}")
            code = int(c)
            name = category_name(code)
            if code < 0:
                continue
            total += w[name]
        count += 1
    if count == 0:
        raise ValueError("red_list_index needs at least one species that is not DD or NE")
    return 1.0 - total / (w_ex * count)


def _weight_lookup(weights: Mapping[str, float] | None) -> tuple[npt.NDArray[np.float64], float]:
    """Weights indexed by code + 3 (codes -3..6); NaN for the excluded sentinels."""
    w, w_ex = _weight_table(weights)
    table = np.full(10, np.nan)
    for name in CATEGORIES:
        table[CATEGORY_CODES[name] + 3] = w[name]
    return table, w_ex


def _as_codes(categories: xr.DataArray) -> xr.DataArray:
    if not isinstance(categories, xr.DataArray):
        raise TypeError(f"categories must be an xarray.DataArray; got {type(categories).__name__}")
    vals = np.asarray(categories.values)
    if not np.issubdtype(vals.dtype, np.integer):
        raise ValueError(f"categories must hold integer category codes; got dtype {vals.dtype}")
    bad = ~np.isin(vals, list(_CODE_TO_NAME))
    if np.any(bad):
        raise ValueError(f"unknown category code {int(vals[bad].ravel()[0])!r} in categories")
    return categories


def rli_by_replicate(
    categories: xr.DataArray,
    *,
    weights: Mapping[str, float] | None = None,
    groupby: Hashable | None = None,
) -> xr.DataArray:
    """Red List Index of the species jointly, per replicate (and year, scenario, ...).

    Parameters
    ----------
    categories : xarray.DataArray of int codes, dims including ``species`` (e.g. (species,
        replicate, year))
        Species with a negative code (DD, NE, not evaluable) at a (replicate, year) are left out of
        the RLI there (Butchart et al. 2007).
    weights : mapping, optional
        As in :func:`red_list_index`.
    groupby : hashable, optional
        Name of a coordinate on ``species`` (taxon, country, site): one RLI per group, along a new
        dim of that name.

    Returns
    -------
    xarray.DataArray
        RLI with the ``species`` dim reduced; NaN where no species is evaluated.
    """
    cats = _as_codes(categories)
    if names.SPECIES not in cats.dims:
        raise ValueError(f"categories must have a {names.SPECIES!r} dim; got dims {cats.dims}")
    if groupby is not None:
        if groupby not in cats.coords or cats[groupby].dims != (names.SPECIES,):
            raise ValueError(f"groupby={groupby!r} must name a coordinate on the species dim")
        return cats.groupby(groupby).map(lambda c: rli_by_replicate(c, weights=weights))
    table, w_ex = _weight_lookup(weights)
    wts = xr.apply_ufunc(lambda c: table[np.asarray(c, dtype=np.int64) + 3], cats)
    counted = wts.notnull().sum(names.SPECIES)
    total = wts.sum(names.SPECIES, skipna=True)
    rli = (1.0 - total / (w_ex * counted)).where(counted > 0)
    rli.name = names.RLI
    rli.attrs = {"units": "1", "long_name": "Red List Index"}
    return rli


def rli_summary(rli: xr.DataArray, *, level: float = 0.95) -> xr.Dataset:
    """Mean, Monte Carlo standard error and central interval of an RLI over replicates.

    Parameters
    ----------
    rli : xarray.DataArray with a ``replicate`` dim
        E.g. from :func:`rli_by_replicate`.
    level : float
        Coverage of the interval of the replicate distribution (percentiles
        ``(1 - level) / 2`` and ``(1 + level) / 2``): the range of RLI values the study's futures
        span, not a confidence interval of the mean (that is ``mean +/- 1.96 mcse``).

    Returns
    -------
    xarray.Dataset
        ``mean``, ``mcse``, ``lower``, ``upper`` with the ``replicate`` dim reduced.
    """
    return _paired_summary(rli, level)


def _paired_summary(x: xr.DataArray, level: float) -> xr.Dataset:
    if not (0 < level < 1):
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    if names.REPLICATE not in x.dims:
        raise ValueError(f"expected a {names.REPLICATE!r} dim; got dims {x.dims}")
    with warnings.catch_warnings():
        # years where no replicate has an RLI give NaN, which is the documented answer
        warnings.simplefilter("ignore", RuntimeWarning)
        q = x.quantile([(1 - level) / 2, (1 + level) / 2], dim=names.REPLICATE, skipna=True)
        mean = x.mean(names.REPLICATE, skipna=True)
        sd = x.std(names.REPLICATE, ddof=1, skipna=True)
    count = x.notnull().sum(names.REPLICATE)
    ds = xr.Dataset(
        {
            "mean": mean,
            "mcse": sd / np.sqrt(count),
            "lower": q.isel(quantile=0, drop=True),
            "upper": q.isel(quantile=1, drop=True),
        }
    )
    ds.attrs["interval_level"] = level
    return ds


def delta_rli(
    categories_action: xr.DataArray,
    categories_no_action: xr.DataArray,
    *,
    level: float = 0.95,
    weights: Mapping[str, float] | None = None,
    groupby: Hashable | None = None,
) -> xr.Dataset:
    """ΔRLI = RLI(action) - RLI(no action), paired over replicates.

    Replicate ``r`` of both scenarios shares its random numbers (common random numbers), so the
    difference is taken per replicate before summarising, which removes the shared noise.

    Returns
    -------
    xarray.Dataset
        ``delta`` (per replicate), ``mean``, ``mcse``, ``lower``, ``upper`` (see :func:`rli_summary`)
        and ``p_improved``: the fraction of replicates with ΔRLI > 0.
    """
    a = rli_by_replicate(categories_action, weights=weights, groupby=groupby)
    b = rli_by_replicate(categories_no_action, weights=weights, groupby=groupby)
    if a.sizes != b.sizes:
        raise ValueError(
            f"the two scenarios must have the same shape; got {dict(a.sizes)} and {dict(b.sizes)}"
        )
    d = a - b
    ds = _paired_summary(d, level)
    ds["delta"] = d
    ds["p_improved"] = (d > 0).where(d.notnull()).mean(names.REPLICATE)
    return ds


# ---------------------------------------------------------------------------------------------------
# distributions and transitions


def _codes_dataarray(categories: Any) -> xr.DataArray:
    if isinstance(categories, xr.DataArray):
        return _as_codes(categories)
    a = np.asarray(categories)
    if a.ndim != 2:
        raise ValueError(f"categories must be (replicate, year); got shape {a.shape}")
    return _as_codes(xr.DataArray(a, dims=(names.REPLICATE, names.YEAR)))


def _one_hot(cats: xr.DataArray, dim: str) -> xr.DataArray:
    codes = xr.DataArray(
        np.array([CATEGORY_CODES[c] for c in CATEGORY_LABELS], dtype=np.int8),
        dims=dim,
        coords={dim: list(CATEGORY_LABELS)},
    )
    return (cats == codes).astype(np.int64)


def category_distribution(categories: Any, *, normalize: bool = True) -> xr.DataArray:
    """Distribution of categories over replicates, per year (and any other dim).

    Parameters
    ----------
    categories : xarray.DataArray with a ``replicate`` dim, or array (replicate, year)
        Category codes.
    normalize : bool
        Fractions of replicates (True) or counts (False).

    Returns
    -------
    xarray.DataArray
        Dims: the input's without ``replicate``, plus ``category`` (labels
        :data:`CATEGORY_LABELS`); e.g. (year, category).
    """
    cats = _codes_dataarray(categories)
    if names.REPLICATE not in cats.dims:
        raise ValueError(f"categories must have a {names.REPLICATE!r} dim; got dims {cats.dims}")
    counts = _one_hot(cats, "category").sum(names.REPLICATE)
    out = counts / cats.sizes[names.REPLICATE] if normalize else counts
    out.name = "category_fraction" if normalize else "category_count"
    out.attrs = {"units": "1", "long_name": "fraction of replicates" if normalize else "replicates"}
    return out


def transition_matrix(
    categories: Any, year_from: int, year_to: int, *, normalize: bool = True
) -> xr.DataArray:
    """P(category at ``year_to`` | category at ``year_from``), estimated over replicates.

    Parameters
    ----------
    categories : xarray.DataArray with dims including ``replicate`` and ``year``, or array
        (replicate, year) whose columns are years 0..T.
    year_from, year_to : int
        Years (labels of the ``year`` coordinate).
    normalize : bool
        Conditional probabilities (rows sum to 1 where the origin category occurs, NaN rows
        otherwise) or counts.

    Returns
    -------
    xarray.DataArray
        Dims (..., category_from, category_to).
    """
    cats = _codes_dataarray(categories)
    for label, y in (("year_from", year_from), ("year_to", year_to)):
        if y not in cats[names.YEAR].values:
            raise ValueError(f"{label}={y!r} is not a year of categories")
    c0 = _one_hot(cats.sel({names.YEAR: year_from}, drop=True), "category_from")
    c1 = _one_hot(cats.sel({names.YEAR: year_to}, drop=True), "category_to")
    counts = xr.dot(c0, c1, dim=names.REPLICATE)
    if not normalize:
        return counts
    rows = counts.sum("category_to")
    out = (counts / rows).where(rows > 0)
    out.name = "transition_probability"
    out.attrs = {"units": "1", "year_from": int(year_from), "year_to": int(year_to)}
    return out


# ---------------------------------------------------------------------------------------------------
# extinctions prevented


@dataclasses.dataclass(frozen=True)
class ExtinctionsPrevented:
    """Extinctions prevented by an action (the quantity Bolam et al. 2021 elicited from experts)."""

    expected: float
    """E[extinctions under no action - extinctions under action] (species)."""
    mcse: float
    """Monte Carlo standard error of ``expected`` (paired replicates)."""
    ci: tuple[float, float]
    """Normal-approximation confidence interval of ``expected`` at ``level``."""
    interval: tuple[float, float]
    """Central interval of the per-replicate number prevented at ``level`` (the spread of
    outcomes)."""
    p_at_least_one: float
    """Fraction of replicates in which at least one species extinct under no action survives under
    action."""
    p_fewer: float
    """Fraction of replicates in which the action has fewer extinctions in total."""
    per_replicate: npt.NDArray[np.int64]
    """Extinctions prevented in each replicate (may be negative)."""
    level: float = 0.95


def extinctions_prevented(
    extinct_no_action: npt.ArrayLike, extinct_action: npt.ArrayLike, *, level: float = 0.95
) -> ExtinctionsPrevented:
    """Expected extinctions prevented, paired over replicates.

    Parameters
    ----------
    extinct_no_action, extinct_action : array_like of bool, shape (species, replicate)
        Whether each species is extinct by the horizon in each replicate. Replicate ``r`` of the two
        scenarios shares its random numbers (common random numbers), so differences are per replicate.
    level : float
        Coverage of the intervals.

    Returns
    -------
    ExtinctionsPrevented
        With ``p_at_least_one`` defined species by species: the fraction of replicates where some
        species extinct under no action survives under the action (a prevented extinction, not only a
        lower count, which an extinction caused elsewhere could mask).
    """
    from scipy import stats

    no = np.asarray(
        extinct_no_action.values
        if isinstance(extinct_no_action, xr.DataArray)
        else extinct_no_action
    )
    act = np.asarray(
        extinct_action.values if isinstance(extinct_action, xr.DataArray) else extinct_action
    )
    for field, a in (("extinct_no_action", no), ("extinct_action", act)):
        if a.dtype != bool:
            raise ValueError(f"{field} must be boolean; got dtype {a.dtype}")
        if a.ndim != 2:
            raise ValueError(f"{field} must be (species, replicate); got shape {a.shape}")
    if no.shape != act.shape:
        raise ValueError(
            f"shapes differ: extinct_no_action {no.shape} vs extinct_action {act.shape}"
        )
    if not (0 < level < 1):
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    d = no.sum(axis=0).astype(np.int64) - act.sum(axis=0).astype(np.int64)
    reps = d.size
    mean = float(d.mean())
    se = float(d.std(ddof=1) / np.sqrt(reps)) if reps > 1 else float("nan")
    z = float(stats.norm.ppf((1 + level) / 2))
    lo, hi = np.quantile(d, [(1 - level) / 2, (1 + level) / 2])
    return ExtinctionsPrevented(
        expected=mean,
        mcse=se,
        ci=(mean - z * se, mean + z * se),
        interval=(float(lo), float(hi)),
        p_at_least_one=float(np.any(no & ~act, axis=0).mean()),
        p_fewer=float((d > 0).mean()),
        per_replicate=d,
        level=level,
    )


# ---------------------------------------------------------------------------------------------------
# Green Status of Species

GREEN_STATES: dict[str, int] = {
    "indeterminate": -1,
    "absent": 0,
    "present": 1,
    "viable": 2,
    "functional": 3,
}
"""State codes of a spatial unit (IUCN Green Status standard v2.0; Akçakaya et al. 2018)."""

GREEN_WEIGHTS: dict[str, float] = {"absent": 0.0, "present": 3.0, "viable": 6.0, "functional": 9.0}
"""Weights of the states in the Green Score (IUCN 2021, Green Status standard v2.0)."""


def green_status_states(
    mature: npt.ArrayLike,
    *,
    viable_threshold: float,
    functional_threshold: float | None = None,
    carrying_capacity: npt.ArrayLike | None = None,
    functional_fraction: float | None = None,
    extinction_risk: npt.ArrayLike | None = None,
    viable_max_risk: float = 0.1,
) -> npt.NDArray[np.int8]:
    """State of each spatial unit (population or site) per replicate and year.

    Rules (thresholds are the assessor's, made explicit here; Akçakaya et al. 2018 define Viable as
    "not threatened" in the unit and Functional as playing its ecological roles there):

    * Absent: no mature individuals; Present: at least one;
    * Viable: present and ``mature >= viable_threshold``, and, when ``extinction_risk`` is given,
      the unit's risk ``<= viable_max_risk`` (both must hold);
    * Functional: viable and ``mature >= functional_threshold`` and/or, when
      ``carrying_capacity`` and ``functional_fraction`` are given, ``mature >= functional_fraction *
      K`` (each given condition must hold).

    Parameters
    ----------
    mature : array_like, shape (replicate, year, population)
    viable_threshold : float
        Mature individuals for a viable unit (e.g. the VU D1 threshold, 1,000).
    functional_threshold : float, optional
        Mature individuals for ecological function.
    carrying_capacity : array_like, broadcastable to ``mature``, optional
    functional_fraction : float, optional
        Fraction of carrying capacity for ecological function.
    extinction_risk : array_like, shape of ``mature``, optional
        Each unit's own extinction probability (e.g. over 100 years); NaN gives ``indeterminate``.
    viable_max_risk : float
        Largest extinction risk of a viable unit (0.1: below the VU threshold of criterion E).

    Returns
    -------
    numpy.ndarray of int8
        Codes of :data:`GREEN_STATES`.
    """
    n = _check_counts(mature, "mature", (3,))
    if not (np.isfinite(viable_threshold) and viable_threshold > 0):
        raise ValueError(f"viable_threshold must be finite and > 0; got {viable_threshold!r}")
    if functional_threshold is None and functional_fraction is None:
        raise ValueError(
            "give functional_threshold and/or functional_fraction (with carrying_capacity)"
        )
    if functional_fraction is not None and carrying_capacity is None:
        raise ValueError("functional_fraction needs carrying_capacity")
    viable = n >= viable_threshold
    indeterminate = np.zeros(n.shape, dtype=bool)
    if extinction_risk is not None:
        risk = np.broadcast_to(np.asarray(extinction_risk, dtype=float), n.shape)
        indeterminate = np.isnan(risk) & (n > 0)
        with np.errstate(invalid="ignore"):
            viable &= risk <= viable_max_risk
    functional = viable.copy()
    if functional_threshold is not None:
        functional &= n >= functional_threshold
    if functional_fraction is not None:
        k = np.broadcast_to(
            _check_counts(np.atleast_1d(carrying_capacity), "carrying_capacity", (1, 2, 3)), n.shape
        )
        functional &= n >= functional_fraction * k
    states = np.where(n > 0, np.int8(1), np.int8(0)).astype(np.int8)
    states[viable] = 2
    states[functional] = 3
    states[indeterminate] = -1
    return states


def species_recovery_score(states: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Species Recovery Score (Green Score), percent, over the last (spatial unit) axis.

    ``100 * sum_u W(state_u) / (W_functional * N)``, with weights Absent 0, Present 3, Viable 6,
    Functional 9 (IUCN Green Status standard v2.0; Akçakaya et al. 2018; any proportional scale,
    such as 0-3, gives the same score). Indeterminate units are left out of the numerator and of
    ``N`` (a choice of this package); NaN where every unit is indeterminate.
    """
    s = np.asarray(states)
    if s.ndim < 1 or not np.all(np.isin(s, list(GREEN_STATES.values()))):
        raise ValueError(f"states must hold codes {sorted(GREEN_STATES.values())}")
    w = np.where(s >= 0, 3.0 * s, np.nan)  # absent 0, present 3, viable 6, functional 9
    count = np.sum(s >= 0, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, 100.0 * np.nansum(w, axis=-1) / (9.0 * count), np.nan)


def conservation_metrics(
    current: npt.ArrayLike,
    *,
    without_past_conservation: npt.ArrayLike | None = None,
    future_without_conservation: npt.ArrayLike | None = None,
    future_with_conservation: npt.ArrayLike | None = None,
    long_term_potential: npt.ArrayLike | None = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """The four conservation metrics of the Green Status (Akçakaya et al. 2018, Fig. 1), each the
    difference between a scenario's Green Score and the current Species Recovery Score:

    * Conservation Legacy = current - counterfactual current without past conservation;
    * Conservation Dependence = current - short-term (10-year) future without conservation;
    * Conservation Gain = short-term future with planned conservation - current;
    * Recovery Potential = long-term (100-year) maximum plausible future - current.

    Arguments are Species Recovery Scores (percent) of matching replicates (arrays of the same
    shape, paired through common random numbers); metrics whose scenario is missing are omitted.
    """
    cur = np.asarray(current, dtype=float)
    out: dict[str, npt.NDArray[np.float64]] = {}
    for key, other, sign in (
        ("conservation_legacy", without_past_conservation, 1.0),
        ("conservation_dependence", future_without_conservation, 1.0),
        ("conservation_gain", future_with_conservation, -1.0),
        ("recovery_potential", long_term_potential, -1.0),
    ):
        if other is None:
            continue
        o = np.asarray(other, dtype=float)
        if o.shape != cur.shape:
            raise ValueError(
                f"{key}: scores must have the shape of current {cur.shape}; got {o.shape}"
            )
        out[key] = sign * (cur - o)
    return out


def green_status(
    current: npt.ArrayLike,
    *,
    viable_threshold: float,
    functional_threshold: float | None = None,
    carrying_capacity: npt.ArrayLike | None = None,
    functional_fraction: float | None = None,
    without_past_conservation: npt.ArrayLike | None = None,
    no_action: npt.ArrayLike | None = None,
    action: npt.ArrayLike | None = None,
    potential: npt.ArrayLike | None = None,
    current_year: int = 0,
    short_term: int = 10,
    long_term: int = 100,
) -> xr.Dataset:
    """Green Status of a species from simulated mature individuals per spatial unit and scenario.

    Each argument is mature individuals, shape (replicate, year, population), of one scenario, with
    matching replicates (common random numbers); columns are years from 0. Spatial units are the
    populations (drop padding populations that do not exist before calling). Green Scores
    (:func:`species_recovery_score` of :func:`green_status_states`) are taken at:

    * ``current`` at ``current_year``: the Species Recovery Score (SRS);
    * ``without_past_conservation`` at ``current_year``: the counterfactual present without past
      conservation (Conservation Legacy = SRS - it);
    * ``no_action`` at ``current_year + short_term``: the short-term future without conservation
      (Conservation Dependence = SRS - it);
    * ``action`` at ``current_year + short_term``: the short-term future with planned conservation
      (Conservation Gain = it - SRS);
    * ``potential`` at ``current_year + long_term`` (or its last year if shorter): the long-term
      recovery potential scenario (Recovery Potential = it - SRS).

    Akçakaya et al. (2018) use 10 years for the short term; ``long_term`` is the assessor's horizon.

    Returns
    -------
    xarray.Dataset
        Per replicate: ``species_recovery_score`` and each metric whose scenario was given (in
        Green Score percentage points). Summarise any of them with :func:`rli_summary`.
    """
    state_kwargs: dict[str, Any] = {
        "viable_threshold": viable_threshold,
        "functional_threshold": functional_threshold,
        "carrying_capacity": carrying_capacity,
        "functional_fraction": functional_fraction,
    }

    def score(mature: npt.ArrayLike, field: str, year: int, *, clip: bool = False) -> Any:
        states = green_status_states(mature, **state_kwargs)
        last = states.shape[1] - 1
        if year > last and not clip:
            raise ValueError(f"{field} covers years 0..{last}; year {year} is needed")
        return species_recovery_score(states[:, min(year, last), :])

    for field, v in (
        ("current_year", current_year),
        ("short_term", short_term),
        ("long_term", long_term),
    ):
        if isinstance(v, bool) or int(v) != v or v < 0:
            raise ValueError(f"{field} must be an integer >= 0; got {v!r}")
    srs = score(current, "current", current_year)
    metrics = conservation_metrics(
        srs,
        without_past_conservation=None
        if without_past_conservation is None
        else score(without_past_conservation, "without_past_conservation", current_year),
        future_without_conservation=None
        if no_action is None
        else score(no_action, "no_action", current_year + short_term),
        future_with_conservation=None
        if action is None
        else score(action, "action", current_year + short_term),
        long_term_potential=None
        if potential is None
        else score(potential, "potential", current_year + long_term, clip=True),
    )
    attrs = {"units": "percent"}
    data = {"species_recovery_score": ((names.REPLICATE,), srs, attrs)}
    data.update({k: ((names.REPLICATE,), v, attrs) for k, v in metrics.items()})
    return xr.Dataset(data, coords={names.REPLICATE: np.arange(srs.shape[0])})


# ---------------------------------------------------------------------------------------------------
# Dataset-level convenience


def assess(
    results: xr.Dataset,
    *,
    criterion_a: CriterionA | Iterable[CriterionA] = "A3",
    settings: RedListSettings | None = None,
    weights: Mapping[str, float] | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """Classify every species and scenario of a results Dataset and compute the RLI.

    Parameters
    ----------
    results : xarray.Dataset
        With ``mature_abundance`` (species, scenario, replicate, year[, population]) and
        ``generation_length`` (species, years), as ``pva run`` writes; or the Dataset of
        :func:`pva.simulate`, whose generation length is read from its species specification
        (``attrs["spec"]``). A ``generation_length=`` keyword (years) overrides both.
        ``total_abundance``, when present, makes EX need no
        individuals at all. Optional per-species variables ``locations``,
        ``plausible_threat``, ``eoo``, ``aoo`` and ``severely_fragmented`` are passed on to
        :func:`classify` (NaN or missing: not given). Missing ``species`` or ``scenario`` dims are
        treated as length one. An optional ``extinction_risk`` (species, scenario, replicate, year,
        window) with windows "CR", "EN", "VU" (nested simulations, see :mod:`pva.nested` and the
        study file's ``[outputs.red_list_e]``) is passed as ``extinction_probability`` with
        ``partial_extinction_probability=True`` (unless ``extinction_probability`` is given): E is
        evaluated from it at the years it covers and as without it at the others.
    criterion_a, settings
        As in :func:`classify`; other keyword arguments go to :func:`classify` for every species.
    weights : mapping, optional
        RLI weights (:func:`red_list_index`).

    Returns
    -------
    xarray.Dataset
        ``category`` (species, scenario, replicate, year) int8 with CF flag attributes,
        ``criteria`` strings, ``complete`` and ``red_list_index`` (scenario, replicate, year).
    """
    if names.MATURE not in results:
        raise ValueError(
            f"results must hold {names.MATURE!r}; got variables {list(results.data_vars)}"
        )
    given_gl = kwargs.pop("generation_length", None)
    if given_gl is not None:
        gl_source: xr.DataArray = xr.DataArray(_check_generation_length(given_gl))
    elif names.GENERATION_LENGTH in results:
        gl_source = results[names.GENERATION_LENGTH]
    else:
        # The Dataset of pva.simulate has no generation_length variable, but its species
        # specification (attrs["spec"]) holds the one the Species computed or was given.
        try:
            spec_gl = json.loads(results.attrs[names.ATTR_SPEC])["species"]["generation_length"]
        except (KeyError, TypeError, ValueError):
            spec_gl = None
        if spec_gl is None:
            raise ValueError(
                f"results must hold {names.GENERATION_LENGTH!r} (species), or pass "
                "generation_length= (years)"
            )
        gl_source = xr.DataArray(_check_generation_length(spec_gl))
    mature = results[names.MATURE]
    for dim in (names.SPECIES, names.SCENARIO):
        if dim not in mature.dims:
            mature = mature.expand_dims(dim)
    order = [names.SPECIES, names.SCENARIO, names.REPLICATE, names.YEAR]
    if names.POPULATION in mature.dims:
        order.append(names.POPULATION)
    extra = set(mature.dims) - set(order)
    if extra:
        raise ValueError(f"{names.MATURE} has unexpected dims {sorted(extra)}")
    mature = mature.transpose(*order)
    total = None
    if names.TOTAL in results:
        # EX needs no individuals at all, immatures included (see classify)
        total = results[names.TOTAL]
        if names.POPULATION in total.dims:
            total = total.sum(names.POPULATION)
        for dim in (names.SPECIES, names.SCENARIO):
            if dim not in total.dims:
                total = total.expand_dims(dim)
        total = total.transpose(*order[:4])
    gl = gl_source
    if names.SPECIES not in gl.dims:
        gl = gl.expand_dims({names.SPECIES: mature.sizes[names.SPECIES]})
    years = np.asarray(mature[names.YEAR].values) if names.YEAR in mature.coords else None
    years_before = int(-years.min()) if years is not None and years.min() < 0 else 0

    risk = None
    if EXTINCTION_RISK in results and "extinction_probability" not in kwargs:
        risk = results[EXTINCTION_RISK]
        for dim in (names.SPECIES, names.SCENARIO):
            if dim not in risk.dims:
                risk = risk.expand_dims(dim)
        if set(risk.dims) != {*order[:4], E_WINDOW}:
            raise ValueError(
                f"{EXTINCTION_RISK} must have dims {(*order[:4], E_WINDOW)}; got {risk.dims}"
            )
        risk = risk.transpose(*order[:4], E_WINDOW).sel({E_WINDOW: list(E_WINDOWS)})
        if names.YEAR in mature.coords and names.YEAR in risk.coords:
            risk = risk.reindex({names.YEAR: mature[names.YEAR].values})

    ns, nsc, nr, ny = (mature.sizes[d] for d in order[:4])
    category = np.empty((ns, nsc, nr, ny), dtype=np.int8)
    criteria = np.empty((ns, nsc, nr, ny), dtype=object)
    complete = np.empty((ns, nsc, nr, ny), dtype=bool)
    notes: set[str] = set()
    optional = ("locations", "plausible_threat", "eoo", "aoo", "severely_fragmented")
    for i in range(ns):
        per_species: dict[str, Any] = {}
        for key in optional:
            if key in results and names.SPECIES in results[key].dims:
                v = results[key].isel({names.SPECIES: i}).item()
                if v is not None and not (isinstance(v, float) and np.isnan(v)):
                    per_species[key] = (
                        int(v)
                        if key == "locations"
                        else (
                            bool(v)
                            if key in ("plausible_threat", "severely_fragmented")
                            else float(v)
                        )
                    )
        for j in range(nsc):
            nested: dict[str, Any] = {}
            if risk is not None:
                nested = {
                    "extinction_probability": risk.isel(
                        {names.SPECIES: i, names.SCENARIO: j}
                    ).values,
                    "partial_extinction_probability": True,
                }
            c = classify(
                mature.isel({names.SPECIES: i, names.SCENARIO: j}).values,
                total=None
                if total is None
                else total.isel({names.SPECIES: i, names.SCENARIO: j}).values,
                generation_length=float(gl.isel({names.SPECIES: i}).item()),
                years_before=years_before,
                criterion_a=criterion_a,
                settings=settings,
                **per_species,
                **nested,
                **kwargs,
            )
            category[i, j] = c.category
            criteria[i, j] = c.criteria
            complete[i, j] = c.complete
            notes.update(c.notes)
    coords = {d: mature[d] for d in order[:4] if d in mature.coords}
    dims4 = tuple(order[:4])
    out = xr.Dataset(
        {
            names.CATEGORY: (dims4, category, _category_attrs()),
            names.CRITERIA: (dims4, criteria.astype(str), {"long_name": "Red List criteria met"}),
            "complete": (dims4, complete, {"long_name": "every evaluated criterion was evaluable"}),
        },
        coords=coords,
        attrs={"notes": "; ".join(sorted(notes))},
    )
    out[names.RLI] = rli_by_replicate(out[names.CATEGORY], weights=weights)
    return out
