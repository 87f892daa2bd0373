"""Time windows of the criteria and the statistics taken over them (reduction, fluctuation).

Statistics are computed for many windows at once: every start column, or the windows ending (or
starting) at the assessment columns the caller names.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pva.redlist.logic import TOL
from pva.redlist.settings import ReductionMethod

MAX_FUTURE = 100
"""Years: the cap on projected windows (A3, A4, C1, E; IUCN 2012)."""

FIRST_WINDOW = np.zeros(1, dtype=np.intp)
"""``starts`` of :func:`window_reduction` for the window starting at the first column only."""


def years_window(years_min: int, generations: float | None, generation_length: float) -> int:
    """The longer of ``years_min`` and ``generations`` generations, in whole years (nearest)."""
    if generations is None:
        return int(years_min)
    return max(int(years_min), int(np.floor(generations * generation_length + 0.5)))


def window_reduction(
    n: npt.NDArray[np.float64],
    length: int,
    method: ReductionMethod,
    starts: npt.NDArray[np.intp] | None = None,
) -> npt.NDArray[np.float64]:
    """Reduction over ``[s, s + length]`` for every start column ``s`` (replicate, year), or for
    each entry of ``starts`` when given (one column per entry); NaN where the window runs past
    the data. Negative values are increases.

    ``"point"``: ``1 - N(s + length) / N(s)`` (Guidelines 4.5); ``"fitted"``: ``1 - exp(b L)`` with
    ``b`` the least-squares slope of ``log N`` over the window (Guidelines 4.5.1)."""
    reps, cols = n.shape
    s = np.arange(cols) if starts is None else np.asarray(starts, dtype=np.intp)
    out = np.full((reps, s.size), np.nan)
    inside = (s >= 0) & (s + length < cols)
    if length < 1 or not inside.any():
        return out
    first = s[inside]
    if method == "point":
        a, b = n[:, first], n[:, first + length]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # a window starting at zero holds nobody to lose: no reduction
            out[:, inside] = np.where(a > 0, 1.0 - b / np.where(a > 0, a, 1.0), 0.0)
        return out
    y = np.log(np.maximum(n, 0.5))
    k = np.arange(cols, dtype=float)
    c0 = np.concatenate([np.zeros((reps, 1)), np.cumsum(y, axis=1)], axis=1)
    c1 = np.concatenate([np.zeros((reps, 1)), np.cumsum(y * k, axis=1)], axis=1)
    sum_y = c0[:, first + length + 1] - c0[:, first]
    sum_ky = c1[:, first + length + 1] - c1[:, first] - first * sum_y  # x from the window start
    x = np.arange(length + 1, dtype=float)
    sxx = float(np.sum((x - x.mean()) ** 2))
    slope = (sum_ky - x.mean() * sum_y) / sxx
    out[:, inside] = 1.0 - np.exp(slope * length)
    return out


_BLOCK_VALUES = 2**21
"""Values of a stack of windows built at once (16 MiB of float64): the windows of many assessment
years are taken in groups of ends, so that every year's assessment stays in bounded memory."""


