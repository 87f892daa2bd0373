"""Which factors govern success: generalised linear models of the paired outcomes on the factors,
with species-clustered standard errors and intervals by bootstrap over species; partial
dependence; intervention types ranked by ΔRLI and extinctions prevented per currency unit.

Why statsmodels, not scikit-learn. An evaluator asks how much a factor changes the chance of
success and how sure we are, across a portfolio of a few dozen species: an effect with an interval,
not a prediction. statsmodels' GLMs give interpretable effects (a logit for proportions, the
identity for differences) with standard errors that account for the designs of one species being
correlated (``cov_type="cluster"`` by species; Cameron & Miller 2015), and refit in milliseconds,
so that a bootstrap over species (the unit of replication) is cheap. Gradient boosting would need
far more species than the portfolio has to learn interactions without overfitting, and its
permutation importances carry no interval of their own. The models here are additive in the
factors (no interactions unless a formula of terms is given); partial dependence is computed from
the same fits (Friedman 2001), so it shows the fitted response, conditional on that form.

Models. Rows are the applicable (species, design) pairs. Proportions (``extinction_avoided``,
``downlisted``) are fitted by a fractional logit (binomial GLM on the proportion of replicates;
Papke & Wooldridge 1996); differences (``extinctions_prevented``, ``delta_rli``, ``green_gain``)
by a Gaussian GLM (least squares). Numeric factors enter standardised (mean 0, SD 1 over the rows;
λ, generation length, R0, initial size and cost on the log scale), the intervention type as
indicators against a reference type. A factor constant over the rows, or a linear combination of
those before it, is left out (and named in the attributes).

Effects are reported on the outcome's own scale: for a numeric factor the average change of the
fitted outcome over the rows when the factor moves by one SD (centred difference), for a type the
average difference of the fitted outcome between that type and the reference, all rows
counterfactually set to each. Intervals: species-clustered Wald intervals for the coefficients,
and percentile intervals from a bootstrap over species (species drawn with replacement, all their
designs with them, refitted) for the effects, the partial dependence and the ranking.

References
----------
Cameron, A.C. & D.L. Miller (2015) A practitioner's guide to cluster-robust inference. Journal of
Human Resources 50:317-372.
Papke, L.E. & J.M. Wooldridge (1996) Econometric methods for fractional response variables with an
application to 401(k) plan participation rates. Journal of Applied Econometrics 11:619-632.
Friedman, J.H. (2001) Greedy function approximation: a gradient boosting machine. Annals of
Statistics 29:1189-1232 (partial dependence).
Davison, A.C. & D.V. Hinkley (1997) Bootstrap Methods and their Application. Cambridge (the
cluster bootstrap, section 3.8).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import results, streams
from pva.success.names import (
    APPLICABLE,
    DESIGN,
    FACTOR,
    FACTORS,
    INTERVENTION_TYPE,
    OUTCOME,
    POINT,
    RANK_TYPE,
    TERM,
    TYPE,
)

__all__ = [
    "DEFAULT_FACTORS",
    "FAMILIES",
    "analyse",
    "design_matrix",
    "fit_outcome",
    "rank_types",
    "require_statsmodels",
    "split_analysis",
    "with_analysis",
]

FloatArray = npt.NDArray[np.float64]
Family = Literal["binomial", "gaussian"]

FAMILIES: dict[str, Family] = {
    "extinction_avoided": "binomial",
    "downlisted": "binomial",
    "extinctions_prevented": "gaussian",
    "delta_rli": "gaussian",
    "green_gain": "gaussian",
}
"""The GLM family of each outcome (logit link for proportions, identity for differences)."""

DEFAULT_FACTORS: tuple[str, ...] = (
    "growth_rate",
    "generation_length",
    "net_reproductive_rate",
    "adult_survival_elasticity",
    "initial_mature",
    "threat_intensity",
    "habitat_loss",
    "start",
    "duration",
    "effort",
    "cost",
)
"""Numeric factors, in the order they enter (a later factor aliased with earlier ones is left out)."""

LOG_FACTORS = frozenset(
    {"growth_rate", "generation_length", "net_reproductive_rate", "initial_mature", "cost"}
)
"""Factors that enter on the log scale (cost as log(1 + cost))."""

MIN_RESIDUAL_DF = 2
"""Rows beyond the columns a design matrix keeps: factors after the first that would leave fewer
residual degrees of freedom are left out (a study with few species x designs)."""

PD_POINTS = 9
"""Points of each numeric factor's partial-dependence grid (5th to 95th percentile of the rows)."""


