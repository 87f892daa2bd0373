"""The IUCN Green Status of Species from simulated mature individuals per spatial unit.

References
----------
Akçakaya H.R. et al. (2018) Quantifying species recovery and conservation success to develop an IUCN
Green List of Species. Conservation Biology 32: 1128-1138; IUCN (2021) IUCN Green Status of Species:
a global standard for measuring species recovery and assessing conservation impact, Version 2.0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import results as names
from pva import validation
from pva.redlist.inputs import check_counts

GREEN_STATES: dict[str, int] = {
    "indeterminate": -1,
    "absent": 0,
    "present": 1,
    "viable": 2,
    "functional": 3,
}
"""State codes of a spatial unit (IUCN Green Status standard v2.0; Akçakaya et al. 2018)."""

GREEN_WEIGHTS: dict[str, float] = {"absent": 0.0, "present": 3.0, "viable": 6.0, "functional": 9.0}
"""Weights of the states in the Green Score (IUCN 2021, Green Status standard v2.0)."""


def green_status_states(
    mature: npt.ArrayLike,
    *,
    viable_threshold: float,
    functional_threshold: float | None = None,
    carrying_capacity: npt.ArrayLike | None = None,
    functional_fraction: float | None = None,
    extinction_risk: npt.ArrayLike | None = None,
    viable_max_risk: float = 0.1,
) -> npt.NDArray[np.int8]:
    """State of each spatial unit (population or site) per replicate and year.

    Rules (thresholds are the assessor's, made explicit here; Akçakaya et al. 2018 define Viable as
    "not threatened" in the unit and Functional as playing its ecological roles there):

    * Absent: no mature individuals; Present: at least one;
    * Viable: present and ``mature >= viable_threshold``, and, when ``extinction_risk`` is given,
      the unit's risk ``<= viable_max_risk`` (both must hold);
    * Functional: viable and ``mature >= functional_threshold`` and/or, when
      ``carrying_capacity`` and ``functional_fraction`` are given, ``mature >= functional_fraction *
      K`` (each given condition must hold).

    Parameters
    ----------
    mature : array_like, shape (replicate, year, population)
    viable_threshold : float
        Mature individuals for a viable unit (e.g. the VU D1 threshold, 1,000).
    functional_threshold : float, optional
        Mature individuals for ecological function.
    carrying_capacity : array_like, broadcastable to ``mature``, optional
    functional_fraction : float, optional
        Fraction of carrying capacity for ecological function.
    extinction_risk : array_like, shape of ``mature``, optional
        Each unit's own extinction probability (e.g. over 100 years); NaN gives ``indeterminate``.
    viable_max_risk : float
        Largest extinction risk of a viable unit (0.1: below the VU threshold of criterion E).

    Returns
    -------
    numpy.ndarray of int8
        Codes of :data:`GREEN_STATES`.
    """
    n = check_counts(mature, "mature", (3,))
    if not (np.isfinite(viable_threshold) and viable_threshold > 0):
        raise ValueError(f"viable_threshold must be finite and > 0; got {viable_threshold!r}")
    if functional_threshold is None and functional_fraction is None:
        raise ValueError(
            "give functional_threshold and/or functional_fraction (with carrying_capacity)"
        )
    if functional_fraction is not None and carrying_capacity is None:
        raise ValueError("functional_fraction needs carrying_capacity")
    viable = n >= viable_threshold
    indeterminate = np.zeros(n.shape, dtype=bool)
    if extinction_risk is not None:
        risk = np.broadcast_to(np.asarray(extinction_risk, dtype=float), n.shape)
        indeterminate = np.isnan(risk) & (n > 0)
        with np.errstate(invalid="ignore"):
            viable &= risk <= viable_max_risk
    functional = viable.copy()
    if functional_threshold is not None:
        functional &= n >= functional_threshold
    if functional_fraction is not None:
        k = np.broadcast_to(
            check_counts(np.atleast_1d(carrying_capacity), "carrying_capacity", (1, 2, 3)), n.shape
        )
        functional &= n >= functional_fraction * k
    states = np.where(n > 0, np.int8(1), np.int8(0)).astype(np.int8)
    states[viable] = 2
    states[functional] = 3
    states[indeterminate] = -1
    return states


def species_recovery_score(states: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Species Recovery Score (Green Score), percent, over the last (spatial unit) axis.

    ``100 * sum_u W(state_u) / (W_functional * N)``, with weights Absent 0, Present 3, Viable 6,
    Functional 9 (IUCN Green Status standard v2.0; Akçakaya et al. 2018; any proportional scale,
    such as 0-3, gives the same score). Indeterminate units are left out of the numerator and of
    ``N`` (a choice of this package); NaN where every unit is indeterminate.
    """
    s = np.asarray(states)
    if s.ndim < 1 or not np.all(np.isin(s, list(GREEN_STATES.values()))):
        raise ValueError(f"states must hold codes {sorted(GREEN_STATES.values())}")
    w = np.where(s >= 0, 3.0 * s, np.nan)  # absent 0, present 3, viable 6, functional 9
    count = np.sum(s >= 0, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, 100.0 * np.nansum(w, axis=-1) / (9.0 * count), np.nan)


