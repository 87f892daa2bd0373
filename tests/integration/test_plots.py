"""pva.plots: each figure draws what it should, from the numbers it is given, with labelled axes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest_results import one_species_study, run_and_simulate

from pva import plots, redlist, summary

pytest.importorskip("matplotlib", reason="figures need matplotlib (the 'plot' extra)")

from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

R = 8
YEAR_LABEL = "years since the start of the projection [year]"


@pytest.fixture(scope="module")
def assessment(results: xr.Dataset) -> xr.Dataset:
    return redlist.assess(results)


@pytest.fixture(scope="module")
def table(results: xr.Dataset, assessment: xr.Dataset) -> xr.Dataset:
    return summary.summary_table(results, assessment=assessment)


def visible_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def bands(ax) -> list[PolyCollection]:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_import_pva_does_not_need_matplotlib() -> None:
    code = (
        "import sys; import pva, pva.summary, pva.plots, pva.report; "
        "sys.exit('matplotlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr or "importing pva loaded matplotlib"


def test_extinction_cdf(results: xr.Dataset) -> None:
    # each species' risk measure (solid, with its band) and absolute extinction (dashed) beside it
    fig = plots.plot_extinction_cdf(results)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["Alpha", "Beta"]
    for ax in axes:
        assert [line.get_label() for line in ax.get_lines()] == [
            "no action",
            "protect",
            "no action (extinct)",
            "protect (extinct)",
        ]
        assert [line.get_linestyle() for line in ax.get_lines()] == ["-", "-", "--", "--"]
        assert len(bands(ax)) == 2  # one interval band per scenario, for the risk measure
    assert axes[0].get_ylabel() == "probability by year"
    assert fig.get_supxlabel() == YEAR_LABEL
    risk, _, extinct, _ = axes[0].get_lines()
    np.testing.assert_array_equal(risk.get_xdata(), np.arange(51))
    # Alpha: 2 populations x 2 (100 - 10 t) individuals, above its threshold of 20 until 0 at 10
    np.testing.assert_array_equal(risk.get_ydata(), (np.arange(51) >= 10).astype(float))
    np.testing.assert_array_equal(extinct.get_ydata(), (np.arange(51) >= 10).astype(float))
    # Beta: 2 (50 - floor(2.5 t)) in half the replicates: at most 10 (its threshold) from year 18,
    # none left from year 20
    beta_risk, _, beta_extinct, _ = (line.get_ydata() for line in axes[1].get_lines())
    assert (beta_risk[17], beta_risk[18]) == (0.0, 0.5)
    assert (beta_extinct[19], beta_extinct[20]) == (0.0, 0.5)
    legend = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert legend[-2:] == ["each species' risk measure", "extinct (no individuals)"]


def test_extinction_cdf_one_species_quasi(results: xr.Dataset) -> None:
    fig = plots.plot_extinction_cdf(results, species="Beta", quasi=True)
    (ax,) = visible_axes(fig)
    assert ax.get_xlabel() == YEAR_LABEL
    assert ax.get_ylabel() == "probability by year"
    assert ax.get_title() == "Beta: risk by year"
    assert [line.get_linestyle() for line in ax.get_lines()] == ["-", "-"]
    ydata = ax.get_lines()[0].get_ydata()
    assert ydata[17] == 0.0
    assert ydata[18] == 0.5
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-1] == "at most 10 individuals"
    with pytest.raises(ValueError, match="species 'Gamma' is not in the results"):
        plots.plot_extinction_cdf(results, species="Gamma")


def test_fan_chart(results: xr.Dataset) -> None:
    # every scenario in one panel
    fig = plots.plot_fan_chart(results, species="Alpha")
    (ax,) = visible_axes(fig)
    assert ax.get_title() == "Alpha: mature individuals by year"
    assert [line.get_label() for line in ax.get_lines()] == ["no action", "protect"]
    assert len(bands(ax)) == 4  # 90% and 50% per scenario
    assert ax.get_ylabel() == "mature individuals [individuals]"
    median = ax.get_lines()[1].get_ydata()
    # mature individuals summed over 2 populations: 2 (100 + r), r = 0..7
    np.testing.assert_allclose(median, np.median(2 * (100 + np.arange(R))))
    bottom, top = ax.get_ylim()
    assert bottom == 0
    assert top >= np.quantile(2 * (100 + np.arange(R)), 0.95)
    assert ax.get_yscale() == "symlog"  # the 95% band exceeds 100: logarithmic by default
    linear = visible_axes(plots.plot_fan_chart(results, species="Alpha", log=False))[0]
    assert linear.get_yscale() == "linear"


def test_intervention_comparison(results: xr.Dataset, table: xr.Dataset) -> None:
    fig = plots.plot_intervention_comparison(results, table=table, horizon=20)
    axes = visible_axes(fig)
    assert [ax.get_title().splitlines()[0] for ax in axes] == ["Alpha", "Beta"]
    beta = axes[1]
    # per scenario the risk measure (filled) and absolute extinction (open)
    points = [line.get_xdata()[0] for line in beta.get_lines() if line.get_marker() == "o"]
    assert points == [0.5, 0.5, 0.0, 0.0]
    assert beta.get_xlabel() == "P(by year 20)"
    assert "P(≤ 10 individuals by year 20)" in beta.get_title()
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["no action", "protect"]
    with pytest.raises(ValueError, match="horizon 7 is not in the table"):
        plots.plot_intervention_comparison(results, table=table, horizon=7)


def test_category_distribution(assessment: xr.Dataset) -> None:
    fig = plots.plot_category_distribution(assessment, species="Beta")
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["no action", "protect"]
    # categories some replicate of Beta reaches: EN, CR (E at year 0) and EX; one area each
    # and the hatching of years whose categories are lower bounds (Beta is EN, a lower bound, in
    # some replicates)
    legend = fig.legends[0]
    assert sorted(t.get_text() for t in legend.get_texts()) == [
        "CR",
        "EN",
        "EX",
        plots.LOWER_BOUND_LABEL,
    ]
    for ax in axes:
        assert len(bands(ax)) == 3
    assert axes[0].get_ylabel() == "fraction of replicates"


def test_rli(assessment: xr.Dataset) -> None:
    fig = plots.plot_rli(assessment)
    (ax,) = visible_axes(fig)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["no action", "protect"]
    assert len(bands(ax)) == 2
    assert ax.get_ylabel() == "Red List Index"
    assert lines[0].get_ydata()[-1] == pytest.approx(0.1)
    assert lines[1].get_ydata()[-1] == pytest.approx(0.4)


def test_transition_matrix(assessment: xr.Dataset) -> None:
    fig = plots.plot_transition_matrix(assessment, species="Alpha", year_from=0, year_to=50)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["no action", "protect"]
    for ax in axes:
        assert sum(isinstance(im, AxesImage) for im in ax.get_images()) == 1
    # no action: CR (the highest category the criteria not evaluated give) then EX, so no lower
    # bound; protect: EN in both years, a lower bound ("≥")
    assert axes[0].get_ylabel() == "category in year 0"
    assert axes[0].get_xlabel() == "category in year 50"
    assert axes[1].get_ylabel() == "≥ category in year 0 (a lower bound)"
    assert axes[1].get_xlabel() == "≥ category in year 50 (a lower bound)"
    # every Alpha replicate goes CR -> EX without action and stays EN with protection
    image = axes[0].get_images()[0].get_array()
    labels = [t.get_text() for t in axes[0].get_yticklabels()]
    assert image[labels.index("CR"), labels.index("EX")] == 1.0
    assert {t.get_text() for t in axes[1].texts} == {"1.00"}


def test_extinctions_prevented(table: xr.Dataset) -> None:
    fig = plots.plot_extinctions_prevented(table)
    (ax,) = visible_axes(fig)
    bars = [p for p in ax.patches if p.get_width() != 0]
    assert len(bars) == 1
    assert bars[0].get_width() == pytest.approx(1.5)
    assert ax.get_xlabel() == "expected extinctions prevented [species]"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["protect"]


def test_plot_all_writes_every_figure(results: xr.Dataset, tmp_path: Path) -> None:
    paths = plots.plot_all(results, tmp_path / "figs", formats=("png", "svg"), dpi=40)
    stems = sorted({p.stem for p in paths})
    assert stems == sorted(
        [
            "extinction_cdf",
            "intervention_comparison",
            "fan_chart_Alpha",
            "fan_chart_Beta",
            "site_fan_charts_Alpha",
            "red_list_index",
            "delta_rli",
            "extinctions_prevented",
            "cost_effectiveness",
            "red_list_categories_Alpha",
            "red_list_categories_Beta",
            "red_list_transitions_Alpha",
            "red_list_transitions_Beta",
        ]
    )
    assert len(paths) == 2 * len(stems)
    for path in paths:
        head = path.read_bytes()[:8]
        assert head == b"\x89PNG\r\n\x1a\n" if path.suffix == ".png" else head.startswith(b"<?xml")
    with pytest.raises(ValueError, match="formats must be among"):
        plots.plot_all(results, tmp_path, formats=("gif",))


def test_plot_all_without_red_list(results: xr.Dataset, tmp_path: Path) -> None:
    paths = plots.plot_all(results, tmp_path, red_list=False, dpi=30)
    assert sorted(p.stem for p in paths) == [
        "extinction_cdf",
        "fan_chart_Alpha",
        "fan_chart_Beta",
        "intervention_comparison",
        "site_fan_charts_Alpha",
    ]


def test_axis_label_and_safe_name() -> None:
    da = xr.DataArray([1], attrs={"long_name": "total abundance", "units": "individuals"})
    assert plots.axis_label(da) == "total abundance [individuals]"
    assert plots.axis_label(xr.DataArray([1], attrs={"long_name": "RLI", "units": "1"})) == "RLI"
    assert plots.safe_name("Hudsonia montana (NC)") == "Hudsonia_montana__NC"


def test_figures_of_a_simulation(tmp_path: Path) -> None:
    # pva.simulate's Dataset is a study of one species and one scenario: the figures of the run
    run, simulated = run_and_simulate(one_species_study(replicates=30, years=12))
    stems = [stem for stem, _ in plots.iter_figures(simulated)]
    assert stems == [stem for stem, _ in plots.iter_figures(run)]
    assert stems == [
        "extinction_cdf",
        "intervention_comparison",
        "fan_chart_herb",
        "red_list_index",
        "red_list_categories_herb",
        "red_list_transitions_herb",
    ]
    fig = plots.plot_extinction_cdf(simulated, quasi=True)
    (ax,) = visible_axes(fig)
    mature = simulated["mature_abundance"].sum("population")
    expected = ((mature <= 5).cumsum("year") > 0).mean("replicate")  # the herb's threshold
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), expected.values)
    paths = plots.plot_all(simulated, tmp_path, red_list=False, dpi=30)
    assert sorted(p.name for p in paths) == [
        "extinction_cdf.png",
        "fan_chart_herb.png",
        "intervention_comparison.png",
    ]
    assert not list(tmp_path.glob("*.tmp"))
