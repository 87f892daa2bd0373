"""Running a sweep: every sample of a design through the runner, reduced per sample, in one Dataset.

Each sample is the base study with its parameters set (:func:`pva.sensitivity.paths.assign`,
validated before anything runs). A task runs one sample with :func:`pva.runner.run_study` and
reduces it at once (:func:`reduce_sample`) to what ``pva summary`` reports, so a sweep holds one
sample's trajectories at a time per worker, never all of them. Every sample runs on the same root
entropy and chunk keys (:func:`pva.streams.chunk_streams`), so replicate r sees the same
environmental and catastrophe history in every sample (common random numbers): response curves are
smooth and differences between samples are paired. Demographic draws come from the same streams
too, and agree between samples while their states agree (the samplers use a variable number of
random numbers; ``docs/study-file.md``). The tasks run through
:func:`pva.runner.map_tasks` (joblib's loky processes, threads, Dask, or a running Dask cluster),
each finished sample is
checkpointed (:class:`pva.io.SampleCheckpoints`), and the results are the same for any number of
workers and any backend.

Parameter uncertainty (:func:`run_uncertainty`) draws the parameters once per block of replicates
instead; each block runs on its own chunk key, so the blocks are independent draws of (θ, process)
and the pooled results carry both sources of variance (:mod:`pva.sensitivity.uncertainty`).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

import pva
from pva import io, measures, outcomes, redlist, results, runner, streams, summary
from pva.runner import Backend
from pva.sensitivity import designs, indices, paths, uncertainty
from pva.sensitivity.settings import SweepSettings, UncertaintySettings, factors
from pva.study import Study

Progress = Callable[[int, int], None]
FloatArray = npt.NDArray[np.float64]

HORIZON_DIMS = (results.SPECIES, results.SCENARIO, results.HORIZON)
REPLICATE_DIMS = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.HORIZON)
NOT_SIMULATED = -1
"""Per-replicate indicator at a horizon beyond the sample's years (or a replicate it lacks)."""

_INTERVAL = (results.LOWER_SUFFIX, results.UPPER_SUFFIX)
_REPLICATE_SUMMARY = (
    "",
    results.MCSE_SUFFIX,
    results.LOWER_SUFFIX,
    results.UPPER_SUFFIX,
    results.SPREAD_LOWER_SUFFIX,
    results.SPREAD_UPPER_SUFFIX,
)


def _dims() -> dict[str, tuple[str, ...]]:
    """Dims (but ``sample``) of every array :func:`reduce_sample` may return."""
    out: dict[str, tuple[str, ...]] = {}
    for name in (results.P_EXTINCTION, results.P_QUASI_EXTINCTION):
        for suffix in ("", *_INTERVAL):
            out[name + suffix] = HORIZON_DIMS
    for name in (results.MEDIAN_FINAL_ABUNDANCE, results.EXPECTED_MINIMUM):
        for suffix in ("", *_INTERVAL):
            out[name + suffix] = (results.SPECIES, results.SCENARIO)
    out[results.TOTAL_COST] = (results.SPECIES, results.SCENARIO)
    out[results.QUASI_EXTINCTION_THRESHOLD] = (results.SPECIES,)
    out[results.CATEGORY_SHARE_BY_HORIZON] = (*HORIZON_DIMS, results.CATEGORY_DIM)
    for name in (results.RLI_BY_HORIZON, results.DELTA_RLI_BY_HORIZON):
        for suffix in _REPLICATE_SUMMARY:
            out[name + suffix] = (results.SCENARIO, results.HORIZON)
    out[results.P_RLI_IMPROVED_BY_HORIZON] = (results.SCENARIO, results.HORIZON)
    for name in (
        results.EXTINCT_BY_HORIZON,
        results.QUASI_EXTINCT_BY_HORIZON,
        results.CATEGORY_BY_HORIZON,
    ):
        out[name] = REPLICATE_DIMS
    return out


SAMPLE_DIMS: Mapping[str, tuple[str, ...]] = _dims()
"""Dims of each per-sample variable of a sweep's results (the ``sample`` dim comes first)."""


# ---------------------------------------------------------------------------------------------------
# one sample: what `pva summary` reports, from its results Dataset
# ---------------------------------------------------------------------------------------------------


