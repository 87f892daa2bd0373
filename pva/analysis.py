"""Deterministic and stochastic analysis of matrix population models.

Conventions (Caswell 2001, chapter 2): ``A[i, j]`` is the contribution of an individual in stage
``j`` at time *t* to stage ``i`` at time *t + 1*, so ``n(t + 1) = A @ n(t)``. A projection matrix
splits as ``A = U + F + C``: survival and transitions ``U``, sexual reproduction ``F``, clonal
reproduction ``C`` (the COMPADRE convention, Salguero-Gómez et al. 2015).

All functions are pure: arrays in, numbers or arrays out. Rates are per projection interval (a year
for annual matrices). Eigen-quantities use the dominant eigenvalue, the one with the largest real
part, which for a non-negative matrix is the Perron root (the spectral radius; Caswell 2001, section
4.5).

References
----------
Bienvenu, F. & Legendre, S. 2015. A new approach to the generation time in matrix population models.
    The American Naturalist 185: 834-843.
Caswell, H. 2001. Matrix Population Models: Construction, Analysis and Interpretation, 2nd ed.
    Sinauer, Sunderland, MA.
IUCN Standards and Petitions Committee. 2024. Guidelines for Using the IUCN Red List Categories and
    Criteria, version 16, section 4.4 (generation length).
Morris, W. F. & Doak, D. F. 2002. Quantitative Conservation Biology. Sinauer, Sunderland, MA.
Tuljapurkar, S. 1982. Population dynamics in variable environments. III. Evolutionary dynamics of
    r-selection. Theoretical Population Biology 21: 141-165.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from pva import streams, validation
from pva.errors import MatrixStructureWarning

__all__ = [
    "StochasticGrowthRate",
    "damping_ratio",
    "describe",
    "elasticity",
    "generation_length",
    "generation_time",
    "growth_rate",
    "is_irreducible",
    "is_primitive",
    "net_reproductive_rate",
    "reproductive_value",
    "sensitivity",
    "split_matrix",
    "stable_stage",
    "stochastic_growth_rate",
    "validate_matrix",
    "validate_survival",
]

FloatArray = npt.NDArray[np.float64]

SURVIVAL_TOLERANCE = 1e-8
"""Column sums of ``U`` may exceed 1 by this much (floating-point rounding of summed rates)."""

_SIMPLE_ROOT_RTOL = 1e-9
# |λ2| within this relative distance of λ1 counts as "not strictly dominant".


# ---------------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------------


def _as_square(A: Any, name: str) -> FloatArray:
    """Coerce ``A`` to a float matrix and check it is square, non-empty and finite."""
    try:
        M = np.array(A, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a square matrix of numbers; got {A!r} ({exc})") from None
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix; got shape {M.shape}")
    bad = np.argwhere(~np.isfinite(M))
    if bad.size:
        i, j = (int(k) for k in bad[0])
        raise ValueError(
            f"{name} must be finite; entry {name}[{i}, {j}] is {float(M[i, j])!r} "
            f"({len(bad)} non-finite entries in all)"
        )
    return M


def _check_nonnegative(M: FloatArray, name: str) -> None:
    neg = np.argwhere(M < 0)
    if neg.size:
        i, j = (int(k) for k in neg[0])
        raise ValueError(
            f"{name} must be non-negative; entry {name}[{i}, {j}] is {float(M[i, j])!r} "
            f"({len(neg)} negative entries in all)"
        )


def _matrix(A: Any, name: str) -> FloatArray:
    """Square, finite, non-negative float copy of ``A`` (no structure warnings)."""
    M = _as_square(A, name)
    _check_nonnegative(M, name)
    return M


def _bool_matmul(X: npt.NDArray[np.bool_], Y: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    return (X.astype(np.int64) @ Y.astype(np.int64)) > 0


def _bool_power(B: npt.NDArray[np.bool_], k: int) -> npt.NDArray[np.bool_]:
    result = np.eye(B.shape[0], dtype=bool)
    base = B.copy()
    while k > 0:
        if k & 1:
            result = _bool_matmul(result, base)
        base = _bool_matmul(base, base)
        k >>= 1
    return result


def is_irreducible(A: npt.ArrayLike) -> bool:
    """Whether the life-cycle graph of ``A`` is strongly connected.

    Tested on the zero pattern: ``A`` (n × n) is irreducible iff ``(I + B)^(n-1)`` is positive,
    ``B`` being the indicator of positive entries (Caswell 2001, section 4.3).
    """
    M = _matrix(A, "A")
    n = M.shape[0]
    B = (M > 0) | np.eye(n, dtype=bool)
    return bool(_bool_power(B, n - 1).all())


def is_primitive(A: npt.ArrayLike) -> bool:
    """Whether ``A`` is primitive: some power of it is strictly positive.

    Uses Wielandt's bound: a non-negative n × n matrix is primitive iff ``A^(n² - 2n + 2)`` is
    positive (Caswell 2001, section 4.3).
    """
    M = _matrix(A, "A")
    n = M.shape[0]
    return bool(_bool_power(M > 0, n * n - 2 * n + 2).all())


def validate_matrix(A: npt.ArrayLike, *, name: str = "A") -> FloatArray:
    """Check a projection matrix and return it as a float array.

    Parameters
    ----------
    A
        Projection matrix, shape (n, n), ``A[to, from]``.
    name
        Name used in messages (``"A"``, ``"U"``, ...).

    Returns
    -------
    numpy.ndarray
        A float copy of ``A``.

    Raises
    ------
    ValueError
        If ``A`` is not a non-empty square matrix, has a non-finite entry or a negative entry; the
        message names the matrix, the entry and its value.

    Warns
    -----
    MatrixStructureWarning
        If ``A`` is reducible or imprimitive: λ is still the spectral radius, but the stable stage
        distribution may not be unique or may not be approached (Caswell 2001, section 4.5).
    """
    M = _matrix(A, name)
    if not is_irreducible(M):
        warnings.warn(
            f"{name} is reducible (its life-cycle graph is not strongly connected): the stable "
            "stage distribution may depend on the initial population",
            MatrixStructureWarning,
            stacklevel=2,
        )
    elif not is_primitive(M):
        warnings.warn(
            f"{name} is imprimitive (periodic): the population oscillates and does not converge "
            "to the stable stage distribution",
            MatrixStructureWarning,
            stacklevel=2,
        )
    return M


def validate_survival(U: npt.ArrayLike, *, name: str = "U") -> FloatArray:
    """Check a survival/transition matrix and return it as a float array.

    ``U`` must be square, finite, non-negative, and each column (the fates of one stage) must sum
    to at most 1 (up to :data:`SURVIVAL_TOLERANCE`): an individual cannot survive more than once.

    Raises
    ------
    ValueError
        Naming the offending column and its sum.
    """
    M = _matrix(U, name)
    sums = M.sum(axis=0)
    over = np.flatnonzero(sums > 1.0 + SURVIVAL_TOLERANCE)
    if over.size:
        j = int(over[0])
        raise ValueError(
            f"{name} column sums must be <= 1 (survival probabilities); column {j} of {name} "
            f"sums to {float(sums[j])!r}"
        )
    return M


def _survival_and_fertility(U: Any, F: Any) -> tuple[FloatArray, FloatArray]:
    Um = validate_survival(U, name="U")
    Fm = _matrix(F, "F")
    if Fm.shape != Um.shape:
        raise ValueError(f"U and F must have the same shape; got {Um.shape} and {Fm.shape}")
    rho = float(np.max(np.abs(np.linalg.eigvals(Um))))
    if rho >= 1.0 - 1e-12:
        raise ValueError(
            f"the spectral radius of U must be < 1 so that (I - U) is invertible (every "
            f"individual eventually dies); got {rho!r}"
        )
    return Um, Fm


# ---------------------------------------------------------------------------------------------------
# splitting A = U + F + C
# ---------------------------------------------------------------------------------------------------


def split_matrix(
    A: npt.ArrayLike,
    *,
    reproduction_rows: Sequence[int] | int | None = None,
    reproduction_mask: npt.ArrayLike | None = None,
    clonal_mask: npt.ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Split ``A`` into survival/transition ``U``, sexual reproduction ``F`` and clonal ``C``.

    Give either ``reproduction_rows`` (rows whose entries are all reproduction, e.g. ``0`` for the
    top row of a Leslie or Lefkovitch matrix) or ``reproduction_mask`` (a boolean matrix marking
    reproduction entries, for life cycles where some reproduction enters later stages, such as
    teasel's seeds germinating straight into rosettes). ``clonal_mask`` marks clonal entries.
    Entries marked by both masks are refused.

    Returns
    -------
    (U, F, C)
        Float arrays of ``A``'s shape with ``U + F + C == A`` (Caswell 2001, section 5.1;
        COMPADRE's matU/matF/matC).

    Raises
    ------
    ValueError
        If ``A`` is invalid, neither or both of ``reproduction_rows`` and ``reproduction_mask``
        are given, a row is out of range, or a mask has the wrong shape.
    """
    M = _matrix(A, "A")
    n = M.shape[0]
    if (reproduction_rows is None) == (reproduction_mask is None):
        raise ValueError("give exactly one of reproduction_rows and reproduction_mask")
    if reproduction_rows is not None:
        rows = (
            [reproduction_rows] if isinstance(reproduction_rows, int) else list(reproduction_rows)
        )
        for r in rows:
            validation.integer(r, "reproduction_rows", minimum=0, maximum=n - 1)
        fmask = np.zeros((n, n), dtype=bool)
        fmask[rows, :] = True
    else:
        fmask = np.asarray(reproduction_mask, dtype=bool)
        if fmask.shape != (n, n):
            raise ValueError(f"reproduction_mask must have shape {(n, n)}; got {fmask.shape}")
    cmask = np.zeros((n, n), dtype=bool)
    if clonal_mask is not None:
        cmask = np.asarray(clonal_mask, dtype=bool)
        if cmask.shape != (n, n):
            raise ValueError(f"clonal_mask must have shape {(n, n)}; got {cmask.shape}")
        both = np.argwhere(fmask & cmask)
        if both.size:
            i, j = (int(k) for k in both[0])
            raise ValueError(f"entry A[{i}, {j}] is marked as both sexual and clonal reproduction")
    F = np.where(fmask, M, 0.0)
    C = np.where(cmask, M, 0.0)
    U = M - F - C
    return U, F, C


