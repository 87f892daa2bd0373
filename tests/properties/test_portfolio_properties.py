"""Budgeted choice of options (pva.portfolio): the integer programme against brute force, and the
greedy choice against its guarantee, on Hypothesis-generated costs and gains (issue 16, part 2).

Bounds tested (module docstring of pva.portfolio):
* additive gains (each option saves its own species: the 0-1 knapsack problem): the better of the
  cost-benefit greedy and the best single option is at least half the optimum (Kellerer, Pferschy &
  Pisinger 2004, section 2.5, the extended greedy);
* monotone submodular gains (each option touching a species saves it independently with its own
  probability: probabilistic coverage): at least (1 - 1/e)/2 of the optimum (Khuller, Moss & Naor
  1999; Krause & Guestrin 2005; Leskovec et al. 2007).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pva import portfolio as pf

SETTINGS = settings(deadline=None, max_examples=80)

costs = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)
weights = st.floats(min_value=0.0, max_value=5.0, allow_nan=False)
probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def additive(draw):
    """Each option saves its own species (worth w_a): value(S) = sum of w_a over S."""
    n = draw(st.integers(1, 8))
    options = tuple(pf.Option(name=f"o{i}", cost=draw(costs)) for i in range(n))
    gains = {
        f"s{i}": {frozenset(): np.zeros(1), frozenset({f"o{i}"}): np.array([draw(weights)])}
        for i in range(n)
    }
    return pf.Portfolio(options=options, gains=gains)


@st.composite
def coverage(draw):
    """Species touched by several options; each chosen option saves species s independently with
    probability p_{a,s}: g_s(T) = w_s (1 - prod_{a in T} (1 - p_{a,s})), monotone submodular."""
    n = draw(st.integers(1, 7))
    names = [f"o{i}" for i in range(n)]
    options = tuple(pf.Option(name=a, cost=draw(costs)) for a in names)
    gains = {}
    for s in range(draw(st.integers(1, 6))):
        touching = draw(st.lists(st.sampled_from(names), min_size=0, max_size=3, unique=True))
        p = {a: draw(probabilities) for a in touching}
        w = draw(weights)
        table = {}
        for k in range(len(touching) + 1):
            for combo in _subsets(touching, k):
                kept = math.prod(1 - p[a] for a in combo)
                table[frozenset(combo)] = np.array([w * (1 - kept)])
        gains[f"s{s}"] = table
    return pf.Portfolio(options=options, gains=gains)


@st.composite
def general(draw):
    """Any gains, some combinations not simulated (then not allowed)."""
    n = draw(st.integers(1, 6))
    names = [f"o{i}" for i in range(n)]
    options = tuple(pf.Option(name=a, cost=draw(costs)) for a in names)
    gains = {}
    for s in range(draw(st.integers(1, 4))):
        touching = draw(st.lists(st.sampled_from(names), min_size=0, max_size=3, unique=True))
        table = {frozenset(): np.array([draw(st.floats(-1, 1))])}
        for k in range(1, len(touching) + 1):
            for combo in _subsets(touching, k):
                if draw(st.booleans()) or k == 1:
                    table[frozenset(combo)] = np.array([draw(st.floats(-2, 5))])
        gains[f"s{s}"] = table
    return pf.Portfolio(options=options, gains=gains)


def _subsets(items, k):
    return itertools.combinations(items, k)


budgets = st.floats(min_value=0.0, max_value=30.0, allow_nan=False)


def _close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


@SETTINGS
@given(problem=st.one_of(additive(), coverage(), general()), budget=budgets)
@example(  # a cost within rounding of a zero budget: the programme once refused what brute force took
    problem=pf.Portfolio(
        options=(pf.Option(name="o0", cost=1.8672337807823676e-162),),
        gains={"s0": {frozenset(): np.array([0.0]), frozenset({"o0"}): np.array([1.0])}},
        level=0.95,
    ),
    budget=0.0,
)
def test_exact_equals_brute_force(problem, budget):
    chosen = pf.exact(problem, budget)
    _, best = pf.brute_force(problem, budget)
    assert _close(chosen.expected, best)
    assert chosen.cost <= budget * (1 + 1e-9) + 1e-9
    assert problem.feasible(chosen.options)


@SETTINGS
@given(problem=additive(), budget=budgets)
def test_greedy_is_at_least_half_the_optimum_with_additive_gains(problem, budget):
    chosen = pf.greedy(problem, budget)
    _, best = pf.brute_force(problem, budget)
    assert chosen.expected >= best / 2 - 1e-9
    assert chosen.cost <= budget * (1 + 1e-9) + 1e-9


@SETTINGS
@given(problem=coverage(), budget=budgets)
def test_greedy_meets_the_submodular_bound(problem, budget):
    chosen = pf.greedy(problem, budget)
    _, best = pf.brute_force(problem, budget)
    assert chosen.expected >= (1 - 1 / math.e) / 2 * best - 1e-9
    assert chosen.cost <= budget * (1 + 1e-9) + 1e-9


@settings(deadline=None, max_examples=30)
@given(problem=st.one_of(additive(), coverage(), general()))
def test_the_budget_curve_never_falls(problem):
    curve = pf.budget_curve(problem, [0.0, 1.0, 3.0, 7.0, 15.0, 40.0], method="exact")
    values = [c.expected for c in curve]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(values))
    assert curve[0].budget == 0.0
