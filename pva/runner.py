"""Run a :class:`~pva.study.Study`: tasks in parallel, checkpoints, one results Dataset.

The only module aware of parallelism (../shared/DESIGN.md). A task is one (species ``i``, replicate
chunk ``k``); it runs every scenario ``j`` of the species on the same streams
``pva.streams.chunk_streams(entropy, species, k)``, re-created for each scenario, so replicate ``r``
sees the same environmental, catastrophe and demographic random numbers under every scenario
(common random numbers: intervention effects are paired differences). Because the streams depend on
the chunk layout only, the results are identical bit for bit for any ``jobs`` and ``backend``.

Tasks run through :class:`joblib.Parallel` (loky processes locally, threads, or a Dask cluster
through joblib's ``dask`` backend). With ``checkpoint_dir`` each finished task is written there
atomically; a rerun skips them (resume) and refuses checkpoints of another study or seed.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import joblib
import numpy as np
import numpy.typing as npt
import xarray as xr

import pva
from pva import engine, nested, redlist, results, streams
from pva.schedule import Schedule
from pva.study import RedListE, Study

Backend = Literal["loky", "dask", "threading", "sequential"]
Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` in the calling process after each finished task."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_MANIFEST = "manifest.json"


# ---------------------------------------------------------------------------------------------------
# one task
# ---------------------------------------------------------------------------------------------------


def _counts(values: Any) -> IntArray:
    """Engine output as int64 individuals; a deterministic (non-integer) projection is rounded
    down, because a fraction of an individual does not exist (and the Red List counts individuals).
    An exploding deterministic projection is capped at ``2**62 / populations`` individuals per
    population (the last axis), so that int64 holds them and their sum over populations."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    cap = float(2**62 // max(arr.shape[-1] if arr.ndim else 1, 1))
    return np.floor(np.minimum(arr, cap) + 1e-9).astype(np.int64)


def run_task(
    species: Any,
    schedules: tuple[Schedule, ...],
    *,
    years: int,
    replicates: int,
    entropy: int,
    chunk: int,
    red_list_e: RedListE | None = None,
) -> tuple[IntArray, IntArray, FloatArray | None]:
    """Project one replicate chunk of one species under every scenario.

    With ``red_list_e`` (assessment years set), also the nested criterion-E probabilities
    (:func:`pva.nested.extinction_risk_windows`) from each replicate's state at those years, with
    inner streams :func:`pva.nested.nested_seed` ``(entropy, species, chunk, year)`` shared by all
    scenarios.

    Returns
    -------
    (mature, total, extinction_risk)
        int64 arrays of shape (scenarios, replicates, years + 1, populations); float64 of shape
        (scenarios, replicates, assessment years, 3) for the CR, EN and VU windows, or None.
    """
    e_years = () if red_list_e is None else red_list_e.years
    if e_years and species.generation_length is None:
        raise ValueError(
            f"species {species.name!r} needs a generation_length for [outputs.red_list_e]"
        )
    windows = redlist.e_windows(species.generation_length) if e_years else ()
    mature, total, risk = [], [], []
    for schedule in schedules:
        out = engine.project(
            species,
            schedule,
            years=years,
            replicates=replicates,
            streams=streams.chunk_streams(entropy, species.name, chunk),
            # the stage state is needed only at the assessment years of nested E
            record=("abundance",) if e_years else (),
        )
        mature.append(_counts(out.mature))
        total.append(_counts(out.total))
        if e_years and red_list_e is not None and out.abundance is not None:
            risk.append(
                np.stack(
                    [
                        nested.extinction_risk_windows(
                            species,
                            schedule,
                            out.abundance[:, y],
                            start_year=y,
                            windows=windows,
                            inner_replicates=red_list_e.inner_replicates,
                            seed=nested.nested_seed(entropy, species.name, chunk, y),
                            quasi_extinction=red_list_e.quasi_extinction,
                        )
                        for y in e_years
                    ],
                    axis=1,
                )
            )
    return np.stack(mature), np.stack(total), (np.stack(risk) if e_years else None)


# ---------------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------------


def _atomic_write(path: Path, write: Callable[[Any], None], *, binary: bool = True) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _task_file(folder: Path, i: int, k: int) -> Path:
    return folder / f"task-{i:04d}-{k:06d}.npz"