# ---------------------------------------------------------------------------------------------------
# eigen-analysis (Caswell 2001, chapters 4 and 9)
# ---------------------------------------------------------------------------------------------------


def _dominant(M: FloatArray) -> tuple[float, FloatArray, npt.NDArray[np.complex128]]:
    """λ1 (largest real part), its right eigenvector (real, non-negative) and all eigenvalues."""
    vals, vecs = np.linalg.eig(M)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = vecs[:, k].real
    # The Perron vector has one sign; eig returns it with an arbitrary sign, and rounding can leave
    # entries that should be exactly zero (stages that cannot be reached) at about -1e-17.
    w = np.abs(w / w[np.argmax(np.abs(w))])
    return lam, w, vals


def _left_dominant(M: FloatArray) -> FloatArray:
    _, v, _ = _dominant(M.T.copy())
    return v


def _warn_if_not_strictly_dominant(vals: npt.NDArray[np.complex128], lam: float, what: str) -> None:
    mods = np.sort(np.abs(vals))[::-1]
    if lam <= 0 or (len(mods) > 1 and mods[1] >= lam * (1 - _SIMPLE_ROOT_RTOL)):
        warnings.warn(
            f"the dominant eigenvalue {lam!r} is not strictly dominant (another eigenvalue has "
            f"the same modulus): {what} is not unique or not approached (Caswell 2001, section 4.5)",
            MatrixStructureWarning,
            stacklevel=3,
        )


