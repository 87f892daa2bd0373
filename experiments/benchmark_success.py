"""Benchmark of the success-factor run (issue 12): the real portfolio on 2 workers, loky against a
local 2-worker dask.distributed cluster.

The portfolio (:func:`pva.success.portfolio_study`: every shipped COMPADRE/COMADRE record that
passes the quality flags) under no action and the 15 designs of
:func:`pva.success.fractional_designs`, 1,000 replicates x 100 years, through
:func:`pva.success.run_success` (one task per species: the simulation and the Red List assessment
of every scenario):

* ``loky``: ``jobs=2`` (two worker processes of joblib's loky backend);
* ``dask``: ``scheduler=`` a cluster of ``dask scheduler`` and two ``dask worker`` processes (one
  thread each) started on this machine beforehand (tests/dask_cluster.py), so that cluster start-up
  is not timed.

Measured: wall time of each run, peak memory (the largest summed resident set of the benchmark
process and every worker process, sampled every 0.25 s with psutil), the machine's load average
before and after (the machine is shared), and that both runs give identical numbers. The loky
run's results are written to ``results/success_portfolio.nc`` for ``experiments/success_factors.py``
(``--results``). Writes ``results/benchmark_success.md``.

Run: ``python experiments/benchmark_success.py`` (``--quick``: 4 species, 100 replicates).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import xarray as xr

import pva
from pva import io
from pva import success as pva_success

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmark_success.md"
RESULTS = ROOT / "results" / "success_portfolio.nc"


def _dask_cluster_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "pva_dask_cluster", ROOT / "tests" / "dask_cluster.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError("tests/dask_cluster.py not found")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class PeakMemory:
    """Largest summed RSS of a set of processes (this one, its children if ``children``, and the
    processes ``extra()`` names)."""

    def __init__(self, extra: Callable[[], list[int]] = list, *, children: bool = True) -> None:
        self.extra = extra
        self.children = children
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        procs = [me, *(me.children(recursive=True) if self.children else [])]
        for pid in self.extra():
            try:
                procs.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                continue
        total = 0
        for p in {p.pid: p for p in procs}.values():
            try:
                total += p.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(0.25)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    out: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - start


def _progress(label: str) -> Callable[[int, int], None]:
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"{label}: {done}/{total} species, {time.perf_counter() - start:.0f} s", flush=True)

    return progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 species, 100 replicates")
    args = parser.parse_args()
    entries = pva_success.portfolio.portfolio()
    replicates = 1000
    if args.quick:
        entries, replicates = entries[:2] + entries[-2:], 100
    study = pva_success.portfolio_study(
        species=entries, design_set=pva_success.fractional_designs(), replicates=replicates
    )
    load_before = os.getloadavg()
    print(f"{len(entries)} species x {len(study.scenarios)} scenarios x {replicates} replicates x "
          f"{study.years} years; load {load_before}", flush=True)  # fmt: skip

    with PeakMemory() as memory, timed() as loky_time:
        loky = pva_success.run_success(study, jobs=2, progress=_progress("loky"))
    loky_peak = memory.peak
    if not args.quick:
        io.write_results(loky, RESULTS)

    cluster_module = _dask_cluster_module()
    with cluster_module.local_cluster(workers=2, threads=1) as cluster:
        pids = [cluster.scheduler.pid, *(w.pid for w in cluster.workers)]
        # the idle loky workers of the first run are not counted here
        with PeakMemory(lambda: pids, children=False) as memory, timed() as dask_time:
            dask = pva_success.run_success(
                study, scheduler=cluster.address, progress=_progress("dask")
            )
        dask_peak = memory.peak
    load_after = os.getloadavg()
    xr.testing.assert_identical(loky, dask)

    replicate_years = len(entries) * len(study.scenarios) * replicates * study.years
    rows = [
        ("loky, 2 worker processes", loky_time["seconds"], loky_peak),
        ("dask.distributed, scheduler + 2 workers", dask_time["seconds"], dask_peak),
    ]
    lines = [
        "# Success-factor benchmark (issue 12)",
        "",
        f"The portfolio of `pva.success.portfolio_study` ({len(entries)} species: every shipped "
        f"COMPADRE/COMADRE record passing the quality flags) under no action and "
        f"{len(study.scenarios) - 1} designs (`pva.success.fractional_designs`), "
        f"{replicates:,} replicates x {study.years} years: {replicate_years:,} replicate-years, "
        "each species one task (simulation and Red List assessment of every scenario), through "
        "`pva.success.run_success`.",
        "",
        "| run | wall time (s) | peak memory (MB) | replicate-years / s |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {seconds:,.0f} | {peak / 2**20:,.0f} | {replicate_years / seconds:,.0f} |"
            for name, seconds, peak in rows
        ),
        "",
        f"- dask / loky wall time: **{dask_time['seconds'] / loky_time['seconds']:.2f}** "
        "(overhead of the distributed scheduler against local processes; the cluster was started "
        "before timing)",
        "- results identical (xarray `assert_identical`) between the two runs",
        "- peak memory: the largest summed resident set of this process, the loky workers (its "
        "children) or the scheduler and worker processes, sampled every 0.25 s",
        f"- load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.1f}' for x in load_after)} on {os.cpu_count()} CPUs: the "
        "machine is shared with other work, so wall times are longer than on an idle machine",
        "",
        f"pva {pva.__version__}, Python {platform.python_version()}, {platform.machine()}.",
        "Written by `experiments/benchmark_success.py`.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        io.write_text(OUT, text)


if __name__ == "__main__":
    main()
