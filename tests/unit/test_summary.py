"""pva.summary on synthetic results whose every number is known by construction.

See tests/conftest_results.py for the trajectories. Interval ends are checked against the closed
form of the Wilson (1927) score interval; Red List categories against the IUCN criterion D
thresholds (v3.1: EN < 250, CR < 50 mature individuals); RLI against Butchart et al. (2007) weights
computed by hand.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from conftest_results import STUDY, known_results, make_results

from pva import summary

R = 8
Z = float(scipy.stats.norm.isf(0.025))


def wilson_upper_at_zero(n: int) -> float:
    """Upper end of the Wilson interval for 0 successes in n: z^2 / (n + z^2)."""
    return Z * Z / (n + Z * Z)


@pytest.fixture(scope="module")
def table(results: xr.Dataset) -> xr.Dataset:
    return summary.summary_table(results)


def cell(table: xr.Dataset, var: str, **sel: object) -> float:
    return float(table[var].sel(sel))


def test_extinction_probabilities_at_horizons(table: xr.Dataset) -> None:
    assert list(table["horizon"].values) == [10, 20, 50]  # "final" is 50
    p = table["p_extinction"]
    assert p.sel(species="Alpha", scenario="no action").values.tolist() == [1.0, 1.0, 1.0]
    assert p.sel(species="Alpha", scenario="protect").values.tolist() == [0.0, 0.0, 0.0]
    assert p.sel(species="Beta", scenario="no action").values.tolist() == [0.0, 0.5, 0.5]
    assert p.sel(species="Beta", scenario="protect").values.tolist() == [0.0, 0.0, 0.0]


def test_extinction_intervals_are_wilson(table: xr.Dataset) -> None:
    high = cell(table, "p_extinction_upper", species="Alpha", scenario="protect", horizon=10)
    assert high == pytest.approx(wilson_upper_at_zero(R))
    low = cell(table, "p_extinction_lower", species="Alpha", scenario="no action", horizon=10)
    assert low == pytest.approx(1 - wilson_upper_at_zero(R))
    # p = 1/2: centre 1/2, half-width z/(1 + z^2/n) * sqrt(1/(4n) + z^2/(4n^2))
    half = Z / (1 + Z * Z / R) * np.sqrt(0.25 / R + Z * Z / (4 * R * R))
    sel = {"species": "Beta", "scenario": "no action", "horizon": 20}
    assert cell(table, "p_extinction_lower", **sel) == pytest.approx(0.5 - half)
    assert cell(table, "p_extinction_upper", **sel) == pytest.approx(0.5 + half)


def test_abundance_metrics(table: xr.Dataset) -> None:
    # abundance figures count mature individuals (both species have them; issue 15)
    assert table["abundance_counts"].values.tolist() == ["mature individuals"] * 2
    # Alpha under protect: 2 populations x (100 + r) mature, r = 0..7
    mature = 2 * (100 + np.arange(R))
    sel = {"species": "Alpha", "scenario": "protect"}
    assert cell(table, "median_final_abundance", **sel) == np.median(mature)
    assert cell(table, "expected_minimum_abundance", **sel) == mature.mean()
    # Beta under no action: half the replicates at 0, half at 50 mature
    sel = {"species": "Beta", "scenario": "no action"}
    assert cell(table, "median_final_abundance", **sel) == 25.0
    assert cell(table, "expected_minimum_abundance", **sel) == 25.0
    assert cell(table, "expected_minimum_abundance", species="Alpha", scenario="no action") == 0.0


def test_quasi_extinction(results: xr.Dataset, table: xr.Dataset) -> None:
    # Beta no action: total 2 * (50 - 50 t // 20) <= 10 from t = 18 on, in half the replicates
    curves = summary.extinction_curves(results, quasi=True)
    beta = curves["p_quasi_extinction"].sel(species="Beta", scenario="no action")
    assert float(beta.sel(year=17)) == 0.0
    assert float(beta.sel(year=18)) == 0.5
    assert cell(table, "p_quasi_extinction", species="Beta", scenario="protect", horizon=50) == 0
    assert cell(table, "p_quasi_extinction", species="Alpha", scenario="no action", horizon=10) == 1


def test_red_list_categories_in_final_year(table: xr.Dataset) -> None:
    share = table["category_share"]
    assert float(share.sel(species="Alpha", scenario="no action", category="EX")) == 1.0
    assert float(share.sel(species="Beta", scenario="no action", category="EX")) == 0.5
    # 200..214 and exactly 50 mature individuals, no decline: EN under criterion D (< 250, not < 50)
    assert float(share.sel(species="Alpha", scenario="protect", category="EN")) == 1.0
    assert float(share.sel(species="Beta", scenario="protect", category="EN")) == 1.0
    np.testing.assert_allclose(share.sum("category"), 1.0)


def test_rli_delta_rli_and_extinctions_prevented(table: xr.Dataset) -> None:
    # RLI = 1 - sum(weights) / (5 * 2): no action EX+EX = 0 or EX+EN = 0.2; protect EN+EN = 0.4
    assert cell(table, "rli", scenario="no action") == pytest.approx(0.1)
    assert cell(table, "rli", scenario="protect") == pytest.approx(0.4)
    assert cell(table, "delta_rli", scenario="protect") == pytest.approx(0.3)
    assert cell(table, "delta_rli", scenario="no action") == 0.0
    # intervals: of the mean (z * sd / sqrt(R)) and of the futures (central 95% of replicates)
    rli_no_action = np.array([0.0, 0.2] * (R // 2))
    se = rli_no_action.std(ddof=1) / np.sqrt(R)
    assert cell(table, "rli_lower", scenario="no action") == pytest.approx(0.1 - Z * se)
    assert cell(table, "rli_upper", scenario="no action") == pytest.approx(0.1 + Z * se)
    assert cell(table, "rli_spread_lower", scenario="no action") == pytest.approx(0.0)
    assert cell(table, "rli_spread_upper", scenario="no action") == pytest.approx(0.2)
    assert cell(table, "delta_rli_lower", scenario="protect") == pytest.approx(0.3 - Z * se)
    # 2 extinctions prevented in half the replicates, 1 in the other half
    assert cell(table, "extinctions_prevented", scenario="protect") == pytest.approx(1.5)
    assert cell(table, "p_any_prevented", scenario="protect") == 1.0
    assert cell(table, "extinctions_prevented", scenario="no action") == 0.0
    se = np.std([2, 1] * (R // 2), ddof=1) / np.sqrt(R)
    assert cell(table, "extinctions_prevented_lower", scenario="protect") == pytest.approx(
        1.5 - Z * se
    )


def test_cost_per_extinction_prevented(table: xr.Dataset) -> None:
    # "protect" keeps both species extant: their costs run every year
    assert cell(table, "total_cost", species="Alpha", scenario="protect") == 51 * 1000.0
    assert cell(table, "total_cost", species="Beta", scenario="no action") == 0.0
    assert cell(table, "cost_per_extinction_prevented", scenario="protect") == pytest.approx(
        2 * 51 * 1000.0 / 1.5
    )
    assert np.isnan(cell(table, "cost_per_extinction_prevented", scenario="no action"))


def test_all_zero_costs_are_not_reported() -> None:
    ds = known_results(4)
    ds["annual_cost"][:] = 0.0
    table = summary.summary_table(ds)
    assert "total_cost" not in table
    assert "cost_per_extinction_prevented" not in table


def test_all_extinct_vs_none_extinct() -> None:
    # the brief's case: every replicate extinct by year 10 in one scenario, none in the other
    years = np.arange(21)
    mature = np.zeros((1, 2, 6, years.size, 1), dtype=np.int64)
    mature[0, 0, :, :10, 0] = 30
    mature[0, 1, :, :, 0] = 30
    ds = make_results(mature, species=("Solo",), scenarios=("no action", "translocate"))
    table = summary.summary_table(ds, horizons=(5, 10, "final"))
    p = table["p_extinction"].sel(species="Solo")
    assert p.sel(scenario="no action").values.tolist() == [0.0, 1.0, 1.0]
    assert p.sel(scenario="translocate").values.tolist() == [0.0, 0.0, 0.0]
    assert cell(table, "extinctions_prevented", scenario="translocate") == 1.0
    assert cell(table, "p_any_prevented", scenario="translocate") == 1.0


def test_no_action_rule() -> None:
    mature = np.full((1, 3, 2, 5, 1), 10, dtype=np.int64)
    unmarked = {k: v for k, v in STUDY.items() if k != "no_action"}
    ds = make_results(
        mature, species=("S",), scenarios=("restore", "No-Action", "fence"), study=unmarked
    )
    assert summary.no_action_scenario(ds) == "No-Action"
    ds = make_results(
        mature, species=("S",), scenarios=("restore", "baseline", "fence"), study=unmarked
    )
    assert summary.no_action_scenario(ds) == "restore"
    marked = make_results(
        mature, species=("S",), scenarios=("restore", "baseline", "fence"),
        study={**STUDY, "no_action": "baseline"},
    )  # fmt: skip
    assert summary.no_action_scenario(marked) == "baseline"
    assert summary.no_action_scenario(marked, "fence") == "fence"
    with pytest.raises(ValueError, match="no_action 'nothing' is not a scenario"):
        summary.no_action_scenario(marked, "nothing")


def test_horizons() -> None:
    ds = known_results(4)
    table = summary.summary_table(ds, horizons=(5, 100, "final"), red_list=False)
    assert list(table["horizon"].values) == [5, 50]  # 100 is beyond the simulation: dropped
    with pytest.raises(ValueError, match="horizons must be years or 'final'"):
        summary.summary_table(ds, horizons=("last",))
    with pytest.raises(TypeError, match="horizons must be integer years"):
        summary.summary_table(ds, horizons=(2.5,))
    with pytest.raises(ValueError, match="no horizon"):
        summary.summary_table(ds, horizons=(200,))
    with_outputs = ds.assign_attrs(study=json.dumps({**STUDY, "outputs": {"horizons": [15, 30]}}))
    table = summary.summary_table(with_outputs, red_list=False)
    assert list(table["horizon"].values) == [15, 30, 50]


def test_red_list_needs_generation_length() -> None:
    ds = known_results(4)
    ds["generation_length"] = ds["generation_length"].copy(data=[5.0, np.nan])
    table = summary.summary_table(ds)
    assert "rli" not in table
    assert "Beta" in table.attrs["red_list_skipped"]
    assert "Red List part skipped" in summary.format_table(table)
    with pytest.raises(ValueError, match="no generation length for Beta"):
        summary.summary_table(ds, red_list=True)


def test_bad_input() -> None:
    with pytest.raises(TypeError, match=r"results must be an xarray\.Dataset"):
        summary.summary_table({"mature_abundance": 1})  # type: ignore[arg-type]
    ds = known_results(4).drop_vars("total_abundance")
    with pytest.raises(ValueError, match="missing \\['total_abundance'\\]"):
        summary.summary_table(ds)
    ds = known_results(4).assign_attrs(study="{not json")
    with pytest.raises(ValueError, match="'study' is not valid JSON"):
        summary.summary_table(ds)


def test_format_text_markdown_html(table: xr.Dataset) -> None:
    text = summary.format_table(table)
    block = text.split("\n\n")[0].splitlines()
    assert block[0] == "Alpha"
    assert block[1].startswith("risk: at most 20 individuals")
    # the note is wrapped at 100 characters; the table follows it
    head = next(i for i, line in enumerate(block) if line.split() == ["no", "action", "protect"])
    assert all(line.startswith("  ") for line in block[2:head])
    rows = block[head + 2 :]
    # the species' risk measure at every horizon, then absolute extinction
    assert "P(≤ 20 individuals by year 10)" in rows[0]
    assert "P(extinct by year 10)" in rows[3]
    assert rows[3].split()[-4:] == ["1", "(0.68–1)", "0", "(0–0.32)"]
    # columns align: labels left, numbers right, so every row is as wide as the rule under the header
    best = next(i for i, line in enumerate(block) if line.startswith("best: protect —"))
    assert {len(line) for line in block[head:best]} == {len(block[head + 1])}
    assert all(len(line) <= 100 for line in block[best:])
    assert "cost per extinction prevented" in text
    assert "68,000 currency units" in text
    md = summary.format_table(table, style="markdown")
    assert "### Beta" in md
    assert "| P(extinct by year 20) | 0.50 (0.22–0.78) | 0 (0–0.32) |" in md
    html = summary.format_table(table, style="html")
    assert html.count("<table") == 4  # two species, all species, single interventions ranked
    assert '<th scope="col">protect</th>' in html
    with pytest.raises(ValueError, match="style must be"):
        summary.format_table(table, style="latex")  # type: ignore[arg-type]


def test_json_round_trip(table: xr.Dataset) -> None:
    doc = json.loads(summary.table_to_json(table))
    assert doc["attrs"]["no_action"] == "no action"
    assert doc["coords"]["scenario"] == ["no action", "protect"]
    p = doc["variables"]["p_extinction"]
    assert p["dims"] == ["species", "scenario", "horizon"]
    assert p["data"][1][0] == [0.0, 0.5, 0.5]
    # NaN (cost per extinction prevented under no action itself) becomes null
    assert doc["variables"]["cost_per_extinction_prevented"]["data"][0] is None


def test_every_summary_function_accepts_a_simulation(
    run_and_simulation: tuple[xr.Dataset, xr.Dataset],
) -> None:
    # pva.simulate's Dataset is a study of one species and one scenario: every function gives what
    # it gives for `pva run` of that study with the same seed
    run, simulated = run_and_simulation
    table = summary.summary_table(simulated)
    xr.testing.assert_identical(table, summary.summary_table(run))
    assert {"p_quasi_extinction", "rli", "category_share", "total_cost"} <= set(table.data_vars)
    assert summary.format_table(table) == summary.format_table(summary.summary_table(run))
    assert summary.table_to_json(table) == summary.table_to_json(summary.summary_table(run))
    for quasi in (False, True):
        xr.testing.assert_identical(
            summary.extinction_curves(simulated, quasi=quasi),
            summary.extinction_curves(run, quasi=quasi),
        )
    xr.testing.assert_identical(
        summary.trajectory_quantiles(simulated), summary.trajectory_quantiles(run)
    )
    xr.testing.assert_identical(summary.run_overview(simulated), summary.run_overview(run))
    assert summary.default_horizons(simulated) == summary.default_horizons(run)
    assert summary.red_list_unavailable(simulated) == summary.red_list_unavailable(run) == ""
    assert summary.no_action_scenario(simulated) == summary.no_action_scenario(run) == "fenced"
    assert summary.green_status_settings(simulated) is None
    # quasi-extinction at the species' setting: 5 mature individuals
    mature = simulated["mature_abundance"].sum("population")
    expected = float(((mature <= 5).cumsum("year") > 0).sel(year=10).mean())
    assert table["p_quasi_extinction"].sel(horizon=10).item() == expected
    assert 0 < expected < 1


def test_run_overview_is_what_pva_run_prints() -> None:
    overview = summary.run_overview(known_results(R))
    assert overview["p_extinction"].sel(species="Beta", scenario="no action") == 0.5
    # Alpha under protect: 2 (100 + r) mature individuals, r = 0..7
    median = float(overview["median_final_abundance"].sel(species="Alpha", scenario="protect"))
    assert median == np.median(2 * (100 + np.arange(R)))
    lines = summary.format_run_overview(overview).splitlines()
    assert lines[0].split("  ")[0] == "species"
    assert "P(quasi-extinct by year 50)" in lines[0]
    assert "P(extinct by year 50)" in lines[0]
    # Beta under no action: half the replicates at 0, half at 50 mature (2 x 50 in total, above
    # its threshold of 10)
    assert lines[4].split() == ["Beta", "no", "action", "0.500", "0.500", "25"]
    assert (
        lines[7] == "Beta: quasi-extinct = at most 10 individuals; abundance = mature individuals"
    )


def test_assess_by_species_is_the_assessment_of_all_species(results: xr.Dataset) -> None:
    """Each species classified alone gives the categories of pva.redlist.assess of all of them
    (a species' category does not depend on the others); the RLI is recomputed over all species
    jointly; the texts kept at the chosen years are the full assessment's there."""
    from pva import redlist

    full = redlist.assess(results)
    years = [0, 10, 50]
    by_year, at = summary.assess_by_species(results, years=years)
    xr.testing.assert_identical(by_year["category"], full["category"])
    xr.testing.assert_identical(by_year["red_list_index"], full["red_list_index"])
    for name in ("category", "criteria", "complete", "not_evaluated", "criterion_level"):
        np.testing.assert_array_equal(at[name].values, full[name].sel(year=years).values)
    np.testing.assert_array_equal(
        at["red_list_index"].values, full["red_list_index"].sel(year=years).values
    )
    never = (full["criterion_level"] == redlist.NE).all(("replicate", "year"))
    np.testing.assert_array_equal(at["never_evaluated"].values, never.values)
    # the same notes (each species' text once, rather than each note once in sorted order)
    assert set(at.attrs["notes"].split("; ")) == set(full.attrs["notes"].split("; "))


def test_summary_of_a_lazily_read_file_is_the_summary_in_memory(
    results: xr.Dataset, tmp_path
) -> None:
    """pva summary reads the file lazily, species by species: the same table."""
    from pva import io

    path = io.write_results(results, tmp_path / "r.nc")
    lazy = io.open_results(path, lazy=True)
    in_memory = io.open_results(path)
    xr.testing.assert_identical(summary.summary_table(lazy), summary.summary_table(in_memory))
    xr.testing.assert_identical(
        summary.trajectory_quantiles(lazy), summary.trajectory_quantiles(in_memory)
    )
    lazy.close()


def test_summary_assessing_itself_equals_one_given_the_full_assessment(
    results: xr.Dataset,
) -> None:
    """summary_table assesses species by species, keeping texts at its years only: the table
    is the one built from the full pva.redlist.assess."""
    from pva import redlist

    mine = summary.summary_table(results)
    given = summary.summary_table(results, assessment=redlist.assess(results))
    notes = [t.attrs.pop("red_list_notes").split("; ") for t in (mine, given)]
    xr.testing.assert_identical(mine, given)
    assert set(notes[0]) == set(notes[1])  # the same notes, each species' text once


def test_blocks_of_species_do_not_change_the_numbers(results: xr.Dataset, monkeypatch) -> None:
    """Summaries read species in blocks of BLOCK_BYTES: one species per block (the smallest
    budget) and all in one block give the same table, curves and assessment."""
    from pva.summary import tables

    whole = summary.summary_table(results)
    curves = summary.extinction_curves(results, quasi=True)
    by_year, at = summary.assess_by_species(results, years=[0, 25, 50])
    monkeypatch.setattr(tables, "BLOCK_BYTES", 1)
    blocks = list(summary.species_blocks(results))
    assert [b.sizes["species"] for b in blocks] == [1, 1]
    table, reference = summary.summary_table(results), whole.copy()
    # the notes of each block once, in block order: the same notes, perhaps in another order
    notes = [t.attrs.pop("red_list_notes").split("; ") for t in (table, reference)]
    assert set(notes[0]) == set(notes[1])
    xr.testing.assert_identical(table, reference)
    xr.testing.assert_identical(summary.extinction_curves(results, quasi=True), curves)
    one_by_one = summary.assess_by_species(results, years=[0, 25, 50])
    xr.testing.assert_identical(one_by_one[0], by_year)
    xr.testing.assert_equal(one_by_one[1], at)


def test_figures_of_large_studies_read_the_red_list_on_a_grid(results: xr.Dataset) -> None:
    """Up to EVERY_YEAR_UP_TO species: every year; beyond, about 21 evenly spaced years plus
    year 0, the horizons and the final year, the categories there as every year's."""
    from pva import redlist

    assert summary.figure_years(results) is None  # 2 species
    grid = summary.assessment_grid(results)  # years 0..50: a step of 3 years
    assert grid == sorted({*range(0, 51, 3), 50, *summary.red_list_years(results)})
    assert summary.assessment_grid(results, at_most=2) == sorted(
        {0, 50, *summary.red_list_years(results)}
    )
    by_year, _ = summary.assess_by_species(results, years=[0, 50], by_year=grid)
    full = redlist.assess(results)
    xr.testing.assert_identical(by_year["category"], full["category"].sel(year=grid))
    with pytest.raises(ValueError, match="at_most must be an integer >= 2; got 1"):
        summary.assessment_grid(results, at_most=1)
