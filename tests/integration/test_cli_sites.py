"""`pva sites`: a study with [[sites]] run from its file (or read from its results), the site
indicators, each site action's extinctions prevented, the budgeted choice and the budget curve
(issue 16, parts 2-4).

Checked against the library's own numbers, computed another way: the gain of one site action alone
is the summary's ``extinctions_prevented`` of the scenario that takes it (the species elsewhere are
bit-identical under it, common random numbers); the choice equals brute force over the options; the
site shares of the RLI's shortfall sum to ``RLI - 1`` (every population is at a site).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pva import cli, io, portfolio, redlist, results, summary
from pva.summary import aze

ISLANDS = """
[study]
name = "islands"
years = 25
replicates = 300
seed = 41

[[species]]
name = "lizard"
stages = ["adult"]
U = [[0.8]]
F = [[0.25]]
generation_length = 3.0
[[species.populations]]
name = "Isla"
initial = [30]
carrying_capacity = 60.0

[[species]]
name = "snail"
stages = ["adult"]
U = [[0.8]]
F = [[0.25]]
generation_length = 2.0
[[species.populations]]
name = "Isla"
initial = [20]
carrying_capacity = 60.0
[[species.populations]]
name = "Cay"
initial = [20]
carrying_capacity = 60.0

[[species]]
name = "rail"
stages = ["adult"]
U = [[0.8]]
F = [[0.25]]
generation_length = 4.0
[[species.populations]]
name = "Cay"
initial = [30]
carrying_capacity = 60.0

[[sites]]
name = "Isla"
aze = true
area = 2.5

[[sites]]
name = "Cay"

[[threats]]
type = "InvasivePredator"
name = "rats"
survival = 0.8
site = "Isla"

[[threats]]
type = "InvasivePredator"
name = "cats"
survival = 0.85
site = "Cay"

[[interventions]]
type = "PredatorControl"
name = "eradicate rats"
threat = "rats"
annual_cost = 1000.0
site = "Isla"

[[interventions]]
type = "PredatorControl"
name = "eradicate cats"
threat = "cats"
annual_cost = 400.0
site = "Cay"

[[scenarios]]
name = "no action"

[[scenarios]]
name = "rats"
actions = ["eradicate rats"]

[[scenarios]]
name = "cats"
actions = ["eradicate cats"]

[[scenarios]]
name = "both"
actions = ["eradicate rats", "eradicate cats"]

