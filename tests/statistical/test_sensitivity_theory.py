"""Sweeps, sensitivity indices and parameter uncertainty against theory.

* The Ishigami function (a = 7, b = 0.1, x_i ~ U(-π, π)) through our pipeline (design ->
  evaluation -> indices) against its closed-form Sobol' indices: V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2,
  V_1 = (1 + bπ⁴/5)²/2, V_2 = a²/8, V_13 = 8b²π⁸/225, so S1 = 0.3139, S2 = 0.4424, S3 = 0,
  ST1 = 0.5576, ST2 = 0.4424, ST3 = 0.2437 (Ishigami & Homma 1990; Sobol' & Levitan 1999; the
  values of Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, and the closed forms as
  the OpenTURNS use case documents them, openturns.github.io/openturns/latest/usecases/
  use_case_ishigami.html).
* A harvest sweep: the risk rises with the harvest, monotonically in the paired (common random
  numbers) estimate, whose standard error is far below that of independent samples.
* A parameter without effect (an intervention's cost) has a total-order index whose interval
  holds 0.
* Parameter uncertainty on a Galton-Watson process with an uncertain mean offspring number m ~
  U(a, b): P(extinct by T) = E_m[q_T(m)], with q_T(m) = f_m^T(0)^n0, f_m(s) = exp(m (s - 1))
  (Harris 1963), and the variance of the extinction indicator splits into Var_m(q_T(m))
  (parameters) and E_m[q_T(m)(1 - q_T(m))] (process).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.integrate
from sweep_studies import harvest_study, large_herb

from pva import results, streams
from pva.model import Species
from pva.sensitivity import (
    Factor,
    SweepSettings,
    UncertaintySettings,
    designs,
    evaluate,
    parse_setting,
    run_uncertainty,
    sobol_indices,
    sweep,
)
from pva.sensitivity.designs import Uniform
from pva.sensitivity.settings import UncertainParameter
from pva.study import Study
from pva.testing import assert_mc_close, galton_watson_extinction

A, B = 7.0, 0.1


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices() -> tuple[np.ndarray, np.ndarray]:
    """Closed-form first- and total-order indices of the Ishigami function."""
    pi4, pi8 = math.pi**4, math.pi**8
    v = A**2 / 8 + B * pi4 / 5 + B**2 * pi8 / 18 + 0.5
    v1, v2, v13 = 0.5 * (1 + B * pi4 / 5) ** 2, A**2 / 8, 8 * B**2 * pi8 / 225
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_ishigami_closed_form_is_the_published_values() -> None:
    first, total = ishigami_indices()
    np.testing.assert_allclose(first, [0.3139, 0.4424, 0.0], atol=5e-5)
    np.testing.assert_allclose(total, [0.5576, 0.4424, 0.2437], atol=5e-5)


def test_ishigami_indices_through_the_pipeline() -> None:
    factors = [Factor.uniform(f"x{i + 1}", -math.pi, math.pi) for i in range(3)]
    design = designs.sobol(factors, 2**13, rng=streams.sweep_generator(2024, "design"))
    found = sobol_indices(design, evaluate(ishigami, design), resamples=500, seed=7)
    first, total = ishigami_indices()
    estimates = np.concatenate([found["first"].values, found["total"].values])
    errors = np.concatenate([found["first_se"].values, found["total_se"].values])
    assert_mc_close(estimates, np.concatenate([first, total]), errors, n_tests=6)
    # and the bootstrap intervals are narrow enough to tell the factors apart
    assert float(found["total_upper"].sel(parameter="x3")) < float(
        found["total_lower"].sel(parameter="x2")
    )


def test_risk_rises_with_harvest_and_common_random_numbers_pair_the_samples() -> None:
    """A population whose risk the run of good and bad years sets (:func:`large_herb`): every
    step up the harvest raises the risk in the paired estimate, no replicate is saved by more
    harvest, and the paired standard error is well below that of independent samples."""
    study = harvest_study(replicates=1000, years=30, seed=17, species=(large_herb(),))
    settings = SweepSettings(
        parameters=(parse_setting("threats.poaching.proportion=0.04:0.12:5"),), design="grid"
    )
    ds = sweep(study, settings, backend="sequential")
    for horizon in (10, 30):
        hits = (
            ds[results.QUASI_EXTINCT_BY_HORIZON]
            .sel(species="herb", scenario="no action", horizon=horizon)
            .values.astype(float)
        )  # (sample, replicate)
        risk = hits.mean(axis=1)
        np.testing.assert_allclose(
            risk,
            ds[results.P_QUASI_EXTINCTION].sel(
                species="herb", scenario="no action", horizon=horizon
            ),
        )
        steps = np.diff(hits, axis=0)  # replicate by replicate, on the same random numbers
        n = hits.shape[1]
        se_paired = steps.std(axis=1, ddof=1) / math.sqrt(n)
        se_unpaired = np.sqrt((risk[:-1] * (1 - risk[:-1]) + risk[1:] * (1 - risk[1:])) / n)
        assert np.all(steps.mean(axis=1) > 0), risk  # monotone in the paired estimate
        assert np.all((steps < 0).mean(axis=1) < 0.01)  # more harvest hardly ever saves one
        assert np.all(se_paired < 0.6 * se_unpaired), (se_paired, se_unpaired)
        if horizon == 10:
            assert np.all(se_paired < 0.5 * se_unpaired), (se_paired, se_unpaired)
    total = hits[-1] - hits[0]
    assert total.mean() > 4 * total.std(ddof=1) / math.sqrt(n)


def test_design_points_with_the_same_harvest_have_the_same_futures_replicate_by_replicate() -> None:
    """Common random numbers across design points: patrols halving a harvest of 0.2 leave the
    harvest of 0.1 that patrols abating nothing leave, so those two samples (different parameter
    values, the same dynamics) must give every replicate the same future, extinction year and
    abundance alike; samples with different harvests must not. The study has the one scenario
    (patrols): scenarios are projected together (pva.engine.project_chunks), and the demographic
    draws of one scenario follow the others' states, so only the environment and catastrophes
    are shared between scenarios whose states differ."""
    study = harvest_study(replicates=200, years=30, seed=17)
    study = study.with_(scenarios=study.scenarios[1:])  # patrols alone
    settings = SweepSettings(
        parameters=(
            parse_setting("threats.poaching.proportion=0.1:0.2:2"),
            parse_setting("interventions.patrols.fraction=0:0.5:2"),
        ),
        design="grid",
    )
    ds = sweep(study, settings, backend="sequential")
    proportion = ds[results.PARAMETER_PREFIX + "proportion"].values
    fraction = ds[results.PARAMETER_PREFIX + "fraction"].values
    sample = {
        (float(p), float(f)): s for s, (p, f) in enumerate(zip(proportion, fraction, strict=True))
    }
    outcome = ds[results.EXTINCT_BY_HORIZON].sel(scenario="patrols")
    halved = outcome.isel(sample=sample[(0.2, 0.5)]).values
    unabated = outcome.isel(sample=sample[(0.1, 0.0)]).values
    assert 0 < halved.mean() < 1  # some replicates go extinct, some do not
    np.testing.assert_array_equal(halved, unabated)
    for name in (results.P_QUASI_EXTINCTION, results.MEDIAN_FINAL_ABUNDANCE):
        patrols = ds[name].sel(scenario="patrols")
        np.testing.assert_array_equal(
            patrols.isel(sample=sample[(0.2, 0.5)]).values,
            patrols.isel(sample=sample[(0.1, 0.0)]).values,
        )
    # and the harvest does change the futures: equal outcomes above are not for want of effect
    doubled = outcome.isel(sample=sample[(0.2, 0.0)]).values
    assert doubled.mean() > unabated.mean()


def test_a_parameter_without_effect_has_a_total_order_index_holding_zero() -> None:
    study = harvest_study(replicates=200, years=20, seed=23)
    settings = SweepSettings(
        parameters=(
            parse_setting("threats.poaching.proportion=0.05:0.3"),
            parse_setting("interventions.patrols.annual_cost=0:1000"),
        ),
        design="sobol",
        samples=16,
    )
    ds = sweep(study, settings, backend="sequential", resamples=500)
    for scenario in ("no action", "patrols"):
        at = ds.sel(species="herb", scenario=scenario, horizon=20)
        cost = at.sel(parameter="annual_cost")
        assert (
            float(cost[results.SOBOL_TOTAL + "_lower"])
            <= 0.0
            <= float(cost[results.SOBOL_TOTAL + "_upper"])
        )
        harvest = at.sel(parameter="proportion")
        assert float(harvest[results.SOBOL_TOTAL + "_lower"]) > 0.5


def test_variance_split_of_a_galton_watson_process_with_an_uncertain_mean() -> None:
    low, high, n0, years = 0.6, 1.4, 2, 8
    species = Species(name="gw", stages=("all",), U=((0.0,),), F=((1.0,),), initial=(n0,))
    study = Study(name="gw", species=(species,), years=years, replicates=400 * 25, seed=31)
    settings = UncertaintySettings(
        parameters=(
            UncertainParameter(path="species.gw.F[0][0]", distribution=Uniform(low=low, high=high)),
        ),
        replicates_per_draw=25,
    )
    ds = run_uncertainty(study, settings, backend="sequential", red_list=False)

    def q(m: float) -> float:
        return float(galton_watson_extinction([m] * years, n0)[years])

    def mean_of(f: object) -> float:
        return scipy.integrate.quad(f, low, high)[0] / (high - low)  # type: ignore[arg-type]

    p = mean_of(q)
    p2 = mean_of(lambda m: q(m) ** 2)
    where = {"species": "gw", "scenario": "no action", "horizon": years}
    by_draw = ds[results.RISK_BY_DRAW].sel(where).values
    estimates = [
        by_draw.mean(),
        float(ds[results.VARIANCE_PARAMETER].sel(where)),
        float(ds[results.VARIANCE_PROCESS].sel(where)),
    ]
    exact = [p, p2 - p * p, p - p2]
    errors = [
        by_draw.std(ddof=1) / math.sqrt(by_draw.size),
        float(ds[results.VARIANCE_PARAMETER + "_se"].sel(where)),
        float(ds[results.VARIANCE_PROCESS + "_se"].sel(where)),
    ]
    assert_mc_close(estimates, exact, errors, n_tests=3)
    # the parameter part is a real share of the total here, and is estimated as one
    assert float(ds[results.PARAMETER_SHARE].sel(where)) > 0.2
