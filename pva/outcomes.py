"""Risk metrics from simulated trajectories, each with its Monte Carlo uncertainty.

Every function here is pure: it takes abundances of shape ``(replicate, year, ...)`` — a numpy array,
or an :class:`xarray.DataArray` that has ``replicate`` and ``year`` dims (any other dims, such as
``scenario`` or ``population``, are carried through), or a results Dataset of ``pva run`` or
:func:`pva.simulate` (its total abundance summed over populations) — and returns numpy arrays or
DataArrays of the same kind. Nothing here knows about the engine: the same functions summarise
trajectories from any source (our engine, popbio, a field census). :func:`summarize` gathers them
for a results Dataset, with each species' quasi-extinction setting as recorded
(:func:`pva.results.provenance`).

Monte Carlo uncertainty is reported beside every estimate, because a probability of extinction of
0.12 from 100 replicates and from 100 000 replicates are different statements:

* probabilities: the binomial standard error ``sqrt(p (1 - p) / R)`` and a 95% score interval
  (Wilson 1927; recommended over the Wald interval by Brown, Cai & DasGupta 2001), or the exact
  Clopper & Pearson (1934) interval on request;
* means: ``sd / sqrt(R)`` with a normal interval (replicates are independent);
* quantiles: the distribution-free interval from order statistics (Hahn & Meeker 1991, section 5.2);
* the median time to extinction: the interval obtained by inverting the pointwise band of the
  extinction CDF (Brookmeyer & Crowley 1982).

References
----------
Brookmeyer, R. & J. Crowley. 1982. A confidence interval for the median survival time. Biometrics
38:29-41.
Brown, L.D., T.T. Cai & A. DasGupta. 2001. Interval estimation for a binomial proportion. Statistical
Science 16:101-133.
Caswell, H. 2001. Matrix Population Models, 2nd ed. Sinauer. Chapter 14 (stochastic growth rate).
Clopper, C.J. & E.S. Pearson. 1934. The use of confidence or fiducial limits illustrated in the case
of the binomial. Biometrika 26:404-413.
Cochran, W.G. 1977. Sampling Techniques, 3rd ed. Wiley. Section 6.4 (variance of a ratio estimator).
Dennis, B., P.L. Munholland & J.M. Scott. 1991. Estimation of growth and extinction parameters for
endangered species. Ecological Monographs 61:115-143.
Hahn, G.J. & W.Q. Meeker. 1991. Statistical Intervals. Wiley.
Heyde, C.C. & J.E. Cohen. 1985. Confidence intervals for demographic projections based on products of
random matrices. Theoretical Population Biology 27:120-153.
McCarthy, M.A. & C. Thompson. 2001. Expected minimum population size as a measure of threat. Animal
Conservation 4:351-355.
Morris, W.F. & D.F. Doak. 2002. Quantitative Conservation Biology. Sinauer. Chapters 3 and 7.
Wilson, E.B. 1927. Probable inference, the law of succession, and statistical inference. Journal of
the American Statistical Association 22:209-212.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import results

FloatArray = npt.NDArray[np.float64]
Trajectories = npt.ArrayLike | xr.DataArray | xr.Dataset
Output = Any  # FloatArray, a float, or an xr.DataArray mirroring the input
IntervalMethod = Literal["wilson", "clopper-pearson"]


# ---------------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------------


def _trajectories(abundance: Trajectories) -> tuple[FloatArray, xr.DataArray | None]:
    """Return ``(values (replicate, year, ...), template)``; template is the DataArray, if any."""
    if isinstance(abundance, xr.Dataset):
        # The Dataset of pva.simulate / pva run: the species' total over its populations (sites).
        if results.TOTAL not in abundance.data_vars:
            raise TypeError(
                f"abundance must be an array, a DataArray or a Dataset with {results.TOTAL!r}; "
                f"got a Dataset with {sorted(map(str, abundance.data_vars))!r}"
            )
        abundance = abundance[results.TOTAL]
        if results.POPULATION in abundance.dims:
            abundance = abundance.sum(results.POPULATION)
    if isinstance(abundance, xr.DataArray):
        missing = [d for d in (results.REPLICATE, results.YEAR) if d not in abundance.dims]
        if missing:
            raise ValueError(
                f"abundance must have dims {results.REPLICATE!r} and {results.YEAR!r}; "
                f"got dims {abundance.dims!r} (missing {missing!r})"
            )
        template = abundance.transpose(results.REPLICATE, results.YEAR, ...)
        values = np.asarray(template.values, dtype=np.float64)
    else:
        template = None
        values = np.asarray(abundance, dtype=np.float64)
        if values.ndim < 2:
            raise ValueError(
                "abundance must have shape (replicate, year, ...) with at least 2 dimensions; "
                f"got shape {values.shape!r}"
            )
    if values.shape[0] < 1 or values.shape[1] < 1:
        raise ValueError(
            f"abundance needs at least one replicate and one year; got shape {values.shape!r}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("abundance must be finite (no NaN or infinity)")
    if np.any(values < 0):
        raise ValueError(f"abundance must be >= 0; got a minimum of {values.min()!r}")
    return values, template


def _years(values: FloatArray, template: xr.DataArray | None) -> FloatArray:
    if template is not None and results.YEAR in template.coords:
        return np.asarray(template[results.YEAR].values, dtype=np.float64)
    return np.arange(values.shape[1], dtype=np.float64)


def _wrap(
    data: Any,
    template: xr.DataArray | None,
    *,
    drop: Sequence[str],
    lead: Sequence[tuple[str, Any]] = (),
    name: str | None = None,
    attrs: dict[str, str] | None = None,
) -> Output:
    """Return ``data`` as it came in: numpy for numpy input, a DataArray for DataArray input.

    ``drop`` names the template dims that were reduced away; ``lead`` prepends new dims (with
    coordinates) that the reduction created, such as ``quantile``.
    """
    if template is None:
        arr = np.asarray(data)
        return arr.item() if arr.ndim == 0 else arr
    dims = [d for d in template.dims if d not in drop]
    coords: dict[str, Any] = {
        str(name_): coord
        for name_, coord in template.coords.items()
        if set(coord.dims) <= set(dims) and name_ not in drop
    }
    coords.update(dict(lead))
    return xr.DataArray(
        np.asarray(data),
        dims=[d for d, _ in lead] + dims,
        coords=coords,
        name=name,
        attrs=attrs or {},
    )


def _check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1; got {confidence!r}")
    return float(confidence)


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold must be a finite number >= 0; got {threshold!r}")
    return float(threshold)


def z_score(confidence: float) -> float:
    """The two-sided standard normal quantile ``z`` with P(|Z| <= z) = ``confidence`` (1.959964
    for 0.95): the half-width of a normal interval in standard errors. From scipy.special's
    ``ndtri`` (scipy.stats, which gives the same number, takes three times as long to import)."""
    import scipy.special

    return float(-scipy.special.ndtri((1.0 - confidence) / 2.0))


# ---------------------------------------------------------------------------------------------------
# result containers
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Estimate:
    """A Monte Carlo estimate with its standard error and interval (arrays or DataArrays alike)."""

    estimate: Output
    """The point estimate."""
    mcse: Output
    """Monte Carlo standard error of ``estimate``, same shape and units."""
    lower: Output
    """Lower end of the ``confidence`` interval."""
    upper: Output
    """Upper end of the ``confidence`` interval."""
    confidence: float
    """Nominal coverage of ``[lower, upper]``, e.g. 0.95."""
    method: str
    """How the interval was computed (e.g. ``"wilson"``, ``"normal"``, ``"order statistics"``)."""


@dataclasses.dataclass(frozen=True, eq=False)
class MedianTime:
    """Median time to (quasi-)extinction with censoring at the horizon."""

    median: Output
    """Median first-passage year; ``inf`` when half the replicates had not reached the threshold
    by the horizon (the median is then only known to exceed ``horizon``), in years."""
    lower: Output
    """Lower end of the interval, in years."""
    upper: Output
    """Upper end of the interval, in years (``inf`` when unbounded within the horizon)."""
    censored: Output
    """True where the median lies beyond the horizon."""
    horizon: float
    """Last simulated year."""
    confidence: float


@dataclasses.dataclass(frozen=True, eq=False)
class GrowthRate:
    """Stochastic growth rate ``log λs`` estimated from simulated trajectories."""

    log_lambda: Output
    """Mean of one-year log growth ``log(N[t+1] / N[t])`` over all replicates and the years in which
    the population is extant at both ends (Morris & Doak 2002, eq. 3.3 and Box 7.4; the μ̂ of
    Dennis et al. 1991), per year."""
    mcse: Output
    """Its Monte Carlo standard error, from the replicate totals as a ratio estimator (Cochran 1977,
    eq. 6.9), so that autocorrelation of growth within a replicate is accounted for."""
    lower: Output
    upper: Output
    sigma2: Output
    """Variance of the one-year log growth rates (σ̂² of Dennis et al. 1991), per year."""
    endpoint: Output
    """Heyde & Cohen (1985) estimate: mean over replicates still extant at the end of
    ``(log N[T] - log N[start]) / (T - start)``, per year (Caswell 2001, section 14.3). Conditioning
    on survival biases it upwards when many replicates go extinct."""
    endpoint_mcse: Output
    n_intervals: Output
    """Number of one-year intervals used."""
    confidence: float


# ---------------------------------------------------------------------------------------------------
# binomial intervals
# ---------------------------------------------------------------------------------------------------


def binomial_interval(
    successes: npt.ArrayLike,
    trials: int,
    *,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> tuple[FloatArray, FloatArray]:
    """Confidence interval for a binomial proportion.

    Parameters
    ----------
    successes
        Number of successes (e.g. replicates extinct by year t), any shape.
    trials
        Number of trials (replicates), >= 1.
    confidence
        Nominal coverage, in (0, 1).
    method
        ``"wilson"`` — the score interval of Wilson (1927), recommended by Brown, Cai & DasGupta
        (2001) for its near-nominal coverage even at p near 0 or 1; ``"clopper-pearson"`` — the exact
        interval of Clopper & Pearson (1934) from beta quantiles, conservative.

    Returns
    -------
    (lower, upper)
        Arrays of the shape of ``successes``, within [0, 1].
    """
    confidence = _check_confidence(confidence)
    if isinstance(trials, bool) or int(trials) != trials or trials < 1:
        raise ValueError(f"trials must be a positive integer; got {trials!r}")
    x = np.asarray(successes, dtype=np.float64)
    n = float(trials)
    if np.any((x < 0) | (x > n)):
        raise ValueError(f"successes must lie in [0, trials={trials!r}]")
    alpha = 1.0 - confidence
    if method == "wilson":
        z = z_score(confidence)
        p = x / n
        denominator = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denominator
        half = z / denominator * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
        # At x = 0 (x = n) the bound is exactly 0 (1); the formula leaves ~1e-19 from rounding.
        lower = np.where(x == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        upper = np.where(x == n, 1.0, np.clip(centre + half, 0.0, 1.0))
        return lower, upper
    if method == "clopper-pearson":
        import scipy.stats

        with np.errstate(invalid="ignore"):
            lower = np.where(x > 0, scipy.stats.beta.ppf(alpha / 2, x, n - x + 1), 0.0)
            upper = np.where(x < n, scipy.stats.beta.ppf(1 - alpha / 2, x + 1, n - x), 1.0)
        return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    raise ValueError(f"method must be 'wilson' or 'clopper-pearson'; got {method!r}")


def _proportion(
    hits: npt.NDArray[np.bool_],
    template: xr.DataArray | None,
    *,
    confidence: float,
    method: IntervalMethod,
    attrs: dict[str, str],
) -> Estimate:
    """Estimate P(hit) over the replicate axis (axis 0) of ``hits``."""
    replicates = hits.shape[0]
    count = hits.sum(axis=0)
    p = count / replicates
    # the plug-in SE is 0 at p = 0 or 1, which would read as "exact"; 1/R is the resolution of R
    # replicates, the floor the project's Monte Carlo tolerance rule uses (pva.testing)
    se = np.maximum(np.sqrt(p * (1.0 - p) / replicates), 1.0 / replicates)
    lower, upper = binomial_interval(count, replicates, confidence=confidence, method=method)
    drop = (results.REPLICATE,)
    return Estimate(
        estimate=_wrap(p, template, attrs=attrs, drop=drop),
        mcse=_wrap(se, template, attrs=attrs, drop=drop),
        lower=_wrap(lower, template, attrs=attrs, drop=drop),
        upper=_wrap(upper, template, attrs=attrs, drop=drop),
        confidence=confidence,
        method=method,
    )


# ---------------------------------------------------------------------------------------------------
# extinction and quasi-extinction
# ---------------------------------------------------------------------------------------------------


def _reached(values: FloatArray, threshold: float) -> npt.NDArray[np.bool_]:
    """True from the first year a replicate is at or below ``threshold`` onwards."""
    return np.logical_or.accumulate(values <= threshold, axis=1)


def quasi_extinction_probability(
    abundance: Trajectories,
    threshold: float,
    *,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> Estimate:
    """Cumulative probability of quasi-extinction by year.

    ``P(N[t'] <= threshold for some t' <= t)``, the quasi-extinction CDF of Morris & Doak (2002,
    section 7.3): a replicate that once falls to the threshold counts as quasi-extinct from then on,
    even if it later recovers.

    Parameters
    ----------
    abundance
        Individuals, shape (replicate, year, ...), or a DataArray with those dims, or the Dataset
        of :func:`pva.simulate` (its total abundance summed over populations).
    threshold
        Quasi-extinction threshold, in individuals (inclusive: ``N <= threshold``). For popbio's
        strict ``N < Nx`` on integer counts, pass ``Nx - 1``.
    confidence, method
        See :func:`binomial_interval`.

    Returns
    -------
    Estimate
        Arrays of shape (year, ...): the CDF, its binomial MC SE (floored at 1/R), and the interval.
    """
    values, template = _trajectories(abundance)
    threshold = _check_threshold(threshold)
    confidence = _check_confidence(confidence)
    attrs = {
        "units": "1",
        "long_name": f"probability of falling to {threshold:g} individuals or fewer by year",
    }
    return _proportion(
        _reached(values, threshold), template, confidence=confidence, method=method, attrs=attrs
    )


def extinction_probability(
    abundance: Trajectories,
    *,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> Estimate:
    """Cumulative probability of extinction (abundance 0) by year; see
    :func:`quasi_extinction_probability` (this is the threshold 0)."""
    est = quasi_extinction_probability(abundance, 0.0, confidence=confidence, method=method)
    if isinstance(est.estimate, xr.DataArray):
        for field in (est.estimate, est.mcse, est.lower, est.upper):
            field.attrs["long_name"] = "probability of extinction by year"
    return est


def first_passage_year(abundance: Trajectories, threshold: float = 0.0) -> Output:
    """Year in which each replicate first falls to ``threshold`` or below; NaN if it never does.

    Returns
    -------
    Array of shape (replicate, ...), in years (the ``year`` coordinate, 0 = start); NaN marks a
    replicate censored at the horizon.
    """
    values, template = _trajectories(abundance)
    threshold = _check_threshold(threshold)
    years = _years(values, template)
    below = values <= threshold
    first = np.argmax(below, axis=1)
    out = np.where(below.any(axis=1), years[first], np.nan)
    if template is None:
        return out
    return _wrap(
        out,
        template,
        drop=(results.YEAR,),
        attrs={"units": "year", "long_name": f"first year with at most {threshold:g} individuals"},
    )


def median_time_to_extinction(
    abundance: Trajectories,
    threshold: float = 0.0,
    *,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> MedianTime:
    """Median time to (quasi-)extinction, censored at the horizon.

    The median is the first year ``t`` with ``F(t) >= 1/2``, where ``F`` is the (quasi-)extinction
    CDF of :func:`quasi_extinction_probability` — the usual definition for censored times (the
    Kaplan-Meier median; with no loss to follow-up, as here, the Kaplan-Meier estimator is the
    empirical CDF). When fewer than half the replicates reach the threshold by the horizon the
    median is reported as ``inf`` with ``censored=True``: all that is known is that it exceeds the
    horizon. The interval inverts the pointwise interval of ``F`` (Brookmeyer & Crowley 1982):
    ``[first t with upper(F) >= 1/2, first t with lower(F) >= 1/2]``.
    """
    values, template = _trajectories(abundance)
    est = quasi_extinction_probability(
        values, threshold, confidence=confidence, method=method
    )  # numpy
    years = _years(values, template)

    def first_year(cdf: FloatArray) -> FloatArray:
        hit = np.asarray(cdf) >= 0.5
        return np.where(hit.any(axis=0), years[np.argmax(hit, axis=0)], np.inf)

    median = first_year(est.estimate)
    lower = first_year(est.upper)
    upper = first_year(est.lower)
    drop = (results.REPLICATE, results.YEAR)
    attrs = {"units": "year", "long_name": "median time to extinction"}
    return MedianTime(
        median=_wrap(median, template, drop=drop, attrs=attrs),
        lower=_wrap(lower, template, drop=drop, attrs=attrs),
        upper=_wrap(upper, template, drop=drop, attrs=attrs),
        censored=_wrap(np.isinf(median), template, drop=drop),
        horizon=float(years[-1]),
        confidence=_check_confidence(confidence),
    )


# ---------------------------------------------------------------------------------------------------
# abundance
# ---------------------------------------------------------------------------------------------------


def _mean_estimate(
    samples: FloatArray,
    template: xr.DataArray | None,
    *,
    confidence: float,
    attrs: dict[str, str],
    drop: Sequence[str] = (results.REPLICATE,),
) -> Estimate:
    """Mean over axis 0 with SE sd / sqrt(R) and a normal interval."""
    replicates = samples.shape[0]
    mean = samples.mean(axis=0)
    sd = samples.std(axis=0, ddof=1) if replicates > 1 else np.full_like(mean, np.nan)
    se = sd / np.sqrt(replicates)
    z = z_score(confidence)
    return Estimate(
        estimate=_wrap(mean, template, drop=drop, attrs=attrs),
        mcse=_wrap(se, template, drop=drop, attrs=attrs),
        lower=_wrap(mean - z * se, template, drop=drop, attrs=attrs),
        upper=_wrap(mean + z * se, template, drop=drop, attrs=attrs),
        confidence=confidence,
        method="normal",
    )


def paired_difference(a: Trajectories, b: Trajectories, *, confidence: float = 0.95) -> Estimate:
    """Mean over replicates of ``a - b``, paired replicate by replicate, with its standard error
    ``sd(a - b) / sqrt(R)`` and normal interval.

    For two scenarios that share their random numbers in replicate r (common random numbers), the
    difference of, say, extinction indicators is taken per replicate before averaging, which removes
    the shared noise (the paired comparison of Morris & Doak 2002, section 7.5).

    Parameters
    ----------
    a, b
        Values of shape (replicate, ...) (indicators, abundances), or DataArrays with a
        ``replicate`` dim, the same shape.
    """
    confidence = _check_confidence(confidence)
    if isinstance(a, xr.DataArray) and isinstance(b, xr.DataArray):
        d = (a.astype(float) - b.astype(float)).transpose(results.REPLICATE, ...)
        return _mean_estimate(
            np.asarray(d.values, dtype=np.float64),
            d,
            confidence=confidence,
            attrs={"units": str(a.attrs.get("units", "1")), "long_name": "paired difference"},
        )
    x = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError(f"a and b need a replicate axis first; got shape {x.shape!r}")
    return _mean_estimate(x, None, confidence=confidence, attrs={})


def expected_minimum_abundance(
    abundance: Trajectories, *, by_year: bool = False, confidence: float = 0.95
) -> Estimate:
    """Expected minimum abundance (EMA) of McCarthy & Thompson (2001).

    The mean over replicates of the smallest abundance each replicate reaches over the horizon
    (years 0 to T inclusive); its SE is ``sd / sqrt(R)``. Unlike a quasi-extinction probability it
    changes smoothly with the parameters, so it ranks management options more stably.

    Parameters
    ----------
    by_year
        If True, return the EMA over the horizon ``0..t`` for every year ``t`` (shape (year, ...));
        otherwise over the whole horizon (shape (...)).
    """
    values, template = _trajectories(abundance)
    confidence = _check_confidence(confidence)
    attrs = {"units": "individuals", "long_name": "expected minimum abundance"}
    if by_year:
        minima = np.minimum.accumulate(values, axis=1)
        return _mean_estimate(minima, template, confidence=confidence, attrs=attrs)
    minima = values.min(axis=1)
    return _mean_estimate(
        minima,
        template,
        confidence=confidence,
        attrs=attrs,
        drop=(results.REPLICATE, results.YEAR),
    )


def mean_trajectory(abundance: Trajectories, *, confidence: float = 0.95) -> Estimate:
    """Mean abundance by year over replicates (extinct replicates count as 0), with SE sd/sqrt(R)."""
    values, template = _trajectories(abundance)
    confidence = _check_confidence(confidence)
    attrs = {"units": "individuals", "long_name": "mean abundance"}
    return _mean_estimate(values, template, confidence=confidence, attrs=attrs)


def _check_levels(q: Sequence[float] | float) -> FloatArray:
    levels = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if levels.ndim != 1 or np.any((levels < 0) | (levels > 1)) or not np.all(np.isfinite(levels)):
        raise ValueError(f"quantile levels must be numbers in [0, 1]; got {q!r}")
    return levels


def quantile_bands(
    abundance: Trajectories,
    q: Sequence[float] = (0.025, 0.25, 0.5, 0.75, 0.975),
    *,
    confidence: float = 0.95,
) -> Estimate:
    """Quantiles of abundance over replicates, by year, with distribution-free intervals.

    The point estimate is numpy's default (linear interpolation, Hyndman & Fan type 7). The interval
    for the ``q`` quantile is ``[x_(l), x_(u)]`` between order statistics whose ranks are the
    ``(1 - c)/2`` and ``(1 + c)/2`` quantiles of Binomial(R, q) (Hahn & Meeker 1991, section 5.2);
    its half-width over ``z`` is reported as the MC SE (the asymptotic SE needs the density at the
    quantile, which is unreliable for discrete abundances).

    Returns
    -------
    Estimate
        Arrays of shape (quantile, year, ...).
    """
    import scipy.stats

    values, template = _trajectories(abundance)
    confidence = _check_confidence(confidence)
    levels = _check_levels(q)
    replicates = values.shape[0]
    ordered = np.sort(values, axis=0)
    point = np.quantile(values, levels, axis=0)
    alpha = 1.0 - confidence
    low_rank = scipy.stats.binom.ppf(alpha / 2, replicates, levels)  # 1-based rank l
    high_rank = scipy.stats.binom.ppf(1 - alpha / 2, replicates, levels) + 1  # rank u
    low_index = np.clip(low_rank.astype(int) - 1, 0, replicates - 1)
    high_index = np.clip(high_rank.astype(int) - 1, 0, replicates - 1)
    lower = ordered[low_index]
    upper = ordered[high_index]
    se = (upper - lower) / (2.0 * z_score(confidence))
    attrs = {"units": "individuals", "long_name": "quantile of abundance over replicates"}
    lead = ((results.QUANTILE, levels),)

    def wrap(data: FloatArray) -> Output:
        return _wrap(data, template, drop=(results.REPLICATE,), lead=lead, attrs=attrs)

    return Estimate(
        estimate=wrap(point),
        mcse=wrap(se),
        lower=wrap(lower),
        upper=wrap(upper),
        confidence=confidence,
        method="order statistics",
    )


def final_abundance_quantiles(
    abundance: Trajectories,
    q: Sequence[float] = (0.025, 0.25, 0.5, 0.75, 0.975),
    *,
    confidence: float = 0.95,
) -> Estimate:
    """Quantiles of abundance in the last year, shape (quantile, ...); see :func:`quantile_bands`."""
    values, template = _trajectories(abundance)
    source = values[:, -1:] if template is None else template.isel({results.YEAR: [-1]})
    est = quantile_bands(source, q, confidence=confidence)

    def last(field: Output) -> Output:
        if isinstance(field, xr.DataArray):
            return field.isel({results.YEAR: 0}, drop=True)
        return field[:, 0]

    return dataclasses.replace(
        est,
        estimate=last(est.estimate),
        mcse=last(est.mcse),
        lower=last(est.lower),
        upper=last(est.upper),
    )


# ---------------------------------------------------------------------------------------------------
# growth rate
# ---------------------------------------------------------------------------------------------------


def _log_increments(values: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """One-year log growth ``log(N[t+1] / N[t])`` where both are > 0 (else 0), and that mask."""
    before, after = values[:, :-1], values[:, 1:]
    extant = (before > 0) & (after > 0)
    safe_before = np.where(extant, before, 1.0)
    safe_after = np.where(extant, after, 1.0)
    return np.where(extant, np.log(safe_after / safe_before), 0.0), extant


def _endpoint_rate(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Heyde & Cohen (1985): mean over replicates extant at both ends of log(N_T / N_0) / T."""
    horizon = values.shape[1] - 1
    alive = (values[:, 0] > 0) & (values[:, -1] > 0)
    ratio = np.where(alive, values[:, -1], 1.0) / np.where(alive, values[:, 0], 1.0)
    rate = np.where(alive, np.log(ratio) / horizon, 0.0)
    n_alive = alive.sum(axis=0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = rate.sum(axis=0) / n_alive
        sq = np.where(alive, (rate - mean) ** 2, 0.0).sum(axis=0)
        se = np.sqrt(sq / (n_alive - 1) / n_alive)
    return mean, np.where(n_alive > 1, se, np.nan)


def stochastic_growth_rate(
    abundance: Trajectories, *, start: int = 0, confidence: float = 0.95
) -> GrowthRate:
    """Stochastic growth rate ``log λs`` estimated from trajectories.

    Parameters
    ----------
    abundance
        Individuals, shape (replicate, year, ...): usually total abundance.
    start
        First year used (skip transient years while the stage structure settles; Morris & Doak 2002,
        Box 7.4, start from the stable stage distribution or discard the first years instead).
    confidence
        Coverage of the normal interval ``log_lambda ± z mcse``.

    Notes
    -----
    With ``r[i, t] = log(N[i, t+1] / N[i, t])`` over the intervals in which replicate ``i`` is extant
    at both ends, ``log_lambda = sum r / count`` (Dennis et al. 1991's μ̂, pooled over replicates)
    and ``sigma2`` is the variance of the ``r`` about it. Replicates are independent, but the ``r``
    within one are not (stage structure, autocorrelated environments), so the SE treats each
    replicate's sum ``S_i`` over its ``n_i`` intervals as one observation of a ratio estimator:
    ``var = sum (S_i - log_lambda n_i)^2 / (R (R - 1) nbar^2)`` (Cochran 1977, eq. 6.9).
    """
    values, template = _trajectories(abundance)
    confidence = _check_confidence(confidence)
    if isinstance(start, bool) or int(start) != start or not 0 <= start < values.shape[1] - 1:
        raise ValueError(
            f"start must be an integer year in [0, {values.shape[1] - 2}] so that at least one "
            f"interval remains; got {start!r}"
        )
    values = values[:, start:]
    replicates = values.shape[0]
    logs, extant = _log_increments(values)
    counts = extant.sum(axis=1).astype(np.float64)  # n_i
    sums = logs.sum(axis=1)  # S_i
    total = counts.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = sums.sum(axis=0) / total
        nbar = total / replicates
        residual = sums - mu * counts
        var = (residual**2).sum(axis=0) / (replicates * (replicates - 1) * nbar**2)
        se = np.sqrt(var) if replicates > 1 else np.full_like(mu, np.nan)
        sigma2 = np.where(extant, (logs - mu) ** 2, 0.0).sum(axis=(0, 1)) / (total - 1)
    endpoint, endpoint_se = _endpoint_rate(values)
    z = z_score(confidence)
    drop = (results.REPLICATE, results.YEAR)
    attrs = {"units": "1/year", "long_name": "log stochastic growth rate"}
    return GrowthRate(
        log_lambda=_wrap(mu, template, drop=drop, attrs=attrs),
        mcse=_wrap(se, template, drop=drop, attrs=attrs),
        lower=_wrap(mu - z * se, template, drop=drop, attrs=attrs),
        upper=_wrap(mu + z * se, template, drop=drop, attrs=attrs),
        sigma2=_wrap(sigma2, template, drop=drop),
        endpoint=_wrap(endpoint, template, drop=drop, attrs=attrs),
        endpoint_mcse=_wrap(endpoint_se, template, drop=drop, attrs=attrs),
        n_intervals=_wrap(total, template, drop=drop),
        confidence=confidence,
    )


# ---------------------------------------------------------------------------------------------------
# summary Dataset
# ---------------------------------------------------------------------------------------------------


def _over_populations(da: xr.DataArray) -> xr.DataArray:
    return da.sum(results.POPULATION) if results.POPULATION in da.dims else da


def _quasi_settings(
    ds: xr.Dataset,
    threshold: float | None,
    on: results.QuasiExtinctionOn | None,
) -> list[results.QuasiExtinction]:
    """The quasi-extinction setting of each species of ``ds`` (one for a Dataset without a species
    dim): the arguments where given, else the species' recorded settings
    (:func:`pva.results.provenance`), else 0 individuals of the total."""
    if on is not None and on not in ("total", "mature"):
        raise ValueError(f"quasi_extinction_on must be 'total' or 'mature'; got {on!r}")
    if threshold is not None:
        threshold = _check_threshold(threshold)
    recorded = results.provenance(ds).quasi_extinction
    labels = results.names_of(ds, results.SPECIES) if results.SPECIES in ds.coords else [""]
    default = results.QuasiExtinction(threshold=0.0, on="total")
    settings = []
    for label in labels:
        setting = recorded.get(label, default)
        settings.append(
            results.QuasiExtinction(
                threshold=setting.threshold if threshold is None else threshold,
                on=setting.on if on is None else on,
            )
        )
    return settings


def summarize(
    ds: xr.Dataset,
    *,
    quasi_extinction_threshold: float | None = None,
    quasi_extinction_on: results.QuasiExtinctionOn | None = None,
    quantiles: Sequence[float] = (0.025, 0.25, 0.5, 0.75, 0.975),
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> xr.Dataset:
    """Summarise results by year, with ``_mcse``, ``_lower`` and ``_upper`` companions.

    Works on a :func:`pva.simulate` Dataset and on a ``pva run`` results file alike (any further
    dims, such as ``scenario`` and ``species``, are carried through). Abundances are summed over
    populations (the metapopulation). Extinction is total abundance 0; quasi-extinction is
    ``N <= quasi_extinction_threshold`` on total or mature abundance, species by species.

    Parameters
    ----------
    ds
        Dataset with :data:`pva.results.TOTAL` and :data:`pva.results.MATURE` over
        (replicate, year[, population]) and possibly further dims (scenario, species).
    quasi_extinction_threshold, quasi_extinction_on
        For every species; default: each species' settings as recorded with the results
        (:func:`pva.results.provenance`: the ``quasi_extinction_threshold`` variable and the
        species' ``quasi_extinction_on`` in the study), else 0 and ``"total"``.
    quantiles
        Levels of the abundance quantile bands.
    confidence, method
        Interval coverage; binomial interval method (:func:`binomial_interval`).

    Returns
    -------
    xarray.Dataset
        By year: ``p_extinction``, ``p_quasi_extinction`` (with ``_lower``, ``_upper``, ``_mcse``),
        ``expected_minimum_abundance`` over years 0..t (McCarthy & Thompson 2001),
        ``mean_abundance``, ``abundance_quantile`` (quantile, year); and without a year dim:
        ``median_time_to_extinction``, ``median_time_to_quasi_extinction`` (``inf`` = beyond the
        horizon, with ``_lower``/``_upper``) and ``log_stochastic_growth_rate``; the settings used,
        ``quasi_extinction_threshold`` and ``quasi_extinction_on`` (per species where ``ds`` has a
        species dim). The EMA, mean, quantiles and growth rate refer to the abundance
        quasi-extinction is measured on. Attributes: those of ``ds``, ``confidence`` and
        ``interval_method``.

    Raises
    ------
    TypeError
        If ``ds`` is not a Dataset.
    ValueError
        If it lacks total or mature abundance, or a setting or ``confidence`` is out of range.
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset; got {type(ds).__name__}")
    for name in (results.TOTAL, results.MATURE):
        if name not in ds:
            raise ValueError(
                f"ds must contain the variable {name!r}; it has {list(ds.data_vars)!r}"
            )
    confidence = _check_confidence(confidence)
    settings = _quasi_settings(ds, quasi_extinction_threshold, quasi_extinction_on)
    labels = _Labels.of(settings)

    def one(part: xr.Dataset, setting: results.QuasiExtinction) -> xr.Dataset:
        return _summary_of(
            part, setting, labels, quantiles=quantiles, confidence=confidence, method=method
        )

    if results.SPECIES in ds.dims:
        parts = [one(ds.isel({results.SPECIES: [i]}), s) for i, s in enumerate(settings)]
        summary = xr.concat(
            parts, dim=results.SPECIES, data_vars="all", coords="minimal", join="exact"
        )
    else:
        summary = one(ds, settings[0])
    summary[results.QUANTILE].attrs.update(results.VARIABLE_ATTRS[results.QUANTILE])
    if results.YEAR in summary.coords:
        summary[results.YEAR].attrs.update(results.VARIABLE_ATTRS[results.YEAR])
    for coord_name, coord in summary.coords.items():
        if coord_name in ds.coords:
            coord.attrs = {**ds[coord_name].attrs, **coord.attrs}
    summary.attrs = {**ds.attrs, "confidence": confidence, "interval_method": method}
    return summary


@dataclasses.dataclass(frozen=True)
class _Labels:
    """Long names of the summary variables that depend on the quasi-extinction setting: specific
    when every species shares one, generic otherwise."""

    quasi: str
    """Long name of the quasi-extinction probability."""
    measured: str
    """What the abundance metrics count."""

    @classmethod
    def of(cls, settings: Sequence[results.QuasiExtinction]) -> _Labels:
        if len(set(settings)) == 1:
            on = f"{settings[0].on} individuals"
            quasi = f"probability of falling to {settings[0].threshold:g} {on} or fewer by year"
        else:
            on = "individuals counted for quasi-extinction"
            quasi = (
                "probability of falling to the species' quasi-extinction threshold or fewer by "
                "year (see quasi_extinction_threshold and quasi_extinction_on)"
            )
        return cls(quasi=quasi, measured=on)


def _summary_of(
    ds: xr.Dataset,
    setting: results.QuasiExtinction,
    labels: _Labels,
    *,
    quantiles: Sequence[float],
    confidence: float,
    method: IntervalMethod,
) -> xr.Dataset:
    """:func:`summarize` with one quasi-extinction setting."""
    threshold = setting.threshold
    total = _over_populations(ds[results.TOTAL])
    measured = total if setting.on == "total" else _over_populations(ds[results.MATURE])
    on = labels.measured
    out: dict[str, xr.DataArray] = {}

    def put(name: str, est: Estimate | MedianTime, long_name: str) -> None:
        out.update(estimate_variables(name, est, long_name=long_name))

    put(
        results.P_EXTINCTION,
        extinction_probability(total, confidence=confidence, method=method),
        "probability of extinction by year",
    )
    put(
        results.P_QUASI_EXTINCTION,
        quasi_extinction_probability(measured, threshold, confidence=confidence, method=method),
        labels.quasi,
    )
    put(
        results.EXPECTED_MINIMUM,
        expected_minimum_abundance(measured, by_year=True, confidence=confidence),
        f"expected minimum of {on} over years 0 to t",
    )
    put(results.MEAN_ABUNDANCE, mean_trajectory(measured, confidence=confidence), f"mean {on}")
    put(
        results.ABUNDANCE_QUANTILE,
        quantile_bands(measured, quantiles, confidence=confidence),
        f"quantile of {on} over replicates",
    )
    put(
        results.MEDIAN_TIME_TO_EXTINCTION,
        median_time_to_extinction(total, 0.0, confidence=confidence, method=method),
        results.VARIABLE_ATTRS[results.MEDIAN_TIME_TO_EXTINCTION]["long_name"],
    )
    put(
        results.MEDIAN_TIME_TO_QUASI_EXTINCTION,
        median_time_to_extinction(measured, threshold, confidence=confidence, method=method),
        results.VARIABLE_ATTRS[results.MEDIAN_TIME_TO_QUASI_EXTINCTION]["long_name"],
    )
    growth = stochastic_growth_rate(measured, confidence=confidence)
    put(
        results.STOCHASTIC_GROWTH_RATE,
        Estimate(growth.log_lambda, growth.mcse, growth.lower, growth.upper, confidence, "normal"),
        "log stochastic growth rate from trajectories (pooled one-year log growth)",
    )
    # the settings used, per species where there is a species dim
    dims = tuple(d for d in (results.SPECIES,) if d in ds.dims)
    shape = tuple(ds.sizes[d] for d in dims)
    out[results.QUASI_EXTINCTION_THRESHOLD] = xr.DataArray(
        np.full(shape, threshold),
        dims=dims,
        attrs=dict(results.VARIABLE_ATTRS[results.QUASI_EXTINCTION_THRESHOLD]),
    )
    out[results.QUASI_EXTINCTION_ON] = xr.DataArray(
        np.full(shape, setting.on, dtype=object),
        dims=dims,
        attrs=dict(results.VARIABLE_ATTRS[results.QUASI_EXTINCTION_ON]),
    )
    return xr.Dataset(out)


def estimate_variables(
    name: str, estimate: Estimate | MedianTime, *, long_name: str, units: str | None = None
) -> dict[str, xr.DataArray]:
    """An estimate as named variables: ``name`` and ``name_lower``/``name_upper`` (its interval),
    and ``name_mcse`` for an :class:`Estimate`; ``units`` default to those of
    :data:`pva.results.VARIABLE_ATTRS` (``name``'s entry). The estimate must be DataArrays."""
    units = units if units is not None else results.VARIABLE_ATTRS[name]["units"]
    confidence = estimate.confidence
    fields: dict[str, tuple[Any, str]] = {
        "": (estimate.estimate if isinstance(estimate, Estimate) else estimate.median, long_name),
        results.LOWER_SUFFIX: (
            estimate.lower,
            f"lower {confidence:.0%} limit of {long_name}",
        ),
        results.UPPER_SUFFIX: (
            estimate.upper,
            f"upper {confidence:.0%} limit of {long_name}",
        ),
    }
    if isinstance(estimate, Estimate):
        fields[results.MCSE_SUFFIX] = (
            estimate.mcse,
            f"Monte Carlo standard error of {long_name}",
        )
    out = {}
    for suffix in ("", results.MCSE_SUFFIX, results.LOWER_SUFFIX, results.UPPER_SUFFIX):
        if suffix in fields:
            da, label = fields[suffix]
            if not isinstance(da, xr.DataArray):
                raise TypeError(f"estimate_variables needs DataArrays; got {type(da).__name__}")
            out[name + suffix] = da.rename(None).assign_attrs(units=units, long_name=label)
    return out
