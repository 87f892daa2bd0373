"""Parameter uncertainty: the variance of the risk split into its parameter and process parts, and
the plausible range of Red List categories over the parameter draws.

With parameters θ drawn once per block of B replicates (:func:`pva.sensitivity.run_uncertainty`),
the outcome Y of a replicate (1 if extinct by the horizon, else 0; or any number) varies for two
reasons, and by the law of total variance

    Var(Y) = Var_θ(E[Y | θ]) + E_θ[Var(Y | θ)]
           =   parameter part  +  process part

(for an indicator, E[Y | θ] = P(extinct | θ) and Var(Y | θ) = P(1 - P)). The parts are estimated
as the variance components of a one-way random-effects model with D draws as groups of B
replicates (Searle, Casella & McCulloch 1992, section 3.5): with block means m_b and within-block
variances s_b² (divisor B - 1),

    process   = mean_b s_b²                      (unbiased)
    parameter = var_b(m_b) - process / B         (unbiased; var_b with divisor D - 1)

because E[var_b(m_b)] = Var_θ(E[Y | θ]) + E_θ[Var(Y | θ)] / B. The parameter part can come out
negative when it is small against the process noise of D blocks; it is reported as estimated, not
truncated (truncating would bias it upwards). Their sum estimates Var(Y) without bias; the share
``parameter / total`` is a ratio of unbiased estimators, consistent but biased by O(1/D).
Standard errors are delete-one-draw jackknife estimates (Efron & Tibshirani 1993, ch. 11), and the
risk's own standard error is ``sqrt(var_b(m_b) / D)``: replicates of a block share θ, so the
binomial standard error of pooled replicates would be too small by the design effect
``1 + (B - 1) share``.

The plausible range of categories (Akçakaya et al. 2000; IUCN Guidelines section 3.2) is taken
over the draws: each draw's category is the median over its replicates (the more threatened of two
middle ones), and the range runs from the lowest to the highest category of the central
``confidence`` share of draws, with the category of most draws beside it.

References
----------
Searle, S.R., G. Casella & C.E. McCulloch. 1992. Variance Components. Wiley.
Efron, B. & R.J. Tibshirani. 1993. An Introduction to the Bootstrap. Chapman & Hall.
Akçakaya, H.R., S. Ferson, M.A. Burgman, D.A. Keith, G.M. Mace & C.R. Todd. 2000. Making consistent
IUCN classifications under uncertainty. Conservation Biology 14:1001-1013.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import measures, outcomes, redlist, results

FloatArray = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True, eq=False)
class VarianceSplit:
    """The parts of the variance of an outcome under parameter uncertainty (arrays of the shape of
    the outcome's trailing dims); each ``*_se`` is a delete-one-draw jackknife standard error."""

    mean: FloatArray
    """Mean outcome over all replicates (the risk, for an indicator)."""
    mean_se: FloatArray
    """Its standard error, ``sqrt(var_b(m_b) / D)``."""
    total: FloatArray
    """Var(Y): parameter + process."""
    total_se: FloatArray
    parameter: FloatArray
    """Var_θ(E[Y | θ]): the part due to parameter uncertainty."""
    parameter_se: FloatArray
    process: FloatArray
    """E_θ[Var(Y | θ)]: the part due to process stochasticity."""
    process_se: FloatArray
    share: FloatArray
    """parameter / total."""
    share_se: FloatArray
    draws: int
    block: int


def variance_split(outcomes_by_draw: npt.ArrayLike) -> VarianceSplit:
    """Split the variance of an outcome into its parameter and process parts (module docstring).

    Parameters
    ----------
    outcomes_by_draw
        Shape (draws, replicates per draw, ...): the outcome of every replicate, grouped by the
        draw of the parameters it ran with. At least 3 draws; with one replicate per draw the parts
        cannot be told apart (NaN; the mean and total are still estimated).

    Returns
    -------
    VarianceSplit
    """
    y = np.asarray(outcomes_by_draw, dtype=float)
    if y.ndim < 2:
        raise ValueError(
            f"outcomes must have shape (draws, replicates per draw, ...); got {y.shape}"
        )
    d, b = y.shape[:2]
    if d < 3:
        raise ValueError(f"the variance split needs at least 3 draws; got {d}")
    m = y.mean(axis=1)
    w = y.var(axis=1, ddof=1) if b > 1 else np.full(m.shape, np.nan)
    s1, s2, sw = m.sum(axis=0), (m * m).sum(axis=0), w.sum(axis=0)
    whole = _parts(s1, s2, sw, d, b)
    # delete-one-draw values, all at once from the sums
    loo = _parts(s1 - m, s2 - m * m, sw - w, d - 1, b)
    se = {k: np.sqrt((d - 1) / d * ((v - v.mean(axis=0)) ** 2).sum(axis=0)) for k, v in loo.items()}
    return VarianceSplit(
        mean=whole["mean"],
        mean_se=np.sqrt(whole["between"] / d),
        total=whole["total"],
        total_se=se["total"],
        parameter=whole["parameter"],
        parameter_se=se["parameter"],
        process=whole["process"],
        process_se=se["process"],
        share=whole["share"],
        share_se=se["share"],
        draws=d,
        block=b,
    )


def _parts(s1: Any, s2: Any, sw: Any, d: int, b: int) -> dict[str, Any]:
    """Mean, between-draw variance and the variance parts from the sums of the block means
    (``s1``), their squares (``s2``) and the within-block variances (``sw``) over ``d`` draws."""
    mean = s1 / d
    between = (s2 - d * mean * mean) / (d - 1)
    if b > 1:
        process = sw / d
        parameter = between - process / b
        total = parameter + process
    else:
        process = parameter = np.full(np.shape(mean), np.nan)
        total = between
    with np.errstate(divide="ignore", invalid="ignore"):
        share = parameter / total
    return {
        "mean": mean,
        "between": between,
        "total": total,
        "parameter": parameter,
        "process": process,
        "share": share,
    }


# ---------------------------------------------------------------------------------------------------
# the plausible range of categories
# ---------------------------------------------------------------------------------------------------


def draw_category(categories: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """The category of one draw: the median over its replicates (axis 0) of the evaluated
    categories (codes >= 0), the more threatened of two middle ones; ``NOT_EVALUABLE`` where none
    was evaluated. Shape: ``categories`` without axis 0."""
    codes = np.asarray(categories).astype(np.int16)
    valid = codes >= 0
    count = valid.sum(axis=0)
    ordered = np.sort(np.where(valid, codes, np.iinfo(np.int16).max), axis=0)
    middle = np.minimum(count // 2, codes.shape[0] - 1)
    median = np.take_along_axis(ordered, middle[None], axis=0)[0]
    return np.where(count > 0, median, redlist.NOT_EVALUABLE).astype(np.int8)


def category_range(
    by_draw: npt.ArrayLike, *, confidence: float = 0.95
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Lowest and highest category of the central ``confidence`` share of draws (axis 0) and the
    category of most draws (ties: the more threatened); ``NOT_EVALUABLE`` where no draw has one.

    The ends are order statistics: of n draws in order, the ``k = floor(n (1 - confidence) / 2)``
    lowest and the k highest are set aside, so the range holds at least ``confidence`` of them.
    """
    codes = np.asarray(by_draw).astype(np.int16)
    alpha = (1.0 - confidence) / 2.0
    shape = codes.shape[1:]
    lower = np.full(shape, redlist.NOT_EVALUABLE, np.int8)
    upper = lower.copy()
    mode = lower.copy()
    for idx in np.ndindex(shape):
        column = np.sort(codes[(slice(None), *idx)])
        column = column[column >= 0]
        if column.size == 0:
            continue
        k = int(np.floor(alpha * column.size + 1e-9))
        lower[idx], upper[idx] = column[k], column[column.size - 1 - k]
        counts = np.bincount(column, minlength=len(redlist.CATEGORIES))
        mode[idx] = len(counts) - 1 - int(np.argmax(counts[::-1]))
    return lower, upper, mode


# ---------------------------------------------------------------------------------------------------
# the summaries of a run with parameter uncertainty
# ---------------------------------------------------------------------------------------------------


def _indicators(ds: xr.Dataset, horizons: Sequence[int]) -> tuple[FloatArray, list[str]]:
    """Per (species, scenario, replicate, horizon): 1 if the species reached its risk measure
    (its quasi-extinction threshold on what the threshold counts, :mod:`pva.measures`) by the
    horizon; and each measure in words."""
    chosen = measures.risk_measures(ds)
    order = (results.SPECIES, results.SCENARIO, results.REPLICATE)
    parts, events = [], []
    for sp, measure in chosen.items():
        counted = ds[measure.counted.variable].sum(results.POPULATION)
        first = outcomes.first_passage_year(counted.sel({results.SPECIES: [sp]}), measure.threshold)
        parts.append(first.transpose(*order).values)
        events.append(measure.event)
    first = np.concatenate(parts)
    return (first[..., None] <= np.asarray(horizons)).astype(float), events


def add_summaries(
    ds: xr.Dataset,
    horizons: Sequence[int],
    arrays: Sequence[Mapping[str, npt.NDArray[Any]]],
    *,
    confidence: float,
    red_list: bool,
) -> None:
    """Add the risk by draw, the variance split and (with ``red_list``) the category range to the
    pooled results ``ds`` of a run with parameter uncertainty, in place."""
    draws = ds.sizes[results.DRAW]
    hits, events = _indicators(ds, horizons)
    n_sp, n_sc, n_rep, n_h = hits.shape
    grouped = np.moveaxis(hits.reshape(n_sp, n_sc, draws, n_rep // draws, n_h), (2, 3), (0, 1))
    ds.coords[results.HORIZON] = results.variable(
        results.HORIZON, results.HORIZON, np.asarray(horizons, dtype=np.int64)
    )
    dims = (results.SPECIES, results.SCENARIO, results.HORIZON)
    ds[results.RISK_MEASURE] = results.variable(
        results.RISK_MEASURE, (results.SPECIES,), np.array(events, dtype=object)
    )
    ds[results.RISK_BY_DRAW] = results.variable(
        results.RISK_BY_DRAW, (results.DRAW, *dims), grouped.mean(axis=1)
    )
    split = variance_split(grouped)
    for name, field in (
        (results.VARIANCE_TOTAL, "total"),
        (results.VARIANCE_PARAMETER, "parameter"),
        (results.VARIANCE_PROCESS, "process"),
        (results.PARAMETER_SHARE, "share"),
    ):
        ds[name] = results.variable(name, dims, getattr(split, field))
        ds[name + results.SE_SUFFIX] = results.variable(
            name, dims, getattr(split, field + "_se"), statistic="jackknife standard error"
        )
    ds[results.RISK_BY_DRAW].attrs["mean_se"] = "sqrt(var over draws / draws)"
    if not red_list:
        return
    years = np.asarray([0, *horizons], dtype=np.int64)
    by_draw = np.stack([draw_category(np.moveaxis(a["category"], 2, 0)) for a in arrays])
    ds.coords[results.ASSESSMENT_YEAR] = results.variable(
        results.ASSESSMENT_YEAR, results.ASSESSMENT_YEAR, years
    )
    range_dims = (results.SPECIES, results.SCENARIO, results.ASSESSMENT_YEAR)
    ds[results.CATEGORY_BY_DRAW] = results.variable(
        results.CATEGORY_BY_DRAW, (results.DRAW, *range_dims), by_draw
    )
    labels = np.vectorize(redlist.category_name, otypes=[object])
    lower, upper, mode = category_range(by_draw, confidence=confidence)
    for name, codes in (
        (results.CATEGORY_RANGE_LOWER, lower),
        (results.CATEGORY_RANGE_UPPER, upper),
        (results.CATEGORY_MODE, mode),
    ):
        ds[name] = results.variable(name, range_dims, labels(codes), confidence=confidence)
