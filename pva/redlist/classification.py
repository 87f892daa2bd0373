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
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import results as names
from pva import validation
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
from pva.redlist.windows import MAX_FUTURE, years_window

_IDX = {c: i for i, c in enumerate(CRITERIA)}

DEFAULT_CRITERION_A: tuple[CriterionA, ...] = ("A2", "A3", "A4")
"""Sub-criteria of A applied by default (A1 needs the assessor's judgement that the causes of the
reduction are reversible, understood and ceased)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Classification:
    """Red List classification of each replicate at each assessment year.

    Arrays are indexed ``(replicate, year)``; ``years[j]`` is the year of column ``j``.
    """

    category: npt.NDArray[np.int8]
    """Category code (replicate, year); see :mod:`pva.redlist.categories`. LC where no criterion
    that could be evaluated is met at NT or above; ``NOT_EVALUABLE`` where no criterion could be
    evaluated (or, with ``lc_rule="all"``, where nothing is met and some criterion could not be).
    When some criteria were not evaluable the category is a lower bound: see :attr:`complete` and
    :attr:`not_evaluated`."""
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
    requested: tuple[str, ...] = CRITERIA
    """Sub-criteria asked for (the settings' criteria and ``criterion_a``)."""

    @property
    def not_evaluated(self) -> npt.NDArray[np.str_]:
        """Sub-criteria asked for that could not be evaluated at each (replicate, year), e.g.
        ``"A3, A4, E"`` (their level is ``NE`` or ``NOT_EVALUABLE``); ``""`` if none."""
        asked = np.array([c in self.requested for c in self.criterion_names])
        missing = (self.levels < 0) & asked
        reps, cols, k = missing.shape
        flat = missing.reshape(-1, k)
        keys = flat.astype(np.int64) @ (2 ** np.arange(k, dtype=np.int64))
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        names_k = np.array(self.criterion_names)
        texts = np.array([", ".join(names_k[flat[i]]) for i in first], dtype=np.str_)
        return texts[inverse.reshape(-1)].reshape(reps, cols)

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
                "not_evaluated": ((names.REPLICATE, names.YEAR), self.not_evaluated),
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
    """Lowest evaluated category over the uncertain inputs' intervals (replicate, year)."""
    upper: npt.NDArray[np.int8]
    """Highest evaluated category over the uncertain inputs' intervals (replicate, year)."""


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
    criterion_a: CriterionA | Iterable[CriterionA] = DEFAULT_CRITERION_A,
    eoo: float | None = None,
    aoo: float | None = None,
    severely_fragmented: bool = False,
    total: npt.ArrayLike | None = None,
    settings: RedListSettings | None = None,
    projected_mature: npt.ArrayLike | None = None,
    continuing_decline: bool | npt.ArrayLike | None = None,
    ensemble_at_start: bool = True,
    years: Sequence[int] | None = None,
) -> Classification:
    """Classify each replicate at each year under IUCN Red List criteria A to E, with only what an
    assessor at that year could know.

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
        past windows (A1, A2, A4, C1, continuing decline) reach before year 0.
    subpopulation_mature : array_like, shape (replicate, year, population), optional
        Mature individuals by subpopulation for C2a when ``mature`` is 2-D; without either, C2a is
        not evaluated (``NE``).
    locations : int, optional
        Number of locations (Guidelines 4.11) for B(a) and VU D2; None: not given.
    plausible_threat : bool
        Whether a plausible threat could drive the taxon to CR or EX in a very short time (VU D2,
        Guidelines section 8).
    extinction_probability : array_like, shape (replicate, year, 3), optional
        Probability of extinction within the CR, EN and VU windows of criterion E, projected from
        the state of each replicate at each year (e.g. a nested simulation, :mod:`pva.nested`); NaN
        for unknown. Without it E is evaluated at year 0 only, from the replicates (see
        ``ensemble_at_start``), and is ``NE`` at every other year.
    partial_extinction_probability : bool
        If True, a year whose ``extinction_probability`` is NaN for every replicate and window
        counts as not assessed rather than unknown: E there is treated as without
        ``extinction_probability``. For nested simulations run at a few assessment years.
    criterion_a : {"A1", "A2", "A3", "A4"} or a sequence of them
        Sub-criteria of A to apply (IUCN 2012; default A2, A3 and A4: A1 needs causes that are
        "clearly reversible AND understood AND ceased", an assessor's judgement). A1 and A2 on the
        window ending at the assessment year (never capped: 3 G = 120 years looks back 120 years),
        A1 with thresholds 90/70/50%; A3 on the projection from the assessment year (capped at
        100 years); A4 on every window of the same length that contains the assessment year
        strictly inside, its past observed and its future (at most 100 years) projected (the worst
        is taken). Thresholds 80/50/30% for A2-A4.
    eoo, aoo : float, optional
        Extent of occurrence and area of occupancy (km²) for B1 and B2; without both, B is ``NE``.
        ``aoo`` also serves VU D2 (restricted AOO, ``settings.d2_max_aoo``); D2 is ``NE`` without
        both ``locations`` and ``aoo`` and is judged on whichever of them is given.
    severely_fragmented : bool
        B(a): the population is severely fragmented (Guidelines 4.8).
    total : array_like, shape (replicate, year), optional
        All individuals. Extinction is no individuals at all: EX, and criterion E's event (with
        ``settings.quasi_extinction``), read ``total``; without it, mature individuals.
    settings : RedListSettings, optional
        Documented choices (reduction method, NT margins, continuing decline, ...).
    projected_mature : array_like, shape (replicate, year, lead), optional
        Expected mature individuals ``lead`` years (0, 1, ...) after each assessment year,
        projected from the state of that replicate there (e.g. the mean of a nested simulation's
        inner futures, with ``settings.projection_statistic``); lead 0 is the state itself; NaN
        where not projected. Leads beyond 100 are ignored (the 100-year cap on the future part).
        A3, A4 and projected C1 read it; where no projection is known they are ``NE``.
    continuing_decline : bool or array_like of bool, shape (replicate, year), optional
        Whether a continuing decline (C1, C2, B b(v)) holds at each assessment year, as the user
        knows it (e.g. an inferred decline of habitat); default: tested on the trajectory (see
        :attr:`RedListSettings.decline_alpha`).
    ensemble_at_start : bool
        Whether the replicates are futures projected from one common state at year 0 (as the
        replicates of a ``pva run``), so that at year 0 their ensemble is the projection: E reads
        the fraction of replicates extinct within each window, and A3, A4 and projected C1 read
        the trajectory of ``settings.projection_statistic`` over replicates (where
        ``projected_mature`` does not give year 0). Used only where every replicate holds the same
        numbers at year 0 (mature, by subpopulation and in total).
    years : sequence of int, optional
        The assessment years (``-years_before .. T``, distinct): the categories are computed at
        these years only, each exactly as it is among every year's (the criteria at a year read
        nothing of the other assessments), at a fraction of the cost for a few years. Default:
        every year.

    Returns
    -------
    Classification
        Category codes, the level of each sub-criterion, IUCN-style criteria strings and the
        sub-criteria that could not be evaluated.

    Notes
    -----
    **What "known at t" means.** The category of replicate ``r`` at year ``t`` reads (i) that
    replicate's trajectory up to and including ``t`` (and the ``years_before`` history): A1, A2,
    past C1 and its continuing decline, the C2 and B decline and fluctuations, D and EX; (ii) the
    fixed attributes (generation length, EOO, AOO, locations, fragmentation, threat); and (iii)
    projections from its state at ``t``: ``projected_mature`` (A3, A4's future part, projected C1)
    and ``extinction_probability`` (E), plus, at year 0 only, the replicates' ensemble (they are
    the projection from the common starting state). It never reads the replicate's own columns
    after ``t``: its realised future is one draw, not what an assessor at ``t`` can know.

    A condition is "met" as soon as the data show it; it is "not met" only when the whole window it
    needs lies within the data; otherwise it is ``NOT_EVALUABLE`` for that year. The category is the
    highest level met by any criterion (IUCN 2012, Preamble; Guidelines 2.3); with the default
    ``settings.lc_rule="any"`` it is LC where no criterion that could be evaluated is met at NT or
    above, and :attr:`Classification.not_evaluated` lists the others. It is a lower bound where
    :attr:`Classification.complete` is False; EX when no individuals remain.
    For E, extinctions seen before the end of a window the run does not cover, or a probability
    given for a shorter (nested) window, bound the probability of that window from below: E is met
    when the bound reaches the threshold and not evaluable otherwise.
    Near Threatened is given when a near-threshold rule met (Guidelines section 10.1 and its
    examples): a reduction within ``nt_reduction_margin`` of the VU threshold of A; a C1 VU rate,
    or a C2a(ii)/C2b structure at the VU level with a continuing decline, with at most
    ``(1 + nt_size_margin)`` x 10,000; fewer than 10,000 declining with the largest subpopulation at
    most ``(1 + nt_size_margin)`` x 1,000 (C2a(i)); at most ``(1 + nt_size_margin)`` x 1,000 mature
    individuals (D1); the B area thresholds for VU met with a continuing decline but fewer than two
    of B(a)-(c).

    Examples
    --------
    >>> import numpy as np
    >>> n = np.array([[1000.0] * 10 + [200.0]])   # 80% reduction over 10 years
    >>> c = classify(n, generation_length=2.0, criterion_a="A2")
    >>> str(c.criteria[0, -1])
    'CR A2a'
    """
    settings = RedListSettings() if settings is None else settings
    if not isinstance(settings, RedListSettings):
        raise TypeError(f"settings must be a RedListSettings; got {type(settings).__name__}")
    g = check_generation_length(generation_length)
    n, subs, tot = _counts(mature, subpopulation_mature, total)
    reps, cols = n.shape
    i0 = _year0(years_before, cols)
    chosen_a = parse_criterion_a(criterion_a)
    _check_attributes(
        locations=locations,
        eoo=eoo,
        aoo=aoo,
        plausible_threat=plausible_threat,
        severely_fragmented=severely_fragmented,
        ensemble_at_start=ensemble_at_start,
    )
    columns = _assessment_columns(years, i0, cols)
    given = _at(columns, _check_projection(projected_mature, (reps, cols)))
    common = bool(ensemble_at_start) and _common_start(n, tot, subs, i0)
    t = Trajectories(
        mature=n,
        subpopulations=subs,
        total=n if tot is None else tot,
        generation_length=g,
        year0=i0,
        settings=settings,
        projected=_with_ensemble(given, n, i0, settings, columns) if common else given,
        declining=_at(columns, _check_decline_flag(continuing_decline, (reps, cols))),
        ensemble_start=common,
        columns=columns,
    )
    results = _evaluate(
        t,
        chosen_a,
        eoo=eoo,
        aoo=aoo,
        locations=locations,
        severely_fragmented=bool(severely_fragmented),
        plausible_threat=bool(plausible_threat),
        extinction_probability=_at(
            columns, _check_probability_shape(extinction_probability, (reps, cols))
        ),
        partial_extinction_probability=partial_extinction_probability,
    )
    if bool(ensemble_at_start) and not common:
        results.append(
            CriterionLevels(
                {},
                (
                    "the replicates differ at year 0, so their ensemble is not a projection:"
                    " A3, A4, projected C1 and E at year 0 need projections",
                ),
            )
        )
    return _combine(results, t, _requested(settings, chosen_a))


