"""Projections from each replicate's state at an assessment year: what an assessor standing there
could project (criteria A3, A4, projected C1 and E at later years).

At year 0 the replicates of a run are the projection from the common starting state
(:func:`pva.redlist.classify`). At a later assessment year ``y`` the replicates differ, and what an
assessor at ``y`` can say about replicate ``r``'s future is a property of the state it has reached,
not of its one realised future: :func:`project_from_states` projects ``inner_replicates`` futures
from every outer replicate's state at ``y`` (all outer x inner futures as one vectorised replicate
axis, in batches that bound memory) and returns, per outer replicate,

* the probability of extinction within each window (criterion E), and
* the expected (mean over inner futures) mature individuals at leads ``0 .. leads`` years after
  ``y`` (the projected reductions of A3, the future part of A4 and projected C1).

Both come from the same inner futures.

References
----------
IUCN Standards and Petitions Committee. 2022. Guidelines for Using the IUCN Red List Categories and
    Criteria, version 15.1, sections 4.5.2 (reductions projected with a population model) and 9
    (criterion E: the probability of extinction "within" a period, estimated by a quantitative
    analysis such as a PVA).
Akçakaya, H.R. & P. Sjögren-Gulve. 2000. Population viability analyses in conservation planning: an
    overview. Ecological Bulletins 48:9-21 (risk of decline from the current state).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pva import engine, validation
from pva.model import Species
from pva.schedule import Schedule
from pva.streams import batch_streams, nested_seed

__all__ = [
    "MAX_ROWS",
    "NestedProjections",
    "extinction_risk_windows",
    "nested_seed",
    "project_from_states",
]

FloatArray = npt.NDArray[np.float64]

MAX_ROWS = 20_000
"""Largest number of outer x inner futures projected at once (bounds memory: the engine keeps
(years + 1) x rows x populations int64 counts twice)."""


@dataclasses.dataclass(frozen=True, eq=False)
class NestedProjections:
    """What the inner futures from each outer replicate's state give (:func:`project_from_states`)."""

    extinction_risk: FloatArray
    """Probability of extinction within each window, shape (outer, windows): the fraction of the
    inner futures extinct (see ``quasi_extinction``) in some year ``0 .. w`` of window ``w``."""
    projected_mature: FloatArray
    """Expected mature individuals (summed over populations; mean over the inner futures),
    shape (outer, leads + 1): column ``k`` is ``k`` years after the assessment year, column 0 the
    state itself."""


