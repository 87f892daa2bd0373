"""A report that leads with the answer (issue 15, item 5).

Synthetic results with answers known by construction (conftest_results): the page opens with the
answer (per species, the risk under each scenario and the best action with its margin); a study of
many species opens with a sortable portfolio table and gets compact sections of one figure each;
fan charts overlay the scenarios with the threshold line; the Red List categories by year carry the
criterion that sets them (IUCN criterion D: EN below 250 mature individuals); the assumptions show
no engine settings, label matrices with stage names and print numbers as people write them.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import xarray as xr
from conftest_results import STUDY, known_results, make_results

from pva import report

pytest.importorskip("matplotlib", reason="the report's figures need matplotlib")


class _Headings(HTMLParser):
    """The text of every h2 and h3, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h2", "h3"):
            self._open = tag
            self.headings.append((tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            tag, text = self.headings[-1]
            self.headings[-1] = (tag, text + data)


def headings(page: str) -> list[tuple[str, str]]:
    parser = _Headings()
    parser.feed(page)
    return parser.headings


@pytest.fixture(scope="module")
def page() -> str:
    return report.render_report(known_results(8), dpi=40)


def test_the_page_leads_with_the_answer(page: str) -> None:
    found = headings(page)
    assert found[:4] == [
        ("h2", "The answer"),
        ("h3", "Alpha"),
        ("h3", "Beta"),
        ("h3", "All species"),
    ]
    answer = page[page.index('id="answer"') : page.index('id="costs"')]
    assert "<img" not in answer.split("All species")[0]  # numbers first, figures later
    assert "Best: protect — P(≤ 20 individuals by year 50) = 0 (0–0.32), P(extinct" in answer
    assert "risk 1.00 (1.00–1.00) below &#x27;no action&#x27; (paired)" in answer
    assert [h for _, h in found if h.startswith("Costs")] == ["Costs and cost-effectiveness"]


def test_categories_by_year_with_the_setting_criterion(page: str) -> None:
    alpha = page[page.index('id="species-alpha"') : page.index('id="species-beta"')]
    # 2 x (100 + r) <= 214 mature individuals: EN under criterion D in every future, a lower bound
    # ("≥", as the summary marks it: A3 and E are not evaluated after year 0)
    assert "<td>≥ EN 100% (D)</td>" in alpha
    assert "<td>EX 100%</td>" in alpha


def test_assumptions_without_engine_settings_and_with_labelled_matrices() -> None:
    species = {
        "name": "Alpha",
        "generation_length": 5.0,
        "stages": ["seed", "adult"],
        "U": [[0.5, 0.0], [0.1, 0.8]],
        "F": [[0.0, 12500.0], [0.0, 0.0]],
        "environment": {"type": "VitalRateStochasticity", "span": 20, "autocorrelation": 0.3},
    }
    study = {
        **STUDY,
        "species": [species],
        "interventions": [{"name": "protection", "type": "x", "annual_cost": 1_250_000.0}],
        "outputs": {"currency": "USD"},
    }
    mature = np.full((1, 2, 4, 6, 1), 40, dtype=np.int64)
    cost = np.zeros((1, 2, 6))
    cost[0, 1, :-1] = 1_250_000.0
    ds = make_results(
        mature, species=("Alpha",), scenarios=("no action", "protect"), annual_cost=cost,
        study=study,
    )  # fmt: skip
    page = report.render_report(ds, dpi=30)
    assumptions = page[page.index('id="assumptions"') :]
    for internal in ("chunk_size", "replicates per chunk", "span"):
        assert internal not in assumptions, internal
    assert "autocorrelation" in assumptions
    # stage names on the rows and columns of the species' matrices
    assert '<thead><tr><th scope="col">to \\ from</th><th scope="col">seed</th>' in assumptions
    assert '<th scope="row">adult</th><td>0.1</td><td>0.8</td>' in assumptions
    assert "<td>12,500</td>" in assumptions
    assert "<dd>1,250,000 USD a year</dd>" in assumptions
    text = re.sub(r'data:image/png;base64,[^"]*', "", page)
    assert not re.search(r"\de\+\d", text)  # no 1.25e+06


def many_species(n: int) -> xr.Dataset:
    mature = np.full((n, 2, 4, 11, 1), 30, dtype=np.int64)
    mature[:, 0, :, 6:, 0] = 0
    names = tuple(f"Species {i:02d}" for i in range(n))
    study = {
        **STUDY,
        "species": [{"name": s, "generation_length": 3.0, "stages": ["adult"]} for s in names],
    }
    return make_results(
        mature, species=names, scenarios=("no action", "protect"), study=study,
        generation_length=(3.0,) * n, quasi_extinction_threshold=(0.0,) * n,
    )  # fmt: skip


def test_many_species_open_with_a_sortable_portfolio_and_compact_sections() -> None:
    n = report.FULL_SECTIONS_UP_TO + 2
    page = report.render_report(many_species(n), dpi=30, red_list=True)
    found = headings(page)
    assert found[0] == ("h2", "Portfolio")
    portfolio = page[
        page.index('id="portfolio-table"') : page.index(
            "</table>", page.index('id="portfolio-table"')
        )
    ]
    assert 'class="summary sortable"' in page
    assert portfolio.count("<tr>") == 1 + 2 * n  # header + species x scenarios
    assert 'data-value="1.0"' in portfolio  # numbers to sort by
    sections = re.findall(
        r'<section id="species-[^"]*" class="compact">(.*?)</section>', page, re.S
    )
    assert len(sections) == n
    assert all(s.count("<img") == 1 for s in sections)
    # the portfolio's ΔRLI, the RLI and extinctions prevented; no per-species figure besides
    assert page.count("<img") == n + 3


def test_fan_chart_overlays_scenarios_and_draws_the_threshold() -> None:
    from pva import plots

    mature = np.full((1, 2, 4, 11, 1), 30, dtype=np.int64)
    mature[0, 0, :, 6:, 0] = 0
    study = {
        **STUDY,
        "species": [
            {"name": "Herb", "stages": ["adult"], "quasi_extinction_on": "mature"},
        ],
    }
    ds = make_results(
        mature, species=("Herb",), scenarios=("no action", "protect"),
        quasi_extinction_threshold=(12.0,), study=study,
    )  # fmt: skip
    fig = plots.plot_fan_chart(ds, species="Herb", log=True)
    (ax,) = [a for a in fig.axes if a.get_visible()]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["no action", "protect", "threshold 12"]
    assert list(ax.get_lines()[2].get_ydata()) == [12, 12]
    assert ax.get_yscale() == "symlog"


def test_report_json_free_of_engine_settings(page: str) -> None:
    raw = page[page.index("<pre>") + 5 : page.index("</pre>")]
    spec = json.loads(raw.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&"))
    assert "chunk_size" not in spec["study"]
