"""Hypothesis strategies for pva's specifications and arrays (cf. ``xarray.testing.strategies``).

The one place for the strategies of the property tests (tests/properties), so that a new property
draws from the same kinds of species, scenarios and Red List arrays as the others. Every strategy
draws *valid* values (the specifications' ``__post_init__`` accepts them); properties about invalid
input build it from these by hand.

Needs Hypothesis (the ``test`` extra)::

    from pva.testing import strategies as pst

    @given(sp=pst.species(), seed=st.integers(0, 2**32 - 1))
    def test_something(sp, seed): ...
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pva import redlist
from pva.model import (
    Catastrophe,
    DensityDependence,
    Dispersal,
    MatrixSelection,
    Population,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
)
from pva.scenario import (
    Action,
    ClimateTrend,
    ConflictMitigation,
    Disease,
    ExSituRelease,
    HabitatLoss,
    HabitatProtection,
    Harvest,
    InvasivePredator,
    PredatorControl,
    Scenario,
    ThreatAbatement,
    Translocation,
    VitalRateReduction,
)
from pva.sites import SiteCatastrophe
from pva.validation import printable_name

Matrix = tuple[tuple[float, ...], ...]

probabilities = st.floats(0.0, 1.0, allow_nan=False)
"""A probability or a fraction in [0, 1]."""

# ---------------------------------------------------------------------------------------------------
# matrices and species
# ---------------------------------------------------------------------------------------------------


@st.composite
def survival_matrices(draw: st.DrawFn, n: int) -> Matrix:
    """``n x n`` transition matrices U whose columns sum to at most 1: each column a random split of
    a survival probability."""
    cols = []
    for _ in range(n):
        weights = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
        s = draw(probabilities)
        total = sum(weights)
        cols.append([s * w / total if total > 0 else 0.0 for w in weights])
    return tuple(tuple(cols[j][i] for j in range(n)) for i in range(n))


@st.composite
def fecundity_matrices(draw: st.DrawFn, n: int) -> Matrix:
    """``n x n`` fecundity matrices F: births (0 to 3 per individual) into the first stage only."""
    return tuple(
        tuple(draw(st.floats(0.0, 3.0)) if i == 0 else 0.0 for _j in range(n)) for i in range(n)
    )


@st.composite
def positive_matrices(draw: st.DrawFn, min_n: int = 1, max_n: int = 5) -> npt.NDArray[np.float64]:
    """Strictly positive ``n x n`` projection matrices, ``min_n <= n <= max_n``: irreducible and
    primitive, so the dominant eigenvalue λ is simple (Caswell 2001, section 4.5)."""
    n = draw(st.integers(min_n, max_n))
    return draw(hnp.arrays(np.float64, (n, n), elements=st.floats(0.01, 5.0)))


@st.composite
def species(draw: st.DrawFn, *, births: bool = True) -> Species:
    """Small valid species (1-3 stages, 1-2 populations) mixing the engine's features: one matrix
    or iid selection between two, any density dependence with or without a ceiling, a catastrophe,
    dispersal between two populations. ``births=False`` gives survival-only species (F = 0)."""
    n = draw(st.integers(1, 3))
    n_pop = draw(st.integers(1, 2))
    stages = tuple(f"s{i}" for i in range(n))
    k = draw(st.one_of(st.none(), st.floats(0.0, 200.0)))
    pops = tuple(
        Population(
            name=f"p{p}",
            initial=tuple(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))),
            carrying_capacity=k,
            carrying_capacity_cv=draw(st.sampled_from([0.0, 0.3])),
        )
        for p in range(n_pop)
    )
    no_births: Matrix = tuple((0.0,) * n for _ in range(n))
    U: Matrix | None = draw(survival_matrices(n))
    F: Matrix | None = draw(fecundity_matrices(n)) if births else no_births
    fittest = max(sum(row[j] for row in U) for j in range(n))  # type: ignore[union-attr]
    env = None
    if draw(st.booleans()):
        U2 = draw(survival_matrices(n))
        F2 = draw(fecundity_matrices(n)) if births else no_births
        fittest = max(fittest, *(sum(row[j] for row in U2) for j in range(n)))
        env = MatrixSelection(U=(U, U2), F=(F, F2))  # type: ignore[arg-type]
        U = F = None
    dd = None
    if k is not None:
        kind = draw(
            st.sampled_from(
                ["ceiling", "beverton_holt", "ricker", "theta_logistic", "vortex_breeding"]
            )
        )
        dd = DensityDependence(
            kind=kind,  # type: ignore[arg-type]
            strength=draw(st.floats(0.0, 3.0)),
            allee=draw(st.sampled_from([0.0, 5.0])),
            breeding_at_k=0.5,
            ceiling=draw(st.booleans()),
        )
    catastrophes: tuple[Catastrophe, ...] = ()
    if draw(st.booleans()):
        catastrophes = (
            Catastrophe(
                name="c",
                probability=draw(probabilities),
                # good years (> 1) too, as far as survival stays a probability (issue 14)
                survival_multiplier=draw(st.floats(0.0, min(1.5, 1.0 / max(fittest, 1e-9)))),
                fecundity_multiplier=draw(st.floats(0.0, 2.0)),
                carrying_capacity_multiplier=draw(st.floats(0.0, 1.0)),
            ),
        )
    dispersal = None
    if n_pop == 2 and draw(st.booleans()):
        a, b = draw(probabilities), draw(probabilities)
        dispersal = Dispersal(rates=((0.0, a), (b, 0.0)))
    return Species(
        name="random",
        stages=stages,
        U=U,
        F=F,
        environment=env,
        populations=pops,
        density_dependence=dd,
        catastrophes=catastrophes,
        dispersal=dispersal,
        generation_length=1.0,
        mature_stages=stages[-1:],
    )


@st.composite
def beta_rates(draw: st.DrawFn, name: str) -> VitalRate:
    """A beta-distributed vital rate: mean in (0, 1), sd below the beta's bound ``sqrt(m (1 - m))``."""
    mean = draw(st.floats(0.01, 0.99))
    sd = draw(st.floats(0.0, 0.999)) * np.sqrt(mean * (1 - mean))
    return VitalRate(name=name, mean=mean, sd=sd)


