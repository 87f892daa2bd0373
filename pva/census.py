"""Red List assessment of observed data: a census series of mature individuals, classified under the
IUCN criteria without a simulation (GSAP 4.1: assess every species).

A :class:`Census` is a series of counts of mature individuals by year, each a best estimate and
optionally a plausible range (low, high). :func:`assess_census` classifies it at its last year with
:func:`pva.redlist.classify_range` (the criteria and their thresholds live in :mod:`pva.redlist`;
nothing here repeats them): the category and the criteria met with every input at its best value,
and the plausible range of categories over the counts' ranges and the ranges of generation
length, EOO, AOO and locations (Akçakaya et al. 2000; IUCN Guidelines section 3.2).

What an observed series can and cannot show
-------------------------------------------
The assessor stands at the last census year. The series gives the past: the reductions of A1 and
A2 over the window that ends there (the longer of 10 years or 3 generations), past C1 rates and
the continuing decline of B and C (a significant log-linear trend over the recent window, or the
assessor's own statement), the extreme fluctuations of B(c) and C2b, and the size of C and D.
Projected reductions (A3, the future part of A4, projected C1) and criterion E need projections of
the future, a PVA: they are reported as not evaluated. Without EOO and AOO, B is not evaluated;
without locations or AOO, VU D2 is not.

Censuses need not be annual: between two counts the number of mature individuals is interpolated
as exponential change, ``N(t) = N(a) (N(b)/N(a))^((t - a)/(b - a))`` (linear where a count is 0),
the pattern the Guidelines assume for a reduction when none is known (Guidelines section 4.5.1,
"exponential decline"), and the interpolated years are listed in the result. A reduction whose
window starts before the first census is not evaluable.

References
----------
IUCN (2012) IUCN Red List Categories and Criteria, Version 3.1, second edition. Gland: IUCN.
IUCN Standards and Petitions Committee (2024) Guidelines for Using the IUCN Red List Categories and
Criteria, Version 16 ("Guidelines").
Akçakaya H.R. et al. (2000) Making consistent IUCN classifications under uncertainty. Conservation
Biology 14: 1001-1013.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from pva import validation
from pva.redlist import (
    DEFAULT_CRITERION_A,
    NE,
    NOT_EVALUABLE,
    CriterionA,
    RedListSettings,
    category_name,
    classify_range,
)

FloatArray = npt.NDArray[np.float64]

YEAR_COLUMN = "year"
"""Header of the year column of a census file."""
BEST_COLUMNS = ("mature", "best")
"""Headers accepted for the count (or best estimate) of mature individuals."""
RANGE_COLUMNS = ("low", "high")
"""Headers of the lower and upper plausible counts (both or neither)."""

LEVEL_LABELS = {
    0: "not met",
    1: "NT",
    2: "VU",
    3: "EN",
    4: "CR",
    NE: "not evaluated",
    NOT_EVALUABLE: "not evaluable",
}
"""How the level of a sub-criterion reads (:attr:`pva.redlist.Classification.levels`)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Census:
    """Counts of mature individuals by year (IUCN 2012 "mature individuals"; Guidelines 4.3)."""

    years: tuple[int, ...]
    """Census years, strictly increasing."""
    mature: tuple[float, ...]
    """Mature individuals (the best estimate) in each census year, >= 0."""
    low: tuple[float, ...] | None = None
    """Lowest plausible count in each census year (with ``high``), <= ``mature``."""
    high: tuple[float, ...] | None = None
    """Highest plausible count in each census year (with ``low``), >= ``mature``."""

    def __post_init__(self) -> None:
        own = "Census"
        years = validation.integers(self.years, "years", owner=own, increasing=True)
        if not years:
            raise ValueError(f"{own}: years must list at least one census year; got {self.years!r}")
        object.__setattr__(self, "years", years)
        counts = validation.numbers(self.mature, "mature", owner=own, low=0)
        if len(counts) != len(years):
            raise ValueError(
                f"{own}: mature must hold one count per year ({len(years)}); got {len(counts)}"
            )
        object.__setattr__(self, "mature", counts)
        if (self.low is None) != (self.high is None):
            raise ValueError(
                f"{own}: give both low and high (a plausible range) or neither; got "
                f"low={self.low!r}, high={self.high!r}"
            )
        if self.low is None:
            return
        for field in RANGE_COLUMNS:
            values = validation.numbers(getattr(self, field), field, owner=own, low=0)
            if len(values) != len(years):
                raise ValueError(
                    f"{own}: {field} must hold one count per year ({len(years)}); got {len(values)}"
                )
            object.__setattr__(self, field, values)
        for year, lo, best, hi in zip(years, self.low, counts, self.high, strict=True):
            if not lo <= best <= hi:
                raise ValueError(
                    f"{own}: each year needs low <= mature <= high; got {lo!r}, {best!r}, {hi!r} "
                    f"in {year}"
                )

    @property
    def has_range(self) -> bool:
        """Whether the counts come with a plausible range."""
        return self.low is not None


