"""What a run needs — memory, disk and (roughly) time — estimated from the study alone, before
anything is allocated, so that a study that cannot fit is refused in one line instead of failing
after hours (or taking the machine down).

The estimate follows what :mod:`pva.runner` allocates (every figure in bytes):

* **results**: the runner keeps every replicate and year of ``mature_abundance`` and
  ``total_abundance`` — ``2 x species x scenarios x replicates x (years + 1) x populations x 8`` (int64,
  populations padded to the largest species) — and, with nested criterion E, ``extinction_risk``
  (``species x scenarios x replicates x (years + 1) x 3 x 8``, float64);
* **schedules**: each species x scenario compiles to about ten arrays of ``years x populations x
  stages`` float64 (:class:`pva.schedule.Schedule` and its builder);
* **task**: one task (one species, one replicate chunk, every scenario) holds the runner's
  per-scenario lists of mature and total abundance and their stack (4 arrays of ``(years + 1) x
  chunk x populations`` per scenario, more than the engine's recording and its copy),
  plus the state and per-replicate matrices (``chunk x populations x stages`` and ``chunk x stages
  x stages``, a dozen each); with nested E also the recorded stage abundance (2 arrays of ``(years +
  1) x chunk x populations x stages``);
* **nested**: the inner projections of nested E run ``rows = min(chunk, max(1, MAX_ROWS //
  inner_replicates)) x inner_replicates`` futures at once over the longest E window (100 years):
  about 4 arrays of ``rows x (window + 1) x populations`` and 10 of ``rows x populations x stages``;
* **workers**: with ``jobs`` processes (loky) each worker holds a task, its nested projections, its
  species' schedules and a Python with numpy (:data:`WORKER_BASE`); the parent holds the results and
  up to ``2 x jobs`` finished tasks in flight. Threads share the parent; Dask workers are counted
  nowhere (they may be on other machines);
* **writing** the results: :func:`pva.runner.run_study` returns them in memory (the results above),
  and writing them builds the compressed NetCDF image in memory (about a tenth of the raw arrays,
  see :data:`COMPRESSION`); ``pva run`` (:func:`pva.runner.run_study_to_file`, ``streamed=True``)
  writes each task into the file as it finishes and keeps no results: its memory is the HDF5
  chunk cache of each variable written (:data:`pva.io.STREAM_CACHE`), whatever the replicates
  and the species.

The unit test ``tests/unit/test_resources.py`` compares the estimate with the peak that
:mod:`tracemalloc` measures on real runs: on the shipped studies and variants of them (longer,
larger chunks, nested E) it was 0.89 to 1.28 times the measured peak, and the test holds it within
a factor of 1.6 (it is meant to refuse what cannot fit, not to ration memory to the byte).

Time is rougher still: :data:`SECONDS_PER_CHUNK_YEAR`, :data:`SECONDS_PER_STAGE_YEAR` and
:data:`SECONDS_PER_CELL` were fitted to the CPU time of the shipped studies on one core of the
development machine (within a factor of 2 of it there; other machines and models differ) and give
the order of magnitude only.
"""

from __future__ import annotations

import dataclasses
import os
import resource
from pathlib import Path

from pva import io, nested
from pva.errors import ResourceError
from pva.study import Study

__all__ = [
    "ALWAYS_ALLOWED",
    "COMPRESSION",
    "WORKER_BASE",
    "Estimate",
    "available_memory",
    "estimate",
    "format_bytes",
    "format_seconds",
    "require_memory",
    "summary",
]

_FLOAT = 8
"""Bytes of an int64 or float64 value."""

COMPRESSION = 16
"""The results file is assumed to be at least ``raw bytes / COMPRESSION`` (zlib on counts: the
shipped studies' files are 8 to 13 times smaller than their arrays). Used only to refuse a run
whose results surely cannot fit on the disk; the exact size is checked before writing."""

WORKER_BASE = 150 * 2**20
"""Memory of an idle worker process (Python with numpy, scipy and pva imported), in bytes."""

SECONDS_PER_CHUNK_YEAR = 7e-4
"""Rough time of one engine year of one chunk and scenario, beyond its per-stage work."""

SECONDS_PER_STAGE_YEAR = 5e-4
"""Rough time of one engine year of one chunk and scenario, per stage."""

