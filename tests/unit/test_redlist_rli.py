"""Red List Index (Butchart et al. 2004, 2007) on hand-computed sets, per replicate and paired."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from pva import redlist as rl


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        (["LC"] * 7, 1.0),
        (["EX"] * 4, 0.0),
        (["EW", "EX"], 0.0),  # EW and EX share the weight 5
        # 1 - (0 + 1 + 2 + 3 + 4 + 5) / (5 * 6) = 0.5; DD and NE are excluded
        (["LC", "NT", "VU", "EN", "CR", "EX", "DD", "NE"], 0.5),
        (["LC", "EN", "EX", "DD"], 1 - 8 / 15),
        (["VU", "VU", "LC", "LC"], 1 - 4 / 20),
        # CR tagged Possibly Extinct weighs 5 by default, as in SDG indicator 15.5.1 (metadata 4.c)
        (["CR(PE)", "LC"], 1 - 5 / 10),
        (["CR(PEW)", "CR"], 1 - 9 / 10),
        ([0, 3, 6, -1], 1 - 8 / 15),  # int8 codes work too
    ],
)
def test_red_list_index_of_known_sets(categories, expected):
    assert rl.red_list_index(categories) == pytest.approx(expected, abs=1e-15)


def test_cr_pe_weight_is_a_parameter():
    # 4 counts them as CR (the published RLI before the SDG method)
    assert rl.red_list_index(["CR(PE)", "LC"], cr_pe_weight=4.0) == pytest.approx(0.6)
    assert rl.red_list_index(["CR(PEW)", "CR"], cr_pe_weight=4.0) == pytest.approx(1 - 8 / 10)


def test_custom_weights():
    assert rl.red_list_index(["EW", "LC"], weights={"EW": 4.0}) == pytest.approx(1 - 4 / 10)
    with pytest.raises(ValueError, match="EX weight must be the largest"):
        rl.red_list_index(["LC"], weights={"CR": 6.0})


def test_unknown_category_is_named():
    with pytest.raises(ValueError, match="'XX'"):
        rl.red_list_index(["LC", "XX"])
    with pytest.raises(ValueError, match="'ZZ'"):
        rl.red_list_index(["LC"], weights={"ZZ": 1.0})
    with pytest.raises(ValueError, match="not DD or NE"):
        rl.red_list_index(["DD", "NE"])


def test_category_names_are_read_case_insensitively_and_bad_items_are_refused():
    # Hand-typed lists: "en" is EN, "dd" is excluded; 1 - (3 + 5) / (5 * 3).
    assert rl.red_list_index(["en", " LC ", "cr(pe)", "dd"]) == pytest.approx(1 - 8 / 15)
    with pytest.raises(TypeError, match="the string 'LC'"):
        rl.red_list_index("LC")  # not iterated letter by letter
    with pytest.raises(TypeError, match="None"):
        rl.red_list_index(["LC", None])


def _cats(codes, *, species=None) -> xr.DataArray:
    codes = np.asarray(codes, dtype=np.int8)
    da = xr.DataArray(codes, dims=("species", "replicate", "year"))
    if species is not None:
        da = da.assign_coords(species=species)
    return da


def test_rli_by_replicate_matches_the_set_form_over_a_fixed_set():
    # species 5 is DD everywhere (left out of the set); the others always have a category
    rng = np.random.default_rng(3)
    codes = rng.choice([0, 1, 2, 3, 4, 5, 6], size=(6, 5, 4))
    codes[5] = rl.DD
    rli = rl.rli_by_replicate(_cats(codes))
    assert rli.dims == ("replicate", "year")
    assert rli.attrs["species_counted"] == 5
    for r in range(5):
        for t in range(4):
            assert float(rli[r, t]) == pytest.approx(rl.red_list_index(list(codes[:, r, t])))


def test_rli_is_never_averaged_over_the_species_that_got_a_category():
    # SDG 15.5.1 metadata 4.c: "exactly the same set of species is included in all time periods".
    # Species 1 is not evaluable in year 0 of replicate 0: the RLI there is undefined (NaN), not
    # the RLI of species 0 alone; species 2 is NE throughout and is not in the set.
    codes = [
        [[rl.LC, rl.LC], [rl.LC, rl.LC]],
        [[rl.NOT_EVALUABLE, rl.CR], [rl.CR, rl.EX]],
        [[rl.NE, rl.NE], [rl.NE, rl.NE]],
    ]
    rli = rl.rli_by_replicate(_cats(codes))
    assert np.isnan(rli[0, 0])
    assert float(rli[0, 1]) == pytest.approx(1 - 4 / 10)
    assert float(rli[1, 0]) == pytest.approx(1 - 4 / 10)
    assert float(rli[1, 1]) == pytest.approx(1 - 5 / 10)


def test_rli_is_nan_where_no_species_is_evaluated():
    rli = rl.rli_by_replicate(_cats([[[rl.NOT_EVALUABLE, 0]], [[rl.DD, 6]]]))
    assert np.isnan(rli[0, 0])
    assert float(rli[0, 1]) == pytest.approx(0.5)
    empty = rl.rli_by_replicate(_cats([[[rl.DD, rl.NE]]]))
    assert np.all(np.isnan(empty))


def test_rli_groupby_a_species_attribute():
    codes = np.zeros((3, 2, 1), dtype=np.int8)
    codes[0] = rl.EX  # the only bird is extinct
    da = _cats(codes).assign_coords(taxon=("species", ["bird", "plant", "plant"]))
    rli = rl.rli_by_replicate(da, groupby="taxon")
    assert float(rli.sel(taxon="bird")[0, 0]) == 0.0
    assert float(rli.sel(taxon="plant")[0, 0]) == 1.0
    with pytest.raises(ValueError, match="groupby"):
        rl.rli_by_replicate(da, groupby="country")


def test_rli_summary_mean_and_interval():
    # two species; replicate r has species 0 LC and species 1 at code r % 5 (LC .. CR)
    r = np.arange(100)
    codes = np.zeros((2, 100, 1), dtype=np.int8)
    codes[1, :, 0] = r % 5
    s = rl.rli_summary(rl.rli_by_replicate(_cats(codes)))
    values = 1 - (r % 5) / 10  # 1, 0.9, ..., 0.6 equally often
    assert float(s["mean"][0]) == pytest.approx(values.mean())
    assert float(s["mcse"][0]) == pytest.approx(values.std(ddof=1) / 10)
    assert float(s["lower"][0]) == pytest.approx(np.quantile(values, 0.025))
    assert float(s["upper"][0]) == pytest.approx(np.quantile(values, 0.975))


def test_delta_rli_is_paired_over_replicates():
    no_action = np.full((2, 4, 1), rl.EN, dtype=np.int8)
    action = no_action.copy()
    action[0, :2, 0] = rl.LC  # species 0 recovers in replicates 0 and 1 only
    d = rl.delta_rli(_cats(action), _cats(no_action))
    assert np.allclose(d["delta"][:, 0], [0.3, 0.3, 0.0, 0.0])
    assert float(d["mean"][0]) == pytest.approx(0.15)
    assert float(d["p_improved"][0]) == pytest.approx(0.5)


def test_delta_rli_equals_a_hand_computation_over_replicates_and_years():
    # three species x four replicates x two years; no action vs action, paired by replicate
    no_action = np.array(
        [
            [[rl.VU, rl.EN], [rl.VU, rl.CR], [rl.VU, rl.EX], [rl.VU, rl.EN]],
            [[rl.LC, rl.LC], [rl.LC, rl.NT], [rl.LC, rl.LC], [rl.LC, rl.VU]],
            [[rl.CR, rl.EX], [rl.CR, rl.EX], [rl.CR, rl.CR], [rl.CR, rl.EX]],
        ],
        dtype=np.int8,
    )
    action = no_action.copy()
    action[0, :, 1] = [rl.VU, rl.VU, rl.EN, rl.EN]
    action[2, :, 1] = [rl.CR, rl.EN, rl.CR, rl.EX]
    d = rl.delta_rli(_cats(action), _cats(no_action))
    # year 1, replicate by replicate: sum of weights under no action (3+0+5, 4+1+5, 5+0+4, 3+2+5)
    # and under action (2+0+4, 2+1+3, 3+0+4, 3+2+5); ΔRLI = (no action - action) / (5 x 3)
    hand = np.array([8 - 6, 10 - 6, 9 - 7, 10 - 10]) / 15
    assert np.allclose(d["delta"][:, 1], hand)
    assert np.allclose(d["delta"][:, 0], 0.0)
    assert float(d["mean"][1]) == pytest.approx(hand.mean())
    assert float(d["mcse"][1]) == pytest.approx(hand.std(ddof=1) / 2)
    assert float(d["p_improved"][1]) == pytest.approx(3 / 4)


def test_delta_rli_shapes_must_match():
    with pytest.raises(ValueError, match="same shape"):
        rl.delta_rli(_cats(np.zeros((2, 3, 1))), _cats(np.zeros((2, 4, 1))))


def test_unknown_code_in_an_array_is_named():
    with pytest.raises(ValueError, match="unknown category code 9"):
        rl.rli_by_replicate(_cats([[[0, 9]]]))
