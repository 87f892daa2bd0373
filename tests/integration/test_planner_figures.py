"""What a planner reads in the figures and the report (issues 13 and 15): each site's fan chart
up to its own 95% quantile, captions that say what is drawn, the report's Red List table written
as the summary writes it, and the years whose categories are lower bounds marked in the Red List
figures.

Synthetic results with answers known by construction (conftest_results; total abundance is twice
the mature abundance, generation length 5 years, 200 replicates, years 0-20). Mature
individuals: 100 for ever (EN by criterion D, fewer than 250) under "fence"; the same under
"no action" but for replicate 0, which falls to 30 (CR by D, fewer than 50) from year 10; 30 in
every replicate from year 10 under "crash". With no projections after year 0 (and the windows of
A2 and C not covered at the start) criteria that could give a higher category are not evaluated:
an EN is a lower bound ("≥") in every year, a CR (the highest level those criteria give) never.
"Fern" counts its risk on total individuals (threshold 20), "Moss" on mature ones (threshold 10).
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest
import xarray as xr
from conftest_results import STUDY, make_results

from pva import plots, redlist, report, summary

pytest.importorskip("matplotlib", reason="the figures need matplotlib")

R = 200
YEARS = np.arange(21)
CRASH = 10
SCENARIOS = ("no action", "fence", "crash")


def red_list_results() -> xr.Dataset:
    mature = np.full((2, 3, R, YEARS.size, 1), 100, dtype=np.int64)
    mature[:, 0, 0, CRASH:, 0] = 30
    mature[:, 2, :, CRASH:, 0] = 30
    study = {
        **STUDY,
        "species": [
            {"name": "Fern", "stages": ["adult"], "generation_length": 5.0},
            {
                "name": "Moss",
                "stages": ["adult"],
                "generation_length": 5.0,
                "quasi_extinction_on": "mature",
            },
        ],
        "scenarios": [{"name": s, "actions": []} for s in SCENARIOS],
    }
    return make_results(
        mature,
        species=("Fern", "Moss"),
        scenarios=SCENARIOS,
        quasi_extinction_threshold=(20.0, 10.0),
        study=study,
    )


@pytest.fixture(scope="module")
def results() -> xr.Dataset:
    return red_list_results()


@pytest.fixture(scope="module")
def page(results: xr.Dataset) -> str:
    return html.unescape(report.render_report(results, dpi=30, horizons=(10, 20)))


@pytest.fixture(scope="module")
def by_year(results: xr.Dataset) -> xr.Dataset:
    return summary.assess_by_species(results, years=[0, 10, 20])[0]


def captions(page: str) -> list[str]:
    return re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)


# --- each site's fan chart on its own scale ----------------------------------------------------


@pytest.mark.parametrize("log", [None, False, True])
def test_every_site_panel_shows_its_own_95_percent_quantile(log: bool | None) -> None:
    """A wild site of 580 mature plants beside a founded one of about 50: the panel of the large
    site used to stop near 50, the limit set by the last panel on a shared axis."""
    years = np.arange(11)
    rng = np.random.default_rng(7)
    mature = np.zeros((1, 1, 40, years.size, 2), dtype=np.int64)
    mature[..., 0] = rng.integers(540, 620, size=(1, 1, 40, years.size))
    mature[..., 1] = rng.integers(30, 60, size=(1, 1, 40, years.size))
    ds = make_results(mature, species=("Shrub",), scenarios=("no action",))
    fig = plots.plot_site_fan_charts(ds, species="Shrub", log=log)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    for site, ax in enumerate(axes):
        q95 = np.quantile(mature[0, 0, :, :, site], 0.95, axis=0).max()
        low, high = ax.get_ylim()
        assert low <= 0, (site, ax.get_ylim())
        assert high >= q95, (site, ax.get_ylim(), q95)
    # the small site is not drawn on the large one's scale either
    assert axes[1].get_ylim()[1] < 0.5 * axes[0].get_ylim()[1]


# --- captions say what is drawn ------------------------------------------------------------------


def drawn_threshold(fig: object) -> bool:
    return any(
        str(line.get_label()).startswith("threshold")
        for ax in fig.axes  # type: ignore[attr-defined]
        for line in ax.get_lines()
    )


def test_fan_chart_captions_say_whether_a_threshold_is_drawn(
    results: xr.Dataset, page: str
) -> None:
    fan = [c for c in captions(page) if "every scenario in one panel" in c]
    assert len(fan) == 2
    by_species = {c.split(":")[0]: c for c in fan}
    for sp, drawn in (("Fern", False), ("Moss", True)):
        # what the chart draws: the threshold counts what the chart counts (mature) for Moss only
        assert drawn_threshold(plots.plot_fan_chart(results, species=sp)) is drawn
        assert (plots.fan_threshold(results, species=sp) is not None) is drawn
        caption = by_species[sp]
        assert ("dotted: the quasi-extinction threshold" in caption) is drawn
        assert ("no threshold line" in caption) is not drawn
    assert "threshold (10 mature individuals)" in by_species["Moss"]
    assert "(at most 20 individuals)" in by_species["Fern"]


# --- the report's Red List table as the summary writes it -----------------------------------------


def category_table(page: str, sp: str) -> dict[str, list[str]]:
    section = page[page.index(f'id="species-{sp.lower()}"') :]
    section = section[section.index("Share of futures") :]
    body = section[: section.index("</table>")]
    rows = re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', body)
    return {label: re.findall(r"<td>(.*?)</td>", cells) for label, cells in rows}


def test_red_list_table_uses_the_summary_shares_and_marks(page: str) -> None:
    table = category_table(page, "Fern")
    assert list(table) == ["year 0", "year 10", "year 20"]
    no_action, fence, crash = table["year 10"]
    # 199 of 200 replicates EN, a lower bound; one CR (0.5%, which rounds to 0%): no criterion
    assert no_action == "≥ EN >99% (D), CR <1%"
    assert fence == "≥ EN 100% (D)"
    assert crash.startswith("CR 100% (")  # CR is never a lower bound here
    # year 0 reads the projection itself: the crash to come meets A3 and C1
    assert table["year 0"] == ["≥ EN 100% (D)", "≥ EN 100% (D)", "≥ EN 100% (A3; C1; D)"]
    assert not re.search(r"\b0%", str(table))
    # the same share rules and mark as the summary's own rows
    summary_text = page[page.index('id="species-fern"') :]
    assert "EN >99%, CR <1%" in summary_text
    assert summary.LOWER_BOUND_NOTE in summary_text
    assert summary.category_share("CR", 0.005, criteria="D") == "CR <1%"
    assert summary.category_share("EN", 0.995, criteria="D", lower_bound=True) == "≥ EN >99% (D)"


# --- lower-bound years marked in the Red List figures ------------------------------------------


def expected_bounds() -> dict[str, np.ndarray]:
    """By construction: some replicate is EN (a lower bound) in the year."""
    return {
        "no action": np.ones(YEARS.size, dtype=bool),
        "fence": np.ones(YEARS.size, dtype=bool),
        "crash": YEARS < CRASH,
    }


def hatched_years(ax: object, years: np.ndarray) -> np.ndarray:
    spans = [
        patch.get_x() + np.array([0.0, patch.get_width()])
        for patch in ax.patches  # type: ignore[attr-defined]
        if patch.get_gid() == plots.LOWER_BOUND_GID
    ]
    return np.array([any(lo <= y <= hi for lo, hi in spans) for y in years])


@pytest.mark.parametrize("source", ["assess_by_species", "redlist.assess"])
def test_category_figure_hatches_exactly_the_lower_bound_years(
    results: xr.Dataset, by_year: xr.Dataset, source: str
) -> None:
    assessment = by_year if source == "assess_by_species" else redlist.assess(results)
    bound = summary.lower_bounds(assessment).sel(species="Fern").any("replicate")
    expected = expected_bounds()
    fig = plots.plot_category_distribution(assessment, species="Fern")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    for ax, scenario in zip(axes, SCENARIOS, strict=True):
        assert ax.get_title() == scenario
        np.testing.assert_array_equal(bound.sel(scenario=scenario).values, expected[scenario])
        np.testing.assert_array_equal(hatched_years(ax, YEARS), expected[scenario])
    legend = "".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "lower bound" in legend


def test_transition_figure_marks_the_lower_bound_years(by_year: xr.Dataset) -> None:
    fig = plots.plot_transition_matrix(by_year, species="Fern")
    axes = [ax for ax in fig.axes if ax.get_title() in SCENARIOS]
    expected = expected_bounds()
    for ax in axes:
        end = expected[ax.get_title()][-1]
        assert ax.get_xlabel().startswith("≥ ") is bool(end)
        assert ("lower bound" in ax.get_xlabel()) is bool(end)
        # year 0: EN in every scenario, a lower bound
        assert ax.get_ylabel() == "≥ category in year 0 (a lower bound)"


def test_red_list_figure_captions_say_what_is_marked(page: str) -> None:
    texts = captions(page)
    assert any("hatched: years whose categories are lower bounds" in c for c in texts)
    assert any("an axis marked ≥" in c for c in texts)
