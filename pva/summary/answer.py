"""The answer a planner asks first: per species, which scenario leaves the least risk, and by how
much.

The risk is the species' own measure (:mod:`pva.measures`) by the final year. Scenarios other than
no action are ordered by it, ties broken by the probability of absolute extinction. Where every
scenario, no action included, has the same risk (a quasi-extinction threshold that every future
crosses by the final year, or none does), the risk cannot tell them apart: they are then judged by
absolute extinction, the reduction and margin are differences in it, and ``best_ranked_by`` says
so. The best
scenario's **risk reduction** (no action's risk minus its) and its **margin** over the runner-up
(the runner-up's risk minus its) are paired differences over replicates, which share their random
numbers in every scenario (common random numbers), with the normal interval of the mean
(:func:`pva.outcomes.paired_difference`). A margin whose interval includes 0 means the data cannot
tell the two apart.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from pva import outcomes, results
from pva.results import LOWER_SUFFIX, UPPER_SUFFIX


def _order(p: xr.DataArray, absolute: xr.DataArray, candidates: list[str]) -> list[str]:
    """``candidates`` by (risk, absolute extinction), lowest first; stable for ties."""
    return sorted(
        candidates,
        key=lambda s: (
            float(p.sel({results.SCENARIO: s})),
            float(absolute.sel({results.SCENARIO: s})),
        ),
    )


def _spread(p: xr.DataArray) -> float:
    """Largest minus smallest probability over the scenarios."""
    return float(p.max() - p.min())


def add_best_actions(
    table: xr.Dataset,
    reached: xr.DataArray,
    extinct: xr.DataArray,
    no_action: str,
    *,
    confidence: float,
) -> None:
    """Add ``best_scenario``, ``risk_reduction`` and ``runner_up``, ``margin`` (species), the two
    differences with ``_lower``/``_upper``, to ``table`` in place.

    Parameters
    ----------
    reached
        Whether each replicate reached the species' risk event by the final year, bool
        (species, scenario, replicate).
    extinct
        Whether each replicate is absolutely extinct by the final year, same dims.
    no_action
        The scenario the best one is compared with.

    Nothing is added when there is no scenario besides no action; ``runner_up`` is "" and its
    margin NaN with a single alternative. ``best_ranked_by`` (species) says whether the risk or
    absolute extinction judged them (see the module docstring).
    """
    scenarios = results.names_of(reached, results.SCENARIO)
    candidates = [s for s in scenarios if s != no_action]
    if not candidates:
        return
    species = results.names_of(reached, results.SPECIES)
    n = len(species)
    best = np.full(n, "", dtype=object)
    runner = np.full(n, "", dtype=object)
    values = {k: np.full(n, np.nan) for k in ("reduction", "margin")}
    lower = {k: np.full(n, np.nan) for k in values}
    upper = {k: np.full(n, np.nan) for k in values}
    ranked_by = np.full(n, "risk", dtype=object)
    p = reached.mean(results.REPLICATE)
    p_abs = extinct.mean(results.REPLICATE)
    for i, sp in enumerate(species):
        at = {results.SPECIES: sp}
        events = reached
        if _spread(p.sel(at)) == 0 and _spread(p_abs.sel(at)) > 0:
            events, ranked_by[i] = extinct, "absolute extinction"
        order = _order(p.sel(at), p_abs.sel(at), candidates)
        best[i] = order[0]
        pairs = {"reduction": no_action}
        if len(order) > 1:
            runner[i] = order[1]
            pairs["margin"] = order[1]
        for key, other in pairs.items():
            d = outcomes.paired_difference(
                events.sel({**at, results.SCENARIO: other}).values,
                events.sel({**at, results.SCENARIO: order[0]}).values,
                confidence=confidence,
            )
            values[key][i], lower[key][i], upper[key][i] = d.estimate, d.lower, d.upper
    final = int(table.attrs["final_year"])

    def column(data: np.ndarray, name: str, long_name: str | None = None) -> xr.DataArray:
        attrs = dict(results.VARIABLE_ATTRS[name])
        if long_name:
            attrs["long_name"] = long_name
        return xr.DataArray(data, dims=(results.SPECIES,), attrs=attrs)

    table[results.BEST_SCENARIO] = column(best, results.BEST_SCENARIO)
    table[results.BEST_RANKED_BY] = column(ranked_by, results.BEST_RANKED_BY)
    table[results.RUNNER_UP] = column(runner, results.RUNNER_UP)
    for key, name, text in (
        ("reduction", results.RISK_REDUCTION, f"risk by year {final} under {no_action!r} minus "
         "under the best scenario (paired)"),
        ("margin", results.MARGIN, f"risk by year {final} under the runner-up minus under the "
         "best scenario (paired)"),
    ):  # fmt: skip
        table[name] = column(values[key], name, text)
        table[name + LOWER_SUFFIX] = column(lower[key], name, f"lower limit of the {text}")
        table[name + UPPER_SUFFIX] = column(upper[key], name, f"upper limit of the {text}")
