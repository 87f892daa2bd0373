"""Vital-rate draws of the engine's environment (pva.engine.sample_environment) against their
specification: beta, lognormal and stretched-beta moments, the Gaussian copula's correlations and
Spearman's (6/π) arcsin(r/2), AR(1) autocorrelation, and popbio's *Hudsonia* vital rates (Morris &
Doak 2002, Box 8.10). Monte Carlo, z · SE tolerances (pva.testing)."""

from __future__ import annotations

import numpy as np
import scipy.special
import scipy.stats
from example_species import HUDSONIA_N0, hudsonia_rate_rows

from pva import datasets
from pva.engine import sample_environment
from pva.model import (
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
    hudsonia_vital_rates,
)
from pva.testing import assert_mc_close


def _rates_species(rates: tuple[VitalRate, ...], env: VitalRateStochasticity) -> Species:
    names = [r.name for r in rates]
    return Species(
        name="rates",
        stages=tuple(f"stage{i}" for i in range(len(rates))),
        vital_rates=VitalRates(
            rates=rates,
            U=tuple(
                tuple(
                    names[i] if i == j and rates[i].distribution == "beta" else 0
                    for j in range(len(rates))
                )
                for i in range(len(rates))
            ),
            F=tuple(
                tuple(
                    names[i] if i == j and rates[i].distribution != "beta" else 0
                    for j in range(len(rates))
                )
                for i in range(len(rates))
            ),
        ),
        environment=env,
        initial_total=10,
    )


def test_vital_rate_draws_reproduce_means_sds_and_correlations() -> None:
    rates = (
        VitalRate(name="s", mean=0.7, sd=0.15),
        VitalRate(name="g", mean=0.2, sd=0.1),
        VitalRate(name="f", mean=12.0, sd=4.0, distribution="lognormal"),
        VitalRate(name="b", mean=3.0, sd=1.5, distribution="stretched_beta", lower=1.0, upper=8.0),
    )
    r = 0.6
    corr = ((1, r, 0, 0), (r, 1, -r, 0), (0, -r, 1, 0), (0, 0, 0, 1))
    env = VitalRateStochasticity(rates=("s", "g", "f", "b"), correlation=corr)
    sp = _rates_species(rates, env)
    R = 20_000
    draws = sample_environment(sp, years=3, replicates=R, rng=np.random.default_rng(11))
    x = {k: v[:, 2] for k, v in draws.items()}  # one year per replicate: independent draws
    dists = {
        "s": scipy.stats.beta(*rates[0].beta_parameters()),
        "g": scipy.stats.beta(*rates[1].beta_parameters()),
        "f": scipy.stats.lognorm(
            s=rates[2].lognormal_parameters()[1], scale=np.exp(rates[2].lognormal_parameters()[0])
        ),
        "b": scipy.stats.beta(*rates[3].beta_parameters(), loc=1.0, scale=7.0),
    }
    for rate in rates:
        v = x[rate.name]
        kurt = float(dists[rate.name].stats(moments="k"))  # excess kurtosis
        assert_mc_close(v.mean(), rate.mean, rate.sd / np.sqrt(R), n_tests=8)
        # SE of a sample variance: sigma^2 sqrt((kurtosis_excess + 2) / R)
        assert_mc_close(v.var(ddof=1), rate.sd**2, rate.sd**2 * np.sqrt((kurt + 2) / R), n_tests=8)
    # normal scores recovered through each rate's CDF have the given correlations
    z = {k: scipy.special.ndtri(dists[k].cdf(x[k])) for k in x}
    for (a, b), rho in {("s", "g"): r, ("g", "f"): -r, ("s", "f"): 0.0, ("s", "b"): 0.0}.items():
        est = np.corrcoef(z[a], z[b])[0, 1]
        assert_mc_close(est, rho, (1 - rho**2) / np.sqrt(R - 1), n_tests=4)
    # and Spearman rank correlations of the rates are (6/pi) arcsin(r/2) (Gaussian copula)
    rho_s = scipy.stats.spearmanr(x["s"], x["g"]).statistic
    assert_mc_close(rho_s, 6 / np.pi * np.arcsin(r / 2), 1 / np.sqrt(R - 1))


def test_vital_rate_autocorrelation() -> None:
    rates = (
        VitalRate(name="s", mean=0.5, sd=0.2),
        VitalRate(name="f", mean=2.0, sd=1.0, distribution="lognormal"),
    )
    phi = 0.5
    sp = _rates_species(rates, VitalRateStochasticity(autocorrelation=phi))
    R = 20_000
    draws = sample_environment(sp, years=4, replicates=R, rng=np.random.default_rng(5))
    mu, sigma = rates[1].lognormal_parameters()
    zf = (np.log(draws["f"]) - mu) / sigma  # lognormal scores are exact
    est = np.corrcoef(zf[:, 2], zf[:, 3])[0, 1]
    assert_mc_close(est, phi, (1 - phi**2) / np.sqrt(R - 1), n_tests=2)
    zs = scipy.special.ndtri(scipy.stats.beta(*rates[0].beta_parameters()).cdf(draws["s"]))
    # stationary: year-3 scores are still standard normal
    assert_mc_close(zs[:, 3].std(ddof=1), 1.0, np.sqrt(2 / R), n_tests=2)
    est = np.corrcoef(zs[:, 2], zs[:, 3])[0, 1]
    assert_mc_close(est, phi, (1 - phi**2) / np.sqrt(R - 1), n_tests=2)


def test_hudsonia_vital_rates_reproduce_hudvrs() -> None:
    rows = hudsonia_rate_rows()
    corrs = datasets.popbio_document("hudcorrs")
    env = VitalRateStochasticity(
        rates=tuple(corrs["rates"]),
        correlation=corrs["corrin"],
        between_year_correlation=corrs["corrout"],
    )
    sp = Species(
        name="Hudsonia montana",
        stages=("seed", "seedlings", "tiny", "small", "medium", "large"),
        vital_rates=hudsonia_vital_rates(rows),
        environment=env,
        initial=HUDSONIA_N0,
    )
    R = 20_000
    draws = sample_environment(sp, years=5, replicates=R, rng=np.random.default_rng(2))
    variable = [(n, m, v) for n, m, v in rows if v > 0]
    for name, mean, var in variable:
        x = draws[name][:, 4]
        assert_mc_close(x.mean(), mean, np.sqrt(var / R), n_tests=2 * len(variable))
        assert x.min() >= 0
    for name, mean, var in rows:
        if var == 0:
            np.testing.assert_array_equal(draws[name], mean)
    # survival-type matrices stay valid probabilities whatever the draw
    m = sp.vital_rates.matrices({k: v[:, 4] for k, v in draws.items()})  # type: ignore[union-attr]
    assert m["U"].sum(axis=1).max() <= 1 + 1e-12