def _evaluate(
    t: Trajectories,
    chosen_a: tuple[str, ...],
    *,
    eoo: float | None,
    aoo: float | None,
    locations: int | None,
    severely_fragmented: bool,
    plausible_threat: bool,
    extinction_probability: npt.ArrayLike | None,
    partial_extinction_probability: bool,
) -> list[CriterionLevels]:
    """Each criterion of ``settings.criteria``, one function each (:mod:`pva.redlist.criteria`)."""
    evaluated = set(t.settings.criteria)
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
                severely_fragmented=severely_fragmented,
            )
        )
    if "C" in evaluated and tr is not None:
        results.append(crit.criterion_c(t, tr))
    if "D" in evaluated:
        results.append(
            crit.criterion_d(t, locations=locations, aoo=aoo, plausible_threat=plausible_threat)
        )
    if "E" in evaluated:
        results.append(crit.criterion_e(t, extinction_probability, partial_extinction_probability))
    return results


def _counts(
    mature: npt.ArrayLike, subpopulation_mature: npt.ArrayLike | None, total: npt.ArrayLike | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64] | None, npt.NDArray[np.float64] | None]:
    """Mature individuals (replicate, year), by subpopulation (or None) and all individuals."""
    m3 = check_counts(mature, "mature", (2, 3))
    n = m3.sum(axis=2) if m3.ndim == 3 else m3
    reps, cols = n.shape
    subs = m3 if m3.ndim == 3 else None
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
    return n, subs, tot