SECONDS_PER_CELL = 1.5e-7
"""Rough time per replicate x stage x population and year."""

ALWAYS_ALLOWED = 2**30
"""A run needing less memory than this (1 GiB) is never refused: the figure of available memory
moves from second to second on a shared machine, and that much is reclaimed from caches and
other programs; the check is for runs that cannot fit, not for runs that merely might not."""

_E_HORIZON = 100
"""The longest window of criterion E (VU: 100 years; IUCN 2012)."""


@dataclasses.dataclass(frozen=True)
class Estimate:
    """What a run of a study needs (bytes and seconds), from :func:`estimate`."""

    results: int
    """The results arrays the runner keeps (every replicate and year; 0 when streamed)."""
    schedules: int
    """The compiled schedules of every species x scenario."""
    task: int
    """Working memory of the largest task (one species, one chunk, every scenario)."""
    nested: int
    """Working memory of the nested criterion-E projections of one task (0 without them)."""
    in_flight: int
    """Finished tasks held by the parent while workers run (0 for one job)."""
    bookkeeping: int
    """The list of tasks and the replicate coordinate (grows with the replicates even when the
    results are streamed)."""
    workers: int
    """Memory of the worker processes (0 for one job, threads or Dask)."""
    writing: int
    """The compressed results image built before it is written (streamed: the chunk caches)."""
    memory: int
    """Peak memory of the run: the largest of simulating and writing."""
    results_file: int
    """A lower bound of the results file's size (``raw / COMPRESSION``)."""
    checkpoints: int
    """Size of all checkpoint files (uncompressed ``.npz``)."""
    seconds: float
    """Rough time on one core."""
    jobs: int
    """Worker processes or threads counted."""
    shape: str
    """The dimensions of the results, for messages."""
    chunk: int
    """Replicates per task."""

    def advice(self) -> str:
        """What to change to need less memory, for the largest part of the estimate."""
        parts = {
            "results": self.results + self.writing,
            "bookkeeping": self.bookkeeping,
            "workers": self.workers + self.in_flight,
            "task": self.task + self.nested,
            "schedules": self.schedules,
        }
        largest = max(parts, key=lambda k: parts[k])
        if largest == "results":
            return (
                "the results keep every replicate and year: use fewer [study] replicates or years "
                "(or fewer species or scenarios per study)"
            )
        if largest == "bookkeeping":
            return (
                f"use fewer [study] replicates (or a larger [study] chunk_size, now {self.chunk:,}: "
                "each task is a record)"
            )
        if largest == "workers":
            return "use fewer --jobs (each worker holds a task and its own Python)"
        if largest == "schedules":
            return "use fewer [study] years"
        if self.nested > self.task:
            return (
                "use fewer [outputs.red_list_e] inner_replicates (or a smaller [study] chunk_size)"
            )
        return (
            f"use fewer [study] years or a smaller [study] chunk_size (replicates per task, now "
            f"{self.chunk:,})"
        )


def _chunk(study: Study) -> int:
    return min(study.chunk_size, study.replicates)


def _task_bytes(study: Study, stages: int, populations: int, e_years: int) -> int:
    """Working memory of one task of a species (see the module docstring)."""
    c, y1, sc = _chunk(study), study.years + 1, len(study.scenarios)
    recording = y1 * c * populations * _FLOAT
    state = 12 * c * (populations * stages + stages * stages) * _FLOAT
    abundance = 2 * y1 * c * populations * stages * _FLOAT if e_years else 0
    # the per-scenario lists and their stack (4 per scenario) outlast the engine's recording
    return max(4 * sc, 2 * sc + 2) * recording + state + abundance


