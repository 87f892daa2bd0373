"""Run a :class:`~pva.study.Study`: tasks in parallel, checkpoints, one results Dataset.

The only module of pva aware of parallelism. A task is one (species ``i``, replicate
chunk ``k``); it projects every scenario ``j`` of the species together, in one
:func:`pva.engine.project_chunks` call on the streams ``pva.streams.chunk_streams(entropy, species,
k)``, so replicate ``r`` sees the same environmental states, catastrophes and (per event name) events
under every scenario (common random numbers: intervention effects are paired differences), and the
engine works on arrays of all scenarios at once. Because the streams depend on the chunk layout
only, the results are identical bit for bit for any ``jobs`` and ``backend``.

:func:`run_study` follows four steps, one section each below: the tasks and the chunk layout
(:class:`_Plan`), checkpoint resume (finished tasks read through :class:`pva.io.Checkpoints`, which
refuses checkpoints of another study or seed), parallel execution (:class:`joblib.Parallel`: loky
processes locally, threads, or a Dask cluster, a temporary one or a running one named by its
scheduler address, through joblib's ``dask`` backend; each finished task is
checkpointed atomically) and assembly (:func:`pva.results.build`, the one results layout), in
memory (:func:`run_study`) or straight into the results file (:func:`run_study_to_file`, what
``pva run`` does: the calling process then holds the tasks in flight, not the study).

What is serial in a parallel run is kept small (issue 17): :func:`start_workers` starts the loky
workers before the caller has read its study (``pva run`` does so before the command has loaded),
the tasks are dispatched before the results are allocated or their file laid out (:class:`_Started`:
the calling process's imports of xarray and netCDF4 overlap the first tasks), the workers import
only what their tasks need (xarray and the Red List code are imported where the calling process
uses them), and a task's counts travel in the smallest integer type that holds them
(:func:`compact_counts`).
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import functools
import importlib
import itertools
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

import joblib
import numpy as np
import numpy.typing as npt

from pva import _signals, engine, io, kernels, model, nested, streams, validation
from pva.errors import CountCapWarning
from pva.model import Species, count_limit
from pva.schedule import Schedule
from pva.study import RedListE, Study

if TYPE_CHECKING:
    import xarray as xr

# The worker processes import this module to run their tasks: what only the calling process needs
# (the Red List windows, the results layout, the memory estimate, and with them xarray and pandas,
# half a second per worker) is imported where it is used, so that a worker starts faster.

Backend = Literal["loky", "dask", "threading", "sequential"]
BACKENDS: tuple[str, ...] = get_args(Backend)
Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` in the calling process at the start and after each finished
task."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


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
    species: Species,
    schedules: tuple[Schedule, ...],
    *,
    years: int,
    replicates: int,
    entropy: int,
    chunk: int,
    red_list_e: RedListE | None = None,
) -> io.TaskArrays:
    """Project one replicate chunk of one species under every scenario (in one projection).

    With ``red_list_e`` (assessment years set), also the nested projections
    (:func:`pva.nested.project_from_states`) from each replicate's state at those years, with
    inner streams :func:`pva.nested.nested_seed` ``(entropy, species, chunk, year)`` shared by all
    scenarios.

    Returns
    -------
    pva.io.TaskArrays
        ``mature`` and ``total``: int64 arrays of shape (scenarios, replicates, years + 1,
        populations); with ``red_list_e``, ``extinction_risk``: float64 of shape (scenarios,
        replicates, assessment years, 3) for the CR, EN and VU windows of criterion E, and
        ``projected_mature``: float64 of shape (scenarios, replicates, assessment years, L + 1),
        L = :func:`pva.redlist.projection_leads`; else None.
    """
    e_years = () if red_list_e is None else red_list_e.years
    projections = engine.project_chunks(
        species,
        schedules,
        years=years,
        chunks=((replicates, streams.chunk_streams(entropy, species.name, chunk)),),
        # the stage state is needed only at the assessment years of the nested projections
        record=("abundance",) if e_years else (),
    )
    mature = [_counts(out.mature) for out in projections]
    total = [_counts(out.total) for out in projections]
    gene = (
        None
        if species.genetics is None
        else np.stack([np.asarray(out.gene_diversity) for out in projections])
    )
    nested_out = []
    for schedule, out in zip(schedules, projections, strict=True):
        if e_years and red_list_e is not None and out.abundance is not None:
            nested_out.append(
                _nested_projections(
                    species,
                    schedule,
                    out.abundance,
                    red_list_e,
                    entropy,
                    chunk,
                    out.gene_diversity,
                )
            )
    captive, captive_gene = _captive(projections)
    if not e_years:
        return io.TaskArrays(
            np.stack(mature),
            np.stack(total),
            gene_diversity=gene,
            captive_individuals=captive,
            captive_gene_diversity=captive_gene,
        )
    risk = np.stack([r for r, _ in nested_out])
    projected = np.stack([p for _, p in nested_out])
    return io.TaskArrays(
        np.stack(mature), np.stack(total), risk, projected, gene, captive, captive_gene
    )


def _captive(
    projections: list[engine.Projection],
) -> tuple[FloatArray | None, FloatArray | None]:
    """Individuals in the ex-situ programmes of each scenario and their gene diversity (the mean
    over programmes weighted by individuals), (scenario, replicate, year); None and None when no
    scenario keeps one (0 and NaN for a scenario that does not)."""
    if all(out.captive is None for out in projections):
        return None, None
    shape = projections[0].total.shape[:2]
    individuals, diversity = [], []
    for out in projections:
        n = np.zeros(shape) if out.captive is None else out.captive.astype(float)
        h = out.captive_gene_diversity
        individuals.append(n if n.ndim == 2 else n.sum(axis=-1))
        if h is None or n.ndim == 2:
            diversity.append(np.full(shape, np.nan))
            continue
        total = n.sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(np.nan_to_num(h) * n, axis=-1) / total
        diversity.append(np.where(total > 0, mean, np.nan))
    return np.stack(individuals), np.stack(diversity)


def _nested_projections(
    species: Species,
    schedule: Schedule,
    abundance: npt.NDArray[Any],
    red_list_e: RedListE,
    entropy: int,
    chunk: int,
    gene_diversity: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Criterion-E probabilities (replicates, assessment years, 3) and projected mature
    individuals (replicates, assessment years, L + 1) from each replicate's state (``abundance``:
    replicate, year, population, stage, and ``gene_diversity``: replicate, year, population, for
    a species with genetics) at each assessment year."""
    from pva import redlist

    if species.generation_length is None:
        raise ValueError(
            f"species {species.name!r} needs a generation_length for [outputs.red_list_e]"
        )
    windows = redlist.e_windows(species.generation_length)
    leads = redlist.projection_leads(species.generation_length)
    per_year = [
        nested.project_from_states(
            species,
            schedule,
            abundance[:, y],
            start_year=y,
            windows=windows,
            leads=leads,
            inner_replicates=red_list_e.inner_replicates,
            seed=nested.nested_seed(entropy, species.name, chunk, y),
            quasi_extinction=red_list_e.quasi_extinction,
            gene_diversity=None if gene_diversity is None else gene_diversity[:, y],
        )
        for y in red_list_e.years
    ]
    risk = np.stack([p.extinction_risk for p in per_year], axis=1)
    projected = np.stack([p.projected_mature for p in per_year], axis=1)
    return risk, projected


