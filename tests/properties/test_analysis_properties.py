"""Hypothesis properties of pva.analysis (Caswell 2001, chapters 4 and 9)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pva import analysis
from pva.testing import strategies as pst


@settings(deadline=None, max_examples=50)
@given(A=pst.positive_matrices(), c=st.floats(0.01, 100.0))
def test_lambda_is_homogeneous(A, c):
    # λ(cA) = c λ(A) for c > 0 (eigenvalues scale with the matrix).
    assert analysis.growth_rate(c * A) == pytest.approx(c * analysis.growth_rate(A), rel=1e-9)


@settings(deadline=None, max_examples=50)
@given(A=pst.positive_matrices())
def test_elasticities_sum_to_one(A):
    # Caswell 2001, section 9.2.
    E = analysis.elasticity(A)
    assert np.all(E >= 0)
    assert E.sum() == pytest.approx(1.0, rel=1e-9)


def _lambda_derivative_by_complex_step(A: np.ndarray, i: int, j: int) -> float:
    """∂λ/∂a_ij as Im λ(A + ih e_i e_jᵀ) / h with h = 1e-20 (the complex step; Squire & Trapp 1998).

    For an analytic function the complex step has no subtractive cancellation, so the derivative is
    as accurate as λ itself, whatever h. λ of a matrix with a simple dominant eigenvalue is analytic
    in its entries, but LAPACK's eigensolver is not a sequence of analytic operations (its
    Householder reflections take norms), so λ of the perturbed matrix is found here by Newton's
    method on ``(B - λI) w = 0, Σw = 1``, which uses only +, -, × and ÷ (and pivoting choices that
    do not change with h), started from the real eigenpair.
    """
    n = A.shape[0]
    h = 1e-20
    B = A.astype(complex)
    B[i, j] += 1j * h
    lam = complex(analysis.growth_rate(A))
    w = analysis.stable_stage(A).astype(complex)
    J = np.zeros((n + 1, n + 1), dtype=complex)
    J[n, :n] = 1.0
    for _ in range(4):  # quadratic convergence from a start accurate to rounding
        J[:n, :n] = B - lam * np.eye(n)
        J[:n, n] = -w
        residual = np.concatenate([B @ w - lam * w, [w.sum() - 1.0]])
        step = np.linalg.solve(J, -residual)
        w, lam = w + step[:n], lam + step[n]
    return lam.imag / h


@settings(deadline=None, max_examples=30)
@given(A=pst.positive_matrices(min_n=2), data=st.data())
def test_sensitivity_is_derivative_of_lambda(A, data):
    # Caswell 2001, eq. 9.10: s_ij = ∂λ/∂a_ij. Checked against a derivative taken by the complex
    # step, which (unlike a finite difference) loses no digits to cancellation: a central
    # difference with step 1e-6 has a rounding error of about eps·λ/1e-6, which swamps a small
    # s_ij (one Hypothesis example in 80 failed).
    n = A.shape[0]
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, n - 1))
    S = analysis.sensitivity(A)
    # Both sides carry rounding errors of eigenvector size: eps·‖A‖/(λ1 - |λ2|) relative to the
    # largest sensitivity (Golub & Van Loan 2013, section 7.2.4; the gap is positive for a positive
    # matrix). Over 20,000 random matrices the error stayed below 32 times that; allow 1000.
    moduli = np.sort(np.abs(np.linalg.eigvals(A)))[::-1]
    eps = np.finfo(float).eps
    tolerance = 1e3 * eps * np.linalg.norm(A, 2) / (moduli[0] - moduli[1]) * np.abs(S).max()
    assert S[i, j] == pytest.approx(
        _lambda_derivative_by_complex_step(A, i, j), rel=0, abs=tolerance
    )


@settings(deadline=None, max_examples=50)
@given(A=pst.positive_matrices(), data=st.data())
def test_invalid_entries_are_refused_with_their_position(A, data):
    n = A.shape[0]
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, n - 1))
    bad = data.draw(st.sampled_from([-0.5, float("nan"), float("inf")]))
    B = A.copy()
    B[i, j] = bad
    rule = "non-negative" if bad < 0 else "finite"
    with pytest.raises(ValueError, match=rf"{rule}; entry A\[{i}, {j}\]"):
        analysis.validate_matrix(B)
    with pytest.raises(ValueError, match=rule):
        analysis.growth_rate(B)


@settings(deadline=None, max_examples=30)
@given(rows=st.integers(1, 5), cols=st.integers(1, 5))
def test_non_square_is_refused(rows, cols):
    assume(rows != cols)
    with pytest.raises(ValueError, match="square"):
        analysis.validate_matrix(np.ones((rows, cols)))


@settings(deadline=None, max_examples=50)
@given(A=pst.positive_matrices(), data=st.data())
def test_survival_column_over_one_is_refused(A, data):
    n = A.shape[0]
    U = A / (A.sum(axis=0) * 1.5)  # every column sums to 2/3
    j = data.draw(st.integers(0, n - 1))
    U[:, j] *= data.draw(st.floats(1.6, 10.0))  # this column now sums to > 1
    with pytest.raises(ValueError, match=rf"column {j} of U sums to"):
        analysis.validate_survival(U)
    with pytest.raises(ValueError, match="column sums must be <= 1"):
        analysis.net_reproductive_rate(U, np.zeros_like(U))
