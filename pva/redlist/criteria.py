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

import numpy as np
import numpy.typing as npt

from pva.redlist.categories import CR, EN, LC, NE, NOT_EVALUABLE, NT, VU
from pva.redlist.inputs import check_generation_length
from pva.redlist.logic import TOL, Levels, and3, ge3, levels, or3
from pva.redlist.settings import RedListSettings
from pva.redlist.windows import (
    MAX_FUTURE,
    directed,
    fluctuation,
    shift,
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
    g = check_generation_length(generation_length)
    out = tuple(
        min(years_window(yrs, gens, g), MAX_FUTURE)
        for yrs, gens in zip(E_YEARS, E_GENERATIONS, strict=True)
    )
    return out  # type: ignore[return-value]


@dataclasses.dataclass(frozen=True, eq=False)
class Trajectories:
    """What the criteria read, validated by :func:`pva.redlist.classify`."""

    mature: npt.NDArray[np.float64]
    """Mature individuals, summed over subpopulations (replicate, year)."""
    subpopulations: npt.NDArray[np.float64] | None
    """Mature individuals by subpopulation (replicate, year, population), or None."""
    generation_length: float
    """Years (> 0)."""
    year0: int
    """Column of year 0 (the columns before it are history)."""
    settings: RedListSettings

    @property
    def shape(self) -> tuple[int, int]:
        """(replicates, columns)."""
        return self.mature.shape  # type: ignore[return-value]


@dataclasses.dataclass(frozen=True)
class CriterionLevels:
    """Levels of the sub-criteria of one criterion, and what was not evaluated and why."""

    levels: dict[str, Levels]
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, eq=False)
class Trend:
    """Continuing decline and extreme fluctuations (three-valued), shared by B and C."""

    declining: npt.NDArray[np.float64]
    fluctuating: npt.NDArray[np.float64]


def c_window(t: Trajectories, years: int, generations: int) -> int:
    """Length of a window of C1 (and of continuing decline) in years.

    IUCN 2012 C1 caps its windows at 100 years "in the future" only; a past window, like A2's,
    keeps its full length of generations."""
    w = years_window(years, generations, t.generation_length)
    return min(w, MAX_FUTURE) if t.settings.c1_direction == "future" else w


def trend(t: Trajectories) -> Trend:
    """Continuing decline (C2, B b(v)): a strictly positive reduction over the longer of 3 years or
    1 generation (the C1 CR window); extreme fluctuations (C2b, B c): Guidelines 4.7, over the
    C1 VU window."""
    s = t.settings
    l_short = c_window(t, C1_YEARS[0], C1_GENERATIONS[0])
    decline_red = directed(
        window_reduction(t.mature, l_short, s.reduction_method), l_short, s.c1_direction
    )
    with np.errstate(invalid="ignore"):
        declining = np.where(np.isnan(decline_red), np.nan, (decline_red > TOL).astype(float))
    l_vu = c_window(t, C1_YEARS[2], C1_GENERATIONS[2])
    fluct = directed(fluctuation(t.mature, l_vu, s.fluctuation_ratio), l_vu, s.c1_direction)
    return Trend(declining=declining, fluctuating=fluct)


# ---------------------------------------------------------------------------------------------------
# A: reduction (IUCN 2012 criterion A; Guidelines 4.5 and 5)


def criterion_a(t: Trajectories, subcriteria: tuple[str, ...]) -> CriterionLevels:
    """A1 and A2 on the window ending at the assessment year, A3 on the window starting there
    (capped at 100 years), A4 on the worst window with the assessment year strictly inside; each
    window the longer of 10 years or 3 generations."""
    s = t.settings
    la = years_window(10, 3, t.generation_length)
    w_full = window_reduction(t.mature, la, s.reduction_method)
    out: dict[str, Levels] = {}
    for sub in subcriteria:
        thr = A1_THRESHOLDS if sub == "A1" else A234_THRESHOLDS
        if sub in ("A1", "A2"):
            red = shift(w_full, -la)  # window ending at the assessment year
            out[sub] = reduction_levels(red, thr, s.nt_reduction_margin)
        elif sub == "A3":
            l3 = min(la, MAX_FUTURE)
            red = window_reduction(t.mature, l3, s.reduction_method) if l3 != la else w_full
            out[sub] = reduction_levels(red, thr, s.nt_reduction_margin)
        else:
            out[sub] = a4_levels(w_full, la, thr, s.nt_reduction_margin)
    return CriterionLevels(out)


