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