def reduce_sample(
    ds: xr.Dataset,
    horizons: Sequence[int],
    *,
    confidence: float = 0.95,
    replicate_outcomes: bool = True,
) -> dict[str, npt.NDArray[Any]]:
    """What ``pva summary`` reports for one results Dataset, as arrays of fixed shape.

    The numbers are those of :func:`pva.summary.summary_table` at the same horizons: extinction
    and quasi-extinction probabilities with Wilson intervals (:func:`pva.summary.extinction_curves`),
    median final abundance and expected minimum abundance (:mod:`pva.outcomes`), total cost, and,
    when the Red List can be assessed (:func:`pva.redlist.assess`), category shares, the Red List
    Index and ΔRLI against the study's no-action scenario (paired over replicates) at each horizon.
    Horizons beyond the simulated years give NaN (indicators -1, categories ``NOT_EVALUABLE``).

    Parameters
    ----------
    ds
        A results Dataset (of :func:`pva.runner.run_study`).
    horizons
        Years since the start.
    confidence
        Coverage of every interval.
    replicate_outcomes
        Also return, per replicate, whether it is extinct and quasi-extinct by each horizon and its
        Red List category there (int8; dims :data:`REPLICATE_DIMS`).

    Returns
    -------
    dict
        Result name -> array, dims :data:`SAMPLE_DIMS` (without ``sample``).
    """
    ds = results.check(ds)
    at = _Horizons(ds, horizons)
    # numpy (replicate, year, species, scenario): the estimators of pva.outcomes without the
    # DataArray wrapping, which costs more than the estimates here
    order = (results.REPLICATE, results.YEAR, results.SPECIES, results.SCENARIO)
    total = ds[results.TOTAL].sum(results.POPULATION).transpose(*order).values
    mature = ds[results.MATURE].sum(results.POPULATION).transpose(*order).values
    settings = results.provenance(ds).quasi_extinction
    species = results.names_of(ds, results.SPECIES)
    out: dict[str, npt.NDArray[Any]] = {}
    risk = outcomes.extinction_probability(total, confidence=confidence)
    for suffix, field in zip(
        ("", *_INTERVAL), (risk.estimate, risk.lower, risk.upper), strict=True
    ):
        out[results.P_EXTINCTION + suffix] = at.pick(field)
    quasi = [
        outcomes.quasi_extinction_probability(
            (mature if settings[sp].on == "mature" else total)[:, :, [i]],
            settings[sp].threshold,
            confidence=confidence,
        )
        for i, sp in enumerate(species)
    ]
    for suffix, field in zip(("", *_INTERVAL), ("estimate", "lower", "upper"), strict=True):
        joined = np.concatenate([getattr(q, field) for q in quasi], axis=1)
        out[results.P_QUASI_EXTINCTION + suffix] = at.pick(joined)
    out[results.QUASI_EXTINCTION_THRESHOLD] = np.array([settings[s].threshold for s in species])
    # abundance counted as the summary counts it (pva.measures: mature individuals for a species
    # with mature stages)
    counted = np.stack(
        [
            (mature if c.on == "mature" else total)[:, :, i]
            for i, c in enumerate(measures.abundance_counts(ds))
        ],
        axis=2,
    )
    final = outcomes.final_abundance_quantiles(counted, [0.5], confidence=confidence)
    ema = outcomes.expected_minimum_abundance(counted, confidence=confidence)
    for name, est in ((results.MEDIAN_FINAL_ABUNDANCE, final), (results.EXPECTED_MINIMUM, ema)):
        for suffix, field in zip(
            ("", *_INTERVAL), (est.estimate, est.lower, est.upper), strict=True
        ):
            # quantiles come as (quantile = the median, species, scenario)
            out[name + suffix] = np.asarray(field).reshape(total.shape[2:])
    # expected cost as the summary counts it (the study's discounting, stopping at extinction)
    cost = summary.replicate_costs(ds, summary.cost_settings(ds))
    out[results.TOTAL_COST] = cost.mean(results.REPLICATE).values
    assessment = None
    if not summary.red_list_unavailable(ds):
        assessment = redlist.assess(ds)
        out.update(_red_list(assessment, at, results.no_action_scenario(ds), confidence))
    if replicate_outcomes:
        out.update(_replicate_outcomes(total, mature, settings, at, assessment))
    return out


class _Horizons:
    """The horizons of a sweep within one sample's simulated years."""

    def __init__(self, ds: xr.Dataset, horizons: Sequence[int]) -> None:
        years = [int(y) for y in ds[results.YEAR].values]
        self.all = np.asarray(horizons, dtype=np.int64)
        self.inside = np.isin(self.all, years)
        self.years = [int(h) for h in self.all[self.inside]]
        self.positions = [years.index(h) for h in self.years]

    def pick(self, by_year: FloatArray) -> FloatArray:
        """(year, species, scenario) at the horizons as (species, scenario, horizon), NaN outside
        the years."""
        out = np.full((*by_year.shape[1:], self.all.size), np.nan)
        out[..., self.inside] = np.moveaxis(by_year[self.positions], 0, -1)
        return out

    def values(self, da: xr.DataArray, fill: float = np.nan) -> FloatArray:
        """``da`` (species, scenario, year) at the horizons, ``fill`` outside the years."""
        picked = da.sel({results.YEAR: self.years}).transpose(*HORIZON_DIMS[:2], results.YEAR)
        out = np.full((*picked.shape[:2], self.all.size), fill)
        out[..., self.inside] = picked.values
        return out


