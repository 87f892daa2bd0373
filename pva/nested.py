"""Criterion E at later years: extinction risk by a nested simulation from each replicate's state.

At year 0, criterion E is a fraction of the replicates (:func:`pva.redlist.classify`). At a later
assessment year ``y`` it is a property of the state replicate ``r`` has reached, not of its single
future: the probability that a population in that state goes extinct within the E windows. Following
the issue's design, :func:`extinction_risk_windows` estimates it by projecting ``inner_replicates``
futures from every outer replicate's state at ``y`` (all outer x inner futures as one vectorised
replicate axis, in batches that bound memory), and counting the fraction extinct within each window.

References
----------
IUCN Standards and Petitions Committee. 2022. Guidelines for Using the IUCN Red List Categories and
    Criteria, version 15.1, section 9 (criterion E: the probability of extinction "within" a period,
    estimated by a quantitative analysis such as a PVA).
Akçakaya, H.R. & P. Sjögren-Gulve. 2000. Population viability analyses in conservation planning: an
    overview. Ecological Bulletins 48:9-21 (risk of decline from the current state).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from pva import engine
from pva.model import Species
from pva.scenario import Schedule, StochasticEvent
from pva.streams import Streams, stable_key

FloatArray = npt.NDArray[np.float64]

_NESTED_E = 4
"""spawn_key component that marks the nested criterion-E streams of a chunk; the chunk's own four
streams use the components 0-3 (:func:`pva.streams.chunk_streams`) at a shorter key."""
_STREAMS = 4  # environment, catastrophes, demography, events
MAX_ROWS = 20_000
"""Largest number of outer x inner futures projected at once (bounds memory: the engine keeps
(years + 1) x rows x populations int64 counts twice)."""


def nested_seed(entropy: int, species: str, chunk: int, year: int) -> np.random.SeedSequence:
    """The root SeedSequence of the inner projections of replicate chunk ``chunk`` of ``species``
    from assessment year ``year``.

    Its ``spawn_key`` extends the chunk's key (:func:`pva.streams.chunk_streams`) with a component
    for "nested E" and the assessment year, so the inner futures depend on the chunk layout alone
    (never on ``jobs`` or the backend), and every scenario of the species sees the same inner random
    numbers (common random numbers, as for the outer projections).
    """
    return np.random.SeedSequence(
        entropy, spawn_key=(stable_key(species), int(chunk), _NESTED_E, int(year))
    )


def _batch_streams(seed: np.random.SeedSequence, batch: int) -> Streams:
    key = tuple(seed.spawn_key)
    return Streams(
        *(
            np.random.default_rng(
                np.random.SeedSequence(seed.entropy, spawn_key=(*key, int(batch), index))
            )
            for index in range(_STREAMS)
        )
    )


def continue_schedule(schedule: Schedule, *, start_year: int, years: int) -> Schedule:
    """Steps ``start_year .. start_year + years - 1`` of ``schedule``; steps past its last one hold
    the last step's values (the scenario as it stands at the horizon continues unchanged)."""
    horizon = schedule.survival_multiplier.shape[0]
    idx = np.minimum(np.arange(start_year, start_year + years), horizon - 1)

    def take(a: Any) -> Any:
        return None if a is None else np.asarray(a)[idx]

    events = tuple(
        StochasticEvent(
            name=e.name,
            probability=take(e.probability),
            survival_multiplier=e.survival_multiplier,
            fecundity_multiplier=e.fecundity_multiplier,
            carrying_capacity_multiplier=e.carrying_capacity_multiplier,
        )
        for e in schedule.events
    )
    return Schedule(
        survival_multiplier=take(schedule.survival_multiplier),
        fecundity_multiplier=take(schedule.fecundity_multiplier),
        carrying_capacity_multiplier=take(schedule.carrying_capacity_multiplier),
        harvest_proportion=take(schedule.harvest_proportion),
        harvest_number=take(schedule.harvest_number),
        release_number=take(schedule.release_number),
        release_survival=take(schedule.release_survival),
        events=events,
        annual_cost=take(schedule.annual_cost),
        transfers=tuple(
            dataclasses.replace(tr, number=take(tr.number)) for tr in schedule.transfers
        ),
    )