def growth_rate(A: npt.ArrayLike) -> float:
    """Asymptotic population growth rate λ, the dominant eigenvalue of ``A``.

    Parameters
    ----------
    A
        Projection matrix, shape (n, n), non-negative.

    Returns
    -------
    float
        λ per projection interval (Caswell 2001, section 4.4). For a non-negative matrix this is
        the spectral radius, real and non-negative (Perron-Frobenius theorem).
    """
    M = _matrix(A, "A")
    lam, _, _ = _dominant(M)
    return lam


def stable_stage(A: npt.ArrayLike) -> FloatArray:
    """Stable stage distribution: the right eigenvector ``w`` of λ, scaled to sum to 1.

    Returns
    -------
    numpy.ndarray
        Shape (n,), proportions of individuals per stage (Caswell 2001, section 4.5).

    Warns
    -----
    MatrixStructureWarning
        If λ is not strictly dominant (imprimitive matrix), when ``w`` is not approached.
    """
    M = _matrix(A, "A")
    lam, w, vals = _dominant(M)
    _warn_if_not_strictly_dominant(vals, lam, "the stable stage distribution")
    return w / w.sum()


def reproductive_value(A: npt.ArrayLike) -> FloatArray:
    """Reproductive values: the left eigenvector ``v`` of λ, scaled so that ``v[0] == 1``.

    Returns
    -------
    numpy.ndarray
        Shape (n,), reproductive value of each stage relative to the first (Caswell 2001,
        section 4.6).

    Raises
    ------
    ValueError
        If the first stage has zero reproductive value (it cannot contribute to future
        population), so the scaling is undefined.
    """
    M = _matrix(A, "A")
    lam, _, vals = _dominant(M)
    _warn_if_not_strictly_dominant(vals, lam, "the reproductive value vector")
    v = _left_dominant(M)
    if v[0] <= 1e-14 * np.max(np.abs(v)):
        raise ValueError(
            "the first stage of A has zero reproductive value, so v cannot be scaled to v[0] = 1"
        )
    return v / v[0]


