"""A real dask.distributed cluster on this machine, for the tests and the benchmark of ``--scheduler``
(tests/integration/test_cluster.py; experiments/benchmark_success.py loads this file).

:func:`local_cluster` starts ``dask scheduler`` and ``dask worker`` as separate processes (what an
administrator starts on a cluster, see docs/cluster.md), waits for them explicitly — the scheduler
file to appear, then every worker to register with the scheduler — and stops them afterwards. It
schedules nothing itself: the processes are dask's own command-line programs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LocalCluster", "local_cluster"]


@dataclasses.dataclass
class LocalCluster:
    """A running scheduler and its workers (separate processes)."""

    scheduler_file: Path
    """The JSON file the scheduler wrote (``--scheduler-file``)."""
    address: str
    """The scheduler's address, ``tcp://127.0.0.1:PORT``."""
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    logs: Path
    """Folder of the processes' output (``scheduler.log``, ``worker-<i>.log``)."""

    def worker_count(self, timeout: float = 30.0) -> int:
        """Workers the scheduler knows now."""
        from dask.distributed import Client

        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            return len(client.scheduler_info(n_workers=-1)["workers"])


def _dask_command() -> list[str]:
    """``dask`` from the running interpreter's environment (the workers must import pva)."""
    beside = Path(sys.executable).with_name("dask")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("dask")
    if found is None:  # pragma: no cover - dask is in .[test]
        raise FileNotFoundError("the `dask` command is not installed (pip install '.[dask]')")
    return [found]


def _wait_for_file(path: Path, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size > 0):
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with status {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no scheduler file {path} after {timeout} s")
        time.sleep(0.05)


@contextlib.contextmanager
def local_cluster(
    workers: int = 2, *, threads: int = 1, timeout: float = 120.0
) -> Iterator[LocalCluster]:
    """Start ``dask scheduler`` and ``workers`` x ``dask worker`` (``threads`` threads each, no
    nanny, so that killing a worker's process kills the worker) on 127.0.0.1; yield them once every
    worker has registered; terminate them on exit.

    Raises
    ------
    TimeoutError
        If the scheduler file or the workers do not appear within ``timeout`` seconds.
    """
    from dask.distributed import Client

    folder = Path(tempfile.mkdtemp(prefix="pva-dask-"))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    dask = _dask_command()
    scheduler_file = folder / "scheduler.json"
    common = ["--no-dashboard"]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with (folder / "scheduler.log").open("wb") as log:
            scheduler = subprocess.Popen(
                [*dask, "scheduler", "--scheduler-file", str(scheduler_file), "--host",
                 "127.0.0.1", "--port", "0", *common],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        processes.append(scheduler)
        _wait_for_file(scheduler_file, scheduler, timeout)
        address = str(json.loads(scheduler_file.read_text(encoding="utf-8"))["address"])
        started = []
        for i in range(workers):
            with (folder / f"worker-{i}.log").open("wb") as log:
                worker = subprocess.Popen(
                    [*dask, "worker", address, "--nthreads", str(threads), "--no-nanny",
                     "--name", f"worker-{i}", "--host", "127.0.0.1", *common],
                    stdout=log, stderr=subprocess.STDOUT, env=env,
                )  # fmt: skip
            processes.append(worker)
            started.append(worker)
        with Client(address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=timeout)
        yield LocalCluster(scheduler_file, address, scheduler, started, folder)
    finally:
        _stop(processes)
        shutil.rmtree(folder, ignore_errors=True)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process still running (workers first), then SIGKILL whatever has not ended
    a few seconds later: nothing of the cluster is left behind."""
    for p in reversed(processes):
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 10
    for p in reversed(processes):
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