def extinction_risk_windows(
    species: Species,
    schedule: Schedule | None,
    states: npt.ArrayLike,
    *,
    start_year: int,
    windows: Sequence[int],
    inner_replicates: int,
    seed: np.random.SeedSequence,
    quasi_extinction: float = 0.0,
    max_rows: int = MAX_ROWS,
) -> FloatArray:
    """Probability of extinction within each window, from each outer replicate's state.

    Parameters
    ----------
    species
        The species (its initial abundance is replaced by ``states``).
    schedule
        The scenario's :class:`~pva.scenario.Schedule` over the outer horizon; the inner futures
        continue it from step ``start_year``, holding the last step's values beyond the horizon.
        None = no action.
    states : array_like, shape (outer, populations, stages)
        Individuals by stage of each outer replicate at the assessment year.
    start_year
        The assessment year (>= 0), i.e. the schedule step and the carrying-capacity trend year the
        inner futures start from.
    windows
        Window lengths in years (each >= 1), e.g. the CR, EN and VU windows of criterion E from
        :func:`pva.redlist.e_windows`.
    inner_replicates
        Inner futures per outer replicate (>= 1); the Monte Carlo standard error of each probability
        is at most ``0.5 / sqrt(inner_replicates)``.
    seed
        Root of the inner random numbers (:func:`nested_seed`). Batch ``b`` of outer replicates
        draws from ``SeedSequence(seed.entropy, spawn_key=seed.spawn_key + (b, s))`` for the four
        streams ``s``; the batch layout depends only on the number of outer replicates,
        ``inner_replicates`` and ``max_rows``.
    quasi_extinction
        A future counts as extinct within window ``w`` when its mature individuals (summed over
        populations, both sexes as in :attr:`pva.engine.Projection.mature`) are at or below this
        number in some year ``0 .. w`` of the window — the rule of criterion E in
        :func:`pva.redlist.classify` (``RedListSettings.quasi_extinction``; 0 = true extinction).
        A deterministic (non-integer) projection is rounded down to whole individuals first, as
        the runner records it.
    max_rows
        Largest number of outer x inner futures projected together.

    Returns
    -------
    numpy.ndarray, shape (outer, len(windows))
        The estimated probabilities (fractions of ``inner_replicates``).

    Notes
    -----
    The inner futures draw fresh environments, catastrophes and scenario events: at the assessment
    year the future is unknown, so they do not reuse the outer replicate's later draws. A Markov
    environment (:class:`pva.model.MatrixSelection` with ``transition``) starts each inner future
    from the distribution of the first year's state (``probabilities``, by default the stationary
    distribution), not from the outer replicate's current state; vital-rate autocorrelation likewise
    restarts from its stationary distribution.
    """
    if not isinstance(species, Species):
        raise TypeError(f"species must be a pva.model.Species; got {type(species).__name__}")
    if not isinstance(seed, np.random.SeedSequence):
        raise TypeError(f"seed must be a numpy.random.SeedSequence; got {seed!r}")
    for field, value, low in (
        ("start_year", start_year, 0),
        ("inner_replicates", inner_replicates, 1),
        ("max_rows", max_rows, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{field} must be an integer >= {low}; got {value!r}")
    if (
        isinstance(windows, str)
        or not isinstance(windows, Sequence)
        or not windows
        or any(isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1 for v in windows)
    ):
        raise ValueError(f"windows must be a non-empty sequence of integers >= 1; got {windows!r}")
    w = [int(v) for v in windows]
    if not (np.isfinite(quasi_extinction) and quasi_extinction >= 0):
        raise ValueError(f"quasi_extinction must be finite and >= 0; got {quasi_extinction!r}")
    P, S = species.n_populations, species.n_stages
    x = np.asarray(states)
    if x.ndim != 3 or x.shape[1:] != (P, S) or x.shape[0] < 1:
        raise ValueError(
            f"states must have shape (outer, populations, stages) = (outer, {P}, {S}); "
            f"got {x.shape!r}"
        )
    horizon = max(w)
    if schedule is None:
        schedule = Schedule.neutral(years=1, populations=P, stages=S)
    inner_schedule = continue_schedule(schedule, start_year=int(start_year), years=horizon)

    outer, inner = x.shape[0], int(inner_replicates)
    per_batch = max(1, int(max_rows) // inner)
    out = np.empty((outer, len(w)))
    for b, lo in enumerate(range(0, outer, per_batch)):
        hi = min(lo + per_batch, outer)
        init = np.repeat(x[lo:hi], inner, axis=0)  # outer-major: rows r*inner .. (r+1)*inner - 1
        proj = engine.project(
            species,
            inner_schedule,
            years=horizon,
            replicates=init.shape[0],
            streams=_batch_streams(seed, b),
            record=(),
            initial=init,
            start_year=int(start_year),
        )
        mature = proj.mature.sum(axis=-1)  # (rows, years + 1)
        if mature.dtype.kind == "f":
            mature = np.floor(mature + 1e-9)  # whole individuals, as the runner records them
        # running minimum: extinct within w years iff the minimum over years 0..w is <= threshold
        low = np.minimum.accumulate(mature, axis=1) <= quasi_extinction
        hit = low[:, w].reshape(hi - lo, inner, len(w))
        out[lo:hi] = hit.mean(axis=1)
    return out