def _task(*args: Any, **kwargs: Any) -> io.TaskArrays:
    """:func:`run_task` as the executor calls it (with the fault tests' pause point first), its
    counts in the smallest integer type that holds them (:func:`compact_counts`)."""
    _signals.pause_point("task")
    arrays = run_task(*args, **kwargs)
    return arrays._replace(mature=compact_counts(arrays.mature), total=compact_counts(arrays.total))


_COUNT_TYPES = (np.uint8, np.uint16, np.uint32)


def compact_counts(counts: IntArray) -> npt.NDArray[np.integer[Any]]:
    """``counts`` (int64 individuals) in the smallest of uint8, uint16 and uint32 that holds them
    all, else as they are.

    A task's mature and total individuals travel from the worker to the calling process (pickled
    through a pipe) and into its checkpoint file; a thousand replicates of a hundred years are
    2.4 MB as int64 and a quarter or an eighth of that in the type its numbers need. The values are
    unchanged: the caller stores them into int64 arrays (an exact cast).
    """
    if counts.dtype.kind not in "iu" or counts.size == 0 or counts.min() < 0:
        return counts
    largest = int(counts.max())
    for dtype in _COUNT_TYPES:
        if largest <= np.iinfo(dtype).max:
            return counts.astype(dtype)
    return counts


# ---------------------------------------------------------------------------------------------------
# worker processes that never outlive the run
# ---------------------------------------------------------------------------------------------------

PARENT_CHECK_SECONDS = 0.2
"""How often a worker process checks that the process that started it still runs."""


def _watch_parent(parent: int) -> None:
    """Initializer of the loky worker processes: Ctrl-C is left to the parent, and a daemon
    thread ends the worker (``os._exit``)
    as soon as its parent ``parent`` is gone (the worker is re-parented), so that a killed ``pva
    run`` (SIGKILL cannot be caught) leaves no workers behind — nor loky's resource trackers, which
    end when the last process holding their pipe does. Workers hold no files open for writing:
    checkpoints and results are written by the parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    # Ctrl-C reaches the whole process group; the parent answers it (it stops the workers and
    # says so in one line), so a worker that took it too would only print a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() == parent:
        threading.Thread(target=watch, name="pva-parent-watch", daemon=True).start()
    else:  # the parent died while this worker was starting
        os._exit(1)


def _warm_up(imports: tuple[str, ...] = ()) -> str | None:
    """What a worker process does first (:func:`start_workers`): this module imported (it is,
    to unpickle this function), then the modules ``imports`` if given (what the caller's tasks
    need), else the engine's compiled kernel library when it is used; returns the engine's path
    there (:func:`pva.kernels.name`, which imports numba), or None after ``imports``."""
    if imports:
        for module in imports:
            importlib.import_module(module)
        return None
    return kernels.name()


_JOBLIB_CANCELLED = r"[0-9]+ tasks (have been successfully executed|which were still)"
"""joblib's warning when a generator of results is closed before its end (calls cancelled)."""

