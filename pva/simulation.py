"""``pva.simulate``: one species, one scenario, many replicates, as a labelled :class:`xarray.Dataset`.

The user-facing shell around the pure engine: it turns a seed into streams, runs
:func:`pva.engine.project_chunks` over the fixed replicate chunks of :func:`pva.streams.chunk_bounds`
(as the runner's tasks do, one chunk each) and labels the result with :func:`pva.results.build`, the builder of ``pva run`` files. The species and
scenario are recorded as a one-species, one-scenario :class:`pva.study.Study`, so the Dataset is the
(species, scenario) slice of what ``pva run`` of that study with the same seed writes, plus what
was recorded by stage. Chunk ``k`` always draws from ``chunk_streams(entropy, species.name, k)``:
the numbers do not depend on how chunks are spread over workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import engine, results, streams, validation
from pva.model import Species
from pva.scenario import Scenario
from pva.schedule import Schedule
from pva.study import Study, StudySpecies

SCHEDULE_SCENARIO = "schedule"
"""Scenario name recorded for a :class:`pva.schedule.Schedule` passed to :func:`simulate`."""


def _record(record: Sequence[str] | str) -> tuple[str, ...]:
    items = (record,) if isinstance(record, str) else tuple(record)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"record must be a sequence of variable names; got {record!r}")
    return items  # the engine checks the names


def _scenario(scenario: Scenario | Schedule | None, years: int) -> tuple[Scenario, Schedule | None]:
    """The scenario as the study records it, and the schedule to follow if it is not that
    scenario compiled."""
    if scenario is None:
        return Scenario("no action"), None
    if isinstance(scenario, Scenario):
        return scenario, None
    if isinstance(scenario, Schedule):
        steps = np.shape(scenario.survival_multiplier)[0]
        if steps != years:
            raise ValueError(
                f"scenario is a Schedule of {steps} steps but years={years!r}; a Schedule must "
                "have one step per projection year"
            )
        # a Schedule holds arrays, not actions: the study can name it but not describe it
        recorded = Scenario(
            SCHEDULE_SCENARIO,
            description="a pva.scenario.Schedule passed to pva.simulate (its multipliers, "
            "releases and costs are not recorded here)",
        )
        return recorded, scenario
    raise TypeError(
        f"scenario must be a Scenario (pva.scenario.Scenario), a Schedule (pva.scenario.Schedule) "
        f"or None; got {scenario!r}"
    )


def simulate(
    species: Species,
    *,
    years: int,
    replicates: int,
    seed: int | None = None,
    scenario: Scenario | Schedule | None = None,
    record: Sequence[str] | str = (results.ABUNDANCE,),
    chunk_size: int = streams.DEFAULT_CHUNK_SIZE,
) -> xr.Dataset:
    """Simulate ``replicates`` stochastic futures of ``species`` over ``years`` years.

    Parameters
    ----------
    species
        A :class:`pva.model.Species`.
    years
        Projection horizon in years (>= 1); the result has years ``0 .. years``.
    replicates
        Number of Monte Carlo replicates (>= 1).
    seed
        Root seed (non-negative int). ``None`` draws fresh OS entropy; either way the entropy used
        is recorded in ``attrs["seed_entropy"]`` and as the study's seed, so that the run can be
        repeated exactly.
    scenario
        A :class:`pva.scenario.Scenario` (compiled for ``species``), a
        :class:`pva.scenario.Schedule` of ``years`` steps (recorded as the scenario
        ``"schedule"``), or ``None``: the scenario ``"no action"`` without threats or interventions.
    record
        Arrays recorded besides mature and total abundance: ``"abundance"`` (by stage) and
        ``"carrying_capacity"``.
    chunk_size
        Replicates per chunk; part of the reproducibility contract (results depend on it, not on
        how chunks are later spread over workers).

    Returns
    -------
    xarray.Dataset
        The layout of :mod:`pva.results` for one species and one scenario: the dims ``replicate,
        year, population`` (``stage`` too with ``abundance``), scalar coordinates ``species`` and
        ``scenario``; ``mature_abundance`` and ``total_abundance`` (replicate, year, population) and
        as recorded ``abundance`` (replicate, year, population, stage) and ``carrying_capacity``, in
        individuals: int64 with demographic stochasticity, float64 without; ``population_exists``,
        the coordinate ``population_name``, ``generation_length``, ``quasi_extinction_threshold``,
        ``annual_cost`` (year) and the coordinates ``taxon``, ``country``, ``site``. Provenance in
        ``attrs`` (:func:`pva.results.provenance`): ``pva_version``, ``seed_entropy`` (str),
        ``n_replicates``, ``chunk_size`` and ``study`` (the one-species, one-scenario study as
        JSON); no timestamp, so that the same seed gives an identical Dataset. With demographic
        stochasticity, ``mature_abundance`` and ``total_abundance`` equal the (species, scenario)
        slice of :func:`pva.runner.run_study` of that study; without it, the runner stores whole
        individuals (rounded down) where this keeps the engine's real numbers.

    Raises
    ------
    TypeError
        If ``species`` is not a Species, ``years``, ``replicates`` or ``chunk_size`` not an integer
        (bools are refused), or the seed, scenario or ``record`` of the wrong kind.
    ValueError
        If a count is < 1, the seed negative, ``record`` names an unknown array, or a Schedule does
        not span ``years`` steps.

    Examples
    --------
    >>> ds = pva.simulate(species, years=50, replicates=1000, seed=1)  # doctest: +SKIP
    >>> pva.outcomes.summarize(ds)  # doctest: +SKIP
    """
    if not isinstance(species, Species):
        raise TypeError(f"species must be a Species (pva.model.Species); got {species!r}")
    years = validation.integer(years, "years", minimum=1)
    replicates = validation.integer(replicates, "replicates", minimum=1)
    chunk_size = validation.integer(chunk_size, "chunk_size", minimum=1)
    recorded = _record(record)
    entropy = streams.resolve_entropy(seed)
    as_recorded, given = _scenario(scenario, years)
    study = Study(
        name=species.name,
        species=(StudySpecies(species=species),),
        scenarios=(as_recorded,),
        years=years,
        replicates=replicates,
        seed=entropy,
        chunk_size=chunk_size,
    )
    # the scenario as the study holds it (threats first), so that the recorded study reproduces it
    schedule = (
        given if given is not None else study.scenario_for(0, 0).compile(species, years=years)
    )
    # one call for all chunks: a linear model projects them as one wide array, each chunk on its
    # own streams (pva.engine.project_chunks), so the numbers are those of the chunks run one by one
    (projection,) = engine.project_chunks(
        species,
        (schedule,),
        years=years,
        chunks=[
            (stop - start, streams.chunk_streams(entropy, species.name, chunk))
            for chunk, (start, stop) in enumerate(streams.chunk_bounds(replicates, chunk_size))
        ],
        record=recorded,
    )

    def stacked(array: npt.NDArray[Any] | None) -> npt.NDArray[Any] | None:
        # one species and one scenario: the study layout's leading dims
        return None if array is None else array[np.newaxis, np.newaxis]

    ds = results.build(
        study,
        mature=projection.mature[np.newaxis, np.newaxis],
        total=projection.total[np.newaxis, np.newaxis],
        schedules=[[schedule]],
        entropy=entropy,
        abundance=stacked(projection.abundance),
        carrying_capacity=stacked(projection.carrying_capacity),
        gene_diversity=stacked(projection.gene_diversity),
        **_captive(projection, stacked),
    )
    return ds.isel({results.SPECIES: 0, results.SCENARIO: 0})


def _captive(projection: engine.Projection, stacked: Any) -> dict[str, Any]:
    """The ex-situ individuals and their gene diversity (mean over programmes weighted by
    individuals) in the study layout, when the scenario keeps a programme."""
    if projection.captive is None:
        return {}
    n = projection.captive.astype(float)  # (replicate, year, programme)
    total = n.sum(axis=-1)
    out = {"captive_individuals": stacked(total)}
    h = projection.captive_gene_diversity
    if h is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (np.nan_to_num(h) * n).sum(axis=-1) / total
        out["captive_gene_diversity"] = stacked(np.where(total > 0, mean, np.nan))
    return out