def _assessment_columns(
    years: Sequence[int] | None, year0: int, cols: int
) -> npt.NDArray[np.intp] | None:
    """The columns of the assessment ``years`` (ascending), or None for every column."""
    if years is None:
        return None
    return np.array(assessment_years(years, -year0, cols - 1 - year0), dtype=np.intp) + year0


def assessment_years(years: Sequence[int], first: int, last: int) -> list[int]:
    """``years`` checked (distinct integers within ``first .. last``, at least one) and sorted:
    the assessment years of :func:`classify` and :func:`pva.redlist.assess`."""
    if isinstance(years, str | bytes) or not isinstance(years, Sequence | np.ndarray):
        raise TypeError(f"years must be a sequence of integers; got {years!r}")
    chosen = [validation.integer(y, "years") for y in years]
    outside = [y for y in chosen if not first <= y <= last]
    if outside:
        raise ValueError(
            f"years must lie within the simulated years {first}..{last}; got {outside[0]!r}"
        )
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"years must be distinct; got {list(years)!r}")
    if not chosen:
        raise ValueError("years must hold at least one year; got []")
    return sorted(chosen)


def _at(
    columns: npt.NDArray[np.intp] | None, x: npt.NDArray[Any] | None
) -> npt.NDArray[Any] | None:
    """``x`` (replicate, column, ...) at the assessment ``columns`` (None: every column)."""
    return x if x is None or columns is None else x[:, columns]