_warming: list[Iterator[str | None]] = []
"""The warm-up calls of :func:`start_workers` under way (at most one generator of them)."""
_worker_kernels: set[str] = set()
"""The engine's paths the warmed-up workers reported (:func:`_warm_up`), until a run takes them."""


def start_workers(jobs: int = 1, backend: Backend = "loky", *, imports: Sequence[str] = ()) -> None:
    """Start the loky worker processes of a run with ``jobs`` workers now, without waiting for them.

    A worker process takes a second or two to start: Python, numpy, this module and the engine
    (:func:`_warm_up`), or the modules ``imports`` (e.g. ``"pva.plots"`` for figures rendered by
    :func:`map_tasks`). Started before the caller reads and compiles its study, the workers get
    ready while it does; :func:`run_study` and :func:`map_tasks` with the same ``jobs`` then find
    them running (joblib's reusable executor) instead of starting them after the serial part of
    the run. Does nothing for one job or another backend (threads and the sequential backend have
    no start-up; a dask cluster starts its own workers).

    Raises
    ------
    ValueError, TypeError
        For a bad ``jobs`` or ``backend``.
    """
    jobs = check_jobs(jobs)
    backend = _check_backend(backend)
    if backend != "loky" or jobs == 1 or _warming:
        return
    with _loky_config():
        n = joblib.effective_n_jobs(jobs)
        parallel = joblib.Parallel(n_jobs=jobs, return_as="generator_unordered")
        # returns once the calls are dispatched: joblib has started the workers for them
        _warming.append(parallel(joblib.delayed(_warm_up)(tuple(imports)) for _ in range(n)))


def _wait_for_warm_up() -> None:
    """Wait for the warm-up calls of :func:`start_workers` (if any) to end: the executor is then
    free for the run's tasks."""
    while _warming:
        _worker_kernels.update(path for path in _warming.pop() if path is not None)


def _loky_config() -> contextlib.AbstractContextManager[Any]:
    """joblib's loky backend as every run uses it: workers end when this process does, even if
    it is killed (:func:`_watch_parent`). The same settings each time, so that joblib reuses the
    running workers."""
    return joblib.parallel_config(
        backend="loky", initializer=_watch_parent, initargs=(os.getpid(),)
    )


def shutdown_workers() -> None:
    """Stop joblib's reusable loky worker processes now (they otherwise idle for 5 minutes after a
    run, holding the caller's stdout: ``pva run ... | tee log`` would not end). The ``pva``
    command calls this on its way out; in a Python session the workers are worth reusing."""
    from joblib.externals.loky import reusable_executor

    while _warming:  # a run that ended before its tasks (a bad study file): stop the warm-up
        with contextlib.suppress(Exception), warnings.catch_warnings():
            # joblib's note that the warm-up calls' results were not used: they have none
            warnings.filterwarnings("ignore", _JOBLIB_CANCELLED)
            _warming.pop().close()  # type: ignore[attr-defined]

    executor = getattr(reusable_executor, "_executor", None)
    if executor is None:
        return
    with contextlib.suppress(Exception):  # already broken or shut down: nothing to stop
        if hasattr(executor, "terminate"):
            executor.terminate(kill_workers=True)
        else:  # pragma: no cover - an older joblib
            executor.shutdown(wait=True, kill_workers=True)


