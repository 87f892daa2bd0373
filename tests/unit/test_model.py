"""Specifications in pva.model: validation messages, derived arrays, the expression language and
the dict round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.stats
from example_species import F2, U2, hudsonia_rate_rows, two_stage

from pva import analysis
from pva.model import (
    Catastrophe,
    DensityDependence,
    Dispersal,
    Mating,
    MatrixSelection,
    Population,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
    compile_expression,
    hudsonia_vital_rates,
    largest_remainder,
)

# ---- Species basics ---------------------------------------------------------------------------


def test_arrays_and_defaults() -> None:
    sp = two_stage()
    np.testing.assert_array_equal(sp.A, np.array(U2) + np.array(F2))
    assert sp.U_array.shape == sp.F_array.shape == sp.C_array.shape == (2, 2)
    assert sp.n_stages == 2
    assert sp.n_populations == 1
    assert sp.population_names == ("main",)
    # mature stages default to the stages that reproduce (positive F column)
    assert sp.mature_stages == ("adult",)
    np.testing.assert_array_equal(sp.mature_mask, [False, True])
    np.testing.assert_array_equal(sp.initial_abundance, [[10, 5]])
    assert sp.initial_abundance.dtype == np.int64
    assert np.isinf(sp.carrying_capacities).all()


def test_fields_are_tuples_from_lists_and_arrays() -> None:
    sp = two_stage(U=np.array(U2), F=[list(r) for r in F2], stages=["juvenile", "adult"])
    assert sp.U == U2
    assert isinstance(sp.F, tuple)
    assert sp.stages == ("juvenile", "adult")
    assert hash(sp) == hash(two_stage())


def test_generation_length_computed_by_analysis_or_given() -> None:
    sp = two_stage()
    assert sp.generation_length == pytest.approx(analysis.generation_length(U2, F2))
    assert two_stage(generation_length=7.5).generation_length == 7.5
    with pytest.raises(ValueError, match=r"generation_length must be > 0 years; got -1"):
        two_stage(generation_length=-1)


def test_initial_total_is_spread_by_the_stable_stage_distribution() -> None:
    sp = two_stage(initial=None, initial_total=1001)
    w = analysis.stable_stage(sp.A)
    n0 = sp.initial_abundance[0]
    assert n0.sum() == 1001
    # largest remainder: each entry is the floor or the ceiling of its exact share
    assert np.all(np.abs(n0 - 1001 * w) < 1)


def test_largest_remainder_hamilton() -> None:
    # shares 3.5, 3.3, 3.2 of 10: floors 3, 3, 3 and the one left goes to the largest remainder
    np.testing.assert_array_equal(largest_remainder(10, np.array([0.35, 0.33, 0.32])), [4, 3, 3])
    np.testing.assert_array_equal(largest_remainder(0, np.array([0.5, 0.5])), [0, 0])


# ---- validation messages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"U": ((0.2, 0.0),)}, r"U must be a 2x2 matrix"),
        ({"U": ((0.6, 0.0), (0.5, 0.8))}, r"U column sums .* must be <= 1; got \[1\.1"),
        ({"U": ((-0.1, 0.0), (0.5, 0.8))}, r"U must be >= 0"),
        ({"F": ((0.0, -1.0), (0.0, 0.0))}, r"F must be >= 0"),
        ({"U": ((float("nan"), 0.0), (0.5, 0.8))}, r"U must be finite; got nan"),
        ({"stages": ("a", "a")}, r"stages must not repeat a name"),
        ({"mature_stages": ("adult", "elder")}, r"mature_stages names unknown stages \['elder'\]"),
        ({"initial": (1, 2, 3)}, r"initial must have 2 entries"),
        ({"initial": (1, -2)}, r"initial\[1\] must be an integer >= 0; got -2"),
        ({"initial": (1.5, 2)}, r"initial\[0\] must be an integer; got 1.5"),
        ({"initial_total": 10}, r"give initial or initial_total, not both"),
        ({"initial": None}, r"needs initial or initial_total"),
        ({"quasi_extinction_threshold": -1}, r"quasi_extinction_threshold must be >= 0; got -1"),
        (
            {"quasi_extinction_on": "adults"},
            r"quasi_extinction_on must be one of \('total', 'mature'\)",
        ),
        ({"litter": "geometric"}, r"litter must be one of"),
        ({"litter": "binomial"}, r"max_litter is required for binomial litters"),
        (
            {"litter": "binomial", "max_litter": 1},
            r"mean offspring per individual 1.5 exceeds max_litter=1",
        ),
        ({"max_litter": 3}, r"max_litter applies only to litter='binomial'"),
        (
            {"demographic_stochasticity": 1},
            r"demographic_stochasticity must be True or False; got 1",
        ),
        ({"density_dependence": DensityDependence()}, r"needs a carrying_capacity"),
        ({"U": None, "F": None}, r"U and F \(or vital_rates\) are required"),
        (
            {"populations": (Population(name="a", initial=(1, 1)),)},
            r"set initial/initial_total/carrying_capacity on each Population",
        ),
    ],
)
def test_species_validation(changes: dict[str, object], match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        two_stage(**changes)


def test_species_name_and_kinds() -> None:
    with pytest.raises(ValueError, match=r"Species: name must be a non-empty string; got ''"):
        two_stage(name="")
    with pytest.raises(TypeError, match=r"U must be a number; got 'x'"):
        two_stage(U=(("x", 0), (0, 0)))
    with pytest.raises(TypeError, match=r"environment must be MatrixSelection"):
        two_stage(environment="iid")


def test_populations_and_dispersal_validation() -> None:
    pops = (
        Population(name="north", initial=(5, 5), carrying_capacity=100),
        Population(name="south", initial_total=20),
    )
    sp = two_stage(
        initial=None,
        populations=pops,
        dispersal=Dispersal(rates=((0, 0.1), (0.2, 0)), stages=("adult",)),
    )
    assert sp.n_populations == 2
    assert sp.initial_abundance.shape == (2, 2)
    assert sp.initial_abundance[1].sum() == 20
    np.testing.assert_array_equal(sp.carrying_capacities, [100, np.inf])
    np.testing.assert_array_equal(sp.dispersal_mask, [False, True])
    with pytest.raises(ValueError, match=r"dispersal.rates must be 2x2 \(populations\); got 3"):
        two_stage(initial=None, populations=pops, dispersal=Dispersal(rates=np.zeros((3, 3))))
    with pytest.raises(ValueError, match=r"populations \(names\) must not repeat a name"):
        two_stage(initial=None, populations=(pops[0], pops[0]))
    with pytest.raises(ValueError, match=r"dispersal.stages names unknown stages \['egg'\]"):
        two_stage(
            initial=None,
            populations=pops,
            dispersal=Dispersal(rates=((0, 0), (0, 0)), stages=("egg",)),
        )
    with pytest.raises(
        ValueError, match=r"columns \(from population j\) must sum to <= 1; got sums \[1.2"
    ):
        Dispersal(rates=((0, 0.5, 0), (0.7, 0, 0), (0.5, 0, 0)))
    with pytest.raises(ValueError, match=r"zero diagonal"):
        Dispersal(rates=((0.1, 0.0), (0.0, 0.0)))
    with pytest.raises(ValueError, match=r"carrying_capacity_trend must be > -100"):
        Population(name="x", initial_total=1, carrying_capacity_trend=-100)
    with pytest.raises(ValueError, match=r"carrying_capacity_cv must be >= 0; got -0.1"):
        Population(name="x", initial_total=1, carrying_capacity_cv=-0.1)


def test_catastrophe_density_mating_validation() -> None:
    with pytest.raises(ValueError, match=r"probability must be a probability in \[0, 1\]; got 1.5"):
        Catastrophe(name="fire", probability=1.5)
    with pytest.raises(ValueError, match=r"survival_multiplier must be >= 0; got -0.5"):
        Catastrophe(name="fire", probability=0.1, survival_multiplier=-0.5)
    with pytest.raises(
        ValueError, match=r"catastrophe 'fire' survival_multiplier must be one number or 2"
    ):
        two_stage(
            catastrophes=(Catastrophe(name="fire", probability=0.1, survival_multiplier=(1, 1, 1)),)
        )
    with pytest.raises(ValueError, match=r"kind must be one of"):
        DensityDependence(kind="logistic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"applies_to must be one of"):
        DensityDependence(kind="ricker", applies_to=("growth",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"theta must be > 0; got 0"):
        DensityDependence(kind="theta_logistic", theta=0)
    with pytest.raises(ValueError, match=r"weights must have 2 entries"):
        two_stage(carrying_capacity=10, density_dependence=DensityDependence(weights=(1, 1, 1)))
    with pytest.raises(ValueError, match=r"sex_ratio must lie strictly between 0 and 1; got 0.0"):
        Mating(sex_ratio=0.0)
    with pytest.raises(ValueError, match=r"harem_size must be 1 for monogamy; got 3"):
        Mating(harem_size=3)
    assert DensityDependence().ceiling is True
    assert DensityDependence(kind="ricker").ceiling is False
    # VORTEX truncates to K whatever its breeding function (Lacy 2000): so does vortex_breeding
    assert DensityDependence(kind="vortex_breeding").ceiling is True
    assert DensityDependence(kind="vortex_breeding", ceiling=False).ceiling is False


# ---- vital rates ------------------------------------------------------------------------------


def test_beta_sd_too_large_names_the_largest_possible() -> None:
    limit = math.sqrt(0.8 * 0.2)
    with pytest.raises(ValueError, match=rf"largest SD possible.*|= {limit!r}") as info:
        VitalRate(name="s", mean=0.8, sd=0.45)
    assert repr(limit) in str(info.value)
    assert "VitalRate 's': sd=0.45" in str(info.value)
    # stretched beta on [0, 10] with mean 4: sd < sqrt(4 * 6)
    with pytest.raises(ValueError, match=repr(math.sqrt(24.0)).replace(".", r"\.")):
        VitalRate(name="f", mean=4, sd=5, distribution="stretched_beta", lower=0, upper=10)
    with pytest.raises(ValueError, match=r"mean must lie in \[0.0, 1.0\] for a beta; got 1.2"):
        VitalRate(name="s", mean=1.2)
    with pytest.raises(ValueError, match=r"mean must be > 0 for a lognormal with sd > 0"):
        VitalRate(name="f", mean=0, sd=1, distribution="lognormal")
    with pytest.raises(ValueError, match=r"sd must be 0 for a fixed rate"):
        VitalRate(name="f", mean=1, sd=1, distribution="fixed")


def test_beta_and_lognormal_parameters_reproduce_mean_and_sd() -> None:
    r = VitalRate(name="s", mean=0.7, sd=0.15)
    a, b = r.beta_parameters()
    assert scipy.stats.beta(a, b).mean() == pytest.approx(0.7)
    assert scipy.stats.beta(a, b).std() == pytest.approx(0.15)
    r = VitalRate(name="f", mean=3.0, sd=2.0, distribution="stretched_beta", lower=1.0, upper=8.0)
    a, b = r.beta_parameters()
    d = scipy.stats.beta(a, b, loc=1.0, scale=7.0)
    assert (d.mean(), d.std()) == (pytest.approx(3.0), pytest.approx(2.0))
    r = VitalRate(name="f", mean=12.0, sd=3.0, distribution="lognormal")
    mu, sigma = r.lognormal_parameters()
    d = scipy.stats.lognorm(s=sigma, scale=math.exp(mu))
    assert (d.mean(), d.std()) == (pytest.approx(12.0), pytest.approx(3.0))


def test_expression_language_evaluates_vectorised() -> None:
    e = compile_expression("s3 * (1 - `g>4,3`) + 2 / f - -1")
    assert e.names == {"s3", "g>4,3", "f"}
    s3 = np.array([0.5, 0.9])
    out = e({"s3": s3, "g>4,3": 0.25, "f": 4.0})
    np.testing.assert_allclose(out, s3 * 0.75 + 0.5 + 1)
    assert compile_expression(0.3)({}) == 0.3


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("__import__('os').system('true')", r"Call is not allowed"),
        ("a.b", r"Attribute is not allowed"),
        ("a ** 2", r"only \+ - \* / are allowed; got Pow"),
        ("a < b", r"Compare is not allowed"),
        ("'x'", r"constants must be numbers"),
        ("a +", r"is not valid"),
        ("[a]", r"List is not allowed"),
        ("lambda: 1", r"Lambda is not allowed"),
        ("not a", r"only unary minus"),
    ],
)
def test_expression_language_rejects_everything_else(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compile_expression(text)


def test_expression_unknown_rate() -> None:
    with pytest.raises(ValueError, match=r"uses unknown rate\(s\) \['s9'\]"):
        compile_expression("s9 * 2", ["s1", "s2"])
    with pytest.raises(ValueError, match=r"uses unknown rate\(s\) \['q'\]"):
        VitalRates(rates=(VitalRate(name="s", mean=0.5),), U=(("q",),), F=((0,),))


def test_hudsonia_matrix_from_vital_rates_matches_hudmxdef() -> None:
    rows = hudsonia_rate_rows()
    vr = hudsonia_vital_rates(rows)
    v = {name: mean for name, mean, _ in rows}

    def G(i: int, j: int) -> float:
        return v[f"g>{i},{j}"]

    # the hudmxdef table in pva/data/README.md, typed out independently here
    s3, s4, s5, s6 = v["s3"], v["s4"], v["s5"], v["s6"]
    expected = np.array(
        [
            [v["f11"], 0, v["f13"], v["f14"], v["f15"], v["f16"]],
            [v["f21"], 0, v["f23"], v["f24"], v["f25"], v["f26"]],
            [0, v["f32"], s3 * (1 - G(4, 3)), s4 * (1 - G(4, 4)), s5 * (1 - G(4, 5)), 0],
            [
                0,
                0,
                s3 * G(4, 3),
                s4 * (G(4, 4) - G(5, 4)),
                s5 * (G(4, 5) - G(5, 5)),
                s6 * (1 - G(5, 6)),
            ],
            [0, 0, 0, s4 * (G(5, 4) - G(6, 4)), s5 * (G(5, 5) - G(6, 5)), s6 * (G(5, 6) - G(6, 6))],
            [0, 0, 0, s4 * G(6, 4), s5 * G(6, 5), s6 * G(6, 6)],
        ]
    )
    sp = Species(
        name="Hudsonia montana",
        stages=("seed", "seedlings", "tiny", "small", "medium", "large"),
        vital_rates=vr,
        initial=(4264, 3, 30, 16, 25, 5),
    )
    np.testing.assert_allclose(sp.A, expected, rtol=1e-14)
    # the vectorised evaluation gives one matrix per replicate
    m = vr.matrices({k: np.full(3, x) for k, x in vr.means.items()})
    assert m["U"].shape == (3, 6, 6)
    np.testing.assert_allclose(m["U"][2] + m["F"][2], expected, rtol=1e-14)


def test_vital_rate_stochasticity_validation() -> None:
    with pytest.raises(ValueError, match=r"autocorrelation must be in \(-1, 1\); got 1.0"):
        VitalRateStochasticity(autocorrelation=1.0)
    with pytest.raises(ValueError, match=r"correlation needs `rates` naming its rows"):
        VitalRateStochasticity(correlation=((1, 0), (0, 1)))
    with pytest.raises(ValueError, match=r"symmetric with a unit diagonal"):
        VitalRateStochasticity(rates=("a", "b"), correlation=((1, 0.5), (0.2, 1)))
    with pytest.raises(ValueError, match=r"positive semi-definite; got smallest eigenvalue"):
        VitalRateStochasticity(
            rates=("a", "b", "c"), correlation=((1, 0.9, -0.9), (0.9, 1, 0.9), (-0.9, 0.9, 1))
        )
    with pytest.raises(ValueError, match=r"span must be an integer >= 4; got 3"):
        VitalRateStochasticity(span=3)
    rows = hudsonia_rate_rows()
    with pytest.raises(ValueError, match=r"needs vital_rates"):
        two_stage(environment=VitalRateStochasticity())
    with pytest.raises(ValueError, match=r"environment.rates names unknown vital rates \['zz'\]"):
        Species(
            name="h",
            stages=("seed", "seedlings", "tiny", "small", "medium", "large"),
            vital_rates=hudsonia_vital_rates(rows),
            environment=VitalRateStochasticity(rates=("zz",)),
            initial_total=10,
        )


def test_hudsonia_corrout_window_is_a_correlation_matrix(package_data) -> None:  # type: ignore[no-untyped-def]
    corrs = json.loads((package_data / "popbio" / "hudcorrs.json").read_text())
    env = VitalRateStochasticity(
        rates=tuple(corrs["rates"]),
        correlation=corrs["corrin"],
        between_year_correlation=corrs["corrout"],
    )
    M = env.window_correlation
    assert M is not None
    assert M.shape == (20 * 13, 20 * 13)
    np.testing.assert_allclose(np.diag(M), 1.0)
    assert np.linalg.eigvalsh(M).min() > -1e-9
    assert env.window_rows is not None
    assert env.window_rows.shape == (13, 260)


# ---- matrix selection -------------------------------------------------------------------------


def test_matrix_selection_markov_weights_and_mean_matrix() -> None:
    Ua, Ub = ((0.5, 0), (0.3, 0.9)), ((0.1, 0), (0.1, 0.5))
    Fa, Fb = ((0, 2.0), (0, 0)), ((0, 0.5), (0, 0))
    # two-state chain P[to][from]: leave state 0 w.p. 0.2, leave state 1 w.p. 0.6
    P = ((0.8, 0.6), (0.2, 0.4))
    env = MatrixSelection(U=(Ua, Ub), F=(Fa, Fb), transition=P)
    pi0 = 0.6 / (0.2 + 0.6)  # stationary distribution of a two-state chain
    np.testing.assert_allclose(env.weights, [pi0, 1 - pi0])
    sp = Species(name="m", stages=("j", "a"), environment=env, initial=(1, 1))
    np.testing.assert_allclose(sp.U_array, pi0 * np.array(Ua) + (1 - pi0) * np.array(Ub))
    with pytest.raises(ValueError, match=r"transition must have non-negative columns summing to 1"):
        MatrixSelection(U=(Ua, Ub), F=(Fa, Fb), transition=((0.8, 0.5), (0.1, 0.5)))
    with pytest.raises(ValueError, match=r"probabilities must be 2 probabilities summing to 1"):
        MatrixSelection(U=(Ua, Ub), F=(Fa, Fb), probabilities=(0.5, 0.6))
    with pytest.raises(ValueError, match=r"F must hold 2 matrices like U; got 1"):
        MatrixSelection(U=(Ua, Ub), F=(Fa,))
    with pytest.raises(ValueError, match=r"U\[1\] column sums"):
        MatrixSelection(U=(Ua, ((0.9, 0), (0.9, 0.5))), F=(Fa, Fb))


def test_from_matrices_splits_by_reproduction_mask(package_data) -> None:  # type: ignore[no-untyped-def]
    h = json.loads((package_data / "popbio" / "hudsonia.json").read_text())
    mask = np.zeros((6, 6), dtype=bool)
    mask[:2, 2:] = True  # seeds and seedlings produced by tiny..large plants (Morris & Doak 2002)
    env = MatrixSelection.from_matrices(
        [h["matrices"][k] for k in h["names"]], reproduction=mask, names=h["names"]
    )
    for k, name in enumerate(h["names"]):
        np.testing.assert_array_equal(
            env.U_stack[k] + env.F_stack[k], np.array(h["matrices"][name])
        )
    assert env.U_stack[0][0, 0] == 0.4995  # seed-bank survival stays in U
    assert env.F_stack[0][0, 5] == 50.1895


# ---- round trip -------------------------------------------------------------------------------


def test_to_dict_from_dict_round_trip(package_data) -> None:  # type: ignore[no-untyped-def]
    rows = hudsonia_rate_rows()
    corrs = json.loads((package_data / "popbio" / "hudcorrs.json").read_text())
    sp = Species(
        name="Hudsonia montana",
        stages=("seed", "seedlings", "tiny", "small", "medium", "large"),
        vital_rates=hudsonia_vital_rates(rows),
        environment=VitalRateStochasticity(
            rates=tuple(corrs["rates"]), correlation=corrs["corrin"], autocorrelation=0.3
        ),
        populations=(
            Population(name="a", initial=(4264, 3, 30, 16, 25, 5), carrying_capacity=500),
            Population(name="b", initial_total=300, carrying_capacity_cv=0.2),
        ),
        dispersal=Dispersal(rates=((0, 0.01), (0.02, 0)), stages=("seed",)),
        catastrophes=(
            Catastrophe(
                name="fire", probability=0.05, survival_multiplier=(1, 1, 0.5, 0.5, 0.6, 0.7)
            ),
        ),
        density_dependence=DensityDependence(kind="ceiling", weights=(0, 1, 1, 1, 1, 1)),
        sex=Mating(system="polygynous", harem_size=4),
    )
    d = sp.to_dict()
    text = json.dumps(d)  # JSON-able
    back = Species.from_dict(json.loads(text))
    assert back == sp
    assert back.to_dict() == d
    with pytest.raises(ValueError, match=r"unknown key 'colour' for type 'Species'"):
        Species.from_dict({**d, "colour": "gold"})
    with pytest.raises(ValueError, match=r"Species.sex: type 'Elephant' is not a Mating"):
        Species.from_dict({**d, "sex": {"type": "Elephant"}})
    # validation is identical: a bad value inside the dict raises the constructor's message
    d["quasi_extinction_threshold"] = -3
    with pytest.raises(ValueError, match=r"quasi_extinction_threshold must be >= 0; got -3"):
        Species.from_dict(d)


def test_default_population_round_trip() -> None:
    sp = two_stage(carrying_capacity=50)
    assert sp.populations == ()
    assert sp.all_populations[0].carrying_capacity == 50
    assert Species.from_dict(json.loads(json.dumps(sp.to_dict()))) == sp


@pytest.mark.parametrize(
    ("mean", "sd"),
    [(0.5, 0.49), (0.5, 0.4), (0.7, 0.15), (0.02, 0.01), (0.99, 0.005), (0.3, 0.4), (0.9, 0.29)],
)
def test_tabulated_beta_quantile_matches_scipy(mean: float, sd: float) -> None:
    rate = VitalRate(name="s", mean=mean, sd=sd)
    a, b = rate.beta_parameters()
    z = np.linspace(-8, 8, 2001)
    expected = scipy.stats.beta(a, b).ppf(scipy.stats.norm.cdf(z))
    tail = scipy.stats.beta(a, b).isf(scipy.stats.norm.sf(z))  # the upper tail at full precision
    expected = np.where(z > 0, tail, expected)
    np.testing.assert_allclose(rate.quantile(z), expected, atol=1e-6, rtol=0)
    np.testing.assert_allclose(rate.quantile(z, exact=True), expected, atol=1e-12)
    # scores beyond +-8 (probability 1e-15) count as +-8 rather than fail to converge
    np.testing.assert_array_equal(rate.quantile([-30.0, 30.0]), rate.quantile([-8.0, 8.0]))