def sensitivity(A: npt.ArrayLike, *, observed_only: bool = False) -> FloatArray:
    """Sensitivities of λ to each matrix entry, ``s_ij = ∂λ/∂a_ij = v_i w_j / <v, w>``.

    Parameters
    ----------
    A
        Projection matrix, shape (n, n).
    observed_only
        If True, set the sensitivities of zero entries of ``A`` to 0 (popbio's ``zero=TRUE``);
        by default all entries are returned, as in Caswell 2001, section 9.1.

    Returns
    -------
    numpy.ndarray
        Shape (n, n), change in λ per unit change in ``a_ij`` (Caswell 2001, section 9.1).
    """
    M = _matrix(A, "A")
    lam, w, vals = _dominant(M)
    _warn_if_not_strictly_dominant(vals, lam, "the sensitivity of lambda")
    v = _left_dominant(M)
    vw = float(v @ w)
    if vw <= 1e-12 * float(np.linalg.norm(v) * np.linalg.norm(w)):
        # <v, w> = 0 only when λ is a defective repeated root (a reducible A with a Jordan block,
        # e.g. [[1, 1], [0, 1]]): λ is then not differentiable in the entries (Caswell 2001,
        # section 9.1 assumes a simple λ), so refuse rather than return inf.
        raise ValueError(
            f"the sensitivity of lambda is undefined: lambda = {lam!r} is a repeated root of A "
            "whose left and right eigenvectors are orthogonal (reducible A)"
        )
    S = np.outer(v, w) / vw
    if observed_only:
        S = np.where(M > 0, S, 0.0)
    return S


def elasticity(A: npt.ArrayLike) -> FloatArray:
    """Elasticities of λ, ``e_ij = (a_ij / λ) ∂λ/∂a_ij``: proportional sensitivities.

    Returns
    -------
    numpy.ndarray
        Shape (n, n), non-negative, summing to 1 (Caswell 2001, section 9.2; de Kroon et al.
        1986).
    """
    M = _matrix(A, "A")
    lam = growth_rate(M)
    if lam <= 0:
        raise ValueError(f"elasticities need lambda > 0; got lambda = {lam!r}")
    return sensitivity(M) * M / lam


def damping_ratio(A: npt.ArrayLike) -> float:
    """Damping ratio ``ρ = λ1 / |λ2|``, ``λ2`` the eigenvalue of second-largest modulus.

    Larger values mean faster convergence to the stable stage distribution (Caswell 2001,
    section 4.7). ``inf`` for a matrix whose other eigenvalues are all zero; 1 for an
    imprimitive matrix (no convergence), with a :class:`MatrixStructureWarning`.
    """
    M = _matrix(A, "A")
    if M.shape[0] == 1:
        return math.inf
    lam, _, vals = _dominant(M)
    _warn_if_not_strictly_dominant(vals, lam, "convergence to the stable stage distribution")
    mods = np.sort(np.abs(vals))[::-1]
    if mods[1] == 0:
        return math.inf
    return float(lam / mods[1])


# ---------------------------------------------------------------------------------------------------
# life history from U and F (Caswell 2001, chapter 5)
# ---------------------------------------------------------------------------------------------------