# ---------------------------------------------------------------------------------------------------
# tasks and the chunk layout
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Plan:
    """A study cut into tasks: species ``i`` x replicate chunk ``k`` (every scenario in a task).

    The chunks depend on the replicates and the chunk size only, never on the workers.
    """

    study: Study
    bounds: tuple[tuple[int, int], ...]
    """Replicates ``[start, stop)`` of each chunk."""
    schedules: tuple[tuple[Schedule, ...], ...]
    """``schedules[i][j]``: species i under scenario j, compiled."""

    @classmethod
    def of(cls, study: Study) -> _Plan:
        schedules = tuple(
            tuple(
                study.scenario_for(i, j).compile(s.species, years=study.years)
                for j in range(len(study.scenarios))
            )
            for i, s in enumerate(study.species)
        )
        bounds = tuple(streams.chunk_bounds(study.replicates, study.chunk_size))
        return cls(study=study, bounds=bounds, schedules=schedules)

    @property
    def tasks(self) -> list[tuple[int, int]]:
        """(species index, chunk index), species by species."""
        return [(i, k) for i in range(len(self.study.species)) for k in range(len(self.bounds))]

    @property
    def e_years(self) -> tuple[int, ...]:
        """Assessment years of nested criterion E (empty: none)."""
        settings = self.study.outputs.red_list_e
        return () if settings is None else settings.years

    def populations(self, i: int) -> int:
        return self.study.species[i].species.n_populations

    # computed once: every task's blocks read them (_task_blocks)
    @functools.cached_property
    def max_populations(self) -> int:
        """Populations of the study's variables: the largest species' (others are padded)."""
        return max(self.populations(i) for i in range(len(self.study.species)))

    @functools.cached_property
    def max_leads(self) -> int:
        """Leads of the nested projections in the study's variables (0 without them)."""
        return max(self.leads(i) for i in range(len(self.study.species)))

    @functools.cached_property
    def keeps_captives(self) -> bool:
        """Whether some scenario of some species keeps an ex-situ programme."""
        return any(s.programmes for per_species in self.schedules for s in per_species)

    def work(self, task: tuple[int, int]) -> int:
        """A task's relative cost (replicates x stages x populations): the longest tasks go to
        the workers first, so that none is left running alone at the end."""
        i, k = task
        start, stop = self.bounds[k]
        sp = self.study.species[i].species
        return (stop - start) * len(sp.stages) * sp.n_populations

    def task_shape(self, i: int, k: int) -> tuple[int, ...]:
        """Shape of a task's mature and total abundance."""
        start, stop = self.bounds[k]
        return (len(self.study.scenarios), stop - start, self.study.years + 1, self.populations(i))

    def risk_shape(self, i: int, k: int) -> tuple[int, ...] | None:
        """Shape of a task's nested criterion-E probabilities (None without them)."""
        from pva.results import E_WINDOWS

        if not self.e_years:
            return None
        start, stop = self.bounds[k]
        return (len(self.study.scenarios), stop - start, len(self.e_years), len(E_WINDOWS))

    def leads(self, i: int) -> int:
        """Leads of species i's nested projections of mature individuals (0 without them)."""
        from pva.redlist import projection_leads

        gl = self.study.species[i].species.generation_length
        return 0 if not self.e_years or gl is None else projection_leads(gl)

    def projected_shape(self, i: int, k: int) -> tuple[int, ...] | None:
        """Shape of a task's nested projections of mature individuals (None without them)."""
        if not self.e_years:
            return None
        start, stop = self.bounds[k]
        return (len(self.study.scenarios), stop - start, len(self.e_years), self.leads(i) + 1)

    def call(self, i: int, k: int, entropy: int) -> Any:
        """The delayed call of :func:`run_task` for task (i, k)."""
        start, stop = self.bounds[k]
        return joblib.delayed(_task)(
            self.study.species[i].species,
            self.schedules[i],
            years=self.study.years,
            replicates=stop - start,
            entropy=entropy,
            chunk=k,
            red_list_e=self.study.outputs.red_list_e,
        )


# ---------------------------------------------------------------------------------------------------
# assembly
# ---------------------------------------------------------------------------------------------------


def _task_blocks(
    plan: _Plan, i: int, k: int, task: io.TaskArrays
) -> Iterator[tuple[str, tuple[Any, ...], npt.NDArray[Any]]]:
    """Where the arrays of task (species ``i``, chunk ``k``) go in the study's variables:
    ``(variable, index within species i's part, values)``. Mature and total abundance are padded
    with 0 to the study's populations, so that every cell of an integer variable is written; the
    NaN cells of float variables (years not assessed, padding populations) are not written. A
    species without ex-situ programmes in a study with some keeps 0 captive individuals."""
    from pva import results

    start, stop = plan.bounds[k]
    block = (slice(None), slice(start, stop))
    years = list(plan.e_years)
    yield results.MATURE, block, _padded(task.mature, plan.max_populations)
    yield results.TOTAL, block, _padded(task.total, plan.max_populations)
    if task.extinction_risk is not None:
        yield results.EXTINCTION_RISK, (*block, years), task.extinction_risk
    if task.projected_mature is not None:
        width = task.projected_mature.shape[-1]
        yield results.PROJECTED_MATURE, (*block, years, slice(0, width)), task.projected_mature
    if task.gene_diversity is not None:
        populations = (*block, slice(None), slice(0, plan.populations(i)))
        yield results.GENE_DIVERSITY, populations, task.gene_diversity
    if task.captive_individuals is not None and task.captive_gene_diversity is not None:
        yield results.CAPTIVE_INDIVIDUALS, block, task.captive_individuals
        yield results.CAPTIVE_GENE_DIVERSITY, block, task.captive_gene_diversity
    elif plan.keeps_captives:
        yield results.CAPTIVE_INDIVIDUALS, block, np.zeros(task.total.shape[:3])


class _Filling(abc.ABC):
    """What receives a run's tasks, in any order: each task's blocks (:func:`_task_blocks`) go to
    :meth:`_write`; each species' largest count is kept for :func:`_warn_if_capped`."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        # each species' largest count, taken from the (compact) task arrays as they come in
        self.largest = [0] * len(plan.study.species)

    def put(self, i: int, k: int, task: io.TaskArrays) -> None:
        self.largest[i] = max(self.largest[i], int(task.total.max(initial=0)))
        for name, key, values in _task_blocks(self.plan, i, k, task):
            self._write(name, i, key, values)

    @abc.abstractmethod
    def _write(self, name: str, i: int, key: tuple[Any, ...], values: npt.NDArray[Any]) -> None:
        """Put ``values`` at ``key`` of species ``i``'s part of the variable ``name``."""


