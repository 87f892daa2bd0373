"""The `pva summary`, `pva plot` and `pva report` verbs: output, files, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest_results import known_results

from pva import cli, io

pytest.importorskip("matplotlib", reason="`pva plot` and `pva report` need matplotlib")


@pytest.fixture(scope="module")
def results_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return io.write_results(known_results(6), tmp_path_factory.mktemp("results") / "study.nc")


def one_line_error(capsys: pytest.CaptureFixture[str], verb: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"pva {verb}: error: ")
    assert "Traceback" not in err
    return err


def test_summary_text(results_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["summary", str(results_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Alpha\n")
    assert "P(extinct by year 20)" in out
    assert "Red List Index in year 50" in out


def test_summary_json_and_horizons(results_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["summary", str(results_file), "--horizons", "5,15,final", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["coords"]["horizon"] == [5, 15, 50]
    p = doc["variables"]["p_extinction"]["data"]
    assert p[0][0] == [0.0, 1.0, 1.0]  # Alpha under no action: extinct from year 10


def test_summary_markdown_no_red_list(
    results_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["summary", str(results_file), "--markdown", "--no-red-list"]) == 0
    out = capsys.readouterr().out
    assert "### Alpha" in out
    assert "| P(extinct by year 10) |" in out
    assert "Red List" not in out


def test_plot(results_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "figures"
    assert cli.main(["plot", str(results_file), "--out", str(out_dir), "--dpi", "30"]) == 0
    listed = capsys.readouterr().out.split()
    assert sorted(listed) == sorted(str(p) for p in out_dir.glob("*.png"))
    # the 10 figures of before issue 15, the per-site fan charts of Alpha, ΔRLI, cost-effectiveness
    assert len(listed) == 13


def test_report(results_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.html"
    args = ["report", str(results_file), "--out", str(target), "--no-red-list", "--quiet"]
    assert cli.main([*args, "--title", "Heath recovery"]) == 0
    assert capsys.readouterr().out == ""
    page = target.read_text(encoding="utf-8")
    assert "<title>Heath recovery</title>" in page
    assert "results: study.nc" in page


@pytest.mark.parametrize("verb", ["summary", "plot", "report"])
def test_missing_results_file(
    verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = [] if verb == "summary" else ["--out", str(tmp_path / "out")]
    assert cli.main([verb, str(tmp_path / "nothing.nc"), *extra]) == 2
    assert "nothing.nc" in one_line_error(capsys, verb)


@pytest.mark.parametrize("verb", ["summary", "report"])
def test_invalid_results_file(
    verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"this is not NetCDF\n" * 10)
    extra = [] if verb == "summary" else ["--out", str(tmp_path / "r.html")]
    assert cli.main([verb, str(bad), *extra]) == 2
    assert "bad.nc" in one_line_error(capsys, verb)
    assert not (tmp_path / "r.html").exists()


def test_netcdf_that_is_not_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = io.write_results(xr.Dataset({"x": ("t", np.arange(3))}), tmp_path / "other.nc")
    assert cli.main(["summary", str(other)]) == 2
    assert "not a pva results Dataset" in one_line_error(capsys, "summary")


def test_bad_options(
    results_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["summary", str(results_file), "--no-action", "nothing"]) == 2
    assert "no_action 'nothing' is not a scenario" in one_line_error(capsys, "summary")
    assert cli.main(["plot", str(results_file), "--out", str(tmp_path), "--format", "gif"]) == 2
    assert "formats must be among" in one_line_error(capsys, "plot")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["summary", str(results_file), "--horizons", "ten"])
    assert exit_info.value.code == 2
    assert "horizons must be comma-separated years" in capsys.readouterr().err