def net_reproductive_rate(U: npt.ArrayLike, F: npt.ArrayLike) -> float:
    """Net reproductive rate R0, the dominant eigenvalue of ``R = F (I - U)^-1``.

    ``(I - U)^-1`` is the fundamental matrix (expected time spent in each stage); ``R[i, j]`` is
    the expected lifetime production of stage-``i`` offspring by an individual born in stage
    ``j`` (Caswell 2001, section 5.3.4).

    Raises
    ------
    ValueError
        If ``U`` is not a valid survival matrix (column sums > 1) or ``I - U`` is singular.
    """
    Um, Fm = _survival_and_fertility(U, F)
    N = np.linalg.inv(np.eye(Um.shape[0]) - Um)
    lam, _, _ = _dominant(Fm @ N)
    return lam


def generation_time(U: npt.ArrayLike, F: npt.ArrayLike) -> float:
    """Generation time ``T = log(R0) / log(λ)``: the time a population growing at rate λ takes to
    grow by the factor R0 (Caswell 2001, section 5.3.5).

    λ is the dominant eigenvalue of ``U + F``.

    Raises
    ------
    ValueError
        If λ = 1 (then R0 = 1 and the ratio is 0/0) or R0 = 0.
    """
    R0 = net_reproductive_rate(U, F)
    lam = growth_rate(np.asarray(U, dtype=float) + np.asarray(F, dtype=float))
    if R0 <= 0 or lam <= 0:
        raise ValueError(
            f"generation time needs R0 > 0 and lambda > 0; got R0={R0!r}, lambda={lam!r}"
        )
    if abs(math.log(lam)) < 1e-10:
        raise ValueError(
            f"generation time log(R0)/log(lambda) is undefined for lambda = 1 (got {lam!r}); use "
            "generation_length for the mean age of parents"
        )
    return math.log(R0) / math.log(lam)


def generation_length(
    U: npt.ArrayLike, F: npt.ArrayLike, *, method: Literal["cohort", "stable"] = "cohort"
) -> float:
    """Generation length: the mean age of parents of newborns (IUCN Guidelines, section 4.4).

    Two well-defined forms for a stage-structured model, newborns having age 1 at their first census
    as in a Leslie matrix:

    ``"cohort"`` (default)
        The mean age at which a cohort of newborns produces its offspring,
        ``μ1 = v' F (I - U)^-2 n0 / v' F (I - U)^-1 n0`` with ``n0 = F w`` the newborns of the stable
        population and offspring weighted by their reproductive value ``v`` (Caswell 2001, section
        5.3.5, μ1 of the distribution of age at reproduction; Ellner 2018 Am. Nat. 191:390). In a
        Leslie matrix it is ``Σ x l_x m_x / Σ l_x m_x``. It does not discount by λ, so it is the
        age of parents that the population would have under natural, stationary conditions: the
        IUCN Guidelines ask that generation length not be inflated or shortened by the decline
        being assessed.
    ``"stable"``
        The mean age of parents of newborns in the stable population growing at rate λ,
        ``T = λ <v, w> / <v, F w>`` (Bienvenu & Legendre 2015, Am. Nat. 185:1258), in a Leslie
        matrix ``Σ x λ^-x l_x m_x``. For a declining long-lived population the λ^-x weights make
        it very long (ages of long stasis dominate), which is why it is not the default.

    Both equal each other when λ = 1, and, unlike :func:`generation_time`, both are defined there.

    Returns
    -------
    float
        Mean age of parents, in projection intervals (years for annual matrices).

    Raises
    ------
    ValueError
        If ``U`` is not a valid survival matrix, ``method`` is unknown, or there is no reproduction
        that contributes to growth (``<v, F w> = 0``).
    """
    Um, Fm = _survival_and_fertility(U, F)
    A = Um + Fm
    lam, w, _ = _dominant(A)
    v = _left_dominant(A)
    denom = float(v @ Fm @ w)
    if lam <= 0 or denom <= 0:
        raise ValueError(
            "generation length needs reproduction that contributes to growth (v F w > 0 and "
            f"lambda > 0); got v F w = {denom!r}, lambda = {lam!r}"
        )
    if method == "stable":
        return lam * float(v @ w) / denom
    if method != "cohort":
        raise ValueError(f"method must be 'cohort' or 'stable'; got {method!r}")
    identity = np.eye(Um.shape[0])
    try:
        fundamental = np.linalg.inv(identity - Um)
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            "generation length needs I - U to be invertible (some individuals must die)"
        ) from exc
    newborns = Fm @ w
    offspring_value = v @ Fm
    lifetime = float(offspring_value @ fundamental @ newborns)
    if lifetime <= 0:
        raise ValueError(
            "generation length needs a cohort of newborns that reproduces; it does not"
        )
    return float(offspring_value @ fundamental @ fundamental @ newborns) / lifetime


