"""A full disk and a read-only folder (issue 14): refused before simulating where that can be
known, one clear line where it cannot, and never a truncated file or a lost old one.

Small file systems are tmpfs mounts in a private mount namespace (``unshare``: as root, or in a user
namespace otherwise) that lives as long as one Python process, which runs every case through the
command (``pva.cli.main``) and reports what happened as JSON; each test then checks one case. The
tests are skipped only where mounting is not permitted (``.ci/run`` makes sure ``unshare`` is
there). One process for all the cases keeps them quick: importing pva is most of a case's time.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from typing import Any

import pytest
import xarray as xr
from fault_harness import with_small_filesystems, write_study

from pva import io, runner

NOT_PERMITTED = "mounting a tmpfs (unshare --mount) is not permitted on this machine"

# Run inside the namespace: every case through pva.cli.main, its status, stderr and what it left.
CASES = r"""
import contextlib, io as _io, json, os, signal, sys
from pathlib import Path
from pva import io
from pva.cli import main

root, report, started = Path(sys.argv[1]), {}, []

def listing(folder):
    return sorted(p.name for p in Path(folder).iterdir()) if Path(folder).exists() else None

def task_started(signum, frame):  # the pause point of a task signals this process: stop there
    started.append(True)
    raise RuntimeError("a task started")

signal.signal(signal.SIGUSR1, task_started)

def pva(case, *args, pause=None):
    started.clear()
    if pause:
        os.environ["PVA_TEST_PAUSE_AT"] = f"task:{os.getpid()}"
    err = _io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(_io.StringIO()):
        status = main([str(a) for a in args])
    os.environ.pop("PVA_TEST_PAUSE_AT", None)
    report[case] = {"status": status, "err": err.getvalue().splitlines(), "started": bool(started)}

small, tiny, ro = root / "small", root / "tiny", root / "ro"
big, mid, toy = root / "big.toml", root / "mid.toml", root / "toy.toml"

# results whose lower bound (raw / 16) exceeds the 320 KiB disk: refused before simulating
pva("results refused", "run", big, "-q", "--out", small / "r.nc", pause=True)
# checkpoints that cannot fit: refused before simulating
pva("checkpoints refused", "run", mid, "-q", "--out", root / "x.nc", "--checkpoint-dir", small / "ckpt", pause=True)
# the results fit the lower bound but not the disk: known once written (the chunks of this small
# study stay in the writer's cache until the end)
pva("full at the end", "run", mid, "-q", "--out", small / "r.nc", "--checkpoint-dir", root / "ckpt")
report["full at the end"]["left"] = listing(small)
# ... and the same command with room resumes from the checkpoints without simulating
pva("resumed", "run", mid, "-q", "--out", root / "resumed.nc", "--checkpoint-dir", root / "ckpt", pause=True)
# a read-only folder, for results and for checkpoints
pva("read-only results", "run", toy, "-q", "--out", ro / "r.nc", pause=True)
pva("read-only checkpoints", "run", toy, "-q", "--out", root / "y.nc", "--checkpoint-dir", ro / "ckpt", pause=True)

# a write that runs out of space after every check (another program filled the disk)
old = io.write_bytes(tiny / "f.bin", b"old" * 1000)
try:
    io.write_bytes(tiny / "f.bin", bytes(400_000))
    report["full write"] = {"error": None}
except io.WriteError as exc:
    report["full write"] = {"error": str(exc)}
report["full write"].update(same=old.read_bytes() == b"old" * 1000, left=listing(tiny))
(tiny / "f.bin").unlink()

# report and figures on a full disk: the old report stays, no empty figure
(tiny / "report.html").write_text("<html>old report</html>")
(tiny / "filler").write_bytes(bytes(40_000))
pva("report", "report", root / "toy.nc", "--out", tiny / "report.html", "-q")
report["report"]["kept"] = (tiny / "report.html").read_text()
pva("plot", "plot", root / "toy.nc", "--out", tiny / "figures", "-q")
report["plot"]["figures"] = {p.name: p.stat().st_size for p in (tiny / "figures").glob("*")}
report["plot"]["left"] = listing(tiny)

