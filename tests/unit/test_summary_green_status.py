"""Green Status of Species in the summary table, the study file and the report.

Hand-computed scores follow the IUCN Green Status standard v2.0 (Akçakaya et al. 2018): unit
weights absent 0, present 3, viable 6, functional 9; score = sum / (9 x units) in percent.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest_results import STUDY, known_results, make_results

from pva import summary
from pva.errors import StudyFileError
from pva.study import GreenStatus, Outputs, Study

GREEN = {
    "action": "protect",
    "potential": "protect",
    "short_term": 10,
    "long_term": 40,
    "viable_threshold": 50,
    "functional_fraction": 0.5,
    "functional_threshold": 100,
}
REPO = Path(__file__).resolve().parents[2]


def _results_with_green(green: dict) -> xr.Dataset:
    study = copy.deepcopy(STUDY)
    # Alpha's two populations have K 200; Beta has none (unlimited)
    study["species"][0]["populations"] = [
        {"name": "east", "carrying_capacity": 200.0},
        {"name": "west", "carrying_capacity": 200.0},
    ]
    study["outputs"] = {"green_status": green}
    base = known_results()
    return make_results(
        base["mature_abundance"].values,
        species=("Alpha", "Beta"),
        scenarios=("no action", "protect"),
        population_exists=base["population_exists"].values,
        study=study,
    )


@pytest.fixture(scope="module")
def table() -> xr.Dataset:
    return summary.summary_table(_results_with_green(GREEN), red_list=False)


def test_green_scores_by_hand(table: xr.Dataset) -> None:
    g = table["green_score"]
    assert list(table["green_year"].values) == [10, 40]
    # Alpha: two units of 100+ mature with K 200: functional (9 + 9) under protect, for ever;
    # no action has declined to 0 by year 10: both absent
    np.testing.assert_allclose(g.sel(species="Alpha", scenario="protect"), [100, 100])
    np.testing.assert_allclose(g.sel(species="Alpha", scenario="no action"), [0, 0])
    # Beta: one unit (the padded second population is not a unit) of 50 mature and no K: viable 6/9
    np.testing.assert_allclose(g.sel(species="Beta", scenario="protect"), [200 / 3, 200 / 3])
    # no action: half the replicates fall to 25 by year 10 (present, 3/9) and to 0 by year 20
    np.testing.assert_allclose(
        g.sel(species="Beta", scenario="no action"), [(100 / 3 + 200 / 3) / 2, 100 / 3]
    )
    # MCSE of a 50/50 mixture of 0 and 200/3 over 8 replicates: sd (ddof 1) / sqrt(8)
    sd = np.std([0] * 4 + [200 / 3] * 4, ddof=1)
    assert float(
        table["green_score_mcse"].sel(species="Beta", scenario="no action", green_year=40)
    ) == pytest.approx(sd / np.sqrt(8))


def test_conservation_metrics_by_hand(table: xr.Dataset) -> None:
    np.testing.assert_allclose(table["species_recovery_score"], [100, 200 / 3])
    # Dependence = current - no action in year 10; Gain = protect in year 10 - current
    np.testing.assert_allclose(table["conservation_dependence"], [100, (100 / 3 + 0) / 2])
    np.testing.assert_allclose(table["conservation_gain"], [0, 0], atol=1e-12)
    # Recovery Potential = protect in year 40 - current
    np.testing.assert_allclose(table["recovery_potential"], [0, 0], atol=1e-12)
    assert "conservation_legacy" not in table
    low, high = table["conservation_dependence_lower"][1], table["conservation_dependence_upper"][1]
    assert float(low) < (100 / 3) / 2 < float(high)


def test_rows_put_each_metric_under_its_scenario(table: xr.Dataset) -> None:
    _, rows = summary.species_rows(table, "Beta")
    by_label = {r[0]: r[1:] for r in rows}
    assert by_label["Conservation Gain (points)"][0] == "–"
    assert by_label["Conservation Gain (points)"][1].startswith("+0")
    assert by_label["Species Recovery Score now (%)"][0].startswith("67")
    header, rows = summary.green_status_rows(table)
    assert header[1] == "Species Recovery Score now (%)"
    assert [r[0] for r in rows] == ["Alpha", "Beta"]


def test_without_settings_no_green_status_and_short_term_beyond_the_run() -> None:
    assert "green_score" not in summary.summary_table(known_results(), red_list=False)
    late = summary.summary_table(_results_with_green({**GREEN, "short_term": 60}), red_list=False)
    assert "conservation_dependence" not in late
    assert "conservation_gain" not in late
    assert "short term" in late.attrs["green_status_notes"]
    # the long term is clipped to the final year
    assert list(late["green_year"].values) == [40]


# ---- the study file -----------------------------------------------------------------------------


def test_green_status_settings_validate_and_round_trip() -> None:
    g = GreenStatus.from_dict({**GREEN, "species": {"Beta": {"viable_threshold": 10}}})
    assert g.thresholds("Beta")["viable_threshold"] == 10
    assert g.thresholds("Alpha")["viable_threshold"] == 50
    assert GreenStatus.from_dict(g.to_dict()) == g
    with pytest.raises(StudyFileError, match="'viable'"):
        GreenStatus.from_dict({"viable": 3})
    with pytest.raises(StudyFileError, match=r"species\['Beta'\].*'oops'"):
        GreenStatus.from_dict({"species": {"Beta": {"oops": 1}}})
    with pytest.raises(ValueError, match=r"functional_fraction.*1\.5"):
        GreenStatus(functional_fraction=1.5)
    with pytest.raises(ValueError, match=r"viable_threshold.*-1"):
        GreenStatus(viable_threshold=-1)


def _demo() -> Study:
    from pva.io import read_study

    return read_study(REPO / "scenarios" / "demo.toml")


def test_study_checks_green_status_names_scenarios_and_species() -> None:
    demo = _demo()
    with pytest.raises(ValueError, match=r"green_status\.action.*'protect'"):
        dataclasses.replace(demo, outputs=Outputs(green_status=GreenStatus(action="protect")))
    with pytest.raises(ValueError, match=r"unknown species \['Nope'\]"):
        dataclasses.replace(
            demo,
            outputs=Outputs(green_status=GreenStatus(species={"Nope": {"viable_threshold": 5}})),  # type: ignore[arg-type]
        )


def test_population_count_mismatch_is_an_error() -> None:
    study = copy.deepcopy(STUDY)
    study["species"][0]["populations"] = [{"name": "only", "carrying_capacity": 200.0}]
    study["outputs"] = {"green_status": GREEN}
    base = known_results()
    results = make_results(
        base["mature_abundance"].values,
        species=("Alpha", "Beta"),
        scenarios=("no action", "protect"),
        population_exists=base["population_exists"].values,
        study=study,
    )
    with pytest.raises(ValueError, match=r"'Alpha'.*1 populations.*hold 2"):
        summary.summary_table(results, red_list=False)