def require_statsmodels() -> Any:
    """The statsmodels.api module, or an ImportError saying how to install it."""
    try:
        import statsmodels.api as sm
    except ImportError:  # pragma: no cover - the extra is installed with .[test]
        raise ImportError(
            "the success-factor analysis needs statsmodels: pip install '.[success]' (from a "
            "checkout of pva) or pip install 'pva[success]'"
        ) from None
    return sm


# ---------------------------------------------------------------------------------------------------
# the design matrix
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DesignMatrix:
    """The rows (applicable species x design pairs) and the columns of the models."""

    X: FloatArray
    """(rows, 1 + terms): intercept, standardised numeric factors, type indicators."""
    terms: tuple[str, ...]
    """Names of the columns after the intercept: factors, then ``type: <type>``."""
    species: npt.NDArray[np.int64]
    """Species index of each row (the cluster)."""
    design: npt.NDArray[np.int64]
    """Design index of each row."""
    factors: tuple[str, ...]
    """The numeric factors kept."""
    dropped: tuple[str, ...]
    """Factors left out: constant over the rows, or aliased with earlier columns."""
    center: dict[str, float]
    scale: dict[str, float]
    types: tuple[str, ...]
    """The types, reference first."""

    def raw(self, factor: str, values: npt.ArrayLike) -> FloatArray:
        """Standardised column values of a factor given on its own scale."""
        v = np.asarray(values, dtype=float)
        t = _transform(factor, v)
        return (t - self.center[factor]) / self.scale[factor]

    def column(self, term: str) -> int:
        return 1 + self.terms.index(term)

    def with_type(self, X: FloatArray, kind: str) -> FloatArray:
        """``X`` with every row set to type ``kind``."""
        out = X.copy()
        for t in self.types[1:]:
            out[:, self.column(f"type: {t}")] = 1.0 if t == kind else 0.0
        return out


def _transform(factor: str, v: FloatArray) -> FloatArray:
    if factor == "cost":
        return np.log1p(np.maximum(v, 0.0))
    if factor in LOG_FACTORS:
        return np.log(np.maximum(v, np.finfo(float).tiny))
    return v


def _reference(types: Sequence[str], counts: dict[str, int]) -> str:
    """The most frequent type (ties: "threat abatement" if among them, else the first name)."""
    top = max(counts.values())
    tied = sorted(t for t in types if counts[t] == top)
    return "threat abatement" if "threat abatement" in tied else tied[0]


