"""The Red List Index of simulated categories, its interval and ΔRLI, category distributions and
transitions, and extinctions prevented.

References
----------
Butchart S.H.M. et al. (2004) Measuring global trends in the status of biodiversity: Red List Indices
for birds. PLoS Biology 2: e383. Butchart S.H.M. et al. (2007) Improvements to the Red List Index.
PLoS ONE 2: e140.
Bolam F.C. et al. (2021) How many bird and mammal extinctions has recent conservation action
prevented? Conservation Letters 14: e12762.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import results as names
from pva import validation
from pva.redlist.categories import (
    CATEGORIES,
    CATEGORY_CODES,
    CATEGORY_LABELS,
    CODE_TO_NAME,
    DEFAULT_WEIGHTS,
    category_code,
    category_name,
)


def _weight_table(
    weights: Mapping[str, float] | None, cr_pe_weight: float | None = None
) -> tuple[dict[str, float], float]:
    w = dict(DEFAULT_WEIGHTS)
    if weights is not None:
        for k, v in weights.items():
            if k not in DEFAULT_WEIGHTS:
                raise ValueError(
                    f"unknown category {k!r} in weights; expected keys of {list(DEFAULT_WEIGHTS)}"
                )
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"weight of {k!r} must be finite and >= 0; got {v!r}")
            w[k] = float(v)
    w_ex = w["EX"]
    if w_ex <= 0 or any(v > w_ex for v in w.values()):
        raise ValueError(f"the EX weight must be the largest and > 0; got weights {w!r}")
    # SDG indicator 15.5.1 metadata (4.c): CR tagged Possibly Extinct (in the Wild) weighs 5 = W_EX
    pe = w_ex if cr_pe_weight is None else float(cr_pe_weight)
    if not (np.isfinite(pe) and 0 <= pe <= w_ex):
        raise ValueError(f"cr_pe_weight must lie in [0, W_EX={w_ex}]; got {cr_pe_weight!r}")
    w["CR(PE)"] = w["CR(PEW)"] = pe
    return w, w_ex


def red_list_index(
    categories: Iterable[str | int],
    *,
    weights: Mapping[str, float] | None = None,
    cr_pe_weight: float | None = None,
) -> float:
    """Red List Index of a set of species (Butchart et al. 2004, 2007).

    ``RLI = 1 - sum_s W_c(s) / (W_EX * N)`` over the ``N`` species not Data Deficient or Not
    Evaluated, with weights LC 0, NT 1, VU 2, EN 3, CR 4, EW 5, EX 5 (and CR(PE), CR(PEW) 5). RLI = 1: every species LC;
    RLI = 0: every species extinct.

    Parameters
    ----------
    categories : iterable of str or int
        Category names (``"LC"`` .. ``"EX"``, ``"DD"``, ``"NE"``, ``"CR(PE)"``, ``"CR(PEW)"``) or
        ``int8`` codes; ``DD``, ``NE`` and ``not evaluable`` are excluded. Names are read without
        regard to case or surrounding spaces (``"en"`` is EN).
    weights : mapping, optional
        Replacement weights by category name (e.g. ``{"EW": 4.5}``); EX must keep the largest.
    cr_pe_weight : float, optional
        Weight of CR(PE) / CR(PEW), Critically Endangered tagged "Possibly Extinct (in the Wild)"
        (Butchart et al. 2006). Default: the EX weight, 5, as the Red List Index of SDG indicator
        15.5.1 counts them (UN SDG indicator metadata 15.5.1, section 4.c "Method of computation",
        update of 4 January 2021: they "are assigned a weight of 5"); 4 counts them as CR.

    Raises
    ------
    ValueError
        An unknown category (named in the message), or no species left after exclusions.

    Examples
    --------
    >>> red_list_index(["LC", "EN", "EX", "DD"])   # 1 - (0 + 3 + 5) / (5 * 3)
    0.4666666666666667
    """
    w, w_ex = _weight_table(weights, cr_pe_weight)
    if isinstance(categories, str):
        # A bare string would be iterated letter by letter and fail on "L" of "LC".
        raise TypeError(
            f"categories must be an iterable of category names or codes; got the string {categories!r}"
        )
    total = 0.0
    count = 0
    for c in categories:
        if isinstance(c, str):
            # Assessments typed by hand or exported from spreadsheets often use "en" or " EN ";
            # the IUCN codes themselves are case-insensitive abbreviations.
            key = c.strip().upper()
            if key in ("DD", "NE", "NOT EVALUABLE"):
                continue
            if key not in w:
                category_code(c)  # raises naming it
            total += w[key]
        else:
            if not validation.is_integer(c):
                raise TypeError(f"categories must hold category names or integer codes; got {c!r}")
            code = int(c)
            name = category_name(code)
            if code < 0:
                continue
            total += w[name]
        count += 1
    if count == 0:
        raise ValueError("red_list_index needs at least one species that is not DD or NE")
    return 1.0 - total / (w_ex * count)


def _weight_lookup(weights: Mapping[str, float] | None) -> tuple[npt.NDArray[np.float64], float]:
    """Weights indexed by code + 3 (codes -3..6); NaN for the excluded sentinels."""
    w, w_ex = _weight_table(weights)
    table = np.full(10, np.nan)
    for name in CATEGORIES:
        table[CATEGORY_CODES[name] + 3] = w[name]
    return table, w_ex


def _as_codes(categories: xr.DataArray) -> xr.DataArray:
    if not isinstance(categories, xr.DataArray):
        raise TypeError(f"categories must be an xarray.DataArray; got {type(categories).__name__}")
    vals = np.asarray(categories.values)
    if not np.issubdtype(vals.dtype, np.integer):
        raise ValueError(f"categories must hold integer category codes; got dtype {vals.dtype}")
    bad = ~np.isin(vals, list(CODE_TO_NAME))
    if np.any(bad):
        raise ValueError(f"unknown category code {int(vals[bad].ravel()[0])!r} in categories")
    return categories


def rli_by_replicate(
    categories: xr.DataArray,
    *,
    weights: Mapping[str, float] | None = None,
    groupby: Hashable | None = None,
) -> xr.DataArray:
    """Red List Index of the species jointly, per replicate (and year, scenario, ...), over one
    fixed set of species.

    The RLI is only comparable across years and replicates when "exactly the same set of species is
    included in all time periods" (UN SDG indicator metadata 15.5.1, 4.c; Butchart et al. 2007).
    The set here is every species of ``categories`` except those that are Data Deficient or Not
    Evaluated in every cell (a species list's DD and NE entries). Where a species of that set has no
    category (DD, NE or ``not evaluable``) at some (replicate, year, ...), the RLI there is NaN:
    it is never averaged over the species that happened to get a category.

    Parameters
    ----------
    categories : xarray.DataArray of int codes, dims including ``species`` (e.g. (species,
        replicate, year))
    weights : mapping, optional
        As in :func:`red_list_index`.
    groupby : hashable, optional
        Name of a coordinate on ``species`` (taxon, country, site): one RLI per group, along a new
        dim of that name (each group's own fixed set).

    Returns
    -------
    xarray.DataArray
        RLI with the ``species`` dim reduced; NaN where a species of the set has no category, or
        where the set is empty.
    """
    cats = _as_codes(categories)
    if names.SPECIES not in cats.dims:
        raise ValueError(f"categories must have a {names.SPECIES!r} dim; got dims {cats.dims}")
    if groupby is not None:
        if groupby not in cats.coords or cats[groupby].dims != (names.SPECIES,):
            raise ValueError(f"groupby={groupby!r} must name a coordinate on the species dim")
        return cats.groupby(groupby).map(lambda c: rli_by_replicate(c, weights=weights))
    table, w_ex = _weight_lookup(weights)
    others = [d for d in cats.dims if d != names.SPECIES]
    listed = ~cats.isin([CATEGORY_CODES["DD"], CATEGORY_CODES["NE"]]).all(others)
    members = cats.isel({names.SPECIES: np.flatnonzero(listed.values)})
    wts = xr.apply_ufunc(lambda c: table[np.asarray(c, dtype=np.int64) + 3], members)
    count = members.sizes[names.SPECIES]
    total = wts.sum(names.SPECIES, skipna=False)
    rli = 1.0 - total / (w_ex * count) if count else xr.full_like(total, np.nan, dtype=float)
    rli.name = names.RLI
    rli.attrs = {"units": "1", "long_name": "Red List Index", "species_counted": int(count)}
    return rli


def rli_summary(rli: xr.DataArray, *, level: float = 0.95) -> xr.Dataset:
    """Mean, Monte Carlo standard error and central interval of an RLI over replicates.

    Parameters
    ----------
    rli : xarray.DataArray with a ``replicate`` dim
        E.g. from :func:`rli_by_replicate`.
    level : float
        Coverage of the interval of the replicate distribution (percentiles
        ``(1 - level) / 2`` and ``(1 + level) / 2``): the range of RLI values the study's futures
        span, not a confidence interval of the mean (that is ``mean +/- 1.96 mcse``).

    Returns
    -------
    xarray.Dataset
        ``mean``, ``mcse``, ``lower``, ``upper`` with the ``replicate`` dim reduced.
    """
    return _paired_summary(rli, level)


def _paired_summary(x: xr.DataArray, level: float) -> xr.Dataset:
    if not (0 < level < 1):
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    if names.REPLICATE not in x.dims:
        raise ValueError(f"expected a {names.REPLICATE!r} dim; got dims {x.dims}")
    with warnings.catch_warnings():
        # years where no replicate has an RLI give NaN, which is the documented answer
        warnings.simplefilter("ignore", RuntimeWarning)
        q = x.quantile([(1 - level) / 2, (1 + level) / 2], dim=names.REPLICATE, skipna=True)
        mean = x.mean(names.REPLICATE, skipna=True)
        sd = x.std(names.REPLICATE, ddof=1, skipna=True)
    count = x.notnull().sum(names.REPLICATE)
    ds = xr.Dataset(
        {
            "mean": mean,
            "mcse": sd / np.sqrt(count),
            "lower": q.isel(quantile=0, drop=True),
            "upper": q.isel(quantile=1, drop=True),
        }
    )
    ds.attrs["interval_level"] = level
    return ds


def delta_rli(
    categories_action: xr.DataArray,
    categories_no_action: xr.DataArray,
    *,
    level: float = 0.95,
    weights: Mapping[str, float] | None = None,
    groupby: Hashable | None = None,
) -> xr.Dataset:
    """ΔRLI = RLI(action) - RLI(no action), paired over replicates.

    Replicate ``r`` of both scenarios shares its random numbers (common random numbers), so the
    difference is taken per replicate before summarising, which removes the shared noise.

    Returns
    -------
    xarray.Dataset
        ``delta`` (per replicate), ``mean``, ``mcse``, ``lower``, ``upper`` (see :func:`rli_summary`)
        and ``p_improved``: the fraction of replicates with ΔRLI > 0.
    """
    a = rli_by_replicate(categories_action, weights=weights, groupby=groupby)
    b = rli_by_replicate(categories_no_action, weights=weights, groupby=groupby)
    if a.sizes != b.sizes:
        raise ValueError(
            f"the two scenarios must have the same shape; got {dict(a.sizes)} and {dict(b.sizes)}"
        )
    d = a - b
    ds = _paired_summary(d, level)
    ds["delta"] = d
    ds["p_improved"] = (d > 0).where(d.notnull()).mean(names.REPLICATE)
    return ds


# ---------------------------------------------------------------------------------------------------
# distributions and transitions


def _codes_dataarray(categories: Any) -> xr.DataArray:
    if isinstance(categories, xr.DataArray):
        return _as_codes(categories)
    a = np.asarray(categories)
    if a.ndim != 2:
        raise ValueError(f"categories must be (replicate, year); got shape {a.shape}")
    return _as_codes(xr.DataArray(a, dims=(names.REPLICATE, names.YEAR)))


def _one_hot(cats: xr.DataArray, dim: str) -> xr.DataArray:
    codes = xr.DataArray(
        np.array([CATEGORY_CODES[c] for c in CATEGORY_LABELS], dtype=np.int8),
        dims=dim,
        coords={dim: list(CATEGORY_LABELS)},
    )
    return (cats == codes).astype(np.int64)


def category_distribution(categories: Any, *, normalize: bool = True) -> xr.DataArray:
    """Distribution of categories over replicates, per year (and any other dim).

    Parameters
    ----------
    categories : xarray.DataArray with a ``replicate`` dim, or array (replicate, year)
        Category codes.
    normalize : bool
        Fractions of replicates (True) or counts (False).

    Returns
    -------
    xarray.DataArray
        Dims: the input's without ``replicate``, plus ``category`` (labels
        :data:`CATEGORY_LABELS`); e.g. (year, category).
    """
    cats = _codes_dataarray(categories)
    if names.REPLICATE not in cats.dims:
        raise ValueError(f"categories must have a {names.REPLICATE!r} dim; got dims {cats.dims}")
    counts = _one_hot(cats, "category").sum(names.REPLICATE)
    out = counts / cats.sizes[names.REPLICATE] if normalize else counts
    out.name = "category_fraction" if normalize else "category_count"
    out.attrs = {"units": "1", "long_name": "fraction of replicates" if normalize else "replicates"}
    return out


def transition_matrix(
    categories: Any, year_from: int, year_to: int, *, normalize: bool = True
) -> xr.DataArray:
    """P(category at ``year_to`` | category at ``year_from``), estimated over replicates.

    Parameters
    ----------
    categories : xarray.DataArray with dims including ``replicate`` and ``year``, or array
        (replicate, year) whose columns are years 0..T.
    year_from, year_to : int
        Years (labels of the ``year`` coordinate).
    normalize : bool
        Conditional probabilities (rows sum to 1 where the origin category occurs, NaN rows
        otherwise) or counts.

    Returns
    -------
    xarray.DataArray
        Dims (..., category_from, category_to).
    """
    cats = _codes_dataarray(categories)
    for label, y in (("year_from", year_from), ("year_to", year_to)):
        if y not in cats[names.YEAR].values:
            raise ValueError(f"{label}={y!r} is not a year of categories")
    c0 = _one_hot(cats.sel({names.YEAR: year_from}, drop=True), names.CATEGORY_FROM)
    c1 = _one_hot(cats.sel({names.YEAR: year_to}, drop=True), names.CATEGORY_TO)
    counts = xr.dot(c0, c1, dim=names.REPLICATE)
    if not normalize:
        return counts
    rows = counts.sum(names.CATEGORY_TO)
    out = (counts / rows).where(rows > 0)
    out.name = "transition_probability"
    out.attrs = {"units": "1", "year_from": int(year_from), "year_to": int(year_to)}
    return out


# ---------------------------------------------------------------------------------------------------
# extinctions prevented


@dataclasses.dataclass(frozen=True)
class ExtinctionsPrevented:
    """Extinctions prevented by an action (the quantity Bolam et al. 2021 elicited from experts)."""

    expected: float
    """E[extinctions under no action - extinctions under action] (species)."""
    mcse: float
    """Monte Carlo standard error of ``expected`` (paired replicates)."""
    ci: tuple[float, float]
    """Normal-approximation confidence interval of ``expected`` at ``level``."""
    interval: tuple[float, float]
    """Central interval of the per-replicate number prevented at ``level`` (the spread of
    outcomes)."""
    p_at_least_one: float
    """Fraction of replicates in which at least one species extinct under no action survives under
    action."""
    p_fewer: float
    """Fraction of replicates in which the action has fewer extinctions in total."""
    per_replicate: npt.NDArray[np.int64]
    """Extinctions prevented in each replicate (may be negative)."""
    level: float = 0.95


def extinctions_prevented(
    extinct_no_action: npt.ArrayLike, extinct_action: npt.ArrayLike, *, level: float = 0.95
) -> ExtinctionsPrevented:
    """Expected extinctions prevented, paired over replicates.

    Parameters
    ----------
    extinct_no_action, extinct_action : array_like of bool, shape (species, replicate)
        Whether each species is extinct by the horizon in each replicate. Replicate ``r`` of the two
        scenarios shares its random numbers (common random numbers), so differences are per replicate.
    level : float
        Coverage of the intervals.

    Returns
    -------
    ExtinctionsPrevented
        With ``p_at_least_one`` defined species by species: the fraction of replicates where some
        species extinct under no action survives under the action (a prevented extinction, not only a
        lower count, which an extinction caused elsewhere could mask).
    """
    from scipy import stats

    no = np.asarray(
        extinct_no_action.values
        if isinstance(extinct_no_action, xr.DataArray)
        else extinct_no_action
    )
    act = np.asarray(
        extinct_action.values if isinstance(extinct_action, xr.DataArray) else extinct_action
    )
    for field, a in (("extinct_no_action", no), ("extinct_action", act)):
        if a.dtype != bool:
            raise ValueError(f"{field} must be boolean; got dtype {a.dtype}")
        if a.ndim != 2:
            raise ValueError(f"{field} must be (species, replicate); got shape {a.shape}")
    if no.shape != act.shape:
        raise ValueError(
            f"shapes differ: extinct_no_action {no.shape} vs extinct_action {act.shape}"
        )
    if not (0 < level < 1):
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    d = no.sum(axis=0).astype(np.int64) - act.sum(axis=0).astype(np.int64)
    reps = d.size
    mean = float(d.mean())
    se = float(d.std(ddof=1) / np.sqrt(reps)) if reps > 1 else float("nan")
    z = float(stats.norm.ppf((1 + level) / 2))
    lo, hi = np.quantile(d, [(1 - level) / 2, (1 + level) / 2])
    return ExtinctionsPrevented(
        expected=mean,
        mcse=se,
        ci=(mean - z * se, mean + z * se),
        interval=(float(lo), float(hi)),
        p_at_least_one=float(np.any(no & ~act, axis=0).mean()),
        p_fewer=float((d > 0).mean()),
        per_replicate=d,
        level=level,
    )