def parse_census(
    rows: Sequence[Sequence[str]], *, where: str = "census", column: str | None = None
) -> Census:
    """A :class:`Census` from the rows of a CSV table (header first).

    Columns (case-insensitive, in any order): ``year`` and ``mature`` (or ``best``), optionally
    ``low`` and ``high`` (a plausible range for each count). ``column`` names another column that
    holds the counts (e.g. ``"N"``); other columns are then ignored. Blank lines are skipped.

    Raises
    ------
    ValueError
        Naming ``where``, the line and the cell for a missing column, an unknown column, an empty or
        non-numeric cell, a year that is not a whole number; :class:`Census`'s rules otherwise.
    """
    rows = [list(r) for r in rows if any(str(c).strip() for c in r)]
    if not rows:
        raise ValueError(f"{where}: the table is empty (expected a header 'year,mature')")
    header = [str(c).strip().lower() for c in rows[0]]
    if column is not None:
        chosen = str(column).strip().lower()
        if chosen not in header or YEAR_COLUMN not in header:
            raise ValueError(
                f"{where}: the header needs a 'year' column and the column {column!r}; "
                f"got {rows[0]!r}"
            )
        keep = [header.index(YEAR_COLUMN), header.index(chosen)]
        rows = [[r[i] if i < len(r) else "" for i in keep] for r in rows]
        header = [YEAR_COLUMN, BEST_COLUMNS[0]]
    allowed = (YEAR_COLUMN, *BEST_COLUMNS, *RANGE_COLUMNS)
    unknown = [h for h in header if h not in allowed]
    if unknown or len(set(header)) != len(header):
        raise ValueError(
            f"{where}: the header must name the columns year, mature (or best) and optionally "
            f"low and high, once each; got {rows[0]!r}"
        )
    best = [h for h in header if h in BEST_COLUMNS]
    if YEAR_COLUMN not in header or len(best) != 1:
        raise ValueError(
            f"{where}: the header needs a 'year' column and one 'mature' (or 'best') column; "
            f"got {rows[0]!r}"
        )
    columns: dict[str, list[float]] = {h: [] for h in header}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{where}: line {line} has {len(row)} fields; the header has {len(header)}"
            )
        for h, cell in zip(header, row, strict=True):
            columns[h].append(_number(cell, f"{where}: line {line}, column {h!r}"))
    if len(rows) < 2:
        raise ValueError(f"{where}: no census rows below the header")
    years = []
    for line, y in enumerate(columns[YEAR_COLUMN], start=2):
        if y != int(y):
            raise ValueError(f"{where}: line {line}, column 'year' must be a whole year; got {y!r}")
        years.append(int(y))
    ranged = {f: tuple(columns[f]) for f in RANGE_COLUMNS if f in columns}
    try:
        return Census(years=tuple(years), mature=tuple(columns[best[0]]), **ranged)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _number(cell: object, where: str) -> float:
    text = str(cell).strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where} must be a number; got {text!r}") from None
    if not np.isfinite(value):
        raise ValueError(f"{where} must be a finite number; got {text!r}")
    return value