def describe(
    A: npt.ArrayLike, U: npt.ArrayLike | None = None, F: npt.ArrayLike | None = None
) -> dict[str, Any]:
    """Summary of a matrix model for reports and the ``pva analyse`` command.

    Parameters
    ----------
    A
        Projection matrix, shape (n, n).
    U, F
        Its survival/transition and sexual-reproduction parts, if known. Without them the
        quantities that need them are ``None``.

    Returns
    -------
    dict
        ``lambda``, ``damping_ratio``, ``net_reproductive_rate``, ``generation_time``,
        ``generation_length`` (floats or ``None`` where undefined or unknown), ``stable_stage``
        (n,), ``reproductive_value`` (n,), ``sensitivity`` (n, n) and ``elasticity`` (n, n) as
        numpy arrays (or ``None``), and ``notes``: a list of strings saying why a quantity is
        missing.

    Raises
    ------
    ValueError
        If λ is not finite (entries so large that the computation overflows).

    Warns
    -----
    MatrixStructureWarning
        If ``A`` is reducible or imprimitive (see :func:`validate_matrix`).
    """
    M = validate_matrix(A, name="A")
    lam = growth_rate(M)
    if not np.isfinite(lam):
        raise ValueError(
            f"A: lambda is {lam!r}, not a finite number: entries as large as "
            f"{np.max(np.abs(M)):.3g} overflow double precision in the eigenvalue computation; "
            "rescale the matrix"
        )
    notes: list[str] = []
    out: dict[str, Any] = {
        "lambda": lam,
        "damping_ratio": None,
        "net_reproductive_rate": None,
        "generation_time": None,
        "generation_length": None,
        "stable_stage": None,
        "reproductive_value": None,
        "sensitivity": None,
        "elasticity": None,
        "notes": notes,
    }
    with warnings.catch_warnings():
        # validate_matrix has already warned about the structure once.
        warnings.simplefilter("ignore", MatrixStructureWarning)
        out["damping_ratio"] = damping_ratio(M)
        out["stable_stage"] = stable_stage(M)
        for key, func in (("reproductive_value", reproductive_value), ("sensitivity", sensitivity)):
            try:
                out[key] = func(M)
            except ValueError as exc:
                notes.append(f"{key.replace('_', ' ')}: {exc}")
        if out["lambda"] > 0:
            try:
                out["elasticity"] = elasticity(M)
            except ValueError as exc:
                notes.append(f"elasticity: {exc}")
    if U is None or F is None:
        notes.append(
            "R0, generation time and generation length need U and F (survival and "
            "reproduction parts of A)"
        )
        return out
    for key, func in (
        ("net_reproductive_rate", net_reproductive_rate),
        ("generation_time", generation_time),
        ("generation_length", generation_length),
    ):
        try:
            out[key] = func(U, F)
        except ValueError as exc:
            notes.append(f"{key.replace('_', ' ')}: {exc}")
    return out


# ---------------------------------------------------------------------------------------------------
# stochastic growth rate (Caswell 2001, chapter 14; Morris & Doak 2002, chapter 7)
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class StochasticGrowthRate:
    """Log stochastic growth rate ``log λs`` of an iid sequence of projection matrices."""

    tuljapurkar: float
    """Small-noise approximation of log λs (Tuljapurkar 1982), per projection interval."""
    simulated: float
    """Mean of ``log(N_{t+1} / N_t)`` over the simulated years after the burn-in."""
    ci: tuple[float, float]
    """95% confidence interval of ``simulated`` (batch means, see
    :func:`stochastic_growth_rate`)."""
    se: float
    """Monte Carlo standard error of ``simulated`` (batch means)."""
    years: int
    """Simulated years used in the mean (after the burn-in)."""
    burn_in: int
    """Years simulated and discarded before averaging."""
    batches: int
    """Number of batches used for the standard error."""
    seed_entropy: str | None
    """Root entropy of the simulation as a string (None when an ``rng`` was passed in)."""

    def __post_init__(self) -> None:
        for field in ("tuljapurkar", "simulated", "se"):
            value = getattr(self, field)
            if not isinstance(value, float) or math.isnan(value):
                raise ValueError(f"{field} must be a float, not NaN; got {value!r}")
        if self.se < 0:
            raise ValueError(f"se must be >= 0; got {self.se!r}")
        lo, hi = self.ci
        if not lo <= self.simulated <= hi:
            raise ValueError(f"ci must contain simulated={self.simulated!r}; got {self.ci!r}")
        if self.years < 1 or self.burn_in < 0 or self.batches < 2:
            raise ValueError(
                f"years >= 1, burn_in >= 0 and batches >= 2 required; got years={self.years!r}, "
                f"burn_in={self.burn_in!r}, batches={self.batches!r}"
            )


