"""``pva.simulate``: one species, one scenario, many replicates, as a labelled :class:`xarray.Dataset`.

This is the user-facing shell around the pure engine (../shared/STYLE.md section 2.4): it turns a seed
into streams, runs :func:`pva.engine.project` over the fixed replicate chunks of
:func:`pva.streams.chunk_bounds` and labels the result. Because chunk ``k`` always draws from
``chunk_streams(entropy, species.name, k)``, the Dataset is the same bit for bit however the runner
later spreads the chunks over workers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import xarray as xr

from pva import engine, results, streams
from pva.schedule import Schedule


class _Compilable(Protocol):
    name: str

    def compile(self, species: Any, *, years: int) -> Schedule: ...


_COORD_ATTRS: dict[str, dict[str, str]] = {
    results.POPULATION: {"units": "1", "long_name": "population (site)"},
    results.STAGE: {"units": "1", "long_name": "life-cycle stage"},
}


def _positive_int(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{field} must be a positive integer; got {value!r}")
    if value < 1:
        raise ValueError(f"{field} must be a positive integer (>= 1); got {value!r}")
    return int(value)


def _record(record: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(record, str):
        return (record,)
    items = tuple(record)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"record must be a sequence of variable names; got {record!r}")
    return items


def _schedule(
    scenario: _Compilable | Schedule | None, species: Any, years: int
) -> tuple[Schedule | None, str | None]:
    """Compile ``scenario`` for ``species``; return the schedule and the scenario's name."""
    if scenario is None:
        return None, None
    if isinstance(scenario, Schedule):
        steps = np.shape(scenario.survival_multiplier)[0]
        if steps != years:
            raise ValueError(
                f"scenario is a Schedule of {steps} steps but years={years!r}; a Schedule must "
                "have one step per projection year"
            )
        return scenario, "schedule"
    compile_ = getattr(scenario, "compile", None)
    if not callable(compile_):
        raise TypeError(
            f"scenario must be a Scenario (with .compile), a Schedule or None; got {scenario!r}"
        )
    return compile_(species, years=years), str(scenario.name)


def _population_names(species: Any) -> tuple[str, ...]:
    names = getattr(species, "population_names", None)  # includes the implicit default population
    if names is None:
        names = tuple(p.name for p in species.populations)
    return tuple(names)


