"""pva.analysis against published values and independent computations.

Data: popbio 2.8's data sets shipped in pva/data/popbio (Stubben & Milligan 2007), exported unchanged.
Where no published value was available for a quantity, it is checked against an independent
computation (power iteration, numerical derivatives, age-by-age life-table sums) and the test says so.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from pva import analysis
from pva.errors import MatrixStructureWarning


def _load(package_data: Path, name: str) -> dict[str, np.ndarray]:
    doc = json.loads((package_data / "popbio" / f"{name}.json").read_text())
    if "matrix" in doc:
        return {name: np.array(doc["matrix"], dtype=float)}
    return {k: np.array(doc["matrices"][k], dtype=float) for k in doc["names"]}


def _all_popbio(package_data: Path) -> dict[str, np.ndarray]:
    out = {}
    out.update(_load(package_data, "teasel"))
    out.update(_load(package_data, "whale"))
    out["calathea pooled"] = _load(package_data, "calathea")["pooled"]
    out.update({f"tortoise {k}": v for k, v in _load(package_data, "tortoise").items()})
    out.update({f"hudsonia {k}": v for k, v in _load(package_data, "hudsonia").items()})
    return out


POPBIO_NAMES = [
    "teasel",
    "whale",
    "calathea pooled",
    *(f"tortoise {k}" for k in ("low", "med.low", "med.high", "high")),
    *(f"hudsonia {k}" for k in ("A85", "A86", "A87", "A88")),
]


def _power_iteration(A: np.ndarray, iters: int = 20_000) -> tuple[float, np.ndarray]:
    """λ and w by the power method (Caswell 2001, section 4.5.1): independent of LAPACK's eig."""
    n = np.ones(A.shape[0]) / A.shape[0]
    lam = 0.0
    for _ in range(iters):
        m = A @ n
        lam_new = m.sum() / n.sum()
        n = m / m.sum()
        if abs(lam_new - lam) < 1e-15 * lam_new:
            break
        lam = lam_new
    return float(lam_new), n


@pytest.fixture(scope="module")
def popbio(package_data: Path) -> dict[str, np.ndarray]:
    return _all_popbio(package_data)


def _quiet(func, *args, **kwargs):
    # The whale matrix is reducible (post-reproductive stage); Caswell analyses it all the same.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MatrixStructureWarning)
        return func(*args, **kwargs)


# --------------------------------------------------------------------------------------------------
# published values
# --------------------------------------------------------------------------------------------------


def test_whale_lambda_matches_caswell_example_5_1(popbio):
    # Caswell 2001, Example 5.1 (killer whale, Brault & Caswell 1993): λ = 1.0254 (4 decimals, so
    # the tolerance is half a unit in the last published digit).
    assert analysis.growth_rate(popbio["whale"]) == pytest.approx(1.0254, abs=5e-5)


@pytest.mark.parametrize(
    ("year", "published"), [("A85", 0.9593), ("A86", 1.0098), ("A87", 0.8453), ("A88", 1.0183)]
)
def test_hudsonia_annual_lambdas_match_popbio_output(popbio, year, published):
    # popbio's lambda() on data(hudsonia) (the Morris & Doak 2002 Table 6.7 matrices), as printed
    # in a published popbio course notebook (4 decimals): A85 0.9593, A86 1.0098, A87 0.8453,
    # A88 1.0183. Tolerance: half a unit in the last printed digit.
    assert analysis.growth_rate(popbio[f"hudsonia {year}"]) == pytest.approx(published, abs=5e-5)