def annual_counts(census: Census) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray | None]:
    """Every year from the first census to the last, with its count interpolated between censuses.

    Returns
    -------
    years : ndarray of int, shape (n,)
    counts : ndarray, shape (3, n) or (1, n)
        Best estimate, or (low, best, high) with a plausible range, each interpolated by
        exponential change between two censuses (linear where one of the two counts is 0; see the
        module docstring).
    interpolated : ndarray of bool, shape (n,), or None
        Which years were interpolated (None: the census was annual).
    """
    known = np.asarray(census.years, dtype=np.int64)
    years = np.arange(known[0], known[-1] + 1, dtype=np.int64)
    series = [census.mature] if not census.has_range else [census.low, census.mature, census.high]
    counts = np.array([_interpolate(known, np.asarray(s, dtype=float), years) for s in series])
    gaps = ~np.isin(years, known)
    return years, counts, gaps if gaps.any() else None


def _interpolate(known: npt.NDArray[np.int64], values: FloatArray, years: npt.NDArray[np.int64]):
    """Exponential change between consecutive censuses (linear where one count is 0)."""
    out = np.empty(years.size)
    for a, b, va, vb in zip(known[:-1], known[1:], values[:-1], values[1:], strict=True):
        t = (years[(years >= a) & (years <= b)] - a) / (b - a)
        where = (years >= a) & (years <= b)
        out[where] = va * (vb / va) ** t if va > 0 and vb > 0 else va + (vb - va) * t
    out[years == known[-1]] = values[-1]
    if known.size == 1:
        out[:] = values[0]
    return out


Triple = float | tuple[float, float, float]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ObservedAssessment:
    """The Red List classification of a census series at its last year."""

    year: int
    """The year assessed (the last census)."""
    category: str
    """Category with every input at its best value ("LC" .. "EX")."""
    criteria: str
    """The category and the criteria that give it, IUCN style ("CR A2a", "EN A2a; C1", "LC")."""
    lower: str
    """Lowest plausible category over the inputs' ranges (the best one without ranges)."""
    upper: str
    """Highest plausible category over the inputs' ranges."""
    levels: tuple[tuple[str, str], ...]
    """Each sub-criterion (:data:`pva.redlist.CRITERIA`) and the level it met ("CR", "not met",
    "not evaluated", "not evaluable"), with every input at its best value."""
    not_evaluated: tuple[str, ...]
    """Sub-criteria asked for that could not be evaluated (the category is a lower bound when some
    could not)."""
    complete: bool
    """True where every evaluated criterion could be evaluated."""
    generation_length: tuple[float, float, float]
    """(min, best, max) generation length in years."""
    first_year: int
    """The first census year."""
    censuses: int
    """Number of census years."""
    interpolated: tuple[int, ...]
    """Years between censuses whose counts were interpolated."""
    notes: tuple[str, ...]
    """What the classification could not read and why."""

    def to_dict(self) -> dict[str, Any]:
        """A plain (JSON-ready) dict: ``category``, ``criteria``, ``range`` (``lower``, ``upper``),
        ``levels`` (sub-criterion -> level), ``not_evaluated``, ``complete``, the census and the
        generation length."""
        return {
            "year": self.year,
            "category": self.category,
            "criteria": self.criteria,
            "range": {"lower": self.lower, "upper": self.upper},
            "levels": dict(self.levels),
            "not_evaluated": list(self.not_evaluated),
            "complete": self.complete,
            "generation_length": dict(
                zip(("min", "best", "max"), self.generation_length, strict=True)
            ),
            "census": {
                "first_year": self.first_year,
                "last_year": self.year,
                "censuses": self.censuses,
                "interpolated": list(self.interpolated),
            },
            "notes": list(self.notes),
        }