@st.composite
def vital_rate_species(draw: st.DrawFn) -> Species:
    """A two-stage species built from vital rates (juvenile and adult survival, growth, fecundity
    fixed or lognormal) with correlated, autocorrelated environmental variation."""
    sj, sa = draw(beta_rates("sj")), draw(beta_rates("sa"))
    g = draw(beta_rates("g"))
    if draw(st.booleans()):
        f = VitalRate(
            name="f",
            mean=draw(st.floats(0.01, 5.0)),
            sd=draw(st.floats(0.0, 5.0)),
            distribution="lognormal",
        )
    else:
        f = VitalRate(name="f", mean=draw(st.floats(0.0, 5.0)), distribution="fixed")
    r = draw(st.floats(-0.99, 0.99))
    env = VitalRateStochasticity(
        rates=("sj", "sa"),
        correlation=((1.0, r), (r, 1.0)),
        autocorrelation=draw(st.floats(-0.9, 0.9)),
    )
    return Species(
        name="rates",
        stages=("juvenile", "adult"),
        vital_rates=VitalRates(
            rates=(sj, sa, g, f),
            U=(("sj * (1 - g)", 0), ("sj * g", "sa")),
            F=((0, "f"), (0, 0)),
        ),
        environment=env,
        initial=tuple(draw(st.lists(st.integers(0, 40), min_size=2, max_size=2))),
        carrying_capacity=draw(st.one_of(st.none(), st.floats(1.0, 300.0))),
        generation_length=1.0,
    )


# ---------------------------------------------------------------------------------------------------
# threats, interventions, scenarios
# ---------------------------------------------------------------------------------------------------


def _subsets(names: Sequence[str]) -> st.SearchStrategy[tuple[str, ...]]:
    """None (meaning all), each name alone, or all names."""
    names = tuple(names)
    return st.sampled_from([(), *((n,) for n in names), names])


@st.composite
def timings(draw: st.DrawFn) -> dict[str, int]:
    """Keyword arguments of an action's time window: a start and a ramp, and an end, a duration or
    neither (open ended)."""
    start = draw(st.integers(0, 30))
    out = {"start": start, "ramp": draw(st.integers(0, 5))}
    kind = draw(st.sampled_from(["open", "end", "duration"]))
    if kind == "end":
        out["end"] = start + draw(st.integers(1, 20))
    elif kind == "duration":
        out["duration"] = draw(st.integers(1, 20))
    return out


@st.composite
def threats(
    draw: st.DrawFn, name: str, *, stages: Sequence[str], populations: Sequence[str]
) -> Action:
    """One threat named ``name`` of any kind (habitat loss, harvest by proportion or number, vital
    rate reduction, disease, invasive predator, climate trend, site catastrophe) acting on some of
    ``stages`` and
    ``populations``."""
    stage_sets, population_sets = _subsets(stages), _subsets(populations)
    t = draw(timings())
    kind = draw(
        st.sampled_from(
            ["loss", "harvest_p", "harvest_n", "vrr", "disease", "predator", "climate", "site"]
        )
    )
    if kind == "site":
        return SiteCatastrophe(
            name=name,
            probability=draw(probabilities),
            survival=draw(probabilities),
            fecundity=draw(probabilities),
            carrying_capacity=draw(probabilities),
            stages=draw(stage_sets),
            populations=draw(population_sets),
            **t,
        )
    if kind == "loss":
        floor = draw(st.floats(0.0, 0.9))
        if "end" in t or "duration" in t:
            rate = draw(st.none() | st.floats(0.01, 0.5))
        else:
            rate = draw(st.floats(0.01, 0.5))
        return HabitatLoss(
            name=name, rate=rate, floor=floor, populations=draw(population_sets), **t
        )
    if kind == "harvest_p":
        return Harvest(name=name, stages=draw(stage_sets), proportion=draw(probabilities), **t)
    if kind == "harvest_n":
        return Harvest(name=name, stages=draw(stage_sets), number=draw(st.floats(0, 50)), **t)
    if kind == "climate":
        return ClimateTrend(
            name=name,
            stages=draw(stage_sets),
            survival_trend=draw(st.floats(-0.05, 0.0)),
            fecundity_trend=draw(st.floats(-0.05, 0.0)),
            **t,
        )
    cls = {"vrr": VitalRateReduction, "disease": Disease, "predator": InvasivePredator}[kind]
    frequency = draw(st.none() | st.floats(0.01, 1.0))
    return cls(
        name=name,
        stages=draw(stage_sets),
        survival=draw(probabilities),
        fecundity=draw(probabilities),
        carrying_capacity=draw(probabilities) if frequency is not None else 1.0,
        frequency=frequency,
        populations=draw(population_sets),
        **t,
    )


