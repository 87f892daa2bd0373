"""The answer per species (issue 15, item 5): the best scenario, its risk reduction against no action
and its margin over the runner-up, paired over replicates with the normal interval of the mean.

Synthetic results (conftest_results): one species with a threshold of 10 individuals (total
abundance, twice the mature count); under "no action" every replicate falls to 0, under "fence"
replicates 0-1 do, under "feed" replicates 0-3 do (R = 8). The differences of the per-replicate
event indicators are known by hand, so are their means and standard deviations.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from conftest_results import STUDY, make_results

from pva import summary

R = 8
Z = float(scipy.stats.norm.isf(0.025))


def test_best_action_margin_and_interval() -> None:
    years = np.arange(21)
    mature = np.full((1, 3, R, years.size, 1), 50, dtype=np.int64)
    mature[0, 0, :, 10:, 0] = 0
    mature[0, 1, :2, 10:, 0] = 0
    mature[0, 2, :4, 10:, 0] = 0
    ds = make_results(
        mature,
        species=("Toad",),
        scenarios=("no action", "fence", "feed"),
        quasi_extinction_threshold=(10.0,),
        study={**STUDY, "species": [{"name": "Toad", "stages": ["adult"]}]},
    )
    table = summary.summary_table(ds, red_list=False)
    assert str(table["best_scenario"].sel(species="Toad").values) == "fence"
    assert str(table["runner_up"].sel(species="Toad").values) == "feed"
    # reduction against no action: 1 - 2/8, the indicator differences are 6 ones and 2 zeros
    d = np.array([0, 0, 1, 1, 1, 1, 1, 1], dtype=float)
    se = d.std(ddof=1) / np.sqrt(R)
    reduction = table.sel(species="Toad")
    assert float(reduction["risk_reduction"]) == pytest.approx(0.75)
    assert float(reduction["risk_reduction_lower"]) == pytest.approx(0.75 - Z * se)
    # margin over the runner-up: replicates 2 and 3 differ
    m = np.array([0, 0, 1, 1, 0, 0, 0, 0], dtype=float)
    assert float(reduction["margin"]) == pytest.approx(0.25)
    assert float(reduction["margin_upper"]) == pytest.approx(0.25 + Z * m.std(ddof=1) / np.sqrt(R))
    text = summary.best_action_text(table, "Toad")
    assert text.startswith("best: fence — P(≤ 10 individuals by year 20) = 0.25 (")
    assert "; risk 0.75 (" in text
    assert ") below 'no action' (paired)" in text
    # 2 of 8 replicates differ: the interval of the margin includes 0
    assert "risk no different from the runner-up 'feed' (0.25; -0.07 to 0.57, paired)" in text


def test_indistinguishable_scenarios_are_said_to_be() -> None:
    years = np.arange(11)
    mature = np.full((1, 3, R, years.size, 1), 50, dtype=np.int64)
    mature[0, 0, :, 5:, 0] = 0
    ds = make_results(mature, species=("Toad",), scenarios=("no action", "a", "b"))
    table = summary.summary_table(ds, red_list=False)
    assert float(table["margin"].sel(species="Toad")) == 0.0
    text = summary.best_action_text(table, "Toad")
    assert "risk no different from the runner-up 'b' (0.00; 0.00 to 0.00, paired)" in text


def test_a_risk_every_scenario_meets_hands_the_choice_to_absolute_extinction() -> None:
    """Every future falls to the threshold (10 individuals) under every scenario, so the risk is 1
    everywhere and cannot rank them; absolute extinction can: no action loses every replicate,
    "fence" replicates 0-1, "feed" replicates 0-3. The answer says so and gives the paired
    differences in absolute extinction (the same indicator differences as above)."""
    years = np.arange(21)
    mature = np.full((1, 3, R, years.size, 1), 50, dtype=np.int64)
    mature[0, :, :, 10:, 0] = 3  # 6 individuals in total: at the threshold, not extinct
    mature[0, 0, :, 15:, 0] = 0
    mature[0, 1, :2, 15:, 0] = 0
    mature[0, 2, :4, 15:, 0] = 0
    ds = make_results(
        mature,
        species=("Toad",),
        scenarios=("no action", "fence", "feed"),
        quasi_extinction_threshold=(10.0,),
        study={**STUDY, "species": [{"name": "Toad", "stages": ["adult"]}]},
    )
    table = summary.summary_table(ds, red_list=False)
    toad = table.sel(species="Toad")
    assert np.all(toad["p_quasi_extinction"].sel(horizon=20).values == 1.0)
    assert str(toad["best_scenario"].values) == "fence"
    assert str(toad["best_ranked_by"].values) == "absolute extinction"
    assert float(toad["risk_reduction"]) == pytest.approx(0.75)
    assert float(toad["margin"]) == pytest.approx(0.25)
    text = summary.best_action_text(table, "Toad")
    assert (
        "; every scenario has the same risk (1), so they are judged by absolute extinction;" in text
    )
    assert "; absolute extinction 0.75 (" in text
    assert "absolute extinction no different from the runner-up 'feed' (0.25;" in text


def test_the_risk_judges_when_it_can() -> None:
    years = np.arange(11)
    mature = np.full((1, 2, R, years.size, 1), 50, dtype=np.int64)
    mature[0, 0, :, 5:, 0] = 0
    table = summary.summary_table(
        make_results(mature, species=("Toad",), scenarios=("no action", "a")), red_list=False
    )
    assert str(table["best_ranked_by"].sel(species="Toad").values) == "risk"
    assert "judged by" not in summary.best_action_text(table, "Toad")
