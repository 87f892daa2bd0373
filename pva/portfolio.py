"""Which actions to fund under a budget: the set of options that maximises the expected gain
(extinctions prevented, or ΔRLI) across species, from paired simulation results.

The problem (:class:`Portfolio`)
--------------------------------
Options (site actions) each have a cost. Each species is touched by some of them (those acting at
its sites); its gain in replicate ``r`` under a set ``S`` of options depends only on
``S ∩ A_s``, the options that touch it, and is read from the simulated scenario with exactly those
options (common random numbers: replicate ``r`` of every scenario shares its random numbers, so
gains are paired differences). The value of ``S`` in replicate ``r`` is the sum over species,
``v_r(S) = Σ_s g_s(S ∩ A_s)[r]``; its expectation is the mean over replicates. A combination a
species was never simulated under is not a choice (:meth:`Portfolio.feasible`).

The value is additive across species but not across options: two options at the sites of one
species interact through that species' table (they may overlap, or be needed together).

Methods
-------
* **exact** (:func:`exact`): an integer programme solved by ``scipy.optimize.milp`` (HiGHS). One
  binary ``x_a`` per option and one ``z_{s,T}`` per species and simulated combination ``T ⊆
  A_s``: ``Σ_T z_{s,T} = 1``, ``z_{s,T} <= x_a`` for ``a ∈ T`` and ``z_{s,T} <= 1 - x_a`` for
  ``a ∈ A_s \\ T`` (so ``z_{s,T} = 1`` exactly when the chosen options touching ``s`` are ``T``),
  ``Σ_a c_a x_a <= B``, maximise ``Σ g_s(T) z_{s,T}``; then, among the sets of that value, the
  cheapest. Exact for any gains; its size grows with ``Σ_s 2^|A_s|``.
* **greedy** (:func:`greedy`): the better of (i) adding, while the budget allows, the option of
  largest marginal gain per unit cost, (ii) adding the option of largest marginal gain, and (iii)
  the best single option that fits. When the gains are monotone and submodular (diminishing
  returns: e.g. each option saves a species with some probability, independently), the better of
  (i) and (iii) is at least ``(1 - 1/e) / 2`` (≈ 0.316) of the optimum (Khuller, Moss & Naor 1999;
  Krause & Guestrin 2005), and the better of (i) and (ii) too (Leskovec et al. 2007, the CELF
  bound); when they are additive (each option saves its own species), the better of (i) and (iii)
  is at least half the optimum (the extended greedy of the 0-1 knapsack problem, Kellerer,
  Pferschy & Pisinger 2004, section 2.5). Complementary options (a species saved only by two
  options together) carry no guarantee.

The chosen set's expected gain comes with its Monte Carlo standard error and a normal interval,
from the per-replicate values. It is the largest of many estimates and so biased upwards (the
"winner's curse"); the bias is small when the interval is narrow beside the gaps between sets.

References
----------
Khuller S., Moss A. & Naor J. (1999) The budgeted maximum coverage problem. Information Processing
Letters 70: 39-45.
Krause A. & Guestrin C. (2005) A note on the budgeted maximization of submodular functions.
Technical report CMU-CALD-05-103, Carnegie Mellon University.
Leskovec J., Krause A., Guestrin C., Faloutsos C., VanBriesen J. & Glance N. (2007) Cost-effective
outbreak detection in networks. Proceedings of the 13th ACM SIGKDD conference, 420-429.
Kellerer H., Pferschy U. & Pisinger D. (2004) Knapsack Problems. Springer.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from pva import outcomes, validation

FloatArray = npt.NDArray[np.float64]
Method = Literal["auto", "exact", "greedy"]

EXACT_LIMIT = 20_000
"""``method="auto"`` solves exactly while the integer programme has at most this many
species-combination variables (``Σ_s`` simulated combinations of ``s``)."""
_RELATIVE_TOLERANCE = 1e-9
"""Budgets and equal values are compared with this relative tolerance (sums of floats)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Option:
    """An action that can be funded (e.g. securing a site)."""

    name: str
    cost: float
    """Its cost, in the study's currency, >= 0."""

    def __post_init__(self) -> None:
        validation.name(self.name, "name", owner="Option")
        own = validation.owner(self)
        object.__setattr__(self, "cost", validation.number(self.cost, "cost", owner=own, low=0))