def _matrix_set(matrices: Any) -> FloatArray:
    if isinstance(matrices, dict):
        raise TypeError("matrices must be a sequence of matrices (use list(d.values()) for a dict)")
    try:
        stack = [_matrix(m, f"matrices[{k}]") for k, m in enumerate(matrices)]
    except TypeError:
        raise TypeError(
            f"matrices must be a sequence of square matrices; got {matrices!r}"
        ) from None
    if not stack:
        raise ValueError("matrices must hold at least one matrix; got none")
    shapes = {m.shape for m in stack}
    if len(shapes) != 1:
        raise ValueError(f"matrices must all have the same shape; got {sorted(shapes)}")
    return np.stack(stack)


def _probabilities(probabilities: Any, k: int) -> FloatArray:
    if probabilities is None:
        return np.full(k, 1.0 / k)
    p = np.asarray(probabilities, dtype=float)
    if p.shape != (k,):
        raise ValueError(f"probabilities must have one entry per matrix ({k}); got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"probabilities must be non-negative and sum to 1; got {p.tolist()!r}")
    return p / p.sum()


def _tuljapurkar(stack: FloatArray, p: FloatArray, covariance: str = "process") -> float:
    """log λ̄ - τ² / (2 λ̄²) with τ² = Σ_m p_m (Σ_ij S_ij (A_m - Ā)_ij)² (times k / (k - 1) for
    the sample covariance of k matrices, as popbio's ``stoch.growth.rate``)."""
    if covariance not in ("process", "sample"):
        raise ValueError(f"covariance must be 'process' or 'sample'; got {covariance!r}")
    mean = np.einsum("m,mij->ij", p, stack)
    lam = growth_rate(mean)
    if lam <= 0:
        raise ValueError(f"the mean matrix has lambda = {lam!r}; log lambda_s is undefined")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MatrixStructureWarning)
        S = sensitivity(mean)
    # Σ_ij S_ij (A_m - Ā)_ij per matrix: the first-order change in λ in environment m; its variance
    # equals S' Cov(vec A) S, the term of Tuljapurkar's approximation.
    dev = np.einsum("ij,mij->m", S, stack - mean)
    tau2 = float(np.sum(p * dev**2))
    if covariance == "sample":
        k = len(p)
        if k < 2:
            raise ValueError("the sample covariance needs at least two matrices")
        # popbio 2.8 stoch.growth.rate: C <- (Exy - kronecker(Abar, Abar)) * n / (n - 1), the
        # probability-weighted covariance scaled by the number of matrices, whatever the weights
        tau2 *= k / (k - 1)
    return math.log(lam) - tau2 / (2.0 * lam**2)


