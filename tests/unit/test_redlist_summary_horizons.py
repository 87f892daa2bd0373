"""The Red List part of the summary at every horizon (issue 9, item 7): the category distribution,
the most likely category and the criteria that set it, what was not evaluated and why, and the Red
List Index and ΔRLI with their intervals, checked against hand computations on constructed results.

Constructed results (years 0..30, 4 replicates, generation length 2 years: A window 10 years):

* ``Alpha``: 100,000 mature individuals for ever under both scenarios: LC by every criterion that
  can be evaluated; A2 needs 10 years of past, and A3, A4 and E at later years need projections.
* ``Beta``: 40 mature individuals for ever under "no action" (CR D: fewer than 50); under "action"
  replicates 0-1 hold 40 (CR D) and replicates 2-3 hold 600 (VU D1: fewer than 1,000).

Red List Index (Butchart et al. 2007, weights LC 0, VU 2, CR 4, over 2 species): "no action" 1 -
4/10 = 0.6 in every replicate; "action" 0.6, 0.6, 0.8, 0.8 (mean 0.7); ΔRLI 0, 0, 0.2, 0.2 (mean 0.1,
half of the replicates improved).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats
from conftest_results import make_results

from pva import redlist, summary
from pva.summary import formatting

HORIZONS = [0, 5, 20, 30]


@pytest.fixture(scope="module")
def results():
    mature = np.zeros((2, 2, 4, 31, 1), dtype=np.int64)
    mature[0] = 100_000
    mature[1] = 40
    mature[1, 1, 2:] = 600
    return make_results(
        mature,
        species=("Alpha", "Beta"),
        scenarios=("no action", "action"),
        generation_length=(2.0, 2.0),
        quasi_extinction_threshold=(0.0, 0.0),
    )


@pytest.fixture(scope="module")
def assessment(results):
    return redlist.assess(results)


@pytest.fixture(scope="module")
def by_horizon(assessment):
    return summary.red_list_by_horizon(assessment, HORIZONS, no_action="no action")


def test_category_distribution_and_most_likely_category(by_horizon) -> None:
    at20 = by_horizon.sel(horizon=20)
    share = at20["category_share_by_horizon"]
    assert float(share.sel(species="Alpha", scenario="action", category="LC")) == 1.0
    assert float(share.sel(species="Beta", scenario="action", category="CR")) == 0.5
    assert float(share.sel(species="Beta", scenario="action", category="VU")) == 0.5
    likely = at20["most_likely_category"]
    assert likely.sel(species="Alpha").values.tolist() == ["LC", "LC"]
    # CR in all replicates under no action; a tie CR 50% / VU 50% goes to the more threatened
    assert likely.sel(species="Beta").values.tolist() == ["CR", "CR"]
    assert at20["most_likely_share"].sel(species="Beta").values.tolist() == [1.0, 0.5]
    # the criteria that set it, IUCN notation without the category; none for LC
    assert at20["most_likely_criteria"].sel(species="Beta").values.tolist() == ["D", "D"]
    assert at20["most_likely_criteria"].sel(species="Alpha").values.tolist() == ["", ""]


def test_what_was_not_evaluated_and_why(by_horizon) -> None:
    why = by_horizon["not_evaluated"].sel(species="Alpha", scenario="no action")
    # year 0: the replicates are the projection from the common start (A3 reads their mean), but
    # A2 has no past yet, A4 no past part, and E's 100-year window runs past the 30 simulated years
    assert why.sel(horizon=0).item() == "A2, A4, E not evaluated: window not covered at year 0"
    assert why.sel(horizon=5).item() == (
        "A2 not evaluated: window not covered at year 5; "
        "A3, A4, E not evaluated: no projections at year 5"
    )
    assert why.sel(horizon=20).item() == "A3, A4, E not evaluated: no projections at year 20"
    # replicates that differ at year 0 are not a projection from one state
    action0 = by_horizon["not_evaluated"].sel(species="Beta", scenario="action", horizon=0)
    assert "A3, A4, E not evaluated: no projections at year 0" in action0.item()
    # B, C2a and D2 need inputs these results do not give: said once in the notes, not per year
    assert "B1" not in " ".join(by_horizon["not_evaluated"].values.ravel().tolist())


def test_lower_bounds(by_horizon) -> None:
    at20 = by_horizon.sel(horizon=20)
    # LC with A3, A4 and E not evaluated: could be higher
    assert at20["lower_bound_share"].sel(species="Alpha").values.tolist() == [1.0, 1.0]
    assert at20["most_likely_lower_bound"].sel(species="Alpha").values.tolist() == [True, True]
    # CR cannot be raised by a criterion (EX is no individuals); the VU half can
    assert at20["lower_bound_share"].sel(species="Beta").values.tolist() == [0.0, 0.5]
    assert at20["most_likely_lower_bound"].sel(species="Beta").values.tolist() == [False, False]


def test_rli_and_delta_rli_at_every_horizon(by_horizon) -> None:
    z = float(scipy.stats.norm.isf(0.025))
    for h in (5, 20, 30):
        at = by_horizon.sel(horizon=h)
        assert float(at["rli_by_horizon"].sel(scenario="no action")) == pytest.approx(0.6)
        assert float(at["rli_by_horizon"].sel(scenario="action")) == pytest.approx(0.7)
        assert float(at["delta_rli_by_horizon"].sel(scenario="action")) == pytest.approx(0.1)
        assert float(at["delta_rli_by_horizon"].sel(scenario="no action")) == 0.0
        # ΔRLI per replicate 0, 0, 0.2, 0.2: SD 0.2 / sqrt(3), MC SE SD / sqrt(4)
        se = 0.2 / np.sqrt(3) / 2
        assert float(at["delta_rli_by_horizon_mcse"].sel(scenario="action")) == pytest.approx(se)
        lower = float(at["delta_rli_by_horizon_lower"].sel(scenario="action"))
        assert lower == pytest.approx(0.1 - z * se)
        assert float(at["p_rli_improved_by_horizon"].sel(scenario="action")) == 0.5
        assert float(at["rli_by_horizon_spread_upper"].sel(scenario="action")) == pytest.approx(0.8)


def test_summary_table_carries_them_at_its_horizons(results) -> None:
    table = summary.summary_table(results, horizons=[5, 20, "final"])
    assert table["horizon"].values.tolist() == [5, 20, 30]
    assert table["most_likely_category"].dims == ("species", "scenario", "horizon")
    assert table["rli_by_horizon"].dims == ("scenario", "horizon")
    # the final-year variables of earlier versions are unchanged
    np.testing.assert_allclose(table["rli"].values, table["rli_by_horizon"].sel(horizon=30).values)
    doc = json.loads(summary.table_to_json(table))
    assert doc["variables"]["not_evaluated"]["data"][0][0][1] == (
        "A3, A4, E not evaluated: no projections at year 20"
    )
    assert doc["variables"]["most_likely_category"]["data"][1][1] == ["CR", "CR", "CR"]


def test_text_says_what_was_not_evaluated(results) -> None:
    table = summary.summary_table(results, horizons=[5, 20, "final"])
    text = summary.format_table(table)
    assert "Red List category in year 20" in text
    assert "≥ LC" in text  # Alpha's LC is a lower bound
    assert "CR D" in text
    assert "A3, A4, E not evaluated: no projections at year 20" in text
    assert "≥ a lower bound" in text
    # the index over a lower-bound category is an upper bound
    header, rows = summary.rli_rows(table)
    assert header == ["", "no action", "action"]
    rli20 = next(r for r in rows if r[0] == "Red List Index in year 20")
    assert rli20[1].startswith("≤ 0.600")
    delta20 = next(r for r in rows if r[0].startswith("ΔRLI") and r[0].endswith("year 20"))
    assert delta20[1] == "–"
    assert delta20[2].startswith("+0.100")
    markdown = summary.format_table(table, style="markdown")
    assert "- A3, A4, E not evaluated: no projections at year 20" in markdown
    header, rows = summary.red_list_rows(table, "Beta")
    assert rows[2:4] == [
        ["Red List category in year 20", "CR 100%", "VU 50%, CR 50%"],
        ["  most likely, criteria", "CR D", "CR D"],
    ]


def test_tables_of_earlier_versions_still_format(results) -> None:
    table = summary.summary_table(results, horizons=[20, "final"])
    new = set(summary.red_list_by_horizon(redlist.assess(results), [20, 30], no_action="no action"))
    old = table.drop_vars(sorted(new))
    assert "rli_by_horizon" not in old
    _, rows = formatting.species_rows(old, "Beta")
    assert ["Red List category in year 30", "CR 100%", "VU 50%, CR 50%"] in rows
    _, rows = formatting.study_rows(old)
    assert rows[0][0] == "Red List Index in year 30"
    assert formatting.red_list_notes(old, "Beta") == []


@pytest.mark.parametrize(("share", "text"), [(0.004, "<1%"), (0.996, ">99%"), (0.5, "50%")])
def test_shares_never_round_to_a_certainty(share: float, text: str) -> None:
    assert formatting._percent(share) == text