def _groups(count: int, per_item: int) -> list[slice]:
    """Consecutive slices of ``range(count)`` of at most :data:`_BLOCK_VALUES` // ``per_item``."""
    step = max(1, _BLOCK_VALUES // max(per_item, 1))
    return [slice(i, i + step) for i in range(0, count, step)]


def _stack(
    y_t: npt.NDArray[np.float64], first: npt.NDArray[np.intp], points: int
) -> npt.NDArray[np.float64]:
    """The windows of ``points`` columns starting at the columns ``first``, from ``y_t`` (year,
    replicate): shape (point, window, replicate), C-contiguous, so that sums over the points
    (axis 0) add them one after the other, in the order of the years."""
    return y_t[first[None, :] + np.arange(points)[:, None]]


def fluctuation(
    n: npt.NDArray[np.float64],
    length: int,
    ratio: float,
    starts: npt.NDArray[np.intp] | None = None,
) -> npt.NDArray[np.float64]:
    """1.0 where the window ``[s, s + length]`` holds a rise and a fall by >= ``ratio``; NaN where it
    runs past the data (Guidelines section 4.7). One column per start ``s`` (replicate, year), or
    per entry of ``starts`` when given (start columns, possibly negative: NaN there)."""
    reps, cols = n.shape
    s = np.arange(cols) if starts is None else np.asarray(starts, dtype=np.intp)
    out = np.full((reps, s.size), np.nan)
    inside = (s >= 0) & (s + length < cols)
    if length < 1 or not inside.any():
        return out
    y_t = np.ascontiguousarray(np.log(np.maximum(n, 1.0)).T)
    first = s[inside]
    lr = np.log(ratio) - TOL
    found = np.empty((reps, first.size))
    for part in _groups(first.size, (length + 1) * reps):
        window = _stack(y_t, first[part], length + 1)
        # the largest rise (fall) to a year from the lowest (highest) year before it
        rise = np.maximum((window[1:] - np.minimum.accumulate(window, axis=0)[:-1]).max(0), 0.0)
        fall = np.maximum((np.maximum.accumulate(window, axis=0)[:-1] - window[1:]).max(0), 0.0)
        found[:, part] = ((rise >= lr) & (fall >= lr)).T
    out[:, inside] = found
    return out


def _linear_fits(
    y_t: npt.NDArray[np.float64], length: int, ends: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Least-squares line through ``y_t`` (year, replicate) over the windows of ``length + 1``
    points ending at the columns ``ends`` (each >= ``length``): slope, residual sum of squares and
    the lag-1 sum of residual products, each (end, replicate)."""
    points = length + 1
    x = (np.arange(points, dtype=float) - length / 2.0)[:, None, None]
    sxx = float(np.sum(x**2))
    window = _stack(y_t, ends - length, points)
    mean_y = window.sum(axis=0) / points
    b = (x * window).sum(axis=0) / sxx
    e = window - mean_y - b * x
    return b, (e**2).sum(axis=0), (e[:-1] * e[1:]).sum(axis=0)


def significant_decline(
    n: npt.NDArray[np.float64],
    length: int,
    alpha: float,
    ends: npt.NDArray[np.intp] | None = None,
) -> npt.NDArray[np.float64]:
    """1.0 where the log-linear trend over the ``length`` years ending at each column (replicate,
    year) declines significantly; 0.0 where it does not; NaN before ``2 * length`` years of past
    are covered. With ``ends``, one column per entry (the columns tested), not per column of ``n``.

    The trend is the slope of ``log N`` (counts floored at 0.5) on the year, with first-order
    autoregressive noise: counts held near a carrying capacity are autocorrelated (lag-1
    autocorrelation 0.8 in a Ricker population of 3,600), and the ordinary least-squares t test
    then reads fluctuations as trends (9% of 15-year windows "declining" at a 1% level). The test
    is that of Cochrane & Orcutt (1949, J. Am. Stat. Assoc. 44: 32-61): with ``rho`` the lag-1
    autocorrelation of the noise, ``z_k = y_k - rho y_(k-1)`` has independent errors and the same
    sign of trend, so the slope of ``z`` on ``k`` over the ``length`` quasi-differences is tested
    with a one-sided t test on ``length - 2`` degrees of freedom. ``rho`` is estimated from the
    residuals of a line through the last ``2 * length + 1`` points (a window of ``length`` alone
    estimates it too poorly), corrected for its small-sample bias ``-(1 + 3 rho) / n`` (Marriott &
    Pope 1954, Biometrika 41: 390-402) and kept in [0, 0.99]. Measured on that Ricker population
    (``experiments/verify_redlist.py``): 2.9% of 15-year windows declining at a 1% level (0.6%
    for independent noise), and 95% of them under a 2% yearly decline. An exact exponential
    decline (no residual) is a decline.
    """
    from scipy import stats

    reps, cols = n.shape
    at = np.arange(cols) if ends is None else np.asarray(ends, dtype=np.intp)
    out = np.full((reps, at.size), np.nan)
    inside = (at >= 2 * length) & (at < cols)
    if length < 3 or not inside.any():
        return out
    y_t = np.ascontiguousarray(np.log(np.maximum(n, 0.5)).T)
    # windows end at the columns j >= 2 length; quasi-differences at k = j - length + 1 .. j
    last = at[inside]
    critical = float(stats.t.ppf(1.0 - alpha, length - 2))
    found = np.empty((reps, last.size))
    for part in _groups(last.size, (2 * length + 1) * reps):
        found[:, part] = _declining(y_t, length, last[part], critical).T
    out[:, inside] = found
    return out


def _declining(
    y_t: npt.NDArray[np.float64], length: int, last: npt.NDArray[np.intp], critical: float
) -> npt.NDArray[np.float64]:
    """:func:`significant_decline` at the columns ``last`` (each >= 2 ``length``) of ``y_t`` (year,
    replicate, log counts): 1.0, 0.0 or NaN, (end, replicate)."""
    _, sse_long, lag_long = _linear_fits(y_t, 2 * length, last)
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = np.where(sse_long > 0, lag_long / np.where(sse_long > 0, sse_long, 1.0), 0.0)
    r1 = np.clip(r1, 0.0, 1.0)
    rho = np.clip(r1 + (1.0 + 3.0 * r1) / (2 * length + 1), 0.0, 0.99)
    x = (np.arange(length, dtype=float) - (length - 1) / 2.0)[:, None, None]
    sxx = float(np.sum(x**2))
    # the quasi-differences of every window, (k, end, replicate), k = 0 .. length - 1
    first = last - length + 1
    z = _stack(y_t, first, length) - rho * _stack(y_t, first - 1, length)
    mean_z = z.sum(axis=0) / length
    b = (x * z).sum(axis=0) / sxx
    sse = ((z - mean_z - b * x) ** 2).sum(axis=0)
    scale = np.maximum(np.abs(mean_z), 1.0)
    exact = sse <= (TOL * scale) ** 2 * length
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(sse / (length - 2) / sxx)
        t = b / np.where(se > 0, se, 1.0)
    significant = np.where(exact, b < -TOL, t < -critical)
    covered = ~np.isnan(rho) & ~np.isnan(sse_long)
    return np.where(covered, significant.astype(float), np.nan)


def lead_reduction(
    projected: npt.NDArray[np.float64],
    length: int,
    method: ReductionMethod,
    known: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.float64]:
    """Reduction over leads ``0 .. length`` of a projection (replicate, year, lead): the window
    starting at each assessment year; NaN where the projection does not reach ``length``.
    ``known`` (replicate, year), where given, marks where a projection exists: only the columns
    holding one are read (projections are often known at a few years only)."""
    reps, cols, leads = projected.shape
    out = np.full((reps, cols), np.nan)
    if length >= leads:
        return out
    columns = np.arange(cols) if known is None else np.flatnonzero(known.any(axis=0))
    if columns.size == 0:
        return out
    flat = projected[:, columns, : length + 1].reshape(reps * columns.size, length + 1)
    present = ~np.isnan(flat).any(axis=1)
    red = np.full(reps * columns.size, np.nan)
    if present.any():
        red[present] = window_reduction(flat[present], length, method, starts=FIRST_WINDOW)[:, 0]
    out[:, columns] = red.reshape(reps, columns.size)
    return out
