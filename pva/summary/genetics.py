"""Genetic results: gene diversity kept, inbreeding, and GSAP action 4.5's 95% target.

A species' gene diversity in a replicate and year is the mean of its sites' gene diversity
(``gene_diversity``, recorded by the engine for a species with :class:`~pva.model.Genetics`)
weighted by the sites' individuals: the mean within-site gene diversity ``H_S`` of Nei (1973).
The gene diversity of the species as a whole, ``H_T = H_S + D_ST``, is at least this; the engine
keeps no allele frequencies, so the divergence ``D_ST`` between sites is left out (the conservative
side). "Kept" is the species' gene diversity in a year over its value in year 0.

From it, at each horizon:

* ``gene_diversity_kept`` and ``mean_inbreeding`` (``F = 1 - H``): means over the replicates in
  which the species is extant, with the normal interval of the mean;
* ``p_gene_diversity_target``: the probability that the species is extant with at least 95% of its
  initial gene diversity (GSAP 2020 action 4.5; GBF Target 4), extinction counting as a failure,
  with its Wilson interval (:func:`pva.outcomes.binomial_interval`);
* ``years_above_gene_diversity_target``: the expected number of years until the gene diversity
  first falls below 95% of its initial value or the species dies out, counted to the final year at
  most (``E[min(T, final)]``, the restricted mean; the plain mean when every replicate falls below
  within the projection), with its normal interval;
* for a species with several sites, ``site_gene_diversity`` (population): each site's mean gene
  diversity over the replicates in which it has individuals.

References: Nei, M. 1973. Analysis of gene diversity in subdivided populations. PNAS 70:3321-3323.
IUCN SSC, Global Species Action Plan (GSAP), action 4.5 (retain at least 95% of gene diversity);
CBD 2022, Kunming-Montreal Global Biodiversity Framework, Target 4.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import outcomes, results
from pva.results import LOWER_SUFFIX, UPPER_SUFFIX
from pva.summary import sites

FloatArray = npt.NDArray[np.float64]


def has_genetics(ds: xr.Dataset) -> bool:
    """Whether ``ds`` holds gene diversity for some species."""
    return results.GENE_DIVERSITY in ds and bool(np.isfinite(ds[results.GENE_DIVERSITY]).any())


def species_gene_diversity(ds: xr.Dataset) -> xr.DataArray:
    """The species' gene diversity (species, scenario, replicate, year): its sites' mean weighted by
    their individuals, NaN where it has no individuals or no genetics."""
    h = ds[results.GENE_DIVERSITY]
    n = ds[results.TOTAL].astype(float).where(np.isfinite(h), 0.0)
    weight = n.sum(results.POPULATION)
    total = (h.fillna(0.0) * n).sum(results.POPULATION)
    return (total / weight).where(weight > 0)


def gene_diversity_kept(ds: xr.Dataset) -> xr.DataArray:
    """The species' gene diversity over its value in year 0 (species, scenario, replicate, year)."""
    h = species_gene_diversity(ds)
    return h / h.isel({results.YEAR: 0})


def _mean_and_interval(
    values: xr.DataArray, z: float
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Mean over replicates of the finite ``values`` with its normal interval."""
    count = np.isfinite(values).sum(results.REPLICATE)
    with warnings.catch_warnings():  # no finite value (extinct everywhere, no genetics): NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = values.mean(results.REPLICATE, skipna=True)
        se = values.std(results.REPLICATE, ddof=1, skipna=True) / np.sqrt(count)
    return mean, mean - z * se, mean + z * se


def _first_below(kept: FloatArray, years: FloatArray) -> FloatArray:
    """Year in which ``kept`` (..., replicate, year) first falls below the target or is NaN (the
    species is gone), the final year where it never does: ``min(T, final)``."""
    below = ~(kept >= results.GENE_DIVERSITY_TARGET)
    below[..., 0] = False  # year 0 is the reference itself
    hit = below.any(axis=-1)
    first = np.argmax(below, axis=-1)
    return np.where(hit, years[first], years[-1])


def add_genetics(table: xr.Dataset, ds: xr.Dataset, years: list[int], *, confidence: float) -> None:
    """Add the genetic variables at the horizons ``years`` to a summary ``table`` in place when
    ``ds`` has gene diversity (see the module docstring); nothing otherwise."""
    if not has_genetics(ds):
        return
    z = outcomes.z_score(confidence)
    kept = gene_diversity_kept(ds)
    # species with genetics (the others hold NaN throughout)
    genetic = np.isfinite(kept.isel({results.YEAR: 0}, drop=True)).any(
        [results.SCENARIO, results.REPLICATE]
    )
    at = {results.YEAR: years}

    def horizon(da: xr.DataArray) -> xr.DataArray:
        out = da.sel(at).rename({results.YEAR: results.HORIZON})
        return out.assign_coords({results.HORIZON: np.asarray(years)})

    h = species_gene_diversity(ds)
    for name, values in (
        (results.GENE_DIVERSITY_KEPT, kept),
        (results.MEAN_INBREEDING, 1.0 - h),
    ):
        mean, lower, upper = _mean_and_interval(horizon(values), z)
        _put(table, name, mean, lower, upper, dims=_DIMS_HORIZON)

    replicates = int(ds.sizes[results.REPLICATE])
    met = horizon(kept >= results.GENE_DIVERSITY_TARGET)  # NaN (extinct) compares False
    count = met.sum(results.REPLICATE)
    low, high = outcomes.binomial_interval(count.values, replicates, confidence=confidence)
    _put(
        table,
        results.P_GENE_DIVERSITY_TARGET,
        (count / replicates).where(genetic),
        count.copy(data=low).where(genetic),
        count.copy(data=high).where(genetic),
        dims=_DIMS_HORIZON,
    )

    final = float(ds[results.YEAR].values[-1])
    until = xr.apply_ufunc(
        _first_below,
        kept,
        kwargs={"years": np.asarray(ds[results.YEAR].values, dtype=float)},
        input_core_dims=[[results.YEAR]],
    ).where(genetic)
    mean, lower, upper = _mean_and_interval(until, z)
    _put(table, results.YEARS_ABOVE_GENE_DIVERSITY_TARGET, mean, lower, upper, dims=_DIMS)
    table[results.YEARS_ABOVE_GENE_DIVERSITY_TARGET].attrs["final_year"] = final

    if sites.has_sites(ds):
        site_h = horizon(ds[results.GENE_DIVERSITY])
        mean, lower, upper = _mean_and_interval(site_h, z)
        _put(table, results.SITE_GENE_DIVERSITY, mean, lower, upper, dims=_DIMS_SITE)


_DIMS = (results.SPECIES, results.SCENARIO)
_DIMS_HORIZON = (*_DIMS, results.HORIZON)
_DIMS_SITE = (*_DIMS, results.POPULATION, results.HORIZON)


def _put(
    table: xr.Dataset,
    name: str,
    estimate: xr.DataArray,
    lower: xr.DataArray,
    upper: xr.DataArray,
    *,
    dims: tuple[str, ...],
) -> None:
    attrs = results.VARIABLE_ATTRS[name]
    for suffix, field in (("", estimate), (LOWER_SUFFIX, lower), (UPPER_SUFFIX, upper)):
        var = field.transpose(*dims).assign_attrs(attrs)
        table[name + suffix] = var.drop_vars(
            [c for c in var.coords if c not in var.dims and c != results.POPULATION_NAME]
        )