def design_matrix(success: xr.Dataset, *, factors: Sequence[str] = DEFAULT_FACTORS) -> DesignMatrix:
    """The model rows and columns of a success results Dataset (:func:`pva.success.run_success`).

    Rows: the (species, design) pairs that are ``applicable``. Columns: an intercept, each numeric
    factor standardised over the rows (on the log scale for :data:`LOG_FACTORS`), then indicators
    of the intervention types other than the reference (the most frequent). A factor constant
    over the rows, aliased with the type indicators and the factors before it, or beyond what the
    rows can estimate (:data:`MIN_RESIDUAL_DF`), is left out.
    """
    for f in factors:
        if f not in success.data_vars or not set(success[f].dims) <= {results.SPECIES, DESIGN}:
            raise ValueError(
                f"factor {f!r} must be a (species[, design]) variable of the success results; "
                f"the study's factors are {list(FACTORS)}"
            )
    applicable = np.asarray(success[APPLICABLE].transpose(results.SPECIES, DESIGN).values)
    species, design = np.nonzero(applicable)
    if species.size == 0:
        raise ValueError("no design has an intervention for any species: nothing to analyse")

    def values(f: str) -> FloatArray:
        da = success[f]
        if DESIGN in da.dims:
            return np.asarray(da.transpose(results.SPECIES, DESIGN).values, dtype=float)[
                species, design
            ]
        return np.asarray(da.values, dtype=float)[species]

    kinds = np.asarray(success[TYPE].transpose(results.SPECIES, DESIGN).values)[species, design]
    counts = {str(t): int(np.sum(kinds == t)) for t in np.unique(kinds)}
    ref = _reference(list(counts), counts)
    types = (ref, *sorted(t for t in counts if t != ref))
    type_columns = [(kinds == t).astype(float) for t in types[1:]]
    # the type indicators enter first, so that a factor the types determine (a cost set by type)
    # is the one left out
    columns = [np.ones(species.size), *type_columns]
    kept, dropped, center, scale = [], [], {}, {}
    for f in factors:
        t = _transform(f, values(f))
        sd = float(np.std(t))
        if not np.all(np.isfinite(t)) or sd <= 1e-12 * max(1.0, float(np.abs(t).max())):
            dropped.append(f)
            continue
        z = (t - t.mean()) / sd
        if np.linalg.matrix_rank(np.column_stack([*columns, z])) <= len(columns):
            dropped.append(f)
            continue
        if len(columns) + 1 > species.size - MIN_RESIDUAL_DF:
            dropped.append(f)  # too few rows left to estimate it with an error
            continue
        columns.append(z)
        kept.append(f)
        center[f], scale[f] = float(t.mean()), sd
    numeric = columns[1 + len(type_columns) :]
    X = np.column_stack([columns[0], *numeric, *type_columns])
    return DesignMatrix(
        X=X,
        terms=(*kept, *(f"type: {t}" for t in types[1:])),
        species=species,
        design=design,
        factors=tuple(kept),
        dropped=tuple(dropped),
        center=center,
        scale=scale,
        types=types,
    )


# ---------------------------------------------------------------------------------------------------
# one outcome
# ---------------------------------------------------------------------------------------------------


def _family(sm: Any, family: Family) -> Any:
    return sm.families.Binomial() if family == "binomial" else sm.families.Gaussian()


def _fit(sm: Any, y: FloatArray, X: FloatArray, family: Family, groups: Any = None) -> Any:
    """One GLM fit (cluster-robust covariance when ``groups`` is given)."""
    model = sm.GLM(y, X, family=_family(sm, family))
    with warnings.catch_warnings():
        # fractional responses (proportions) make statsmodels' binomial family note non-integers;
        # separation shows up as non-convergence, which the caller counts
        warnings.simplefilter("ignore")
        if groups is None:
            return model.fit()
        return model.fit(cov_type="cluster", cov_kwds={"groups": groups})


def _predict(params: FloatArray, X: FloatArray, family: Family) -> FloatArray:
    eta = X @ params
    return 1.0 / (1.0 + np.exp(-eta)) if family == "binomial" else eta


def _effects(params: FloatArray, m: DesignMatrix, family: Family) -> FloatArray:
    """Average change of the fitted outcome per term: one SD of a numeric factor (centred), or a
    type against the reference (every row counterfactually set to each)."""
    out = []
    for term in m.terms:
        j = m.column(term)
        if term.startswith("type: "):
            kind = term.removeprefix("type: ")
            hi, lo = m.with_type(m.X, kind), m.with_type(m.X, m.types[0])
        else:
            hi, lo = m.X.copy(), m.X.copy()
            hi[:, j] += 0.5
            lo[:, j] -= 0.5
        out.append(float(np.mean(_predict(params, hi, family) - _predict(params, lo, family))))
    return np.asarray(out)