def _check_probability_shape(
    p: npt.ArrayLike | None, shape: tuple[int, int]
) -> npt.NDArray[np.float64] | None:
    """``extinction_probability`` as an array of shape (replicate, column, 3); its values are
    checked by :func:`pva.redlist.criteria.criterion_e`."""
    if p is None:
        return None
    a = np.asarray(p, dtype=float)
    if a.shape != (*shape, 3):
        raise ValueError(
            f"extinction_probability must have shape ({shape[0]}, {shape[1]}, 3); got {a.shape}"
        )
    return a


def _year0(years_before: int, cols: int) -> int:
    years_before = validation.integer(years_before, "years_before", minimum=0)
    if years_before >= cols:
        raise ValueError(f"years_before={years_before!r} leaves no year 0 in {cols} columns")
    return int(years_before)


def _check_attributes(
    *,
    locations: int | None,
    eoo: float | None,
    aoo: float | None,
    plausible_threat: bool,
    severely_fragmented: bool,
    ensemble_at_start: bool,
) -> None:
    for field, flag in (
        ("plausible_threat", plausible_threat),
        ("severely_fragmented", severely_fragmented),
        ("ensemble_at_start", ensemble_at_start),
    ):
        validation.flag(flag, field)
    if locations is not None:
        validation.integer(locations, "locations", minimum=1)
    for field, v in (("eoo", eoo), ("aoo", aoo)):
        if v is not None and not (np.isfinite(v) and v > 0):
            raise ValueError(f"{field} must be finite and > 0 (km²); got {v!r}")


def _check_projection(
    projected: npt.ArrayLike | None, shape: tuple[int, int]
) -> npt.NDArray[np.float64] | None:
    if projected is None:
        return None
    p = np.asarray(
        projected.values if isinstance(projected, xr.DataArray) else projected, dtype=float
    )
    if p.ndim != 3 or p.shape[:2] != shape or p.shape[2] < 1:
        raise ValueError(
            f"projected_mature must have shape ({shape[0]}, {shape[1]}, lead); got {p.shape}"
        )
    finite = p[~np.isnan(p)]
    if np.any(np.isinf(p)) or np.any(finite < 0):
        raise ValueError("projected_mature must be finite and >= 0 (NaN where not projected)")
    return p[:, :, : MAX_FUTURE + 1]


def _check_decline_flag(
    flag: bool | npt.ArrayLike | None, shape: tuple[int, int]
) -> npt.NDArray[np.float64] | None:
    if flag is None:
        return None
    a = np.asarray(flag)
    if a.dtype != bool:
        raise TypeError(f"continuing_decline must be a bool or an array of bools; got {flag!r}")
    try:
        return np.broadcast_to(a, shape).astype(float)
    except ValueError:
        raise ValueError(
            f"continuing_decline must be a bool or have shape {shape}; got shape {a.shape}"
        ) from None


