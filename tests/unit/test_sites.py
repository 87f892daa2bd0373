"""Per-site results (issue 15, item 3): each site's risk, occupancy, per-site rows and JSON with a
``population`` dimension (DESIGN's public contract for ``pva summary --json``).

Synthetic results with answers known by construction (conftest_results; total abundance is twice
the mature abundance): "Fern" has two sites and a threshold of 10 mature individuals. Site
"north" holds 30 mature plants until year 10 and none after; site "south" holds 30 for ever in half
the replicates and none from year 20 in the others. "Moss" has one site: no per-site rows for it.
Probabilities are checked against the closed form of the Wilson (1927) interval.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from conftest_results import STUDY, make_results

from pva import summary

R = 8
YEARS = np.arange(31)
Z = float(scipy.stats.norm.isf(0.025))


def site_results() -> xr.Dataset:
    mature = np.zeros((2, 1, R, YEARS.size, 2), dtype=np.int64)
    mature[0, 0, :, :10, 0] = 30
    mature[0, 0, :, :, 1] = 30
    mature[0, 0, : R // 2, 20:, 1] = 0
    mature[1, 0, :, :, 0] = 50
    study = {
        **STUDY,
        "species": [
            {"name": "Fern", "stages": ["adult"], "quasi_extinction_on": "mature"},
            {"name": "Moss", "stages": ["adult"], "quasi_extinction_on": "mature"},
        ],
        "scenarios": [{"name": "no action", "actions": []}],
    }
    ds = make_results(
        mature,
        species=("Fern", "Moss"),
        scenarios=("no action",),
        population_exists=np.array([[True, True], [True, False]]),
        quasi_extinction_threshold=(10.0, 10.0),
        study=study,
    )
    names = np.array([["north", "south"], ["main", ""]], dtype=object)
    return ds.assign_coords(population_name=(("species", "population"), names))


@pytest.fixture(scope="module")
def results() -> xr.Dataset:
    return site_results()


@pytest.fixture(scope="module")
def table(results: xr.Dataset) -> xr.Dataset:
    return summary.summary_table(results, horizons=(5, 10, 20, 30), red_list=False)


def test_site_extinction_by_year(table: xr.Dataset) -> None:
    fern = table.sel(species="Fern", scenario="no action")
    assert fern["p_site_extinction"].dims == ("population", "horizon")
    assert fern["p_site_extinction"].sel(population=0).values.tolist() == [0, 1, 1, 1]
    assert fern["p_site_extinction"].sel(population=1).values.tolist() == [0, 0, 0.5, 0.5]
    # quasi-extinction of a site: the species' threshold (10 mature) on the site's own count
    assert fern["p_site_quasi_extinction"].sel(population=0).values.tolist() == [0, 1, 1, 1]
    # Wilson interval of 0 out of R: [0, z^2 / (R + z^2)]
    upper = float(fern["p_site_extinction_upper"].sel(population=1, horizon=5))
    assert upper == pytest.approx(Z * Z / (R + Z * Z))
    # padding of the one-site species is not a site
    moss = table.sel(species="Moss", scenario="no action")
    assert np.isnan(moss["p_site_extinction"].sel(population=1).values).all()


def test_occupancy(table: xr.Dataset) -> None:
    fern = table["sites_occupied"].sel(species="Fern", scenario="no action")
    assert fern.values.tolist() == [2.0, 1.0, 0.5, 0.5]
    assert (
        table["sites_occupied"].sel(species="Moss", scenario="no action").values.tolist()
        == [1.0] * 4
    )
    # the normal interval of a mean: half the replicates occupy 1 site, half none
    se = np.std([0, 1] * (R // 2), ddof=1) / np.sqrt(R)
    low = float(table["sites_occupied_lower"].sel(species="Fern", scenario="no action", horizon=20))
    assert low == pytest.approx(0.5 - Z * se)


def test_per_site_rows_only_for_species_with_several_sites(table: xr.Dataset) -> None:
    text = summary.format_table(table)
    fern, moss = text.split("\n\n")[:2]
    labels = [line.split("  ")[0] for line in fern.splitlines()]
    for label in (
        "site north: P(≤ 10 mature by year 30)",
        "site north: P(no individuals by year 30)",
        "site south: P(no individuals by year 30)",
        "sites occupied in year 20 (of 2)",
    ):
        assert label in labels
    assert "site" not in moss.replace("extinct: no individuals", "")


def test_json_per_site_variables_carry_the_population_dim(table: xr.Dataset) -> None:
    doc = json.loads(summary.table_to_json(table))
    variable = doc["variables"]["p_site_extinction"]
    assert variable["dims"] == ["species", "scenario", "population", "horizon"]
    assert variable["data"][0][0][1] == [0, 0, 0.5, 0.5]
    assert variable["data"][1][0][1] == [None] * 4  # padding
    assert doc["coords"]["population_name"] == {
        "dims": ["species", "population"],
        "data": [["north", "south"], ["main", ""]],
    }


def test_one_site_studies_get_no_site_variables() -> None:
    mature = np.full((1, 1, 4, 6, 1), 20, dtype=np.int64)
    ds = make_results(mature, species=("Solo",), scenarios=("no action",))
    table = summary.summary_table(ds, red_list=False)
    assert not [v for v in table.data_vars if "site" in str(v)]
    assert "site" not in summary.format_table(table).replace("no individuals", "")


def test_site_fan_charts(results: xr.Dataset) -> None:
    pytest.importorskip("matplotlib")
    from pva import plots

    fig = plots.plot_site_fan_charts(results, species="Fern")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["site north", "site south"]
    # the median of site north: 30 mature until year 10, then 0
    median = axes[0].get_lines()[0].get_ydata()
    np.testing.assert_array_equal(median, np.where(YEARS < 10, 30.0, 0.0))
