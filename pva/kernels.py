"""Compiled kernels for the engine: an optional speed-up (``pip install 'pva[fast]'``).

Two kernels: the fate draws of a model with demographic stochasticity (:func:`fates`), and the
years of a linear model without it (:func:`linear_years`, popbio ``stoch.projection``'s model, with
:func:`environment_states` for its iid environmental states).

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

**The linear kernel** multiplies each replicate's state by its own matrix (where the numpy path
multiplies by the matrices of all environmental states with BLAS and keeps each replicate's
product), records mature and total abundance in the same loop, and holds a replicate's product in
registers (the number of stages is a compile-time constant: one compilation per number of stages,
cached on disk). Its sums follow the order of OpenBLAS's gemm kernels, so it gives the numpy path's
numbers to the last bit where the BLAS sums that way, and within the rounding bound of a sum of
non-negative terms otherwise (:func:`linear_years`).

The kernels are used when numba can be imported, unless the environment variable ``PVA_KERNELS``
is ``numpy`` (read at each projection, so a test can switch paths).
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


# --------------------------------------------------------------------------------------------------
# the linear model: n(t + 1) = A_t n(t), each replicate with its own matrix


_BLOCK = 64
"""Replicates taken through all the years of a span together by the linear kernel."""


@functools.cache
def _linear_kernel(S: int, entries: tuple[bool, ...], counted: tuple[bool, ...]) -> Any:
    """The compiled year loop of a linear model with ``S`` stages (:func:`linear_years`).

    ``S``, the entries of the matrices that can be non-zero (``entries[j S + i]``: from stage j to
    stage i, in some year, block or state) and the stages counted as mature (``counted``) are
    compile-time constants of the kernel (one compilation per model structure, cached on disk by
    numba): the loops over stages are unrolled, the products with structural zeros left out (they
    add an exact 0), and the product of a replicate is held in registers, which makes it several
    times faster than with them known at run time only.
    """
    numba = _numba()
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
        """``a * b + c`` with one rounding (LLVM's ``llvm.fma``), as BLAS kernels accumulate."""
        signature = types.float64(types.float64, types.float64, types.float64)

        def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            return builder.fma(*args)

        return signature, codegen

    @intrinsic
    def stack_vector(typingctx: Any, size: Any) -> Any:
        """A pointer to ``size`` float64 on the stack: the compiler keeps such an array in
        registers (a heap array might alias the state and would be stored at every step)."""
        signature = types.CPointer(types.float64)(types.intp)

        def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            return cgutils.alloca_once(builder, context.get_data_type(types.float64), size=args[0])

        return signature, codegen

    block = _BLOCK

    def linear_years(  # pragma: no cover - compiled by numba
        AT: npt.NDArray[np.float64],
        states: npt.NDArray[Any],
        x: npt.NDArray[np.float64],
        weights: npt.NDArray[np.float64],
        t0: int,
        t1: int,
        P: int,
        mature: npt.NDArray[np.float64],
        total: npt.NDArray[np.float64],
        abundance: npt.NDArray[np.float64],
    ) -> None:
        y = numba.carray(stack_vector(S), S)
        B, R = x.shape[0], x.shape[1]
        by_year = AT.shape[0] > 1
        keep = abundance.shape[0] > 0
        for b in range(B):
            j, p = b // P, b % P
            # a block of replicates through all years: its state stays in the fastest cache and
            # its records are written close together
            for r0 in range(0, R, block):
                r1 = min(r0 + block, R)
                for t in range(t0, t1):
                    At = AT[t if by_year else 0, b]
                    state = states[t]
                    for r in range(r0, r1):
                        a = At[
                            state[r]
                        ]  # (from, to): column kk of this replicate's matrix is a[kk]
                        xr = x[b, r]
                        for i in range(S):
                            y[i] = 0.0
                        for kk in range(S):  # stage order, one rounding per step, as BLAS does
                            xk = xr[kk]
                            for i in range(S):
                                if entries[kk * S + i]:  # else 0 x xk + y[i] = y[i] exactly
                                    y[i] = fma(a[kk, i], xk, y[i])
                        m = 0.0
                        n = 0.0
                        for i in range(S):
                            v = y[i]
                            xr[i] = v
                            if counted[i]:
                                m = fma(weights[i], v, m)
                            n = fma(1.0, v, n)
                        mature[t + 1, j, r, p] = m
                        total[t + 1, j, r, p] = n
                        if keep:
                            for i in range(S):
                                abundance[t + 1, j, r, p, i] = y[i]

    return numba.njit(cache=True, nogil=True)(linear_years)


def linear_years(
    AT: npt.NDArray[np.float64],
    states: npt.NDArray[Any],
    x: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    years: tuple[int, int],
    populations: int,
    mature: npt.NDArray[np.float64],
    total: npt.NDArray[np.float64],
    abundance: npt.NDArray[np.float64] | None,
) -> None:
    """Advance a linear model (no demographic stochasticity) through ``years`` = [t0, t1), in place.

    Each year, each replicate's state is multiplied by the matrix of its environmental state,
    ``n <- A n``, and its mature and total abundance are recorded: the numbers of
    :func:`pva.engine._project_linear`'s numpy path, which multiplies by every state's matrix with
    BLAS and keeps each replicate's own product. The sums here are taken in the order in which
    OpenBLAS's (numpy's) gemm kernels on x86-64 accumulate a product of few columns: stage by stage,
    one fused multiply-add each. So the two agree to the last bit where the BLAS does that (on the
    machine of the tests, all but the last few replicates of some widths, whose edge kernels sum
    otherwise, and on one BLAS thread: its result depends on how threads split the replicates);
    they always agree within the rounding bound of a sum of ``S`` non-negative terms
    (``tests/unit/test_kernels.py``). Products with an entry that is 0 in every year, block and
    state are left out: they add an exact 0 to a finite sum (a state that overflowed to ``inf``
    would make the numpy path's sums NaN instead). Unlike the numpy path, a replicate's numbers
    here do not depend on the other replicates projected with it (chunks together equal chunks
    alone).

    Parameters
    ----------
    AT
        The matrices transposed, ``AT[t, b, c, j, i] = A[i, j]`` of year ``t`` (or one year for all:
        leading axis 1), block ``b`` (scenario-major scenarios x populations) and environmental
        state ``c``; shape (T|1, B, k, S, S).
    states
        The environmental state of each year and replicate, (T, R) (any integer type).
    x
        The state, (B, R, S) float64, C-contiguous; advanced in place.
    weights
        Weight of each stage in the mature abundance (0 or 1), (S,).
    years
        ``(t0, t1)``: the steps to take; step ``t`` records year ``t + 1``.
    populations
        P: block ``b`` is scenario ``b // P``, population ``b % P``.
    mature, total
        Year-major records, (T + 1, J, R, P); rows ``t0 + 1 .. t1`` are written.
    abundance
        Year-major record by stage, (T + 1, J, R, P, S), or None.
    """
    S = x.shape[-1]
    keep = np.empty((0, 0, 0, 0, 0)) if abundance is None else abundance
    # structural zeros: 0 in every year, block and state (a product with 0 adds an exact 0 to a
    # finite sum, so leaving it out changes nothing)
    entries = tuple(bool(e) for e in np.any(AT != 0, axis=(0, 1, 2)).ravel())
    counted = tuple(bool(w) for w in weights != 0)
    _linear_kernel(S, entries, counted)(
        AT, states, x, weights, years[0], years[1], populations, mature, total, keep
    )


def _states_py(
    u: npt.NDArray[np.float64],
    first: npt.NDArray[np.float64],
    later: npt.NDArray[np.float64],
    out: npt.NDArray[Any],
) -> None:  # pragma: no cover - compiled by numba; the numpy path is pva.engine._inverse_cdf
    """``out[t, r]`` = the number of ``first[:-1]`` (year 0) or ``later[:-1]`` (later years) that
    ``u[t, r]`` reaches: the state drawn by inverse CDF."""
    for t in range(u.shape[0]):
        cum = first if t == 0 else later
        for r in range(u.shape[1]):
            s = 0
            for c in range(cum.shape[0] - 1):
                if u[t, r] >= cum[c]:
                    s += 1
            out[t, r] = s


@functools.cache
def _states_compiled() -> Any:
    return _numba().njit(cache=True, nogil=True)(_states_py)


def environment_states(
    u: npt.NDArray[np.float64],
    first: npt.NDArray[np.float64],
    later: npt.NDArray[np.float64],
    out: npt.NDArray[Any],
) -> None:
    """The environmental states of iid years from their uniforms ``u`` (years, R), into ``out`` (the
    same shape, any integer type): by the cumulative probabilities ``first`` (k,) in the first year
    and ``later`` (k,) after it, the states :meth:`pva.engine._Environment.states` gives (one pass,
    no temporaries)."""
    _states_compiled()(u, first, later, out)