def _grid(m: DesignMatrix, factor: str) -> FloatArray:
    """Partial-dependence points of a factor, on its own scale: :data:`PD_POINTS` from the 5th to
    the 95th percentile of its values over the rows (geometric for log-scale factors)."""
    z = m.X[:, m.column(factor)]
    t = z * m.scale[factor] + m.center[factor]
    low, high = np.quantile(t, [0.05, 0.95])
    points = np.linspace(low, high, PD_POINTS)
    if factor == "cost":
        return np.expm1(points)
    return np.exp(points) if factor in LOG_FACTORS else points


def _partial_dependence(
    params: FloatArray, m: DesignMatrix, grids: dict[str, FloatArray], family: Family
) -> tuple[FloatArray, FloatArray]:
    """(numeric factors x points, types): mean fitted outcome over the rows with the factor set to
    each point (Friedman 2001), or every row set to each type."""
    numeric = np.full((len(m.factors), PD_POINTS), np.nan)
    for a, f in enumerate(m.factors):
        j = m.column(f)
        for b, value in enumerate(m.raw(f, grids[f])):
            X = m.X.copy()
            X[:, j] = value
            numeric[a, b] = float(np.mean(_predict(params, X, family)))
    typed = np.array([np.mean(_predict(params, m.with_type(m.X, t), family)) for t in m.types])
    return numeric, typed