# --------------------------------------------------------------------------------------------------
# independent computations (no published value found for these to 1e-6)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", POPBIO_NAMES)
def test_lambda_and_stable_stage_match_power_iteration(popbio, name):
    A = popbio[name]
    lam_ref, w_ref = _power_iteration(A)
    assert analysis.growth_rate(A) == pytest.approx(lam_ref, rel=1e-9)
    w = _quiet(analysis.stable_stage, A)
    assert w.sum() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(w, w_ref, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", POPBIO_NAMES)
def test_reproductive_value_is_left_eigenvector_from_power_iteration(popbio, name):
    A = popbio[name]
    _, v_ref = _power_iteration(A.T)
    v = _quiet(analysis.reproductive_value, A)
    assert v[0] == 1.0
    np.testing.assert_allclose(v, v_ref / v_ref[0], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", POPBIO_NAMES)
def test_sensitivity_matches_numerical_derivative(popbio, name):
    # s_ij = ∂λ/∂a_ij (Caswell 2001, section 9.1) against a central difference of λ computed by power
    # iteration, for every entry (including zero entries: the derivative is defined there too).
    A = popbio[name]
    S = _quiet(analysis.sensitivity, A)
    lam = analysis.growth_rate(A)
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            # central difference; a zero entry may be perturbed below zero: λ (the eigenvalue of
            # largest real part) is smooth there too
            h = 1e-6 * max(1.0, abs(A[i, j]))
            up, down = A.copy(), A.copy()
            up[i, j] += h
            down[i, j] -= h
            d = np.max(np.linalg.eigvals(up).real) - np.max(np.linalg.eigvals(down).real)
            step = 2 * h
            assert S[i, j] == pytest.approx(d / step, rel=1e-4, abs=1e-8 * lam), (i, j)


def test_sensitivity_of_a_defective_repeated_lambda_is_refused():
    # [[1, 1], [0, 1]]: λ = 1 is a double root with one eigenvector, v = (0, 1), w = (1, 0),
    # <v, w> = 0; λ(a12 = 1 + h) stays 1 but λ(a21 = h) = 1 + sqrt(h): no derivative
    # (Caswell 2001, section 9.1 needs a simple λ). An error, not inf with a RuntimeWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", MatrixStructureWarning)
        for f in (analysis.sensitivity, analysis.elasticity):
            with pytest.raises(ValueError, match="sensitivity of lambda is undefined"):
                f([[1.0, 1.0], [0.0, 1.0]])


@pytest.mark.parametrize("name", POPBIO_NAMES)
def test_elasticities_sum_to_one_and_are_scaled_sensitivities(popbio, name):
    # Caswell 2001, section 9.2: Σ e_ij = 1 and e_ij = a_ij s_ij / λ.
    A = popbio[name]
    E = _quiet(analysis.elasticity, A)
    assert E.sum() == pytest.approx(1.0, rel=1e-9)
    np.testing.assert_allclose(
        E, _quiet(analysis.sensitivity, A) * A / analysis.growth_rate(A), rtol=1e-12
    )


def test_teasel_elasticities_highest_in_flowering_to_rosette_loop(popbio):
    # Caswell 2001, section 9.2, teasel: the largest elasticities are the large rosette -> flowering
    # transition and the flowering -> medium rosette fertility. Checked here by ranking only.
    E = analysis.elasticity(popbio["teasel"])
    top2 = {np.unravel_index(k, E.shape) for k in np.argsort(E, axis=None)[-2:]}
    assert top2 == {(5, 4), (3, 5)}


@pytest.mark.parametrize("name", POPBIO_NAMES)
def test_damping_ratio_matches_characteristic_polynomial_roots(popbio, name):
    A = popbio[name]
    roots = np.roots(np.poly(A))
    mods = np.sort(np.abs(roots))[::-1]
    assert _quiet(analysis.damping_ratio, A) == pytest.approx(mods[0] / mods[1], rel=1e-6)


# --------------------------------------------------------------------------------------------------
# life history: R0, generation time, generation length
# --------------------------------------------------------------------------------------------------


def _leslie(fert, surv):
    n = len(fert)
    A = np.zeros((n, n))
    A[0, :] = fert
    A[np.arange(1, n), np.arange(n - 1)] = surv
    U = A.copy()
    U[0, :] = 0
    F = A - U
    return A, U, F


def test_leslie_life_table_closed_forms():
    # Post-breeding Leslie matrix: f_x = offspring per individual of age class x (age x), s_x.
    # Net maternity φ_x = l_x m_x with l_1 = 1 (newborns enter class 1 at age 1). Closed forms:
    # R0 = Σ φ_x (Caswell 2001, section 5.3.4); Euler-Lotka Σ λ^-x φ_x = 1; mean age of mothers
    # Ā = Σ x λ^-x φ_x (Leslie 1966; Bienvenu & Legendre 2015).
    fert = np.array([0.0, 0.4, 1.2, 1.5])
    surv = np.array([0.5, 0.7, 0.6])
    A, U, F = _leslie(fert, surv)
    lx = np.concatenate([[1.0], np.cumprod(surv)])
    phi = lx * fert
    ages = np.arange(1, 5)
    lam = analysis.growth_rate(A)
    assert np.sum(lam**-ages * phi) == pytest.approx(1.0, rel=1e-12)
    R0 = float(phi.sum())
    assert analysis.net_reproductive_rate(U, F) == pytest.approx(R0, rel=1e-12)
    assert analysis.generation_time(U, F) == pytest.approx(math.log(R0) / math.log(lam), rel=1e-12)
    assert analysis.generation_length(U, F, method="stable") == pytest.approx(
        float(np.sum(ages * lam**-ages * phi)), rel=1e-10
    )
    # cohort form: mean age at reproduction of a cohort, Σ x l_x m_x / Σ l_x m_x (Caswell 2001,
    # section 5.3.5), independent of λ
    assert analysis.generation_length(U, F) == pytest.approx(
        float(np.sum(ages * phi) / phi.sum()), rel=1e-10
    )


def test_whale_r0_and_generation_length_match_age_by_age_sums(popbio):
    # Whale reproduction is all in row 0 (yearlings), so the age-specific net maternity of a
    # newborn is φ_x = e0' F U^(x-1) e0 (Caswell 2001, section 5.3). Then R0 = Σ φ_x and the mean
    # age of mothers of newborns in the stable population is Σ x λ^-x φ_x / Σ λ^-x φ_x. These sums
    # (to 3000 years) are independent of the matrix formulas in pva.analysis.
    A = popbio["whale"]
    U, F, C = analysis.split_matrix(A, reproduction_rows=0)
    assert np.all(C == 0)
    lam = analysis.growth_rate(A)
    e0 = np.zeros(4)
    e0[0] = 1.0
    x = e0.copy()
    phi = []
    for _ in range(3000):
        phi.append(float((F @ x)[0]))
        x = U @ x
    phi = np.array(phi)
    ages = np.arange(1, len(phi) + 1)
    assert analysis.net_reproductive_rate(U, F) == pytest.approx(phi.sum(), rel=1e-9)
    weights = lam**-ages * phi
    assert weights.sum() == pytest.approx(1.0, rel=1e-9)  # Euler-Lotka
    assert analysis.generation_length(U, F, method="stable") == pytest.approx(
        float(np.sum(ages * weights) / weights.sum()), rel=1e-9
    )
    assert analysis.generation_length(U, F) == pytest.approx(
        float(np.sum(ages * phi) / phi.sum()), rel=1e-9
    )
    assert analysis.generation_time(U, F) == pytest.approx(
        math.log(phi.sum()) / math.log(lam), rel=1e-9
    )


def test_whale_r0_matches_published_value(popbio):
    # Hobson, B. (University of Victoria, "Hale Whales: target reproduction numbers and sensitivity
    # analysis for resident killer whales"; dspace.library.uvic.ca) reports R0 = 2.01 for the
    # Brault & Caswell (1993) matrix with reproduction in the first row (2 decimals).
    U, F, _ = analysis.split_matrix(popbio["whale"], reproduction_rows=0)
    assert analysis.net_reproductive_rate(U, F) == pytest.approx(2.01, abs=5e-3)


def test_generation_time_refuses_lambda_one():
    A, U, F = _leslie(np.array([0.0, 2.0]), np.array([0.5]))  # λ = 1, R0 = 1
    assert analysis.growth_rate(A) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="undefined for lambda = 1"):
        analysis.generation_time(U, F)
    assert analysis.generation_length(U, F) == pytest.approx(2.0)
    assert analysis.generation_length(U, F, method="stable") == pytest.approx(2.0)
    with pytest.raises(ValueError, match="method must be 'cohort' or 'stable'; got 'mean'"):
        analysis.generation_length(U, F, method="mean")  # type: ignore[arg-type]


def test_describe_reports_all_quantities_and_notes(popbio):
    A = popbio["teasel"]
    d = analysis.describe(A)
    assert d["lambda"] == analysis.growth_rate(A)
    assert d["net_reproductive_rate"] is None
    assert any("need U and F" in note for note in d["notes"])
    U, F, _ = analysis.split_matrix(
        A, reproduction_mask=np.isin(np.arange(6), [5])[None, :] & (np.arange(6)[:, None] != 5)
    )
    d = analysis.describe(A, U, F)
    assert d["generation_time"] == pytest.approx(analysis.generation_time(U, F))
    assert d["elasticity"].sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------------
# validation and structure
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("A", "match"),
    [
        ([[1.0, 2.0]], "square"),
        ([[0.5, -0.1], [0.2, 0.3]], r"non-negative; entry A\[0, 1\] is -0.1"),
        ([[0.5, float("nan")], [0.2, 0.3]], r"finite; entry A\[0, 1\] is nan"),
        ([[0.5, float("inf")], [0.2, 0.3]], "finite"),
        ("abc", "square matrix"),
        ([], "square"),
    ],
)
def test_validate_matrix_names_the_problem(A, match):
    with pytest.raises(ValueError, match=match):
        analysis.validate_matrix(A)


