"""`pva run` and `pva validate`: output, exit codes and one-line errors."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pva import io, results
from pva.cli import main

STUDY = textwrap.dedent(
    """
    [study]
    name = "cli test"
    years = 10
    replicates = 20
    seed = 7
    chunk_size = 8

    [[species]]
    name = "herb"
    stages = ["plant"]
    U = [[0.6]]
    F = [[0.5]]
    initial = [30]
    carrying_capacity = 60.0

    [species.density_dependence]
    kind = "ceiling"

    [[threats]]
    type = "Harvest"
    name = "grazing"
    proportion = 0.2

    [[interventions]]
    type = "ThreatAbatement"
    name = "fence"
    threat = "grazing"
    annual_cost = 50.0

    [[scenarios]]
    name = "no action"

    [[scenarios]]
    name = "fence"
    actions = ["fence"]
    """
)


@pytest.fixture
def study_file(tmp_path: Path) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    return path


def one_error_line(capsys: pytest.CaptureFixture[str], verb: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"pva {verb}: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_validate_ok(study_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(study_file)]) == 0
    assert capsys.readouterr().out.strip().startswith("ok: 1 species, 2 scenarios; a run needs")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("seed = 7", "seed = 7\ncolour = 1", "unknown key 'colour'"),
        ("proportion = 0.2", "proportion = 2.0", "proportion must be"),
        ('threat = "grazing"', 'threat = "grazers"', "names threat 'grazers'"),
        ("years = 10", "years = ", "not valid TOML"),
    ],
)
def test_validate_errors_are_one_line_and_exit_2(
    study_file: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str
) -> None:
    study_file.write_text(STUDY.replace(old, new, 1), encoding="utf-8")
    assert main(["validate", str(study_file)]) == 2
    line = one_error_line(capsys, "validate")
    assert expected in line
    assert str(study_file) in line


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in one_error_line(capsys, "validate")


def test_run_writes_results_and_prints_a_table(
    study_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.nc"
    assert main(["run", str(study_file), "--out", str(out), "--backend", "sequential"]) == 0
    text = capsys.readouterr().out
    ds = io.open_results(out)
    total = ds[results.TOTAL].isel(year=-1, population=0, species=0)
    for scenario in ("no action", "fence"):
        n = total.sel(scenario=scenario).values
        rows = [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()]
        # the herb's risk measure is extinction itself (threshold 0 on all individuals), and its
        # one stage reproduces: mature individuals are all individuals
        p = f"{np.mean(n == 0):.3f}"
        assert ["herb", scenario, p, p, f"{np.median(n):g}"] in rows
    assert f"results written to {out}" in text
    assert "seed entropy: 7" in text


def test_run_quiet_default_out_and_seed(
    study_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(study_file), "--quiet", "--seed", "8", "--jobs", "1"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "results written to results/cli_test.nc"
    assert out.err == ""
    ds = io.open_results(tmp_path / "results" / "cli_test.nc")
    assert ds.attrs[results.ATTR_SEED_ENTROPY] == "8"


def test_run_checkpoint_dir_resumes(study_file: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    args = [
        "run",
        str(study_file),
        "--quiet",
        "--checkpoint-dir",
        str(ckpt),
        "--backend",
        "sequential",
    ]
    assert main([*args, "--out", str(tmp_path / "a.nc")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.nc")]) == 0
    a, b = io.open_results(tmp_path / "a.nc"), io.open_results(tmp_path / "b.nc")
    assert a.identical(b)


def test_run_errors_are_one_line(
    study_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(tmp_path / "nope.toml"), "--quiet"]) == 2
    assert "nope.toml" in one_error_line(capsys, "run")
    assert main(["run", str(study_file), "--quiet", "--jobs", "0"]) == 2
    assert "jobs must be a non-zero integer" in one_error_line(capsys, "run")
    assert main(["run", str(study_file), "--quiet", "--seed", "-1"]) == 2
    assert "seed must be a non-negative integer" in one_error_line(capsys, "run")