def assess_census(
    census: Census,
    *,
    generation_length: Triple,
    eoo: Triple | None = None,
    aoo: Triple | None = None,
    locations: int | tuple[int, int, int] | None = None,
    severely_fragmented: bool = False,
    plausible_threat: bool = False,
    continuing_decline: bool | None = None,
    criterion_a: CriterionA | Iterable[CriterionA] = DEFAULT_CRITERION_A,
    settings: RedListSettings | None = None,
) -> ObservedAssessment:
    """Classify a census series at its last year under IUCN criteria A to E, with the plausible
    range of categories under the stated uncertainty.

    Parameters
    ----------
    census : Census
        Mature individuals by year; with ``low``/``high``, the range propagates to the category
        range.
    generation_length : float or (min, best, max)
        Generation length in years (Guidelines 4.4).
    eoo, aoo : float or (min, best, max), optional
        Extent of occurrence and area of occupancy in km² (B1, B2; AOO also VU D2).
    locations : int or (min, best, max), optional
        Number of locations (Guidelines 4.11) for B(a) and VU D2.
    severely_fragmented, plausible_threat : bool
        B(a) severe fragmentation; a plausible threat for VU D2.
    continuing_decline : bool, optional
        The assessor's statement of a continuing decline (B, C); default: a significant
        log-linear trend of the census over the recent window (:class:`RedListSettings`).
    criterion_a, settings
        As in :func:`pva.redlist.classify` (default A2, A3, A4: A3 and A4 need projections and are
        then reported as not evaluated).

    Returns
    -------
    ObservedAssessment

    Examples
    --------
    >>> c = Census(years=tuple(range(2000, 2011)), mature=(1000.0,) * 10 + (200.0,))
    >>> a = assess_census(c, generation_length=2.0, criterion_a="A2")
    >>> a.criteria
    'CR A2a'
    """
    if not isinstance(census, Census):
        raise TypeError(f"census must be a Census; got {census!r}")
    years, counts, gaps = annual_counts(census)
    best = counts[1 if census.has_range else 0][None, :]
    bounds = (counts[0][None, :], counts[2][None, :]) if census.has_range else None
    g = _triple(generation_length, "generation_length")
    cols = years.size
    kwargs: dict[str, Any] = {
        "years_before": cols - 1,  # the assessor stands at the last census
        "ensemble_at_start": False,  # one observed past, not an ensemble of projected futures
        "severely_fragmented": severely_fragmented,
        "plausible_threat": plausible_threat,
        "criterion_a": criterion_a,
        "settings": settings,
    }
    if continuing_decline is not None:
        kwargs["continuing_decline"] = validation.flag(continuing_decline, "continuing_decline")
    ranged = classify_range(
        best,
        generation_length=g if g[0] != g[2] else g[1],
        eoo=eoo,
        aoo=aoo,
        locations=locations,
        mature_bounds=bounds,
        **kwargs,
    )
    c = ranged.best
    level_codes = c.levels[0, -1]
    levels = tuple(
        (name, LEVEL_LABELS.get(int(code), str(code)))
        for name, code in zip(c.criterion_names, level_codes, strict=True)
    )
    missing = str(c.not_evaluated[0, -1])
    # the classifier's notes on replicates and year 0 are about simulated ensembles
    notes = [n for n in c.notes if "replicates" not in n and "year 0" not in n]
    if any(n in missing for n in ("A3", "A4", "E")):
        notes.append(
            "A3, A4, projected C1 and E need projections of the future (a PVA: pva run); an "
            "observed series shows the past only"
        )
    return ObservedAssessment(
        year=int(years[-1]),
        category=category_name(int(c.category[0, -1])),
        criteria=str(c.criteria[0, -1]),
        lower=category_name(int(ranged.lower[0, -1])),
        upper=category_name(int(ranged.upper[0, -1])),
        levels=levels,
        not_evaluated=tuple(s.strip() for s in missing.split(",") if s.strip()),
        complete=bool(c.complete[0, -1]),
        generation_length=g,
        first_year=int(years[0]),
        censuses=len(census.years),
        interpolated=() if gaps is None else tuple(int(y) for y in years[gaps]),
        notes=tuple(notes),
    )


def _triple(value: Triple, field: str) -> tuple[float, float, float]:
    """``value`` as (min, best, max) floats, min <= best <= max."""
    if isinstance(value, tuple | list):
        if len(value) != 3:
            raise ValueError(f"{field} must be a number or (min, best, max); got {value!r}")
        lo, best, hi = (validation.number(v, field, low=0, low_open=True) for v in value)
        if not lo <= best <= hi:
            raise ValueError(f"{field} range must satisfy min <= best <= max; got {value!r}")
        return lo, best, hi
    v = validation.number(value, field, low=0, low_open=True)
    return v, v, v


__all__ = [
    "Census",
    "ObservedAssessment",
    "annual_counts",
    "assess_census",
    "parse_census",
]
