"""The Green Status of Species part of a summary table (Akçakaya et al. 2018; IUCN Green Status
standard v2.0): Green Scores by scenario and year, and the conservation metrics per species.

References
----------
Akçakaya, H.R. et al. 2018. Quantifying species recovery and conservation success to develop an
IUCN Green List of Species. Conservation Biology 32:1128-1138.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from pva import outcomes, redlist, results
from pva.study import GreenStatus

__all__ = ["GreenStatus", "add_green_status", "green_status_settings"]


def green_status_settings(ds: xr.Dataset) -> GreenStatus | None:
    """The study's ``[outputs.green_status]`` as a :class:`pva.study.GreenStatus` (None if unset)."""
    raw = results.provenance(ds).outputs.get("green_status")
    return None if raw is None else GreenStatus.from_dict(raw)


def _population_k(ds: xr.Dataset, species: str, exists: np.ndarray) -> np.ndarray:
    """K of the existing populations of a species: the recorded ``carrying_capacity``
    (replicate, year, population) per scenario if the results hold it, else the base K of the
    study's species table, shape (population,); ``inf`` where unlimited."""
    if results.CARRYING_CAPACITY in ds:
        k = ds[results.CARRYING_CAPACITY].sel({results.SPECIES: species})
        return np.asarray(k.transpose(results.SCENARIO, ...).values[..., exists], dtype=float)
    entry = results.provenance(ds).species_table(species)
    if entry is None:
        return np.full(int(exists.sum()), np.inf)
    # the species table's populations, in the order of the results (Species.all_populations)
    pops = entry.get("populations") or [entry]
    base = [p.get("carrying_capacity") if isinstance(p, Mapping) else None for p in pops]
    if len(base) != int(exists.sum()):
        raise ValueError(
            f"species {species!r}: the study lists {len(base)} populations but the results "
            f"hold {int(exists.sum())}"
        )
    return np.array([np.inf if v is None else float(v) for v in base])


def add_green_status(
    table: xr.Dataset,
    ds: xr.Dataset,
    no_action: str,
    settings: GreenStatus,
    *,
    confidence: float,
) -> None:
    """Add the Green Status of Species to a summary ``table`` (of ``ds``, in the study layout) in
    place.

    Spatial units are the species' populations (padding left out through ``population_exists``);
    unit states and scores come from :func:`pva.redlist.green_status` with the thresholds of
    ``settings``. The current state is the no-action scenario in year 0. Every score is per
    replicate, paired over scenarios by common random numbers, and summarised as the RLI is
    (:func:`pva.redlist.rli_summary`: mean, Monte Carlo standard error, normal interval of the
    mean, central ``confidence`` share of replicates). Metrics whose year lies beyond the
    simulation (``short_term`` > final year) are left out, and noted in ``green_status_notes``.

    Adds ``green_score`` (species, scenario, green_year), the Species Recovery Score each scenario
    reaches in years ``short_term`` and ``long_term`` (clipped to the final year), and
    ``species_recovery_score`` plus, when their scenarios exist, ``conservation_legacy``,
    ``conservation_dependence``, ``conservation_gain`` and ``recovery_potential`` (species), all in
    percent, each with ``_mcse``, ``_lower``/``_upper`` (normal interval of the mean) and
    ``_spread_lower``/``_spread_upper`` (central share of replicates).
    """
    final = int(table.attrs["final_year"])
    scenarios = results.names_of(ds, results.SCENARIO)
    species = results.names_of(ds, results.SPECIES)
    years = sorted({y for y in (settings.short_term, min(settings.long_term, final)) if y <= final})
    chosen = {
        "no_action": settings.no_action or no_action,
        "action": settings.action,
        "potential": settings.potential,
        "without_past_conservation": settings.without_past_conservation,
    }
    notes = []
    if settings.short_term > final:
        notes.append(
            f"short term (year {settings.short_term}) lies beyond the simulation (0..{final}): "
            "no Conservation Dependence or Gain"
        )
        chosen["action"] = ""

    score = np.full((len(species), len(scenarios), len(years), 4), np.nan)
    metrics: dict[str, np.ndarray] = {}
    for i, sp in enumerate(species):
        exists = np.asarray(
            ds[results.POPULATION_EXISTS].sel({results.SPECIES: sp}).values, dtype=bool
        )
        mature = ds[results.MATURE].sel({results.SPECIES: sp})
        mature = mature.transpose(
            results.SCENARIO, results.REPLICATE, results.YEAR, results.POPULATION
        )
        mature_by = {s: np.asarray(mature.values[j][..., exists]) for j, s in enumerate(scenarios)}
        k_all = _population_k(ds, sp, exists)
        # an unlimited population has no K to be a fraction of: it is never functional by that
        # rule, which a K beyond any count expresses within green_status_states' finite inputs
        k_all = np.where(np.isfinite(k_all), k_all, np.finfo(float).max)

        def k_of(s: str, k_all: np.ndarray = k_all) -> np.ndarray:
            return k_all[scenarios.index(s)] if k_all.ndim == 4 else k_all

        kw = dict(settings.thresholds(sp))
        for j, sc in enumerate(scenarios):
            for y, year in enumerate(years):
                scores = redlist.green_status(
                    mature_by[sc], carrying_capacity=k_of(sc), current_year=year, **kw
                )
                score[i, j, y] = _summary4(scores[results.SPECIES_RECOVERY_SCORE], confidence)
        base = chosen["no_action"]
        counterfactuals: dict[str, Any] = {}
        for key in ("action", "potential", "without_past_conservation"):
            if chosen[key]:
                counterfactuals[key] = mature_by[chosen[key]]
        if settings.short_term <= final:
            counterfactuals["no_action"] = mature_by[base]
        # one K for all counterfactuals: recorded K differs only through the scenarios' actions
        scores = redlist.green_status(
            mature_by[base],
            carrying_capacity=k_of(base),
            short_term=settings.short_term,
            long_term=settings.long_term,
            **counterfactuals,
            **kw,
        )
        for var in scores.data_vars:
            metrics.setdefault(str(var), np.full((len(species), 4), np.nan))[i] = _summary4(
                scores[var], confidence
            )
    _put_scores(table, years, score, confidence)
    _put_metrics(table, metrics, chosen, confidence)
    table.attrs["green_status"] = json.dumps({**settings.to_dict(), **chosen}, sort_keys=True)
    if notes:
        table.attrs["green_status_notes"] = "; ".join(notes)


