"""Category distributions and transitions, extinctions prevented, Green Status and ``assess``."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from conftest_results import known_results, make_results

from pva import redlist as rl
from pva.redlist import CR, EN, EX, LC, NT, VU

# ---------------------------------------------------------------------------------------------------
# distribution and transitions

CATS = np.array(
    [
        [LC, LC, NT],
        [LC, VU, EN],
        [VU, EN, CR],
        [VU, VU, EX],
    ],
    dtype=np.int8,
)  # (replicate, year)


def test_category_distribution_by_year():
    d = rl.category_distribution(CATS)
    assert d.dims == ("year", "category")
    assert list(d["category"].values) == list(rl.CATEGORY_LABELS)
    assert float(d.sel(year=0, category="LC")) == 0.5
    assert float(d.sel(year=0, category="VU")) == 0.5
    assert float(d.sel(year=2, category="EX")) == 0.25
    assert np.allclose(d.sum("category"), 1.0)
    counts = rl.category_distribution(CATS, normalize=False)
    assert int(counts.sel(year=1, category="VU")) == 2


def test_category_distribution_keeps_other_dims():
    da = xr.DataArray(np.stack([CATS, CATS]), dims=("scenario", "replicate", "year"))
    d = rl.category_distribution(da)
    assert set(d.dims) == {"scenario", "year", "category"}


def test_transition_matrix_by_hand():
    p = rl.transition_matrix(CATS, 0, 2)
    assert p.dims == ("category_from", "category_to")
    # from LC (replicates 0, 1): one to NT, one to EN
    assert float(p.sel(category_from="LC", category_to="NT")) == 0.5
    assert float(p.sel(category_from="LC", category_to="EN")) == 0.5
    # from VU (replicates 2, 3): one to CR, one to EX
    assert float(p.sel(category_from="VU", category_to="CR")) == 0.5
    assert float(p.sel(category_from="VU", category_to="EX")) == 0.5
    rows = p.sum("category_to", skipna=False)
    assert np.allclose(rows.sel(category_from=["LC", "VU"]), 1.0)
    assert np.all(np.isnan(p.sel(category_from="CR")))  # never occupied at year 0
    counts = rl.transition_matrix(CATS, 0, 2, normalize=False)
    assert int(counts.sum()) == 4


def test_transition_matrix_unknown_year():
    with pytest.raises(ValueError, match="year_to=7"):
        rl.transition_matrix(CATS, 0, 7)


# ---------------------------------------------------------------------------------------------------
# extinctions prevented


def test_extinctions_prevented_by_hand():
    # 3 species x 4 replicates
    no_action = np.array(
        [[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 1, 1]],
        dtype=bool,
    )
    action = np.array(
        [[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]],
        dtype=bool,
    )
    e = rl.extinctions_prevented(no_action, action)
    assert list(e.per_replicate) == [1, 0, 1, 0]
    assert e.expected == pytest.approx(0.5)
    assert e.p_at_least_one == pytest.approx(0.5)
    assert e.p_fewer == pytest.approx(0.5)
    assert e.mcse == pytest.approx(np.std([1, 0, 1, 0], ddof=1) / 2)


def test_p_at_least_one_counts_species_saved_even_when_totals_are_equal():
    # the action saves species 0 but loses species 1 in the same replicate
    no_action = np.array([[True], [False]])
    action = np.array([[False], [True]])
    e = rl.extinctions_prevented(no_action, action)
    assert e.expected == 0.0
    assert e.p_fewer == 0.0
    assert e.p_at_least_one == 1.0


def test_extinctions_prevented_bad_input():
    with pytest.raises(ValueError, match="boolean"):
        rl.extinctions_prevented(np.zeros((2, 3)), np.zeros((2, 3), dtype=bool))
    with pytest.raises(ValueError, match="shapes differ"):
        rl.extinctions_prevented(np.zeros((2, 3), dtype=bool), np.zeros((2, 4), dtype=bool))


# ---------------------------------------------------------------------------------------------------
# Green Status (Akçakaya et al. 2018; IUCN Green Status standard v2.0)


def test_green_states_from_thresholds():
    mature = np.array([[[0, 5, 120, 600]]], dtype=float)  # four spatial units
    s = rl.green_status_states(mature, viable_threshold=100, functional_threshold=500)
    assert s.tolist() == [[[0, 1, 2, 3]]]
    # Species Recovery Score: (0 + 3 + 6 + 9) / (9 * 4) * 100 = 50
    assert rl.species_recovery_score(s)[0, 0] == pytest.approx(50.0)


def test_green_states_with_carrying_capacity_and_risk():
    mature = np.array([[[600.0, 600.0, 600.0]]])
    k = np.array([1000.0, 2000.0, 1000.0])
    risk = np.array([[[0.01, 0.01, np.nan]]])
    s = rl.green_status_states(
        mature,
        viable_threshold=100,
        carrying_capacity=k,
        functional_fraction=0.5,
        extinction_risk=risk,
    )
    assert s.tolist() == [[[3, 2, -1]]]  # 600 >= 0.5 K only in unit 0; unit 2 indeterminate
    # indeterminate units leave the score: (9 + 6) / (9 * 2) * 100
    assert rl.species_recovery_score(s)[0, 0] == pytest.approx(100 * 15 / 18)


def test_all_units_functional_is_fully_recovered_and_all_absent_is_zero():
    assert rl.species_recovery_score(np.full((2, 5), 3))[0] == 100.0
    assert rl.species_recovery_score(np.zeros((2, 5), dtype=int))[0] == 0.0


def test_conservation_metrics_are_differences_from_the_current_score():
    m = rl.conservation_metrics(
        np.array([50.0, 40.0]),
        without_past_conservation=np.array([20.0, 40.0]),
        future_without_conservation=np.array([30.0, 10.0]),
        future_with_conservation=np.array([60.0, 70.0]),
        long_term_potential=np.array([90.0, 90.0]),
    )
    assert m["conservation_legacy"].tolist() == [30.0, 0.0]
    assert m["conservation_dependence"].tolist() == [20.0, 30.0]
    assert m["conservation_gain"].tolist() == [10.0, 30.0]
    assert m["recovery_potential"].tolist() == [40.0, 50.0]
    assert set(rl.conservation_metrics(np.array([1.0]))) == set()


def test_green_states_bad_input():
    with pytest.raises(ValueError, match="mature must be >= 0"):
        rl.green_status_states(-np.ones((1, 1, 1)), viable_threshold=1, functional_threshold=2)
    with pytest.raises(ValueError, match="functional_threshold"):
        rl.green_status_states(np.ones((1, 1, 1)), viable_threshold=1)


# ---------------------------------------------------------------------------------------------------
# assess on the shared known-answer Dataset (tests/conftest_results.py)


def test_assess_known_results():
    ds = known_results(replicates=8)
    out = rl.assess(ds)
    cat = out["category"]
    assert cat.dims == ("species", "scenario", "replicate", "year")
    assert cat.dtype == np.int8
    assert "flag_meanings" in cat.attrs
    # Alpha, no action: linear decline 200 -> 0 by year 10. At year 0 the replicates (all alike)
    # are the projection: CR by A3, C1 and E; EX from year 10
    alpha_no = cat.sel(species="Alpha", scenario="no action")
    assert np.all(alpha_no.sel(year=0) == CR)
    assert np.all(alpha_no.sel(year=slice(10, None)) == EX)
    year0 = str(out["criteria"].sel(species="Alpha", scenario="no action", year=0)[0].item())
    assert year0 == "CR A3; C1; E"
    # later years read only the past (G = 5: A2 needs 15 years, the decline 20): EN D at year 1
    # (180 mature), CR D at year 9 (20)
    assert np.all(alpha_no.sel(year=1) == EN)
    assert np.all(alpha_no.sel(year=9) == CR)
    # Alpha, protect: 2 x (100 + r) mature < 250 for r < 25: EN D, constant for ever; the
    # replicates differ at year 0, so nothing is projected there
    assert np.all(cat.sel(species="Alpha", scenario="protect") == EN)
    missing = str(out["not_evaluated"].sel(species="Alpha", scenario="protect", year=0)[0].item())
    assert "A3" in missing
    assert "E" in missing.split(", ")
    # Beta, protect: 50 mature is not < 50: EN D
    assert np.all(cat.sel(species="Beta", scenario="protect") == EN)
    # Beta, no action: half the replicates decline to 0 at year 20. At year 0 half of all replicates
    # go extinct within the CR window of E (36 years): P = 0.5 >= 50%, CR E for all, and the mean
    # trajectory loses 30% within 12 years: CR C1
    beta_no = cat.sel(species="Beta", scenario="no action")
    assert np.all(beta_no.sel(year=0) == CR)
    assert str(out["criteria"].sel(species="Beta", scenario="no action", year=0)[7].item()) == (
        "CR C1; E"
    )
    assert np.all(beta_no.sel(replicate=slice(0, 3), year=slice(20, None)) == EX)
    assert np.all(beta_no.sel(replicate=slice(4, 7), year=slice(1, None)) == EN)
    # RLI at year 0, no action: CR + CR; at year 1: EN + CR (first half) or EN + EN
    rli = out["red_list_index"].sel(scenario="no action")
    assert np.allclose(rli.sel(year=0), 1 - 8 / 10)
    assert np.allclose(rli.sel(year=1)[:4], 1 - 7 / 10)
    assert np.allclose(rli.sel(year=1)[4:], 1 - 6 / 10)
    assert np.allclose(out["red_list_index"].sel(scenario="protect"), 1 - 6 / 10)
    assert out["red_list_index"].attrs["species_counted"] == 2


def test_assess_e_at_the_quasi_extinction_threshold_where_asked():
    # half the replicates fall to 5 mature (10 in total) at year 3 and stay there, never extinct;
    # the species' quasi-extinction threshold is 20 individuals (total abundance)
    mature = np.full((1, 1, 8, 101, 1), 500, dtype=np.int64)
    mature[0, 0, :4, 3:, 0] = 5
    ds = make_results(
        mature, species=("Gamma",), scenarios=("no action",), quasi_extinction_threshold=(20.0,)
    )
    only_e = rl.RedListSettings(criteria=("E",))
    plain = rl.assess(ds, settings=only_e)
    assert np.all(plain["category"].sel(year=0) == LC)  # nobody goes extinct
    quasi = rl.assess(ds, settings=only_e, quasi_extinction=True)
    assert np.all(quasi["category"].sel(year=0) == CR)  # 50% fall to 20 or fewer in 10 years
    with pytest.raises(ValueError, match="quasi_extinction_threshold"):
        rl.assess(ds.drop_vars("quasi_extinction_threshold"), quasi_extinction=True)


def test_assess_takes_a_known_continuing_decline_per_species():
    # Alpha under protection: two subpopulations of 100 + r (N < 2,500, none above 250). Without a
    # decline C2 is not met; with the user's flag (e.g. habitat loss known to go on) it is EN C2a(i)
    ds = known_results(replicates=2).isel(scenario=[1])
    only_c = rl.RedListSettings(criteria=("C",))
    assert np.all(rl.assess(ds, settings=only_c)["category"].sel(species="Alpha") == LC)
    ds["continuing_decline"] = ("species", [True, False])
    out = rl.assess(ds, settings=only_c)
    assert np.all(out["criteria"].sel(species="Alpha") == "EN C2a(i)")
    assert np.all(out["category"].sel(species="Beta") == LC)


def test_assess_writes_the_subconditions_of_b():
    # Alpha under protection: 200-odd mature individuals, steady. EOO 3,000 km² (< 5,000: EN) and
    # 4 locations (<= 5: B(a) at EN) with the user's continuing decline ((b)(v)): two of B(a)-(c),
    # EN B1ab(v) (IUCN 2012 B1; written as the Red List writes it, e.g. "CR A2ace;B1ab(iii)");
    # C2a(i) is EN too (fewer than 2,500, none above 250, declining): "EN B1ab(v); C2a(i)"
    ds = known_results(replicates=2).isel(scenario=[1])
    ds["continuing_decline"] = ("species", [True, False])
    ds["eoo"] = ("species", [3_000.0, np.nan])
    ds["locations"] = ("species", [4.0, np.nan])
    out = rl.assess(ds, settings=rl.RedListSettings(criteria=("B", "C")))
    assert np.all(out["criteria"].sel(species="Alpha") == "EN B1ab(v); C2a(i)")


def test_assess_needs_generation_length():
    ds = known_results(replicates=2).drop_vars("generation_length")
    with pytest.raises(ValueError, match="generation_length"):
        rl.assess(ds)


def test_assess_takes_the_dataset_of_simulate():
    # pva.simulate's Dataset has no generation_length variable: it comes from the species
    # specification in attrs, or from the keyword. 40 mature individuals for ever: CR D
    # (IUCN 2012, D: fewer than 50), whatever the generation length.
    import pva
    from pva.model import Species

    species = Species(
        name="x", stages=["a"], U=[[1.0]], F=[[0.0]], initial=[40], generation_length=3.0
    )
    ds = pva.simulate(species, years=12, replicates=2, seed=1)
    out = rl.assess(ds, settings=rl.RedListSettings(criteria=("D",)))
    assert np.all(out["category"] == CR)
    out = rl.assess(
        ds.drop_attrs(), generation_length=3.0, settings=rl.RedListSettings(criteria=("D",))
    )
    assert np.all(out["category"] == CR)


def test_assess_reports_vu_from_range_attributes():
    ds = known_results(replicates=2)
    ds["locations"] = ("species", [2.0, np.nan])
    ds["plausible_threat"] = ("species", [True, False])
    ds = ds.isel(scenario=[1])
    ds["mature_abundance"] = ds["mature_abundance"] * 10  # 2,000+ mature: no D1
    out = rl.assess(ds, settings=rl.RedListSettings(criteria=("D",)))
    assert np.all(out["category"].sel(species="Alpha") == VU)
    assert str(out["criteria"].sel(species="Alpha")[0, 0, 0].item()) == "VU D2"
    assert np.all(out["category"].sel(species="Beta") == VU)  # 500: VU D1


def test_green_status_from_scenarios():
    # two units, two replicates, years 0..10; thresholds: viable 100, functional 500
    def scenario(unit0, unit1):
        m = np.zeros((2, 11, 2))
        m[:, :, 0] = unit0
        m[:, :, 1] = unit1
        return m

    current = scenario(600.0, 50.0)  # functional + present: (9 + 3) / 18 -> 66.7
    g = rl.green_status(
        current,
        viable_threshold=100,
        functional_threshold=500,
        without_past_conservation=scenario(50.0, 0.0),  # (3 + 0) / 18 -> 16.7
        no_action=scenario(np.linspace(600, 0, 11)[None, :], 0.0),  # 0 + 0 at year 10
        action=scenario(600.0, 200.0),  # (9 + 6) / 18 -> 83.3
        potential=scenario(600.0, 600.0),  # 100, last year used (long-term horizon 100)
    )
    assert np.allclose(g["species_recovery_score"], 100 * 12 / 18)
    assert np.allclose(g["conservation_legacy"], 100 * 9 / 18)
    assert np.allclose(g["conservation_dependence"], 100 * 12 / 18)
    assert np.allclose(g["conservation_gain"], 100 * 3 / 18)
    assert np.allclose(g["recovery_potential"], 100 * 6 / 18)
    with pytest.raises(ValueError, match=r"no_action covers years 0\.\.5"):
        rl.green_status(
            current, viable_threshold=100, functional_threshold=500, no_action=current[:, :6]
        )
