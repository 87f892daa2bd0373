"""Time windows of the criteria and the statistics taken over them (reduction, fluctuation).

Statistics are computed for every window start column at once; :func:`shift` and :func:`directed`
re-index them by the assessment column (a window ending there, or starting there).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pva.redlist.logic import TOL
from pva.redlist.settings import ReductionMethod

MAX_FUTURE = 100
"""Years: the cap on projected windows (A3, A4, C1, E; IUCN 2012)."""


def years_window(years_min: int, generations: float | None, generation_length: float) -> int:
    """The longer of ``years_min`` and ``generations`` generations, in whole years (nearest)."""
    if generations is None:
        return int(years_min)
    return max(int(years_min), int(np.floor(generations * generation_length + 0.5)))


def window_reduction(
    n: npt.NDArray[np.float64], length: int, method: ReductionMethod
) -> npt.NDArray[np.float64]:
    """Reduction over ``[s, s + length]`` for every start column ``s`` (replicate, year); NaN where
    the window runs past the last year. Negative values are increases.

    ``"point"``: ``1 - N(s + length) / N(s)`` (Guidelines 4.5); ``"fitted"``: ``1 - exp(b L)`` with
    ``b`` the least-squares slope of ``log N`` over the window (Guidelines 4.5.1)."""
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


def shift(w: npt.NDArray[np.float64], offset: int) -> npt.NDArray[np.float64]:
    """``out[:, i] = w[:, i + offset]``, NaN outside."""
    out = np.full_like(w, np.nan)
    cols = w.shape[1]
    lo, hi = max(0, -offset), min(cols, cols - offset)
    if lo < hi:
        out[:, lo:hi] = w[:, lo + offset : hi + offset]
    return out


def directed(w: npt.NDArray[np.float64], length: int, direction: str) -> npt.NDArray[np.float64]:
    """Window statistic indexed by assessment column: starting there (future) or ending there."""
    return w if direction == "future" else shift(w, -length)


def fluctuation(n: npt.NDArray[np.float64], length: int, ratio: float) -> npt.NDArray[np.float64]:
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
    lr = np.log(ratio) - TOL
    out[:, :m] = ((rise >= lr) & (fall >= lr)).astype(float)
    return out
