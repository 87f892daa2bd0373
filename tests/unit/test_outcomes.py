"""Outcome metrics on hand-built trajectories whose answers are known by hand or in closed form."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from conftest_results import known_results, one_species_study

from pva import outcomes, results, runner

# four replicates over years 0..3: one dies in year 2, one grows, one dips to 1 and recovers, one
# dies in year 2 too
TRAJECTORIES = np.array(
    [
        [5, 3, 0, 0],
        [5, 6, 7, 8],
        [5, 2, 1, 4],
        [5, 5, 0, 0],
    ],
    dtype=float,
)


def as_dataarray(values: np.ndarray, **extra: object) -> xr.DataArray:
    return xr.DataArray(
        values,
        dims=(results.REPLICATE, results.YEAR),
        coords={results.YEAR: np.arange(values.shape[1])},
        **extra,
    )


# ---------------------------------------------------------------------------------------------------
# binomial intervals


def test_z_score_is_the_two_sided_normal_quantile():
    # Abramowitz & Stegun (1964), Table 26.5: the 97.5%, 95% and 99.5% points of the normal
    assert outcomes.z_score(0.95) == pytest.approx(1.959963984540054, rel=1e-15)
    assert outcomes.z_score(0.90) == pytest.approx(1.6448536269514722, rel=1e-15)
    assert outcomes.z_score(0.99) == pytest.approx(2.5758293035489004, rel=1e-15)


def test_wilson_interval_closed_forms():
    z = scipy.stats.norm.isf(0.025)
    # x = 0: the Wilson interval is [0, z^2 / (n + z^2)] (Wilson 1927)
    lower, upper = outcomes.binomial_interval(0, 10)
    assert lower == 0.0
    assert upper == pytest.approx(z**2 / (10 + z**2), rel=1e-12)
    # x = n/2 is symmetric about 1/2 with half-width z sqrt(n/4 + z^2/4) / (n + z^2)
    lower, upper = outcomes.binomial_interval(50, 100)
    half = z * np.sqrt(100 / 4 + z**2 / 4) / (100 + z**2)
    assert (lower, upper) == pytest.approx((0.5 - half, 0.5 + half), rel=1e-12)
    # At x = 0 and x = n the bounds are exactly 0 and 1 for every n, not 1e-19 from rounding
    # (the formula alone leaves such residues for about 60% of n up to 5000, e.g. n = 6, 2000).
    for trials in (1, 6, 8, 9, 12, 2000):
        assert outcomes.binomial_interval(0, trials)[0] == 0.0
        assert outcomes.binomial_interval(trials, trials)[1] == 1.0


def test_outcomes_accept_the_dataset_of_simulate():
    # The Dataset form uses total abundance summed over populations: here two sites of which one
    # dies out, so the species is extinct only where both are.
    total = np.stack([TRAJECTORIES, np.array([[1, 0, 0, 0]] * 4, dtype=float)], axis=-1)
    ds = xr.Dataset(
        {results.TOTAL: ((results.REPLICATE, results.YEAR, results.POPULATION), total)},
        coords={results.YEAR: np.arange(4)},
    )
    est = outcomes.extinction_probability(ds)
    np.testing.assert_allclose(est.estimate.values, [0, 0, 0.5, 0.5])
    with pytest.raises(TypeError, match="total_abundance"):
        outcomes.extinction_probability(xr.Dataset({"x": ((results.REPLICATE,), [1.0])}))


def test_clopper_pearson_closed_forms():
    n = 10
    lower, upper = outcomes.binomial_interval(0, n, method="clopper-pearson")
    assert lower == 0.0
    assert upper == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-10)
    lower, upper = outcomes.binomial_interval(n, n, method="clopper-pearson")
    assert lower == pytest.approx(0.025 ** (1 / n), rel=1e-10)
    assert upper == 1.0


def test_clopper_pearson_coverage_is_at_least_nominal():
    # exact coverage by enumeration: sum over x of P(X = x) [p in CI(x)] >= 0.95 for every p
    # (Clopper & Pearson 1934 guarantee it; Brown, Cai & DasGupta 2001, section 4.2.1)
    n = 40
    x = np.arange(n + 1)
    lower, upper = outcomes.binomial_interval(x, n, method="clopper-pearson")
    for p in np.linspace(0.005, 0.995, 199):
        covered = (lower <= p) & (p <= upper)
        assert scipy.stats.binom.pmf(x, n, p)[covered].sum() >= 0.95 - 1e-12


def test_binomial_interval_rejects_bad_input():
    with pytest.raises(ValueError, match="trials must be a positive integer"):
        outcomes.binomial_interval(1, 0)
    with pytest.raises(ValueError, match=r"successes must lie in \[0, trials=3\]"):
        outcomes.binomial_interval(4, 3)
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1"):
        outcomes.binomial_interval(1, 3, confidence=1.0)
    with pytest.raises(ValueError, match="method must be 'wilson' or 'clopper-pearson'"):
        outcomes.binomial_interval(1, 3, method="wald")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# extinction and quasi-extinction CDF


def test_extinction_cdf_by_hand():
    est = outcomes.extinction_probability(TRAJECTORIES)
    np.testing.assert_array_equal(est.estimate, [0, 0, 0.5, 0.5])
    # binomial SE sqrt(p(1-p)/R), floored at 1/R where p is 0
    np.testing.assert_allclose(est.mcse, [0.25, 0.25, 0.25, 0.25])
    lower, upper = outcomes.binomial_interval(np.array([0, 0, 2, 2]), 4)
    np.testing.assert_allclose(est.lower, lower)
    np.testing.assert_allclose(est.upper, upper)
    assert est.confidence == 0.95
    assert est.method == "wilson"


def test_quasi_extinction_counts_a_recovered_replicate():
    # replicate 2 falls to 1 in year 2 and recovers to 4: it stays quasi-extinct (first passage)
    est = outcomes.quasi_extinction_probability(TRAJECTORIES, 2)
    np.testing.assert_array_equal(est.estimate, [0, 0.25, 0.75, 0.75])


def test_threshold_is_inclusive():
    est = outcomes.quasi_extinction_probability(TRAJECTORIES, 5)
    np.testing.assert_array_equal(est.estimate, [1, 1, 1, 1])
    est = outcomes.quasi_extinction_probability(TRAJECTORIES, 4.999)
    np.testing.assert_array_equal(est.estimate[0], 0)


def test_cdf_is_monotone_and_bounded_on_random_walks():
    rng = np.random.default_rng(1)
    walks = np.maximum(0, 20 + np.cumsum(rng.integers(-3, 4, size=(200, 60)), axis=1))
    est = outcomes.quasi_extinction_probability(walks, 5)
    assert np.all(np.diff(est.estimate) >= 0)
    assert np.all((est.lower <= est.estimate) & (est.estimate <= est.upper))
    assert np.all((est.lower >= 0) & (est.upper <= 1))


def test_extinct_at_start_counts_in_year_zero():
    est = outcomes.extinction_probability(np.array([[0, 0, 0], [3, 3, 3]]))
    np.testing.assert_array_equal(est.estimate, [0.5, 0.5, 0.5])


def test_first_passage_year_marks_censored_replicates_nan():
    np.testing.assert_array_equal(outcomes.first_passage_year(TRAJECTORIES), [2, np.nan, np.nan, 2])
    np.testing.assert_array_equal(outcomes.first_passage_year(TRAJECTORIES, 2), [2, np.nan, 1, 2])


def test_first_passage_uses_the_year_coordinate():
    da = as_dataarray(TRAJECTORIES).assign_coords(year=[2020, 2021, 2022, 2023])
    out = outcomes.first_passage_year(da)
    np.testing.assert_array_equal(out.values, [2022, np.nan, np.nan, 2022])
    assert out.dims == (results.REPLICATE,)
    assert out.attrs["units"] == "year"


# ---------------------------------------------------------------------------------------------------
# median time to extinction


def test_median_time_to_extinction_reached():
    # 3 of 4 extinct by year 1 -> F(1) = 0.75 >= 1/2
    traj = np.array([[4, 0, 0], [4, 0, 0], [4, 0, 0], [4, 4, 4]], dtype=float)
    med = outcomes.median_time_to_extinction(traj)
    assert med.median == 1.0
    assert not med.censored
    assert med.lower <= med.median <= med.upper
    assert med.horizon == 2.0


def test_median_time_to_extinction_censored_beyond_horizon():
    traj = np.array([[4, 0, 0], [4, 4, 4], [4, 4, 4], [4, 4, 4]], dtype=float)
    med = outcomes.median_time_to_extinction(traj)
    assert med.median == np.inf
    assert med.censored


def test_median_interval_inverts_the_cdf_band():
    # 1000 replicates with known extinction years 0..9 in equal shares: F(t) = (t + 1) / 10, so the
    # median is year 4 (F = 0.5). The band at year 3 (F = 0.4) lies below 1/2 and at year 5
    # (F = 0.6) above it for R = 1000, while at year 4 it straddles 1/2: the interval is [4, 5]
    years = np.repeat(np.arange(10), 100)
    traj = (np.arange(11)[None, :] < years[:, None]).astype(float)
    med = outcomes.median_time_to_extinction(traj)
    assert med.median == 4.0
    assert (med.lower, med.upper) == (4.0, 5.0)


# ---------------------------------------------------------------------------------------------------
# abundance summaries


def test_expected_minimum_abundance_by_hand():
    ema = outcomes.expected_minimum_abundance(TRAJECTORIES)
    minima = np.array([0, 5, 1, 0])
    assert ema.estimate == pytest.approx(minima.mean())
    assert ema.mcse == pytest.approx(minima.std(ddof=1) / 2)
    z = scipy.stats.norm.isf(0.025)
    assert (ema.lower, ema.upper) == pytest.approx((1.5 - z * ema.mcse, 1.5 + z * ema.mcse))
    by_year = outcomes.expected_minimum_abundance(TRAJECTORIES, by_year=True)
    np.testing.assert_allclose(by_year.estimate, [5, 15 / 4, 6 / 4, 6 / 4])


def test_ema_of_an_exponential_decline_is_the_final_value():
    traj = 100 * 0.9 ** np.arange(20)[None, :].repeat(3, axis=0)
    ema = outcomes.expected_minimum_abundance(traj)
    assert ema.estimate == pytest.approx(100 * 0.9**19)
    assert ema.mcse == pytest.approx(0, abs=1e-12)


def test_mean_trajectory_by_hand():
    est = outcomes.mean_trajectory(TRAJECTORIES)
    np.testing.assert_allclose(est.estimate, TRAJECTORIES.mean(axis=0))
    np.testing.assert_allclose(est.mcse, TRAJECTORIES.std(axis=0, ddof=1) / 2)


def test_quantile_interval_uses_binomial_order_statistics():
    # n = 100, median: the distribution-free 95% interval is [x_(40), x_(61)] (Hahn & Meeker 1991,
    # Table A.15; ranks from the Binomial(100, 1/2) quantiles)
    values = np.arange(1, 101, dtype=float)[:, None]
    est = outcomes.quantile_bands(values, [0.5])
    assert est.estimate[0, 0] == pytest.approx(50.5)
    assert (est.lower[0, 0], est.upper[0, 0]) == (40.0, 61.0)
    assert est.mcse[0, 0] == pytest.approx(21 / (2 * scipy.stats.norm.isf(0.025)))


def test_final_abundance_quantiles():
    est = outcomes.final_abundance_quantiles(TRAJECTORIES, (0.0, 0.5, 1.0))
    np.testing.assert_allclose(est.estimate, [0, 2, 8])
    assert est.estimate.shape == (3,)
    da = outcomes.final_abundance_quantiles(as_dataarray(TRAJECTORIES), (0.0, 0.5, 1.0))
    assert da.estimate.dims == (results.QUANTILE,)
    np.testing.assert_allclose(da.estimate.values, [0, 2, 8])


def test_quantile_levels_are_validated():
    with pytest.raises(ValueError, match=r"quantile levels must be numbers in \[0, 1\]"):
        outcomes.quantile_bands(TRAJECTORIES, [1.5])


# ---------------------------------------------------------------------------------------------------
# stochastic growth rate


def test_growth_rate_of_geometric_trajectories_is_exact():
    traj = 10 * 1.07 ** np.arange(30)[None, :].repeat(4, axis=0)
    g = outcomes.stochastic_growth_rate(traj)
    assert g.log_lambda == pytest.approx(np.log(1.07), rel=1e-12)
    assert g.endpoint == pytest.approx(np.log(1.07), rel=1e-12)
    assert g.sigma2 == pytest.approx(0, abs=1e-20)
    assert g.n_intervals == 4 * 29


def test_growth_rate_by_hand_skips_extinct_intervals():
    g = outcomes.stochastic_growth_rate(TRAJECTORIES)
    # extant intervals: 5->3 | 5->6->7->8 | 5->2->1->4 | 5->5
    expected = (np.log(3 / 5) + np.log(8 / 5) + np.log(4 / 5) + 0.0) / 8
    assert g.n_intervals == 8
    assert g.log_lambda == pytest.approx(expected)
    # Heyde-Cohen endpoint over the two replicates alive at the end
    assert g.endpoint == pytest.approx((np.log(8 / 5) + np.log(4 / 5)) / 2 / 3)


def test_growth_rate_start_skips_years():
    traj = np.array([[1.0, 100.0, 200.0, 400.0]])
    assert outcomes.stochastic_growth_rate(traj, start=1).log_lambda == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="start must be an integer year"):
        outcomes.stochastic_growth_rate(traj, start=3)


def test_growth_rate_of_a_random_walk_matches_its_drift_and_se():
    # log N is a Gaussian random walk with drift mu and SD sigma (Dennis et al. 1991): the estimate
    # is unbiased with SE sigma / sqrt(R T); the ratio-estimator SE must recover that SE
    rng = np.random.default_rng(20261123)
    mu, sigma, R, T = -0.02, 0.15, 2000, 25
    log_n = np.log(500) + np.cumsum(
        np.concatenate([np.zeros((R, 1)), rng.normal(mu, sigma, (R, T))], axis=1), axis=1
    )
    g = outcomes.stochastic_growth_rate(np.exp(log_n))
    exact_se = sigma / np.sqrt(R * T)
    assert abs(g.log_lambda - mu) <= 4.5 * exact_se
    # the SE estimate has relative SD about 1/sqrt(2R) (chi-square with R - 1 df)
    assert abs(g.mcse / exact_se - 1) <= 4.5 / np.sqrt(2 * R)
    # sigma2 from R T increments: relative SD sqrt(2 / (R T))
    assert abs(g.sigma2 / sigma**2 - 1) <= 4.5 * np.sqrt(2 / (R * T))
    assert g.lower < g.log_lambda < g.upper


# ---------------------------------------------------------------------------------------------------
# input handling


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.array([1.0, 2.0]), "at least 2 dimensions"),
        (np.array([[1.0, np.nan]]), "must be finite"),
        (np.array([[1.0, -1.0]]), "must be >= 0"),
        (np.zeros((0, 3)), "at least one replicate"),
    ],
)
def test_bad_trajectories_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        outcomes.extinction_probability(bad)


def test_dataarray_without_replicate_dim_is_refused():
    da = xr.DataArray(TRAJECTORIES, dims=("run", results.YEAR))
    with pytest.raises(ValueError, match="missing \\['replicate'\\]"):
        outcomes.extinction_probability(da)


def test_bad_threshold_is_refused():
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0"):
        outcomes.quasi_extinction_probability(TRAJECTORIES, -1)


def test_dataarray_in_dataarray_out_with_extra_dims():
    # a scenario dim (and any order of dims) is carried through
    stacked = xr.concat(
        [as_dataarray(TRAJECTORIES), as_dataarray(TRAJECTORIES * 0 + 7)],
        dim=xr.DataArray(["none", "action"], dims="scenario"),
    ).transpose(results.YEAR, "scenario", results.REPLICATE)
    est = outcomes.extinction_probability(stacked)
    assert est.estimate.dims == (results.YEAR, "scenario")
    np.testing.assert_array_equal(est.estimate.sel(scenario="none"), [0, 0, 0.5, 0.5])
    np.testing.assert_array_equal(est.estimate.sel(scenario="action"), [0, 0, 0, 0])
    assert est.estimate.attrs["units"] == "1"
    med = outcomes.median_time_to_extinction(stacked)
    assert med.median.dims == ("scenario",)
    np.testing.assert_array_equal(med.median.values, [2.0, np.inf])
    bands = outcomes.quantile_bands(stacked, (0.5,))
    assert bands.estimate.dims == (results.QUANTILE, results.YEAR, "scenario")
    g = outcomes.stochastic_growth_rate(stacked)
    assert g.log_lambda.dims == ("scenario",)


# ---------------------------------------------------------------------------------------------------
# summarize


def small_dataset(threshold: float | None = None, on: str | None = None) -> xr.Dataset:
    """TRAJECTORIES as the total abundance of one population, mature = total // 2; with a
    threshold, laid out as pva.simulate records one (species "s")."""
    total = as_dataarray(TRAJECTORIES).expand_dims({results.POPULATION: [0]}, axis=2)
    mature = (total // 2).assign_attrs(results.VARIABLE_ATTRS[results.MATURE])
    ds = xr.Dataset(
        {
            results.TOTAL: total.assign_attrs(results.VARIABLE_ATTRS[results.TOTAL]),
            results.MATURE: mature,
        }
    )
    if threshold is not None:
        ds = ds.assign_coords({results.SPECIES: "s", results.SCENARIO: "no action"})
        ds[results.QUASI_EXTINCTION_THRESHOLD] = threshold
        table = {"name": "s"} if on is None else {"name": "s", "quasi_extinction_on": on}
        ds.attrs[results.ATTR_STUDY] = json.dumps({"species": [table]})
    return ds


def test_summarize_variables_units_and_mcse():
    summary = outcomes.summarize(small_dataset(), quantiles=(0.5,))
    np.testing.assert_array_equal(summary[results.P_EXTINCTION], [0, 0, 0.5, 0.5])
    for name in (
        results.P_EXTINCTION,
        results.P_QUASI_EXTINCTION,
        results.EXPECTED_MINIMUM,
        results.MEAN_ABUNDANCE,
        results.ABUNDANCE_QUANTILE,
        results.STOCHASTIC_GROWTH_RATE,
    ):
        assert name + results.MCSE_SUFFIX in summary, name
    for name, variable in {**summary.data_vars, **summary.coords}.items():
        assert variable.attrs.get("units"), name
        assert variable.attrs.get("long_name"), name
    assert summary[results.MEDIAN_TIME_TO_EXTINCTION].item() == 2.0
    assert summary[results.ABUNDANCE_QUANTILE].dims == (results.QUANTILE, results.YEAR)


def test_summarize_reads_the_recorded_quasi_extinction_setting():
    ds = small_dataset(threshold=1.0, on="mature")
    summary = outcomes.summarize(ds)
    # mature = total // 2 -> [2,1,0,0], [2,3,3,4], [2,1,0,2], [2,2,0,0]; <= 1 from years 1,-,1,2
    np.testing.assert_array_equal(summary[results.P_QUASI_EXTINCTION], [0, 0.5, 0.75, 0.75])
    assert summary[results.QUASI_EXTINCTION_ON].item() == "mature"
    assert summary[results.QUASI_EXTINCTION_THRESHOLD].item() == 1.0
    # an explicit argument wins over the spec
    summary = outcomes.summarize(ds, quasi_extinction_threshold=0, quasi_extinction_on="total")
    np.testing.assert_array_equal(summary[results.P_QUASI_EXTINCTION], [0, 0, 0.5, 0.5])


def test_summarize_needs_total_and_mature():
    with pytest.raises(ValueError, match="must contain the variable 'mature_abundance'"):
        outcomes.summarize(small_dataset().drop_vars(results.MATURE))
    with pytest.raises(ValueError, match="quasi_extinction_on must be 'total' or 'mature'"):
        outcomes.summarize(small_dataset(), quasi_extinction_on="adults")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# results of `pva run` and of pva.simulate


def test_summarize_on_a_run_file_honours_each_species_threshold():
    # known_results: Beta (threshold 10 on total = 2 x mature) under no action falls to
    # 2 x (50 - 50 t // 20) <= 10 from year 18 in half the replicates, and to 0 only in year 20
    # (see conftest_results); Alpha's threshold is 20
    ds = known_results(8)
    summary = outcomes.summarize(ds)
    np.testing.assert_array_equal(summary[results.QUASI_EXTINCTION_THRESHOLD], [20.0, 10.0])
    assert summary[results.QUASI_EXTINCTION_ON].values.tolist() == ["total", "total"]
    beta = summary.sel(species="Beta", scenario="no action")
    assert float(beta[results.P_QUASI_EXTINCTION].sel(year=17)) == 0.0
    assert float(beta[results.P_QUASI_EXTINCTION].sel(year=18)) == 0.5
    assert float(beta[results.P_EXTINCTION].sel(year=18)) == 0.0
    assert float(beta[results.P_EXTINCTION].sel(year=20)) == 0.5
    # the median time to quasi-extinction of Beta is 18 (the first year with F >= 1/2)
    assert float(beta[results.MEDIAN_TIME_TO_QUASI_EXTINCTION]) == 18.0


def test_summarize_on_a_run_file_counts_mature_individuals_when_the_study_says_so():
    study = one_species_study()
    run = runner.run_study(study, backend="sequential")
    summary = outcomes.summarize(run).isel(species=0, scenario=0)
    assert summary[results.QUASI_EXTINCTION_ON].item() == "mature"
    mature = run[results.MATURE].isel(species=0, scenario=0).sum(results.POPULATION)
    # the definition: the share of replicates at or below 5 mature individuals in some year <= t
    reached = (mature <= 5).cumsum(results.YEAR) > 0
    np.testing.assert_allclose(summary[results.P_QUASI_EXTINCTION], reached.mean(results.REPLICATE))
    final = summary.isel(year=-1)
    assert float(final[results.P_QUASI_EXTINCTION]) > float(final[results.P_EXTINCTION])


PUBLIC_FUNCTIONS = {
    "extinction_probability": outcomes.extinction_probability,
    "quasi_extinction_probability": lambda ds: outcomes.quasi_extinction_probability(ds, 10.0),
    "first_passage_year": lambda ds: outcomes.first_passage_year(ds, 10.0),
    "median_time_to_extinction": lambda ds: outcomes.median_time_to_extinction(ds, 10.0),
    "expected_minimum_abundance": outcomes.expected_minimum_abundance,
    "mean_trajectory": outcomes.mean_trajectory,
    "quantile_bands": outcomes.quantile_bands,
    "final_abundance_quantiles": outcomes.final_abundance_quantiles,
    "stochastic_growth_rate": outcomes.stochastic_growth_rate,
}


@pytest.mark.parametrize("name", sorted(PUBLIC_FUNCTIONS))
def test_every_metric_accepts_a_run_file_and_a_simulation(name, run_and_simulation):
    run, simulated = run_and_simulation
    of_run = PUBLIC_FUNCTIONS[name](run)
    of_simulation = PUBLIC_FUNCTIONS[name](simulated)
    if isinstance(of_run, xr.DataArray):
        fields = {"value": (of_run, of_simulation)}
    else:
        fields = {
            f.name: (getattr(of_run, f.name), getattr(of_simulation, f.name))
            for f in dataclasses.fields(of_run)
            if isinstance(getattr(of_run, f.name), xr.DataArray)
        }
    for field, (a, b) in fields.items():
        assert results.SPECIES in a.dims, field
        assert results.SPECIES not in b.dims, field
        np.testing.assert_array_equal(
            a.isel(species=0, scenario=0).transpose(*b.dims).values, b.values, err_msg=field
        )


def test_summarize_accepts_a_run_file_and_a_simulation(run_and_simulation):
    run, simulated = run_and_simulation
    of_run = outcomes.summarize(run).isel(species=0, scenario=0)
    of_simulation = outcomes.summarize(simulated)
    assert set(of_run.data_vars) == set(of_simulation.data_vars)
    for name in of_simulation.data_vars:
        a, b = of_run[name], of_simulation[name]
        np.testing.assert_array_equal(a.transpose(*b.dims).values, b.values, err_msg=name)
        assert a.attrs == b.attrs, name
