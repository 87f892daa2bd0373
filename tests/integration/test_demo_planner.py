"""What a planner reads from the demo (issue 15, items 1, 4 and 5), end to end through the command.

The demo study (scenarios/demo.toml: Hudsonia montana, whose quasi-extinction threshold is 10 mature
plants, tiny..large, not seeds or seedlings) is run with fewer replicates, then ``pva summary``,
``pva summary --json`` and ``pva report`` are checked against numbers computed here directly from
the results file: the risk measure and abundance count mature plants, and costs stop in the year a
replicate goes extinct.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from pva import cli, io, runner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    study = io.read_study(ROOT / "scenarios" / "demo.toml").with_(replicates=120)
    path = tmp_path_factory.mktemp("demo") / "demo.nc"
    io.write_results(runner.run_study(study, backend="sequential"), path)
    return path


@pytest.fixture(scope="module")
def results(demo: Path) -> xr.Dataset:
    return io.open_results(demo)


def summary_json(demo: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert cli.main(["summary", str(demo), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_risk_and_abundance_count_mature_plants(
    demo: Path, results: xr.Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = summary_json(demo, capsys)
    mature = results["mature_abundance"].isel(species=0).sum("population")
    scenarios = doc["coords"]["scenario"]
    for j, scenario in enumerate(scenarios):
        m = mature.sel(scenario=scenario)
        risk = [float(((m <= 10).cumsum("year") > 0).sel(year=h).mean()) for h in (10, 20, 50)]
        assert doc["variables"]["p_quasi_extinction"]["data"][0][j] == pytest.approx(risk)
        median = float(np.median(m.isel(year=-1)))
        assert doc["variables"]["median_final_abundance"]["data"][0][j] == median
    assert doc["variables"]["abundance_counts"]["data"] == ["mature individuals (tiny–large)"]
    assert cli.main(["summary", str(demo)]) == 0
    text = capsys.readouterr().out
    assert "risk: at most 10 mature individuals (tiny–large)" in text
    for row in ("P(≤ 10 mature by year 10)", "P(extinct by year 50)", "median mature individuals"):
        assert row in text


def test_costs_stop_at_extinction_and_carry_the_currency(
    demo: Path, results: xr.Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = summary_json(demo, capsys)
    cost = doc["variables"]["total_cost"]
    assert cost["attrs"]["units"] == "USD"
    total = results["total_abundance"].isel(species=0).sum("population")
    annual = results["annual_cost"].isel(species=0)
    for j, scenario in enumerate(doc["coords"]["scenario"]):
        extant = ((total.sel(scenario=scenario) <= 0).cumsum("year") == 0).values
        paid = (extant * annual.sel(scenario=scenario).values[None, :]).sum(axis=1).mean()
        assert cost["data"][0][j] == pytest.approx(paid)
    assert cli.main(["summary", str(demo)]) == 0
    text = capsys.readouterr().out
    assert "USD" in text
    assert "e+0" not in text


def test_the_report_leads_with_the_answer(demo: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "demo.html"
    assert cli.main(["report", str(demo), "--out", str(out), "--quiet"]) == 0
    page = out.read_text(encoding="utf-8")
    first = page.index("<h2")
    assert page[first:].startswith("<h2>The answer</h2>")
    assert "Best: reroute trails" in page
    assert "chunk_size" not in page