class _Assembly(_Filling):
    """The study's arrays in memory (:func:`run_study`)."""

    def __init__(self, plan: _Plan) -> None:
        from pva import results

        super().__init__(plan)
        study = plan.study
        shape = (
            len(study.species),
            len(study.scenarios),
            study.replicates,
            study.years + 1,
            plan.max_populations,
        )
        arrays = {
            results.MATURE: np.zeros(shape, dtype=np.int64),
            results.TOTAL: np.zeros(shape, dtype=np.int64),
        }
        if plan.e_years:  # NaN at the years not assessed
            arrays[results.EXTINCTION_RISK] = np.full((*shape[:4], len(results.E_WINDOWS)), np.nan)
            arrays[results.PROJECTED_MATURE] = np.full((*shape[:4], plan.max_leads + 1), np.nan)
        if plan.study.has_genetics:  # NaN for species without genetics and for padding populations
            arrays[results.GENE_DIVERSITY] = np.full(shape, np.nan)
        if plan.keeps_captives:
            arrays[results.CAPTIVE_INDIVIDUALS] = np.zeros(shape[:4])
            arrays[results.CAPTIVE_GENE_DIVERSITY] = np.full(shape[:4], np.nan)
        self.arrays = arrays

    def _write(self, name: str, i: int, key: tuple[Any, ...], values: npt.NDArray[Any]) -> None:
        # species i first: a list of years beside it would move the years' axis to the front
        self.arrays[name][i][key] = values

    def dataset(self, entropy: int, engine_kernels: str | None = None) -> xr.Dataset:
        from pva import results

        arrays = self.arrays
        return results.build(
            self.plan.study,
            mature=arrays[results.MATURE],
            total=arrays[results.TOTAL],
            schedules=self.plan.schedules,
            entropy=entropy,
            extinction_risk=arrays.get(results.EXTINCTION_RISK),
            projected_mature=arrays.get(results.PROJECTED_MATURE),
            gene_diversity=arrays.get(results.GENE_DIVERSITY),
            captive_individuals=arrays.get(results.CAPTIVE_INDIVIDUALS),
            captive_gene_diversity=arrays.get(results.CAPTIVE_GENE_DIVERSITY),
            engine_kernels=engine_kernels,
        )


class _FileAssembly(_Filling):
    """The study's arrays written into a results file task by task (:class:`pva.io.ResultsStream`,
    :func:`run_study_to_file`): the calling process holds one task at a time. With gene diversity
    goes inbreeding, which :func:`pva.results.build` derives from it in memory."""

    def __init__(self, plan: _Plan, stream: io.ResultsStream) -> None:
        super().__init__(plan)
        self.stream = stream

    def _write(self, name: str, i: int, key: tuple[Any, ...], values: npt.NDArray[Any]) -> None:
        from pva import results

        if name != results.GENE_DIVERSITY:
            self.stream.write(name, (i, *key), values)
            return
        for derived, var in results.genetics_variables(values[np.newaxis]).items():
            self.stream.write(derived, (i, *key), var.values[0])


def _padded(values: npt.NDArray[Any], populations: int) -> npt.NDArray[Any]:
    """``values`` with its last (population) axis padded with 0 to ``populations``."""
    if values.shape[-1] == populations:
        return values
    out = np.zeros((*values.shape[:-1], populations), dtype=values.dtype)
    out[..., : values.shape[-1]] = values
    return out


# ---------------------------------------------------------------------------------------------------
# checkpoint resume
# ---------------------------------------------------------------------------------------------------


def _resume(
    plan: _Plan,
    store: io.Checkpoints | None,
    assembly: _Filling,
    running: Sequence[tuple[int, int]],
) -> list[tuple[int, int]]:
    """Fill ``assembly`` with the tasks ``store`` holds, those not ``running``; return those whose
    checkpoint turned out damaged (:meth:`pva.io.Checkpoints.load` warns): they run again."""
    if store is None:
        return []
    redo = []
    skipped = set(running)
    for i, k in plan.tasks:
        if (i, k) in skipped:
            continue
        saved = store.load(
            i,
            k,
            shape=plan.task_shape(i, k),
            risk_shape=plan.risk_shape(i, k),
            projected_shape=plan.projected_shape(i, k),
        )
        if saved is None:
            redo.append((i, k))
        else:
            assembly.put(i, k, saved)
    return redo


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
        raise ValueError(
            "backend='dask' needs dask.distributed: pip install '.[dask]' (from a checkout of pva) "
            "or pip install 'pva[dask]'"
        ) from None
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