class _Checkpoints:
    """Finished tasks of one study and seed in a folder (a manifest plus one .npz per task)."""

    def __init__(self, folder: str | os.PathLike[str], digest: str, entropy: int | None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / _MANIFEST
        if manifest.exists():
            try:
                saved = json.loads(manifest.read_text(encoding="utf-8"))
                saved_digest, saved_entropy = str(saved["digest"]), int(saved["entropy"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"checkpoint manifest {manifest} is unreadable ({exc})") from None
            if saved_digest != digest:
                raise ValueError(
                    f"checkpoints in {self.folder} belong to a different study (its specification "
                    "changed); use an empty --checkpoint-dir or delete that folder"
                )
            if entropy is not None and saved_entropy != entropy:
                raise ValueError(
                    f"checkpoints in {self.folder} were run with seed entropy {saved_entropy}, not "
                    f"{entropy}; use an empty --checkpoint-dir or the same seed"
                )
            entropy = saved_entropy
        if entropy is None:
            entropy = streams.resolve_entropy(None)
        if not manifest.exists():
            text = json.dumps({"digest": digest, "entropy": str(entropy)})
            _atomic_write(manifest, lambda fh: fh.write(text), binary=False)
        self.digest = digest
        self.entropy = entropy

    def load(
        self, i: int, k: int, shape: tuple[int, ...], risk_shape: tuple[int, ...] | None = None
    ) -> tuple[IntArray, IntArray, FloatArray | None] | None:
        path = _task_file(self.folder, i, k)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            if str(data["digest"]) != self.digest or int(data["entropy"]) != self.entropy:
                raise ValueError(f"checkpoint {path} belongs to a different study or seed")
            mature, total = data["mature"], data["total"]
            risk = data["extinction_risk"] if "extinction_risk" in data.files else None
        if mature.shape != shape or total.shape != shape:
            raise ValueError(f"checkpoint {path} has shape {mature.shape}, expected {shape}")
        if risk_shape is not None and (risk is None or risk.shape != risk_shape):
            got = None if risk is None else risk.shape
            raise ValueError(f"checkpoint {path} has extinction_risk {got}, expected {risk_shape}")
        return mature, total, risk

    def save(
        self, i: int, k: int, mature: IntArray, total: IntArray, risk: FloatArray | None = None
    ) -> None:
        def write(fh: Any) -> None:
            extra = {} if risk is None else {"extinction_risk": risk}
            np.savez(
                fh,
                mature=mature,
                total=total,
                digest=np.array(self.digest),
                entropy=np.array(str(self.entropy)),
                **extra,
            )

        _atomic_write(_task_file(self.folder, i, k), write)


# ---------------------------------------------------------------------------------------------------
# parallel execution
# ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _dask_backend(jobs: int) -> Iterator[None]:
    """joblib's dask backend on the current dask.distributed Client, or on a temporary
    LocalCluster of ``jobs`` single-threaded worker processes if there is none."""
    try:
        from dask.distributed import Client, LocalCluster, get_client
    except ImportError:  # pragma: no cover - dask is an optional extra
        raise ValueError("backend='dask' needs dask.distributed: pip install 'pva[dask]'") from None
    try:
        get_client()
        owned = None
    except ValueError:
        cluster = LocalCluster(
            n_workers=max(jobs, 1), threads_per_worker=1, processes=True, dashboard_address=None
        )
        owned = (cluster, Client(cluster))
    try:
        with joblib.parallel_config(backend="dask"):
            yield
    finally:
        if owned is not None:
            owned[1].close()
            owned[0].close()


def _check_jobs(jobs: object) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int | np.integer) or jobs == 0:
        raise ValueError(f"jobs must be a non-zero integer (-1: all cores); got {jobs!r}")
    return int(jobs)


def run_study(
    study: Study,
    *,
    jobs: int = 1,
    backend: Backend = "loky",
    progress: Progress | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    seed: int | None = None,
) -> xr.Dataset:
    """Run every species x scenario x replicate of ``study``; return the results Dataset.

    Parameters
    ----------
    study
        The study.
    jobs
        Parallel workers (``-1``: all cores). Does not change the numbers.
    backend
        ``"loky"`` (processes), ``"threading"``, ``"sequential"`` or ``"dask"`` (joblib's dask
        backend: the current ``dask.distributed`` Client, or a temporary LocalCluster of ``jobs``
        workers). Does not change the numbers.
    progress
        ``progress(done, total)``, called after each finished task (species x replicate chunk).
    checkpoint_dir
        Folder for finished tasks; a rerun with the same study and seed resumes from it.
    seed
        Overrides ``study.seed``. With neither, fresh entropy is drawn (or the checkpoint's reused)
        and recorded in ``attrs["seed_entropy"]``.

    Returns
    -------
    xarray.Dataset
        Dims ``species, scenario, replicate, year, population``; ``mature_abundance`` and
        ``total_abundance`` (species, scenario, replicate, year, population) int64, padded with 0
        where a species has fewer populations (see ``population_exists``); ``generation_length``
        and ``quasi_extinction_threshold`` (species); ``annual_cost`` (species, scenario, year),
        the cost of the step from year t to t + 1 at year t (0 in the final year); coordinates
        ``population_name`` (species, population), ``taxon``, ``country``, ``site`` (species);
        attrs ``pva_version``, ``seed_entropy``, ``n_replicates``, ``chunk_size`` and ``study``
        (the study as JSON, plus the key ``no_action``). With ``study.outputs.red_list_e``, also
        ``extinction_risk`` (species, scenario, replicate, year, window) float64: the nested
        criterion-E probabilities of extinction within the CR, EN and VU windows from each
        replicate's state at the assessment years (:mod:`pva.nested`), NaN at other years.
    """
    if not isinstance(study, Study):
        raise TypeError(f"study must be a pva.study.Study; got {study!r}")
    jobs = _check_jobs(jobs)
    if backend not in ("loky", "dask", "threading", "sequential"):
        raise ValueError(
            f"backend must be 'loky', 'dask', 'threading' or 'sequential'; got {backend!r}"
        )
    if seed is not None:
        streams.resolve_entropy(seed)  # validates
        study = study.with_(seed=seed)
    given = None if study.seed is None else streams.resolve_entropy(study.seed)
    store = None
    if checkpoint_dir is not None:
        store = _Checkpoints(checkpoint_dir, study.digest(), given)
        entropy = store.entropy
    else:
        entropy = given if given is not None else streams.resolve_entropy(None)

    years, n_sc = study.years, len(study.scenarios)
    bounds = streams.chunk_bounds(study.replicates, study.chunk_size)
    schedules = [
        tuple(study.scenario_for(i, j).compile(s.species, years=years) for j in range(n_sc))
        for i, s in enumerate(study.species)
    ]
    n_pop = [s.species.n_populations for s in study.species]
    P = max(n_pop)
    shape = (len(study.species), n_sc, study.replicates, years + 1, P)
    mature = np.zeros(shape, dtype=np.int64)
    total = np.zeros(shape, dtype=np.int64)
    red_list_e = study.outputs.red_list_e
    e_years = () if red_list_e is None else red_list_e.years
    # NaN at the years not assessed; only the assessment years are filled in below
    risk = (
        np.full((len(study.species), n_sc, study.replicates, years + 1, 3), np.nan)
        if e_years
        else None
    )

    tasks = [(i, k) for i in range(len(study.species)) for k in range(len(bounds))]
    todo = []
    done = 0
    for i, k in tasks:
        start, stop = bounds[k]
        saved = None
        if store is not None:
            saved = store.load(
                i,
                k,
                (n_sc, stop - start, years + 1, n_pop[i]),
                (n_sc, stop - start, len(e_years), 3) if e_years else None,
            )
        if saved is None:
            todo.append((i, k))
        else:
            mature[i, :, start:stop, :, : n_pop[i]] = saved[0]
            total[i, :, start:stop, :, : n_pop[i]] = saved[1]
            if risk is not None:
                risk[i][:, start:stop, list(e_years)] = saved[2]
            done += 1
    if progress is not None:
        progress(done, len(tasks))

    calls = (
        joblib.delayed(run_task)(
            study.species[i].species,
            schedules[i],
            years=years,
            replicates=bounds[k][1] - bounds[k][0],
            entropy=entropy,
            chunk=k,
            red_list_e=red_list_e,
        )
        for i, k in todo
    )
    context = _dask_backend(jobs) if backend == "dask" else contextlib.nullcontext()
    if todo:
        with context:
            if backend == "dask":
                parallel = joblib.Parallel(n_jobs=-1, return_as="generator")
            else:
                n = 1 if backend == "sequential" else jobs
                parallel = joblib.Parallel(n_jobs=n, backend=backend, return_as="generator")
            for (i, k), (m, t, e) in zip(todo, parallel(calls), strict=True):
                start, stop = bounds[k]
                mature[i, :, start:stop, :, : n_pop[i]] = m
                total[i, :, start:stop, :, : n_pop[i]] = t
                if risk is not None:
                    risk[i][:, start:stop, list(e_years)] = e
                if store is not None:
                    store.save(i, k, m, t, e)
                done += 1
                if progress is not None:
                    progress(done, len(tasks))

    ds = _dataset(study, mature, total, schedules, entropy=entropy)
    if risk is not None:
        ds[redlist.EXTINCTION_RISK] = (
            (results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR, redlist.E_WINDOW),
            risk,
            {
                "units": "1",
                "long_name": "probability of extinction within the criterion E window "
                "(nested simulation)",
                "inner_replicates": int(red_list_e.inner_replicates),  # type: ignore[union-attr]
                "quasi_extinction": float(red_list_e.quasi_extinction),  # type: ignore[union-attr]
            },
        )
        ds = ds.assign_coords({redlist.E_WINDOW: list(redlist.E_WINDOWS)})
    return ds


def _dataset(
    study: Study,
    mature: IntArray,
    total: IntArray,
    schedules: list[tuple[Schedule, ...]],
    *,
    entropy: int,
) -> xr.Dataset:
    n_sp, n_sc, n_rep, n_year, P = mature.shape
    exists = np.zeros((n_sp, P), dtype=bool)
    pop_names = np.full((n_sp, P), "", dtype=object)
    for i, s in enumerate(study.species):
        names = s.species.population_names
        exists[i, : len(names)] = True
        pop_names[i, : len(names)] = names
    cost = np.zeros((n_sp, n_sc, n_year))
    for i, row in enumerate(schedules):
        for j, schedule in enumerate(row):
            if schedule.annual_cost is not None:
                cost[i, j, : n_year - 1] = schedule.annual_cost
    gen = np.array(
        [
            np.nan if s.species.generation_length is None else s.species.generation_length
            for s in study.species
        ]
    )
    qet = np.array([s.species.quasi_extinction_threshold for s in study.species], dtype=float)
    dims = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR, results.POPULATION)
    currency = study.outputs.currency or "currency units"
    spec = {**study.to_dict(), "no_action": study.baseline}
    v = results.variable
    species_attrs = {
        name: v(
            name,
            results.SPECIES,
            np.array([getattr(s, name) for s in study.species], dtype=object),
        )
        for name in (results.TAXON, results.COUNTRY, results.SITE)
    }
    ds = xr.Dataset(
        {
            results.MATURE: v(results.MATURE, dims, mature),
            results.TOTAL: v(results.TOTAL, dims, total),
            results.POPULATION_EXISTS: v(
                results.POPULATION_EXISTS, (results.SPECIES, results.POPULATION), exists
            ),
            results.GENERATION_LENGTH: v(results.GENERATION_LENGTH, results.SPECIES, gen),
            results.QUASI_EXTINCTION_THRESHOLD: v(
                results.QUASI_EXTINCTION_THRESHOLD, results.SPECIES, qet
            ),
            results.ANNUAL_COST: v(
                results.ANNUAL_COST,
                (results.SPECIES, results.SCENARIO, results.YEAR),
                cost,
                units=f"{currency} per year",
            ),
        },
        coords={
            results.SPECIES: v(
                results.SPECIES, results.SPECIES, np.array(study.species_names, dtype=object)
            ),
            results.SCENARIO: v(
                results.SCENARIO, results.SCENARIO, np.array(study.scenario_names, dtype=object)
            ),
            results.REPLICATE: v(
                results.REPLICATE, results.REPLICATE, np.arange(n_rep, dtype=np.int64)
            ),
            results.YEAR: v(results.YEAR, results.YEAR, np.arange(n_year, dtype=np.int64)),
            results.POPULATION: v(
                results.POPULATION, results.POPULATION, np.arange(P, dtype=np.int64)
            ),
            results.POPULATION_NAME: v(
                results.POPULATION_NAME, (results.SPECIES, results.POPULATION), pop_names
            ),
            **species_attrs,
        },
        attrs={
            results.ATTR_VERSION: pva.__version__,
            results.ATTR_SEED_ENTROPY: str(entropy),
            results.ATTR_REPLICATES: int(n_rep),
            results.ATTR_CHUNK_SIZE: int(study.chunk_size),
            results.ATTR_STUDY: json.dumps(spec, sort_keys=True),
        },
    )
    return ds
