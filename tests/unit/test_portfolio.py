"""pva.portfolio on hand-built problems: known optima, the greedy's known shortfall, intervals from
paired replicates, infeasible combinations and validation (issue 16, part 2)."""

from __future__ import annotations

import numpy as np
import pytest

from pva import portfolio as pf
from pva import redlist


def knapsack(values, costs):
    """Each option saves its own species, worth values[i] in every replicate."""
    options = tuple(pf.Option(name=f"o{i}", cost=c) for i, c in enumerate(costs))
    gains = {
        f"s{i}": {frozenset(): np.zeros(1), frozenset({f"o{i}"}): np.array([float(v)])}
        for i, v in enumerate(values)
    }
    return pf.Portfolio(options=options, gains=gains)


def test_the_best_single_option_rescues_the_ratio_greedy():
    # budget 10: the ratio greedy takes o0 (ratio 1.1), after which neither o1 nor o2 (cost 10)
    # fits: 1.1; the best single option o1 is worth 10, the optimum. With budget 11: o0 + o1.
    p = knapsack([1.1, 10.0, 9.0], [1.0, 10.0, 10.0])
    assert pf.exact(p, 10.0).options == ("o1",)
    assert pf.greedy(p, 10.0).options == ("o1",)
    assert pf.exact(p, 11.0).options == ("o0", "o1")
    assert pf.exact(p, 11.0).expected == pytest.approx(11.1)


def test_greedy_can_fall_short_of_the_optimum_but_not_below_half():
    # budget 10: o0 (cost 6, value 7: ratio 1.17) beats o1, o2 (cost 5, value 5.5: ratio 1.1);
    # greedy takes o0 and then nothing fits: 7; the optimum is o1 + o2 = 11 (7 >= 11 / 2)
    p = knapsack([7.0, 5.5, 5.5], [6.0, 5.0, 5.0])
    assert pf.greedy(p, 10.0).expected == pytest.approx(7.0)
    assert pf.exact(p, 10.0).expected == pytest.approx(11.0)
    assert pf.brute_force(p, 10.0) == (frozenset({"o1", "o2"}), pytest.approx(11.0))


def test_exact_prefers_the_cheapest_of_equal_choices():
    # o1 adds nothing for s0 beyond o0: with room for both, only o0 is bought
    options = (pf.Option(name="o0", cost=1.0), pf.Option(name="o1", cost=2.0))
    table = {
        frozenset(): np.zeros(1),
        frozenset({"o0"}): np.ones(1),
        frozenset({"o1"}): np.ones(1),
        frozenset({"o0", "o1"}): np.ones(1),
    }
    p = pf.Portfolio(options=options, gains={"s0": table})
    c = pf.exact(p, 5.0)
    assert c.options == ("o0",)
    assert c.cost == 1.0


def test_interval_is_the_paired_extinctions_prevented_of_the_chosen_set():
    rng = np.random.default_rng(7)  # data for the test, not a projection
    none = rng.random((2, 500)) < 0.6
    with_a = none & (rng.random((2, 500)) < 0.5)
    gains = {
        f"s{i}": {
            frozenset(): np.zeros(500),
            frozenset({"a"}): none[i].astype(float) - with_a[i].astype(float),
        }
        for i in range(2)
    }
    p = pf.Portfolio(options=(pf.Option(name="a", cost=1.0),), gains=gains)
    c = pf.exact(p, 1.0)
    ref = redlist.extinctions_prevented(none, with_a)
    assert c.expected == pytest.approx(ref.expected)
    assert c.mcse == pytest.approx(ref.mcse)
    assert c.ci == pytest.approx(ref.ci)


def test_combinations_not_simulated_are_not_chosen():
    # s0 is touched by a and b, but never simulated with both: a + b is not a choice
    options = (pf.Option(name="a", cost=1.0), pf.Option(name="b", cost=1.0))
    table = {frozenset(): np.zeros(1), frozenset({"a"}): np.ones(1), frozenset({"b"}): np.ones(1)}
    extra = {frozenset(): np.zeros(1), frozenset({"b"}): np.full(1, 0.5)}
    p = pf.Portfolio(options=options, gains={"s0": table, "s1": extra})
    assert not p.feasible({"a", "b"})
    assert pf.exact(p, 2.0).options == ("b",)
    assert pf.greedy(p, 2.0).expected == pytest.approx(1.5)
    with pytest.raises(
        ValueError, match=r"species 's0' was not simulated with options \['a', 'b'\]"
    ):
        p.value({"a", "b"})


def test_budget_curve_steps_at_the_costs_of_feasible_sets():
    p = knapsack([1.0, 2.0], [1.0, 3.0])
    curve = pf.budget_curve(p)
    assert [c.budget for c in curve] == [0.0, 1.0, 3.0, 4.0]
    assert [c.expected for c in curve] == pytest.approx([0.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: pf.Option(name="a", cost=-1.0), ValueError, "cost must be >= 0"),
        (lambda: pf.Option(name="", cost=1.0), ValueError, "name must be a non-empty string"),
        (
            lambda: pf.Portfolio(options=(), gains={"s": {frozenset({"x"}): np.zeros(1)}}),
            ValueError,
            "not among the options",
        ),
        (
            lambda: pf.Portfolio(
                options=(pf.Option(name="a", cost=1.0),),
                gains={"s": {frozenset({"a"}): np.zeros(1)}},
            ),
            ValueError,
            "needs its gain without any option",
        ),
        (
            lambda: pf.Portfolio(
                options=(pf.Option(name="a", cost=1.0),),
                gains={"s": {frozenset(): np.zeros(2), frozenset({"a"}): np.zeros(3)}},
            ),
            ValueError,
            "must be 2 finite numbers",
        ),
        (lambda: pf.choose(knapsack([1.0], [1.0]), -1.0), ValueError, "budget must be >= 0"),
        (lambda: pf.choose(knapsack([1.0], [1.0]), 1.0, method="best"), ValueError, "method"),
    ],
)
def test_bad_input_is_named(make, error, match):
    with pytest.raises(error, match=match):
        make()
