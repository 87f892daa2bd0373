"""The real portfolio of pva.success from the shipped COMPADRE/COMADRE records: the quality flags
against the checks shipped in each record, the selection, the written rules, the interventions,
and the generated study file scenarios/success_portfolio.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from pva import datasets, io
from pva.scenario import ConflictMitigation, Disease, HabitatLoss, Harvest
from pva.success import portfolio as pf

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def entries() -> tuple[pf.PortfolioSpecies, ...]:
    return pf.portfolio()


def test_the_portfolio_holds_every_record_passing_the_flags(entries) -> None:
    """47 species: 25 plants, 22 animals; each passes every flag; one record per species."""
    assert len(entries) == 47
    assert sum(e.kingdom == "plant" for e in entries) == 25
    assert len({e.name for e in entries}) == len(entries)
    for e in entries:
        assert all(pf.quality_flags(datasets.load_compadre(e.record_id)).values())


def test_flags_agree_with_the_checks_shipped_in_each_record() -> None:
    """The flags are computed here from the matrices; the records' ``qc`` blocks were computed
    independently when the data were exported (pva/data/README.md): where they test the same
    thing they must agree."""
    same = {
        "survival_at_most_1": "U_colsums_le1",
        "irreducible": "A_irreducible",
        "parts_sum_to_A": "A_eq_U_F_C",
    }
    for record_id in datasets.compadre_ids():
        record = datasets.load_compadre(record_id)
        flags, qc = pf.quality_flags(record), record.metadata["qc"]
        assert flags["complete"] == (not any(qc[k] for k in ("na_A", "na_U", "na_F", "na_C")))
        if flags["complete"]:
            for ours, theirs in same.items():
                assert flags[ours] == qc[theirs], (record_id, ours)
            assert flags["reproduces"] == (not qc["F_and_C_all_zero"])
        strict = all(flags.values()) and record.metadata["MatrixComposite"] == "Mean"
        # the export's "strict" set lacks only the mortality check
        assert strict == (qc["passes_strict"] and flags["mortal"]), record_id


def test_one_record_per_species_mean_before_pooled_then_lowest_row() -> None:
    chosen = {r.metadata["SpeciesAccepted"]: r.name for r in pf.portfolio_records()}
    # Carduus nutans and Saxifraga tridactylites have two passing Mean matrices of equal length
    assert chosen["Carduus nutans"] == "compadre_Nov_22_2017_row1486"
    assert chosen["Saxifraga tridactylites"] == "compadre_Nov_22_2017_row376"


def test_rules_give_size_capacity_and_threats(entries) -> None:
    for e in entries:
        s, t = e.species.species, e.traits
        expected = min(max(round(5000 / t.generation_length), 50), 2500)
        assert e.initial_mature == pytest.approx(expected, abs=1)  # largest-remainder rounding
        assert s.carrying_capacity == 2 * pf._initial_mature(t)
        kinds = {type(x) for x in e.threats}
        assert HabitatLoss in kinds
        assert (Disease in kinds) == (e.kingdom == "animal")
        harvest = e.threat(Harvest)
        assert (harvest is not None) == (t.generation_length >= 5)
        if harvest is not None:
            share = min(max(0.5 * (1 - t.adult_survival), 0.01), 0.2)
            assert harvest.proportion == pytest.approx(share, abs=1e-4)
            assert set(harvest.stages) == set(s.mature_stages)


def test_interventions_follow_the_design_rules(entries) -> None:
    animal = next(e for e in entries if e.kingdom == "animal" and e.threat(Harvest) is not None)
    plant = next(e for e in entries if e.kingdom == "plant" and e.threat(Harvest) is None)
    design = pf.Design(kind="conflict mitigation", start=5, intensity="high", duration=10)
    (cm,) = pf.interventions(animal, design)
    assert isinstance(cm, ConflictMitigation)
    assert (cm.fraction, cm.start, cm.duration) == (0.9, 5, 10)
    assert cm.annual_cost == pytest.approx(30_000 * 0.9)
    assert pf.interventions(plant, design) == ()
    design = pf.Design(kind="translocation", start=0, intensity="low", duration=None)
    (tr,) = pf.interventions(plant, design)
    moved = max(1, round(0.02 * plant.initial_mature))
    assert dict(tr.individuals) == {pf._release_stages(plant)[0]: moved}
    assert tr.annual_cost == pytest.approx(100.0 * moved)


def test_portfolio_study_restricts_each_action_to_its_species(entries) -> None:
    chosen = [entries[0], entries[-1]]
    study = pf.portfolio_study(species=chosen, design_set=pf.fractional_designs()[:2])
    assert study.scenario_names == ("no action", *(d.name for d in pf.fractional_designs()[:2]))
    for i, e in enumerate(chosen):
        seen = study.scenario_for(i, 1)
        assert {a.name for a in seen.threats} == {t.name for t in e.threats}
        assert all(a.name.endswith(f"({e.name})") for a in seen.actions)


def test_the_study_file_is_what_the_rules_generate(entries) -> None:
    """scenarios/success_portfolio.toml is the text experiments/success_factors.py writes for the
    portfolio study of the rules, and such a text reads back as the study it was written from."""
    study = pf.portfolio_study(species=entries, design_set=pf.fractional_designs())
    text = pf.portfolio_file_text(study, entries)
    assert text == (ROOT / "scenarios" / "success_portfolio.toml").read_text(encoding="utf-8")


def test_a_portfolio_file_reads_back_as_its_study(entries, tmp_path: Path) -> None:
    chosen = (entries[0], entries[5], entries[-1])  # one with stages renamed by the rules
    study = pf.portfolio_study(species=chosen, design_set=pf.fractional_designs()[:4])
    path = io.write_text(tmp_path / "p.toml", pf.portfolio_file_text(study, chosen))
    assert io.read_study(path).digest() == study.digest()
