"""Three-valued logic of the criteria: 1.0 met, 0.0 not met, NaN unknown (window not covered).

A condition is "met" as soon as the data show it and "not met" only when everything it needs lies
within the data; :func:`levels` turns conditions per level into the level met by a sub-criterion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from pva.redlist.categories import NOT_EVALUABLE

TOL = 1e-9
"""Float comparisons at thresholds: 1 - 200/1000 must count as "at least 80%"."""

Levels: TypeAlias = tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]
"""Level met by a sub-criterion (replicate, year) and where a higher level could not be checked."""


def and3(*xs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Three-valued AND: 0 if any is 0, else NaN if any is NaN, else 1."""
    return _three_valued(xs, decisive=0.0)


def or3(*xs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Three-valued OR: 1 if any is 1, else NaN if any is NaN, else 0."""
    return _three_valued(xs, decisive=1.0)


def _three_valued(
    xs: Sequence[npt.NDArray[np.float64]], *, decisive: float
) -> npt.NDArray[np.float64]:
    """``decisive`` if any of ``xs`` is, else NaN if any is NaN, else the other value."""
    shape = np.broadcast_shapes(*(np.shape(x) for x in xs))
    hit = np.zeros(shape, dtype=bool)
    unknown = np.zeros(shape, dtype=bool)
    for x in xs:
        hit |= x == decisive
        unknown |= np.isnan(x)
    return np.where(hit, decisive, np.where(unknown, np.nan, 1.0 - decisive))


def ge3(x: npt.NDArray[np.float64], threshold: float) -> npt.NDArray[np.float64]:
    """x >= threshold (within :data:`TOL`), NaN where x is NaN."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(x), np.nan, (x >= threshold - TOL).astype(float))


def levels(conds: Sequence[tuple[int, npt.NDArray[np.float64]]]) -> Levels:
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
