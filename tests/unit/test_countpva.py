"""pva.countpva against Morris & Doak (2002, chapter 3), Dennis et al. (1991) and scipy's
inverse-Gaussian distribution."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from pva import countpva, datasets


@pytest.fixture(scope="module")
def grizzly() -> tuple[np.ndarray, np.ndarray]:
    rows = datasets.popbio_table("grizzly")  # Morris & Doak 2002, Table 3.1
    return np.array([float(r["year"]) for r in rows]), np.array([float(r["N"]) for r in rows])


def test_grizzly_mu_matches_morris_doak(grizzly):
    # Morris & Doak 2002, section 3.3 (Table 3.1 data, 1959-1997): mu = 0.02134 (5 decimals).
    years, N = grizzly
    est = countpva.fit(N, years)
    assert est.mu == pytest.approx(0.02134, abs=5e-6)
    assert est.n == 39
    assert est.n_transitions == 38
    assert est.duration == 38.0


def test_grizzly_sigma2_and_intervals_match_the_regression_of_the_book(grizzly):
    # For annual censuses the regression reduces to the sample mean and variance of
    # log(N_{t+1}/N_t) (popbio's grizzly help: c(mean(logN), var(logN))), an independent computation.
    # Morris & Doak 2002 give sigma2 = 0.01305 for these data (section 3.3; quoted from the book,
    # the search corpus did not hold the page). CIs: eq. 3.12 (t, q-1 df) and eq. 3.13 (chi-square).
    years, N = grizzly
    est = countpva.fit(N, years)
    r = np.diff(np.log(N))
    assert est.mu == pytest.approx(r.mean(), rel=1e-12)
    assert est.sigma2 == pytest.approx(r.var(ddof=1), rel=1e-12)
    assert est.sigma2 == pytest.approx(0.01305, abs=5e-6)
    q = 38
    half = scipy.stats.t.ppf(0.975, q - 1) * math.sqrt(r.var(ddof=1) / q)
    assert est.mu_ci == pytest.approx((r.mean() - half, r.mean() + half), rel=1e-12)
    chi = scipy.stats.chi2.ppf([0.975, 0.025], q - 1)
    assert est.sigma2_ci == pytest.approx(tuple((q - 1) * r.var(ddof=1) / chi), rel=1e-12)
    np.testing.assert_allclose(est.residuals, r - r.mean(), atol=1e-15)


def test_uneven_censuses_match_weighted_least_squares():
    # Dennis et al. 1991 / Morris & Doak 2002 section 3.3: independent weighted least squares via
    # numpy.linalg.lstsq on the transformed variables; mu also equals log(N_T/N_0)/T.
    years = np.array([1980, 1981, 1983, 1984, 1988, 1990, 1991])
    N = np.array([120, 131, 118, 140, 101, 96, 110.0])
    est = countpva.fit(N, years)
    dt = np.diff(years).astype(float)
    x = np.sqrt(dt)[:, None]
    y = np.diff(np.log(N)) / np.sqrt(dt)
    coef, ss, *_ = np.linalg.lstsq(x, y, rcond=None)
    assert est.mu == pytest.approx(coef[0], rel=1e-12)
    assert est.mu == pytest.approx(math.log(110 / 120) / 11, rel=1e-12)
    assert est.sigma2 == pytest.approx(ss[0] / (len(dt) - 1), rel=1e-10)
    assert est.duration == 11.0


@pytest.mark.parametrize(
    ("counts", "years", "match"),
    [
        ([10, 12], None, "at least 3"),
        ([10, 0, 12], None, r"counts\[1\] is 0.0"),
        ([10, -3, 12], None, r"counts\[1\] is -3.0"),
        ([10, float("nan"), 12], None, r"counts\[1\] is nan"),
        ([10, 11, 12], [2000, 2000, 2001], r"strictly increasing; years\[0\]=2000.0"),
        ([10, 11, 12], [2002, 2001, 2003], "strictly increasing"),
        ([10, 11, 12], [2000, 2001], "shape"),
    ],
)
def test_fit_refuses_bad_input(counts, years, match):
    with pytest.raises(ValueError, match=match):
        countpva.fit(counts, years)


@pytest.mark.parametrize(("mu", "sigma2"), [(-0.05, 0.02), (-0.2, 0.5), (-0.001, 0.01)])
def test_extinction_cdf_is_inverse_gaussian_for_negative_drift(mu, sigma2):
    # For mu < 0 the first-passage time to a distance d below is inverse Gaussian with mean
    # d/|mu| and shape d^2/sigma2 (Dennis et al. 1991); scipy parametrises it as
    # invgauss(m/shape, scale=shape).
    d = math.log(500 / 50)
    mean, shape = d / abs(mu), d**2 / sigma2
    t = np.arange(1, 101)
    expected = scipy.stats.invgauss.cdf(t, mean / shape, scale=shape)
    np.testing.assert_allclose(
        countpva.extinction_cdf(mu, sigma2, 500, 50, 100), expected, rtol=1e-9, atol=1e-300
    )


def test_extinction_cdf_positive_drift_is_defective():
    # For mu > 0: G(t) = exp(-2 mu d / sigma2) x IG-CDF with drift -mu (Dennis et al. 1991;
    # Morris & Doak 2002, eq. 3.5): ultimate probability exp(-2 mu d / sigma2) < 1.
    mu, sigma2, d = 0.03, 0.04, math.log(100 / 20)
    g = countpva.extinction_cdf(mu, sigma2, 100, 20, 5000)
    ultimate = math.exp(-2 * mu * d / sigma2)
    mean, shape = d / mu, d**2 / sigma2
    t = np.arange(1, 5001)
    np.testing.assert_allclose(
        g, ultimate * scipy.stats.invgauss.cdf(t, mean / shape, scale=shape), rtol=1e-9
    )
    assert g[-1] == pytest.approx(ultimate, rel=1e-6)
    assert np.all(np.diff(g) >= 0)


def test_grizzly_extinction_cdf_example(grizzly):
    # Morris & Doak 2002, Fig. 3.8 / popbio countCDFxt example: Nc = 99, Ne = 20, tmax = 50. The
    # curve is the defective inverse Gaussian above; its ultimate value exp(-2 mu d / sigma2) is
    # ~6e-3 for the grizzly estimates, and by 50 years the probability is small (<1%).
    years, N = grizzly
    est = countpva.fit(N, years)
    g = countpva.extinction_cdf(est.mu, est.sigma2, 99, 20, 50)
    d = math.log(99 / 20)
    mean, shape = d / est.mu, d**2 / est.sigma2
    expected = math.exp(-2 * est.mu * d / est.sigma2) * scipy.stats.invgauss.cdf(
        np.arange(1, 51), mean / shape, scale=shape
    )
    np.testing.assert_allclose(g, expected, rtol=1e-9, atol=1e-300)
    assert g.shape == (50,)
    assert 0 < g[-1] < 0.01


def test_extinction_cdf_edge_cases_and_validation():
    np.testing.assert_array_equal(countpva.extinction_cdf(-0.1, 0.1, 10, 20, 3), np.ones(3))
    assert np.all(np.isfinite(countpva.extinction_cdf(-5.0, 1e-4, 1e6, 1, 30)))
    for kwargs, match in [
        ({"sigma2": 0.0}, "sigma2"),
        ({"n_current": -1.0}, "n_current"),
        ({"n_threshold": float("nan")}, "n_threshold"),
        ({"t_max": 0}, "t_max"),
        ({"mu": float("inf")}, "mu"),
    ]:
        args = {"mu": 0.0, "sigma2": 0.1, "n_current": 50.0, "n_threshold": 10.0, "t_max": 10}
        args.update(kwargs)
        with pytest.raises(ValueError, match=match):
            countpva.extinction_cdf(**args)


def test_bootstrap_band(grizzly):
    years, N = grizzly
    est = countpva.fit(N, years)
    band = countpva.bootstrap_extinction_cdf(est, 99, 20, 50, replicates=2000, seed=5)
    again = countpva.bootstrap_extinction_cdf(est, 99, 20, 50, replicates=2000, seed=5)
    np.testing.assert_array_equal(band.upper, again.upper)
    assert band.seed_entropy == "5"
    assert np.all(band.lower <= band.median)
    assert np.all(band.median <= band.upper)
    np.testing.assert_array_equal(
        band.best, countpva.extinction_cdf(est.mu, est.sigma2, 99, 20, 50)
    )
    # Parameter uncertainty widens the band well beyond the point estimate (Morris & Doak 2002,
    # Fig. 3.8: the upper limit at 50 years is orders of magnitude above the best estimate).
    assert band.upper[-1] > 10 * band.best[-1]
    with pytest.raises(TypeError, match="not both"):
        countpva.bootstrap_extinction_cdf(est, 99, 20, 5, seed=1, rng=np.random.default_rng(1))
    with pytest.raises(TypeError, match="CountFit"):
        countpva.bootstrap_extinction_cdf((0.1, 0.2), 99, 20, 5)
    with pytest.raises(ValueError, match="read-only"):
        band.best[0] = 1.0
