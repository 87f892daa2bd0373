"""Dataset-level assessment: every species and scenario of a results Dataset classified, and the RLI."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from pva import results as names
from pva.redlist.categories import NE, NOT_EVALUABLE, category_attrs
from pva.redlist.classification import DEFAULT_CRITERION_A, assessment_years, classify
from pva.redlist.criteria import CRITERIA
from pva.redlist.index import rli_by_replicate
from pva.redlist.inputs import check_generation_length
from pva.redlist.settings import CriterionA, RedListSettings
from pva.results import (
    CRITERION,
    CRITERION_LEVEL,
    E_WINDOW,
    E_WINDOWS,
    EXTINCTION_RISK,
    LEAD,
    PROJECTED_MATURE,
)


def assess(
    results: xr.Dataset,
    *,
    criterion_a: CriterionA | Iterable[CriterionA] = DEFAULT_CRITERION_A,
    settings: RedListSettings | None = None,
    weights: Mapping[str, float] | None = None,
    quasi_extinction: bool | None = None,
    years: Sequence[int] | None = None,
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
        ``plausible_threat``, ``eoo``, ``aoo``, ``severely_fragmented`` and ``continuing_decline``
        (a decline the user knows of, instead of the trend test) are passed on to
        :func:`classify` (NaN or missing: not given). Missing ``species`` or ``scenario`` dims are
        treated as length one. The nested projections of ``pva run`` with
        ``[outputs.red_list_e]`` (:mod:`pva.nested`) are read where present: ``extinction_risk``
        (species, scenario, replicate, year, window) with windows "CR", "EN", "VU" is passed as
        ``extinction_probability`` with ``partial_extinction_probability=True`` (unless
        ``extinction_probability`` is given): E is evaluated from it at the years it covers and as
        without it at the others; ``projected_mature`` (species, scenario, replicate, year, lead)
        is passed as ``projected_mature`` (unless given): A3, A4 and projected C1 at the years it
        covers.
    criterion_a, settings
        As in :func:`classify`; other keyword arguments go to :func:`classify` for every species.
    weights : mapping, optional
        RLI weights (:func:`red_list_index`).
    quasi_extinction : bool, optional
        If True, criterion E counts a future as extinct at each species'
        ``quasi_extinction_threshold`` (results variable) on what the study's
        ``quasi_extinction_on`` counts; if False, at no individuals at all (the event of EX and of
        extinctions prevented). Default: as the nested ``extinction_risk`` was computed (its
        ``quasi_extinction`` attribute, the study's ``[outputs.red_list_e] quasi_extinction``),
        else False. A value that contradicts the nested ``extinction_risk`` raises
        :class:`ValueError`: E would mean two events at different years.
    years : sequence of int, optional
        Assess at these years only (values of the ``year`` coordinate); each is classified as it
        is among every year's (:func:`classify`), at a fraction of the cost. Default: every year.

    Returns
    -------
    xarray.Dataset
        ``category`` (species, scenario, replicate, year) int8 with CF flag attributes,
        ``criteria`` strings, ``complete``, ``not_evaluated`` (the sub-criteria that could not be
        evaluated, :attr:`Classification.not_evaluated`), ``criterion_level`` (species, scenario,
        replicate, year, criterion) int8 (:attr:`Classification.levels`: the level each
        sub-criterion of :data:`CRITERIA` met, ``NE`` where it was not evaluated,
        ``NOT_EVALUABLE`` where its window was not covered) and ``red_list_index`` (scenario,
        replicate, year) over the fixed set of species (:func:`rli_by_replicate`).
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
    year_values = np.asarray(mature[names.YEAR].values) if names.YEAR in mature.coords else None
    years_before = (
        int(-year_values.min()) if year_values is not None and year_values.min() < 0 else 0
    )

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

    projected = None
    if PROJECTED_MATURE in results and "projected_mature" not in kwargs:
        projected = results[PROJECTED_MATURE]
        for dim in (names.SPECIES, names.SCENARIO):
            if dim not in projected.dims:
                projected = projected.expand_dims(dim)
        if set(projected.dims) != {*order[:4], LEAD}:
            raise ValueError(
                f"{PROJECTED_MATURE} must have dims {(*order[:4], LEAD)}; got {projected.dims}"
            )
        projected = projected.transpose(*order[:4], LEAD)
        if names.YEAR in mature.coords and names.YEAR in projected.coords:
            projected = projected.reindex({names.YEAR: mature[names.YEAR].values})
    base = RedListSettings() if settings is None else settings
    species_settings = [base] * mature.sizes[names.SPECIES]
    quasi_extinction = _quasi_extinction_choice(quasi_extinction, risk)
    if quasi_extinction:
        species_settings = _quasi_extinction_settings(results, base, mature.sizes[names.SPECIES])

    ns, nsc, nr, ny = (mature.sizes[d] for d in order[:4])
    # the year coordinate runs from -years_before, one column a year (as classify reads it)
    last = ny - 1 - years_before
    chosen = None if years is None else assessment_years(years, -years_before, last)
    if chosen is not None:
        ny = len(chosen)
    category = np.empty((ns, nsc, nr, ny), dtype=np.int8)
    criteria = np.empty((ns, nsc, nr, ny), dtype=object)
    complete = np.empty((ns, nsc, nr, ny), dtype=bool)
    missing = np.empty((ns, nsc, nr, ny), dtype=object)
    level = np.empty((ns, nsc, nr, ny, len(CRITERIA)), dtype=np.int8)
    notes: set[str] = set()
    optional = (
        "locations",
        "plausible_threat",
        "eoo",
        "aoo",
        "severely_fragmented",
        "continuing_decline",
    )
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
                            if key
                            in ("plausible_threat", "severely_fragmented", "continuing_decline")
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
            if projected is not None:
                nested["projected_mature"] = projected.isel(
                    {names.SPECIES: i, names.SCENARIO: j}
                ).values
            c = classify(
                mature.isel({names.SPECIES: i, names.SCENARIO: j}).values,
                total=None
                if total is None
                else total.isel({names.SPECIES: i, names.SCENARIO: j}).values,
                generation_length=float(gl.isel({names.SPECIES: i}).item()),
                years_before=years_before,
                criterion_a=criterion_a,
                settings=species_settings[i],
                years=chosen,
                **per_species,
                **nested,
                **kwargs,
            )
            category[i, j] = c.category
            criteria[i, j] = c.criteria
            complete[i, j] = c.complete
            missing[i, j] = c.not_evaluated
            level[i, j] = c.levels
            notes.update(c.notes)
    coords = {d: mature[d] for d in order[:4] if d in mature.coords}
    if chosen is not None:
        coords[names.YEAR] = xr.DataArray(
            np.array(chosen, dtype=mature[names.YEAR].dtype),
            dims=names.YEAR,
            attrs=mature[names.YEAR].attrs,
        )
    dims4 = tuple(order[:4])
    out = xr.Dataset(
        {
            names.CATEGORY: (dims4, category, category_attrs()),
            names.CRITERIA: (dims4, criteria.astype(str), {"long_name": "Red List criteria met"}),
            "complete": (dims4, complete, {"long_name": "every evaluated criterion was evaluable"}),
            "not_evaluated": (
                dims4,
                missing.astype(str),
                {"long_name": "sub-criteria asked for that could not be evaluated"},
            ),
            CRITERION_LEVEL: (
                (*dims4, CRITERION),
                level,
                {
                    "long_name": "level met by each sub-criterion (codes as category; "
                    f"{NE} not evaluated, {NOT_EVALUABLE} window not covered)",
                    "units": "1",
                },
            ),
        },
        coords={**coords, CRITERION: list(CRITERIA)},
        attrs={"notes": "; ".join(sorted(notes))},
    )
    out[names.RLI] = rli_by_replicate(out[names.CATEGORY], weights=weights)
    return out


def _quasi_extinction_choice(given: bool | None, risk: xr.DataArray | None) -> bool:
    """Whether E counts quasi-extinction: as given, else as the nested ``extinction_risk`` says
    (attribute ``quasi_extinction``; results of earlier versions hold a number of mature
    individuals there, 0 meaning extinction), else False."""
    nested = None if risk is None else risk.attrs.get("quasi_extinction")
    nested_quasi = None if nested is None else bool(float(nested) != 0)
    if given is None:
        return bool(nested_quasi)
    if not isinstance(given, bool | np.bool_):
        raise TypeError(f"quasi_extinction must be True, False or None; got {given!r}")
    if nested_quasi is not None and bool(given) != nested_quasi:
        raise ValueError(
            f"quasi_extinction={given!r} contradicts the nested {EXTINCTION_RISK!r}, computed with"
            f" quasi_extinction={nested_quasi!r} ([outputs.red_list_e]); leave it None"
        )
    return bool(given)


def _quasi_extinction_settings(
    results: xr.Dataset, base: RedListSettings, species: int
) -> list[RedListSettings]:
    """Per species, ``base`` with E's extinction at the species' quasi-extinction threshold, on
    what the study's ``quasi_extinction_on`` counts (total individuals unless it says mature)."""
    if names.QUASI_EXTINCTION_THRESHOLD not in results:
        raise ValueError(
            f"quasi_extinction=True needs the results variable {names.QUASI_EXTINCTION_THRESHOLD!r}"
        )
    thresholds = results[names.QUASI_EXTINCTION_THRESHOLD]
    if names.SPECIES not in thresholds.dims:
        thresholds = thresholds.expand_dims({names.SPECIES: species})
    try:
        entries = json.loads(results.attrs[names.ATTR_SPEC]).get("species", [])
    except (KeyError, TypeError, ValueError, AttributeError):
        entries = []
    entries = [entries] if isinstance(entries, dict) else list(entries)
    counted = {
        str(e.get("name")): e.get("quasi_extinction_on", "total")
        for e in entries
        if isinstance(e, dict)
    }
    labels = (
        [str(v) for v in results[names.SPECIES].values]
        if names.SPECIES in results.coords
        else [None] * species
    )
    out = []
    for i in range(species):
        on = counted.get(str(labels[i]), "total") if labels[i] is not None else "total"
        out.append(
            dataclasses.replace(
                base,
                quasi_extinction=float(thresholds.isel({names.SPECIES: i}).item()),
                quasi_extinction_on="mature" if on == "mature" else "total",
            )
        )
    return out
