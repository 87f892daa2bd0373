"""Invariants of the Red List code (monotonicity of the criteria, bounds of the RLI, pairing)."""

from __future__ import annotations

import numpy as np
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pva import redlist as rl
from pva.testing import strategies as pst

SETTINGS = settings(deadline=None, max_examples=60)

counts = st.floats(min_value=0.0, max_value=50_000.0, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1.0, max_value=50_000.0, allow_nan=False, allow_infinity=False)


@SETTINGS
@given(a=counts, b=counts, length=st.integers(1, 5))
def test_more_mature_individuals_never_give_a_worse_d_category(a, b, length):
    lo, hi = sorted((a, b))
    only_d = rl.RedListSettings(criteria=("D",))
    small = rl.classify(np.full((1, length), lo), generation_length=1.0, settings=only_d)
    large = rl.classify(np.full((1, length), hi), generation_length=1.0, settings=only_d)
    d = rl.CRITERIA.index("D")
    assert np.all(large.levels[..., d] <= small.levels[..., d])


@SETTINGS
@given(
    traj=hnp.arrays(np.float64, st.integers(12, 30), elements=positive),
    growth=st.lists(st.floats(1.0, 3.0), min_size=30, max_size=30),
    sub=st.sampled_from(["A1", "A2", "A3", "A4"]),
    method=st.sampled_from(["point", "fitted"]),
    g=st.floats(0.5, 4.0),
)
def test_a_shallower_decline_never_gives_a_worse_a_category(traj, growth, sub, method, g):
    # multiplying later years by a non-decreasing factor makes every window's decline shallower
    factor = np.cumprod(growth)[: traj.size]
    shallow = traj * factor
    s = rl.RedListSettings(criteria=("A",), reduction_method=method)
    steep_c = rl.classify(traj[None, :], generation_length=g, criterion_a=sub, settings=s)
    shallow_c = rl.classify(shallow[None, :], generation_length=g, criterion_a=sub, settings=s)
    k = rl.CRITERIA.index(sub)
    a, b = shallow_c.levels[..., k], steep_c.levels[..., k]
    both = (a >= 0) & (b >= 0)
    assert np.all(a[both] <= b[both])
    # the windows covered do not depend on the values: "not met" for the steeper one is "not met"
    assert np.all(a[b == rl.LC] == rl.LC)


@SETTINGS
@given(cats=st.lists(pst.category_names(), min_size=1, max_size=40), pe=st.floats(0.0, 5.0))
def test_rli_stays_in_unit_interval(cats, pe):
    if all(c in ("DD", "NE") for c in cats):
        cats = [*cats, "LC"]
    value = rl.red_list_index(cats, cr_pe_weight=pe)
    assert 0.0 <= value <= 1.0


@SETTINGS
@given(c=pst.category_codes(st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(1, 4))))
def test_delta_rli_of_a_scenario_against_itself_is_exactly_zero(c):
    da = xr.DataArray(c, dims=("species", "replicate", "year"))
    d = rl.delta_rli(da, da)
    delta = d["delta"].values
    assert np.all((delta == 0) | np.isnan(delta))
    rli = rl.rli_by_replicate(da).values
    assert np.all(np.isnan(delta) == np.isnan(rli))
    finite = rli[~np.isnan(rli)]
    assert np.all((finite >= 0) & (finite <= 1))


@SETTINGS
@given(ext=hnp.arrays(np.bool_, st.tuples(st.integers(1, 6), st.integers(1, 30))))
def test_extinctions_prevented_of_identical_inputs_is_zero(ext):
    e = rl.extinctions_prevented(ext, ext)
    assert e.expected == 0.0
    assert e.p_at_least_one == 0.0
    assert np.all(e.per_replicate == 0)


@SETTINGS
@given(
    c=pst.category_codes(st.tuples(st.integers(1, 40), st.integers(2, 5)), classified=True),
    data=st.data(),
)
def test_transition_rows_sum_to_one_where_occupied(c, data):
    t0 = data.draw(st.integers(0, c.shape[1] - 1))
    t1 = data.draw(st.integers(0, c.shape[1] - 1))
    p = rl.transition_matrix(c, t0, t1)
    rows = p.sum("category_to", skipna=False).values
    occupied = np.isin(np.array([rl.CATEGORY_CODES[x] for x in rl.CATEGORY_LABELS]), c[:, t0])
    assert np.allclose(rows[occupied], 1.0)
    assert np.all(np.isnan(rows[~occupied]))