def simulate(
    species: Any,
    *,
    years: int,
    replicates: int,
    seed: int | None = None,
    scenario: _Compilable | Schedule | None = None,
    record: Sequence[str] | str = ("abundance",),
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
        Root seed (non-negative int). ``None`` draws fresh OS entropy, which is recorded in
        ``attrs["seed_entropy"]`` so that the run can be repeated exactly.
    scenario
        A scenario (any object with ``.name`` and ``.compile(species, *, years) -> Schedule``,
        e.g. :class:`pva.scenario.Scenario`), a :class:`pva.scenario.Schedule`, or ``None`` for no
        threats or interventions.
    record
        Extra arrays the engine records (``"abundance"`` by stage; ``"carrying_capacity"``).
        Mature and total abundance are always recorded.
    chunk_size
        Replicates per chunk; part of the reproducibility contract (results depend on it, not on
        how chunks are later spread over workers).

    Returns
    -------
    xarray.Dataset
        ``mature_abundance`` and ``total_abundance`` (replicate, year, population), and as recorded
        ``abundance`` (replicate, year, population, stage) and ``carrying_capacity``, in individuals:
        int64 with demographic stochasticity, float64 without. Coordinates for every dim; provenance
        in ``attrs``: ``pva_version``, ``seed_entropy`` (str), ``n_replicates``, ``chunk_size``,
        ``scenario``, ``species`` and ``spec`` (JSON of the species and scenario); no timestamp,
        so that the same seed gives an identical Dataset.

    Raises
    ------
    TypeError
        If ``years``, ``replicates`` or ``chunk_size`` is not an integer (bools are refused), or the
        seed or scenario is of the wrong kind.
    ValueError
        If a count is < 1, the seed negative, or a Schedule does not span ``years`` steps.

    Examples
    --------
    >>> ds = pva.simulate(species, years=50, replicates=1000, seed=1)  # doctest: +SKIP
    >>> pva.outcomes.summarize(ds)  # doctest: +SKIP
    """
    years = _positive_int("years", years)
    replicates = _positive_int("replicates", replicates)
    chunk_size = _positive_int("chunk_size", chunk_size)
    record = _record(record)
    entropy = streams.resolve_entropy(seed)
    schedule, scenario_name = _schedule(scenario, species, years)
    parts = [
        engine.project(
            species,
            schedule,
            years=years,
            replicates=stop - start,
            streams=streams.chunk_streams(entropy, species.name, chunk),
            record=record,
        )
        for chunk, (start, stop) in enumerate(streams.chunk_bounds(replicates, chunk_size))
    ]
    return _dataset(
        species,
        parts,
        years=years,
        entropy=entropy,
        chunk_size=chunk_size,
        scenario=scenario,
        scenario_name=scenario_name,
    )


def _dataset(
    species: Any,
    parts: Sequence[Any],
    *,
    years: int,
    entropy: int,
    chunk_size: int,
    scenario: Any,
    scenario_name: str | None,
) -> xr.Dataset:
    """Label the chunks' projections as one Dataset (replicates in chunk order)."""
    import pva  # the package's version; imported here because pva imports this module

    def stacked(field: str) -> np.ndarray | None:
        arrays = [getattr(part, field) for part in parts]
        if any(a is None for a in arrays):
            return None
        return np.concatenate(arrays, axis=0)

    per_population = (results.REPLICATE, results.YEAR, results.POPULATION)
    data: dict[str, xr.Variable] = {}
    for name, field, dims in (
        (results.ABUNDANCE, "abundance", (*per_population, results.STAGE)),
        (results.MATURE, "mature", per_population),
        (results.TOTAL, "total", per_population),
        (results.CARRYING_CAPACITY, "carrying_capacity", per_population),
    ):
        values = stacked(field)
        if values is not None:
            data[name] = results.variable(name, dims, values)
    replicates = int(data[results.TOTAL].shape[0])
    coords = {
        results.REPLICATE: results.variable(
            results.REPLICATE, (results.REPLICATE,), np.arange(replicates, dtype=np.int64)
        ),
        results.YEAR: results.variable(
            results.YEAR, (results.YEAR,), np.arange(years + 1, dtype=np.int64)
        ),
        results.POPULATION: xr.Variable(
            (results.POPULATION,),
            np.array(_population_names(species), dtype=object),
            attrs=dict(_COORD_ATTRS[results.POPULATION]),
        ),
        results.STAGE: xr.Variable(
            (results.STAGE,),
            np.array(species.stages, dtype=object),
            attrs=dict(_COORD_ATTRS[results.STAGE]),
        ),
    }
    scenario_spec = None
    if scenario is not None and hasattr(scenario, "to_dict"):
        scenario_spec = scenario.to_dict()
    spec = {
        "species": species.to_dict(),
        "scenario": scenario_spec if scenario_spec is not None else scenario_name,
        "years": years,
    }
    attrs = {
        results.ATTR_VERSION: pva.__version__,
        results.ATTR_SEED_ENTROPY: str(entropy),
        results.ATTR_REPLICATES: replicates,
        results.ATTR_CHUNK_SIZE: chunk_size,
        results.ATTR_SPEC: json.dumps(spec, sort_keys=True, allow_nan=True),
        "scenario": scenario_name if scenario_name is not None else "none",
        "species": str(species.name),
        # No wall-clock timestamp: the same seed must give an identical Dataset (attrs included),
        # as `pva run` results are.
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)
