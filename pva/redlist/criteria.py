"""IUCN Red List criteria A to E on simulated trajectories, one function per criterion.

Each ``criterion_*`` function returns the level met by each of its sub-criteria, per replicate and
year, as codes of :mod:`pva.redlist.categories` (0 not met, 1 nearly met (NT), 2..4 VU..CR,
``NOT_EVALUABLE`` where the data do not cover what the sub-criterion needs); :func:`pva.redlist.classify`
combines them into a category.

References
----------
IUCN (2012) IUCN Red List Categories and Criteria, Version 3.1, second edition. Gland: IUCN.
IUCN Standards and Petitions Committee (2024) Guidelines for Using the IUCN Red List Categories and
Criteria, Version 16 (cited as "Guidelines" with section numbers).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import numpy.typing as npt

from pva import validation
from pva.redlist.categories import CR, EN, LC, NE, NOT_EVALUABLE, NT, VU
from pva.redlist.inputs import check_generation_length
from pva.redlist.logic import TOL, Levels, and3, ge3, levels, or3
from pva.redlist.settings import RedListSettings
from pva.redlist.windows import (
    FIRST_WINDOW,
    MAX_FUTURE,
    fluctuation,
    lead_reduction,
    significant_decline,
    window_reduction,
    years_window,
)

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

# IUCN (2012) thresholds, ordered (CR, EN, VU)
A1_THRESHOLDS = (0.90, 0.70, 0.50)
A234_THRESHOLDS = (0.80, 0.50, 0.30)
B1_EOO = (100.0, 5_000.0, 20_000.0)  # km², strict "<"
B2_AOO = (10.0, 500.0, 2_000.0)  # km², strict "<"
B_LOCATIONS = (1, 5, 10)  # "<="
C_SIZE = (250.0, 2_500.0, 10_000.0)  # strict "<"
C1_RATE = (0.25, 0.20, 0.10)
C1_YEARS = (3, 5, 10)
C1_GENERATIONS = (1, 2, 3)
C2AI_MAX = (50.0, 250.0, 1_000.0)  # "no subpopulation > x" i.e. "<="
C2AII_FRACTION = (0.90, 0.95, 1.00)  # ">="
D_SIZE = (50.0, 250.0, 1_000.0)  # strict "<"
E_PROB = (0.50, 0.20, 0.10)  # ">="
E_YEARS = (10, 20, 100)
E_GENERATIONS = (3, 5, None)


def e_windows(generation_length: float) -> tuple[int, int, int]:
    """Lengths in years of the CR, EN and VU windows of criterion E: the longer of 10 years or 3
    generations, of 20 years or 5 generations, and 100 years, each capped at 100 years (IUCN 2012,
    criterion E; Guidelines section 9)."""
    g = check_generation_length(generation_length)
    out = tuple(
        min(years_window(yrs, gens, g), MAX_FUTURE)
        for yrs, gens in zip(E_YEARS, E_GENERATIONS, strict=True)
    )
    return out  # type: ignore[return-value]


def projection_leads(generation_length: float) -> int:
    """Years ahead that A3, A4 and projected C1 read from a projection (the lead ``L`` of
    :data:`PROJECTED_MATURE`): the longest future part of their windows, capped at 100 years
    (IUCN 2012: a window "up to a maximum of 100 years in the future").

    A3 and the VU rate of projected C1 read max(10 years, 3 generations) ahead; A4's windows of
    the same length hold at least one past year, so their future part is at most one year shorter
    (and at most 100 years). Hence ``L = min(max(10, round(3 G)), 100)``."""
    g = check_generation_length(generation_length)
    a3 = years_window(10, 3, g)
    c1 = max(years_window(yrs, gens, g) for yrs, gens in zip(C1_YEARS, C1_GENERATIONS, strict=True))
    return min(max(a3, c1), MAX_FUTURE)


@dataclasses.dataclass(frozen=True, eq=False)
class Trajectories:
    """What the criteria read, validated by :func:`pva.redlist.classify`.

    Column ``j`` of the trajectories is year ``j - year0``. The criteria are evaluated at the
    assessment columns :attr:`assessed` (every column by default) and return one column per
    assessment column. At an assessment column ``j`` a criterion may read columns ``<= j`` of the
    trajectories (the past and present of that replicate) and the projections from the state at
    ``j``; never a column after ``j``.
    """

    mature: npt.NDArray[np.float64]
    """Mature individuals, summed over subpopulations (replicate, year)."""
    subpopulations: npt.NDArray[np.float64] | None
    """Mature individuals by subpopulation (replicate, year, population), or None."""
    total: npt.NDArray[np.float64]
    """All individuals (replicate, year): extinction (EX, E) is ``total`` at 0."""
    generation_length: float
    """Years (> 0)."""
    year0: int
    """Column of year 0 (the columns before it are history)."""
    settings: RedListSettings
    projected: npt.NDArray[np.float64] | None = None
    """Expected mature individuals ``lead`` years after each assessment year, projected from the
    state there (replicate, assessment column, lead), lead 0 the state itself; NaN where not
    projected."""
    declining: npt.NDArray[np.float64] | None = None
    """Continuing decline given by the user (replicate, assessment column; 1.0 or 0.0), or None:
    tested."""
    ensemble_start: bool = False
    """Whether the replicates are futures from one common state at year 0, so that their ensemble
    is the projection at year 0 (criterion E counts extinctions among them)."""
    columns: npt.NDArray[np.intp] | None = None
    """Assessment columns (ascending), or None: every column."""

    @property
    def assessed(self) -> npt.NDArray[np.intp]:
        """The assessment columns (ascending)."""
        if self.columns is None:
            return np.arange(self.mature.shape[1])
        return self.columns

    @property
    def shape(self) -> tuple[int, int]:
        """(replicates, assessment columns): the shape of every criterion's levels."""
        return (self.mature.shape[0], self.assessed.size)

    def now(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """``x`` (replicate, column, ...) at the assessment columns."""
        return x if self.columns is None else x[:, self.columns]

    @functools.cached_property
    def projected_at(self) -> npt.NDArray[np.bool_]:
        """Where a projection from the state at the assessment year is known (replicate,
        assessment column)."""
        if self.projected is None:
            return np.zeros(self.shape, dtype=bool)
        return ~np.isnan(self.projected).all(axis=2)


B_SUBCONDITION_A = 1
"""Bit of :attr:`CriterionLevels.subconditions`: B(a), severely fragmented or few locations."""
B_SUBCONDITION_B = 2
"""Bit of :attr:`CriterionLevels.subconditions`: B(b)(v), continuing decline in mature
individuals (the only one of b(i)-(v) the trajectories show)."""
B_SUBCONDITION_C = 4
"""Bit of :attr:`CriterionLevels.subconditions`: B(c)(iv), extreme fluctuations in mature
individuals (the only one of c(i)-(iv) the trajectories show)."""


@dataclasses.dataclass(frozen=True)
class CriterionLevels:
    """Levels of the sub-criteria of one criterion, and what was not evaluated and why."""

    levels: dict[str, Levels]
    notes: tuple[str, ...] = ()
    subconditions: dict[str, npt.NDArray[np.int8]] = dataclasses.field(default_factory=dict)
    """Which subconditions of a sub-criterion hold at the level it meets (replicate, year), as
    bits (B: :data:`B_SUBCONDITION_A`, ``_B``, ``_C``), for its IUCN criteria string."""


@dataclasses.dataclass(frozen=True, eq=False)
class Trend:
    """Continuing decline and extreme fluctuations at each assessment year (three-valued), shared
    by B and C."""

    declining: npt.NDArray[np.float64]
    fluctuating: npt.NDArray[np.float64]


def past_window(t: Trajectories, years: int, generations: float | None) -> int:
    """Length in years of a window ending at the assessment year: the longer of ``years`` and
    ``generations`` generations, never capped (IUCN 2012 caps windows at 100 years "in the
    future" only; a past window, like A2's, keeps its full length of generations)."""
    return years_window(years, generations, t.generation_length)


def future_window(t: Trajectories, years: int, generations: float | None) -> int:
    """Length in years of a window starting at the assessment year, capped at 100 years."""
    return min(past_window(t, years, generations), MAX_FUTURE)


def reduction_ending(t: Trajectories, length: int) -> npt.NDArray[np.float64]:
    """Reduction of mature individuals over the ``length`` years ending at each assessment year
    (:func:`pva.redlist.windows.window_reduction`)."""
    method = t.settings.reduction_method
    return window_reduction(t.mature, length, method, starts=t.assessed - length)


def trend(t: Trajectories) -> Trend:
    """Continuing decline at the assessment year: the user's flag, or a significant log-linear
    decline over the last ``max(decline_years, decline_generations G)`` years (see
    :attr:`RedListSettings.decline_alpha`; NaN before twice that window is covered). Extreme
    fluctuations (Guidelines 4.7): a tenfold rise and fall within the last max(10 y, 3 G) years."""
    s = t.settings
    if t.declining is not None:
        declining = t.declining
    else:
        ld = past_window(t, s.decline_years, s.decline_generations)
        declining = significant_decline(t.mature, ld, s.decline_alpha, ends=t.assessed)
    lf = past_window(t, C1_YEARS[2], C1_GENERATIONS[2])
    fluct = fluctuation(t.mature, lf, s.fluctuation_ratio, starts=t.assessed - lf)
    return Trend(declining=declining, fluctuating=fluct)


def _not_projected(lv: Levels, projected: npt.NDArray[np.bool_]) -> Levels:
    """``NE`` where no projection from the assessment year is known (nothing to read)."""
    return (
        np.where(projected, lv[0], np.int8(NE)).astype(np.int8),
        np.where(projected, lv[1], False),
    )


# ---------------------------------------------------------------------------------------------------
# A: reduction (IUCN 2012 criterion A; Guidelines 4.5 and 5)


def criterion_a(t: Trajectories, subcriteria: tuple[str, ...]) -> CriterionLevels:
    """A1 and A2 on the window ending at the assessment year (observed, not capped); A3 on the
    projection from the state there (capped at 100 years); A4 on the worst window with the
    assessment year strictly inside, the past part observed and the future part (at most 100
    years) projected. Windows are the longer of 10 years or 3 generations. A3 and A4 are ``NE``
    where no projection is known."""
    s = t.settings
    la = past_window(t, 10, 3)
    out: dict[str, Levels] = {}
    notes: list[str] = []
    for sub in subcriteria:
        thr = A1_THRESHOLDS if sub == "A1" else A234_THRESHOLDS
        if sub in ("A1", "A2"):
            red = reduction_ending(t, la)
            out[sub] = reduction_levels(red, thr, s.nt_reduction_margin)
            continue
        if sub == "A3":
            red = (
                np.full(t.shape, np.nan)
                if t.projected is None
                else lead_reduction(
                    t.projected, min(la, MAX_FUTURE), s.reduction_method, t.projected_at
                )
            )
            lv = reduction_levels(red, thr, s.nt_reduction_margin)
        else:
            lv = a4_levels(t, la, thr)
        out[sub] = _not_projected(lv, t.projected_at)
        if not t.projected_at[:, t.assessed > t.year0].any():
            notes.append(f"{sub} not evaluated after year 0: no projection from later years")
    return CriterionLevels(out, tuple(notes))


def reduction_levels(
    red: npt.NDArray[np.float64], thresholds: tuple[float, float, float], nt_margin: float
) -> Levels:
    """Levels of a reduction against (CR, EN, VU) thresholds, NT within ``nt_margin`` of VU."""
    conds = [(lvl, ge3(red, thr)) for lvl, thr in zip((CR, EN, VU), thresholds, strict=True)]
    conds.append((NT, ge3(red, thresholds[2] - nt_margin)))
    return levels(conds)


def a4_levels(t: Trajectories, la: int, thresholds: tuple[float, float, float]) -> Levels:
    """A4 at each assessment year with a projection: the worst of the windows of length ``la``
    with ``k`` (1 .. la - 1) observed years before the assessment year and ``la - k`` (at most 100)
    projected after it; "not met" needs every such window covered."""
    s = t.settings
    reps, cols = t.shape
    lv = np.full((reps, cols), np.int8(NE), dtype=np.int8)
    incomplete = np.zeros((reps, cols), dtype=bool)
    if t.projected is None:
        return lv, incomplete
    at = t.projected_at
    leads = t.projected.shape[2]
    for i in np.flatnonzero(at.any(axis=0)):
        j = int(t.assessed[i])
        worst = np.full(reps, -np.inf)
        covered_all = np.ones(reps, dtype=bool)
        for k in range(max(1, la - MAX_FUTURE), la):
            ahead = la - k
            if j - k < 0 or ahead >= leads:
                covered_all[:] = False
                continue
            series = np.concatenate(
                [t.mature[:, j - k : j + 1], t.projected[:, i, 1 : ahead + 1]], 1
            )
            red = np.full(reps, np.nan)
            known = ~np.isnan(series).any(axis=1)
            if known.any():
                red[known] = window_reduction(
                    series[known], la, s.reduction_method, starts=FIRST_WINDOW
                )[:, 0]
            covered_all &= known
            worst = np.fmax(worst, red)
        worst = np.where(np.isneginf(worst), np.nan, worst)
        lv_j, inc_j = reduction_levels(worst[:, None], thresholds, s.nt_reduction_margin)
        lv_j, inc_j = lv_j[:, 0], inc_j[:, 0]
        # a covered window not meeting a threshold says nothing about the uncovered ones
        inc_j = inc_j | (~covered_all & (lv_j < CR))
        lv_j = np.where((lv_j == LC) & ~covered_all, np.int8(NOT_EVALUABLE), lv_j)
        lv[:, i] = lv_j
        incomplete[:, i] = inc_j
    return lv, incomplete


# ---------------------------------------------------------------------------------------------------
# B: geographic range (only with EOO/AOO; Guidelines 4.9, 4.10, 6)


def criterion_b(
    t: Trajectories,
    tr: Trend,
    *,
    eoo: float | None,
    aoo: float | None,
    locations: int | None,
    severely_fragmented: bool,
) -> CriterionLevels:
    """B1 (EOO) and B2 (AOO) below the thresholds with at least two of (a) severely fragmented or
    few locations, (b) continuing decline, (c) extreme fluctuations; NT: the VU area threshold met
    and declining, but fewer than two of (a)-(c) (Guidelines 10.1)."""
    if eoo is None and aoo is None:
        return CriterionLevels(
            {}, ("B not evaluated: no extent of occurrence or area of occupancy given",)
        )
    out: dict[str, Levels] = {}
    marks: dict[str, npt.NDArray[np.int8]] = {}
    # b(v) and c(iv) hold or not whatever the level; (a) has a threshold of locations per level
    common = np.where(tr.declining == 1, B_SUBCONDITION_B, 0) + np.where(
        tr.fluctuating == 1, B_SUBCONDITION_C, 0
    )
    for sub, area, thresholds in (("B1", eoo, B1_EOO), ("B2", aoo, B2_AOO)):
        if area is None:
            continue
        conds = []
        nt_cond = np.zeros(t.shape)
        fragmented = np.zeros(t.shape, dtype=bool)
        for level, area_thr, loc_thr in zip((CR, EN, VU), thresholds, B_LOCATIONS, strict=True):
            if not area < area_thr:
                continue
            a_cond = float(severely_fragmented or (locations is not None and locations <= loc_thr))
            n_true = a_cond + (tr.declining == 1) + (tr.fluctuating == 1)
            n_unknown = np.isnan(tr.declining).astype(float) + np.isnan(tr.fluctuating)
            met = np.where(n_true >= 2, 1.0, np.where(n_true + n_unknown >= 2, np.nan, 0.0))
            conds.append((level, met))
            if level == VU:
                # Guidelines 10.1: area thresholds met and declining, too few subconditions
                nt_cond = (tr.declining == 1).astype(float)
        conds.append((NT, nt_cond))
        out[sub] = levels(conds)
        for level, loc_thr in zip((CR, EN, VU), B_LOCATIONS, strict=True):
            a_met = severely_fragmented or (locations is not None and locations <= loc_thr)
            fragmented |= (out[sub][0] == level) & a_met
        # NT reads (a) at the VU threshold (the area thresholds for VU met, Guidelines 10.1)
        a_vu = severely_fragmented or (locations is not None and locations <= B_LOCATIONS[2])
        fragmented |= (out[sub][0] == NT) & a_vu
        marks[sub] = (common + np.where(fragmented, B_SUBCONDITION_A, 0)).astype(np.int8)
    return CriterionLevels(out, subconditions=marks)


# ---------------------------------------------------------------------------------------------------
# C: small population and decline (Guidelines 4.6, 7)


def criterion_c(t: Trajectories, tr: Trend) -> CriterionLevels:
    """C1 (a rate of continuing decline), C2a(i), C2a(ii) (subpopulation structure) and C2b
    (extreme fluctuations) with fewer than 250 / 2,500 / 10,000 mature individuals; C2 needs a
    continuing decline at the assessment year (:func:`trend`)."""
    out = {"C1": c1_levels(t, tr), "C2b": c2b_levels(t, tr)}
    if t.subpopulations is None:
        return CriterionLevels(out, ("C2a not evaluated: no subpopulations given",))
    out["C2a(i)"], out["C2a(ii)"] = c2a_levels(t, tr, t.subpopulations)
    return CriterionLevels(out)


def _near_vu_size(t: Trajectories) -> npt.NDArray[np.float64]:
    """At most ``(1 + nt_size_margin)`` x 10,000 mature individuals (inclusive; Guidelines 10.1)."""
    limit = C_SIZE[2] * (1.0 + t.settings.nt_size_margin) + TOL
    return (t.now(t.mature) <= limit).astype(float)


def c1_levels(t: Trajectories, tr: Trend) -> Levels:
    """C1: fewer than 250 / 2,500 / 10,000 mature individuals with a continuing decline of at least
    25% in 3 years or 1 generation / 20% in 5 years or 2 generations / 10% in 10 years or 3
    generations (IUCN 2012 C1), observed over the window ending at the assessment year while the
    decline goes on there, or projected from the state there (up to 100 years ahead), as
    ``settings.c1_direction`` says.

    NT (Guidelines 10.1; IUCN Red List training, "15,000 mature individuals, estimated 10% decline
    over the last 3 generations and the population continues to decline: NT C1"): the VU rate with
    at most ``(1 + nt_size_margin)`` x 10,000 mature individuals. Where only the projected part is
    asked for and no projection is known, C1 is ``NE``."""
    direction = t.settings.c1_direction
    past = _c1_past(t, tr) if direction in ("past", "both") else None
    if direction == "past" or t.projected is None:
        if past is None:
            return np.full(t.shape, np.int8(NE), dtype=np.int8), np.zeros(t.shape, dtype=bool)
        return levels(past)
    at = t.projected_at
    projected = _c1_projected(t, t.projected)
    if past is None:
        return _not_projected(levels(projected), at)
    # where nothing is projected, the projected part adds nothing to what the past shows
    conds = [
        (lvl, or3(p, np.where(at, q, 0.0)))
        for (lvl, p), (_, q) in zip(past, projected, strict=True)
    ]
    return levels(conds)


def _c1_past(t: Trajectories, tr: Trend) -> list[tuple[int, npt.NDArray[np.float64]]]:
    n = t.now(t.mature)
    conds = []
    vu_rate = np.full(t.shape, np.nan)
    for level, size, rate, yrs, gens in zip(
        (CR, EN, VU), C_SIZE, C1_RATE, C1_YEARS, C1_GENERATIONS, strict=True
    ):
        lk = past_window(t, yrs, gens)
        red = reduction_ending(t, lk)
        small = (n < size).astype(float)
        conds.append((level, and3(small, ge3(red, rate), tr.declining)))
        vu_rate = red
    conds.append((NT, and3(_near_vu_size(t), ge3(vu_rate, C1_RATE[2]), tr.declining)))
    return conds


def _c1_projected(
    t: Trajectories, projected: npt.NDArray[np.float64]
) -> list[tuple[int, npt.NDArray[np.float64]]]:
    s = t.settings
    n = t.now(t.mature)
    conds = []
    vu_rate = np.full(t.shape, np.nan)
    for level, size, rate, yrs, gens in zip(
        (CR, EN, VU), C_SIZE, C1_RATE, C1_YEARS, C1_GENERATIONS, strict=True
    ):
        red = lead_reduction(
            projected, future_window(t, yrs, gens), s.reduction_method, t.projected_at
        )
        small = (n < size).astype(float)
        conds.append((level, and3(small, ge3(red, rate))))
        vu_rate = red
    conds.append((NT, and3(_near_vu_size(t), ge3(vu_rate, C1_RATE[2]))))
    return conds


def c2b_levels(t: Trajectories, tr: Trend) -> Levels:
    """C2b: small, continuing decline and extreme fluctuations; NT: the same with a population
    close to (not under) 10,000 (Guidelines 10.1; IUCN training example: 13,250 declining)."""
    conds = []
    n = t.now(t.mature)
    for level, size in zip((CR, EN, VU), C_SIZE, strict=True):
        small = (n < size).astype(float)
        conds.append((level, and3(small, tr.declining, tr.fluctuating)))
    conds.append((NT, and3(_near_vu_size(t), tr.declining, tr.fluctuating)))
    return levels(conds)


def c2a_levels(
    t: Trajectories, tr: Trend, subpopulations: npt.NDArray[np.float64]
) -> tuple[Levels, Levels]:
    """C2a(i): no subpopulation above 50 / 250 / 1,000; C2a(ii): at least 90 / 95 / 100% in one
    subpopulation; both with a small population and a continuing decline."""
    n = t.now(t.mature)
    biggest = t.now(subpopulations).max(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, biggest / np.where(n > 0, n, 1.0), 0.0)
    conds_ai, conds_aii = [], []
    for level, size, ai, aii in zip((CR, EN, VU), C_SIZE, C2AI_MAX, C2AII_FRACTION, strict=True):
        small = (n < size).astype(float)
        conds_ai.append((level, and3(small, tr.declining, (biggest <= ai).astype(float))))
        conds_aii.append((level, and3(small, tr.declining, ge3(share, aii))))
    near = _near_vu_size(t)
    # NT (Guidelines 10.1; IUCN Red List training examples): the VU structure with a population
    # close to 10,000 ("13,250 ... all in one subpopulation: NT C2a(ii)"), or fewer than 10,000
    # with the largest subpopulation close to 1,000 ("largest subpopulation 1,180: NT C2a(i)")
    near_biggest = biggest <= C2AI_MAX[2] * (1.0 + t.settings.nt_size_margin) + TOL
    conds_ai.append(
        (
            NT,
            or3(
                and3(near, tr.declining, (biggest <= C2AI_MAX[2]).astype(float)),
                and3((n < C_SIZE[2]).astype(float), tr.declining, near_biggest.astype(float)),
            ),
        )
    )
    conds_aii.append((NT, and3(near, tr.declining, ge3(share, C2AII_FRACTION[2]))))
    return levels(conds_ai), levels(conds_aii)


# ---------------------------------------------------------------------------------------------------
# D: very small or restricted population (Guidelines 8)


def criterion_d(
    t: Trajectories, *, locations: int | None, aoo: float | None, plausible_threat: bool
) -> CriterionLevels:
    """D (D1 for VU): fewer than 50 / 250 / 1,000 mature individuals, NT up to
    ``(1 + nt_size_margin)`` x 1,000; VU D2: a restricted AOO or few locations with a plausible
    threat."""
    n = t.now(t.mature)
    shape = t.shape
    d = np.zeros(shape, dtype=np.int8)
    d[n <= D_SIZE[2] * (1.0 + t.settings.nt_size_margin) + TOL] = NT
    d[n < D_SIZE[2]] = VU
    d[n < D_SIZE[1]] = EN
    d[n < D_SIZE[0]] = CR
    out = {"D": (d, np.zeros(shape, dtype=bool))}
    if locations is None and aoo is None:
        return CriterionLevels(
            out, ("D2 not evaluated: neither number of locations nor AOO given",)
        )
    # IUCN 2012 D2: a restricted AOO (typically < 20 km²) OR few locations (typically <= 5), with
    # a plausible threat; either one given is enough to meet it
    restricted = (locations is not None and locations <= t.settings.d2_max_locations) or (
        aoo is not None and aoo < t.settings.d2_max_aoo
    )
    d2 = VU if (plausible_threat and restricted) else LC
    out["D2"] = (np.full(shape, np.int8(d2)), np.zeros(shape, dtype=bool))
    return CriterionLevels(out)


# ---------------------------------------------------------------------------------------------------
# E: quantitative analysis (Guidelines 9)


def criterion_e(
    t: Trajectories,
    extinction_probability: npt.ArrayLike | None,
    partial: bool = False,
) -> CriterionLevels:
    """E: probability of extinction at least 50% within 10 years or 3 generations, 20% within 20
    years or 5 generations, 10% within 100 years (each window capped at 100 years).

    Extinction is no individuals at all (``total`` at 0, or at or below
    ``settings.quasi_extinction``), the event of EX and of extinctions prevented. The probability
    is read from ``extinction_probability`` (replicate, year, 3), projected from the state of each
    replicate at each year, where given; otherwise, at year 0, from the replicates themselves when
    they start from one common state (the fraction extinct within each window), and ``NE`` at
    other years. With ``partial``, years where every probability is NaN are treated as without
    it."""
    notes: list[str] = []
    lv = _e_levels(t, extinction_probability, notes, partial)
    return CriterionLevels({"E": lv}, tuple(notes))


def _e_levels(
    t: Trajectories,
    extinction_probability: npt.ArrayLike | None,
    notes: list[str],
    partial: bool = False,
) -> Levels:
    i0, settings = t.year0, t.settings
    reps, cols = t.shape
    validation.flag(partial, "partial_extinction_probability")
    if extinction_probability is not None and partial:
        p = np.asarray(extinction_probability, dtype=float)
        if p.shape != (reps, cols, 3):
            raise ValueError(
                f"extinction_probability must have shape ({reps}, {cols}, 3); got {p.shape}"
            )
        assessed = ~np.all(np.isnan(p), axis=(0, 2))
        lv, incomplete = _e_levels(t, None, [], False)
        if assessed.any():
            lv_p, inc_p = _e_levels(t, p, [], False)
            lv[:, assessed] = lv_p[:, assessed]
            incomplete[:, assessed] = inc_p[:, assessed]
        done = [int(j) - i0 for j in t.assessed[assessed]]
        at0 = _position(t, i0)
        from_replicates = t.ensemble_start and at0 is not None and not assessed[at0]
        notes.append(
            f"E evaluated from nested simulations at years {done}"
            + (" and from the replicates at year 0" if from_replicates else "")
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
        counted = t.mature if settings.quasi_extinction_on == "mature" else t.total
        at0 = _position(t, i0)
        if t.ensemble_start and at0 is not None:
            for k, (yrs, gens) in enumerate(zip(E_YEARS, E_GENERATIONS, strict=True)):
                wk = future_window(t, yrs, gens)
                # a window running past the data still gives a lower bound: the fraction extinct
                # by the last simulated year (extinction within a window only grows with its length)
                hit = np.min(counted[:, i0 : i0 + wk + 1], axis=1) <= settings.quasi_extinction
                if i0 + wk < t.mature.shape[1]:
                    p[:, at0, k] = hit.mean()
                else:
                    lower[:, at0, k] = hit.mean()
            notes.append(
                "E evaluated at year 0 only (from the replicates); not evaluated (NE) later"
            )
        elif not t.ensemble_start:
            notes.append(
                "E not evaluated (NE): no extinction probabilities given, and the replicates do"
                " not start from one common state"
            )
        else:
            notes.append("E not evaluated (NE): year 0 is not assessed and no probabilities given")
    # The CR, EN and VU windows are nested (max(10 y, 3 G) <= max(20 y, 5 G) <= 100 y, each capped
    # at 100), so a probability known for a shorter window bounds those of the longer ones: "met"
    # as soon as the data show it (IUCN 2012 E), unknown otherwise.
    lower = np.fmax.accumulate(np.fmax(lower, p), axis=2)
    conds = []
    for k, (lvl, thr) in enumerate(zip((CR, EN, VU), E_PROB, strict=True)):
        known = np.fmax(p[:, :, k], lower[:, :, k])
        bound_met = lower[:, :, k] >= thr - TOL
        pk = np.where(np.isnan(p[:, :, k]), np.where(bound_met, lower[:, :, k], np.nan), known)
        conds.append((lvl, ge3(pk, thr)))
    lv, incomplete = levels(conds)
    if extinction_probability is None:
        later = t.assessed != i0 if t.ensemble_start else np.ones(cols, dtype=bool)
        lv[:, later] = NE
        incomplete[:, later] = False
    return lv, incomplete


def _position(t: Trajectories, column: int) -> int | None:
    """The index of ``column`` among the assessment columns, or None when it is not assessed."""
    hit = np.flatnonzero(t.assessed == column)
    return int(hit[0]) if hit.size else None
