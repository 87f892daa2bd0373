"""Faults a run must survive (issue 14): Ctrl-C, SIGTERM and SIGKILL while it simulates, while it
loads and while it writes; worker processes that must not outlive their parent.

Each test runs ``pva`` as a subprocess and stops it at a known point with the test hook of
:mod:`pva._signals` (see ``fault_harness``), then signals it: no sleeps tuned to pass.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from fault_harness import (
    alive,
    children,
    finish,
    kill_all,
    one_line,
    start,
    temporaries,
    wait_for_pause,
    wait_gone,
    write_study,
)

from pva import io

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def test_sigkill_of_a_parallel_run_leaves_no_process_behind(tmp_path: Path) -> None:
    """SIGKILL of `pva run -j 2` (which nothing can catch) used to leave 2 loky workers and 2
    resource trackers alive for 15+ minutes, holding the caller's stdout (`| tee` never ended)."""
    study = write_study(tmp_path)
    proc = start(
        ["run", str(study), "-j", "2", "-q", "--out", str(tmp_path / "r.nc")],
        pause="task",
    )
    worker = wait_for_pause(proc)  # a worker is inside a task
    family = children(proc.pid)
    try:
        assert worker in family
        assert worker != proc.pid
        assert len(family) >= 3  # two workers and loky's resource tracker(s)
        os.kill(proc.pid, signal.SIGKILL)
        finish(proc)
        assert wait_gone(family) == []
    finally:
        kill_all(family)
    assert not (tmp_path / "r.nc").exists()
    # the results file being written when SIGKILL came (nothing can catch it) is left as a
    # temporary file, which the next write into the folder removes: its process is gone
    assert len(temporaries(tmp_path)) <= 1
    io.check_output(tmp_path / "r.nc")
    assert temporaries(tmp_path) == []


def test_ctrl_c_during_the_simulation_is_one_line_and_keeps_the_checkpoints(
    tmp_path: Path,
) -> None:
    study = write_study(tmp_path)
    checkpoints = tmp_path / "ckpt"
    proc = start(
        [
            "run",
            str(study),
            "-q",
            "--out",
            str(tmp_path / "r.nc"),
            "--checkpoint-dir",
            str(checkpoints),
        ],
        pause="task",
    )
    assert wait_for_pause(proc) == proc.pid  # sequential: the task runs in pva itself
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    status, _, err = finish(proc)
    assert status == 130
    line = one_line(err, "pva run: interrupted")
    assert str(checkpoints) in line
    assert "resumes" in line
    assert (checkpoints / "manifest.json").exists()
    assert temporaries(checkpoints) == []
    assert temporaries(tmp_path) == []
    assert not (tmp_path / "r.nc").exists()


def test_ctrl_c_of_a_parallel_run_stops_its_workers(tmp_path: Path) -> None:
    study = write_study(tmp_path)
    proc = start(
        ["run", str(study), "-j", "2", "-q", "--out", str(tmp_path / "r.nc")],
        pause="task",
    )
    wait_for_pause(proc)
    family = children(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGINT)
        status, _, err = finish(proc)
        assert status == 130
        one_line(err, "pva run: interrupted")
        assert wait_gone(family) == []
    finally:
        kill_all(family)


def test_ctrl_c_while_the_results_are_encoded_never_hangs(tmp_path: Path) -> None:
    """An interrupt inside xarray's to_netcdf used to deadlock (6 of 58 tries): the lock it held
    was never released. The encoding now holds SIGINT back and ends first."""
    study = write_study(tmp_path)
    out = tmp_path / "r.nc"
    out.write_bytes(b"the previous results")
    proc = start(["run", str(study), "-q", "--out", str(out)], pause="encode")
    wait_for_pause(proc)
    os.killpg(proc.pid, signal.SIGINT)
    status, _, err = finish(proc)  # a deadlock fails here, at the deadline
    assert status == 130
    one_line(err, "pva run: interrupted")
    assert out.read_bytes() == b"the previous results"
    assert temporaries(tmp_path) == []


def test_sigterm_while_writing_removes_the_temporary_file(tmp_path: Path) -> None:
    study = write_study(tmp_path)
    out = tmp_path / "r.nc"
    out.write_bytes(b"the previous results")
    proc = start(["run", str(study), "-q", "--out", str(out)], pause="write")
    wait_for_pause(proc)
    assert len(temporaries(tmp_path)) == 1  # the write has begun
    os.kill(proc.pid, signal.SIGTERM)
    status, _, err = finish(proc)
    assert status == 143
    one_line(err, "pva run: terminated by signal SIGTERM")
    assert out.read_bytes() == b"the previous results"
    assert temporaries(tmp_path) == []


def test_a_temporary_file_left_by_sigkill_is_removed_by_the_next_write(tmp_path: Path) -> None:
    study = write_study(tmp_path)
    out = tmp_path / "r.nc"
    out.write_bytes(b"the previous results")
    proc = start(["run", str(study), "-q", "--out", str(out)], pause="write")
    wait_for_pause(proc)
    os.kill(proc.pid, signal.SIGKILL)  # cannot be caught: the temporary file stays
    finish(proc)
    assert not alive(proc.pid)
    left = temporaries(tmp_path)
    assert len(left) == 1
    assert f".{proc.pid}." in left[0].name
    assert out.read_bytes() == b"the previous results"
    io.write_text(tmp_path / "other.txt", "a later write into the folder")
    assert temporaries(tmp_path) == []


@pytest.mark.parametrize(
    ("sent", "status", "line"),
    [
        (signal.SIGINT, 130, "pva: interrupted"),
        (signal.SIGTERM, 143, "pva: terminated by signal SIGTERM"),
    ],
)
def test_a_signal_while_pva_loads_is_one_line(
    tmp_path: Path, sent: signal.Signals, status: int, line: str
) -> None:
    """Ctrl-C in the first second (while numpy, scipy and xarray load) used to print a
    KeyboardInterrupt traceback."""
    proc = start(["validate", str(write_study(tmp_path))], pause="start")
    wait_for_pause(proc)
    os.killpg(proc.pid, sent)
    got, out, err = finish(proc)
    assert got == status
    assert out == ""
    assert one_line(err, line) == line