print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("full-disk")
    for name, replicates, years in (("big", 2000, 100), ("mid", 1000, 100), ("toy", 40, 20)):
        write_study(root, replicates=replicates, years=years, chunk_size=250).rename(
            root / f"{name}.toml"
        )
    toy = runner.run_study(io.read_study(root / "toy.toml"), backend="sequential")
    io.write_results(toy, root / "toy.nc")
    script = root / "cases.py"
    script.write_text(CASES, encoding="utf-8")
    done = with_small_filesystems(
        [
            (root / "small", "320k", False),
            (root / "tiny", "64k", False),
            (root / "ro", "64k", True),
        ],
        f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {shlex.quote(str(root))}",
    )
    if done is None:
        pytest.skip(NOT_PERMITTED)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    report["root"] = root
    return report


def _error(case: dict[str, Any]) -> str:
    assert case["status"] == 2, case
    [line] = case["err"]
    assert "Traceback" not in line
    return line


def test_results_that_cannot_fit_are_refused_before_simulating(cases: dict[str, Any]) -> None:
    """The output folder was checked only after the simulation: a full disk lost everything."""
    case, small = cases["results refused"], cases["root"] / "small"
    line = _error(case)
    assert line.startswith(f"pva run: error: not enough space for the results in {small}: about ")
    assert line.endswith(" free")
    assert not case["started"]  # no task ran


def test_checkpoints_that_cannot_fit_are_refused_before_simulating(cases: dict[str, Any]) -> None:
    case, small = cases["checkpoints refused"], cases["root"] / "small"
    line = _error(case)
    assert line.startswith(f"pva run: error: not enough space for the checkpoints in {small}/ckpt")
    assert not case["started"]


def test_a_full_disk_at_the_end_is_one_line_and_keeps_the_checkpoints(
    cases: dict[str, Any],
) -> None:
    case, root = cases["full at the end"], cases["root"]
    line = _error(case)
    assert line.startswith(f"pva run: error: not enough space for the results in {root}/small")
    assert line.endswith(
        f"the finished tasks are kept in {root}/ckpt: make room and run the same command to "
        "write the results without simulating again"
    )
    assert case["left"] == []  # neither a truncated file nor a temporary one
    assert len(list((root / "ckpt").glob("task-*.npz"))) == 4


def test_the_same_command_with_room_writes_without_simulating(cases: dict[str, Any]) -> None:
    case, root = cases["resumed"], cases["root"]
    assert case["status"] == 0, case
    assert not case["started"]  # every task came from the checkpoints
    fresh = runner.run_study(io.read_study(root / "mid.toml"), backend="sequential")
    xr.testing.assert_identical(io.open_results(root / "resumed.nc"), fresh)


def test_a_read_only_folder_is_refused_before_simulating(cases: dict[str, Any]) -> None:
    """Root ignores permission bits, so the folder is a read-only mount."""
    ro = cases["root"] / "ro"
    results, checkpoints = cases["read-only results"], cases["read-only checkpoints"]
    assert _error(results) == f"pva run: error: cannot write results to {ro}: Read-only file system"
    assert _error(checkpoints).startswith(
        f"pva run: error: cannot write checkpoints to {ro}/ckpt: "
    )
    assert not results["started"]
    assert not checkpoints["started"]


def test_a_full_disk_never_truncates_nor_loses_the_old_file(cases: dict[str, Any]) -> None:
    """Any write that runs out of space after the checks fails in one clear error and leaves the
    old file as it was, and no temporary file."""
    case, tiny = cases["full write"], cases["root"] / "tiny"
    assert case["error"] == f"cannot write {tiny}/f.bin: No space left on device"
    assert case["same"]
    assert case["left"] == ["f.bin"]


def test_report_and_plot_on_a_full_disk_keep_the_old_files(cases: dict[str, Any]) -> None:
    """`pva report` and `pva plot` wrote in place: a full disk destroyed the old report and left
    a 0-byte PNG. Both now write through the one atomic writer."""
    tiny = cases["root"] / "tiny"
    report, plot = cases["report"], cases["plot"]
    assert (
        _error(report)
        == f"pva report: error: cannot write {tiny}/report.html: No space left on device"
    )
    assert report["kept"] == "<html>old report</html>"
    line = _error(plot)
    assert line.startswith(f"pva plot: error: cannot write {tiny}/figures/")
    assert line.endswith(": No space left on device")
    assert all(size > 0 for size in plot["figures"].values())  # no empty figure
    assert plot["left"] == ["figures", "filler", "report.html"]


def test_the_mounts_were_private(cases: dict[str, Any]) -> None:
    """Nothing of the namespace is left outside: the folders are plain, empty mount points."""
    root = cases["root"]
    for folder in ("small", "tiny", "ro"):
        assert os.listdir(root / folder) == []
