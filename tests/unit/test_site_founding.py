"""A site is counted from the year its scenario founds it (issues 13 and 15: per-site results).

A site that is empty at the start (a translocation's second site) used to read as lost from year 0
in every scenario. Synthetic results with answers known by construction (conftest_results; total
abundance is twice the mature abundance): "Fern" has the site "old", with 30 mature plants for ever
in every replicate, and the site "new", empty under "no action"; under "translocate" it gets 30
mature plants from year 5 in replicates 0-5, from year 5 until year 15 only in replicate 6, and
never in replicate 7 (the founding failed). So under "translocate" the site is founded in year 5,
and P(site lost by t) is NaN before year 5, 1/8 from year 5 and 2/8 from year 15; under "no action"
it is never founded. The summary shows those years as "not founded".

Sites occupied at year 0 keep the numbers of :func:`pva.outcomes.extinction_probability` and
:func:`pva.outcomes.quasi_extinction_probability` of the site's counts exactly, checked on a
simulation with random site sizes. :func:`pva.summary.site_counts` and
:func:`pva.summary.occupancy` take :func:`pva.simulate` output as other summary functions do.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from conftest_results import STUDY, make_results

import pva
from pva import outcomes, summary
from pva.model import Population, Species
from pva.scenario import Scenario, Supplementation

R = 8
YEARS = np.arange(31)
FOUNDED = 5


def founding_results() -> xr.Dataset:
    mature = np.zeros((1, 2, R, YEARS.size, 2), dtype=np.int64)
    mature[0, :, :, :, 0] = 30
    mature[0, 1, :6, FOUNDED:, 1] = 30
    mature[0, 1, 6, FOUNDED:15, 1] = 30
    study = {
        **STUDY,
        "species": [{"name": "Fern", "stages": ["adult"], "quasi_extinction_on": "mature"}],
        "scenarios": [
            {"name": "no action", "actions": []},
            {"name": "translocate", "actions": []},
        ],
    }
    ds = make_results(
        mature,
        species=("Fern",),
        scenarios=("no action", "translocate"),
        quasi_extinction_threshold=(10.0,),
        study=study,
    )
    names = np.array([["old", "new"]], dtype=object)
    return ds.assign_coords(population_name=(("species", "population"), names))


@pytest.fixture(scope="module")
def results() -> xr.Dataset:
    return founding_results()


@pytest.fixture(scope="module")
def table(results: xr.Dataset) -> xr.Dataset:
    return summary.summary_table(results, horizons=(4, 5, 14, 15, 30), red_list=False)


def test_founding_year_is_the_first_year_some_replicate_has_individuals(
    results: xr.Dataset,
) -> None:
    founded = summary.site_curves(results)["site_founding_year"].sel(species="Fern")
    assert founded.sel(population=0).values.tolist() == [0.0, 0.0]
    assert np.isnan(founded.sel(population=1, scenario="no action"))
    assert float(founded.sel(population=1, scenario="translocate")) == FOUNDED


@pytest.mark.parametrize("var", ["p_site_extinction", "p_site_quasi_extinction"])
def test_a_site_founded_later_is_counted_from_its_founding(results: xr.Dataset, var: str) -> None:
    curves = summary.site_curves(results).sel(species="Fern", population=1)
    moved = curves[var].sel(scenario="translocate").values
    expected = np.where(YEARS < FOUNDED, np.nan, np.where(YEARS < 15, 1 / R, 2 / R))
    np.testing.assert_array_equal(moved, expected)
    # the interval is the Wilson interval of the same counts, NaN where the estimate is
    lower, upper = outcomes.binomial_interval(np.where(YEARS < 15, 1, 2), R)
    live = YEARS >= FOUNDED
    np.testing.assert_array_equal(
        curves[var + "_lower"].sel(scenario="translocate")[live], lower[live]
    )
    np.testing.assert_array_equal(
        curves[var + "_upper"].sel(scenario="translocate")[live], upper[live]
    )
    assert np.isnan(curves[var + "_upper"].sel(scenario="translocate")[~live]).all()
    # a scenario that never founds the site: NaN, not "lost"
    assert np.isnan(curves[var].sel(scenario="no action")).all()
    assert "founded" in curves[var].attrs["long_name"]


def test_summary_prints_not_founded(table: xr.Dataset) -> None:
    fern = table.sel(species="Fern")
    assert fern["p_site_extinction"].sel(population=1, scenario="translocate").values.tolist()[
        1:
    ] == [1 / R, 1 / R, 2 / R, 2 / R]
    text = summary.format_table(table)
    rows = {line.split("  ")[0]: line.split() for line in text.splitlines()}
    assert "site new: P(no individuals by year 30)" in rows
    line = next(x for x in text.splitlines() if x.startswith("site new: P(no individuals"))
    assert "not founded" in line
    assert "0.25 (" in line
    founded = next(x for x in text.splitlines() if x.startswith("site new: founded in year"))
    assert founded.split("year", 1)[1].split() == ["not", "founded", "5"]
    # a site occupied from the start in every scenario gets no founding row
    assert not [x for x in text.splitlines() if x.startswith("site old: founded")]
    for style in ("markdown", "html"):
        assert "not founded" in summary.format_table(table, style=style)
    assert "nan" not in text.lower().replace("nance", "")


def test_json_says_when_each_site_is_founded(table: xr.Dataset) -> None:
    doc = json.loads(summary.table_to_json(table))
    founded = doc["variables"]["site_founding_year"]
    assert founded["dims"] == ["species", "scenario", "population"]
    assert founded["data"] == [[[0.0, None], [0.0, float(FOUNDED)]]]
    extinct = doc["variables"]["p_site_extinction"]
    assert extinct["data"][0][0][1] == [None] * 5  # no action: never founded
    assert extinct["data"][0][1][1] == [None, 1 / R, 1 / R, 2 / R, 2 / R]
    assert "not founded" in extinct["attrs"]["comment"]


def two_sites() -> Species:
    """A declining herb at two sites of random sizes, both occupied at year 0, and an empty third
    site."""
    return Species(
        name="herb",
        stages=("juvenile", "adult"),
        U=((0.1, 0.0), (0.4, 0.75)),
        F=((0.0, 0.9), (0.0, 0.0)),
        populations=(
            Population(name="a", initial=(10, 12)),
            Population(name="b", initial=(4, 3)),
            Population(name="c", initial=(0, 0)),
        ),
        quasi_extinction_threshold=2.0,
        quasi_extinction_on="mature",
        generation_length=4.0,
    )


@pytest.fixture(scope="module")
def simulated() -> xr.Dataset:
    release = Supplementation(
        name="release", population="c", individuals=(("adult", 6.0),), start=7, duration=2
    )
    return pva.simulate(
        two_sites(),
        years=25,
        replicates=200,
        seed=20261126,
        scenario=Scenario(name="release", actions=(release,)),
    )


def test_sites_occupied_at_year_0_keep_the_outcomes_numbers_exactly(simulated: xr.Dataset) -> None:
    curves = summary.site_curves(simulated).sel(species="herb", scenario="release")
    for population in (0, 1):
        total = simulated["total_abundance"].isel(population=population)
        mature = simulated["mature_abundance"].isel(population=population)
        for var, est in (
            ("p_site_extinction", outcomes.extinction_probability(total)),
            ("p_site_quasi_extinction", outcomes.quasi_extinction_probability(mature, 2.0)),
        ):
            site = curves.isel(population=population)
            for suffix, field in (("", est.estimate), ("_lower", est.lower), ("_upper", est.upper)):
                np.testing.assert_array_equal(site[var + suffix].values, field.values)
    # the site is lost sometimes, so the comparison is not of zeros alone
    assert 0 < float(curves["p_site_extinction"].isel(population=1, year=-1)) < 1
    # the released site: founded the year after the first release, not lost from year 0
    c = curves.isel(population=2)
    assert float(c["site_founding_year"]) == 8
    assert np.isnan(c["p_site_extinction"].sel(year=slice(0, 7))).all()
    assert float(c["p_site_extinction"].sel(year=8)) < 0.5


def test_site_counts_and_occupancy_take_simulate_output(simulated: xr.Dataset) -> None:
    assert summary.site_counts(simulated) == {"herb": 3}
    occupied = summary.occupancy(simulated)["sites_occupied"]
    assert occupied.dims == ("species", "scenario", "year")
    expected = (simulated["total_abundance"] > 0).sum("population").mean("replicate")
    np.testing.assert_allclose(occupied.sel(species="herb", scenario="release"), expected)
    assert occupied.isel(year=0).values.item() == 2.0
