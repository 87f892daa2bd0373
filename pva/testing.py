"""Helpers for checking Monte Carlo results against theory (cf. ``xarray.testing``).

One place for the tolerance rule of the statistical tests and verification scripts
(../shared/STYLE.md section 2.8): an estimate passes when it lies within ``z`` Monte Carlo
standard errors of the exact value, with ``z`` Bonferroni-adjusted over the comparisons made, so
that a whole family of checks has the false-alarm rate of one check at ``z``.
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
