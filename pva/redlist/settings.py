"""Choices the IUCN Guidelines leave to the assessor, made explicit (:class:`RedListSettings`).

References
----------
IUCN Standards and Petitions Committee (2024) Guidelines for Using the IUCN Red List Categories and
Criteria, Version 16 (cited as "Guidelines" with section numbers).
"""

from __future__ import annotations

import dataclasses
from typing import Literal, TypeAlias

import numpy as np

from pva import validation

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
    c1_direction: Literal["both", "past", "future"] = "both"
    """Which declines C1 reads (IUCN 2012 C1: "an observed, estimated or projected continuing
    decline"): ``"past"``, the rate over the window ending at the assessment year (not capped: the
    100-year cap is on the future) while the decline is still going on there (see
    ``decline_alpha``); ``"future"``, the rate projected from the state at the assessment year (up
    to 100 years ahead), only where a projection is known there (see
    :func:`pva.redlist.classify`); ``"both"``, whichever is worse."""
    decline_alpha: float = 0.01
    """Continuing decline (C1, C2, B b(v); IUCN 2012 definition 6 and Guidelines 4.6: "a recent,
    current or projected future decline ... liable to continue ... Fluctuations will not normally
    count as continuing declines") is a log-linear trend over the last ``decline_years`` years or
    ``decline_generations`` generations, whichever is longer, whose slope is below 0 at this
    one-sided significance level, allowing for the autocorrelation of the counts
    (:func:`pva.redlist.windows.significant_decline`: Cochrane & Orcutt 1949). It is not evaluable
    before twice that window of past is known. 0.01 is a choice of this package: a
    stationary population must rarely read as declining, because every false "decline" of a
    single population of fewer than 10,000 mature individuals is VU C2a(ii). With strongly
    autocorrelated noise the rate exceeds ``decline_alpha``: 2.5% of replicate-years at 0.01 and
    0.3% at 0.001 for a Ricker population with lag-1 autocorrelation of log N 0.9 (see the
    :mod:`pva.redlist` section "Natural fluctuations")."""
    decline_years: int = 5
    """See ``decline_alpha`` (with ``decline_generations``: the C1 EN window, max(5 y, 2 G), long
    enough for a trend test, short enough to describe the present)."""
    decline_generations: float = 2.0
    """See ``decline_alpha``."""
    projection_statistic: Literal["mean", "median"] = "mean"
    """Which trajectory of the replicates at year 0 is the projection read by A3, A4 and projected
    C1 there (the reduction "projected ... based on population models", Guidelines 4.5.2): the
    expected (mean) or median number of mature individuals each year. Nested projections passed
    as ``projected_mature`` should use the same statistic."""
    nt_reduction_margin: float = 0.10
    """NT under A when the reduction is at least the VU threshold minus this (0.20 for A2-A4, from
    the Guidelines section 10.1 example "declined by an estimated 20-25% in three generations"; 0.40
    for A1 by the same margin). The downward phase of a fluctuation counts as a reduction (IUCN
    2012 definition 4: unless there is good evidence it is one), so a stationary population with
    autocorrelated noise is NT under A in some years (6.8% of replicate-years in the example of the
    :mod:`pva.redlist` section "Natural fluctuations"); 0 gives no NT under A."""
    nt_size_margin: float = 0.5
    """NT when a number is within this fraction above its VU threshold (Guidelines section 10.1,
    "close to the VU thresholds"): under C, at most ``(1 + margin)`` x 10,000 mature individuals
    with a C1 VU rate or a C2a(ii)/C2b structure, or fewer than 10,000 with the largest
    subpopulation at most ``(1 + margin)`` x 1,000 (C2a(i)); under D1, at most ``(1 + margin)`` x
    1,000. The bounds are inclusive and 0.5 a choice of this package that takes in IUCN's Red List
    training examples: "15,000 mature individuals, 10% decline in three generations, continuing":
    NT C1; "13,250, declining, all in one subpopulation": NT C2a(ii); "fewer than 2,500, declining,
    largest subpopulation 1,180": NT C2a(i)."""
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
    """Criterion E from the replicates: a future counts as extinct within a window when its
    individuals (``total`` abundance; mature individuals where ``total`` is not given) fall to or
    below this number in the window. 0 (the default): extinction, the same event as EX and as
    extinctions prevented (no individuals at all); a species' quasi-extinction threshold where the
    user asks for it."""
    quasi_extinction_on: Literal["total", "mature"] = "total"
    """What ``quasi_extinction`` counts: all individuals (default) or mature individuals, as the
    species' ``quasi_extinction_on`` in a study."""
    criteria: tuple[str, ...] = ("A", "B", "C", "D", "E")
    """Criteria evaluated; the others are reported as ``NE``."""
    lc_rule: Literal["all", "any"] = "any"
    """When nothing is met at NT or above: ``"any"`` (the default) assigns LC as soon as one
    criterion could be evaluated, as IUCN does (a taxon is LC when it "does not qualify" for the
    other categories, IUCN 2012 section IV; no criterion needs to be evaluable for the others;
    :attr:`Classification.not_evaluated` lists those that were not); ``"all"`` assigns LC only if
    every evaluated criterion could be evaluated for that year (otherwise ``not evaluable``)."""

    def __post_init__(self) -> None:
        if self.reduction_method not in ("point", "fitted"):
            raise ValueError(
                f"reduction_method must be 'point' or 'fitted'; got {self.reduction_method!r}"
            )
        if self.c1_direction not in ("both", "past", "future"):
            raise ValueError(
                f"c1_direction must be 'both', 'past' or 'future'; got {self.c1_direction!r}"
            )
        if self.projection_statistic not in ("mean", "median"):
            raise ValueError(
                f"projection_statistic must be 'mean' or 'median'; got {self.projection_statistic!r}"
            )
        if not (0 < self.decline_alpha < 0.5):
            raise ValueError(f"decline_alpha must lie in (0, 0.5); got {self.decline_alpha!r}")
        validation.integer(self.decline_years, "decline_years", minimum=2)
        if not (np.isfinite(self.decline_generations) and self.decline_generations >= 0):
            raise ValueError(
                f"decline_generations must be a finite number >= 0; got {self.decline_generations!r}"
            )
        if self.lc_rule not in ("all", "any"):
            raise ValueError(f"lc_rule must be 'all' or 'any'; got {self.lc_rule!r}")
        for field in ("nt_reduction_margin", "nt_size_margin"):
            v = getattr(self, field)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{field} must be a finite number >= 0; got {v!r}")
        if not (np.isfinite(self.fluctuation_ratio) and self.fluctuation_ratio > 1):
            raise ValueError(f"fluctuation_ratio must be > 1; got {self.fluctuation_ratio!r}")
        if self.quasi_extinction_on not in ("total", "mature"):
            raise ValueError(
                f"quasi_extinction_on must be 'total' or 'mature'; got {self.quasi_extinction_on!r}"
            )
        if not (np.isfinite(self.quasi_extinction) and self.quasi_extinction >= 0):
            raise ValueError(f"quasi_extinction must be >= 0; got {self.quasi_extinction!r}")
        validation.integer(self.d2_max_locations, "d2_max_locations", minimum=1)
        if not (np.isfinite(self.d2_max_aoo) and self.d2_max_aoo > 0):
            raise ValueError(f"d2_max_aoo must be finite and > 0 (km²); got {self.d2_max_aoo!r}")
        object.__setattr__(self, "criteria", tuple(self.criteria))
        bad = [c for c in self.criteria if c not in ("A", "B", "C", "D", "E")]
        if bad:
            raise ValueError(f"criteria must be a subset of 'A'..'E'; got unknown {bad!r}")