@dataclasses.dataclass(frozen=True, eq=False)
class Portfolio:
    """Options, and each species' gain per replicate under each simulated combination of the
    options that touch it.

    ``gains[s]`` maps a frozenset of option names (the options of the combination that touch
    species ``s``) to the gain in each replicate, shape (replicates,); the empty set (no option)
    maps to the reference, usually zeros. The options that touch ``s`` are those named in its keys.
    """

    options: tuple[Option, ...]
    gains: Mapping[str, Mapping[frozenset[str], FloatArray]]
    level: float = 0.95
    """Coverage of the intervals."""

    def __post_init__(self) -> None:
        opts = tuple(self.options)
        for o in opts:
            validation.instance(o, "options", Option, owner="Portfolio")
        names = [o.name for o in opts]
        if len(set(names)) != len(names):
            raise ValueError(f"Portfolio: option names must be unique; got {names!r}")
        object.__setattr__(self, "options", opts)
        tables: dict[str, dict[frozenset[str], FloatArray]] = {}
        replicates = None
        for species, table in dict(self.gains).items():
            tables[species] = {}
            for key, values in dict(table).items():
                combo = frozenset(key)
                unknown = sorted(combo - set(names))
                if unknown:
                    raise ValueError(
                        f"Portfolio: species {species!r} has gains under options {unknown!r}, "
                        f"which are not among the options {names!r}"
                    )
                arr = np.asarray(values, dtype=float).reshape(-1)
                if replicates is None:
                    replicates = arr.size
                if arr.size != replicates or arr.size == 0 or not np.all(np.isfinite(arr)):
                    raise ValueError(
                        f"Portfolio: gains of species {species!r} under {sorted(combo)!r} must be "
                        f"{replicates} finite numbers (one per replicate); got shape {arr.shape}"
                    )
                tables[species][combo] = arr
            if frozenset() not in tables[species]:
                raise ValueError(
                    f"Portfolio: species {species!r} needs its gain without any option (the "
                    "empty combination)"
                )
        if not tables:
            raise ValueError("Portfolio: gains must hold at least one species")
        object.__setattr__(self, "gains", tables)
        if not 0 < self.level < 1:
            raise ValueError(f"Portfolio: level must lie in (0, 1); got {self.level!r}")

    # ---- the problem's parts --------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.options)

    @property
    def replicates(self) -> int:
        return int(next(iter(next(iter(self.gains.values())).values())).size)

    def cost(self, chosen: Iterable[str]) -> float:
        """Total cost of the options ``chosen``."""
        costs = {o.name: o.cost for o in self.options}
        return float(sum(costs[n] for n in set(chosen)))

    def touching(self, species: str) -> frozenset[str]:
        """The options that touch ``species`` (those named in its combinations)."""
        return frozenset().union(*self.gains[species])

    def feasible(self, chosen: Iterable[str]) -> bool:
        """Whether every species was simulated under the options of ``chosen`` that touch it."""
        s = frozenset(chosen)
        return all(s & self.touching(sp) in table for sp, table in self.gains.items())

    def per_replicate(self, chosen: Iterable[str]) -> FloatArray:
        """Gain of ``chosen`` in each replicate, summed over species, shape (replicates,).

        Raises
        ------
        ValueError
            If a species was not simulated under the options of ``chosen`` that touch it.
        """
        s = frozenset(chosen)
        total = np.zeros(self.replicates)
        for sp, table in self.gains.items():
            key = s & self.touching(sp)
            if key not in table:
                raise ValueError(
                    f"species {sp!r} was not simulated with options {sorted(key)!r} together "
                    "(add a scenario with exactly those actions)"
                )
            total += table[key]
        return total

    def value(self, chosen: Iterable[str]) -> float:
        """Expected gain of ``chosen`` (mean over replicates)."""
        return float(self.per_replicate(chosen).mean())

    def expected(self) -> dict[str, dict[frozenset[str], float]]:
        """Each species' expected gain under each combination (mean over replicates)."""
        return {
            sp: {k: float(v.mean()) for k, v in table.items()} for sp, table in self.gains.items()
        }

    def choice(self, chosen: Iterable[str], *, method: str, budget: float) -> Choice:
        """``chosen`` as a :class:`Choice`, with its expected gain and interval."""
        s = frozenset(chosen)
        v = self.per_replicate(s)
        mean = float(v.mean())
        se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan")
        z = outcomes.z_score(self.level)
        order = [n for n in self.names if n in s]
        return Choice(
            options=tuple(order),
            cost=self.cost(s),
            budget=float(budget),
            expected=mean,
            mcse=se,
            ci=(mean - z * se, mean + z * se),
            method=method,
            level=self.level,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Choice:
    """A chosen set of options with its expected gain."""

    options: tuple[str, ...]
    """Options chosen, in the order of the portfolio."""
    cost: float
    """Their total cost."""
    budget: float
    """The budget they were chosen under."""
    expected: float
    """Expected gain (e.g. extinctions prevented), the mean over replicates."""
    mcse: float
    """Its Monte Carlo standard error."""
    ci: tuple[float, float]
    """Normal interval of the expected gain at ``level``."""
    method: str
    """"exact", or "greedy" (with the guarantee stated in :mod:`pva.portfolio`)."""
    level: float = 0.95

    def to_dict(self) -> dict[str, object]:
        return {
            "options": list(self.options),
            "cost": self.cost,
            "budget": self.budget,
            "expected": self.expected,
            "mcse": self.mcse,
            "ci": list(self.ci),
            "level": self.level,
            "method": self.method,
        }


def _allowed(budget: float) -> float:
    """The largest cost that fits ``budget``: the budget and a rounding tolerance."""
    return budget + _RELATIVE_TOLERANCE * max(1.0, abs(budget))


def _fits(cost: float, budget: float) -> bool:
    return cost <= _allowed(budget)


def _check_budget(budget: float) -> float:
    return validation.number(budget, "budget", low=0)


# ---------------------------------------------------------------------------------------------------
# greedy


def greedy(portfolio: Portfolio, budget: float) -> Choice:
    """The better of the cost-benefit greedy, the unit-cost greedy and the best single option
    within ``budget`` (see the module docstring for the guarantees and their sources).

    Each greedy pass adds, among the options that still fit and keep the set feasible, the one
    with the largest marginal gain per unit cost (an option of zero cost and positive gain first)
    or the largest marginal gain, while that gain is positive."""
    budget = _check_budget(budget)
    expected = portfolio.expected()
    candidates = [
        _greedy_pass(portfolio, expected, budget, per_cost=True),
        _greedy_pass(portfolio, expected, budget, per_cost=False),
        _best_single(portfolio, expected, budget),
    ]
    best = max(candidates, key=lambda s: (_value(portfolio, expected, s), -portfolio.cost(s)))
    return portfolio.choice(best, method="greedy", budget=budget)


def _value(
    portfolio: Portfolio, expected: Mapping[str, Mapping[frozenset[str], float]], s: frozenset[str]
) -> float:
    """Expected value of a feasible set from the species' expected tables (no replicate sums)."""
    return sum(table[s & portfolio.touching(sp)] for sp, table in expected.items())


def _greedy_pass(
    portfolio: Portfolio,
    expected: Mapping[str, Mapping[frozenset[str], float]],
    budget: float,
    *,
    per_cost: bool,
) -> frozenset[str]:
    chosen: frozenset[str] = frozenset()
    spent = 0.0
    current = _value(portfolio, expected, chosen)
    while True:
        best, best_key = None, None
        for o in portfolio.options:
            if o.name in chosen or not _fits(spent + o.cost, budget):
                continue
            trial = chosen | {o.name}
            if not portfolio.feasible(trial):
                continue
            gain = _value(portfolio, expected, trial) - current
            if gain <= 0:
                continue
            key = (math.inf if o.cost == 0 else gain / o.cost) if per_cost else gain
            if best_key is None or key > best_key:
                best, best_key = o, key
        if best is None:
            return chosen
        chosen = chosen | {best.name}
        spent += best.cost
        current = _value(portfolio, expected, chosen)


def _best_single(
    portfolio: Portfolio, expected: Mapping[str, Mapping[frozenset[str], float]], budget: float
) -> frozenset[str]:
    best: frozenset[str] = frozenset()
    best_value = _value(portfolio, expected, best)
    for o in portfolio.options:
        s = frozenset({o.name})
        if _fits(o.cost, budget) and portfolio.feasible(s):
            v = _value(portfolio, expected, s)
            if v > best_value:
                best, best_value = s, v
    return best


# ---------------------------------------------------------------------------------------------------
# exact


def milp_size(portfolio: Portfolio) -> int:
    """Number of species-combination variables of the integer programme."""
    return sum(len(table) for table in portfolio.gains.values())


def exact(portfolio: Portfolio, budget: float) -> Choice:
    """The feasible set of largest expected gain within ``budget`` (the cheapest of those), by
    integer programming (``scipy.optimize.milp``; formulation in the module docstring)."""
    # imported here: the summaries import this module for its site indicators, not the solver
    import scipy.sparse

    budget = _check_budget(budget)
    expected = portfolio.expected()
    names = portfolio.names
    index = {n: i for i, n in enumerate(names)}
    costs = np.array([o.cost for o in portfolio.options])
    combos = [(sp, key, v) for sp, table in expected.items() for key, v in table.items()]
    n_x, n_z = len(names), len(combos)
    rows, cols, vals, lo, hi = [], [], [], [], []

    def constraint(entries: Sequence[tuple[int, float]], low: float, high: float) -> None:
        r = len(lo)
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lo.append(low)
        hi.append(high)

    for sp in expected:
        own = [k for k, (s, _, _) in enumerate(combos) if s == sp]
        constraint([(n_x + k, 1.0) for k in own], 1.0, 1.0)  # one combination per species
        touching = portfolio.touching(sp)
        for k in own:
            _, key, _ = combos[k]
            for a in touching:
                if a in key:  # z <= x_a
                    constraint([(n_x + k, 1.0), (index[a], -1.0)], -np.inf, 0.0)
                else:  # z + x_a <= 1
                    constraint([(n_x + k, 1.0), (index[a], 1.0)], -np.inf, 1.0)
    # the budget row allows what _fits allows (brute force and greedy use the same rule), in units
    # of the largest of that and the costs, so that the solver's absolute feasibility tolerance
    # (~1e-7) is relative to them
    allowed = _allowed(budget)
    scale = max(allowed, float(costs.max(initial=0.0)), 1e-300)
    constraint([(i, float(c) / scale) for i, c in enumerate(costs)], -np.inf, allowed / scale)
    gains = np.array([v for _, _, v in combos])
    A = scipy.sparse.csr_array((vals, (rows, cols)), shape=(len(lo), n_x + n_z))

    def admissible(s: frozenset[str]) -> bool:
        return portfolio.feasible(s) and _fits(portfolio.cost(s), budget)

    solve = _Programme(A, np.asarray(lo), np.asarray(hi), names, admissible)
    chosen = solve(np.concatenate([np.zeros(n_x), -gains]))
    if chosen is None:  # the empty set is always admissible, so this is a solver failure
        raise ValueError("the integer programme of the budgeted choice was not solved")
    best = _value(portfolio, expected, chosen)
    # among the sets of that value, the cheapest: a second programme, kept only if its set is
    # worth as much when evaluated exactly
    value_row = (np.concatenate([np.zeros(n_x), gains]), best - 1e-7 * max(1.0, abs(best)))
    cheaper = solve(np.concatenate([costs, np.zeros(n_z)]), extra=value_row)
    if (
        cheaper is not None
        and _value(portfolio, expected, cheaper) >= best - _RELATIVE_TOLERANCE * max(1.0, abs(best))
        and portfolio.cost(cheaper) < portfolio.cost(chosen)
    ):
        chosen = cheaper
    return portfolio.choice(chosen, method="exact", budget=budget)


class _Programme:
    """The integer programme of :func:`exact`, solved with HiGHS to optimality; a solution whose
    options, rounded, break the budget or feasibility by more than the solver's tolerance is cut
    off (``Σ_{a∈S} (1 - x_a) + Σ_{a∉S} x_a >= 1``) and the programme solved again."""

    def __init__(self, A, lo, hi, names, admissible) -> None:  # type: ignore[no-untyped-def]
        self.A, self.lo, self.hi = A, lo, hi
        self.names = names
        self.admissible = admissible

    def __call__(
        self, objective: FloatArray, *, extra: tuple[FloatArray, float] | None = None
    ) -> frozenset[str] | None:
        import scipy.optimize
        import scipy.sparse

        n = objective.size
        n_x = len(self.names)
        A, lo, hi = self.A, self.lo, self.hi
        if extra is not None:
            A = scipy.sparse.vstack([A, scipy.sparse.csr_array(extra[0][None, :])])
            lo, hi = np.append(lo, extra[1]), np.append(hi, np.inf)
        for _ in range(4 * n_x + 8):
            res = scipy.optimize.milp(
                objective,
                constraints=scipy.optimize.LinearConstraint(A, lo, hi),
                bounds=scipy.optimize.Bounds(np.zeros(n), np.ones(n)),
                integrality=np.ones(n),
                options={"mip_rel_gap": 0.0},  # HiGHS stops at a 1e-4 gap by default
            )
            if res.x is None:
                return None
            x = np.asarray(res.x[:n_x]) > 0.5
            chosen = frozenset(a for a, on in zip(self.names, x, strict=True) if on)
            if self.admissible(chosen):
                return chosen
            cut = np.zeros(n)
            cut[:n_x] = np.where(x, -1.0, 1.0)
            A = scipy.sparse.vstack([A, scipy.sparse.csr_array(cut[None, :])])
            lo, hi = np.append(lo, 1.0 - x.sum()), np.append(hi, np.inf)
        return None


# ---------------------------------------------------------------------------------------------------
# the entry points


def choose(portfolio: Portfolio, budget: float, *, method: Method = "auto") -> Choice:
    """The set of options to fund within ``budget``: exactly (``"exact"``), greedily
    (``"greedy"``), or exactly while the integer programme has at most :data:`EXACT_LIMIT`
    species-combination variables, else greedily (``"auto"``)."""
    validation.one_of(method, "method", ("auto", "exact", "greedy"))
    if method == "exact" or (method == "auto" and milp_size(portfolio) <= EXACT_LIMIT):
        return exact(portfolio, budget)
    return greedy(portfolio, budget)


def budget_curve(
    portfolio: Portfolio, budgets: Iterable[float] | None = None, *, method: Method = "auto"
) -> list[Choice]:
    """The best choice at each budget: the curve of the expected gain against budget.

    ``budgets`` default to 0 and every distinct total cost of a feasible set of options (the
    points where the curve can step up) when there are at most 12 options, else 20 budgets evenly
    from 0 to the cost of all options."""
    if budgets is None:
        budgets = _breakpoints(portfolio)
    return [choose(portfolio, b, method=method) for b in sorted({float(b) for b in budgets})]


def _breakpoints(portfolio: Portfolio) -> list[float]:
    costs = [o.cost for o in portfolio.options]
    if len(costs) > 12:
        return list(np.linspace(0.0, float(sum(costs)), 21))
    totals = {0.0}
    for k in range(1, len(costs) + 1):
        for combo in itertools.combinations(portfolio.options, k):
            if portfolio.feasible(o.name for o in combo):
                totals.add(float(sum(o.cost for o in combo)))
    return sorted(totals)


def brute_force(portfolio: Portfolio, budget: float) -> tuple[frozenset[str], float]:
    """The best feasible set within ``budget`` by enumerating every set (small problems only: a
    reference for tests), and its expected gain."""
    budget = _check_budget(budget)
    expected = portfolio.expected()
    best: frozenset[str] = frozenset()
    best_value = _value(portfolio, expected, best)
    for k in range(1, len(portfolio.options) + 1):
        for combo in itertools.combinations(portfolio.names, k):
            s = frozenset(combo)
            if _fits(portfolio.cost(s), budget) and portfolio.feasible(s):
                v = _value(portfolio, expected, s)
                if v > best_value:
                    best, best_value = s, v
    return best, best_value


__all__ = [
    "EXACT_LIMIT",
    "Choice",
    "Option",
    "Portfolio",
    "brute_force",
    "budget_curve",
    "choose",
    "exact",
    "greedy",
]