[outputs]
currency = "USD"
"""


@pytest.fixture(scope="module")
def islands(tmp_path_factory):
    folder = tmp_path_factory.mktemp("islands")
    study = folder / "islands.toml"
    study.write_text(ISLANDS, encoding="utf-8")
    out = folder / "islands.nc"
    assert cli.main(["sites", str(study), "--budget", "12000", "--out", str(out), "-q"]) == 0
    return study, out, io.open_results(out)


def test_sites_json_agrees_with_the_summary_and_brute_force(islands, capsys):
    _, out, ds = islands
    capsys.readouterr()
    assert cli.main(["sites", str(out), "--budget", "12000", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["currency"] == "USD"
    assert doc["horizon"] == 25
    costs = {o["name"]: o["cost"] for o in doc["options"]}
    assert costs == {"eradicate rats": 25_000.0, "eradicate cats": 10_000.0}  # annual cost x 25
    table = summary.summary_table(ds)
    prevented = table["extinctions_prevented"]
    singles = {tuple(c["options"]): c for c in doc["singles"]}
    for action, scenario in (("eradicate rats", "rats"), ("eradicate cats", "cats")):
        single = singles[(action,)]
        assert single["expected"] == pytest.approx(float(prevented.sel(scenario=scenario)))
    # within 12,000 only the cats' eradication fits
    assert doc["choice"]["options"] == ["eradicate cats"]
    problem = aze.site_portfolio(ds).portfolio
    for budget in (0.0, 10_000.0, 25_000.0, 35_000.0):
        _, value = portfolio.brute_force(problem, budget)
        chosen = aze.site_choice(ds, budget).choice
        assert chosen.expected == pytest.approx(value)
    curve = doc["curve"]
    assert [c["budget"] for c in curve] == [0.0, 10_000.0, 25_000.0, 35_000.0]
    assert curve[-1]["options"] == ["eradicate rats", "eradicate cats"]
    assert curve[-1]["expected"] == pytest.approx(float(prevented.sel(scenario="both")))


def test_site_indicators_count_trigger_species_and_share_the_rli(islands):
    _, _, ds = islands
    assessment = redlist.assess(ds)
    ind = aze.site_indicators(ds, assessment=assessment)
    total = ds[results.TOTAL]
    # lizard and snail live at Isla (population 0 of each)
    there = [
        (total.sel(species=sp).isel(population=0) > 0).astype(int) for sp in ("lizard", "snail")
    ]
    expected = (there[0] + there[1]).mean("replicate")
    np.testing.assert_allclose(
        ind[aze.TRIGGER_PRESENT].sel(study_site="Isla").transpose(*expected.dims), expected
    )
    threatened = assessment[results.CATEGORY].isin([redlist.VU, redlist.EN, redlist.CR])
    # snail's population 1 and rail's population 0 are at Cay
    at_cay = [
        threatened.sel(species=sp) & (total.sel(species=sp).isel(population=j) > 0)
        for sp, j in (("snail", 1), ("rail", 0))
    ]
    expected = (at_cay[0].astype(int) + at_cay[1].astype(int)).mean("replicate")
    np.testing.assert_allclose(
        ind[aze.TRIGGER_THREATENED].sel(study_site="Cay").transpose(*expected.dims), expected
    )
    # every population is at a site: the sites' shares sum to RLI - 1 (where the RLI is defined)
    rli = assessment[results.RLI]
    ok = bool(rli.notnull().all())
    assert ok
    summed = ind[aze.RLI_CONTRIBUTION].sum("study_site")
    np.testing.assert_allclose(
        summed.transpose(*rli.mean("replicate").dims), rli.mean("replicate") - 1
    )
    assert bool(ind["aze"].sel(study_site="Isla"))


def test_the_summary_carries_the_site_indicators(islands):
    _, _, ds = islands
    table = summary.summary_table(ds, horizons=[10, 25])
    assert table[aze.TRIGGER_PRESENT].dims == ("study_site", "scenario", "horizon")
    assert table[aze.RLI_CONTRIBUTION + "_lower"].sizes["horizon"] == 2
    doc = json.loads(summary.table_to_json(table))
    assert aze.TRIGGER_PRESENT in json.dumps(doc)
    text = summary.format_table(table)
    assert "Sites shared by species" in text
    assert "Isla (AZE): trigger species present, year 25" in text


def test_sites_table_prints_the_choice_and_the_curve(islands, capsys):
    _, out, _ = islands
    capsys.readouterr()
    assert cli.main(["sites", str(out), "--budget", "40000", "--cost", "eradicate cats=1"]) == 0
    text = capsys.readouterr().out
    assert "Isla (AZE)" in text
    assert "fund eradicate rats, eradicate cats" in text
    assert "extinctions prevented against budget" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cost", "eradicate cats"], "--cost must be ACTION=NUMBER"),
        (["--cost", "fence=3"], "costs name options ['fence']"),
        (["--horizon", "99"], "horizon 99 is not a simulated year"),
        (["--budget", "-1"], "budget must be >= 0"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(islands, capsys, args, message):
    _, out, _ = islands
    capsys.readouterr()
    argv = ["sites", str(out), *args]
    if "--budget" not in args:
        argv += ["--budget", "100"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_a_study_without_sites_is_refused(tmp_path, capsys):
    text = ISLANDS.split("[[sites]]")[0].replace('name = "Isla"', 'name = "main"')
    path = tmp_path / "plain.toml"
    path.write_text(text + '\n[[scenarios]]\nname = "no action"\n', encoding="utf-8")
    assert cli.main(["sites", str(path), "--budget", "1"]) == 2
    assert "lists no [[sites]]" in capsys.readouterr().err


def test_delta_rli_objective_agrees_with_the_summary(islands, capsys):
    # ΔRLI is additive over species (Butchart et al. 2007): the portfolio's value of a scenario's
    # set of site actions is the summary's ΔRLI of that scenario in the final year
    _, out, ds = islands
    table = summary.summary_table(ds)
    problem = aze.site_portfolio(ds, objective="delta_rli").portfolio
    assert not aze.site_portfolio(ds, objective="delta_rli").notes  # every category known
    for scenario, chosen in (
        ("rats", {"eradicate rats"}),
        ("cats", {"eradicate cats"}),
        ("both", {"eradicate rats", "eradicate cats"}),
    ):
        assert problem.value(chosen) == pytest.approx(
            float(table[results.DELTA_RLI].sel(scenario=scenario))
        )
    capsys.readouterr()
    assert (
        cli.main(["sites", str(out), "--budget", "1e6", "--objective", "delta_rli", "--json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["objective"] == "delta_rli"
    assert doc["choice"]["options"] == ["eradicate rats", "eradicate cats"]
