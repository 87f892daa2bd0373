"""A compiled kernel for the engine's fate draws: an optional speed-up (``pip install 'pva[fast]'``).

:func:`pva.engine.project` spends most of its time drawing the fates of individuals: a chain of
conditional binomials over the destinations of each stage (:func:`pva.engine._draw_fates`). In pure
numpy each level of the chains is one ``Generator.binomial`` call, with numpy's per-call overhead
(some microseconds to check its arguments) and a temporary array for every arithmetic step around
it. :func:`fates` does the same draws in one numba-compiled loop per year.

**The same numbers, not just the same distribution.** The kernel draws from the very same
:class:`numpy.random.Generator` (numba shares its bit generator) with numba's ``Generator.binomial``,
a port of numpy's C samplers (inversion and BTPE) that gives numpy's numbers bit for bit (checked on
10 million draws with up to 2 million trials and all probabilities, and by the tests), in the same
order as the numpy path (chain level by chain level, each over the replicates in C order) and with
the conditional probabilities computed by the same IEEE operations in the same order. So both paths
give identical results; ``tests/unit/test_kernels.py`` and a Hypothesis property check it on many
models. Births stay in numpy: numba's ``Generator.poisson`` does not match numpy's for means of 10
and more (its log-gamma in the PTRS sampler differs in the last bits, which now and then flips an
acceptance). The path used is recorded in every results file (``attrs["engine_kernels"]``,
:func:`name`).

The kernel is used when numba can be imported, unless the environment variable ``PVA_KERNELS`` is
``numpy`` (read at each projection, so a test can switch paths).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from typing import Any

import numpy as np
import numpy.typing as npt

ENVIRONMENT_VARIABLE = "PVA_KERNELS"
"""Set to ``numpy`` to use the pure-numpy path even when numba is installed."""


@functools.cache
def _numba() -> Any:
    """The numba module, or None (imported on first use: it takes a while)."""
    if importlib.util.find_spec("numba") is None:
        return None
    import numba

    return numba


def enabled() -> bool:
    """Whether the engine uses the compiled kernels now."""
    return os.environ.get(ENVIRONMENT_VARIABLE, "").lower() != "numpy" and _numba() is not None


def name() -> str:
    """The path the engine uses now, for provenance: ``"numba <version>"`` or ``"numpy"``."""
    return f"numba {_numba().__version__}" if enabled() else "numpy"


def _fates_py(
    rng: np.random.Generator,
    n: npt.NDArray[np.int64],
    p: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int64],
    levels: npt.NDArray[np.int64],
    destinations: npt.NDArray[np.int64],
    survivors: npt.NDArray[np.int64],
) -> None:  # pragma: no cover - compiled by numba; the pure-numpy path is pva.engine._draw_fates
    """Fates: a chain of binomials per source stage, level by level.

    ``n`` (N, S) individuals by stage; ``p`` (N, E) the unconditional probability of each fate entry
    (level-major, as :class:`pva.engine._Fates` orders them); ``sources`` (m0,) the source stage of
    the entries of level 0, level ``k`` holding the first ``levels[k, 1] - levels[k, 0]`` of them;
    ``destinations`` (E,) the stage each entry moves to. Adds to ``survivors`` (N, S), zeroed by the
    caller.
    """
    N = n.shape[0]
    m0 = sources.shape[0]
    remaining = np.empty((N, m0), dtype=np.int64)
    used = np.empty((N, m0))
    for r in range(N):
        for s in range(m0):
            remaining[r, s] = n[r, sources[s]]
    for k in range(levels.shape[0]):
        a, b = levels[k, 0], levels[k, 1]
        for r in range(N):
            for s in range(b - a):
                pk = p[r, a + s]
                if k == 0:
                    q = pk
                    used[r, s] = pk
                else:
                    left = 1.0 - used[r, s]
                    q = pk / left if left > 0.0 else 0.0
                    used[r, s] += pk
                q = min(max(q, 0.0), 1.0)  # np.clip(q, 0, 1)
                x = rng.binomial(remaining[r, s], q)
                remaining[r, s] -= x
                survivors[r, destinations[a + s]] += x


@functools.cache
def _compiled() -> Any:
    return _numba().njit(cache=True, nogil=True)(_fates_py)


def fates(
    rng: np.random.Generator,
    n: npt.NDArray[np.int64],
    p: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int64],
    levels: npt.NDArray[np.int64],
    destinations: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Survivors by destination stage (N, S), drawn by the compiled kernel.

    Arrays as in :func:`_fates_py`; ``n`` and ``p`` are made C-contiguous.
    """
    n = np.ascontiguousarray(n, dtype=np.int64)
    p = np.ascontiguousarray(p, dtype=np.float64)
    survivors = np.zeros(n.shape, dtype=np.int64)
    _compiled()(rng, n, p, sources, levels, destinations, survivors)
    return survivors