def _common_start(
    n: npt.NDArray[np.float64],
    tot: npt.NDArray[np.float64] | None,
    subs: npt.NDArray[np.float64] | None,
    i0: int,
) -> bool:
    """Whether every replicate holds the same numbers at year 0."""
    same = bool(np.all(n[:, i0] == n[0, i0]))
    if tot is not None:
        same = same and bool(np.all(tot[:, i0] == tot[0, i0]))
    if subs is not None:
        same = same and bool(np.all(subs[:, i0] == subs[0, i0]))
    return same


def _with_ensemble(
    given: npt.NDArray[np.float64] | None,
    n: npt.NDArray[np.float64],
    i0: int,
    settings: RedListSettings,
    columns: npt.NDArray[np.intp] | None,
) -> npt.NDArray[np.float64] | None:
    """The projection at the assessment ``columns`` (None: every column) with year 0 filled, where
    not given, by the replicates' ensemble trajectory."""
    reps, cols = n.shape
    assessed = np.arange(cols) if columns is None else columns
    hit = np.flatnonzero(assessed == i0)
    if hit.size == 0:
        return given
    at0 = int(hit[0])
    if given is not None and not np.isnan(given[:, at0]).all():
        return given
    leads = min(cols - i0, MAX_FUTURE + 1)
    future = n[:, i0 : i0 + leads]
    stat = future.mean(axis=0) if settings.projection_statistic == "mean" else np.median(future, 0)
    width = leads if given is None else max(leads, given.shape[2])
    out = np.full((reps, assessed.size, width), np.nan)
    if given is not None:
        out[:, :, : given.shape[2]] = given
    out[:, at0, :leads] = stat
    return out


def _requested(settings: RedListSettings, chosen_a: tuple[str, ...]) -> tuple[str, ...]:
    """The sub-criteria asked for, in the order of :data:`CRITERIA`."""
    asked = set(chosen_a) if "A" in settings.criteria else set()
    for letter, subs in (
        ("B", ("B1", "B2")),
        ("C", ("C1", "C2a(i)", "C2a(ii)", "C2b")),
        ("D", ("D", "D2")),
        ("E", ("E",)),
    ):
        if letter in settings.criteria:
            asked.update(subs)
    return tuple(c for c in CRITERIA if c in asked)


def _combine(
    results: list[CriterionLevels], t: Trajectories, requested: tuple[str, ...]
) -> Classification:
    """The category: the highest level met by any sub-criterion (IUCN 2012, Preamble); LC where
    nothing is met at NT or above (``lc_rule``); EX where no individuals are left."""
    reps, cols = t.shape
    levels = np.full((reps, cols, len(CRITERIA)), np.int8(NE), dtype=np.int8)
    marks = np.zeros((reps, cols, len(_MARKED)), dtype=np.int8)
    incomplete = np.zeros((reps, cols), dtype=bool)
    notes: list[str] = []
    for result in results:
        for sub, (lv, inc) in result.levels.items():
            levels[:, :, _IDX[sub]] = lv
            incomplete |= inc
        for sub, bits in result.subconditions.items():
            marks[:, :, _MARKED.index(sub)] = bits
        notes.extend(result.notes)
    best = np.max(np.where(levels >= 0, levels, np.int8(-1)), axis=2).astype(np.int8)
    any_unknown = np.any(levels == NOT_EVALUABLE, axis=2)
    complete = ~(any_unknown | incomplete)
    category = best.copy()
    nothing = best <= LC
    if t.settings.lc_rule == "all":
        category[nothing & any_unknown] = NOT_EVALUABLE
    category[best < 0] = NOT_EVALUABLE
    gone = t.now(t.total) <= 0
    category[gone] = EX
    complete = complete | gone
    criteria = _criteria_strings(category, levels, marks)
    years = t.assessed.astype(np.int64) - t.year0
    return Classification(
        category=category.astype(np.int8),
        levels=levels,
        criteria=criteria,
        complete=complete,
        years=years,
        notes=tuple(dict.fromkeys(notes)),
        requested=requested,
    )