def fit_outcome(
    success: xr.Dataset,
    outcome: str,
    *,
    m: DesignMatrix | None = None,
    family: Family | None = None,
    bootstrap: int = 500,
    seed: int | None = None,
    confidence: float = 0.95,
) -> xr.Dataset:
    """Fit one outcome of a success results Dataset on the factors.

    Parameters
    ----------
    outcome
        One of :data:`FAMILIES` (or any (species, design) variable with ``family`` given).
    m
        The design matrix (default :func:`design_matrix` of ``success``).
    bootstrap
        Bootstrap samples over species (0: none, intervals NaN).
    seed
        Seed of the bootstrap (:func:`pva.streams.generator`).

    Returns
    -------
    xarray.Dataset
        Per ``term``: ``coefficient`` (link scale, per SD or indicator), ``se`` (species-clustered),
        ``coefficient_lower``/``_upper`` (Wald, clustered), ``p_value``; ``effect`` (outcome
        scale, :func:`_effects`) with bootstrap ``effect_lower``/``_upper``. Per numeric
        ``factor`` and ``point``: ``partial_dependence`` with ``_lower``/``_upper`` and the
        factor's value ``pd_value``; per ``type``: ``type_dependence`` with ``_lower``/``_upper``.
        Attributes: family, rows, species, bootstrap samples used and failed, factors dropped,
        reference type.
    """
    sm = require_statsmodels()
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence!r}")
    family = family or FAMILIES.get(outcome)
    if family is None:
        raise ValueError(f"give family= for outcome {outcome!r} (known: {list(FAMILIES)})")
    m = design_matrix(success) if m is None else m
    y_all = np.asarray(success[outcome].transpose(results.SPECIES, DESIGN).values, dtype=float)
    y = y_all[m.species, m.design]
    if family == "binomial":
        y = np.clip(y, 0.0, 1.0)
    z = float(_normal_quantile(0.5 + confidence / 2))
    grids = {f: _grid(m, f) for f in m.factors}
    note = ""
    try:
        if np.ptp(y) == 0:
            raise ValueError("the outcome is the same for every species x design: nothing to fit")
        fitted = _fit(sm, y, m.X, family, groups=m.species)
        params = np.asarray(fitted.params)
        if not np.all(np.isfinite(params)):
            raise ValueError("the fit did not converge (separation?)")
        se, p_values = np.asarray(fitted.bse)[1:], np.asarray(fitted.pvalues)[1:]
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
        # a degenerate outcome or design (few species): report it, with no numbers
        note = f"not fitted: {exc}"
        params = np.full(m.X.shape[1], np.nan)
        se = p_values = np.full(len(m.terms), np.nan)
        bootstrap = 0
    effect = _effects(params, m, family)
    pd_numeric, pd_type = _partial_dependence(params, m, grids, family)

    rng, _ = streams.generator(seed=seed)
    clusters = _Clusters(m.species)
    boot_effect, boot_numeric, boot_type, failed = [], [], [], 0
    for _ in range(bootstrap):
        rows = clusters.draw(rng)
        Xb = m.X[rows]
        if np.linalg.matrix_rank(Xb) < Xb.shape[1]:
            failed += 1  # a type or factor absent from the sample: not estimable there
            continue
        try:
            pb = np.asarray(_fit(sm, y[rows], Xb, family).params)
        except (np.linalg.LinAlgError, ValueError):
            failed += 1
            continue
        if not np.all(np.isfinite(pb)):
            failed += 1
            continue
        boot_effect.append(_effects(pb, m, family))
        numeric, typed = _partial_dependence(pb, m, grids, family)
        boot_numeric.append(numeric)
        boot_type.append(typed)
    q = ((1 - confidence) / 2, (1 + confidence) / 2)

    def interval(
        samples: list[FloatArray], shape: tuple[int, ...]
    ) -> tuple[FloatArray, FloatArray]:
        if not samples:
            return np.full(shape, np.nan), np.full(shape, np.nan)
        lo, hi = np.quantile(np.stack(samples), q, axis=0)
        return lo, hi

    e_lo, e_hi = interval(boot_effect, effect.shape)
    n_lo, n_hi = interval(boot_numeric, pd_numeric.shape)
    t_lo, t_hi = interval(boot_type, pd_type.shape)
    units = success[outcome].attrs.get("units", "")
    out = xr.Dataset(
        {
            "coefficient": (TERM, params[1:]),
            "se": (TERM, se),
            "coefficient_lower": (TERM, params[1:] - z * se),
            "coefficient_upper": (TERM, params[1:] + z * se),
            "p_value": (TERM, p_values),
            "effect": (TERM, effect, {"units": units}),
            "effect_lower": (TERM, e_lo, {"units": units}),
            "effect_upper": (TERM, e_hi, {"units": units}),
            "partial_dependence": ((FACTOR, POINT), pd_numeric, {"units": units}),
            "partial_dependence_lower": ((FACTOR, POINT), n_lo, {"units": units}),
            "partial_dependence_upper": ((FACTOR, POINT), n_hi, {"units": units}),
            "pd_value": (
                (FACTOR, POINT),
                np.stack([grids[f] for f in m.factors]) if m.factors else np.empty((0, PD_POINTS)),
            ),
            "type_dependence": (INTERVENTION_TYPE, pd_type, {"units": units}),
            "type_dependence_lower": (INTERVENTION_TYPE, t_lo, {"units": units}),
            "type_dependence_upper": (INTERVENTION_TYPE, t_hi, {"units": units}),
        },
        coords={TERM: list(m.terms), FACTOR: list(m.factors), INTERVENTION_TYPE: list(m.types)},
        attrs={
            "outcome": outcome,
            "family": family,
            "link": "logit" if family == "binomial" else "identity",
            "rows": int(m.species.size),
            "species": int(np.unique(m.species).size),
            "bootstrap": len(boot_effect),
            "bootstrap_failed": int(failed),
            "dropped": ", ".join(m.dropped),
            "reference_type": m.types[0],
            "confidence": float(confidence),
            "mean_outcome": float(np.mean(y)),
            "note": note,
        },
    )
    return out


def _normal_quantile(p: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(p))


# ---------------------------------------------------------------------------------------------------
# all outcomes, and the ranking
# ---------------------------------------------------------------------------------------------------


