"""A full disk and a read-only folder (issue 14): refused before simulating where that can be
known, one clear line where it cannot, and never a truncated file or a lost old one.

Each test mounts a small tmpfs in a private mount namespace (``unshare``: as root, or in a user
namespace otherwise) that ends with the test's script; it is skipped only where mounting is not
permitted. ``.ci/run`` makes sure ``unshare`` is there.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr
from fault_harness import finish, in_small_filesystem, start, temporaries, write_study

from pva import io, runner

NOT_PERMITTED = "mounting a tmpfs (unshare --mount) is not permitted on this machine"


def _script(
    mount: Path, script: str, *, size: str = "320k", read_only: bool = False
) -> subprocess.CompletedProcess[str]:
    done = in_small_filesystem(mount, script, size=size, read_only=read_only)
    if done is None:
        pytest.skip(NOT_PERMITTED)
    assert done.returncode != 99, done.stderr  # the mount itself failed
    return done


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_results_that_cannot_fit_are_refused_before_simulating(tmp_path: Path) -> None:
    """The output folder was checked only after the simulation: a full disk lost everything."""
    study = write_study(tmp_path, replicates=2000, years=100, chunk_size=250)
    mount, marker = tmp_path / "small", tmp_path / "task.marker"
    done = _script(
        mount,
        f"PVA_TEST_PAUSE_AT=task:{marker} $PVA run {study} -q --out {mount}/r.nc\n"
        "echo status=$?",
    )
    assert done.stdout.strip() == "status=2"
    [line] = _lines(done.stderr)
    assert line.startswith(f"pva run: error: not enough space for the results in {mount}: about ")
    assert "needed" in line
    assert "free" in line
    assert not marker.exists()  # no task started


def test_a_full_disk_at_the_end_is_one_line_and_the_checkpoints_resume(tmp_path: Path) -> None:
    """The disk is big enough for the results' lower bound but not for the file: the exact size
    is known only once encoded, after the simulation. The checkpoints make a rerun write without
    simulating again."""
    study = write_study(tmp_path, replicates=1000, years=100, chunk_size=250)
    mount, checkpoints = tmp_path / "small", tmp_path / "ckpt"
    done = _script(
        mount,
        f"$PVA run {study} -q --out {mount}/r.nc --checkpoint-dir {checkpoints}\n"
        f"echo status=$?\nls -a {mount}",
    )
    status, *listing = done.stdout.split()
    assert status == "status=2"
    assert sorted(listing) == [".", ".."]  # neither a truncated file nor a temporary one
    [line] = _lines(done.stderr)
    assert line.startswith(f"pva run: error: not enough space for the results in {mount}")
    assert f"finished tasks are kept in {checkpoints}" in line
    assert len(list(checkpoints.glob("task-*.npz"))) == 4

    marker = tmp_path / "task.marker"
    args = ["run", str(study), "-q", "--out", str(tmp_path / "r.nc")]
    again = start([*args, "--checkpoint-dir", str(checkpoints)], pause=("task", marker))
    status, _, err = finish(again)
    assert status == 0, err
    assert not marker.exists()  # every task came from the checkpoints
    fresh = runner.run_study(io.read_study(study), backend="sequential")
    xr.testing.assert_identical(io.open_results(tmp_path / "r.nc"), fresh)


def test_checkpoints_that_cannot_fit_are_refused_before_simulating(tmp_path: Path) -> None:
    study = write_study(tmp_path, replicates=1000, years=100, chunk_size=250)
    mount, marker = tmp_path / "small", tmp_path / "task.marker"
    done = _script(
        mount,
        f"PVA_TEST_PAUSE_AT=task:{marker} $PVA run {study} -q --out {tmp_path}/r.nc "
        f"--checkpoint-dir {mount}/ckpt\necho status=$?",
    )
    assert done.stdout.strip() == "status=2"
    [line] = _lines(done.stderr)
    assert line.startswith(f"pva run: error: not enough space for the checkpoints in {mount}/ckpt")
    assert not marker.exists()


def test_a_read_only_folder_is_refused_before_simulating(tmp_path: Path) -> None:
    """Root ignores permission bits, so the folder is a read-only mount."""
    study = write_study(tmp_path)
    mount, marker = tmp_path / "ro", tmp_path / "task.marker"
    done = _script(
        mount,
        f"export PVA_TEST_PAUSE_AT=task:{marker}\n"
        f"$PVA run {study} -q --out {mount}/r.nc; echo status=$?\n"
        f"$PVA run {study} -q --out {tmp_path}/r.nc --checkpoint-dir {mount}/ckpt; "
        "echo status=$?",
        read_only=True,
    )
    assert done.stdout.split() == ["status=2", "status=2"]
    results, checkpoints = _lines(done.stderr)
    assert results == f"pva run: error: cannot write results to {mount}: Read-only file system"
    assert checkpoints.startswith(f"pva run: error: cannot write checkpoints to {mount}/ckpt: ")
    assert not marker.exists()
    assert not (tmp_path / "r.nc").exists()


def test_a_full_disk_never_truncates_nor_loses_the_old_file(tmp_path: Path) -> None:
    """Any write that runs out of space (after the checks, e.g. another program filling the disk)
    fails in one clear error and leaves the old file as it was."""
    mount = tmp_path / "small"
    code = (
        "from pva import io\n"
        f"old = io.write_bytes('{mount}/f.bin', b'old' * 1000)\n"
        "try:\n"
        f"    io.write_bytes('{mount}/f.bin', bytes(400_000))\n"
        "except io.WriteError as exc:\n"
        "    print(exc)\n"
        "print(old.read_bytes() == b'old' * 1000)\n"
    )
    done = _script(mount, f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}\nls -a {mount}")
    assert done.returncode == 0, done.stderr
    error, same, *listing = done.stdout.splitlines()
    assert error == f"cannot write {mount}/f.bin: No space left on device"
    assert same == "True"
    assert sorted(listing) == [".", "..", "f.bin"]


def test_report_and_plot_on_a_full_disk_keep_the_old_files(tmp_path: Path) -> None:
    """`pva report` and `pva plot` wrote in place: a full disk destroyed the old report and left
    a 0-byte PNG. Both now write through the one atomic writer."""
    study = write_study(tmp_path, replicates=40, years=20)
    results = tmp_path / "r.nc"
    io.write_results(runner.run_study(io.read_study(study), backend="sequential"), results)
    mount = tmp_path / "small"
    done = _script(
        mount,
        f"echo '<html>old report</html>' > {mount}/report.html\n"
        f"head -c 60000 /dev/zero > {mount}/filler\n"
        f"$PVA report {results} --out {mount}/report.html -q; echo status=$?\n"
        f"$PVA plot {results} --out {mount}/figures -q; echo status=$?\n"
        f"cat {mount}/report.html; find {mount}/figures -size 0 -name '*.png' | wc -l\n"
        f"ls -a {mount}",
        size="64k",
    )
    out = done.stdout.splitlines()
    assert out[:2] == ["status=2", "status=2"], done.stderr
    assert out[2] == "<html>old report</html>"
    assert out[3].strip() == "0"  # no empty figure
    assert sorted(out[4:]) == [".", "..", "figures", "filler", "report.html"]
    report_line, plot_line = _lines(done.stderr)
    assert report_line == (
        f"pva report: error: cannot write {mount}/report.html: No space left on device"
    )
    assert plot_line.startswith("pva plot: error: cannot write ")
    assert plot_line.endswith(": No space left on device")
    assert temporaries(mount) == []
