"""Count-based population viability analysis: the diffusion approximation.

A population whose log abundance follows Brownian motion with drift ``mu`` and variance ``sigma2``
per year (Dennis, Munholland & Scott 1991; Morris & Doak 2002, chapter 3). From a series of
censuses, :func:`fit` estimates ``mu`` and ``sigma2``; :func:`extinction_cdf` gives the probability
of first reaching a quasi-extinction threshold by each future year; :func:`bootstrap_extinction_cdf`
carries the uncertainty of the estimates into that probability.

References
----------
Dennis, B., Munholland, P. L. & Scott, J. M. 1991. Estimation of growth and extinction parameters
    for endangered species. Ecological Monographs 61: 115-143.
Morris, W. F. & Doak, D. F. 2002. Quantitative Conservation Biology: Theory and Practice of
    Population Viability Analysis. Sinauer, Sunderland, MA. Chapter 3.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt

from pva import streams, validation

__all__ = [
    "CountFit",
    "ExtinctionBand",
    "bootstrap_extinction_cdf",
    "extinction_cdf",
    "fit",
]

FloatArray = npt.NDArray[np.float64]


def _readonly(a: npt.ArrayLike) -> FloatArray:
    out = np.array(a, dtype=float)
    out.flags.writeable = False
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class CountFit:
    """Estimates of the diffusion parameters from a census series (Morris & Doak 2002, ch. 3)."""

    mu: float
    """Mean of the log population growth rate, per year (slope of the Dennis et al. regression)."""
    sigma2: float
    """Variance of the log population growth rate, per year (residual mean square)."""
    mu_ci: tuple[float, float]
    """95% confidence interval of ``mu`` (Student's t, ``q - 1`` degrees of freedom)."""
    sigma2_ci: tuple[float, float]
    """95% confidence interval of ``sigma2`` (chi-square, ``q - 1`` degrees of freedom)."""
    n: int
    """Number of censuses."""
    n_transitions: int
    """Number of intervals between censuses, ``q = n - 1``."""
    duration: float
    """Years from the first to the last census (sum of the intervals)."""
    residuals: tuple[float, ...]
    """Regression residuals, one per interval, ``log(N_{i+1}/N_i)/sqrt(dt_i) - mu sqrt(dt_i)``."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mu) and math.isfinite(self.sigma2)) or self.sigma2 < 0:
            raise ValueError(
                f"mu must be finite and sigma2 finite and >= 0; got mu={self.mu!r}, "
                f"sigma2={self.sigma2!r}"
            )
        if self.n < 3 or self.n_transitions != self.n - 1:
            raise ValueError(
                f"need n >= 3 and n_transitions == n - 1; got n={self.n!r}, "
                f"n_transitions={self.n_transitions!r}"
            )
        if len(self.residuals) != self.n_transitions:
            raise ValueError(
                f"residuals must have one entry per transition ({self.n_transitions}); got "
                f"{len(self.residuals)}"
            )
        if not self.mu_ci[0] <= self.mu <= self.mu_ci[1]:
            raise ValueError(f"mu_ci must contain mu={self.mu!r}; got {self.mu_ci!r}")
        if not self.sigma2_ci[0] <= self.sigma2 <= self.sigma2_ci[1]:
            raise ValueError(
                f"sigma2_ci must contain sigma2={self.sigma2!r}; got {self.sigma2_ci!r}"
            )

    @property
    def se_mu(self) -> float:
        """Standard error of ``mu``: ``sqrt(sigma2 / duration)``."""
        return math.sqrt(self.sigma2 / self.duration)


def fit(counts: npt.ArrayLike, years: npt.ArrayLike | None = None) -> CountFit:
    """Estimate ``mu`` and ``sigma2`` of log population growth from censuses.

    The regression of Dennis et al. (1991), as in Morris & Doak (2002, section 3.3): with
    intervals ``dt_i = years[i+1] - years[i]``, regress ``y_i = log(N_{i+1}/N_i) / sqrt(dt_i)`` on
    ``x_i = sqrt(dt_i)`` through the origin. The slope is ``mu`` (which equals
    ``log(N_last/N_first) / duration``) and the residual mean square is ``sigma2``; dividing by
    ``sqrt(dt_i)`` makes the variances equal when censuses are unevenly spaced. The 95% interval of
    ``mu`` uses Student's t and that of ``sigma2`` the chi-square distribution, both with
    ``q - 1`` degrees of freedom (Morris & Doak 2002, eqs. 3.12 and 3.13).

    Parameters
    ----------
    counts
        Census counts (individuals), shape (n,), n >= 3, all finite and > 0.
    years
        Census times in years, strictly increasing, shape (n,); default ``0, 1, ..., n - 1``.

    Returns
    -------
    CountFit

    Raises
    ------
    ValueError
        For fewer than 3 counts, a zero, negative or non-finite count, or years that are not
        finite and strictly increasing; the message names the offending position and value.
    """
    import scipy.stats

    N = np.asarray(counts, dtype=float)
    if N.ndim != 1 or N.size < 3:
        raise ValueError(f"counts must be a 1-D series of at least 3 censuses; got shape {N.shape}")
    bad = np.flatnonzero(~np.isfinite(N) | (N <= 0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"counts must be finite and > 0 (log growth is undefined otherwise); counts[{i}] is "
            f"{float(N[i])!r}"
        )
    if years is None:
        t = np.arange(N.size, dtype=float)
    else:
        t = np.asarray(years, dtype=float)
        if t.shape != N.shape:
            raise ValueError(f"years must have the shape of counts {N.shape}; got {t.shape}")
        if not np.all(np.isfinite(t)):
            raise ValueError(f"years must be finite; got {t.tolist()!r}")
        step = np.flatnonzero(np.diff(t) <= 0)
        if step.size:
            i = int(step[0])
            raise ValueError(
                f"years must be strictly increasing; years[{i}]={float(t[i])!r} is followed by "
                f"years[{i + 1}]={float(t[i + 1])!r}"
            )
    dt = np.diff(t)
    x = np.sqrt(dt)
    y = np.diff(np.log(N)) / x
    q = int(dt.size)
    mu = float(np.sum(x * y) / np.sum(x * x))
    resid = y - mu * x
    df = q - 1
    sigma2 = float(np.sum(resid**2) / df)
    duration = float(np.sum(dt))
    half = float(scipy.stats.t.ppf(0.975, df)) * math.sqrt(sigma2 / duration)
    sigma2_ci = (
        df * sigma2 / float(scipy.stats.chi2.ppf(0.975, df)),
        df * sigma2 / float(scipy.stats.chi2.ppf(0.025, df)),
    )
    return CountFit(
        mu=mu,
        sigma2=sigma2,
        mu_ci=(mu - half, mu + half),
        sigma2_ci=sigma2_ci,
        n=int(N.size),
        n_transitions=q,
        duration=duration,
        residuals=tuple(float(r) for r in resid),
    )


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be finite and > 0; got {value!r}")
    return v


def _first_passage_cdf(mu: FloatArray, sigma2: FloatArray, d: float, t: FloatArray) -> FloatArray:
    """Inverse-Gaussian CDF, broadcast over ``mu``/``sigma2`` (rows) and ``t`` (columns)."""
    import scipy.stats

    s = np.sqrt(sigma2 * t)
    a = scipy.stats.norm.logcdf((-d - mu * t) / s)
    # exp(-2 mu d / sigma2) overflows for strongly negative mu while its Φ factor underflows:
    # add in log space.
    b = -2.0 * mu * d / sigma2 + scipy.stats.norm.logcdf((-d + mu * t) / s)
    # Rounding can make the sum dip by an ulp from one year to the next; a CDF never decreases.
    return np.maximum.accumulate(np.clip(np.exp(np.logaddexp(a, b)), 0.0, 1.0), axis=-1)


def extinction_cdf(
    mu: float, sigma2: float, n_current: float, n_threshold: float, t_max: int
) -> FloatArray:
    """Probability that the population has reached ``n_threshold`` by year t, for t = 1..t_max.

    The first-passage time of Brownian motion with drift ``mu`` and variance ``sigma2`` from
    ``log n_current`` down to ``log n_threshold`` (a distance ``d = log(n_current/n_threshold)``)
    has the inverse-Gaussian distribution (Dennis et al. 1991; Morris & Doak 2002,
    eq. 3.5):

    ``G(t) = Φ((-d - mu t) / sqrt(sigma2 t)) + exp(-2 mu d / sigma2) Φ((-d + mu t) / sqrt(sigma2 t))``

    For ``mu > 0`` the ultimate probability ``G(∞) = exp(-2 mu d / sigma2)`` is below 1; for
    ``mu <= 0`` it is 1.

    Parameters
    ----------
    mu, sigma2
        Drift and variance of log abundance, per year; ``sigma2 > 0``.
    n_current, n_threshold
        Current abundance and quasi-extinction threshold (individuals), both > 0. If
        ``n_current <= n_threshold`` the threshold is already reached and every entry is 1.
    t_max
        Number of years, >= 1.

    Returns
    -------
    numpy.ndarray
        Shape (t_max,), non-decreasing probabilities.
    """
    if not math.isfinite(float(mu)):
        raise ValueError(f"mu must be finite; got {mu!r}")
    s2 = _check_positive("sigma2", sigma2)
    nc = _check_positive("n_current", n_current)
    nx = _check_positive("n_threshold", n_threshold)
    t_max = validation.integer(t_max, "t_max", minimum=1)
    if nc <= nx:
        return np.ones(int(t_max))
    d = math.log(nc / nx)
    t = np.arange(1, int(t_max) + 1, dtype=float)
    return _first_passage_cdf(np.asarray(float(mu)), np.asarray(s2), d, t)


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class ExtinctionBand:
    """Extinction-time CDF with its uncertainty from the parameter estimates.

    Arrays are read-only, shape (t_max,), indexed by year t = 1..t_max.
    """

    best: FloatArray
    """CDF at the point estimates of ``mu`` and ``sigma2``."""
    median: FloatArray
    """Median over the parameter draws, per year."""
    lower: FloatArray
    """2.5% quantile over the parameter draws, per year."""
    upper: FloatArray
    """97.5% quantile over the parameter draws, per year."""
    replicates: int
    """Number of parameter draws."""
    seed_entropy: str | None
    """Root entropy of the draws (None when an ``rng`` was passed in)."""

    def __post_init__(self) -> None:
        shapes = {a.shape for a in (self.best, self.median, self.lower, self.upper)}
        if len(shapes) != 1:
            raise ValueError(f"best, median, lower and upper must have one shape; got {shapes}")
        if np.any(self.lower > self.upper):
            raise ValueError("lower must not exceed upper")


def bootstrap_extinction_cdf(
    estimate: CountFit,
    n_current: float,
    n_threshold: float,
    t_max: int,
    *,
    replicates: int = 1000,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> ExtinctionBand:
    """Parametric bootstrap of the extinction-time CDF over the uncertainty in ``mu``, ``sigma2``.

    Each replicate draws ``sigma2* = sigma2 χ²_{q-1} / (q - 1)`` and then
    ``mu* ~ Normal(mu, sigma2* / duration)``, the joint sampling distribution of the regression
    estimates under the diffusion model (Dennis et al. 1991; Morris & Doak 2002, section 3.4), and
    evaluates :func:`extinction_cdf`. The band is the 2.5% and 97.5% quantiles per year.

    Morris & Doak's Box 3.4 instead draws the two parameters independently, truncated to their 95%
    confidence intervals, and reports the minimum and maximum CDF over the draws; the quantile band
    here has a stated coverage and does not widen with the number of replicates.

    Parameters
    ----------
    estimate
        Result of :func:`fit`.
    n_current, n_threshold
        Current abundance and quasi-extinction threshold (individuals).
    t_max
        Number of years.
    replicates
        Number of parameter draws, >= 10.
    seed, rng
        A seed (None: fresh OS entropy, recorded) or a :class:`numpy.random.Generator`, not both.
    """
    if not isinstance(estimate, CountFit):
        raise TypeError(f"estimate must be a CountFit from pva.countpva.fit; got {estimate!r}")
    replicates = validation.integer(replicates, "replicates", minimum=10)
    rng, entropy = streams.generator(seed=seed, rng=rng)
    best = extinction_cdf(estimate.mu, estimate.sigma2, n_current, n_threshold, t_max)
    if estimate.sigma2 <= 0:
        raise ValueError("the estimate has sigma2 = 0; there is no uncertainty to bootstrap")
    df = estimate.n_transitions - 1
    sigma2 = estimate.sigma2 * rng.chisquare(df, size=int(replicates)) / df
    mu = rng.normal(estimate.mu, np.sqrt(sigma2 / estimate.duration))
    if float(n_current) <= float(n_threshold):
        draws = np.ones((int(replicates), int(t_max)))
    else:
        d = math.log(float(n_current) / float(n_threshold))
        t = np.arange(1, int(t_max) + 1, dtype=float)
        draws = _first_passage_cdf(mu[:, None], sigma2[:, None], d, t[None, :])
    lower, median, upper = np.quantile(draws, [0.025, 0.5, 0.975], axis=0)
    return ExtinctionBand(
        best=_readonly(best),
        median=_readonly(median),
        lower=_readonly(lower),
        upper=_readonly(upper),
        replicates=int(replicates),
        seed_entropy=entropy,
    )
