"""Dataset-level assessment: every species and scenario of a results Dataset classified, and the RLI."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from pva import results as names
from pva.redlist.categories import category_attrs
from pva.redlist.classification import classify
from pva.redlist.criteria import E_WINDOW, E_WINDOWS, EXTINCTION_RISK
from pva.redlist.index import rli_by_replicate
from pva.redlist.inputs import check_generation_length
from pva.redlist.settings import CriterionA, RedListSettings


def assess(
    results: xr.Dataset,
    *,
    criterion_a: CriterionA | Iterable[CriterionA] = "A3",
    settings: RedListSettings | None = None,
    weights: Mapping[str, float] | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """Classify every species and scenario of a results Dataset and compute the RLI.

    Parameters
    ----------
    results : xarray.Dataset
        With ``mature_abundance`` (species, scenario, replicate, year[, population]) and
        ``generation_length`` (species, years), as ``pva run`` writes; or the Dataset of
        :func:`pva.simulate`, whose generation length is read from its species specification
        (``attrs["spec"]``). A ``generation_length=`` keyword (years) overrides both.
        ``total_abundance``, when present, makes EX need no
        individuals at all. Optional per-species variables ``locations``,
        ``plausible_threat``, ``eoo``, ``aoo`` and ``severely_fragmented`` are passed on to
        :func:`classify` (NaN or missing: not given). Missing ``species`` or ``scenario`` dims are
        treated as length one. An optional ``extinction_risk`` (species, scenario, replicate, year,
        window) with windows "CR", "EN", "VU" (nested simulations, see :mod:`pva.nested` and the
        study file's ``[outputs.red_list_e]``) is passed as ``extinction_probability`` with
        ``partial_extinction_probability=True`` (unless ``extinction_probability`` is given): E is
        evaluated from it at the years it covers and as without it at the others.
    criterion_a, settings
        As in :func:`classify`; other keyword arguments go to :func:`classify` for every species.
    weights : mapping, optional
        RLI weights (:func:`red_list_index`).

    Returns
    -------
    xarray.Dataset
        ``category`` (species, scenario, replicate, year) int8 with CF flag attributes,
        ``criteria`` strings, ``complete`` and ``red_list_index`` (scenario, replicate, year).
    """
    if names.MATURE not in results:
        raise ValueError(
            f"results must hold {names.MATURE!r}; got variables {list(results.data_vars)}"
        )
    given_gl = kwargs.pop("generation_length", None)
    if given_gl is not None:
        gl_source: xr.DataArray = xr.DataArray(check_generation_length(given_gl))
    elif names.GENERATION_LENGTH in results:
        gl_source = results[names.GENERATION_LENGTH]
    else:
        # The Dataset of pva.simulate has no generation_length variable, but its species
        # specification (attrs["spec"]) holds the one the Species computed or was given.
        try:
            spec_gl = json.loads(results.attrs[names.ATTR_SPEC])["species"]["generation_length"]
        except (KeyError, TypeError, ValueError):
            spec_gl = None
        if spec_gl is None:
            raise ValueError(
                f"results must hold {names.GENERATION_LENGTH!r} (species), or pass "
                "generation_length= (years)"
            )
        gl_source = xr.DataArray(check_generation_length(spec_gl))
    mature = results[names.MATURE]
    for dim in (names.SPECIES, names.SCENARIO):
        if dim not in mature.dims:
            mature = mature.expand_dims(dim)
    order = [names.SPECIES, names.SCENARIO, names.REPLICATE, names.YEAR]
    if names.POPULATION in mature.dims:
        order.append(names.POPULATION)
    extra = set(mature.dims) - set(order)
    if extra:
        raise ValueError(f"{names.MATURE} has unexpected dims {sorted(extra)}")
    mature = mature.transpose(*order)
    total = None
    if names.TOTAL in results:
        # EX needs no individuals at all, immatures included (see classify)
        total = results[names.TOTAL]
        if names.POPULATION in total.dims:
            total = total.sum(names.POPULATION)
        for dim in (names.SPECIES, names.SCENARIO):
            if dim not in total.dims:
                total = total.expand_dims(dim)
        total = total.transpose(*order[:4])
    gl = gl_source
    if names.SPECIES not in gl.dims:
        gl = gl.expand_dims({names.SPECIES: mature.sizes[names.SPECIES]})
    years = np.asarray(mature[names.YEAR].values) if names.YEAR in mature.coords else None
    years_before = int(-years.min()) if years is not None and years.min() < 0 else 0

    risk = None
    if EXTINCTION_RISK in results and "extinction_probability" not in kwargs:
        risk = results[EXTINCTION_RISK]
        for dim in (names.SPECIES, names.SCENARIO):
            if dim not in risk.dims:
                risk = risk.expand_dims(dim)
        if set(risk.dims) != {*order[:4], E_WINDOW}:
            raise ValueError(
                f"{EXTINCTION_RISK} must have dims {(*order[:4], E_WINDOW)}; got {risk.dims}"
            )
        risk = risk.transpose(*order[:4], E_WINDOW).sel({E_WINDOW: list(E_WINDOWS)})
        if names.YEAR in mature.coords and names.YEAR in risk.coords:
            risk = risk.reindex({names.YEAR: mature[names.YEAR].values})

    ns, nsc, nr, ny = (mature.sizes[d] for d in order[:4])
    category = np.empty((ns, nsc, nr, ny), dtype=np.int8)
    criteria = np.empty((ns, nsc, nr, ny), dtype=object)
    complete = np.empty((ns, nsc, nr, ny), dtype=bool)
    notes: set[str] = set()
    optional = ("locations", "plausible_threat", "eoo", "aoo", "severely_fragmented")
    for i in range(ns):
        per_species: dict[str, Any] = {}
        for key in optional:
            if key in results and names.SPECIES in results[key].dims:
                v = results[key].isel({names.SPECIES: i}).item()
                if v is not None and not (isinstance(v, float) and np.isnan(v)):
                    per_species[key] = (
                        int(v)
                        if key == "locations"
                        else (
                            bool(v)
                            if key in ("plausible_threat", "severely_fragmented")
                            else float(v)
                        )
                    )
        for j in range(nsc):
            nested: dict[str, Any] = {}
            if risk is not None:
                nested = {
                    "extinction_probability": risk.isel(
                        {names.SPECIES: i, names.SCENARIO: j}
                    ).values,
                    "partial_extinction_probability": True,
                }
            c = classify(
                mature.isel({names.SPECIES: i, names.SCENARIO: j}).values,
                total=None
                if total is None
                else total.isel({names.SPECIES: i, names.SCENARIO: j}).values,
                generation_length=float(gl.isel({names.SPECIES: i}).item()),
                years_before=years_before,
                criterion_a=criterion_a,
                settings=settings,
                **per_species,
                **nested,
                **kwargs,
            )
            category[i, j] = c.category
            criteria[i, j] = c.criteria
            complete[i, j] = c.complete
            notes.update(c.notes)
    coords = {d: mature[d] for d in order[:4] if d in mature.coords}
    dims4 = tuple(order[:4])
    out = xr.Dataset(
        {
            names.CATEGORY: (dims4, category, category_attrs()),
            names.CRITERIA: (dims4, criteria.astype(str), {"long_name": "Red List criteria met"}),
            "complete": (dims4, complete, {"long_name": "every evaluated criterion was evaluable"}),
        },
        coords=coords,
        attrs={"notes": "; ".join(sorted(notes))},
    )
    out[names.RLI] = rli_by_replicate(out[names.CATEGORY], weights=weights)
    return out