def reduction_levels(
    red: npt.NDArray[np.float64], thresholds: tuple[float, float, float], nt_margin: float
) -> Levels:
    """Levels of a reduction against (CR, EN, VU) thresholds, NT within ``nt_margin`` of VU."""
    conds = [(lvl, ge3(red, thr)) for lvl, thr in zip((CR, EN, VU), thresholds, strict=True)]
    conds.append((NT, ge3(red, thresholds[2] - nt_margin)))
    return levels(conds)


def a4_levels(
    w: npt.NDArray[np.float64], la: int, thresholds: tuple[float, float, float], nt_margin: float
) -> Levels:
    """A4: the worst of the windows of length ``la`` with the assessment year strictly inside and
    the end at most 100 years ahead; "not met" needs every such window covered."""
    offsets = range(-(la - 1), min(-1, MAX_FUTURE - la) + 1)
    worst = np.full_like(w, -np.inf)
    covered_all = np.ones(w.shape, dtype=bool)
    for off in offsets:
        s = shift(w, off)
        covered_all &= ~np.isnan(s)
        worst = np.fmax(worst, s)
    worst = np.where(np.isneginf(worst), np.nan, worst)
    lv, incomplete = reduction_levels(worst, thresholds, nt_margin)
    # a covered window not meeting a threshold says nothing about the uncovered ones
    incomplete = incomplete | (~covered_all & (lv < CR))
    lv = np.where((lv == LC) & ~covered_all, np.int8(NOT_EVALUABLE), lv).astype(np.int8)
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
    for sub, area, thresholds in (("B1", eoo, B1_EOO), ("B2", aoo, B2_AOO)):
        if area is None:
            continue
        conds = []
        nt_cond = np.zeros(t.shape)
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
    return CriterionLevels(out)


# ---------------------------------------------------------------------------------------------------
# C: small population and decline (Guidelines 4.6, 7)


def criterion_c(t: Trajectories, tr: Trend) -> CriterionLevels:
    """C1 (a rate of continuing decline), C2a(i), C2a(ii) (subpopulation structure) and C2b
    (extreme fluctuations) with fewer than 250 / 2,500 / 10,000 mature individuals."""
    out = {"C1": c1_levels(t, tr), "C2b": c2b_levels(t, tr)}
    if t.subpopulations is None:
        return CriterionLevels(out, ("C2a not evaluated: no subpopulations given",))
    out["C2a(i)"], out["C2a(ii)"] = c2a_levels(t, tr, t.subpopulations)
    return CriterionLevels(out)


def _near_vu_size(t: Trajectories) -> npt.NDArray[np.float64]:
    """At most ``(1 + nt_size_margin)`` x 10,000 mature individuals (inclusive; Guidelines 10.1)."""
    limit = C_SIZE[2] * (1.0 + t.settings.nt_size_margin) + TOL
    return (t.mature <= limit).astype(float)