def test_validate_survival_names_column_and_sum():
    with pytest.raises(ValueError, match=r"column 1 of U sums to 1.1"):
        analysis.validate_survival([[0.5, 0.6], [0.2, 0.5]])
    analysis.validate_survival([[0.5, 0.5], [0.5, 0.5]])  # sums of exactly 1 are allowed


def test_structure_warnings(popbio):
    # Whale: the post-reproductive stage never returns (reducible). A 3-stage cycle with
    # reproduction only by the last stage is imprimitive (popbio eigen.analysis example).
    with pytest.warns(MatrixStructureWarning, match="reducible"):
        analysis.validate_matrix(popbio["whale"])
    cyc = [[0, 0, 2], [0.3, 0, 0], [0, 0.6, 0]]
    with pytest.warns(MatrixStructureWarning, match="imprimitive"):
        analysis.validate_matrix(cyc)
    with pytest.warns(MatrixStructureWarning, match="not strictly dominant"):
        assert analysis.damping_ratio(cyc) == pytest.approx(1.0)
    assert analysis.is_primitive(popbio["teasel"])
    assert analysis.is_irreducible(popbio["teasel"])


def test_split_matrix_rows_and_masks(popbio):
    A = popbio["whale"]
    U, F, C = analysis.split_matrix(A, reproduction_rows=[0])
    np.testing.assert_array_equal(U + F + C, A)
    assert F[1:].sum() == 0
    assert U[0].sum() == 0
    with pytest.raises(ValueError, match="exactly one"):
        analysis.split_matrix(A)
    with pytest.raises(
        ValueError, match=r"reproduction_rows must be an integer in \[0, 3\]; got 4"
    ):
        analysis.split_matrix(A, reproduction_rows=[4])
    mask = np.zeros((4, 4), bool)
    mask[0, 2] = True
    with pytest.raises(ValueError, match="both sexual and clonal"):
        analysis.split_matrix(A, reproduction_mask=mask, clonal_mask=mask)


