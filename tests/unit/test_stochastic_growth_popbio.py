"""``stochastic_growth_rate(..., covariance="sample")`` is popbio's ``stoch.growth.rate`` exactly
(issue 15, item 6): popbio scales the probability-weighted covariance of the matrix entries by
n / (n - 1), whatever the probabilities.

Reference values computed with R 4.2.2 and popbio 2.8 on this project's machine:

    library(popbio); data(hudsonia)
    print(stoch.growth.rate(hudsonia, prob = c(.2, .2, .2, .4), verbose = FALSE)$approx,
          digits = 15)                      # -0.0215319243816778
    print(stoch.growth.rate(hudsonia, verbose = FALSE)$approx, digits = 15)   # -0.0371259833
"""

from __future__ import annotations

import pytest

import pva

POPBIO_UNEQUAL = -0.0215319243816778
POPBIO_EQUAL = -0.0371259833


def hudsonia() -> list:
    return [m.A for m in pva.datasets.load_popbio("hudsonia").values()]


def approx(probabilities: list[float] | None, covariance: str) -> float:
    result = pva.analysis.stochastic_growth_rate(
        hudsonia(),
        probabilities,
        years=100,
        burn_in=0,
        batches=2,
        seed=1,
        covariance=covariance,  # type: ignore[arg-type]
    )
    return result.tuljapurkar


def test_sample_covariance_matches_popbio_with_unequal_probabilities() -> None:
    assert approx([0.2, 0.2, 0.2, 0.4], "sample") == pytest.approx(POPBIO_UNEQUAL, abs=1e-12)


def test_sample_covariance_matches_popbio_with_equal_probabilities() -> None:
    assert approx(None, "sample") == pytest.approx(POPBIO_EQUAL, abs=1e-9)


def test_the_exact_process_covariance_stays_the_default() -> None:
    default = pva.analysis.stochastic_growth_rate(hudsonia(), years=100, batches=2, seed=1)
    assert default.tuljapurkar == approx(None, "process")
    # k / (k - 1) = 4/3 more variance in popbio's convention: a lower approximation
    assert default.tuljapurkar > POPBIO_EQUAL