def _red_list(
    assessment: xr.Dataset, at: _Horizons, no_action: str, confidence: float
) -> dict[str, FloatArray]:
    """Category shares, RLI and ΔRLI at the horizons, as :func:`pva.summary.red_list_by_horizon`
    computes them (:func:`pva.redlist.category_distribution`; the mean, Monte Carlo SE and central
    share of replicates of :func:`pva.redlist.rli_summary`; ΔRLI as the paired difference of the
    replicates' RLI, as :func:`pva.redlist.delta_rli`), with numpy for the per-replicate part."""
    picked = assessment.sel({results.YEAR: at.years})
    out: dict[str, FloatArray] = {}
    share = redlist.category_distribution(picked[results.CATEGORY]).transpose(
        results.SPECIES, results.SCENARIO, results.YEAR, results.CATEGORY_DIM
    )
    shares = np.full((*share.shape[:2], at.all.size, share.shape[-1]), np.nan)
    shares[:, :, at.inside] = share.values
    out[results.CATEGORY_SHARE_BY_HORIZON] = shares
    rli = picked[results.RLI].transpose(results.SCENARIO, results.REPLICATE, results.YEAR)
    scenarios = results.names_of(picked, results.SCENARIO)
    values = rli.values
    delta = values - values[scenarios.index(no_action)][None]
    z = outcomes.z_score(confidence)
    for name, x in ((results.RLI_BY_HORIZON, values), (results.DELTA_RLI_BY_HORIZON, delta)):
        for suffix, part in zip(
            _REPLICATE_SUMMARY, _replicate_summary(x, z, confidence), strict=True
        ):
            full = np.full((len(scenarios), at.all.size), np.nan)
            full[:, at.inside] = part
            out[name + suffix] = full
    improved = np.full((len(scenarios), at.all.size), np.nan)
    with np.errstate(invalid="ignore"):
        improved[:, at.inside] = np.nanmean(np.where(np.isnan(delta), np.nan, delta > 0), axis=1)
    out[results.P_RLI_IMPROVED_BY_HORIZON] = improved
    return out


def _replicate_summary(x: FloatArray, z: float, confidence: float) -> tuple[FloatArray, ...]:
    """Mean over replicates (axis 1), its Monte Carlo SE, the normal interval of the mean and the
    central ``confidence`` share of replicates, NaN replicates left out (as
    :func:`pva.redlist.rli_summary`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no replicate has a value: NaN
        mean = np.nanmean(x, axis=1)
        count = np.sum(~np.isnan(x), axis=1)
        mcse = np.nanstd(x, axis=1, ddof=1) / np.sqrt(count)
        spread = np.nanquantile(x, [(1 - confidence) / 2, (1 + confidence) / 2], axis=1)
    return mean, mcse, mean - z * mcse, mean + z * mcse, spread[0], spread[1]


def _replicate_outcomes(
    total: FloatArray,
    mature: FloatArray,
    settings: Mapping[str, results.QuasiExtinction],
    at: _Horizons,
    assessment: xr.Dataset | None,
) -> dict[str, npt.NDArray[np.int8]]:
    """Per replicate: extinct and quasi-extinct by each horizon (1/0), and the category there,
    from abundance (replicate, year, species, scenario) summed over populations."""
    horizons = at.all[None, None, None, :]

    def by_horizon(first: FloatArray) -> npt.NDArray[np.int8]:
        # first passage year (replicate, species, scenario), NaN if never
        hit = (np.moveaxis(first, 0, -1)[..., None] <= horizons).astype(np.int8)
        hit[..., ~at.inside] = NOT_SIMULATED
        return hit

    quasi = np.concatenate(
        [
            outcomes.first_passage_year(
                (mature if setting.on == "mature" else total)[:, :, [i]], setting.threshold
            )
            for i, setting in enumerate(settings.values())
        ],
        axis=1,
    )
    out = {
        results.EXTINCT_BY_HORIZON: by_horizon(outcomes.first_passage_year(total, 0.0)),
        results.QUASI_EXTINCT_BY_HORIZON: by_horizon(quasi),
    }
    categories = np.full(out[results.EXTINCT_BY_HORIZON].shape, redlist.NOT_EVALUABLE, np.int8)
    if assessment is not None:
        picked = assessment[results.CATEGORY].sel({results.YEAR: at.years})
        order = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR)
        categories[..., at.inside] = picked.transpose(*order).values
    out[results.CATEGORY_BY_HORIZON] = categories
    return out


# ---------------------------------------------------------------------------------------------------
# samples: the studies of a design, validated before anything runs
# ---------------------------------------------------------------------------------------------------


def _describe(parameters: Sequence[paths.Parameter], names: Sequence[str], row: FloatArray) -> str:
    return ", ".join(f"{n}={p.value(x)!r}" for p, n, x in zip(parameters, names, row, strict=True))


def sample_studies(
    study: Study,
    parameters: Sequence[paths.Parameter],
    design: designs.Design,
    *,
    doc: Mapping[str, Any] | None = None,
    label: str = "sample",
) -> list[Study]:
    """The study of each sample of ``design`` (parameters in the order of its factors).

    Raises
    ------
    ParameterValueError
        For the first sample the specifications refuse, naming it (``label`` and its index), its
        values, the rule broken, and the range each of its values accepts alone.
    """
    doc = study.to_dict() if doc is None else doc
    out = []
    for s, row in enumerate(design.values):
        values = dict(zip(parameters, row, strict=True))
        try:
            out.append(paths.assign(study, values, doc=doc))
        except paths.ParameterPathError:
            raise
        except (ValueError, TypeError) as exc:
            notes = [paths.range_note(study, p, float(x), doc=doc) for p, x in values.items()]
            notes = [n for n in notes if n]
            alone = [p for p, x in values.items() if not paths.accepts(study, p, x, doc=doc)]
            if not alone:
                notes = ["each value is accepted on its own; their combination is not"]
            text = " ".join(str(exc).split())
            raise paths.ParameterValueError(
                f"{label} {s} ({_describe(parameters, design.names, row)}) is refused: {text}"
                + (f" ({'; '.join(notes)})" if notes else "")
            ) from None
    return out


def default_horizons(study: Study) -> tuple[int, ...]:
    """The study's ``outputs.horizons`` and its final year."""
    return tuple(sorted({*study.outputs.horizons, study.years}))


