"""Helpers for checking Monte Carlo results against theory (cf. ``xarray.testing``).

One place for the tolerance rule of the statistical tests and verification scripts
(docs/architecture.md, "Tests"): an estimate passes when it lies within ``z`` Monte Carlo
standard errors of the exact value, with ``z`` Bonferroni-adjusted over the comparisons made, so
that a whole family of checks has the false-alarm rate of one check at ``z``. For proportions the
standard error is the binomial one, floored at ``1/n`` (:func:`proportion_se`).

Hypothesis strategies for pva's specifications are in :mod:`pva.testing.strategies` (it needs
Hypothesis, which the ``test`` extra installs; this module does not).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.stats


def bonferroni_z(z: float, n_tests: int) -> float:
    """The critical value that keeps ``n_tests`` two-sided comparisons at the family-wise
    false-alarm rate of one comparison at ``z`` (``z = 4``: about 6e-5)."""
    return float(scipy.stats.norm.isf(scipy.stats.norm.sf(z) / n_tests))


def assert_mc_close(
    estimate: npt.ArrayLike,
    exact: npt.ArrayLike,
    se: npt.ArrayLike,
    *,
    z: float = 4.0,
    n_tests: int = 1,
) -> None:
    """Assert ``|estimate - exact| <= z' se`` elementwise, ``z'`` = :func:`bonferroni_z` (z, n_tests).

    A NaN anywhere fails the check.
    """
    estimate, exact, se = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (estimate, exact, se))
    )
    bound = bonferroni_z(z, n_tests) * se
    good = np.abs(estimate - exact) <= bound
    bad = ~good
    assert np.all(good), (
        f"{int(bad.sum())} of {bad.size} estimates off by more than z*SE: "
        f"estimate={estimate[bad]}, exact={exact[bad]}, se={se[bad]}"
    )


def proportion_se(p: npt.ArrayLike, n: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Monte Carlo standard error of a proportion estimated from ``n`` independent trials whose
    probability is ``p``: the binomial ``sqrt(p (1 - p) / n)``, floored at ``1 / n``.

    The floor is the resolution of ``n`` trials: near ``p = 0`` or ``1`` the binomial SE vanishes,
    and one stray event would read as a failure of theory.
    """
    p, n = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    return np.maximum(np.sqrt(p * (1.0 - p) / n), 1.0 / n)


def assert_proportion_close(
    estimate: npt.ArrayLike,
    exact: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    z: float = 4.0,
    n_tests: int = 1,
) -> None:
    """Assert that estimated proportions from ``n`` trials each agree with the ``exact``
    probabilities: :func:`assert_mc_close` with ``se = proportion_se(exact, n)`` (the SE under the
    hypothesis being tested, so that it does not depend on the draw).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> assert_proportion_close((rng.random(10_000) < 0.3).mean(), 0.3, 10_000)
    """
    assert_mc_close(estimate, exact, proportion_se(exact, n), z=z, n_tests=n_tests)


def galton_watson_extinction(means: Sequence[float], n0: int) -> npt.NDArray[np.float64]:
    """P(extinct by step t), t = 0 .. len(means), of a Galton-Watson process with Poisson offspring.

    In step t every individual is replaced by Poisson(``means[t]``) offspring, so from ``n0``
    individuals the process is extinct after t steps with probability
    ``(f_0 ∘ f_1 ∘ ... ∘ f_{t-1})(0) ** n0`` with ``f_k(s) = exp(means[k] (s - 1))`` (Harris 1963,
    The Theory of Branching Processes, ch. I). A one-stage matrix model with no survival and
    fecundity ``m`` is this process.
    """
    out = []
    for t in range(len(means) + 1):
        s = 0.0
        for m in reversed(means[:t]):
            s = math.exp(m * (s - 1))
        out.append(s**n0)
    return np.array(out)
