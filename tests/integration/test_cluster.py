"""``--scheduler``: a study run on a running dask.distributed cluster — a ``dask scheduler`` and two
``dask worker`` processes started on this machine (tests/dask_cluster.py) — gives the numbers of
``--jobs N``, also when a worker is killed in the middle of the run (dask reschedules its tasks)."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr
from dask_cluster import LocalCluster, local_cluster

from pva import io, runner
from pva.cli import main
from pva.study import Study

pytest.importorskip("dask.distributed")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster() -> LocalCluster:
    with local_cluster(workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def study() -> Study:
    return io.read_study(ROOT / "scenarios" / "demo.toml").with_(replicates=200, chunk_size=25)


@pytest.fixture(scope="module")
def sequential(study: Study) -> xr.Dataset:
    return runner.run_study(study, backend="sequential")


def test_the_cluster_gives_the_numbers_of_jobs(
    cluster: LocalCluster, study: Study, sequential: xr.Dataset
) -> None:
    assert cluster.worker_count() == 2
    xr.testing.assert_identical(runner.run_study(study, jobs=2), sequential)
    xr.testing.assert_identical(runner.run_study(study, scheduler=cluster.address), sequential)
    by_file = runner.run_study(study, scheduler=str(cluster.scheduler_file))
    xr.testing.assert_identical(by_file, sequential)


def test_pva_run_and_success_take_the_scheduler(
    cluster: LocalCluster, study: Study, sequential: xr.Dataset, tmp_path: Path
) -> None:
    out = tmp_path / "demo.nc"
    args = ["run", str(ROOT / "scenarios" / "demo.toml"), "--out", str(out), "-q"]
    assert main([*args, "--scheduler", cluster.address]) == 0
    reference = tmp_path / "reference.nc"
    assert main(["run", str(ROOT / "scenarios" / "demo.toml"), "--out", str(reference), "-q"]) == 0
    xr.testing.assert_identical(io.open_results(out), io.open_results(reference))

    from test_success_run import small_portfolio

    from pva.success import outcomes

    small, _ = small_portfolio()
    xr.testing.assert_identical(
        outcomes.run_success(small, scheduler=cluster.address),
        outcomes.run_success(small, backend="sequential"),
    )


def test_a_sweep_takes_the_scheduler(cluster: LocalCluster) -> None:
    """A sweep's samples run as tasks on the cluster: the numbers of the sequential sweep."""
    from sweep_studies import harvest_study

    from pva.sensitivity import SweepSettings, parse_setting, sweep

    small = harvest_study(replicates=40, years=12, seed=9)
    settings = SweepSettings(
        parameters=(
            parse_setting("threats.poaching.proportion=0.0:0.3"),
            parse_setting("species.herb.carrying_capacity=30:90"),
        ),
        design="lhs",
        samples=6,
    )
    xr.testing.assert_identical(
        sweep(small, settings, scheduler=cluster.address),
        sweep(small, settings, backend="sequential"),
    )


def test_an_unreachable_scheduler_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import dask

    demo = str(ROOT / "scenarios" / "demo.toml")
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        status = main(["run", demo, "--scheduler", "tcp://127.0.0.1:9", "-q", "--out", "/x.nc"])
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("pva run: error: no dask scheduler reachable at 'tcp://127.0.0.1:9'")
    assert err.count("\n") == 1


def test_a_worker_killed_mid_run_changes_nothing(
    cluster: LocalCluster, study: Study, sequential: xr.Dataset
) -> None:
    """Kill one of the two workers (SIGKILL; no nanny restarts it) as soon as the first task is
    back: dask reschedules the tasks it held on the other worker, and the run completes with the
    same numbers. (Last in this file: the cluster has one worker afterwards.)"""
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if done >= 1 and not killed:
            cluster.workers[0].kill()
            cluster.workers[0].wait()
            killed.append(total - done)

    ds = runner.run_study(study, scheduler=cluster.address, progress=progress)
    assert cluster.worker_count() == 1
    assert killed
    assert killed[0] > 0  # tasks were still to come when the worker died
    xr.testing.assert_identical(ds, sequential)