def stochastic_growth_rate(
    matrices: Sequence[npt.ArrayLike] | npt.ArrayLike,
    probabilities: npt.ArrayLike | None = None,
    *,
    years: int = 50_000,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    burn_in: int = 1_000,
    batches: int = 50,
    covariance: Literal["process", "sample"] = "process",
) -> StochasticGrowthRate:
    """Log stochastic growth rate of matrices drawn iid each year with given probabilities.

    Two estimates (Morris & Doak 2002, section 7.2 and Box 7.4; Caswell 2001, section 14.3):

    * ``tuljapurkar``: Tuljapurkar's (1982) small-noise approximation for iid environments,
      ``log λs ≈ log λ̄ - τ² / (2 λ̄²)``, where ``λ̄`` is the dominant eigenvalue of the mean
      matrix ``Ā = Σ p_m A_m`` and ``τ² = Σ_ij Σ_kl S_ij S_kl Cov(a_ij, a_kl)`` with ``S`` the
      sensitivities of ``Ā`` and the covariances of the entries taken over the matrix
      distribution (Caswell 2001, eq. 14.67 without the autocorrelation term; Morris & Doak 2002,
      eq. 7.14). These are the covariances of the iid process that is simulated (weights ``p_m``).
      popbio's ``stoch.growth.rate`` (Morris & Doak's Box 7.4) multiplies them by ``k / (k - 1)``
      (the sample covariance of ``k`` matrices, applied to the probability-weighted covariance
      whatever the probabilities), so its ``approx`` is lower: for the four Hudsonia matrices it
      gives about -0.0371 where this gives -0.0365 (the simulated value is about -0.0367).
      ``covariance="sample"`` reproduces that convention exactly.
    * ``simulated``: the mean of ``r_t = log(N_{t+1} / N_t)`` over ``years`` simulated years,
      after ``burn_in`` years that are discarded so that the start (the stable stage distribution
      of ``Ā``) does not bias the mean.

    The ``r_t`` are autocorrelated even for iid environments, because the stage structure carries
    memory of past years; the naive standard error ``sd(r) / sqrt(years)`` (used by popbio's
    ``stoch.growth.rate``) ignores this. We use batch means instead: the ``years`` values are cut
    into ``batches`` consecutive batches, whose means are nearly independent when a batch is much
    longer than the autocorrelation time, and the standard error is their standard deviation over
    ``sqrt(batches)``; the 95% interval uses Student's t with ``batches - 1`` degrees of freedom.

    Parameters
    ----------
    matrices
        k projection matrices of one shape (n, n), or an array of shape (k, n, n).
    probabilities
        Probability of each matrix in a year, shape (k,); equal by default.
    years
        Years averaged over, after the burn-in (>= ``batches``). If ``years`` is not a multiple
        of ``batches``, the last ``years % batches`` values enter the mean but not the SE.
    seed, rng
        Either a seed (``None``: fresh OS entropy, recorded in ``seed_entropy``) or a
        :class:`numpy.random.Generator`, not both.
    burn_in
        Years simulated first and discarded.
    batches
        Number of batches for the standard error (>= 2).
    covariance
        ``"process"`` (default): covariances of the iid process with probabilities ``p``, the
        exact second moments of what is simulated; ``"sample"``: those times ``k / (k - 1)`` for
        ``k`` matrices, the convention of Morris & Doak (2002, Box 7.4) and popbio 2.8's
        ``stoch.growth.rate`` (``n / (n - 1)``, applied whatever the probabilities).

    Returns
    -------
    StochasticGrowthRate
        With ``.tuljapurkar``, ``.simulated``, ``.ci``, ``.se``.
    """
    stack = _matrix_set(matrices)
    p = _probabilities(probabilities, stack.shape[0])
    for name, value, low in (("years", years, 1), ("burn_in", burn_in, 0), ("batches", batches, 2)):
        validation.integer(value, name, minimum=low)
    if years < batches:
        raise ValueError(f"years must be >= batches ({batches}); got {years!r}")
    rng, entropy = streams.generator(seed=seed, rng=rng)

    approx = _tuljapurkar(stack, p, covariance)

    mean = np.einsum("m,mij->ij", p, stack)
    _, n, _ = _dominant(mean)
    n = np.abs(n) / np.abs(n).sum() if np.abs(n).sum() > 0 else np.full(len(n), 1.0 / len(n))
    draws = rng.choice(stack.shape[0], size=burn_in + years, p=p)
    r = np.empty(years)
    for t, m in enumerate(draws):
        n = stack[m] @ n
        total = float(n.sum())
        if total <= 0:
            raise ValueError(
                "the simulated population reached zero (a matrix maps the population to 0); "
                "log lambda_s is -inf"
            )
        n /= total
        if t >= burn_in:
            r[t - burn_in] = math.log(total)
    simulated = float(r.mean())
    size = years // batches
    means = r[: size * batches].reshape(batches, size).mean(axis=1)
    se = float(means.std(ddof=1) / math.sqrt(batches))
    import scipy.stats  # here, not at the top: scipy.stats takes a second to import in every worker

    half = float(scipy.stats.t.ppf(0.975, batches - 1)) * se
    return StochasticGrowthRate(
        tuljapurkar=float(approx),
        simulated=simulated,
        ci=(simulated - half, simulated + half),
        se=se,
        years=int(years),
        burn_in=int(burn_in),
        batches=int(batches),
        seed_entropy=entropy,
    )