def _nested_bytes(study: Study, stages: int, populations: int) -> int:
    settings = study.outputs.red_list_e
    if settings is None or not settings.years:
        return 0
    inner = settings.inner_replicates
    rows = min(_chunk(study), max(1, nested.MAX_ROWS // inner)) * inner
    return (4 * rows * (_E_HORIZON + 1) * populations + 10 * rows * populations * stages) * _FLOAT


def _effective_jobs(jobs: int, tasks: int) -> int:
    n = (os.cpu_count() or 1) + 1 + jobs if jobs < 0 else jobs  # joblib: -1 = all cores
    return max(1, min(n, tasks))


def estimate(
    study: Study, *, jobs: int = 1, backend: str = "loky", streamed: bool = False
) -> Estimate:
    """Estimate the memory, disk and time a run of ``study`` needs (nothing is allocated).

    Parameters
    ----------
    study
        The study.
    jobs
        Workers as given to :func:`pva.runner.run_study` (``-1``: all cores).
    backend
        ``"loky"`` (worker processes), ``"threading"``, ``"sequential"`` or ``"dask"``.
    streamed
        A run that writes its results file as it goes (``pva run``,
        :func:`pva.runner.run_study_to_file`) rather than returning them in memory.

    Returns
    -------
    Estimate
        Bytes and seconds; ``memory`` is the peak to compare with :func:`available_memory`.
    """
    sp, sc, reps, y1 = len(study.species), len(study.scenarios), study.replicates, study.years + 1
    pops = [s.species.n_populations for s in study.species]
    stages = [s.species.n_stages for s in study.species]
    settings = study.outputs.red_list_e
    e_years = len(settings.years) if settings is not None else 0
    p_max = max(pops)

    cells = sp * sc * reps * y1
    raw = 2 * cells * p_max * _FLOAT + (cells * 3 * _FLOAT if e_years else 0)
    schedule_each = [10 * study.years * p * s * _FLOAT for p, s in zip(pops, stages, strict=True)]
    schedules = sc * sum(schedule_each)
    tasks = [_task_bytes(study, s, p, e_years) for p, s in zip(pops, stages, strict=True)]
    nests = [_nested_bytes(study, s, p) for p, s in zip(pops, stages, strict=True)]
    task, nest = max(tasks), max(nests)

    chunks = -(-reps // study.chunk_size)
    n_jobs = 1 if backend == "sequential" else _effective_jobs(jobs, sp * chunks)
    transfer = 2 * sc * _chunk(study) * y1 * p_max * _FLOAT
    in_flight = 2 * n_jobs * transfer if n_jobs > 1 else 0
    if n_jobs > 1 and backend == "loky":
        workers = n_jobs * (WORKER_BASE + task + nest + max(schedule_each) * sc)
        local = 0
    elif n_jobs > 1 and backend == "threading":
        workers, local = 0, n_jobs * (task + nest)
    elif backend == "dask" and n_jobs > 1:
        workers, local = 0, 0
    else:
        workers, local = 0, task + nest
    if streamed:
        # the chunk cache of each variable: mature, total, nested E (2), genetics (2), ex situ (2)
        kept = 0
        writing = (4 + 2 * bool(e_years) + 2 * study.has_genetics) * io.STREAM_CACHE
    else:
        kept, writing = raw, raw // 10
    # the replicate coordinate, and per task its bounds, its delayed call and its place in the
    # lists of the runner (about a kilobyte)
    bookkeeping = reps * _FLOAT + sp * chunks * 1024
    simulating = kept + schedules + in_flight + workers + local + bookkeeping
    memory = max(simulating + (writing if streamed else 0), kept + schedules + writing)

    seconds = 0.0
    for p, s in zip(pops, stages, strict=True):
        per_year = SECONDS_PER_CHUNK_YEAR + s * SECONDS_PER_STAGE_YEAR
        seconds += sc * study.years * (chunks * per_year + reps * s * p * SECONDS_PER_CELL)
        if e_years and settings is not None:
            per_batch = max(1, nested.MAX_ROWS // settings.inner_replicates)
            batches = chunks * -(-_chunk(study) // per_batch)
            futures = reps * settings.inner_replicates
            seconds += (
                sc
                * e_years
                * _E_HORIZON
                * (batches * per_year + futures * s * p * SECONDS_PER_CELL)
            )
    shape = (
        f"{sp} species x {sc} scenarios x {reps:,} replicates x {y1:,} years x {p_max} "
        "population(s)"
    )
    checkpoint_bytes = raw + sp * chunks * 1024  # .npz headers
    return Estimate(
        results=kept,
        schedules=schedules,
        task=task,
        nested=nest,
        in_flight=in_flight,
        bookkeeping=bookkeeping,
        workers=workers,
        writing=writing,
        memory=memory,
        results_file=raw // COMPRESSION,
        checkpoints=checkpoint_bytes,
        seconds=seconds,
        jobs=n_jobs,
        shape=shape,
        chunk=_chunk(study),
    )


# ---------------------------------------------------------------------------------------------------
# what the machine has
# ---------------------------------------------------------------------------------------------------


def _read(path: str) -> str | None:
    return io.read_system_text(path)


def _meminfo(key: str) -> int | None:
    text = _read("/proc/meminfo")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    return None


def _cgroup_folders() -> list[tuple[Path, str, str]]:
    """(folder, limit file, usage file) of this process's memory cgroup and its ancestors, from
    /proc/self/cgroup (cgroup v2, and v1's memory controller)."""
    text = _read("/proc/self/cgroup") or ""
    out: list[tuple[Path, str, str]] = []
    for line in text.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":
            root = Path("/sys/fs/cgroup")
            if not (root / "cgroup.controllers").exists():
                root = root / "unified"
            names = ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            root = Path("/sys/fs/cgroup/memory")
            names = ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        folder = root / path.lstrip("/")
        while True:
            out.append((folder, *names))
            if folder == root or root not in folder.parents:
                break
            folder = folder.parent
    return out


def _cgroup_room() -> int | None:
    """Memory left under the tightest cgroup limit of this process, or None without a limit."""
    rooms = []
    for folder, limit_file, usage_file in _cgroup_folders():
        limit, usage = _read(str(folder / limit_file)), _read(str(folder / usage_file))
        if limit is None or usage is None or not limit.isdigit() or not usage.isdigit():
            continue  # "max" (v2) or no such file
        if int(limit) >= 2**60:  # v1 writes "no limit" as a huge number
            continue
        rooms.append(max(int(limit) - int(usage), 0))
    return min(rooms) if rooms else None


def _address_space_room() -> int | None:
    """Address space left under ``ulimit -v`` (RLIMIT_AS), or None without a limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    status = _read("/proc/self/status") or ""
    used = next(
        (int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:")),
        0,
    )
    return max(soft - used, 0)


def available_memory() -> int | None:
    """Bytes this process can still allocate: the least of the kernel's ``MemAvailable``, the room
    under a cgroup memory limit and under ``ulimit -v``; None where none of them can be read."""
    found = [x for x in (_meminfo("MemAvailable"), _cgroup_room(), _address_space_room()) if x]
    if not found:
        try:
            found = [os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
        except (ValueError, OSError, AttributeError):
            return None
    return min(found)


def format_bytes(n: float) -> str:
    """``n`` bytes for people: ``"12 MiB"``, ``"3.4 GiB"``, ``"1.2e+06 TiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" or n >= 10 else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.3g} TiB" if n < 1e5 else f"{n:.2g} TiB"


def format_seconds(s: float) -> str:
    """A rough duration: ``"2 s"``, ``"40 min"``, ``"3 h"``, ``"5e+04 days"``."""
    if s < 90:
        return f"{max(s, 1):.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    if s < 172_800:
        return f"{s / 3600:.0f} h"
    return f"{s / 86400:.2g} days"


def require_memory(need: Estimate, available: int | None = None, *, where: str = "") -> None:
    """Raise :class:`~pva.errors.ResourceError` if ``need.memory`` exceeds the memory available
    (``available``, default :func:`available_memory`; None: not known, nothing is refused) and
    :data:`ALWAYS_ALLOWED`. The message starts with ``where`` (e.g. the study file) if given."""
    have = available_memory() if available is None else available
    if have is None or need.memory <= max(have, ALWAYS_ALLOWED):
        return
    kept = (
        f"results {format_bytes(need.results)} for "
        if need.results
        else "results written as made, "
    )
    raise ResourceError(
        f"{where + ': ' if where else ''}the run needs about {format_bytes(need.memory)} of memory ({kept}"
        f"{need.shape}; per task "
        f"{format_bytes(need.task + need.nested)}; {need.jobs} job(s)) but "
        f"{format_bytes(have)} are available: {need.advice()}"
    )


def summary(need: Estimate) -> str:
    """One phrase for ``pva validate``: memory and rough time of a run."""
    return (
        f"a run needs about {format_bytes(need.memory)} of memory and roughly "
        f"{format_seconds(need.seconds)} of one core"
    )
