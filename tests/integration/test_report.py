"""pva.report: one self-contained HTML page, every figure embedded, nothing fetched from outside."""

from __future__ import annotations

import base64
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest_results import STUDY, make_results, one_species_study, run_and_simulate

from pva import report

pytest.importorskip("matplotlib", reason="the report's figures need matplotlib (the 'plot' extra)")

# ΔRLI (answer, two species) + cost-effectiveness (costs) + 4 per species (risk by year, fan
# chart, categories, transitions) + the per-site fan charts of Alpha (two sites) + RLI + prevented
N_FIGURES = 1 + 1 + 4 * 2 + 1 + 2


class _Collector(HTMLParser):
    """Every start tag with its attributes, and whether the document nests sensibly."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(document: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collector()
    collector.feed(document)
    collector.close()
    return collector.tags


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (PNG specification, section 11.2.2)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def page(results: xr.Dataset) -> str:
    return report.render_report(results, dpi=50, source="synthetic.nc")


def test_no_external_resources(page: str) -> None:
    tags = parse(page)
    for tag, attrs in tags:
        for key in ("src", "href", "srcset", "action", "data", "poster"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")), f"<{tag} {key}={value[:60]!r}>"
    assert not [t for t, a in tags if t in {"link", "iframe", "object", "embed", "base"}]
    assert all("src" not in a for t, a in tags if t == "script")
    lowered = page.lower()
    assert "http://" not in lowered
    assert "https://" not in lowered
    assert "//cdn" not in lowered
    assert "@import" not in lowered
    assert "url(" not in lowered


def test_every_figure_is_embedded_and_decodes(page: str) -> None:
    images = [a for t, a in parse(page) if t == "img"]
    assert len(images) == N_FIGURES
    for attrs in images:
        src = attrs["src"] or ""
        assert src.startswith("data:image/png;base64,")
        width, height = png_size(base64.b64decode(src.split(",", 1)[1], validate=True))
        assert (str(width), str(height)) == (attrs["width"], attrs["height"])
        assert attrs["alt"]


def test_sections_and_side_by_side_tables(page: str) -> None:
    ids = [a["id"] for _, a in parse(page) if "id" in a]
    assert ids == [
        "answer",
        "portfolio-table",
        "costs",
        "species-alpha",
        "species-beta",
        "red-list",
        "assumptions",
    ]
    assert "<title>Synthetic recovery study</title>" in page
    # the answer per species (2), the all-species comparison, the ranking of single interventions,
    # per species its table with the scenarios as columns (2) and its categories by year (2)
    assert page.count('<table class="summary">') == 8
    assert page.count('<th scope="col">no action</th><th scope="col">protect</th>') == 5
    assert "1 (0.68–1)" in page
    assert "68,000 currency units" in page
    assert "results: synthetic.nc" in page


def test_assumptions_are_listed(page: str) -> None:
    assumptions = page[page.index('id="assumptions"') :]
    for text in (
        "0 to 50",  # years
        "<dt>replicates</dt><dd>8</dd>",
        "<dt>seed entropy</dt><dd>20261123</dd>",
        "<dt>pva version</dt><dd>0.1.0</dd>",
        "<h4>Alpha</h4>",  # species parameters
        "<dt>generation_length</dt><dd>12</dd>",
        "<h4>protection</h4>",  # interventions and their costs
        "<dt>annual_cost</dt><dd>1,000 currency units a year</dd>",
        "<h4>protect</h4>",  # scenarios and their actions
    ):
        assert text in assumptions, text


def test_svg_figures_are_inlined(results: xr.Dataset, tmp_path: Path) -> None:
    path = report.write_report(results, tmp_path / "r.html", figure_format="svg", red_list=False)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    tags = [t for t, _ in parse(page)]
    assert "img" not in tags
    # risk by year and fan chart per species, and Alpha's per-site fan charts
    assert tags.count("svg") == 2 * 2 + 1
    assert "<?xml" not in page
    assert "<!DOCTYPE svg" not in page
    assert 'id="red-list"' not in page


def test_red_list_section_skipped_with_a_reason(results: xr.Dataset) -> None:
    no_gl = results.assign(generation_length=results["generation_length"] * np.nan)
    page = report.render_report(no_gl, dpi=40)
    assert "Red List assessment not shown: no generation length for Alpha, Beta" in page
    assert len([t for t, _ in parse(page) if t == "img"]) == 2 * 2 + 1
    with pytest.raises(ValueError, match="cannot assess Red List categories"):
        report.render_report(no_gl, red_list=True)


def test_names_are_escaped() -> None:
    mature = np.full((1, 2, 3, 6, 1), 40, dtype=np.int64)
    ds = make_results(
        mature,
        species=("Lynx <b>pardinus</b>",),
        scenarios=("no action", "fence & feed"),
        study={**STUDY, "study": {"name": "A <script>alert(1)</script> study"}},
    )
    page = report.render_report(ds, dpi=30, red_list=False)
    assert "<b>pardinus" not in page
    assert "Lynx &lt;b&gt;pardinus&lt;/b&gt;" in page
    assert "fence &amp; feed" in page
    assert "<script>alert" not in page
    assert len(re.findall(r"<script>", page)) == 1  # only the figure-loading marker


def test_bad_options(results: xr.Dataset, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="figure_format must be 'png' or 'svg'"):
        report.render_report(results, figure_format="gif")
    with pytest.raises(ValueError, match="dpi must be an integer between 30 and 600"):
        report.render_report(results, dpi=5)
    with pytest.raises(ValueError, match="is a directory"):
        report.write_report(results, tmp_path)


def test_report_of_a_simulation() -> None:
    # pva.simulate's Dataset is a study of one species and one scenario
    _, simulated = run_and_simulate(one_species_study(replicates=30, years=12))
    document = report.render_report(simulated, dpi=30)
    tags = parse(document)
    # risk by year, fan chart, categories, transitions + RLI (one scenario: no ΔRLI,
    # extinctions-prevented or cost-effectiveness figure)
    assert sum(tag == "img" for tag, _ in tags) == 4 + 1
    assert "<title>herb</title>" in document
    assert 'id="species-herb"' in document