def test_net_reproductive_rate_refuses_immortal_u():
    with pytest.raises(ValueError, match="spectral radius of U"):
        analysis.net_reproductive_rate([[1.0, 0], [0, 0.5]], [[0, 1.0], [0, 0]])


# --------------------------------------------------------------------------------------------------
# stochastic growth rate
# --------------------------------------------------------------------------------------------------


def test_tuljapurkar_matches_entry_covariance_form(popbio):
    # Caswell 2001 eq. 14.67 / Morris & Doak 2002 eq. 7.14 written with the full covariance matrix
    # of the vectorised entries, Cov = E[vec A vec A'] - vec Ā vec Ā' (the form of Morris & Doak's
    # Box 7.4), independent of the per-matrix deviation form used in pva.analysis.
    mats = [popbio[f"hudsonia {k}"] for k in ("A85", "A86", "A87", "A88")]
    p = np.array([0.25, 0.25, 0.25, 0.25])
    vecs = np.array([m.ravel() for m in mats])
    Abar = (p[:, None] * vecs).sum(0)
    cov = (p[:, None, None] * vecs[:, :, None] * vecs[:, None, :]).sum(0) - np.outer(Abar, Abar)
    Am = Abar.reshape(6, 6)
    lam = analysis.growth_rate(Am)
    s = analysis.sensitivity(Am).ravel()
    expected = math.log(lam) - float(s @ cov @ s) / (2 * lam**2)
    res = analysis.stochastic_growth_rate(mats, p, years=100, burn_in=0, batches=10, seed=1)
    assert res.tuljapurkar == pytest.approx(expected, rel=1e-10)


