"""A damaged checkpoint (issue 14): a truncated, empty or foreign task file, or a manifest that is
not JSON, is reported in one line and its task run again — the results are those of a clean run —
instead of a BadZipFile/EOFError traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xarray as xr
from fault_harness import temporaries, write_study

from pva import io, runner
from pva.cli import main


@pytest.fixture
def clean(tmp_path: Path) -> tuple[Path, Path, xr.Dataset]:
    """A study, its checkpoint folder after a complete run, and the results of a clean run."""
    study = write_study(tmp_path, replicates=32, chunk_size=8, years=10)
    folder = tmp_path / "ckpt"
    expected = runner.run_study(io.read_study(study), backend="sequential", checkpoint_dir=folder)
    return study, folder, expected


def _rerun(
    study: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[list[str], xr.Dataset]:
    out = study.parent / "again.nc"
    assert main(["run", str(study), "-q", "--out", str(out), "--checkpoint-dir", str(folder)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines(), io.open_results(out)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "BadZipFile: "),
        (lambda p: p.write_bytes(b""), "not an .npz (zip) file"),
        (lambda p: p.write_text("not a zip file", encoding="ascii"), "not an .npz (zip) file"),
    ],
    ids=["truncated", "empty", "not an npz"],
)
def test_a_damaged_task_file_is_reported_and_run_again(
    clean: tuple[Path, Path, xr.Dataset], capsys: pytest.CaptureFixture[str], damage, reason: str
) -> None:  # type: ignore[no-untyped-def]
    study, folder, expected = clean
    task = sorted(folder.glob("task-*.npz"))[2]
    damage(task)
    lines, again = _rerun(study, folder, capsys)
    assert len(lines) == 1
    assert lines[0].startswith(f"pva run: warning: checkpoint {task} is damaged ({reason}")
    assert lines[0].endswith("); its task is run again")
    xr.testing.assert_identical(again, expected)
    assert task.exists()  # written again
    assert temporaries(folder) == []


def test_a_task_file_with_other_arrays_is_run_again(
    clean: tuple[Path, Path, xr.Dataset], capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    study, folder, expected = clean
    task = sorted(folder.glob("task-*.npz"))[0]
    with np.load(task) as data:
        arrays = dict(data)
    arrays["mature"] = arrays["mature"][:, :3]
    with task.open("wb") as fh:
        np.savez(fh, **arrays)
    lines, again = _rerun(study, folder, capsys)
    assert len(lines) == 1
    assert "is damaged (its arrays have shape" in lines[0]
    xr.testing.assert_identical(again, expected)


def test_a_damaged_manifest_is_reported_and_written_again(
    clean: tuple[Path, Path, xr.Dataset], capsys: pytest.CaptureFixture[str]
) -> None:
    study, folder, expected = clean
    manifest = folder / "manifest.json"
    manifest.write_text('{"digest": "abc", "entro', encoding="utf-8")
    lines, again = _rerun(study, folder, capsys)
    assert len(lines) == 1
    assert lines[0].startswith(f"pva run: warning: checkpoint manifest {manifest} is damaged (")
    assert lines[0].endswith(
        "it is written again (intact task files of this study and seed are kept)"
    )
    xr.testing.assert_identical(again, expected)
    assert json.loads(manifest.read_text(encoding="utf-8"))["entropy"] == str(
        expected.attrs["seed_entropy"]
    )


def test_an_unseeded_run_recovers_its_entropy_from_intact_tasks(tmp_path: Path) -> None:
    """Without a seed the manifest holds the only record of the entropy; the task files carry it
    too, so a damaged manifest loses nothing."""
    study = io.read_study(write_study(tmp_path, replicates=16, years=5)).with_(seed=None)
    folder = tmp_path / "ckpt"
    first = runner.run_study(study, backend="sequential", checkpoint_dir=folder)
    (folder / "manifest.json").write_bytes(b"")
    next(folder.glob("task-*.npz")).unlink()  # one task must be run again, with that entropy
    from pva.errors import DamagedCheckpointWarning

    with pytest.warns(DamagedCheckpointWarning, match="manifest"):
        second = runner.run_study(study, backend="sequential", checkpoint_dir=folder)
    xr.testing.assert_identical(first, second)


def test_intact_checkpoints_of_another_study_are_still_refused(
    clean: tuple[Path, Path, xr.Dataset], capsys: pytest.CaptureFixture[str]
) -> None:
    study, folder, _ = clean
    other = study.parent / "other.toml"
    other.write_text(
        study.read_text(encoding="utf-8").replace("years = 10", "years = 9"), encoding="utf-8"
    )
    assert (
        main(
            [
                "run",
                str(other),
                "-q",
                "--out",
                str(study.parent / "o.nc"),
                "--checkpoint-dir",
                str(folder),
            ]
        )
        == 2
    )
    line = capsys.readouterr().err.strip()
    assert line == (
        f"pva run: error: checkpoints in {folder} belong to a different study (its specification "
        "changed); use an empty --checkpoint-dir or delete that folder"
    )