def c1_levels(t: Trajectories, tr: Trend) -> Levels:
    """C1: fewer than 250 / 2,500 / 10,000 with a decline of 25% in 3 years or 1 generation / 20%
    in 5 years or 2 generations / 10% in 10 years or 3 generations. NT: fewer than 10,000 and
    declining, or a VU rate with at most ``(1 + nt_size_margin)`` x 10,000."""
    s = t.settings
    n = t.mature
    conds = []
    rates = []
    for level, size, rate, yrs, gens in zip(
        (CR, EN, VU), C_SIZE, C1_RATE, C1_YEARS, C1_GENERATIONS, strict=True
    ):
        lk = c_window(t, yrs, gens)
        red = directed(window_reduction(n, lk, s.reduction_method), lk, s.c1_direction)
        small = (n < size).astype(float)
        conds.append((level, and3(small, ge3(red, rate))))
        rates.append(red)
    nt = or3(
        and3((n < C_SIZE[2]).astype(float), tr.declining),
        and3(_near_vu_size(t), ge3(rates[-1], C1_RATE[2])),
    )
    conds.append((NT, nt))
    return levels(conds)


def c2b_levels(t: Trajectories, tr: Trend) -> Levels:
    """C2b: small, continuing decline and extreme fluctuations; NT: the same with a population
    close to (not under) 10,000 (Guidelines 10.1; IUCN training example: 13,250 declining)."""
    conds = []
    for level, size in zip((CR, EN, VU), C_SIZE, strict=True):
        small = (t.mature < size).astype(float)
        conds.append((level, and3(small, tr.declining, tr.fluctuating)))
    conds.append((NT, and3(_near_vu_size(t), tr.declining, tr.fluctuating)))
    return levels(conds)


def c2a_levels(
    t: Trajectories, tr: Trend, subpopulations: npt.NDArray[np.float64]
) -> tuple[Levels, Levels]:
    """C2a(i): no subpopulation above 50 / 250 / 1,000; C2a(ii): at least 90 / 95 / 100% in one
    subpopulation; both with a small population and a continuing decline."""
    n = t.mature
    biggest = subpopulations.max(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, biggest / np.where(n > 0, n, 1.0), 0.0)
    conds_ai, conds_aii = [], []
    for level, size, ai, aii in zip((CR, EN, VU), C_SIZE, C2AI_MAX, C2AII_FRACTION, strict=True):
        small = (n < size).astype(float)
        conds_ai.append((level, and3(small, tr.declining, (biggest <= ai).astype(float))))
        conds_aii.append((level, and3(small, tr.declining, ge3(share, aii))))
    near = _near_vu_size(t)
    conds_ai.append((NT, and3(near, tr.declining, (biggest <= C2AI_MAX[2]).astype(float))))
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
    n = t.mature
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

    From ``extinction_probability`` (replicate, year, 3) where given; otherwise from the replicates
    at year 0 (the fraction whose mature individuals fall to ``settings.quasi_extinction`` within
    each window) and ``NE`` at other years. With ``partial``, years where every probability is
    NaN are treated as without it."""
    notes: list[str] = []
    lv = _e_levels(t, extinction_probability, notes, partial)
    return CriterionLevels({"E": lv}, tuple(notes))


def _e_levels(
    t: Trajectories,
    extinction_probability: npt.ArrayLike | None,
    notes: list[str],
    partial: bool = False,
) -> Levels:
    n, i0, settings = t.mature, t.year0, t.settings
    g = t.generation_length
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
        lv, incomplete = _e_levels(t, None, [], False)
        if assessed.any():
            lv_p, inc_p = _e_levels(t, p, [], False)
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
        for k, (yrs, gens) in enumerate(zip(E_YEARS, E_GENERATIONS, strict=True)):
            wk = min(years_window(yrs, gens, g), MAX_FUTURE)
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
    for k, (lvl, thr) in enumerate(zip((CR, EN, VU), E_PROB, strict=True)):
        known = np.fmax(p[:, :, k], lower[:, :, k])
        bound_met = lower[:, :, k] >= thr - TOL
        pk = np.where(np.isnan(p[:, :, k]), np.where(bound_met, lower[:, :, k], np.nan), known)
        conds.append((lvl, ge3(pk, thr)))
    lv, incomplete = levels(conds)
    if extinction_probability is None:
        later = np.arange(cols) != i0
        lv[:, later] = NE
        incomplete[:, later] = False
    return lv, incomplete
