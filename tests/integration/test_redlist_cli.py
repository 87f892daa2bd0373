"""The Red List numbers end to end through the command line: ``pva run`` then ``pva summary --json``
(issue 9).

* Two species, one of 100,000 individuals held at K (Least Concern by every criterion) and one of 16
  mature individuals under a ceiling K = 20 (CR under D: fewer than 50 mature individuals, or EX):
  in every replicate the final year is {LC, CR} or {LC, EX}, so the Red List Index is 0.6 or 0.5
  (Butchart et al. 2007: 1 - (0 + 4) / 10, 1 - (0 + 5) / 10) and its mean lies in [0.5, 0.6]. The
  code before issue 9 printed 0.199 (the healthy species "not evaluable", the index averaged over
  the tiny one alone).
* With ``[outputs.red_list_e]``, A3, A4 and E are evaluated at the listed years from the nested
  projections; the summary says where they were not ("no projections at year ...").
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pva import cli

TWO_SPECIES = """
[study]
name = "two species"
years = 40
replicates = 40
seed = 2009

[[species]]
name = "healthy"
stages = ["adult"]
U = [[0.8]]
F = [[0.3]]
initial = [100000]
carrying_capacity = 100000.0
density_dependence = {{ kind = "ricker" }}

[[species]]
name = "tiny"
stages = ["adult"]
U = [[0.75]]
F = [[0.25]]
initial = [16]
carrying_capacity = 20.0

[outputs]
horizons = [10, 20]
{extra}
"""


def _run_and_summarise(tmp_path, capsys, extra: str = "") -> dict:
    study = tmp_path / "two.toml"
    study.write_text(TWO_SPECIES.format(extra=extra), encoding="utf-8")
    out = tmp_path / "two.nc"
    assert cli.main(["run", str(study), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["summary", str(out), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _variable(doc: dict, name: str) -> np.ndarray:
    return np.array(doc["variables"][name]["data"], dtype=object)


def test_two_species_rli_through_pva_run_and_summary_json(tmp_path, capsys) -> None:
    doc = _run_and_summarise(tmp_path, capsys)
    assert doc["coords"]["horizon"] == [10, 20, 40]
    rli = doc["variables"]["rli"]["data"][0]
    assert 0.5 <= rli <= 0.6
    by_horizon = np.array(doc["variables"]["rli_by_horizon"]["data"], dtype=float)  # (scenario, h)
    assert by_horizon[0, -1] == pytest.approx(rli)
    assert np.all((by_horizon >= 0.5) & (by_horizon <= 0.6))
    likely = _variable(doc, "most_likely_category")  # (species, scenario, horizon)
    assert likely[0, 0].tolist() == ["LC", "LC", "LC"]
    assert likely[1, 0].tolist()[:2] == ["CR", "CR"]
    criteria = _variable(doc, "most_likely_criteria")
    assert criteria[1, 0, 0] == "D"
    # LC with A3, A4 and E not evaluated after year 0 (no nested projections): said so
    why = _variable(doc, "not_evaluated")
    assert why[0, 0, 1] == "A3, A4, E not evaluated: no projections at year 20"
    assert _variable(doc, "most_likely_lower_bound")[0, 0].tolist() == [True, True, True]


def test_nested_projections_evaluate_a3_a4_and_e_at_the_listed_years(tmp_path, capsys) -> None:
    extra = "[outputs.red_list_e]\nyears = [10]\ninner_replicates = 20\n"
    doc = _run_and_summarise(tmp_path, capsys, extra)
    why = _variable(doc, "not_evaluated")  # (species, scenario, horizon): years 10, 20, 40
    # at year 10 A3 and E are read from the projections; only windows reaching before year 0
    # (A2 and the past part of A4: 3 generations of the healthy species are over 10 years) are not
    assert why[0, 0, 0] == "A2, A4 not evaluated: window not covered at year 10"
    assert why[0, 0, 1] == "A3, A4, E not evaluated: no projections at year 20"
    assert _variable(doc, "most_likely_category")[0, 0].tolist() == ["LC", "LC", "LC"]
    rli = np.array(doc["variables"]["rli_by_horizon"]["data"], dtype=float)
    assert np.all((rli >= 0.5) & (rli <= 0.6))