def _notes(confidence: float) -> tuple[str, str]:
    """The ``interval`` attribute of an interval of the mean and of a spread of replicates."""
    ci = f"{confidence:.0%} confidence interval of the mean (normal, from the MC standard error)"
    return ci, f"central {confidence:.0%} of replicates"


def _put_scores(table: xr.Dataset, years: list[int], score: np.ndarray, confidence: float) -> None:
    """``green_score`` (species, scenario, green_year) from mean, MCSE and spread (last axis)."""
    z = outcomes.z_score(confidence)
    ci, spread = _notes(confidence)
    attrs = results.VARIABLE_ATTRS[results.GREEN_SCORE]
    dims = (results.SPECIES, results.SCENARIO, results.GREEN_YEAR)
    table.coords[results.GREEN_YEAR] = (results.GREEN_YEAR, np.asarray(years), {"units": "year"})
    name = results.GREEN_SCORE
    for suffix, values, extra in (
        ("", score[..., 0], {}),
        (results.MCSE_SUFFIX, score[..., 1], {}),
        (results.SPREAD_LOWER_SUFFIX, score[..., 2], {"interval": spread}),
        (results.SPREAD_UPPER_SUFFIX, score[..., 3], {"interval": spread}),
        (results.LOWER_SUFFIX, score[..., 0] - z * score[..., 1], {"interval": ci}),
        (results.UPPER_SUFFIX, score[..., 0] + z * score[..., 1], {"interval": ci}),
    ):
        table[name + suffix] = (dims, values, {**attrs, **extra})


def _put_metrics(
    table: xr.Dataset, metrics: dict[str, np.ndarray], chosen: dict[str, str], confidence: float
) -> None:
    """The conservation metrics (species) from mean, MCSE and spread (last axis)."""
    z = outcomes.z_score(confidence)
    ci, spread = _notes(confidence)
    long_names = {
        results.SPECIES_RECOVERY_SCORE: "current Species Recovery Score (no action, year 0)",
        results.CONSERVATION_LEGACY: "Conservation Legacy "
        f"(vs {chosen['without_past_conservation']!r})",
        results.CONSERVATION_DEPENDENCE: f"Conservation Dependence (vs {chosen['no_action']!r})",
        results.CONSERVATION_GAIN: f"Conservation Gain ({chosen['action']!r})",
        results.RECOVERY_POTENTIAL: f"Recovery Potential ({chosen['potential']!r})",
    }
    dims = (results.SPECIES,)
    for var, m in metrics.items():
        attrs = {"units": results.VARIABLE_ATTRS[var]["units"], "long_name": long_names[var]}
        for suffix, values, extra in (
            ("", m[:, 0], {}),
            (results.MCSE_SUFFIX, m[:, 1], {}),
            (results.LOWER_SUFFIX, m[:, 0] - z * m[:, 1], {"interval": ci}),
            (results.UPPER_SUFFIX, m[:, 0] + z * m[:, 1], {"interval": ci}),
            (results.SPREAD_LOWER_SUFFIX, m[:, 2], {"interval": spread}),
            (results.SPREAD_UPPER_SUFFIX, m[:, 3], {"interval": spread}),
        ):
            table[var + suffix] = (dims, values, {**attrs, **extra})


def _summary4(per_replicate: xr.DataArray, confidence: float) -> list[float]:
    """Mean, MCSE and central interval over replicates (:func:`pva.redlist.rli_summary`)."""
    s = redlist.rli_summary(per_replicate, level=confidence)
    return [float(s[k]) for k in ("mean", "mcse", "lower", "upper")]
