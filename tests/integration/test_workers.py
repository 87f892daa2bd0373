"""The run's serial part kept small (issue 17): worker processes started early and reused, light
worker imports, compact task arrays, the results file's compression. None of it may change a
number: every run here is compared with the sequential run of the same study."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from pva import __main__ as entry
from pva import io, kernels, plots, report, results, runner, summary
from pva.model import DensityDependence, Species
from pva.scenario import HabitatLoss, Scenario
from pva.study import Study, StudySpecies


def small_study() -> Study:
    """A species whose counts need 16 bits (a ceiling of 2,000) and one whose counts fit 8 bits
    (a ceiling of 200), under two scenarios, in three chunks each."""

    def species(name: str, ceiling: float) -> Species:
        return Species(
            name=name,
            stages=("juvenile", "adult"),
            U=((0.2, 0.0), (0.4, 0.85)),
            F=((0.0, 0.6), (0.0, 0.0)),
            initial=(int(ceiling / 4), int(ceiling / 2)),
            carrying_capacity=ceiling,
            density_dependence=DensityDependence(kind="ceiling"),
        )

    return Study(
        name="workers",
        species=(
            StudySpecies(species=species("large", 2000.0)),
            StudySpecies(species=species("small", 200.0)),
        ),
        scenarios=(
            Scenario("no action", (HabitatLoss(name="loss", rate=0.02),)),
            Scenario("none", ()),
        ),
        years=12,
        replicates=30,
        chunk_size=12,
        seed=7,
    )


@pytest.fixture(scope="module")
def sequential() -> xr.Dataset:
    return runner.run_study(small_study(), backend="sequential")


@pytest.mark.parametrize(
    ("largest", "dtype"),
    [
        (0, np.uint8),
        (255, np.uint8),
        (256, np.uint16),
        (65_535, np.uint16),
        (65_536, np.uint32),
        (2**32 - 1, np.uint32),
        (2**32, np.int64),
        (2**62, np.int64),
    ],
)
def test_counts_travel_in_the_smallest_type_that_holds_them(largest: int, dtype: type) -> None:
    counts = np.array([[0, 1], [largest, largest // 2]], dtype=np.int64)
    compact = runner.compact_counts(counts)
    assert compact.dtype == dtype
    np.testing.assert_array_equal(compact.astype(np.int64), counts)  # the same values


def test_negative_or_fractional_values_are_left_as_they_are() -> None:
    negative = np.array([-1, 3], dtype=np.int64)
    fractional = np.array([0.5, 2.0])
    assert runner.compact_counts(negative) is negative
    assert runner.compact_counts(fractional) is fractional


def test_workers_started_early_run_the_tasks_with_the_same_numbers(sequential: xr.Dataset) -> None:
    from joblib.externals.loky import reusable_executor

    runner.shutdown_workers()
    runner.start_workers(2)
    started = reusable_executor._executor
    try:
        ds = runner.run_study(small_study(), jobs=2)
        # the executor start_workers made ran the tasks: joblib reused it, started no other
        assert reusable_executor._executor is started
    finally:
        runner.shutdown_workers()
    xr.testing.assert_identical(ds, sequential)
    # named by the workers, which use the engine path of this environment
    assert ds.attrs[results.ATTR_KERNELS] == kernels.name()


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_calls_start_before_their_first_result_is_asked_for(backend: str, tmp_path: Path) -> None:
    # the run lays out its results file while the workers compute (runner._Started): map_tasks
    # (the runner's execution step) must have dispatched the calls when it returns
    marks = [tmp_path / f"mark-{i}" for i in range(2)]
    tasks = [{"path": mark, "data": b"started"} for mark in marks]
    running = runner.map_tasks(io.write_bytes, tasks, jobs=2, backend=backend)  # type: ignore[arg-type]
    try:
        deadline = time.monotonic() + 120
        while not all(mark.exists() for mark in marks) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(mark.read_bytes() == b"started" for mark in marks)
        assert list(running) == marks  # then read, in order
    finally:
        running.close()
        runner.shutdown_workers()


def test_a_run_stopped_early_cancels_its_calls_without_joblib_advice(tmp_path: Path) -> None:
    calls = [{"path": tmp_path / f"out-{i}", "data": b"x"} for i in range(40)]
    running = runner.map_tasks(io.write_bytes, calls, jobs=2)
    try:
        next(running)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # joblib's "tasks ... cancelled" would fail here
            running.close()
    finally:
        runner.shutdown_workers()


def test_start_workers_checks_its_arguments_and_ignores_other_backends() -> None:
    from joblib.externals.loky import reusable_executor

    with pytest.raises(ValueError, match="jobs must be a non-zero integer"):
        runner.start_workers(0)
    with pytest.raises(ValueError, match="backend must be"):
        runner.start_workers(2, backend="processes")  # type: ignore[arg-type]
    runner.shutdown_workers()
    before = reusable_executor._executor
    runner.start_workers(1)
    runner.start_workers(2, backend="threading")
    assert reusable_executor._executor is before  # nothing started


def test_checkpoints_of_compact_tasks_resume_to_identical_results(
    sequential: xr.Dataset, tmp_path: Path
) -> None:
    first = runner.run_study(small_study(), jobs=2, checkpoint_dir=tmp_path)
    runner.shutdown_workers()
    xr.testing.assert_identical(first, sequential)
    files = sorted(tmp_path.glob("task-*.npz"))
    with np.load(files[0]) as large, np.load(files[-1]) as small:
        assert large["total"].dtype == np.uint16  # counts above 255, below 65,536
        assert small["total"].dtype == np.uint8
    files[0].unlink()
    resumed = runner.run_study(small_study(), backend="sequential", checkpoint_dir=tmp_path)
    xr.testing.assert_identical(resumed, sequential)


def test_a_worker_imports_neither_xarray_nor_the_red_list_code() -> None:
    """A worker process imports pva.runner to run its tasks; xarray (with pandas) and the Red List
    code are for the calling process, and would add half a second to each worker's start; scipy
    (a quarter of a second) only for the models that use it (sites, beta-distributed rates)."""
    heavy = "{'xarray', 'pandas', 'pva.redlist', 'scipy'}"
    code = f"import sys, pva.runner; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "jobs"),
    [
        (["run", "s.toml", "-j", "2"], 2),
        (["run", "s.toml", "--jobs", "3", "-q", "--out", "r.nc"], 3),
        (["run", "-j2", "s.toml"], 2),
        (["run", "s.toml", "--jobs=-1"], -1),
        (["run", "s.toml"], None),  # one job: no workers
        (["run", "s.toml", "-j", "0"], None),  # refused by the command itself
        (["run", "s.toml", "-j", "2", "--backend", "threading"], None),
        (["run", "s.toml", "-j", "2", "--scheduler", "tcp://h:8786"], None),
        (["run", "s.toml", "-j", "two"], None),  # the command reports the error
        (["sweep", "s.toml", "-j", "2"], None),
        (["summary", "r.nc", "-j", "2"], 2),  # species reduced by workers
        (["plot", "r.nc", "--out", "figs", "-j", "2"], 2),  # and figures rendered
        (["report", "r.nc", "--out", "r.html", "--jobs=2"], 2),
        (["plot", "r.nc", "--out", "figs"], None),
        ([], None),
    ],
)
def test_the_entry_point_reads_the_jobs_of_a_parallel_run_ahead(
    argv: list[str], jobs: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert entry.parallel_run_jobs(argv) == jobs
    assert capsys.readouterr() == ("", "")  # silent, whatever it reads


def test_results_are_compressed_with_shuffle_and_zlib_level_one(
    sequential: xr.Dataset, tmp_path: Path
) -> None:
    import netCDF4

    path = io.write_results(sequential, tmp_path / "r.nc")
    with netCDF4.Dataset(path) as nc:
        filters = nc[results.TOTAL].filters()
    assert filters["zlib"] is True
    assert filters["shuffle"] is True
    assert filters["complevel"] == io.COMPRESSION_LEVEL == 1
    xr.testing.assert_identical(io.open_results(path), sequential)


# ---------------------------------------------------------------------------------------------------
# figures rendered by worker processes (pva plot --jobs, pva report --jobs)
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def known(request: pytest.FixtureRequest) -> xr.Dataset:
    """conftest's two-species results of known answers (its fixture ``results``, a name this
    module gives the results module)."""
    return request.getfixturevalue("results")


def _counted_map(used: list[str]) -> summary.TaskMap:
    """runner.map_tasks with two loky workers, noting the function of every task it is given."""

    def task_map(function: Any, tasks: Iterable[Mapping[str, Any]]) -> Iterator[Any]:
        def counted() -> Iterator[Mapping[str, Any]]:
            for task in tasks:
                used.append(str(task.get("function", function).__name__))
                yield task

        return runner.map_tasks(function, counted(), jobs=2)

    return task_map


def test_figures_rendered_by_workers_are_the_same_files(known: xr.Dataset, tmp_path: Path) -> None:
    here = plots.plot_all(known, tmp_path / "here", dpi=30, formats=("png", "svg"))
    used: list[str] = []
    try:
        there = plots.plot_all(
            known,
            tmp_path / "there",
            dpi=30,
            formats=("png", "svg"),
            task_map=_counted_map(used),
        )
    finally:
        runner.shutdown_workers()
    # every figure went to the workers, once (rendered by pva.plots.render); and the species,
    # assessed and summarised by blocks
    assert used.count("render") == len(here) // 2
    assert {"_assess_block", "_summarise_block"} <= set(used)
    assert [p.name for p in there] == [p.name for p in here]
    for a, b in zip(here, there, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_a_report_rendered_by_workers_is_the_same_page(known: xr.Dataset) -> None:
    here = report.render_report(known, dpi=40)
    used: list[str] = []
    try:
        there = report.render_report(known, dpi=40, task_map=_counted_map(used))
    finally:
        runner.shutdown_workers()
    assert used.count("encode_figure") == here.count("<figure>") > 0
    assert {"_assess_block", "_summarise_block"} <= set(used)
    assert "\x00" not in there
    date = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC")
    assert date.sub("", there) == date.sub("", here)


def test_a_summary_reduced_by_workers_is_the_same_table(
    known: xr.Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Blocks of species read from the file by the workers themselves (the file opened lazily,
    as ``pva summary`` does): the table of the serial summary, to the bit, notes included."""
    from pva.cli import main

    path = io.write_results(known, tmp_path / "known.nc")
    lazy = io.open_results(path, lazy=True)
    here = summary.summary_table(lazy)
    used: list[str] = []
    try:
        there = summary.summary_table(lazy, task_map=_counted_map(used))
        assert main(["summary", str(path), "--json", "-j", "2"]) == 0
    finally:
        runner.shutdown_workers()
    assert used == ["_summarise_block"] * known.sizes["species"]  # a block per species
    xr.testing.assert_identical(there, here)
    assert capsys.readouterr().out == summary.table_to_json(here) + "\n"


def test_an_error_while_drawing_reaches_the_caller(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    def figures() -> Iterator[tuple[str, Figure]]:
        for i in range(6):
            if i == 4:
                raise RuntimeError("no figure 4")
            fig = Figure()
            fig.add_subplot().plot([0, i])
            yield f"f{i}", fig

    try:
        with pytest.raises(RuntimeError, match="no figure 4"):
            plots.write_figures(
                figures(), tmp_path, dpi=20, task_map=functools.partial(runner.map_tasks, jobs=2)
            )
    finally:
        runner.shutdown_workers()
    # what was rendered before the error is written whole; nothing after it
    assert {p.name for p in tmp_path.iterdir()} <= {"f0.png", "f1.png", "f2.png", "f3.png"}
