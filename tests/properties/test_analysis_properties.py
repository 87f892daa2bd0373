"""Hypothesis properties of pva.analysis (Caswell 2001, chapters 4 and 9)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pva import analysis


@st.composite
def positive_matrices(draw, min_n: int = 1, max_n: int = 5):
    """Strictly positive n x n matrices: irreducible and primitive, so λ is simple."""
    n = draw(st.integers(min_n, max_n))
    return draw(arrays(np.float64, (n, n), elements=st.floats(0.01, 5.0)))


@settings(deadline=None, max_examples=50)
@given(A=positive_matrices(), c=st.floats(0.01, 100.0))
def test_lambda_is_homogeneous(A, c):
    # λ(cA) = c λ(A) for c > 0 (eigenvalues scale with the matrix).
    assert analysis.growth_rate(c * A) == pytest.approx(c * analysis.growth_rate(A), rel=1e-9)


@settings(deadline=None, max_examples=50)
@given(A=positive_matrices())
def test_elasticities_sum_to_one(A):
    # Caswell 2001, section 9.2.
    E = analysis.elasticity(A)
    assert np.all(E >= 0)
    assert E.sum() == pytest.approx(1.0, rel=1e-9)


@settings(deadline=None, max_examples=30)
@given(A=positive_matrices(min_n=2), data=st.data())
def test_sensitivity_is_derivative_of_lambda(A, data):
    n = A.shape[0]
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, n - 1))
    h = 1e-6 * max(1.0, A[i, j])
    up, down = A.copy(), A.copy()
    up[i, j] += h
    down[i, j] -= h
    numeric = (analysis.growth_rate(up) - analysis.growth_rate(down)) / (2 * h)
    assert analysis.sensitivity(A)[i, j] == pytest.approx(numeric, rel=1e-4, abs=1e-9)


@settings(deadline=None, max_examples=50)
@given(A=positive_matrices(), data=st.data())
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
@given(A=positive_matrices(), data=st.data())
def test_survival_column_over_one_is_refused(A, data):
    n = A.shape[0]
    U = A / (A.sum(axis=0) * 1.5)  # every column sums to 2/3
    j = data.draw(st.integers(0, n - 1))
    U[:, j] *= data.draw(st.floats(1.6, 10.0))  # this column now sums to > 1
    with pytest.raises(ValueError, match=rf"column {j} of U sums to"):
        analysis.validate_survival(U)
    with pytest.raises(ValueError, match="column sums must be <= 1"):
        analysis.net_reproductive_rate(U, np.zeros_like(U))