def analyse(
    success: xr.Dataset,
    *,
    outcomes: Sequence[str] = tuple(FAMILIES),
    factors: Sequence[str] = DEFAULT_FACTORS,
    bootstrap: int = 500,
    seed: int | None = 12,
    confidence: float = 0.95,
) -> xr.Dataset:
    """:func:`fit_outcome` for each outcome (one design matrix, one bootstrap seed each), stacked
    along an ``outcome`` dim, with :func:`rank_types` (its variables prefixed ``rank_``).

    The same ``seed`` draws the same species for every outcome, so their intervals come from the
    same bootstrap samples.
    """
    m = design_matrix(success, factors=factors)
    fits = []
    for outcome in outcomes:
        fit = fit_outcome(
            success, outcome, m=m, bootstrap=bootstrap, seed=seed, confidence=confidence
        )
        fits.append(fit.expand_dims({OUTCOME: [outcome]}))
    attrs = {
        k: [f.attrs[k] for f in fits] for k in ("family", "bootstrap", "bootstrap_failed", "note")
    }
    out = xr.concat(fits, dim=OUTCOME, combine_attrs="drop")
    for key, values in attrs.items():
        out[key] = (OUTCOME, np.asarray(values))
    out.attrs = {
        "rows": int(m.species.size),
        "species": int(np.unique(m.species).size),
        "dropped": ", ".join(m.dropped),
        "reference_type": m.types[0],
        "confidence": float(confidence),
        "bootstrap_seed": "" if seed is None else str(seed),
        "currency": str(success.attrs.get("currency", "currency units")),
        "horizon": int(success.attrs.get("horizon", 0)),
    }
    ranking = rank_types(success, bootstrap=bootstrap, seed=seed, confidence=confidence)
    for name in ranking.data_vars:
        out[f"rank_{name}"] = ranking[name].rename({INTERVENTION_TYPE: RANK_TYPE})
    return out


PER = 1_000_000.0
"""Costs are reported per million currency units."""


def rank_types(
    success: xr.Dataset,
    *,
    bootstrap: int = 500,
    seed: int | None = 12,
    confidence: float = 0.95,
) -> xr.Dataset:
    """Intervention types ranked by ΔRLI and by extinctions prevented per million currency units.

    For a type, over its applicable (species, design) pairs: ``sum(ΔRLI) / sum(cost) x 10^6`` and
    ``sum(extinctions prevented) / sum(cost) x 10^6``: what a million spent on that type across
    the portfolio bought, at the designs' own mix of timing and effort. Intervals: percentile,
    bootstrap over species (:class:`_Clusters`); ``p_best``: the share of bootstrap samples in
    which the type buys the most ΔRLI per unit.

    Returns
    -------
    xarray.Dataset
        Per ``type``, sorted by ΔRLI per million (best first): ``delta_rli_per_million``,
        ``extinctions_prevented_per_million`` with ``_lower``/``_upper``, ``p_best``,
        ``total_cost``, ``pairs`` (species x designs).
    """
    applicable = np.asarray(success[APPLICABLE].transpose(results.SPECIES, DESIGN).values)
    species, design = np.nonzero(applicable)
    if species.size == 0:
        raise ValueError("no design has an intervention for any species: nothing to rank")

    def column(name: str) -> FloatArray:
        values = np.asarray(success[name].transpose(results.SPECIES, DESIGN).values)
        return values[species, design]

    kinds = column(TYPE).astype(str)
    types = sorted(set(kinds.tolist()))
    gain = {
        "delta_rli": column("delta_rli"),
        "extinctions_prevented": column("extinctions_prevented"),
    }
    cost = column("cost").astype(float)

    def ratios(rows: npt.NDArray[np.int64]) -> FloatArray:
        out = np.full((2, len(types)), np.nan)
        for k, t in enumerate(types):
            sel = rows[kinds[rows] == t]
            spent = cost[sel].sum()
            if sel.size and spent > 0:
                out[0, k] = gain["delta_rli"][sel].sum() / spent * PER
                out[1, k] = gain["extinctions_prevented"][sel].sum() / spent * PER
        return out

    point = ratios(np.arange(species.size))
    m = _Clusters(species)
    rng, _ = streams.generator(seed=seed)
    samples = np.stack([ratios(m.draw(rng)) for _ in range(bootstrap)]) if bootstrap else None
    q = ((1 - confidence) / 2, (1 + confidence) / 2)
    if samples is not None:
        lo, hi = np.nanquantile(samples, q, axis=0)
        best = np.nanargmax(np.where(np.isnan(samples[:, 0]), -np.inf, samples[:, 0]), axis=1)
        p_best = np.array([np.mean(best == k) for k in range(len(types))])
    else:
        lo = hi = np.full_like(point, np.nan)
        p_best = np.full(len(types), np.nan)
    order = np.argsort(-np.where(np.isnan(point[0]), -np.inf, point[0]), kind="stable")
    currency = str(success.attrs.get("currency", "currency units"))
    per = f"per million {currency}"
    out = xr.Dataset(
        {
            "delta_rli_per_million": (INTERVENTION_TYPE, point[0, order], {"units": f"ΔRLI {per}"}),
            "delta_rli_per_million_lower": (INTERVENTION_TYPE, lo[0, order]),
            "delta_rli_per_million_upper": (INTERVENTION_TYPE, hi[0, order]),
            "extinctions_prevented_per_million": (
                INTERVENTION_TYPE,
                point[1, order],
                {"units": f"species {per}"},
            ),
            "extinctions_prevented_per_million_lower": (INTERVENTION_TYPE, lo[1, order]),
            "extinctions_prevented_per_million_upper": (INTERVENTION_TYPE, hi[1, order]),
            "p_best": (INTERVENTION_TYPE, p_best[order]),
            "total_cost": (
                INTERVENTION_TYPE,
                np.array([cost[kinds == types[k]].sum() for k in order]),
            ),
            "pairs": (INTERVENTION_TYPE, np.array([int(np.sum(kinds == types[k])) for k in order])),
        },
        coords={INTERVENTION_TYPE: [types[k] for k in order]},
        attrs={"confidence": float(confidence), "currency": currency},
    )
    return out