def test_tuljapurkar_with_the_sample_covariance_of_box_7_4(popbio):
    # Morris & Doak (2002, Box 7.4) and popbio's stoch.growth.rate take the unbiased sample
    # covariance of the k matrices (R's cov / cov.wt), i.e. k / (k - 1) times the process covariance.
    # Written here with numpy's np.cov (ddof=1), independent of pva.analysis.
    mats = [popbio[f"hudsonia {k}"] for k in ("A85", "A86", "A87", "A88")]
    vecs = np.array([m.ravel() for m in mats])
    Am = vecs.mean(0).reshape(6, 6)
    lam = analysis.growth_rate(Am)
    s = analysis.sensitivity(Am).ravel()
    expected = math.log(lam) - float(s @ np.cov(vecs.T, ddof=1) @ s) / (2 * lam**2)
    res = analysis.stochastic_growth_rate(
        mats, years=100, burn_in=0, batches=10, seed=1, covariance="sample"
    )
    assert res.tuljapurkar == pytest.approx(expected, rel=1e-10)
    assert res.tuljapurkar == pytest.approx(-0.0371, abs=5e-5)
    with pytest.raises(ValueError, match="covariance must be 'process' or 'sample'; got 'cov'"):
        analysis.stochastic_growth_rate(mats, years=100, batches=10, seed=1, covariance="cov")  # type: ignore[arg-type]


def test_stochastic_growth_rate_validation_and_reproducibility(popbio):
    mats = [popbio["hudsonia A85"], popbio["hudsonia A86"]]
    a = analysis.stochastic_growth_rate(mats, years=500, burn_in=10, batches=10, seed=3)
    b = analysis.stochastic_growth_rate(mats, years=500, burn_in=10, batches=10, seed=3)
    assert a == b
    assert a.seed_entropy == "3"
    c = analysis.stochastic_growth_rate(
        mats, years=500, burn_in=10, batches=10, rng=np.random.default_rng(3)
    )
    assert c.seed_entropy is None
    with pytest.raises(ValueError, match="sum to 1"):
        analysis.stochastic_growth_rate(mats, [0.5, 0.6])
    with pytest.raises(ValueError, match="one entry per matrix"):
        analysis.stochastic_growth_rate(mats, [1.0])
    with pytest.raises(ValueError, match="same shape"):
        analysis.stochastic_growth_rate([mats[0], [[1.0]]])
    with pytest.raises(TypeError, match="not both"):
        analysis.stochastic_growth_rate(mats, seed=1, rng=np.random.default_rng(1))
    with pytest.raises(ValueError, match=r"matrices\[1\] must be non-negative"):
        analysis.stochastic_growth_rate([mats[0], -mats[1]])
    # t quantile used for the interval: half-width / se
    half = (a.ci[1] - a.ci[0]) / 2
    assert half / a.se == pytest.approx(scipy.stats.t.ppf(0.975, 9))