# ---------------------------------------------------------------------------------------------------
# the sweep
# ---------------------------------------------------------------------------------------------------


def _run_sample(
    study: Study, horizons: tuple[int, ...], confidence: float, replicate_outcomes: bool
) -> dict[str, npt.NDArray[Any]]:
    """One task: a sample's study through the runner (in this worker), reduced at once."""
    ds = runner.run_study(study, backend="sequential")
    return reduce_sample(ds, horizons, confidence=confidence, replicate_outcomes=replicate_outcomes)


def _entropy_and_store(
    study: Study,
    seed: int | None,
    checkpoint_dir: str | os.PathLike[str] | None,
    digest: str,
) -> tuple[int, io.SampleCheckpoints | None]:
    given = study.seed if seed is None else streams.resolve_entropy(seed)
    if checkpoint_dir is None:
        return (streams.resolve_entropy(given), None)
    store = io.SampleCheckpoints(checkpoint_dir, digest, given)
    return store.entropy, store


def _digest(study: Study, kind: str, settings: Mapping[str, Any]) -> str:
    text = json.dumps({"study": study.to_dict(), kind: settings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _execute(
    function: Callable[..., dict[str, npt.NDArray[Any]]],
    tasks: Sequence[Mapping[str, Any]],
    store: io.SampleCheckpoints | None,
    *,
    jobs: int,
    backend: Backend,
    scheduler: str | None,
    progress: Progress | None,
) -> list[dict[str, npt.NDArray[Any]]]:
    """Every call's arrays, in order: from the checkpoints where finished, else run (and saved)."""
    done: list[dict[str, npt.NDArray[Any]] | None] = [
        None if store is None else store.load_sample(i) for i in range(len(tasks))
    ]
    todo = [i for i, d in enumerate(done) if d is None]
    count = len(tasks) - len(todo)
    if progress is not None:
        progress(count, len(tasks))
    finished = runner.map_tasks(
        function, [tasks[i] for i in todo], jobs=jobs, backend=backend, scheduler=scheduler
    )
    for i, arrays in zip(todo, finished, strict=True):
        if store is not None:
            store.save_sample(i, arrays)
        done[i] = arrays
        count += 1
        if progress is not None:
            progress(count, len(tasks))
    return [d for d in done if d is not None]


def sweep(
    study: Study,
    settings: SweepSettings,
    *,
    jobs: int = 1,
    backend: Backend = "loky",
    scheduler: str | None = None,
    progress: Progress | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    confidence: float = 0.95,
    resamples: int = 1000,
) -> xr.Dataset:
    """Run ``study`` at every sample of the design ``settings`` asks for; one Dataset.

    Parameters
    ----------
    study
        The base study; its parameters at the settings' paths are varied.
    settings
        The parameters (paths and ranges or distributions), the design and its size.
    jobs, backend, scheduler
        Workers, joblib backend, or a running Dask cluster (as :func:`pva.runner.run_study`);
        they do not change the numbers.
    progress
        ``progress(done, total)`` over samples, called at the start and after each sample.
    checkpoint_dir
        Folder for finished samples; a rerun of the same sweep and seed resumes from it.
    seed
        Overrides ``study.seed``; with neither, fresh entropy (recorded in ``seed_entropy``). The
        design's random points and the bootstrap of the indices are drawn from it too
        (:func:`pva.streams.sweep_generator`).
    confidence
        Coverage of every interval.
    resamples
        Bootstrap resamples of the Sobol' and Morris indices.

    Returns
    -------
    xarray.Dataset
        Dims ``sample``, ``species``, ``scenario``, ``horizon`` (the study's horizons and its final
        year), ``category``, ``parameter`` (and ``replicate`` with ``replicate_outcomes``).
        Coordinates ``param_<name>`` (sample): each parameter's value in each sample; ``parameter``
        with ``parameter_path``, ``_low``, ``_high``, ``_base``. Per sample, what ``pva summary``
        reports (:func:`reduce_sample`, dims :data:`SAMPLE_DIMS`), ``design_point`` (sample,
        parameter), and, by design, ``sobol_first``/``sobol_total`` (lhs: ``prcc``; morris:
        ``morris_mu_star``, ``morris_mu``, ``morris_sigma``) of the risk (``risk_measure``) over
        (species, scenario, horizon, parameter) with their intervals. Attributes as a results file
        (``study``: the base study) plus ``sweep`` (the design as JSON).

    Raises
    ------
    ParameterPathError, ParameterValueError
        Before anything runs, for a bad path or a value (or a sample) the study refuses.
    """
    if not isinstance(study, Study):
        raise TypeError(f"study must be a pva.study.Study; got {study!r}")
    described = settings.to_dict()
    digest = _digest(study, "sweep", {**described, "confidence": confidence})
    entropy, store = _entropy_and_store(study, seed, checkpoint_dir, digest)
    base = study.with_(seed=entropy)
    doc = base.to_dict()
    parameters, factor_list = factors(base, settings.parameters, doc=doc)
    design = designs.make(
        settings.design,
        factor_list,
        samples=settings.samples,
        levels=settings.levels,
        rng=streams.sweep_generator(entropy, "design"),
    )
    studies = sample_studies(base, parameters, design, doc=doc)
    horizons = default_horizons(base)
    tasks = [
        {
            "study": s,
            "horizons": horizons,
            "confidence": confidence,
            "replicate_outcomes": settings.replicate_outcomes,
        }
        for s in studies
    ]
    arrays = _execute(
        _run_sample,
        tasks,
        store,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        progress=progress,
    )
    ds = _assemble(base, parameters, design, horizons, arrays, entropy=entropy)
    rng = streams.sweep_generator(entropy, "bootstrap")
    _add_indices(ds, design, rng=rng, confidence=confidence, resamples=resamples)
    ds.attrs[results.ATTR_SWEEP] = json.dumps(
        {**json.loads(design.to_json()), "settings": described}, sort_keys=True
    )
    ds.attrs["confidence"] = confidence
    return ds


def _stack(arrays: Sequence[Mapping[str, npt.NDArray[Any]]], name: str) -> npt.NDArray[Any]:
    """One variable over samples; replicates padded where samples have different numbers."""
    parts = [a[name] for a in arrays]
    shapes = {p.shape for p in parts}
    if len(shapes) == 1:
        return np.stack(parts)
    width = max(p.shape[2] for p in parts)
    fill = redlist.NOT_EVALUABLE if name == results.CATEGORY_BY_HORIZON else NOT_SIMULATED
    out = np.full((len(parts), *parts[0].shape[:2], width, parts[0].shape[3]), fill, np.int8)
    for s, p in enumerate(parts):
        out[s, :, :, : p.shape[2]] = p
    return out


def _parameter_coords(
    parameters: Sequence[paths.Parameter], design: designs.Design, dim: str
) -> dict[str, xr.Variable]:
    coords: dict[str, xr.Variable] = {}
    for i, (p, f) in enumerate(zip(parameters, design.factors, strict=True)):
        coords[results.PARAMETER_PREFIX + f.name] = xr.Variable(
            dim,
            design.values[:, i],
            attrs={"units": "1", "long_name": f"value of {p.path}", "path": p.path},
        )
    coords[results.PARAMETER] = results.variable(
        results.PARAMETER, results.PARAMETER, np.array(design.names, dtype=object)
    )
    for name, values in (
        (results.PARAMETER_PATH, np.array([p.path for p in parameters], dtype=object)),
        (results.PARAMETER_LOW, np.array([f.low for f in design.factors])),
        (results.PARAMETER_HIGH, np.array([f.high for f in design.factors])),
        (
            results.PARAMETER_BASE,
            np.array([np.nan if p.base is None else float(p.base) for p in parameters]),
        ),
    ):
        coords[name] = results.variable(name, results.PARAMETER, values)
    return coords


def _assemble(
    base: Study,
    parameters: Sequence[paths.Parameter],
    design: designs.Design,
    horizons: tuple[int, ...],
    arrays: Sequence[Mapping[str, npt.NDArray[Any]]],
    *,
    entropy: int,
) -> xr.Dataset:
    """The sweep's Dataset from the samples' arrays (in sample order)."""
    data: dict[str, xr.Variable] = {}
    names = [n for n in SAMPLE_DIMS if n in arrays[0]]
    for name in names:
        suffixes = sorted(_REPLICATE_SUMMARY[1:], key=len, reverse=True)
        stem = next((name[: -len(s)] for s in suffixes if name.endswith(s)), name)
        attrs = dict(results.VARIABLE_ATTRS.get(stem, {}))
        if stem != name:
            attrs["statistic"] = name[len(stem) + 1 :]
        data[name] = xr.Variable((results.SAMPLE, *SAMPLE_DIMS[name]), _stack(arrays, name), attrs)
    thresholds = data.pop(results.QUASI_EXTINCTION_THRESHOLD)
    # a swept threshold is in its param_<name> coordinate; the results' threshold (species) is
    # the one every sample shares, else the study's own (pva.results.provenance)
    if np.all(thresholds.values == thresholds.values[:1]):
        data[results.QUASI_EXTINCTION_THRESHOLD] = results.variable(
            results.QUASI_EXTINCTION_THRESHOLD, (results.SPECIES,), thresholds.values[0]
        )
    if not np.any(data[results.TOTAL_COST].values != 0):
        data.pop(results.TOTAL_COST)
    else:
        data[results.TOTAL_COST].attrs["units"] = base.outputs.currency or "currency units"
    data[results.DESIGN_POINT] = results.variable(
        results.DESIGN_POINT, (results.SAMPLE, results.PARAMETER), design.unit
    )
    coords = _coords(base, horizons, arrays)
    coords[results.SAMPLE] = results.variable(
        results.SAMPLE, results.SAMPLE, np.arange(design.samples, dtype=np.int64)
    )
    coords.update(_parameter_coords(parameters, design, results.SAMPLE))
    if design.kind == "oat":
        coords[VARIED_PARAMETER] = xr.Variable(
            results.SAMPLE,
            _varied(design),
            attrs={"units": "1", "long_name": "index of the parameter varied (-1: the base point)"},
        )
    ds = xr.Dataset(data, coords=coords)
    ds.attrs = _attrs(base, entropy)
    _add_risk_measures(ds)
    return ds


def _add_risk_measures(ds: xr.Dataset) -> None:
    """``risk_measure`` and ``quasi_extinction_on`` (species) of the base study, as in the summary
    table (:mod:`pva.measures`); ``p_quasi_extinction`` is each species' risk measure."""
    chosen = measures.risk_measures(ds)
    species = results.names_of(ds, results.SPECIES)
    for name, values in (
        (results.RISK_MEASURE, [chosen[sp].event for sp in species]),
        (results.QUASI_EXTINCTION_ON, [chosen[sp].counted.on for sp in species]),
    ):
        ds[name] = results.variable(name, (results.SPECIES,), np.array(values, dtype=object))


VARIED_PARAMETER = "varied_parameter"
"""Coordinate of a one-at-a-time sweep: the index of the parameter each sample varies (-1: the
base point)."""


def _varied(design: designs.Design) -> npt.NDArray[np.int64]:
    out = [-1]
    for i, f in enumerate(design.factors):
        out.extend([i] * len(f.levels()))
    return np.asarray(out, dtype=np.int64)


def _coords(
    base: Study, horizons: Sequence[int], arrays: Sequence[Mapping[str, npt.NDArray[Any]]]
) -> dict[str, xr.Variable]:
    coords: dict[str, xr.Variable] = {
        results.SPECIES: results.variable(
            results.SPECIES, results.SPECIES, np.array(base.species_names, dtype=object)
        ),
        results.SCENARIO: results.variable(
            results.SCENARIO, results.SCENARIO, np.array(base.scenario_names, dtype=object)
        ),
        results.HORIZON: results.variable(
            results.HORIZON, results.HORIZON, np.asarray(horizons, dtype=np.int64)
        ),
    }
    for name in (results.TAXON, results.COUNTRY, results.SITE):
        values = np.array([getattr(s, name) for s in base.species], dtype=object)
        coords[name] = results.variable(name, (results.SPECIES,), values)
    if results.CATEGORY_SHARE_BY_HORIZON in arrays[0]:
        coords[results.CATEGORY_DIM] = xr.Variable(
            results.CATEGORY_DIM, np.array(redlist.CATEGORY_LABELS, dtype=object)
        )
    if results.EXTINCT_BY_HORIZON in arrays[0]:
        width = max(a[results.EXTINCT_BY_HORIZON].shape[2] for a in arrays)
        coords[results.REPLICATE] = results.variable(
            results.REPLICATE, results.REPLICATE, np.arange(width, dtype=np.int64)
        )
    return coords


def _attrs(base: Study, entropy: int) -> dict[str, Any]:
    return {
        results.ATTR_VERSION: pva.__version__,
        results.ATTR_SEED_ENTROPY: str(entropy),
        results.ATTR_REPLICATES: int(base.replicates),
        results.ATTR_CHUNK_SIZE: int(base.chunk_size),
        results.ATTR_STUDY: json.dumps(
            {**base.to_dict(), results.NO_ACTION_KEY: base.baseline}, sort_keys=True
        ),
    }


def risk(ds: xr.Dataset) -> xr.DataArray:
    """The risk of each species in a sweep's results: its risk measure (``p_quasi_extinction``,
    the probability of reaching the species' quasi-extinction threshold, :mod:`pva.measures`),
    dims (sample, species, scenario, horizon)."""
    return ds[results.P_QUASI_EXTINCTION].transpose(results.SAMPLE, *HORIZON_DIMS)


def _add_indices(
    ds: xr.Dataset,
    design: designs.Design,
    *,
    rng: np.random.Generator,
    confidence: float,
    resamples: int,
) -> None:
    """The design's sensitivity indices of the risk, over (species, scenario, horizon, parameter)."""
    y = risk(ds)
    shape = y.shape[1:]
    flat = y.values.reshape(y.shape[0], -1)
    dims = (*HORIZON_DIMS, results.PARAMETER)
    found: dict[str, FloatArray] = {}
    if design.kind == "sobol":
        found = indices.sobol_arrays(
            design, flat, rng=rng, confidence=confidence, resamples=resamples
        )
        names = {"first": results.SOBOL_FIRST, "total": results.SOBOL_TOTAL}
    elif design.kind == "morris":
        found = indices.morris_arrays(
            design, flat, rng=rng, confidence=confidence, resamples=resamples
        )
        names = {
            "mu": results.MORRIS_MU,
            "mu_star": results.MORRIS_MU_STAR,
            "sigma": results.MORRIS_SIGMA,
        }
    elif design.kind == "lhs":
        found = indices.prcc_arrays(design, flat, confidence=confidence)
        names = {"prcc": results.PRCC, "p_value": results.PRCC_P_VALUE}
    else:
        return
    stems = sorted(names, key=len, reverse=True)  # "mu_star" before "mu"
    for key, values in found.items():
        stem = next(k for k in stems if key == k or key.startswith(k + "_"))
        suffix = key[len(stem) :]
        attrs = dict(results.VARIABLE_ATTRS[names[stem]])
        attrs["output"] = "risk (the risk_measure of each species)"
        if suffix in _INTERVAL:
            attrs["interval"] = f"{confidence:.0%} interval"
        ds[names[stem] + suffix] = xr.Variable(dims, values.T.reshape(*shape, -1), attrs)


# ---------------------------------------------------------------------------------------------------
# parameter uncertainty
# ---------------------------------------------------------------------------------------------------


def _run_draw(
    study: Study,
    draw: int,
    horizons: tuple[int, ...],
    red_list: bool,
) -> dict[str, npt.NDArray[Any]]:
    """One block of replicates with one draw of the parameters: its trajectories on chunk key
    ``draw`` (independent of the other draws'), and the Red List category of its replicates at
    year 0 and the horizons."""
    schedules = tuple(
        tuple(
            study.scenario_for(i, j).compile(s.species, years=study.years)
            for j in range(len(study.scenarios))
        )
        for i, s in enumerate(study.species)
    )
    entropy = int(study.seed)  # type: ignore[arg-type]
    tasks = [
        runner.run_task(
            s.species,
            schedules[i],
            years=study.years,
            replicates=study.replicates,
            entropy=entropy,
            chunk=draw,
            red_list_e=study.outputs.red_list_e,
        )
        for i, s in enumerate(study.species)
    ]
    out: dict[str, npt.NDArray[Any]] = {}
    for i, task in enumerate(tasks):
        for field in io.TaskArrays._fields:
            value = getattr(task, field)
            if value is not None:
                out[f"{field}_{i}"] = value
    if red_list:
        block = _block_dataset(study, schedules, tasks, entropy)
        assessment = redlist.assess(block)
        years = [0, *horizons]
        out["category"] = (
            assessment[results.CATEGORY]
            .sel({results.YEAR: years})
            .transpose(results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR)
            .values
        )
    return out


def _block_dataset(
    study: Study, schedules: Any, tasks: Sequence[io.TaskArrays], entropy: int
) -> xr.Dataset:
    """The results Dataset of one block (its replicates only)."""
    n_pop = max(t.mature.shape[-1] for t in tasks)
    shape = (len(tasks), *tasks[0].mature.shape[:3], n_pop)
    mature, total = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    for i, t in enumerate(tasks):
        mature[i, ..., : t.mature.shape[-1]] = t.mature
        total[i, ..., : t.total.shape[-1]] = t.total
    nested = _nested(study, tasks)
    return results.build(
        study,
        mature=mature,
        total=total,
        schedules=schedules,
        entropy=entropy,
        extinction_risk=nested[0],
        projected_mature=nested[1],
    )


def _nested(
    study: Study, tasks: Sequence[io.TaskArrays]
) -> tuple[FloatArray | None, FloatArray | None]:
    """The nested criterion-E arrays of the tasks in the study layout (NaN at years not assessed)."""
    settings = study.outputs.red_list_e
    if settings is None or tasks[0].extinction_risk is None:
        return None, None
    n_sc, n_rep = tasks[0].mature.shape[:2]
    years = list(settings.years)
    leads = max(t.projected_mature.shape[-1] for t in tasks)  # type: ignore[union-attr]
    risk_ = np.full((len(tasks), n_sc, n_rep, study.years + 1, len(results.E_WINDOWS)), np.nan)
    projected = np.full((len(tasks), n_sc, n_rep, study.years + 1, leads), np.nan)
    for i, t in enumerate(tasks):
        risk_[i][:, :, years] = t.extinction_risk
        width = t.projected_mature.shape[-1]  # type: ignore[union-attr]
        projected[i][:, :, years, :width] = t.projected_mature
    return risk_, projected


def run_uncertainty(
    study: Study,
    settings: UncertaintySettings,
    *,
    jobs: int = 1,
    backend: Backend = "loky",
    scheduler: str | None = None,
    progress: Progress | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    confidence: float = 0.95,
    red_list: bool | None = None,
) -> xr.Dataset:
    """Run ``study`` with its uncertain parameters drawn once per block of replicates.

    The study's replicates are cut into ``draws = replicates / replicates_per_draw`` blocks; block
    b has its own draw θ_b of every uncertain parameter (independent uniforms from
    :func:`pva.streams.sweep_generator` ``(entropy, "uncertainty")`` through each distribution's
    quantile function) and runs on chunk key b, so blocks are independent and the pooled replicates
    are draws from the joint distribution of parameters and process: their risk includes parameter
    uncertainty (the RAMAS and VORTEX practice of sampling parameters between replicates).

    Returns
    -------
    xarray.Dataset
        A results Dataset of the usual layout (``pva summary``, ``pva report`` and ``pva plot``
        read it as any results file) over all ``draws x replicates_per_draw`` replicates, with
        ``replicate_draw`` (replicate), the ``draw`` dim with ``param_<name>`` (draw) and the
        ``parameter`` coordinates; ``risk_by_draw`` (draw, species, scenario, horizon); the split
        of the variance of the risk indicator, ``risk_variance_total``, ``_parameter``, ``_process``
        and ``risk_parameter_share`` with ``_se`` (species, scenario, horizon;
        :func:`pva.sensitivity.uncertainty.variance_split`); with the Red List (``red_list`` None:
        when a generation length is known), ``category_by_draw`` (draw, species, scenario,
        assessment_year) and the plausible range ``category_range_lower``/``_upper`` and
        ``category_mode`` (:func:`pva.sensitivity.uncertainty.category_range`). Attribute
        ``uncertainty``: the settings as JSON.

    Raises
    ------
    ValueError
        If the replicates are not a multiple of ``replicates_per_draw``; ParameterPathError or
        ParameterValueError (naming the draw) before anything runs.
    """
    if not isinstance(study, Study):
        raise TypeError(f"study must be a pva.study.Study; got {study!r}")
    block = settings.replicates_per_draw
    if study.replicates % block:
        raise ValueError(
            f"[uncertainty]: the study's replicates ({study.replicates}) must be a multiple of "
            f"replicates_per_draw ({block})"
        )
    draws = study.replicates // block
    digest = _digest(study, "uncertainty", settings.to_dict())
    entropy, store = _entropy_and_store(study, seed, checkpoint_dir, digest)
    base = study.with_(seed=entropy)
    doc = base.to_dict()
    parameters, factor_list = factors(base, settings.parameters, doc=doc)
    design = designs.random(factor_list, draws, rng=streams.sweep_generator(entropy, "uncertainty"))
    blocks = sample_studies(base.with_(replicates=block), parameters, design, doc=doc, label="draw")
    horizons = default_horizons(base)
    if red_list is None:
        red_list = all(s.species.generation_length is not None for s in base.species)
    tasks = [
        {"study": s, "draw": b, "horizons": horizons, "red_list": red_list}
        for b, s in enumerate(blocks)
    ]
    arrays = _execute(
        _run_draw,
        tasks,
        store,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        progress=progress,
    )
    ds = _uncertainty_dataset(base, arrays, block, entropy)
    coords = _parameter_coords(parameters, design, results.DRAW)
    coords[results.DRAW] = results.variable(
        results.DRAW, results.DRAW, np.arange(draws, dtype=np.int64)
    )
    coords[results.REPLICATE_DRAW] = results.variable(
        results.REPLICATE_DRAW, results.REPLICATE, np.repeat(np.arange(draws), block)
    )
    ds = ds.assign_coords(coords)
    uncertainty.add_summaries(ds, horizons, arrays, confidence=confidence, red_list=red_list)
    ds.attrs[results.ATTR_UNCERTAINTY] = json.dumps(settings.to_dict(), sort_keys=True)
    return ds


def _uncertainty_dataset(
    base: Study, arrays: Sequence[Mapping[str, npt.NDArray[Any]]], block: int, entropy: int
) -> xr.Dataset:
    """The pooled results Dataset of every block, replicates in block order."""
    n_sp = len(base.species)
    tasks = [
        io.TaskArrays(
            *(
                np.concatenate([a[f"{field}_{i}"] for a in arrays], axis=1)
                if f"{field}_{i}" in arrays[0]
                else None
                for field in io.TaskArrays._fields
            )
        )
        for i in range(n_sp)
    ]
    schedules = tuple(
        tuple(
            base.scenario_for(i, j).compile(s.species, years=base.years)
            for j in range(len(base.scenarios))
        )
        for i, s in enumerate(base.species)
    )
    return _block_dataset(base, schedules, tasks, entropy)


__all__ = [
    "SAMPLE_DIMS",
    "VARIED_PARAMETER",
    "default_horizons",
    "reduce_sample",
    "risk",
    "run_uncertainty",
    "sample_studies",
    "sweep",
]
