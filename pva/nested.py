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

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pva import engine, validation
from pva.model import Species
from pva.schedule import Schedule
from pva.streams import batch_streams, nested_seed

__all__ = ["MAX_ROWS", "extinction_risk_windows", "nested_seed"]

FloatArray = npt.NDArray[np.float64]

MAX_ROWS = 20_000
"""Largest number of outer x inner futures projected at once (bounds memory: the engine keeps
(years + 1) x rows x populations int64 counts twice)."""


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
        The scenario's :class:`~pva.schedule.Schedule` over the outer horizon; the inner futures
        continue it from step ``start_year`` (:meth:`~pva.schedule.Schedule.window`), holding the
        last step's values beyond the horizon. None = no action.
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
        Root of the inner random numbers (:func:`pva.streams.nested_seed`). Batch ``b`` of outer
        replicates draws from :func:`pva.streams.batch_streams` ``(seed, b)``; the batch layout
        depends only on the number of outer replicates, ``inner_replicates`` and ``max_rows``.
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
    validation.instance(species, "species", Species)
    validation.instance(seed, "seed", np.random.SeedSequence)
    start_year = validation.integer(start_year, "start_year", minimum=0)
    inner = validation.integer(inner_replicates, "inner_replicates", minimum=1)
    max_rows = validation.integer(max_rows, "max_rows", minimum=1)
    w = list(validation.integers(windows, "windows", minimum=1))
    if not w:
        raise ValueError(f"windows must be a non-empty list of integers >= 1; got {windows!r}")
    quasi_extinction = validation.number(quasi_extinction, "quasi_extinction", low=0.0)
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
    inner_schedule = schedule.window(start=start_year, years=horizon)

    outer = x.shape[0]
    per_batch = max(1, max_rows // inner)
    out = np.empty((outer, len(w)))
    for b, lo in enumerate(range(0, outer, per_batch)):
        hi = min(lo + per_batch, outer)
        init = np.repeat(x[lo:hi], inner, axis=0)  # outer-major: rows r*inner .. (r+1)*inner - 1
        proj = engine.project(
            species,
            inner_schedule,
            years=horizon,
            replicates=init.shape[0],
            streams=batch_streams(seed, b),
            record=(),
            initial=init,
            start_year=start_year,
        )
        mature = proj.mature.sum(axis=-1)  # (rows, years + 1)
        if mature.dtype.kind == "f":
            mature = np.floor(mature + 1e-9)  # whole individuals, as the runner records them
        # running minimum: extinct within w years iff the minimum over years 0..w is <= threshold
        low: npt.NDArray[np.bool_] = np.minimum.accumulate(mature, axis=1) <= quasi_extinction
        hit = low[:, w].reshape(hi - lo, inner, len(w))
        out[lo:hi] = hit.mean(axis=1)
    return out