@SETTINGS
@given(
    traj=pst.abundances(st.tuples(st.integers(1, 4), st.integers(12, 40))),
    data=st.data(),
    g=st.floats(0.5, 6.0),
    method=st.sampled_from(["point", "fitted"]),
    subpopulations=st.booleans(),
)
def test_the_category_at_year_t_does_not_read_the_future(traj, data, g, method, subpopulations):
    # No hindsight: with no nested projection, changing a replicate's trajectory after year t
    # changes nothing at or before t (year 0 reads the ensemble, the projection from the common
    # start, so it is checked with ensemble_at_start=False; later years with the default too).
    reps, cols = traj.shape
    t = data.draw(st.integers(0, cols - 2))
    after = data.draw(pst.abundances((reps, cols - t - 1)))
    altered = traj.copy()
    altered[:, t + 1 :] = after
    if subpopulations:
        # two subpopulations holding 70% and 30%
        traj = np.stack([0.7 * traj, 0.3 * traj], axis=-1)
        altered = np.stack([0.7 * altered, 0.3 * altered], axis=-1)
    s = rl.RedListSettings(reduction_method=method)
    kw = {"generation_length": g, "settings": s, "locations": 3, "eoo": 4_000.0}
    for ensemble in (False, True):
        a = rl.classify(traj, ensemble_at_start=ensemble, **kw)
        b = rl.classify(altered, ensemble_at_start=ensemble, **kw)
        first = 0 if not ensemble else 1
        if t >= first:
            np.testing.assert_array_equal(a.levels[:, first : t + 1], b.levels[:, first : t + 1])
            np.testing.assert_array_equal(
                a.category[:, first : t + 1], b.category[:, first : t + 1]
            )


def _random_inputs(data, reps: int, cols: int) -> dict:
    """Trajectories with history, subpopulations, nested projections and probabilities at some
    years, and every setting that changes which columns a criterion reads."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    start = data.draw(st.sampled_from([5.0, 40.0, 300.0, 3_000.0, 12_000.0]), label="start")
    growth = np.exp(rng.normal(data.draw(st.floats(-0.2, 0.05)), 0.3, (reps, cols)))
    shares = rng.dirichlet([1, 3], reps)[:, None, :]
    subs = np.round(start * np.cumprod(growth, axis=1)[:, :, None] * shares)
    years_before = data.draw(st.integers(0, min(4, cols - 1)), label="years before")
    if data.draw(st.booleans(), label="common start"):
        subs[:, years_before] = subs[0, years_before]
    subs[rng.random((reps, cols, 2)) < 0.03] = 0.0
    leads = data.draw(st.integers(2, 40), label="leads")
    projected = np.full((reps, cols, leads), np.nan)
    probability = np.full((reps, cols, 3), np.nan)
    for j in rng.choice(cols, size=min(3, cols), replace=False):
        projected[:, j] = subs[:, j].sum(axis=1)[:, None] * np.exp(-0.05 * np.arange(leads))
        probability[:, j] = np.sort(rng.random((reps, 3)), axis=1)
    settings = rl.RedListSettings(
        reduction_method=data.draw(st.sampled_from(["point", "fitted"])),
        c1_direction=data.draw(st.sampled_from(["past", "future", "both"])),
        lc_rule=data.draw(st.sampled_from(["any", "all"])),
    )
    inputs = {
        "mature": subs,
        "total": subs.sum(axis=2) * 1.5,
        "generation_length": data.draw(st.floats(0.8, 12.0), label="generation length"),
        "years_before": years_before,
        "settings": settings,
        "criterion_a": ("A1", "A2", "A3", "A4"),
        "eoo": data.draw(st.sampled_from([None, 80.0, 4_000.0])),
        "aoo": data.draw(st.sampled_from([None, 15.0])),
        "locations": data.draw(st.sampled_from([None, 1, 7])),
        "plausible_threat": True,
    }
    if data.draw(st.booleans(), label="nested projections"):
        inputs["projected_mature"] = projected
        inputs["extinction_probability"] = probability
        inputs["partial_extinction_probability"] = True
    if data.draw(st.booleans(), label="decline flag"):
        inputs["continuing_decline"] = rng.random((reps, cols)) < 0.5
    return inputs


@SETTINGS
@given(data=st.data(), reps=st.integers(1, 6), cols=st.integers(2, 45))
def test_classifying_at_chosen_years_gives_each_year_as_among_every_year(data, reps, cols):
    # the summaries classify at a few years only (issue 17): each year's classification must be
    # the one the full classification gives that year, whatever the criteria read around it
    inputs = _random_inputs(data, reps, cols)
    full = rl.classify(**inputs)
    chosen = data.draw(
        st.lists(st.sampled_from(list(full.years)), min_size=1, max_size=6, unique=True),
        label="years",
    )
    some = rl.classify(**inputs, years=chosen)
    columns = np.searchsorted(full.years, sorted(chosen))
    np.testing.assert_array_equal(some.years, full.years[columns])
    np.testing.assert_array_equal(some.category, full.category[:, columns])
    np.testing.assert_array_equal(some.levels, full.levels[:, columns])
    np.testing.assert_array_equal(some.criteria, full.criteria[:, columns])
    np.testing.assert_array_equal(some.complete, full.complete[:, columns])
    np.testing.assert_array_equal(some.not_evaluated, full.not_evaluated[:, columns])
