"""Green Status of Species end to end: the demo study run, summarised and reported (IUCN Green
Status standard v2.0, Akçakaya et al. 2018; unit weights absent 0, present 3, viable 6, functional 9)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pva import summary
from pva.io import read_study
from pva.report import render_report
from pva.runner import run_study
from pva.study import GreenStatus, Outputs

ROOT = Path(__file__).resolve().parents[2]


def test_demo_end_to_end() -> None:
    green = GreenStatus(action="reroute trails", potential="outplanting", viable_threshold=50)
    study = dataclasses.replace(
        read_study(ROOT / "scenarios" / "demo.toml"),
        years=12,
        replicates=16,
        outputs=Outputs(green_status=green),
    )
    results = run_study(study, backend="sequential")
    table = summary.summary_table(results, red_list=False)
    # year 0: 30 + 16 + 25 + 5 = 76 mature plants in one unit with K 200: viable (>= 50) but not
    # functional (< 0.5 x 200), so 6/9 in every replicate
    assert float(table["species_recovery_score"][0]) == pytest.approx(200 / 3)
    assert float(table["species_recovery_score_spread_upper"][0]) == pytest.approx(200 / 3)
    # Gain and Potential are the scenario scores minus the current score (paired replicates)
    sp = table["species"].values[0]
    gain = table["green_score"].sel(species=sp, scenario="reroute trails", green_year=10)
    assert float(table["conservation_gain"][0]) == pytest.approx(float(gain) - 200 / 3)
    potential = table["green_score"].sel(species=sp, scenario="outplanting", green_year=12)
    assert float(table["recovery_potential"][0]) == pytest.approx(float(potential) - 200 / 3)
    page = render_report(results, red_list=False)
    assert 'id="green-status"' in page
    assert "Conservation Gain" in page