def conservation_metrics(
    current: npt.ArrayLike,
    *,
    without_past_conservation: npt.ArrayLike | None = None,
    future_without_conservation: npt.ArrayLike | None = None,
    future_with_conservation: npt.ArrayLike | None = None,
    long_term_potential: npt.ArrayLike | None = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """The four conservation metrics of the Green Status (Akçakaya et al. 2018, Fig. 1), each the
    difference between a scenario's Green Score and the current Species Recovery Score:

    * Conservation Legacy = current - counterfactual current without past conservation;
    * Conservation Dependence = current - short-term (10-year) future without conservation;
    * Conservation Gain = short-term future with planned conservation - current;
    * Recovery Potential = long-term (100-year) maximum plausible future - current.

    Arguments are Species Recovery Scores (percent) of matching replicates (arrays of the same
    shape, paired through common random numbers); metrics whose scenario is missing are omitted.
    """
    cur = np.asarray(current, dtype=float)
    out: dict[str, npt.NDArray[np.float64]] = {}
    for key, other, sign in (
        ("conservation_legacy", without_past_conservation, 1.0),
        ("conservation_dependence", future_without_conservation, 1.0),
        ("conservation_gain", future_with_conservation, -1.0),
        ("recovery_potential", long_term_potential, -1.0),
    ):
        if other is None:
            continue
        o = np.asarray(other, dtype=float)
        if o.shape != cur.shape:
            raise ValueError(
                f"{key}: scores must have the shape of current {cur.shape}; got {o.shape}"
            )
        out[key] = sign * (cur - o)
    return out


def green_status(
    current: npt.ArrayLike,
    *,
    viable_threshold: float,
    functional_threshold: float | None = None,
    carrying_capacity: npt.ArrayLike | None = None,
    functional_fraction: float | None = None,
    without_past_conservation: npt.ArrayLike | None = None,
    no_action: npt.ArrayLike | None = None,
    action: npt.ArrayLike | None = None,
    potential: npt.ArrayLike | None = None,
    current_year: int = 0,
    short_term: int = 10,
    long_term: int = 100,
) -> xr.Dataset:
    """Green Status of a species from simulated mature individuals per spatial unit and scenario.

    Each argument is mature individuals, shape (replicate, year, population), of one scenario, with
    matching replicates (common random numbers); columns are years from 0. Spatial units are the
    populations (drop padding populations that do not exist before calling). Green Scores
    (:func:`species_recovery_score` of :func:`green_status_states`) are taken at:

    * ``current`` at ``current_year``: the Species Recovery Score (SRS);
    * ``without_past_conservation`` at ``current_year``: the counterfactual present without past
      conservation (Conservation Legacy = SRS - it);
    * ``no_action`` at ``current_year + short_term``: the short-term future without conservation
      (Conservation Dependence = SRS - it);
    * ``action`` at ``current_year + short_term``: the short-term future with planned conservation
      (Conservation Gain = it - SRS);
    * ``potential`` at ``current_year + long_term`` (or its last year if shorter): the long-term
      recovery potential scenario (Recovery Potential = it - SRS).

    Akçakaya et al. (2018) use 10 years for the short term; ``long_term`` is the assessor's horizon.

    Returns
    -------
    xarray.Dataset
        Per replicate: ``species_recovery_score`` and each metric whose scenario was given (in
        Green Score percentage points). Summarise any of them with :func:`rli_summary`.
    """
    state_kwargs: dict[str, Any] = {
        "viable_threshold": viable_threshold,
        "functional_threshold": functional_threshold,
        "carrying_capacity": carrying_capacity,
        "functional_fraction": functional_fraction,
    }

    def score(mature: npt.ArrayLike, field: str, year: int, *, clip: bool = False) -> Any:
        states = green_status_states(mature, **state_kwargs)
        last = states.shape[1] - 1
        if year > last and not clip:
            raise ValueError(f"{field} covers years 0..{last}; year {year} is needed")
        return species_recovery_score(states[:, min(year, last), :])

    for field, v in (
        ("current_year", current_year),
        ("short_term", short_term),
        ("long_term", long_term),
    ):
        validation.integer(v, field, minimum=0)
    srs = score(current, "current", current_year)
    metrics = conservation_metrics(
        srs,
        without_past_conservation=None
        if without_past_conservation is None
        else score(without_past_conservation, "without_past_conservation", current_year),
        future_without_conservation=None
        if no_action is None
        else score(no_action, "no_action", current_year + short_term),
        future_with_conservation=None
        if action is None
        else score(action, "action", current_year + short_term),
        long_term_potential=None
        if potential is None
        else score(potential, "potential", current_year + long_term, clip=True),
    )
    attrs = {"units": "percent"}
    data = {"species_recovery_score": ((names.REPLICATE,), srs, attrs)}
    data.update({k: ((names.REPLICATE,), v, attrs) for k, v in metrics.items()})
    return xr.Dataset(data, coords={names.REPLICATE: np.arange(srs.shape[0])})
