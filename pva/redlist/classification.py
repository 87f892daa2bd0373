"""Classification of each replicate at each year: the criteria combined into a category.

:func:`classify` validates its inputs, evaluates each criterion of :mod:`pva.redlist.criteria` and
combines their levels: the category is the highest level met by any criterion (IUCN 2012, Preamble;
Guidelines 2.3). :func:`classify_range` classifies under uncertain inputs (Akçakaya et al. 2000).

References
----------
IUCN (2012) IUCN Red List Categories and Criteria, Version 3.1, second edition. Gland: IUCN.
IUCN Standards and Petitions Committee (2024) Guidelines for Using the IUCN Red List Categories and
Criteria, Version 16 (cited as "Guidelines" with section numbers).
Akçakaya H.R. et al. (2000) Making consistent IUCN classifications under uncertainty. Conservation
Biology 14: 1001-1013 (ranges of categories, as in RAMAS Red List).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import results as names
from pva.redlist import criteria as crit
from pva.redlist.categories import (
    EW,
    EX,
    LC,
    NE,
    NOT_EVALUABLE,
    NT,
    VU,
    category_attrs,
    category_name,
)
from pva.redlist.criteria import CRITERIA, CriterionLevels, Trajectories
from pva.redlist.inputs import check_counts, check_generation_length, parse_criterion_a
from pva.redlist.settings import CriterionA, RedListSettings

_IDX = {c: i for i, c in enumerate(CRITERIA)}


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
        ds[names.CATEGORY].attrs.update(category_attrs())
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
    g = check_generation_length(generation_length)
    m3 = check_counts(mature, "mature", (2, 3))
    n = m3.sum(axis=2) if m3.ndim == 3 else m3
    reps, cols = n.shape
    if isinstance(years_before, bool) or int(years_before) != years_before or years_before < 0:
        raise ValueError(f"years_before must be an integer >= 0; got {years_before!r}")
    if years_before >= cols:
        raise ValueError(f"years_before={years_before!r} leaves no year 0 in {cols} columns")
    i0 = int(years_before)
    chosen_a = parse_criterion_a(criterion_a)
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
        subs = check_counts(subpopulation_mature, "subpopulation_mature", (3,))
        if subs.shape[:2] != (reps, cols):
            raise ValueError(
                f"subpopulation_mature must have shape ({reps}, {cols}, population); got {subs.shape}"
            )
    tot = None
    if total is not None:
        tot = check_counts(total, "total", (2,))
        if tot.shape != n.shape:
            raise ValueError(f"total must have the shape of mature {n.shape}; got {tot.shape}")

    t = Trajectories(
        mature=n, subpopulations=subs, generation_length=g, year0=i0, settings=settings
    )
    evaluated = set(settings.criteria)
    results: list[CriterionLevels] = []
    tr = crit.trend(t) if evaluated & {"B", "C"} else None
    if "A" in evaluated:
        results.append(crit.criterion_a(t, chosen_a))
    if "B" in evaluated and tr is not None:
        results.append(
            crit.criterion_b(
                t,
                tr,
                eoo=eoo,
                aoo=aoo,
                locations=locations,
                severely_fragmented=bool(severely_fragmented),
            )
        )
    if "C" in evaluated and tr is not None:
        results.append(crit.criterion_c(t, tr))
    if "D" in evaluated:
        results.append(
            crit.criterion_d(
                t, locations=locations, aoo=aoo, plausible_threat=bool(plausible_threat)
            )
        )
    if "E" in evaluated:
        results.append(crit.criterion_e(t, extinction_probability, partial_extinction_probability))
    return _combine(results, n, tot, i0, settings)


def _combine(
    results: list[CriterionLevels],
    n: npt.NDArray[np.float64],
    tot: npt.NDArray[np.float64] | None,
    i0: int,
    settings: RedListSettings,
) -> Classification:
    """The category: the highest level met by any sub-criterion; EX where nobody is left."""
    reps, cols = n.shape
    levels = np.full((reps, cols, len(CRITERIA)), np.int8(NE), dtype=np.int8)
    incomplete = np.zeros((reps, cols), dtype=bool)
    notes: list[str] = []
    for result in results:
        for sub, (lv, inc) in result.levels.items():
            levels[:, :, _IDX[sub]] = lv
            incomplete |= inc
        notes.extend(result.notes)
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
