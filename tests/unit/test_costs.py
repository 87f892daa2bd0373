"""Honest costs (issue 15, item 4): currency everywhere, costs that stop at extinction, discounting,
cost-effectiveness with a paired interval or "not estimable", and a ranking of single interventions.

Synthetic results with answers known by construction (conftest_results): two one-stage species,
100 mature "Alpha" and 300 mature "Beta" plants, both gone from year 10 unless saved. "save alpha"
holds Alpha at 100 (EN under criterion D: fewer than 250 mature) for 1,000 EUR a year, "save beta"
holds Beta at 300 (VU, D1: fewer than 1,000) for 10,000 EUR a year, and "futile" spends 500 EUR a
year on Alpha without effect. Costs follow the runner's convention: year t's cost is the step from t
to t + 1 (none in the final year 50). Red List Index weights are Butchart et al. (2007)'s; the
discounted sums are closed-form geometric series.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from conftest_results import STUDY, make_results

from pva import summary
from pva.summary import costs

R = 8
YEARS = np.arange(51)
SCENARIOS = ("no action", "save alpha", "save beta", "futile")


def cost_results() -> xr.Dataset:
    mature = np.zeros((2, 4, R, YEARS.size, 1), dtype=np.int64)
    mature[0, :, :, :10, 0] = 100
    mature[1, :, :, :10, 0] = 300
    mature[0, 1, :, :, 0] = 100
    mature[1, 2, :, :, 0] = 300
    cost = np.zeros((2, 4, YEARS.size))
    cost[0, 1, :-1] = 1000.0
    cost[1, 2, :-1] = 10_000.0
    cost[0, 3, :-1] = 500.0
    study = {
        **STUDY,
        "species": [{"name": "Alpha", "stages": ["adult"]}, {"name": "Beta", "stages": ["adult"]}],
        "scenarios": [
            {"name": "no action", "actions": []},
            {"name": "save alpha", "actions": ["alpha work"]},
            {"name": "save beta", "actions": ["beta work"]},
            {"name": "futile", "actions": ["futile work"]},
        ],
        "outputs": {"currency": "EUR"},
    }
    return make_results(
        mature,
        species=("Alpha", "Beta"),
        scenarios=SCENARIOS,
        annual_cost=cost,
        generation_length=(5.0, 5.0),
        quasi_extinction_threshold=(0.0, 0.0),
        study=study,
    )


@pytest.fixture(scope="module")
def results() -> xr.Dataset:
    return cost_results()


@pytest.fixture(scope="module")
def table(results: xr.Dataset) -> xr.Dataset:
    return summary.summary_table(results)


def cell(table: xr.Dataset, var: str, **at: object) -> float:
    return float(table[var].sel(at))


def test_costs_stop_at_extinction_by_default(table: xr.Dataset, results: xr.Dataset) -> None:
    assert cell(table, "total_cost", species="Alpha", scenario="save alpha") == 50 * 1000.0
    # Alpha dies out in year 10 under "futile": years 0..9 are paid for, not 10..49
    assert cell(table, "total_cost", species="Alpha", scenario="futile") == 10 * 500.0
    assert table["total_cost"].attrs["units"] == "EUR"
    to_horizon = summary.summary_table(results, costs_stop_at_extinction=False, red_list=False)
    assert cell(to_horizon, "total_cost", species="Alpha", scenario="futile") == 50 * 500.0
    by_study = results.assign_attrs(
        study=json.dumps(
            {**json.loads(results.attrs["study"]), "outputs": {"costs_stop_at_extinction": False}}
        )
    )
    table_off = summary.summary_table(by_study, red_list=False)
    assert cell(table_off, "total_cost", species="Alpha", scenario="futile") == 50 * 500.0


def test_discounting_gives_present_values(results: xr.Dataset) -> None:
    r = 0.05
    table = summary.summary_table(results, discount_rate=r, red_list=False)

    # sum_{t=0}^{n-1} c / (1 + r)^t = c (1 - (1 + r)^-n) / (1 - 1 / (1 + r))
    def present(c: float, n: int) -> float:
        return c * (1 - (1 + r) ** -n) / (1 - 1 / (1 + r))

    assert cell(table, "total_cost", species="Alpha", scenario="futile") == pytest.approx(
        present(500.0, 10)
    )
    assert cell(table, "total_cost", species="Beta", scenario="save beta") == pytest.approx(
        present(10_000.0, 50)
    )
    assert "present value at 5% a year" in table["total_cost"].attrs["long_name"]


def test_cost_effectiveness_with_paired_intervals(table: xr.Dataset) -> None:
    # each saving scenario prevents one extinction in every replicate
    assert cell(table, "cost_per_extinction_prevented", scenario="save alpha") == 50_000.0
    assert cell(table, "cost_per_extinction_prevented", scenario="save beta") == 500_000.0
    # the same in every replicate: the bootstrap interval is the value itself
    assert cell(table, "cost_per_extinction_prevented_lower", scenario="save beta") == 500_000.0
    assert cell(table, "cost_per_extinction_prevented_upper", scenario="save beta") == 500_000.0
    # RLI: EN (3) + EX (5) -> 1 - 8/10 = 0.2; VU (2) + EX (5) -> 0.3; no action EX + EX = 0
    assert cell(table, "delta_rli", scenario="save alpha") == pytest.approx(0.2)
    assert cell(table, "cost_per_delta_rli", scenario="save alpha") == pytest.approx(250_000.0)
    assert cell(table, "cost_per_delta_rli", scenario="save beta") == pytest.approx(500_000 / 0.3)
    assert cell(table, "extinctions_prevented_per_cost", scenario="save alpha") == pytest.approx(20)
    assert table["cost_per_delta_rli"].attrs["units"] == "EUR per unit of RLI"


def test_not_estimable_when_the_effect_may_be_zero(table: xr.Dataset) -> None:
    assert np.isnan(cell(table, "cost_per_extinction_prevented", scenario="futile"))
    assert table["cost_per_extinction_prevented"].attrs["not_estimable"] == "futile"
    rows = {row[0]: row[1:] for row in summary.study_rows(table)[1]}
    assert rows["cost per extinction prevented"] == [
        "–",
        "50,000 EUR",
        "500,000 EUR",
        "not estimable",
    ]


def test_single_interventions_ranked(table: xr.Dataset) -> None:
    assert table["rank_by_delta_rli"].sel(
        scenario=["save beta", "save alpha", "futile"]
    ).values.tolist() == [1, 2, 3]
    by_cost = table["rank_by_cost_effectiveness"].sel(scenario=list(SCENARIOS)).values
    assert np.isnan(by_cost[0])
    assert np.isnan(by_cost[3])
    assert by_cost[1:3].tolist() == [1, 2]  # 20 vs 2 extinctions prevented per million EUR
    header, rows = summary.ranking_rows(table)
    assert [r[0] for r in rows] == ["save beta", "save alpha", "futile"]
    assert rows[0][-3:] == ["500,000 EUR", "2", "2"]
    assert rows[2][-1] == "not estimable"
    assert header[5] == "prevented per 1,000,000 EUR"


def test_no_ranking_is_said_not_silent(table: xr.Dataset) -> None:
    """A study whose scenarios each bundle several interventions ranks none: the table says why
    instead of leaving the ranking out without a word."""
    assert summary.ranking_note(table) == ""  # this one ranks three
    bundled = table.drop_vars(["rank_by_delta_rli", "rank_by_cost_effectiveness"])
    note = summary.ranking_note(bundled)
    assert note.startswith("Single interventions are not ranked: no scenario adds exactly one")
    assert note in summary.format_table(bundled)
    assert summary.ranking_note(bundled.drop_vars("incremental_cost")) == ""  # no costs


def test_currency_on_every_cost_and_numbers_as_people_write_them(
    results: xr.Dataset, table: xr.Dataset
) -> None:
    text = summary.format_table(table)
    assert "expected cost, years 0–49, while the species is extant" in text
    assert "500,000 EUR" in text
    assert "e+0" not in text
    doc = json.loads(summary.table_to_json(table))
    for name, variable in doc["variables"].items():
        if "cost" in name and not name.startswith("rank"):
            assert "EUR" in variable["attrs"]["units"], name
    pytest.importorskip("matplotlib")
    from pva import plots

    fig = plots.plot_cost_effectiveness(table)
    assert "[EUR]" in fig.get_supxlabel()
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() if t.get_text()]
    assert ticks
    assert not any("e" in t for t in ticks)


def test_the_bootstrap_keeps_replicates_paired() -> None:
    # the cost of replicate r is 5,000 per extinction it prevents: every paired resample gives
    # exactly 5,000, where resampling cost and effect independently would spread the ratio
    effect = np.array([1, 2, 3, 1, 2, 3, 1, 3], dtype=float)
    table = xr.Dataset(coords={"scenario": ["no action", "act"]})
    scenarios = {"scenario": ["no action", "act"]}
    per_replicate = xr.DataArray(
        np.stack([np.zeros_like(effect), 5000 * effect])[None],
        dims=("species", "scenario", "replicate"),
        coords=scenarios,
    )
    prevented = xr.DataArray(
        np.stack([np.zeros_like(effect), effect]), dims=("scenario", "replicate"), coords=scenarios
    )
    costs.add_cost_effectiveness(
        table,
        per_replicate,
        prevented=prevented,
        delta_rli=None,
        no_action="no action",
        settings=costs.CostSettings(currency="EUR"),
        confidence=0.95,
        entropy=1,
    )
    at = {"scenario": "act"}
    assert float(table["cost_per_extinction_prevented"].sel(at)) == pytest.approx(5000)
    assert float(table["cost_per_extinction_prevented_lower"].sel(at)) == pytest.approx(5000)
    assert float(table["cost_per_extinction_prevented_upper"].sel(at)) == pytest.approx(5000)


def test_bad_cost_settings() -> None:
    with pytest.raises(ValueError, match=r"discount_rate must be in \[0, 1\)"):
        costs.CostSettings(currency="EUR", discount_rate=1.5)
    with pytest.raises(TypeError, match="stop_at_extinction must be True or False"):
        costs.CostSettings(currency="EUR", stop_at_extinction=1)  # type: ignore[arg-type]
    from pva.study import Outputs

    with pytest.raises(ValueError, match="discount_rate"):
        Outputs(discount_rate=-0.1)
    assert Outputs.from_dict({"discount_rate": 0.03}).to_dict() == {"discount_rate": 0.03}


def test_the_summary_command_switches_costs(
    results: xr.Dataset,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pva import cli, io

    path = io.write_results(results, tmp_path_factory.mktemp("costs") / "costs.nc")

    def futile_cost(*options: str) -> float:
        assert cli.main(["summary", str(path), "--json", "--no-red-list", *options]) == 0
        doc = json.loads(capsys.readouterr().out)
        return doc["variables"]["total_cost"]["data"][0][SCENARIOS.index("futile")]

    assert futile_cost() == 10 * 500.0
    assert futile_cost("--costs-to-horizon") == 50 * 500.0
    assert futile_cost("--discount-rate", "0.05") == pytest.approx(
        500 * (1 - 1.05**-10) / (1 - 1 / 1.05)
    )