def project_from_states(
    species: Species,
    schedule: Schedule | None,
    states: npt.ArrayLike,
    *,
    start_year: int,
    windows: Sequence[int],
    leads: int = 0,
    inner_replicates: int,
    seed: np.random.SeedSequence,
    quasi_extinction: bool = False,
    max_rows: int = MAX_ROWS,
    gene_diversity: npt.ArrayLike | None = None,
) -> NestedProjections:
    """Extinction risk within each window and the expected mature individuals ahead, from each
    outer replicate's state.

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
        :func:`pva.redlist.e_windows`; may be empty when ``leads`` >= 1.
    leads
        Years ahead (>= 0) of the projected mature individuals, e.g.
        :func:`pva.redlist.projection_leads`. The inner futures run ``max(max(windows), leads)``
        years.
    inner_replicates
        Inner futures per outer replicate (>= 1); the Monte Carlo standard error of each probability
        is at most ``0.5 / sqrt(inner_replicates)``.
    seed
        Root of the inner random numbers (:func:`pva.streams.nested_seed`). Batch ``b`` of outer
        replicates draws from :func:`pva.streams.batch_streams` ``(seed, b)``; the batch layout
        depends only on the number of outer replicates, ``inner_replicates`` and ``max_rows``.
    quasi_extinction
        False (the default): a future counts as extinct within window ``w`` when its individuals
        (total abundance, every stage, summed over populations) are 0 in some year ``0 .. w`` of
        the window: the event of EX and of extinctions prevented. True: when they are at or below
        the species' ``quasi_extinction_threshold``, counting what its ``quasi_extinction_on``
        says (total or mature individuals, summed over populations). A deterministic
        (non-integer) projection is rounded down to whole individuals first, as the runner
        records it.
    max_rows
        Largest number of outer x inner futures projected together.
    gene_diversity : array_like, shape (outer, populations), optional
        Gene diversity of each outer replicate at the assessment year, for a species with
        genetics (NaN, an empty population, counts as 1: immigrants bring their own); the inner
        futures start from it.

    Returns
    -------
    NestedProjections
        ``extinction_risk`` (outer, len(windows)) and ``projected_mature`` (outer, leads + 1).

    Notes
    -----
    The inner futures draw fresh environments, catastrophes and scenario events: at the assessment
    year the future is unknown, so they do not reuse the outer replicate's later draws. A Markov
    environment (:class:`pva.model.MatrixSelection` with ``transition``) starts each inner future
    from the distribution of the first year's state (``probabilities``, by default the stationary
    distribution), not from the outer replicate's current state; vital-rate autocorrelation likewise
    restarts from its stationary distribution.

    The projected mature individuals are the mean over the inner futures (the expected
    trajectory, ``RedListSettings.projection_statistic = "mean"``), of mature individuals of both
    sexes as :attr:`pva.engine.Projection.mature` counts them, rounded down to whole individuals
    in each future first.
    """
    validation.instance(species, "species", Species)
    validation.instance(seed, "seed", np.random.SeedSequence)
    start_year = validation.integer(start_year, "start_year", minimum=0)
    inner = validation.integer(inner_replicates, "inner_replicates", minimum=1)
    max_rows = validation.integer(max_rows, "max_rows", minimum=1)
    leads = validation.integer(leads, "leads", minimum=0)
    w = list(validation.integers(windows, "windows", minimum=1))
    if not w and leads < 1:
        raise ValueError(
            f"windows must be a non-empty list of integers >= 1 (or leads >= 1); got {windows!r}"
        )
    quasi = validation.flag(quasi_extinction, "quasi_extinction")
    P, S = species.n_populations, species.n_stages
    x = np.asarray(states)
    if x.ndim != 3 or x.shape[1:] != (P, S) or x.shape[0] < 1:
        raise ValueError(
            f"states must have shape (outer, populations, stages) = (outer, {P}, {S}); "
            f"got {x.shape!r}"
        )
    horizon = max([*w, leads])
    if schedule is None:
        schedule = Schedule.neutral(years=1, populations=P, stages=S)
    inner_schedule = schedule.window(start=start_year, years=horizon)
    threshold = species.quasi_extinction_threshold if quasi else 0.0
    counts_mature = quasi and species.quasi_extinction_on == "mature"

    outer = x.shape[0]
    h = None if gene_diversity is None else np.nan_to_num(np.asarray(gene_diversity), nan=1.0)
    per_batch = max(1, max_rows // inner)
    risk = np.empty((outer, len(w)))
    projected = np.empty((outer, leads + 1))
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
            initial_gene_diversity=None if h is None else np.repeat(h[lo:hi], inner, axis=0),
        )
        mature = _whole(proj.mature.sum(axis=-1))  # (rows, years + 1)
        counted = mature if counts_mature else _whole(proj.total.sum(axis=-1))
        # running minimum: extinct within w years iff the minimum over years 0..w is <= threshold
        low: npt.NDArray[np.bool_] = np.minimum.accumulate(counted, axis=1) <= threshold
        risk[lo:hi] = low[:, w].reshape(hi - lo, inner, len(w)).mean(axis=1)
        ahead = mature[:, : leads + 1].reshape(hi - lo, inner, leads + 1)
        projected[lo:hi] = ahead.mean(axis=1, dtype=np.float64)
    return NestedProjections(extinction_risk=risk, projected_mature=projected)


def extinction_risk_windows(
    species: Species,
    schedule: Schedule | None,
    states: npt.ArrayLike,
    *,
    start_year: int,
    windows: Sequence[int],
    inner_replicates: int,
    seed: np.random.SeedSequence,
    quasi_extinction: bool = False,
    max_rows: int = MAX_ROWS,
) -> FloatArray:
    """Probability of extinction within each window, from each outer replicate's state: the
    ``extinction_risk`` of :func:`project_from_states` (same arguments, ``leads=0``), shape
    (outer, len(windows)). Extinction is no individuals at all (total abundance summed over
    populations at 0), or with ``quasi_extinction`` the species' quasi-extinction threshold."""
    return project_from_states(
        species,
        schedule,
        states,
        start_year=start_year,
        windows=windows,
        inner_replicates=inner_replicates,
        seed=seed,
        quasi_extinction=quasi_extinction,
        max_rows=max_rows,
    ).extinction_risk


def _whole(counts: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """Counts as whole individuals: a deterministic (float) projection rounded down, as the runner
    records it; integer counts unchanged."""
    if counts.dtype.kind == "f":
        return np.floor(counts + 1e-9)
    return counts