@contextlib.contextmanager
def _cluster_backend(scheduler: str) -> Iterator[None]:
    """joblib's dask backend on the running ``dask.distributed`` cluster at ``scheduler``: an
    address (``tcp://host:8786``) or the JSON file a scheduler wrote (``dask scheduler
    --scheduler-file``). The cluster is someone else's: only the client is closed afterwards.
    Scheduling, and rescheduling the tasks of a worker that dies, is dask's (docs/cluster.md)."""
    check_scheduler(scheduler)
    try:
        import dask
        from dask.distributed import Client
    except ImportError:  # pragma: no cover - dask is an optional extra
        raise ImportError(
            "--scheduler needs dask.distributed: pip install '.[dask]' (from a checkout of pva) "
            "or pip install 'pva[dask]'"
        ) from None
    if scheduler.endswith(".json"):
        where = {"scheduler_file": os.path.expanduser(scheduler)}
    else:
        where = {"address": scheduler}
    # how long to try to reach the scheduler: dask's setting (default 30 s)
    timeout = dask.config.get("distributed.comm.timeouts.connect")
    try:
        client = Client(**where, set_as_default=False, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise OSError(f"no dask scheduler reachable at {scheduler!r} ({exc})") from None
    try:
        with joblib.parallel_config(backend="dask", client=client):
            yield
    finally:
        client.close()


class _Started:
    """The tasks of a run that no checkpoint holds (or ``tasks``), dispatched on the run's backend
    when this is made, longest first: the workers compute while the calling process allocates or
    opens where the results go and loads the checkpoints (:func:`_fill`). joblib returns the
    results in the order of ``pending``, so the numbers do not depend on which worker ran what. A
    context manager: leaving it before every result was read (an error) stops the tasks still
    running."""

    def __init__(self, run: _Prepared, tasks: Iterable[tuple[int, int]] | None = None) -> None:
        plan, store = run.plan, run.store
        self.run = run
        if tasks is None:
            tasks = (t for t in plan.tasks if store is None or not store.holds(*t))
        # longest first (the numbers do not depend on the order: streams are per task)
        self.pending = sorted(tasks, key=plan.work, reverse=True)
        calls = [plan.call(i, k, run.entropy) for i, k in self.pending]
        self._running = _run_calls(
            calls, jobs=run.jobs, backend=run.backend, scheduler=run.scheduler
        )

    def results(self) -> Iterator[tuple[tuple[int, int], io.TaskArrays]]:
        """Each pending task with its arrays, in the order of ``pending``."""
        return zip(self.pending, self._running, strict=True)

    def __enter__(self) -> _Started:
        return self

    def __exit__(self, *exc: object) -> None:
        self._running.close()


def map_tasks(
    function: Callable[..., Any],
    tasks: Iterable[Mapping[str, Any]],
    *,
    jobs: int = 1,
    backend: Backend = "loky",
    scheduler: str | None = None,
) -> Generator[Any, None, None]:
    """``function(**task)`` for every task, in parallel; the results in the order of ``tasks``,
    each yielded as soon as it and those before it are done.

    The execution step of :func:`run_study`, offered to callers with independent tasks of their
    own (:func:`pva.success.run_success` runs one task per species). ``function`` must be
    importable by the workers (a module-level function); ``jobs``, ``backend`` and ``scheduler``
    as in :func:`run_study`. The order of the results never depends on the workers, so neither do
    numbers made from them. ``tasks`` may be a generator: it is read as the workers need tasks
    (a few ahead of them), so the caller can make the next tasks while the first ones run
    (:func:`pva.plots.render_each` draws figures while the workers render the ones before). The
    first calls are dispatched before this returns; closing the returned generator before its end
    stops the calls still running.
    """
    jobs = check_jobs(jobs)
    backend = _check_backend(backend)
    scheduler = check_scheduler(scheduler)
    calls = (joblib.delayed(function)(**task) for task in tasks)
    return _run_calls(calls, jobs=jobs, backend=backend, scheduler=scheduler)


def _run_calls(
    calls: Iterable[Any], *, jobs: int, backend: Backend, scheduler: str | None = None
) -> Generator[Any, None, None]:
    """Run joblib delayed ``calls`` on ``backend`` with ``jobs`` workers, or on the running
    cluster at ``scheduler`` (:func:`_cluster_backend`) whatever ``backend`` says; yield the
    results in the order of ``calls`` (read as the workers need them). The first calls are
    dispatched before this returns, so that the workers start on them while the caller goes on;
    closing the generator before its end stops the calls still running."""
    running = _dispatched(calls, jobs=jobs, backend=backend, scheduler=scheduler)
    next(running)
    return running


def _dispatched(
    calls: Iterable[Any], *, jobs: int, backend: Backend, scheduler: str | None
) -> Generator[Any, None, None]:
    """:func:`_run_calls`' generator: None once the first calls are dispatched, then the
    results."""
    if isinstance(calls, Sequence) and not calls:
        yield None
        return
    if scheduler is not None:
        context = _cluster_backend(scheduler)
    else:
        context = _dask_backend(jobs) if backend == "dask" else contextlib.nullcontext()
    with context:
        if backend == "dask" or scheduler is not None:
            parallel = joblib.Parallel(n_jobs=-1, return_as="generator")
        elif backend == "loky":
            _wait_for_warm_up()
            with _loky_config():
                parallel = joblib.Parallel(n_jobs=jobs, return_as="generator")
        else:
            n = 1 if backend == "sequential" else jobs
            parallel = joblib.Parallel(n_jobs=n, backend=backend, return_as="generator")
        results = parallel(calls)  # dispatches the first calls
        try:
            yield None
            # not ``yield from``, which would close ``results`` itself, outside the filter below
            for result in results:  # noqa: UP028
                yield result
        finally:  # a caller that stopped early (an error, an interrupt): stop the calls running
            with warnings.catch_warnings():
                # joblib's advice on the calls it cancels: the caller stopped them on purpose
                warnings.filterwarnings("ignore", _JOBLIB_CANCELLED)
                results.close()


def check_jobs(jobs: object) -> int:
    """``jobs`` as an int; a ValueError or TypeError naming the rule for 0 or a non-integer."""
    n = validation.integer(jobs, "jobs")
    if n == 0:
        raise ValueError(f"jobs must be a non-zero integer (-1: all cores); got {jobs!r}")
    return n


def check_scheduler(scheduler: object) -> str | None:
    """``scheduler`` as given (None: no cluster); a ValueError or TypeError naming the rule
    otherwise. Whether a scheduler answers there is known only when the run connects."""
    if scheduler is None:
        return None
    if not isinstance(scheduler, str):
        raise TypeError(
            f"scheduler must be a string such as 'tcp://host:8786' (or a scheduler file); "
            f"got {scheduler!r}"
        )
    if not scheduler.strip() or any(c.isspace() for c in scheduler):
        raise ValueError(
            f"scheduler must be a dask.distributed address such as 'tcp://host:8786' or a "
            f"scheduler file, without spaces; got {scheduler!r}"
        )
    return scheduler


def _check_backend(backend: object) -> Backend:
    if backend not in BACKENDS:
        raise ValueError(
            f"backend must be 'loky', 'dask', 'threading' or 'sequential'; got {backend!r}"
        )
    return backend  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------
# the study
# ---------------------------------------------------------------------------------------------------


def run_study(
    study: Study,
    *,
    jobs: int = 1,
    backend: Backend = "loky",
    progress: Progress | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    scheduler: str | None = None,
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
        ``progress(done, total)``, called once at the start (with the tasks resumed from
        checkpoints as done) and after each finished task (species x replicate chunk).
    checkpoint_dir
        Folder for finished tasks; a rerun with the same study and seed resumes from it.
    seed
        Overrides ``study.seed``. With neither, fresh entropy is drawn (or the checkpoint's reused)
        and recorded in ``attrs["seed_entropy"]``.
    scheduler
        Address of a running ``dask.distributed`` scheduler (``tcp://host:8786``) or its scheduler
        file (``.json``): the tasks run on that cluster (``jobs`` and ``backend`` are then not
        used). Does not change the numbers. See docs/cluster.md.

    Returns
    -------
    xarray.Dataset
        The layout of :mod:`pva.results` (:func:`pva.results.build`): dims ``species, scenario,
        replicate, year, population``; ``mature_abundance`` and ``total_abundance`` int64 (a
        deterministic projection is rounded down to whole individuals), padded with 0 where a
        species has fewer populations (see ``population_exists``); ``generation_length`` and
        ``quasi_extinction_threshold`` (species); ``annual_cost`` (species, scenario, year);
        coordinates ``population_name``, ``taxon``, ``country``, ``site``; provenance in attrs
        (:func:`pva.results.provenance`). With ``study.outputs.red_list_e``, also
        ``extinction_risk`` (species, scenario, replicate, year, window): the nested criterion-E
        probabilities from each replicate's state at the assessment years (:mod:`pva.nested`), NaN
        at other years, and ``projected_mature`` (species, scenario, replicate, year, lead): the
        expected mature individuals 0 .. L years after each assessment year from each replicate's
        state (mean over the inner futures), NaN at other years and beyond a species' own L.

    Raises
    ------
    TypeError
        If ``study`` is not a :class:`pva.study.Study`.
    ValueError
        For bad ``jobs``, ``backend``, ``seed`` or ``scheduler``, or checkpoints of another study
        or seed.
    OSError
        If no scheduler answers at ``scheduler``.
    pva.errors.ResourceError
        (a ValueError) If the run would need more memory than is available
        (:func:`pva.resources.estimate`), before anything is allocated.

    Warns
    -----
    pva.errors.DamagedCheckpointWarning
        For a damaged checkpoint file (its task is run again).
    pva.errors.CountCapWarning
        If a species' abundance reached the engine's largest count.
    """
    run = _prepared(
        study, jobs=jobs, backend=backend, seed=seed, scheduler=scheduler,
        checkpoint_dir=checkpoint_dir, streamed=False,
    )  # fmt: skip
    with _Started(run) as started:
        assembly = _Assembly(run.plan)
        engine_kernels = _fill(started, assembly, progress)
    return assembly.dataset(run.entropy, engine_kernels)


def run_study_to_file(
    study: Study,
    path: str | os.PathLike[str],
    *,
    jobs: int = 1,
    backend: Backend = "loky",
    progress: Progress | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    scheduler: str | None = None,
) -> Path:
    """Run ``study`` as :func:`run_study` does and write its results to the NetCDF file ``path``
    while it runs (``pva run``): each finished task goes into the file, so the calling process
    holds the tasks in flight, not the study (its memory does not grow with the replicates or the
    species), and the file is compressed while the workers compute. The file is the one
    :func:`pva.io.write_results` writes of :func:`run_study`'s Dataset (read back, identical), and
    is written atomically (:func:`pva.io.atomic_file`): an error or an interrupt leaves no file,
    or the old one as it was. Returns the path written.

    Raises
    ------
    pva.io.WriteError
        If the file cannot be written (the tasks already finished stay in ``checkpoint_dir``).
    Others
        As :func:`run_study`.
    """
    from pva import results

    run = _prepared(
        study, jobs=jobs, backend=backend, seed=seed, scheduler=scheduler,
        checkpoint_dir=checkpoint_dir, streamed=True,
    )  # fmt: skip
    plan = run.plan
    # the workers start on the tasks while this process lays out and opens the file (xarray's and
    # netCDF4's imports, a second or two)
    with _Started(run) as started:
        skeleton, template = results.streamed_layout(
            plan.study,
            schedules=plan.schedules,
            entropy=run.entropy,
            leads=plan.max_leads if plan.e_years else None,
            genetics=plan.study.has_genetics,
            captive=plan.keeps_captives,
        )
        with io.atomic_file(path) as tmp, io.ResultsStream(tmp, skeleton, template) as stream:
            kernels_used = _fill(started, _FileAssembly(plan, stream), progress)
            stream.attrs[results.ATTR_KERNELS] = (
                kernels.name() if kernels_used is None else kernels_used
            )
    return Path(path)


class _Prepared(NamedTuple):
    """A run checked and ready (:func:`_prepared`)."""

    plan: _Plan
    store: io.Checkpoints | None
    entropy: int
    jobs: int
    backend: Backend
    scheduler: str | None


def _prepared(
    study: Study,
    *,
    jobs: int,
    backend: Backend,
    seed: int | None,
    scheduler: str | None,
    checkpoint_dir: str | os.PathLike[str] | None,
    streamed: bool,
) -> _Prepared:
    """The checks before a run (arguments, memory); the plan of the study with ``seed``, its
    checkpoints, the seed entropy and the checked arguments."""
    if not isinstance(study, Study):
        raise TypeError(f"study must be a pva.study.Study; got {study!r}")
    jobs = check_jobs(jobs)
    backend = _check_backend(backend)
    scheduler = check_scheduler(scheduler)
    if seed is not None:
        streams.resolve_entropy(seed)  # validates
        study = study.with_(seed=seed)
    given = None if study.seed is None else streams.resolve_entropy(study.seed)
    from pva import resources

    # refused before anything of the run's size (chunk lists, schedules, arrays) exists
    need = resources.estimate(study, jobs=jobs, backend=backend, streamed=streamed)
    resources.require_memory(need)
    if checkpoint_dir is None:
        store, entropy = None, given if given is not None else streams.resolve_entropy(None)
    else:  # the checkpoints' entropy when the study has no seed, so that an unseeded run resumes
        store = io.Checkpoints(checkpoint_dir, study.digest(seed=False), given)
        entropy = store.entropy

    for entry in study.species:  # the warning of validation, for a study built in Python
        model.warn_inert_density_dependence(entry.species)
    return _Prepared(_Plan.of(study), store, entropy, jobs, backend, scheduler)


def _fill(started: _Started, assembly: _Filling, progress: Progress | None) -> str | None:
    """Put every task of ``started``'s run into ``assembly``: those its checkpoints hold, then the
    others as they finish (each checkpointed first), then those whose checkpoint was damaged;
    return the engine's path as the workers reported it (None: this process's)."""
    run = started.run
    plan, store = run.plan, run.store
    redo = _resume(plan, store, assembly, started.pending)
    done, total = len(plan.tasks) - len(started.pending) - len(redo), len(plan.tasks)
    if progress is not None:
        progress(done, total)

    def again() -> Iterator[tuple[tuple[int, int], io.TaskArrays]]:
        with _Started(run, redo) as rerun:  # dispatched once the others are done
            yield from rerun.results()

    finished = itertools.chain(started.results(), again())
    for (i, k), arrays in finished:
        if store is not None:  # first: a task that cannot be written to the results is kept
            store.save(i, k, arrays)
        assembly.put(i, k, arrays)
        done += 1
        if progress is not None:
            progress(done, total)
    _warn_if_capped(plan, assembly)
    # the engine's path as the warmed-up workers reported it: the calling process need not load
    # numba (a third of a second) only to name it
    reported = sorted(_worker_kernels)
    _worker_kernels.clear()
    by_workers = run.backend == "loky" and run.scheduler is None and len(reported) == 1
    return reported[0] if by_workers else None


def _warn_if_capped(plan: _Plan, assembly: _Filling) -> None:
    """:class:`~pva.errors.CountCapWarning` for a species whose abundance reached the engine's
    largest count (an exploding projection is held there, not simulated beyond it)."""
    for i, s in enumerate(plan.study.species):
        limit = count_limit(s.species.n_stages, s.species.n_populations)
        largest = assembly.largest[i]
        if largest >= limit:
            warnings.warn(
                f"species {s.name!r}: abundance reached {largest:,} individuals in a "
                f"population, at or beyond the engine's largest count of {limit:,} per stage (for "
                f"{s.species.n_stages} stages): stages that reached it were capped there, so "
                "the numbers from then on are lower bounds",
                CountCapWarning,
                stacklevel=3,
            )
