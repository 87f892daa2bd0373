"""One risk measure per species, named by the study, everywhere (issue 15, item 1).

The results are synthetic and every number is known by construction (conftest_results): a herb whose
stages are seed, rosette and flowering, the last two mature, with a quasi-extinction threshold of 10
mature individuals; total abundance is twice the mature abundance (the seeds). Under "no action" the
mature count is 40 - 2t: at most 10 from year 15, none from year 20 (and then no seeds either: the
herb is extinct); under "protect" replicate r holds 20 + r mature plants; under "prop up" every
replicate holds 5 mature plants: quasi-extinct from the start, never extinct.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from conftest_results import STUDY, make_results

from pva import measures, summary

R = 8
YEARS = np.arange(31)
HERB = {
    "name": "Herb",
    "generation_length": 4.0,
    "stages": ["seed", "rosette", "flowering"],
    "mature_stages": ["rosette", "flowering"],
    "quasi_extinction_threshold": 10.0,
    "quasi_extinction_on": "mature",
}


def herb_results() -> xr.Dataset:
    mature = np.zeros((1, 3, R, YEARS.size, 1), dtype=np.int64)
    mature[0, 0, :, :, 0] = np.clip(40 - 2 * YEARS, 0, None)[None, :]
    mature[0, 1, :, :, 0] = (20 + np.arange(R))[:, None]
    mature[0, 2, :, :, 0] = 5
    study = {
        **STUDY,
        "species": [HERB],
        "scenarios": [
            {"name": "no action", "actions": []},
            {"name": "protect", "actions": ["protection"]},
            {"name": "prop up", "actions": ["protection"]},
        ],
    }
    return make_results(
        mature,
        species=("Herb",),
        scenarios=("no action", "protect", "prop up"),
        quasi_extinction_threshold=(10.0,),
        generation_length=(4.0,),
        study=study,
    )


@pytest.fixture(scope="module")
def results() -> xr.Dataset:
    return herb_results()


@pytest.fixture(scope="module")
def table(results: xr.Dataset) -> xr.Dataset:
    return summary.summary_table(results, horizons=(10, 15, 18, 30))


def test_the_measure_is_named_in_the_species_own_stages(results: xr.Dataset) -> None:
    measure = measures.risk_measure(results, "Herb")
    assert (measure.threshold, measure.counted.on) == (10.0, "mature")
    assert measure.event == "at most 10 mature individuals (rosette, flowering)"
    assert measure.probability_label(50) == "P(≤ 10 mature by year 50)"
    assert (
        measures.abundance_count(results, "Herb").label == "mature individuals (rosette, flowering)"
    )
    everything = measures.abundance_count(results, "Herb", "total")
    assert everything.label == "individuals of all stages (seed–flowering)"


def test_risk_at_every_horizon_with_absolute_extinction_beside_it(table: xr.Dataset) -> None:
    no_action = {"species": "Herb", "scenario": "no action"}
    # at most 10 mature from year 15 (40 - 2t <= 10); no individuals at all from year 20
    assert table["p_quasi_extinction"].sel(no_action).values.tolist() == [0, 1, 1, 1]
    assert table["p_extinction"].sel(no_action).values.tolist() == [0, 0, 0, 1]
    prop_up = {"species": "Herb", "scenario": "prop up"}
    assert table["p_quasi_extinction"].sel(prop_up).values.tolist() == [1, 1, 1, 1]
    assert table["p_extinction"].sel(prop_up).values.tolist() == [0, 0, 0, 0]
    assert table["risk_measure"].values.tolist() == [
        "at most 10 mature individuals (rosette, flowering)"
    ]


def test_abundance_figures_count_mature_individuals(table: xr.Dataset, results: xr.Dataset) -> None:
    # the seeds (half of all individuals) are not counted: median 20 + r, not 2 (20 + r)
    protect = {"species": "Herb", "scenario": "protect"}
    assert float(table["median_final_abundance"].sel(protect)) == np.median(20 + np.arange(R))
    assert float(table["expected_minimum_abundance"].sel(protect)) == np.mean(20 + np.arange(R))
    assert table["abundance_counts"].values.tolist() == ["mature individuals (rosette, flowering)"]
    counted_all = summary.summary_table(results, count="total", red_list=False)
    assert float(counted_all["median_final_abundance"].sel(protect)) == np.median(
        2 * (20 + np.arange(R))
    )


def test_extinctions_prevented_count_the_risk_event(table: xr.Dataset) -> None:
    prevented = table["extinctions_prevented"].sel(scenario=["protect", "prop up"]).values
    absolute = table["absolute_extinctions_prevented"].sel(scenario=["protect", "prop up"]).values
    # propping up at 5 mature plants keeps the herb alive but not above its threshold
    assert prevented.tolist() == [1.0, 0.0]
    assert absolute.tolist() == [1.0, 1.0]


def test_text_rows_say_what_they_count(table: xr.Dataset) -> None:
    text = summary.format_table(table)
    lines = text.splitlines()
    note = " ".join(line.strip() for line in lines[1:3])  # wrapped at 100 characters
    assert note == (
        "risk: at most 10 mature individuals (rosette, flowering); abundance: mature individuals "
        "(rosette, flowering); extinct: no individuals of any stage"
    )
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["no", "action"])
    labels = [line.split("  ")[0] for line in lines[head + 2 :]]
    assert labels[:8] == [
        "P(≤ 10 mature by year 10)",
        "P(≤ 10 mature by year 15)",
        "P(≤ 10 mature by year 18)",
        "P(≤ 10 mature by year 30)",
        "P(extinct by year 10)",
        "P(extinct by year 15)",
        "P(extinct by year 18)",
        "P(extinct by year 30)",
    ]
    assert "median mature individuals in year 30" in labels
    assert "expected minimum mature individuals, years 0–30" in labels
    doc = json.loads(summary.table_to_json(table))
    assert doc["variables"]["risk_measure"]["data"] == [
        "at most 10 mature individuals (rosette, flowering)"
    ]


def test_the_headline_uses_the_measure(results: xr.Dataset) -> None:
    overview = summary.run_overview(results)
    at = {"species": "Herb", "scenario": "prop up"}
    assert float(overview["p_quasi_extinction"].sel(at)) == 1.0
    assert float(overview["p_extinction"].sel(at)) == 0.0
    assert float(overview["median_final_abundance"].sel(at)) == 5.0  # mature, not 10 in total
    text = summary.format_run_overview(overview).splitlines()
    header = [cell.strip() for cell in text[0].split("  ") if cell.strip()]
    assert header[2:4] == ["P(quasi-extinct by year 30)", "P(extinct by year 30)"]
    assert text[-2] == (
        "Herb: quasi-extinct = at most 10 mature individuals (rosette, flowering); "
        "abundance = mature individuals (rosette, flowering)"
    )


def test_the_figure_draws_the_measure_and_extinction(results: xr.Dataset) -> None:
    pytest.importorskip("matplotlib")
    from pva import plots

    fig = plots.plot_extinction_cdf(results)
    (ax,) = [a for a in fig.axes if a.get_visible()]
    solid = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    np.testing.assert_array_equal(solid[0].get_ydata(), (YEARS >= 15).astype(float))
    np.testing.assert_array_equal(dashed[0].get_ydata(), (YEARS >= 20).astype(float))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "at most 10 mature individuals (rosette, flowering)" in legend
