"""Per-site results: the risk of each site (population) and how many sites stay occupied.

A species' sites are its populations. For each site: the probability that it is lost by year t —
that it has no individuals (site extinction), or that its count is at or below the species'
quasi-extinction threshold (the species' own risk measure, :mod:`pva.measures`, applied to the one
site), in some year from the site's founding to t — each a cumulative probability (the
quasi-extinction CDF of Morris & Doak 2002, section 7.3) with its Wilson (1927) interval
(:func:`pva.outcomes.binomial_interval`).

A site is counted from the year the scenario founds it: the first year in which some replicate of
that (species, scenario, site) has individuals (:func:`founding_year`). A site occupied at year 0
is founded at year 0, and its loss is then exactly :func:`pva.outcomes.quasi_extinction_probability`
of its counts. A site founded later (a translocation's second site) would otherwise read as lost
from year 0, being empty until it is founded; a replicate in which the founding failed (no
individuals in the founding year) counts as lost in that year. Years before the founding, and
scenarios that never found the site, hold NaN ("not founded" in the summary).

Occupancy is the number of sites with individuals in year t, a mean over replicates with its normal
interval (:func:`pva.outcomes.mean_trajectory`). Padding populations (a species with fewer sites
than the study's largest) hold NaN.

Per-site variables carry the ``population`` dimension (DESIGN's public contract for
``pva summary --json``), with the coordinate ``population_name``.

References
----------
Morris, W.F. & D.F. Doak. 2002. Quantitative Conservation Biology. Sinauer. Section 7.3.
Wilson, E.B. 1927. Probable inference, the law of succession, and statistical inference. Journal of
the American Statistical Association 22:209-212.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from pva import measures, outcomes, results
from pva.results import LOWER_SUFFIX, UPPER_SUFFIX


def site_counts(ds: xr.Dataset) -> dict[str, int]:
    """Number of sites (populations) of each species of ``ds`` (a results Dataset of ``pva run``
    or :func:`pva.simulate`)."""
    ds = results.study_layout(ds)
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


def founding_year(ds: xr.Dataset) -> xr.DataArray:
    """The year each scenario founds each site: the first year in which some replicate of that
    (species, scenario, site) has individuals, in years (0 for a site occupied at the start).

    Returns
    -------
    DataArray of dims (species, scenario, population) named ``site_founding_year``; NaN where the
    scenario never founds the site and for padding populations. ``ds`` is a results Dataset of
    ``pva run`` or :func:`pva.simulate`.
    """
    ds = results.study_layout(ds)
    occupied = (ds[results.TOTAL] > 0).any(results.REPLICATE)
    first = ds[results.YEAR].where(occupied).min(results.YEAR)
    dims = (results.SPECIES, results.SCENARIO, results.POPULATION)
    attrs = results.VARIABLE_ATTRS[results.SITE_FOUNDING_YEAR]
    out = first.where(_exists(ds)).astype(float).transpose(*dims).assign_attrs(attrs)
    return out.rename(results.SITE_FOUNDING_YEAR)


def site_curves(
    ds: xr.Dataset,
    risk: Mapping[str, measures.RiskMeasure] | None = None,
    *,
    confidence: float = 0.95,
) -> xr.Dataset:
    """P(site lost by year t), counted from the year the scenario founds the site, with Wilson
    intervals.

    Variables of dims (species, scenario, population, year): ``p_site_extinction``, the
    probability that the site has no individuals in some year from its founding to t, and
    ``p_site_quasi_extinction``, that its count (what the species' risk measure counts) is at or
    below the species' quasi-extinction threshold in some year from its founding to t; each with
    ``_lower`` and ``_upper``. NaN in the years before the founding, in scenarios that never found
    the site and for padding populations. Also ``site_founding_year`` (species, scenario,
    population) of :func:`founding_year`.

    For a site founded at year 0 these are :func:`pva.outcomes.extinction_probability` and
    :func:`pva.outcomes.quasi_extinction_probability` of the site's counts.

    Parameters
    ----------
    ds
        A results Dataset of ``pva run`` or :func:`pva.simulate`.
    risk
        :func:`pva.measures.risk_measures` of ``ds``; computed when not given.
    confidence
        Nominal coverage of the intervals.
    """
    ds = results.study_layout(ds)
    if risk is None:
        risk = measures.risk_measures(ds)
    founded = founding_year(ds)
    parts: dict[str, list[tuple[xr.DataArray, ...]]] = {
        results.P_SITE_EXTINCTION: [],
        results.P_SITE_QUASI_EXTINCTION: [],
    }
    for sp in results.names_of(ds, results.SPECIES):
        at = {results.SPECIES: sp}
        measure = risk[sp]
        for name, counted, threshold in (
            (results.P_SITE_EXTINCTION, ds[results.TOTAL], 0.0),
            (results.P_SITE_QUASI_EXTINCTION, ds[measure.counted.variable], measure.threshold),
        ):
            parts[name].append(
                _loss(counted.sel(at), threshold, founded.sel(at), confidence=confidence)
            )
    dims = (results.SPECIES, results.SCENARIO, results.POPULATION, results.YEAR)
    out = xr.Dataset()
    for name, by_species in parts.items():
        attrs = results.VARIABLE_ATTRS[name]
        for suffix, fields in zip(
            ("", LOWER_SUFFIX, UPPER_SUFFIX), zip(*by_species, strict=True), strict=True
        ):
            field = xr.concat(fields, dim=ds[results.SPECIES])
            out[name + suffix] = field.transpose(*dims).assign_attrs(attrs)
    out[results.SITE_FOUNDING_YEAR] = founded
    return out


def _loss(
    counted: xr.DataArray, threshold: float, founded: xr.DataArray, *, confidence: float
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """P(count at or below ``threshold`` in some year from ``founded`` to t) with its Wilson
    interval, NaN before ``founded``: of one species' ``counted`` (scenario, replicate, year,
    population) and its founding years (scenario, population)."""
    dims = (results.YEAR, results.SCENARIO, results.POPULATION)
    values = counted.transpose(results.REPLICATE, *dims).values
    years = counted[results.YEAR].values
    start = founded.transpose(*dims[1:]).values
    # NaN (never founded) compares False: such a site is never counted
    live = years[:, None, None] >= start[None, :, :]
    lost = np.logical_or.accumulate((values <= threshold) & live[None], axis=1)
    replicates = values.shape[0]
    count = lost.sum(axis=0)
    lower, upper = outcomes.binomial_interval(count, replicates, confidence=confidence)
    coords = {d: counted[d].values for d in dims}

    def wrapped(field: np.ndarray) -> xr.DataArray:
        return xr.DataArray(field, dims=dims, coords=coords).where(live)

    return wrapped(count / replicates), wrapped(lower), wrapped(upper)


def occupancy(ds: xr.Dataset, *, confidence: float = 0.95) -> xr.Dataset:
    """Mean number of sites with individuals in each year, with the normal interval of the mean:
    ``sites_occupied`` (and ``_lower``, ``_upper``) of dims (species, scenario, year). ``ds`` is a
    results Dataset of ``pva run`` or :func:`pva.simulate`."""
    ds = results.study_layout(ds)
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
    each with ``_lower``/``_upper``, ``site_founding_year`` (species, scenario, population), and
    the coordinates ``population_name`` and ``population_exists`` (species, population)."""
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