class _Clusters:
    """Rows grouped by species, for the cluster bootstrap."""

    def __init__(self, species: npt.NDArray[np.int64]) -> None:
        self.ids = np.unique(species)
        self.rows = {int(s): np.flatnonzero(species == s) for s in self.ids}

    def draw(self, rng: np.random.Generator) -> npt.NDArray[np.int64]:
        drawn = rng.choice(self.ids, size=self.ids.size, replace=True)
        return np.concatenate([self.rows[int(s)] for s in drawn])


# ---------------------------------------------------------------------------------------------------
# one file: the success results with their analysis
# ---------------------------------------------------------------------------------------------------

_ANALYSIS_DIMS = frozenset({OUTCOME, TERM, FACTOR, POINT, INTERVENTION_TYPE, RANK_TYPE})
_ANALYSIS_ATTR = "success_analysis"


def with_analysis(success: xr.Dataset, analysis: xr.Dataset) -> xr.Dataset:
    """``success`` and its ``analysis`` as one Dataset (what ``pva success`` writes); the
    analysis' attributes are kept as JSON in ``attrs["success_analysis"]``.
    :func:`split_analysis` inverts it."""
    out = xr.merge([success, analysis], combine_attrs="override")
    out.attrs = {**success.attrs, _ANALYSIS_ATTR: json.dumps(analysis.attrs, sort_keys=True)}
    return out


def split_analysis(ds: xr.Dataset) -> tuple[xr.Dataset, xr.Dataset | None]:
    """(success results, analysis or None) of a Dataset written by ``pva success``."""
    chosen = [v for v in ds.data_vars if set(ds[v].dims) & _ANALYSIS_DIMS]
    if not chosen:
        return ds, None
    analysis = ds[chosen]
    analysis.attrs = json.loads(ds.attrs.get(_ANALYSIS_ATTR, "{}"))
    success = ds.drop_vars(chosen)
    success = success.drop_dims([d for d in _ANALYSIS_DIMS if d in success.dims])
    success.attrs = {k: v for k, v in ds.attrs.items() if k != _ANALYSIS_ATTR}
    return success, analysis