def _criteria_strings(
    category: npt.NDArray[np.int8], levels: npt.NDArray[np.int8], marks: npt.NDArray[np.int8]
) -> npt.NDArray[np.str_]:
    reps, cols, k = levels.shape
    flat = np.concatenate(
        [category.reshape(-1, 1), levels.reshape(-1, k), marks.reshape(-1, marks.shape[2])], axis=1
    )
    # one int64 key per row (codes -3..6 and marks 0..7, shifted by 3, are base-11 digits;
    # 11**16 < 2**63), because np.unique(axis=0) sorts structured rows, far slower on
    # (replicate x year) rows
    digits = (flat.astype(np.int64) + 3) * (11 ** np.arange(flat.shape[1], dtype=np.int64))
    keys = digits.sum(axis=1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    texts = np.array(
        [_format_row(int(flat[i, 0]), flat[i, 1 : k + 1], flat[i, k + 1 :]) for i in first],
        dtype=np.str_,
    )
    return texts[inverse.reshape(-1)].reshape(reps, cols)


_MARKED = ("B1", "B2")
"""Sub-criteria whose subconditions the criteria string shows (:attr:`CriterionLevels.subconditions`)."""

A_BASES = {"A1": "a", "A2": "a"}
"""The basis of each sub-criterion of A that pva knows (IUCN 2012 A1: "(a) direct observation",
the count of mature individuals itself, which A1 and A2 read over the past window). A3 and A4 read
a projection (A3 may not use (a)); which of (b)-(e) it rests on (an index, habitat, exploitation,
introduced taxa) depends on the threats behind the model, which the trajectories do not show, so
their strings carry no basis: the assessor adds it."""


def _format_row(cat: int, lv: npt.NDArray[np.int8], marks: npt.NDArray[np.int8]) -> str:
    """The IUCN criteria string of one (replicate, year): the category, then each criterion met at
    that level with its sub-criteria and subconditions, criteria joined by "; " and sub-criteria
    of one criterion by "+" (IUCN 2012, e.g. "CR A2ace; B1ab(iii)", "EN B1ab(v)+2ab(v)",
    "VU C2a(i)", "VU D1+2")."""
    name = category_name(cat)
    if cat in (LC, EX, EW, NOT_EVALUABLE):
        return name
    met = {c for c, v in zip(CRITERIA, lv, strict=True) if v == cat}
    parts = []
    a = [c[1] + A_BASES.get(c, "") for c in ("A1", "A2", "A3", "A4") if c in met]
    if a:
        parts.append("A" + "+".join(a))
    b = [c[1] + _b_subconditions(int(marks[_MARKED.index(c)])) for c in ("B1", "B2") if c in met]
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


def _b_subconditions(bits: int) -> str:
    """``"ab(v)c(iv)"`` and its parts: the subconditions of B1/B2 that hold (IUCN 2012 B: (a)
    severely fragmented or few locations; (b)(v) continuing decline in mature individuals; (c)(iv)
    extreme fluctuations in mature individuals)."""
    return (
        ("a" if bits & crit.B_SUBCONDITION_A else "")
        + ("b(v)" if bits & crit.B_SUBCONDITION_B else "")
        + ("c(iv)" if bits & crit.B_SUBCONDITION_C else "")
    )


def classify_range(
    mature: npt.ArrayLike,
    *,
    generation_length: float | tuple[float, float, float],
    locations: int | tuple[int, int, int] | None = None,
    eoo: float | tuple[float, float, float] | None = None,
    aoo: float | tuple[float, float, float] | None = None,
    mature_bounds: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    **kwargs: Any,
) -> ClassificationRange:
    """Classify with uncertain inputs, propagating each whole interval (Akçakaya et al. 2000).

    Uncertain scalars are given as ``(min, best, max)``; ``mature_bounds`` gives lower and upper
    bounds of the mature individuals (arrays of the shape of ``mature``, which is the best
    estimate). The best category is the one with every input at its best value. The plausible range
    runs from the lowest to the highest evaluated category over the whole interval (Guidelines
    section 3.2; RAMAS Red List reports a category range the same way):

    * generation length: the category depends on it only through the windows (max(10 y, 3 G),
      max(3 y, 1 G), max(5 y, 2 G), max(20 y, 5 G), the continuing-decline window), whole
      numbers of years that change at breakpoints ``G = (m - 1/2) / k``; one generation length
      from each stretch between breakpoints is classified, so that no distinct window is missed
      (a range 3.33-10 can hold a CR that its minimum, best and maximum all miss);
    * abundances: the best estimate and both bounds;
    * EOO, AOO and locations: fewer locations and smaller areas never lower a category (B, D2), so
      the lower end uses their maxima and the upper end their minima.

    Other keyword arguments go to :func:`classify` unchanged.

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
            lo, best_v, hi = v
            if not (lo <= best_v <= hi):
                raise ValueError(f"{field} range must satisfy min <= best <= max; got {v!r}")
            triples[field] = (lo, best_v, hi)
        else:
            triples[field] = (v, v, v)
    variants = [mature]
    if mature_bounds is not None:
        if not isinstance(mature_bounds, tuple | list) or len(mature_bounds) != 2:
            raise ValueError(f"mature_bounds must be (lower, upper) arrays; got {mature_bounds!r}")
        shape = np.shape(mature)
        for label, bound in zip(("lower", "upper"), mature_bounds, strict=True):
            if np.shape(bound) != shape:
                raise ValueError(
                    f"mature_bounds {label} must have the shape of mature {shape};"
                    f" got {np.shape(bound)}"
                )
        variants = [mature_bounds[0], mature, mature_bounds[1]]
    settings = kwargs.get("settings") or RedListSettings()
    g_lo, g_hi = (check_generation_length(triples["generation_length"][i]) for i in (0, 2))
    best = classify(mature, **{f: t[1] for f, t in triples.items()}, **kwargs)
    lower = np.where(best.category >= 0, best.category, np.int8(127)).astype(np.int8)
    upper = best.category.copy()
    # smaller areas and fewer locations never lower a category: their maxima bound it from below
    optimistic = {f: triples[f][2] for f in ("locations", "eoo", "aoo")}
    pessimistic = {f: triples[f][0] for f in ("locations", "eoo", "aoo")}
    for g in generation_lengths(g_lo, g_hi, settings):
        for m in variants:
            low = classify(m, generation_length=g, **optimistic, **kwargs).category
            high = classify(m, generation_length=g, **pessimistic, **kwargs).category
            lower = np.where(low >= 0, np.minimum(lower, low), lower)
            upper = np.maximum(upper, high)
    # where the optimistic ends were never evaluable, the range starts at what was
    lower = np.where(lower == 127, upper, lower)
    none = upper < 0
    lower = np.where(none, np.int8(NOT_EVALUABLE), lower).astype(np.int8)
    upper = np.where(none, np.int8(NOT_EVALUABLE), upper).astype(np.int8)
    return ClassificationRange(best=best, lower=lower, upper=upper)


def generation_lengths(low: float, high: float, settings: RedListSettings) -> list[float]:
    """One generation length from each stretch of ``[low, high]`` on which every window of the
    criteria is the same: windows are ``max(years, floor(k G + 1/2))`` for k = 1, 2, 3, 5 (A, C1,
    E) and ``settings.decline_generations``, which step up at ``G = (m - 1/2) / k``."""
    if high < low:
        raise ValueError(f"generation length range must have min <= max; got {low!r}, {high!r}")
    multipliers = {1.0, 2.0, 3.0, 5.0}
    if settings.decline_generations > 0:
        multipliers.add(float(settings.decline_generations))
    breaks = {low}
    for k in multipliers:
        first = int(np.ceil(k * low + 0.5))
        last = int(np.floor(k * high + 0.5))
        breaks.update(b for m in range(first, last + 1) if low < (b := (m - 0.5) / k) <= high)
    edges = sorted(breaks)
    # each stretch [edges[i], edges[i + 1]) holds one set of windows; its midpoint is free of
    # rounding at the breakpoints; the last stretch [edges[-1], high] may be the point ``high``
    points = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    points.append((edges[-1] + high) / 2 if edges[-1] < high else high)
    seen: dict[tuple[int, ...], float] = {}
    for g in points:
        key = tuple(
            years_window(y, k, g)
            for y, k in (
                (10, 3.0),
                (3, 1.0),
                (5, 2.0),
                (20, 5.0),
                (settings.decline_years, settings.decline_generations),
            )
        )
        seen.setdefault(key, g)
    return list(seen.values())
