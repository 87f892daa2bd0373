"""The report in a real browser (issue 15, item 5): it leads with the answer, its headings come in
the planner's order, every figure decodes at a size that fits the page column, and the portfolio
table of a study of many species becomes sortable.

Debian's headless Chromium loads each page offline; ``--dump-dom`` prints the DOM after the load
event, when the page's script has written ``data-rendered="WxH"`` (the laid-out size) and
``data-loaded`` on every ``<img>``, ``data-sortable="ready"`` on sortable tables and
``data-errors`` on ``<html>``. The results come from small studies run here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pva import report, runner
from pva.model import Species
from pva.scenario import Harvest, Scenario, ThreatAbatement
from pva.study import Outputs, Study

pytestmark = pytest.mark.browser
pytest.importorskip("matplotlib", reason="the report's figures need matplotlib")

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)
COLUMN = 1060 - 2 * 20  # the page's max-width less its padding (report._CSS), CSS pixels


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after its load event."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--window-size=1200,900", f"--user-data-dir={profile}", "--dump-dom",
        page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def study(n_species: int) -> Study:
    """``n_species`` grazed herbs (a stage-structured life cycle with a quasi-extinction threshold
    on mature plants) under no action and fencing, at two sites for the first."""
    herbs = tuple(
        Species(
            name=f"herb {i + 1}",
            stages=("seedling", "adult"),
            U=((0.2, 0.0), (0.25, 0.8)),
            F=((0.0, 0.9), (0.0, 0.0)),
            initial=(20, 30),
            carrying_capacity=80.0,
            quasi_extinction_threshold=5.0,
            quasi_extinction_on="mature",
            generation_length=4.0,
        )
        for i in range(n_species)
    )
    grazing = Harvest(name="grazing", proportion=0.25)
    fence = ThreatAbatement(name="fence", threat="grazing", fraction=0.8, annual_cost=2500.0)
    return Study(
        name=f"{n_species} herbs",
        species=herbs,
        scenarios=(Scenario("no action", (grazing,)), Scenario("fence", (grazing, fence))),
        years=20,
        replicates=40,
        seed=5,
        outputs=Outputs(currency="EUR"),
    )


def headings(dom: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", dom, re.S)]


def rendered_sizes(dom: str) -> list[tuple[int, int]]:
    return [(int(w), int(h)) for w, h in re.findall(r'data-rendered="(\d+)x(\d+)"', dom)]


def test_a_few_species_lead_with_the_answer(tmp_path: Path) -> None:
    ds = runner.run_study(study(2), backend="sequential")
    page = report.write_report(ds, tmp_path / "report.html")  # at the default 100 dpi
    dom = dump_dom(page, tmp_path / "profile")
    assert headings(dom) == [
        "The answer",
        "Costs and cost-effectiveness",
        "herb 1",
        "herb 2",
        "Red List Index and extinctions prevented",
        "Assumptions",
    ]
    n_images = page.read_text(encoding="utf-8").count("<img ")
    assert re.search(rf'data-figures-loaded="{n_images}/{n_images}"', dom)
    sizes = rendered_sizes(dom)
    assert len(sizes) == n_images
    for width, height in sizes:
        assert 400 <= width <= COLUMN, (width, height)
        assert 150 <= height <= 700, (width, height)
    assert re.search(r'<html[^>]*data-errors="0"', dom)
    assert 'data-sortable="ready"' in dom  # the two-species portfolio table


def test_many_species_open_with_the_portfolio(tmp_path: Path) -> None:
    ds = runner.run_study(study(report.FULL_SECTIONS_UP_TO + 1), backend="sequential")
    page = report.write_report(ds, tmp_path / "report.html", dpi=60)
    dom = dump_dom(page, tmp_path / "profile")
    found = headings(dom)
    assert found[:2] == ["Portfolio", "Costs and cost-effectiveness"]
    assert found[-2:] == ["Red List Index and extinctions prevented", "Assumptions"]
    assert re.search(
        r'<table class="summary sortable" id="portfolio-table"[^>]*data-sortable="ready"', dom
    )
    sizes = rendered_sizes(dom)
    assert all(w <= COLUMN for w, _ in sizes)
    # compact sections: one small figure per species
    compact = re.findall(r'<section id="species-[^"]*" class="compact">(.*?)</section>', dom, re.S)
    assert len(compact) == report.FULL_SECTIONS_UP_TO + 1
    for section in compact:
        (size,) = re.findall(r'data-rendered="(\d+)x(\d+)"', section)
        assert int(size[1]) <= 300
    assert re.search(r'<html[^>]*data-errors="0"', dom)