def abatement_for(threat: Action, name: str, fraction: float, delay: int, cost: float) -> Action:
    """The intervention that abates ``threat`` by ``fraction`` after ``delay`` years at ``cost`` a
    year: habitat protection for habitat loss, conflict mitigation for harvest, predator control for
    an invasive predator, a generic threat abatement otherwise."""
    kwargs = {"name": name, "threat": threat.name, "fraction": fraction, "delay": delay}
    if isinstance(threat, HabitatLoss):
        return HabitatProtection(**kwargs, annual_cost=cost)  # type: ignore[arg-type]
    if isinstance(threat, Harvest):
        return ConflictMitigation(**kwargs, annual_cost=cost)  # type: ignore[arg-type]
    if isinstance(threat, InvasivePredator):
        return PredatorControl(**kwargs, annual_cost=cost)  # type: ignore[arg-type]
    return ThreatAbatement(**kwargs, annual_cost=cost)  # type: ignore[arg-type]


@st.composite
def scenarios(draw: st.DrawFn, species: Species) -> Scenario:
    """A scenario for ``species`` (which needs two or more populations): up to four threats, each
    abated or not, maybe a translocation into its last population (from its first or from
    captivity) and an ex-situ release."""
    stages = species.stages
    populations = tuple(p.name for p in species.populations)
    ts = [
        draw(threats(f"threat {i}", stages=stages, populations=populations))
        for i in range(draw(st.integers(0, 4)))
    ]
    actions: list[Action] = list(ts)
    for i, t in enumerate(ts):
        if draw(st.booleans()):
            actions.append(
                abatement_for(
                    t,
                    f"abate {i}",
                    draw(probabilities),
                    draw(st.integers(0, 5)),
                    draw(st.floats(0, 1e6)),
                )
            )
    if draw(st.booleans()):
        actions.append(
            Translocation(
                name="move",
                population=populations[-1],
                source=draw(st.sampled_from([None, populations[0]])),
                individuals={draw(st.sampled_from(stages)): draw(st.integers(0, 20))},
                survival=draw(probabilities),
                interval=draw(st.integers(1, 4)),
                **draw(timings()),
            )
        )
    if draw(st.booleans()):
        actions.append(
            ExSituRelease(
                name="zoo", individuals={stages[-1]: draw(st.floats(0, 10))}, programme="zoo"
            )
        )
    # names are printable text, without control characters (pva.validation.printable_name)
    names = st.text(min_size=1, max_size=10).filter(lambda s: s.strip() and printable_name(s))
    return Scenario(draw(names), tuple(actions))


# ---------------------------------------------------------------------------------------------------
# Red List arrays
# ---------------------------------------------------------------------------------------------------

CLASSIFIED_CODES: tuple[int, ...] = (
    redlist.NOT_EVALUABLE,
    redlist.LC,
    redlist.NT,
    redlist.VU,
    redlist.EN,
    redlist.CR,
    redlist.EX,
)
"""The category codes :func:`pva.redlist.classify` produces (no EW, DD or NE)."""


def category_names() -> st.SearchStrategy[str]:
    """A category name of a hand list: evaluated, DD, NE or CR(PE)."""
    return st.sampled_from([*redlist.CATEGORIES, "DD", "NE", "CR(PE)"])


def category_codes(
    shape: st.SearchStrategy[tuple[int, ...]] | tuple[int, ...],
    *,
    classified: bool = False,
) -> st.SearchStrategy[npt.NDArray[np.int8]]:
    """``int8`` arrays of category codes: every code (sentinels included), or with
    ``classified=True`` only those :func:`pva.redlist.classify` produces."""
    codes = CLASSIFIED_CODES if classified else tuple(sorted(redlist.CATEGORY_CODES.values()))
    return hnp.arrays(np.int8, shape, elements=st.sampled_from(codes))


def abundances(
    shape: st.SearchStrategy[tuple[int, ...]] | tuple[int, ...], *, max_value: float = 20_000.0
) -> st.SearchStrategy[npt.NDArray[np.float64]]:
    """Arrays of finite, non-negative abundances up to ``max_value``."""
    return hnp.arrays(
        np.float64,
        shape,
        elements=st.floats(0.0, max_value, allow_nan=False, allow_infinity=False),
    )
