"""Per-site results: the risk of each site (population) and how many sites stay occupied.

A species' sites are its populations. For each site: the probability that it has no individuals
left by year t (site extinction) and that its count falls to the species' quasi-extinction
threshold (the species' own risk measure, :mod:`pva.measures`, applied to the one site), each a
cumulative probability with its Wilson interval (:func:`pva.outcomes.quasi_extinction_probability`).
Occupancy is the number of sites with individuals in year t, a mean over replicates with its normal
interval (:func:`pva.outcomes.mean_trajectory`). Padding populations (a species with fewer sites
than the study's largest) hold NaN.

Per-site variables carry the ``population`` dimension (DESIGN's public contract for
``pva summary --json``), with the coordinate ``population_name``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from pva import measures, outcomes, results
from pva.results import LOWER_SUFFIX, UPPER_SUFFIX


def site_counts(ds: xr.Dataset) -> dict[str, int]:
    """Number of sites (populations) of each species of ``ds`` (study layout)."""
    species = results.names_of(ds, results.SPECIES)
    if results.POPULATION_EXISTS not in ds:
        return dict.fromkeys(species, int(ds.sizes[results.POPULATION]))
    exists = ds[results.POPULATION_EXISTS]
    return {sp: int(exists.sel({results.SPECIES: sp}).sum()) for sp in species}


def has_sites(ds: xr.Dataset) -> bool:
    """Whether some species of ``ds`` has more than one site."""
    return any(n > 1 for n in site_counts(ds).values())


def _exists(ds: xr.Dataset) -> xr.DataArray:
    if results.POPULATION_EXISTS in ds:
        return ds[results.POPULATION_EXISTS].astype(bool)
    return xr.ones_like(ds[results.POPULATION], dtype=bool).expand_dims(
        {results.SPECIES: ds[results.SPECIES].values}
    )


def site_curves(
    ds: xr.Dataset,
    risk: Mapping[str, measures.RiskMeasure],
    *,
    confidence: float = 0.95,
) -> xr.Dataset:
    """P(site extinct by year t) and P(site at or below the species' threshold by year t), with
    intervals: variables ``p_site_extinction`` and ``p_site_quasi_extinction`` (and ``_lower``,
    ``_upper``) of dims (species, scenario, population, year); NaN for padding populations.

    ``ds`` is in the study layout; ``risk`` is :func:`pva.measures.risk_measures` of it.
    """
    exists = _exists(ds)
    dims = (results.SPECIES, results.SCENARIO, results.POPULATION, results.YEAR)
    extinct = outcomes.extinction_probability(ds[results.TOTAL], confidence=confidence)
    quasi_parts: list[list[xr.DataArray]] = [[], [], []]
    for sp in results.names_of(ds, results.SPECIES):
        measure = risk[sp]
        counted = ds[measure.counted.variable].sel({results.SPECIES: [sp]})
        est = outcomes.quasi_extinction_probability(
            counted, measure.threshold, confidence=confidence
        )
        for part, field in zip(quasi_parts, (est.estimate, est.lower, est.upper), strict=True):
            part.append(field)
    quasi = [xr.concat(p, dim=results.SPECIES) for p in quasi_parts]
    out = xr.Dataset()
    for name, fields in (
        (results.P_SITE_EXTINCTION, (extinct.estimate, extinct.lower, extinct.upper)),
        (results.P_SITE_QUASI_EXTINCTION, tuple(quasi)),
    ):
        attrs = results.VARIABLE_ATTRS[name]
        for suffix, field in zip(("", LOWER_SUFFIX, UPPER_SUFFIX), fields, strict=True):
            out[name + suffix] = field.where(exists).transpose(*dims).assign_attrs(attrs)
    return out


def occupancy(ds: xr.Dataset, *, confidence: float = 0.95) -> xr.Dataset:
    """Mean number of sites with individuals in each year, with the normal interval of the mean:
    ``sites_occupied`` (and ``_lower``, ``_upper``) of dims (species, scenario, year)."""
    occupied = (ds[results.TOTAL] > 0).where(_exists(ds), False).sum(results.POPULATION)
    est = outcomes.mean_trajectory(occupied.astype(float), confidence=confidence)
    dims = (results.SPECIES, results.SCENARIO, results.YEAR)
    attrs = results.VARIABLE_ATTRS[results.SITES_OCCUPIED]
    return xr.Dataset(
        {
            results.SITES_OCCUPIED + suffix: field.transpose(*dims).assign_attrs(attrs)
            for suffix, field in (
                ("", est.estimate),
                (LOWER_SUFFIX, est.lower),
                (UPPER_SUFFIX, est.upper),
            )
        }
    )


def add_sites(
    table: xr.Dataset,
    ds: xr.Dataset,
    years: list[int],
    risk: Mapping[str, measures.RiskMeasure],
    *,
    confidence: float,
) -> None:
    """Add the per-site variables at the horizons ``years`` to a summary ``table`` in place, when
    some species has more than one site: ``p_site_extinction``, ``p_site_quasi_extinction``
    (species, scenario, population, horizon), ``sites_occupied`` (species, scenario, horizon),
    each with ``_lower``/``_upper``, and the coordinates ``population_name`` and
    ``population_exists`` (species, population)."""
    if not has_sites(ds):
        return
    for part in (
        site_curves(ds, risk, confidence=confidence),
        occupancy(ds, confidence=confidence),
    ):
        at = part.sel({results.YEAR: years}).rename({results.YEAR: results.HORIZON})
        at = at.assign_coords({results.HORIZON: np.asarray(years)})
        for name, var in at.data_vars.items():
            table[name] = var.drop_vars(
                [c for c in var.coords if c not in var.dims and c != results.POPULATION_NAME]
            )
    if results.POPULATION_NAME in ds.coords:
        table.coords[results.POPULATION_NAME] = ds[results.POPULATION_NAME]
    table.coords[results.POPULATION_EXISTS] = _exists(ds)
