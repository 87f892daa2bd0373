"""Sensitivity indices from a design's outputs: Sobol' first- and total-order indices with bootstrap
intervals, Morris elementary effects, partial rank correlation coefficients.

Each index function takes the :class:`~pva.sensitivity.designs.Design` that produced the outputs
and the outputs, one row per sample (``(samples,)`` or ``(samples, K)`` for K outputs at once), and
returns an :class:`xarray.Dataset` over ``parameter`` (and ``output``). The ``*_arrays`` variants
return the same numbers as ``(parameters, K)`` arrays (the sweep's results store them by species,
scenario and horizon). :func:`evaluate` runs any vectorised Python function on a design, so the
whole pipeline (design -> evaluation -> indices) can be checked on functions with known indices
(the tests use the Ishigami function).

References
----------
Saltelli, A. 2002. Making best use of model evaluations to compute sensitivity indices. Computer
Physics Communications 145:280-297 (second-order indices).
Saltelli, A., P. Annoni, I. Azzini, F. Campolongo, M. Ratto & S. Tarantola. 2010. Variance based
sensitivity analysis of model output. Design and estimator for the total sensitivity index.
Computer Physics Communications 181:259-270 (first order: their Table 2 (b); total order: (f),
after Jansen 1999).
Jansen, M.J.W. 1999. Analysis of variance designs for model output. Computer Physics
Communications 117:35-43.
Efron, B. & R.J. Tibshirani. 1993. An Introduction to the Bootstrap. Chapman & Hall (percentile
intervals, ch. 13).
Morris, M.D. 1991. Factorial sampling plans for preliminary computational experiments.
Technometrics 33:161-174.
Campolongo, F., J. Cariboni & A. Saltelli. 2007. An effective screening design for sensitivity
analysis of large models. Environmental Modelling & Software 22:1509-1518 (mu*).
Blower, S.M. & H. Dowlatabadi. 1994. Sensitivity and uncertainty analysis of complex models of
disease transmission: an HIV model, as an example. International Statistical Review 62:229-243.
Marino, S., I.B. Hogue, C.J. Ray & D.E. Kirschner. 2008. A methodology for performing global
uncertainty and sensitivity analysis in systems biology. Journal of Theoretical Biology
254:178-196 (PRCC and its t test).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import outcomes, results, streams, validation
from pva.sensitivity.designs import Design

FloatArray = npt.NDArray[np.float64]
OUTPUT = "output"
"""Dim of the outputs when several are analysed at once."""


def evaluate(function: Callable[[FloatArray], npt.ArrayLike], design: Design) -> FloatArray:
    """``function`` at every sample of ``design``: ``function(design.values)``, where ``values``
    has shape (samples, factors) and the result (samples,) or (samples, K).

    Raises
    ------
    ValueError
        If the result does not have one row per sample.
    """
    out = np.asarray(function(design.values), dtype=float)
    if out.ndim == 0 or out.shape[0] != design.samples:
        raise ValueError(
            f"function must return one output per sample ({design.samples} rows); got shape "
            f"{out.shape}"
        )
    return out


def _outputs(design: Design, outputs: npt.ArrayLike, kind: str | None) -> FloatArray:
    if kind is not None and design.kind != kind:
        raise ValueError(f"these indices need a {kind} design; got a {design.kind} design")
    y = np.asarray(outputs, dtype=float)
    if y.ndim == 0 or y.shape[0] != design.samples:
        raise ValueError(
            f"outputs must have one row per sample of the design ({design.samples}); got shape "
            f"{y.shape}"
        )
    return y.reshape(design.samples, -1)


def _rng(rng: np.random.Generator | None, seed: int | None) -> np.random.Generator:
    return rng if rng is not None else streams.generator(seed=seed)[0]


def _dataset(design: Design, arrays: dict[str, FloatArray], squeeze: bool) -> xr.Dataset:
    dims = (results.PARAMETER,) if squeeze else (results.PARAMETER, OUTPUT)
    data = {k: (dims, v[:, 0] if squeeze else v) for k, v in arrays.items() if v.ndim == 2}
    data.update(
        {
            k: ((results.PARAMETER, "parameter_other", *dims[1:]), v[..., 0] if squeeze else v)
            for k, v in arrays.items()
            if v.ndim == 3
        }
    )
    coords = {results.PARAMETER: list(design.names)}
    if any(v.ndim == 3 for v in arrays.values()):
        coords["parameter_other"] = list(design.names)
    return xr.Dataset(data, coords=coords)


# ---------------------------------------------------------------------------------------------------
# Sobol' indices
# ---------------------------------------------------------------------------------------------------


def _saltelli_blocks(design: Design, y: FloatArray) -> tuple[FloatArray, ...]:
    """A (N, K), B (N, K), AB (N, D, K) and BA (N, D, K) (empty without second order) of a Sobol'
    design's outputs, in the order of SALib's ``sample.sobol``: per base row A, AB_1..AB_D,
    [BA_1..BA_D,] B."""
    d = len(design.factors)
    second = bool(design.settings.get("second_order", True))
    step = 2 * d + 2 if second else d + 2
    if y.shape[0] % step:
        raise ValueError(f"a Sobol' design of {d} factors has a multiple of {step} samples")
    rows = y.reshape(-1, step, y.shape[1])
    ab = rows[:, 1 : d + 1]
    ba = rows[:, d + 1 : 2 * d + 1] if second else rows[:, :0]
    return rows[:, 0], rows[:, -1], ab, ba


def _first_total(a: FloatArray, b: FloatArray, ab: FloatArray) -> tuple[FloatArray, FloatArray]:
    """First order (Saltelli et al. 2010, Table 2 (b)) and total order (Jansen 1999; Table 2 (f))
    indices, shape (D, K), from A, B (N, K) and AB (N, D, K)."""
    variance = np.var(np.concatenate([a, b]), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.mean(b[:, None] * (ab - a[:, None]), axis=0) / variance
        total = 0.5 * np.mean((a[:, None] - ab) ** 2, axis=0) / variance
    return first, total


def _second(a: FloatArray, b: FloatArray, ab: FloatArray, ba: FloatArray) -> FloatArray:
    """Second-order indices S_jk (Saltelli 2002, as SALib computes them), shape (D, D, K); NaN on
    the diagonal."""
    d = ab.shape[1]
    variance = np.var(np.concatenate([a, b]), axis=0)
    first, _ = _first_total(a, b, ab)
    out = np.full((d, d, a.shape[1]), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(d):
            for k in range(j + 1, d):
                v = np.mean(ba[:, j] * ab[:, k] - a * b, axis=0) / variance
                out[j, k] = out[k, j] = v - first[j] - first[k]
    return out


def sobol_arrays(
    design: Design,
    outputs: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    confidence: float = 0.95,
    resamples: int = 1000,
) -> dict[str, FloatArray]:
    """:func:`sobol_indices` as arrays of shape (parameters, K): ``first``, ``total`` with
    ``_lower``, ``_upper`` (percentile bootstrap interval) and ``_se`` (bootstrap SD)."""
    y = _outputs(design, outputs, "sobol")
    resamples = validation.integer(resamples, "resamples", minimum=10)
    # centred as SALib centres them: the estimators are unbiased either way, but an output far
    # from 0 inflates the variance of the first-order numerator
    with np.errstate(invalid="ignore"):
        y = (y - y.mean(axis=0)) / y.std(axis=0)
    a, b, ab, _ = _saltelli_blocks(design, y)
    first, total = _first_total(a, b, ab)
    n = a.shape[0]
    boot = {
        "first": np.empty((resamples, *first.shape)),
        "total": np.empty((resamples, *first.shape)),
    }
    for r in range(resamples):
        rows = rng.integers(0, n, n)
        boot["first"][r], boot["total"][r] = _first_total(a[rows], b[rows], ab[rows])
    out = {"first": first, "total": total}
    alpha = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an output constant over the design
        for name, draws in boot.items():
            out[name + results.LOWER_SUFFIX] = np.quantile(draws, alpha, axis=0)
            out[name + results.UPPER_SUFFIX] = np.quantile(draws, 1.0 - alpha, axis=0)
            out[name + results.SE_SUFFIX] = np.std(draws, axis=0, ddof=1)
    return out


def sobol_indices(
    design: Design,
    outputs: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    resamples: int = 1000,
    second_order: bool = False,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> xr.Dataset:
    """Sobol' first- and total-order indices of each factor, with bootstrap intervals.

    From a Sobol' design (:func:`pva.sensitivity.designs.sobol`) and its outputs: the first-order
    index ``S_i = V[E(Y | X_i)] / V(Y)`` estimated as ``mean(f(B) (f(AB_i) - f(A))) / V``
    (Saltelli et al. 2010, Table 2 (b)), the total-order index ``ST_i = E[V(Y | X_~i)] / V(Y)`` as
    ``mean((f(A) - f(AB_i))^2) / 2V`` (Jansen 1999), with ``V`` the variance of f(A) and f(B)
    together (outputs centred and scaled first, as SALib does; the indices do not depend on it).
    Intervals: percentile bootstrap over the N base rows (Efron & Tibshirani 1993), ``resamples``
    times; ``*_se`` is the bootstrap standard deviation. A factor without effect gives exactly 0
    when its outputs repeat (f(AB_i) = f(A), as under common random numbers).

    Parameters
    ----------
    design
        A ``sobol`` design.
    outputs
        (samples,) or (samples, K).
    confidence
        Coverage of the intervals.
    resamples
        Bootstrap resamples.
    second_order
        Also ``second`` (parameter, parameter_other): S_jk of Saltelli (2002), point estimates
        (needs a design with second order).
    seed, rng
        The bootstrap's random numbers (:func:`pva.streams.generator`).

    Returns
    -------
    xarray.Dataset
        ``first``, ``total`` and their ``_lower``, ``_upper``, ``_se`` over ``parameter`` (and
        ``output`` for 2-D outputs).
    """
    y = np.asarray(outputs, dtype=float)
    arrays = sobol_arrays(
        design, y, rng=_rng(rng, seed), confidence=confidence, resamples=resamples
    )
    if second_order:
        if not design.settings.get("second_order", False):
            raise ValueError("second-order indices need a Sobol' design with second_order=True")
        flat = _outputs(design, y, "sobol")
        with np.errstate(invalid="ignore"):
            flat = (flat - flat.mean(axis=0)) / flat.std(axis=0)
        arrays["second"] = _second(*_saltelli_blocks(design, flat))
    ds = _dataset(design, arrays, squeeze=y.ndim == 1)
    ds.attrs = {
        "confidence": confidence,
        "resamples": resamples,
        "interval": "percentile bootstrap",
    }
    return ds


# ---------------------------------------------------------------------------------------------------
# Morris elementary effects
# ---------------------------------------------------------------------------------------------------


def morris_arrays(
    design: Design,
    outputs: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    confidence: float = 0.95,
    resamples: int = 1000,
) -> dict[str, FloatArray]:
    """:func:`morris_indices` as arrays (parameters, K)."""
    y = _outputs(design, outputs, "morris")
    try:
        from SALib.analyze import morris
    except ImportError:  # pragma: no cover - SALib is the `sensitivity` extra
        raise ImportError("Morris indices need SALib: pip install 'pva[sensitivity]'") from None
    d = len(design.factors)
    problem = {"num_vars": d, "names": list(design.names), "bounds": [[0.0, 1.0]] * d}
    keys = ("mu", "mu_star", "sigma", "mu_star_lower", "mu_star_upper")
    out = {k: np.full((d, y.shape[1]), np.nan) for k in keys}
    for k in range(y.shape[1]):
        if not np.all(np.isfinite(y[:, k])):
            continue
        found = morris.analyze(
            problem,
            design.unit,
            y[:, k],
            num_resamples=resamples,
            conf_level=confidence,
            num_levels=int(design.settings["levels"]),
            seed=rng,
        )
        for key in ("mu", "mu_star", "sigma"):
            out[key][:, k] = np.asarray(found[key], dtype=float)
        half = np.asarray(found["mu_star_conf"], dtype=float)
        out["mu_star_lower"][:, k] = np.maximum(out["mu_star"][:, k] - half, 0.0)
        out["mu_star_upper"][:, k] = out["mu_star"][:, k] + half
    return out


def morris_indices(
    design: Design,
    outputs: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> xr.Dataset:
    """Morris (1991) elementary effects of each factor: their mean ``mu``, mean absolute value
    ``mu_star`` (Campolongo et al. 2007) and standard deviation ``sigma`` (interactions and
    non-linearity), with the bootstrap interval of ``mu_star`` (SALib's ``analyze.morris``: the
    normal interval ``mu_star +- z sd`` of its resamples, floored at 0).

    Effects are per change of a factor over its whole range (design points in the unit
    hypercube), in the output's units: a factor entering ``y = b x`` on [low, high] has
    ``mu = mu_star = b (high - low)`` and ``sigma = 0``.
    """
    y = np.asarray(outputs, dtype=float)
    arrays = morris_arrays(
        design, y, rng=_rng(rng, seed), confidence=confidence, resamples=resamples
    )
    ds = _dataset(design, arrays, squeeze=y.ndim == 1)
    ds.attrs = {"confidence": confidence, "resamples": resamples, "units": "output per range"}
    return ds


# ---------------------------------------------------------------------------------------------------
# partial rank correlation
# ---------------------------------------------------------------------------------------------------


def prcc_arrays(
    design: Design, outputs: npt.ArrayLike, *, confidence: float = 0.95
) -> dict[str, FloatArray]:
    """:func:`prcc` as arrays (parameters, K): ``prcc``, ``prcc_lower``, ``prcc_upper``,
    ``p_value``."""
    import scipy.stats

    y = _outputs(design, outputs, None)
    x = design.values
    n, d = x.shape
    if n < d + 3:
        raise ValueError(f"PRCC of {d} parameters needs at least {d + 3} samples; got {n}")
    ranks_x = scipy.stats.rankdata(x, axis=0)
    out = {k: np.full((d, y.shape[1]), np.nan) for k in ("prcc", "lower", "upper", "p_value")}
    z = outcomes.z_score(confidence)
    df = n - 2 - (d - 1)
    for k in range(y.shape[1]):
        if not np.all(np.isfinite(y[:, k])) or np.ptp(y[:, k]) == 0:
            continue
        ranks_y = scipy.stats.rankdata(y[:, k])
        for i in range(d):
            r = np.float64(_partial_correlation(ranks_x, ranks_y, i))
            out["prcc"][i, k] = r
            with np.errstate(divide="ignore", invalid="ignore"):
                t = r * np.sqrt(df / (1.0 - r * r))  # inf at |r| = 1: p = 0
                fisher = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
            out["p_value"][i, k] = 2.0 * scipy.stats.t.sf(abs(t), df)
            half = z / np.sqrt(max(n - 3 - (d - 1), 1))
            out["lower"][i, k] = np.tanh(fisher - half)
            out["upper"][i, k] = np.tanh(fisher + half)
    return {
        "prcc": out["prcc"],
        "prcc" + results.LOWER_SUFFIX: out["lower"],
        "prcc" + results.UPPER_SUFFIX: out["upper"],
        "p_value": out["p_value"],
    }


def _partial_correlation(ranks_x: FloatArray, ranks_y: FloatArray, i: int) -> float:
    """Correlation of the residuals of rank x_i and rank y, each regressed (least squares, with an
    intercept) on the ranks of the other factors."""
    others = np.column_stack([np.ones(len(ranks_y)), np.delete(ranks_x, i, axis=1)])
    residuals = []
    for target in (ranks_x[:, i], ranks_y):
        coef, *_ = np.linalg.lstsq(others, target, rcond=None)
        residuals.append(target - others @ coef)
    a, b = residuals
    denominator = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / denominator) if denominator > 0 else float("nan")


def prcc(design: Design, outputs: npt.ArrayLike, *, confidence: float = 0.95) -> xr.Dataset:
    """Partial rank correlation coefficients of each factor with the output (Blower &
    Dowlatabadi 1994; Marino et al. 2008): the correlation of the rank of the factor and the rank
    of the output after removing, by linear regression, what the ranks of the other factors
    explain. Monotone relations give values near +-1 whatever their shape.

    ``p_value``: two-sided t test of PRCC = 0 with ``n - 2 - (D - 1)`` degrees of freedom
    (Marino et al. 2008, eq. 9); ``prcc_lower``/``prcc_upper``: Fisher's z interval,
    ``tanh(atanh(r) +- z / sqrt(n - 3 - (D - 1)))``. Any design (a Latin hypercube is usual).
    """
    y = np.asarray(outputs, dtype=float)
    ds = _dataset(design, prcc_arrays(design, y, confidence=confidence), squeeze=y.ndim == 1)
    ds.attrs = {"confidence": confidence}
    return ds
