"""Sensitivity indices against closed forms and independent computations; the variance split and
the category range on hand-built draws."""

from __future__ import annotations

import numpy as np
import pytest
from SALib.analyze import sobol as salib_sobol

from pva import redlist, streams
from pva.sensitivity import designs, indices, uncertainty
from pva.sensitivity.designs import Factor


def rng(seed: int = 1) -> np.random.Generator:
    return streams.generator(seed=seed)[0]


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7.0 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_estimates_are_salibs_estimators() -> None:
    """Our estimators are Saltelli et al. (2010) first order and Jansen (1999) total order, as SALib
    computes them: the same numbers on the same outputs."""
    factors = [Factor.uniform(f"x{i}", -np.pi, np.pi) for i in range(3)]
    design = designs.sobol(factors, 64, rng=rng())
    y = indices.evaluate(ishigami, design)
    ours = indices.sobol_indices(design, y, resamples=20, seed=1, second_order=True)
    problem = {"num_vars": 3, "names": list(design.names), "bounds": [[-np.pi, np.pi]] * 3}
    theirs = salib_sobol.analyze(problem, y, num_resamples=20, seed=1)
    np.testing.assert_allclose(ours["first"].values, theirs["S1"], rtol=1e-10)
    np.testing.assert_allclose(ours["total"].values, theirs["ST"], rtol=1e-10)
    second = ours["second"].values
    for j, k in ((0, 1), (0, 2), (1, 2)):
        assert second[j, k] == pytest.approx(theirs["S2"][j, k], rel=1e-10)


def test_a_factor_without_effect_has_indices_of_exactly_zero() -> None:
    factors = [Factor.uniform("x", 0.0, 1.0), Factor.uniform("dummy", 0.0, 1.0)]
    design = designs.sobol(factors, 32, rng=rng())
    found = indices.sobol_indices(design, indices.evaluate(lambda x: x[:, 0] ** 2, design), seed=2)
    dummy = found.sel(parameter="dummy")
    for name in ("first", "total", "total_lower", "total_upper"):
        assert float(dummy[name]) == 0.0
    x = found.sel(parameter="x")  # ST = 1 exactly; the estimate's interval holds it
    assert float(x["total_lower"]) <= 1.0 <= float(x["total_upper"])


def test_morris_effects_of_a_linear_function_are_its_slopes_times_ranges() -> None:
    slopes, lows, highs = (
        np.array([2.0, -3.0, 0.0]),
        np.array([0.0, 1.0, 5.0]),
        np.array([1.0, 3.0, 6.0]),
    )
    factors = [Factor.uniform(f"x{i}", lows[i], highs[i]) for i in range(3)]
    design = designs.morris(factors, 8, rng=rng(), levels=4)
    found = indices.morris_indices(design, indices.evaluate(lambda x: x @ slopes, design), seed=3)
    np.testing.assert_allclose(found["mu"].values, slopes * (highs - lows), atol=1e-12)
    np.testing.assert_allclose(found["mu_star"].values, np.abs(slopes) * (highs - lows), atol=1e-12)
    np.testing.assert_allclose(found["sigma"].values, 0.0, atol=1e-12)


def test_prcc_of_a_monotone_function_is_one_and_matches_the_inverse_correlation_formula() -> None:
    factors = [Factor.uniform(f"x{i}", 0.0, 1.0) for i in range(3)]
    design = designs.latin_hypercube(factors, 60, rng=rng(5))
    x = design.values
    # strictly increasing in x0 alone: ranks of y are the ranks of x0
    found = indices.prcc(design, np.exp(3 * x[:, 0]))
    assert float(found["prcc"].sel(parameter="x0")) == pytest.approx(1.0)
    # a noisy output: PRCC equals -P_iy / sqrt(P_ii P_yy), P the inverse correlation of the ranks
    y = x[:, 0] - 2 * x[:, 1] ** 3 + 0.3 * rng(6).standard_normal(60)
    found = indices.prcc(design, y)
    ranks = np.column_stack([np.argsort(np.argsort(c)) for c in (*x.T, y)]).astype(float)
    inverse = np.linalg.inv(np.corrcoef(ranks.T))
    expected = -inverse[:3, 3] / np.sqrt(np.diag(inverse)[:3] * inverse[3, 3])
    np.testing.assert_allclose(found["prcc"].values, expected, rtol=1e-10)
    assert float(found["prcc"].sel(parameter="x1")) < -0.5
    assert float(found["p_value"].sel(parameter="x1")) < 1e-6


def test_indices_need_their_design() -> None:
    design = designs.grid([Factor.uniform("a", 0.0, 1.0, points=4)])
    with pytest.raises(ValueError, match="need a sobol design"):
        indices.sobol_indices(design, np.arange(4.0))
    with pytest.raises(ValueError, match="one row per sample"):
        indices.prcc(
            designs.latin_hypercube([Factor.uniform("a", 0, 1)], 10, rng=rng()), np.ones(3)
        )


# ---------------------------------------------------------------------------------------------------
# the variance split


def test_variance_split_by_hand() -> None:
    y = np.array([[1, 1, 0, 1], [0, 0, 0, 1], [1, 1, 1, 1]], dtype=float)
    split = uncertainty.variance_split(y)
    means = y.mean(axis=1)  # 0.75, 0.25, 1.0
    within = y.var(axis=1, ddof=1)  # 0.25, 0.25, 0.0
    process = within.mean()
    parameter = means.var(ddof=1) - process / 4
    assert float(split.process) == pytest.approx(process)
    assert float(split.parameter) == pytest.approx(parameter)
    assert float(split.total) == pytest.approx(parameter + process)
    assert float(split.share) == pytest.approx(parameter / (parameter + process))
    assert float(split.mean) == pytest.approx(y.mean())
    assert float(split.mean_se) == pytest.approx(np.sqrt(means.var(ddof=1) / 3))


def test_jackknife_errors_are_delete_one_draw_recomputations() -> None:
    y = rng(7).random((6, 5, 2))
    split = uncertainty.variance_split(y)
    loo = [uncertainty.variance_split(np.delete(y, b, axis=0)) for b in range(6)]
    for field in ("parameter", "process", "total", "share"):
        values = np.array([getattr(s, field) for s in loo])
        expected = np.sqrt(5 / 6 * ((values - values.mean(axis=0)) ** 2).sum(axis=0))
        np.testing.assert_allclose(getattr(split, field + "_se"), expected, rtol=1e-10)


def test_one_replicate_per_draw_cannot_split_the_variance() -> None:
    split = uncertainty.variance_split(rng().random((10, 1)))
    assert np.isnan(split.parameter)
    assert np.isnan(split.process)
    assert np.isfinite(split.total)


def test_category_of_a_draw_is_its_median_and_the_range_spans_the_central_draws() -> None:
    lc, vu, en, cr = redlist.LC, redlist.VU, redlist.EN, redlist.CR
    # replicates x draws: medians EN, VU (the more threatened of VU, EN... ), CR
    block = np.array([[en, vu, cr], [en, en, cr], [vu, vu, cr], [lc, en, cr]])
    np.testing.assert_array_equal(uncertainty.draw_category(block), [en, en, cr])
    by_draw = np.array([lc] + [vu] * 8 + [en] * 10 + [cr])
    lower, upper, mode = uncertainty.category_range(by_draw, confidence=0.9)
    assert (int(lower), int(upper), int(mode)) == (vu, en, en)
    lower, upper, _ = uncertainty.category_range(by_draw, confidence=0.99)
    assert (int(lower), int(upper)) == (lc, cr)
