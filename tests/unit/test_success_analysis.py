"""pva.success: life history, designs, factors, paired outcomes, the GLM analysis and the ranking,
on hand-built inputs with known answers (no simulation, no data files: the portfolio built from the
shipped records is tested in tests/integration/test_success_portfolio.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from pva import analysis, redlist, results, runner
from pva.model import Species
from pva.scenario import (
    Disease,
    Harvest,
    Scenario,
    ThreatAbatement,
    VitalRateReduction,
)
from pva.study import Study
from pva.success import analysis as success_analysis
from pva.success import names, outcomes, tables
from pva.success import portfolio as pf

# ---------------------------------------------------------------------------------------------------
# the portfolio


def test_life_history_of_a_two_stage_model_against_closed_forms() -> None:
    """Juvenile -> adult with survival s_j, adult survival s_a, fecundity f: λ solves
    λ² - s_a λ - f s_j = 0 (Caswell 2001, 4.5); R0 = f s_j / (1 - s_a); the generation length is
    the mean age at reproduction of a newborn, 2 + s_a / (1 - s_a) (ages 2, 3, ... weighted by
    s_a^k); the elasticity of adult survival is s_a ∂λ/∂s_a / λ."""
    sj, sa, f = 0.3, 0.8, 1.5
    U = np.array([[0.0, 0.0], [sj, sa]])
    F = np.array([[0.0, f], [0.0, 0.0]])
    lh = pf.life_history(U, F)
    lam = (sa + np.sqrt(sa**2 + 4 * f * sj)) / 2
    assert lh.growth_rate == pytest.approx(lam)
    assert lh.net_reproductive_rate == pytest.approx(f * sj / (1 - sa))
    assert lh.generation_length == pytest.approx(2 + sa / (1 - sa))
    d_lambda = lam / (2 * lam - sa)  # implicit derivative of λ² - s_a λ - f s_j = 0 in s_a
    assert lh.adult_survival_elasticity == pytest.approx(sa * d_lambda / lam)
    assert lh.adult_survival == pytest.approx(sa)
    assert lh.mature == (False, True)
    w = analysis.stable_stage(U + F)
    assert lh.mature_fraction == pytest.approx(w[1])


def test_designs_full_factorial_and_fraction() -> None:
    full = pf.designs()
    assert len(full) == 60 == len({d.name for d in full})
    fraction = pf.fractional_designs()
    assert len(fraction) == 15
    for kind in pf.DESIGN_KINDS:
        mine = [d for d in fraction if d.kind == kind]
        assert sorted(d.start for d in mine) == [0, 5, 10]
        assert len({(d.intensity, d.duration) for d in mine}) == 3
    combos = [(d.intensity, d.duration) for d in fraction]
    assert sorted(combos.count(c) for c in set(combos)) == [3, 4, 4, 4]
    with pytest.raises(ValueError, match="kind must be one of"):
        pf.Design(kind="prayer", start=0, intensity="low", duration=None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# factors


def _one_stage(name: str = "one", m: float = 1.2) -> Species:
    return Species(name=name, stages=("all",), U=((0.0,),), F=((m,),), initial=(10,))


def test_threat_intensity_closed_forms() -> None:
    """One stage with λ = m: a harvest of h leaves λ(1 - h); a chronic fecundity multiplier c
    leaves c λ; an epidemic of probability p and survival multiplier 0 leaves nothing to change
    when there is no survival (λ = m), so only the first two count."""
    sp = Species(name="one", stages=("all",), U=((0.5,),), F=((0.7,),), initial=(10,))
    lam = 1.2
    harvest = Scenario("h", (Harvest(name="h", proportion=0.1),))
    assert outcomes.threat_intensity(sp, harvest.compile(sp, years=10)) == pytest.approx(0.1)
    chronic = Scenario("c", (VitalRateReduction(name="c", fecundity=0.5),))
    expected = 1 - (0.5 + 0.35) / lam
    assert outcomes.threat_intensity(sp, chronic.compile(sp, years=10)) == pytest.approx(expected)
    epidemic = Scenario("e", (Disease(name="e", frequency=0.2, survival=0.0),))
    expected = 1 - (0.5 * 0.8 + 0.7) / lam  # expected survival multiplier 1 + 0.2 (0 - 1)
    assert outcomes.threat_intensity(sp, epidemic.compile(sp, years=10)) == pytest.approx(expected)


def _small_study(species: tuple[Species, ...] = (_one_stage("a"), _one_stage("b"))) -> Study:
    threats = tuple(VitalRateReduction(name=f"t {s.name}", fecundity=0.5) for s in species)
    applies = {t.name: (s.name,) for s, t in zip(species, threats, strict=True)}
    scenarios = [Scenario("no action", threats)]
    for start, fraction in ((0, 0.5), (5, 0.5), (0, 0.9)):
        acts = []
        for s in species:
            a = ThreatAbatement(
                name=f"abate {start} {fraction} {s.name}",
                threat=f"t {s.name}",
                fraction=fraction,
                start=start,
                duration=10,
                annual_cost=100.0 * fraction,
            )
            acts.append(a)
            applies[a.name] = (s.name,)
        scenarios.append(Scenario(f"start {start} fraction {fraction}", (*threats, *acts)))
    return Study(
        name="small",
        species=species,
        scenarios=tuple(scenarios),
        years=20,
        replicates=10,
        seed=1,
        applies_to=tuple(applies.items()),
    )


def test_factors_read_from_the_study() -> None:
    study = _small_study()
    f = outcomes.factors(study, horizon=20)
    assert list(f[names.DESIGN].values) == list(study.scenario_names[1:])
    assert np.all(f["type"].values == "threat abatement")
    np.testing.assert_array_equal(f["start"].values[0], [0, 5, 0])
    np.testing.assert_array_equal(f["duration"].values[0], [10, 10, 10])
    np.testing.assert_array_equal(f["effort"].values[0], [0, 0, 1])
    np.testing.assert_allclose(f["cost"].values[0], [500, 500, 900])
    np.testing.assert_allclose(f["growth_rate"].values, 1.2)
    np.testing.assert_allclose(f["threat_intensity"].values, 0.5)
    assert f[names.APPLICABLE].values.all()


def test_species_study_is_the_species_slice_of_the_study() -> None:
    study = _small_study()
    one = outcomes.species_study(study, "b")
    assert one.species_names == ("b",)
    assert one.applies_to == ()
    for j in range(len(study.scenarios)):
        whole = study.scenario_for(1, j).compile(study.species[1].species, years=study.years)
        alone = one.scenario_for(0, j).compile(one.species[0].species, years=one.years)
        for name in ("fecundity_multiplier", "annual_cost"):
            np.testing.assert_array_equal(getattr(whole, name), getattr(alone, name))


# ---------------------------------------------------------------------------------------------------
# paired outcomes


def _per_replicate(extinct, category, green) -> xr.Dataset:
    dims = (results.SPECIES, results.SCENARIO, results.REPLICATE)
    return xr.Dataset(
        {
            names.EXTINCT: (dims, np.asarray(extinct, dtype=np.int8)),
            names.CATEGORY: (dims, np.asarray(category, dtype=np.int8)),
            names.GREEN_SCORE: (dims, np.asarray(green, dtype=float)),
        },
        coords={results.SPECIES: ["x", "y"], results.SCENARIO: ["no action", "act"]},
    )


def test_paired_outcomes_by_hand() -> None:
    """Two species, four replicates: every outcome is a mean of per-replicate differences."""
    EX, CR, EN, VU = redlist.EX, redlist.CR, redlist.EN, redlist.VU
    extinct = [[[1, 1, 0, 0], [0, 1, 0, 1]], [[0, 0, 0, 0], [0, 0, 0, 0]]]
    category = [[[EX, EX, CR, EN], [CR, EX, EN, EX]], [[VU, VU, EN, EN], [VU, EN, VU, VU]]]
    green = [[[0, 0, 33, 33], [33, 0, 33, 0]], [[33, 33, 33, 33], [67, 33, 67, 33]]]
    out = outcomes.paired_outcomes(_per_replicate(extinct, category, green), no_action="no action")
    x, y = (out.sel({results.SPECIES: s, names.DESIGN: "act"}) for s in ("x", "y"))
    assert float(x["extinctions_prevented"]) == pytest.approx((1 + 0 + 0 - 1) / 4)
    assert float(x["extinction_avoided"]) == pytest.approx(1 / 4)
    assert float(x["downlisted"]) == pytest.approx(2 / 4)  # EX -> CR, CR -> EN
    assert float(x["uplisted"]) == pytest.approx(1 / 4)  # EN -> EX in replicate 3
    # weights EX 5, CR 4, EN 3, VU 2 (Butchart et al. 2007), over 2 species: (w_na - w_act) / 10
    assert float(x["delta_rli"]) == pytest.approx((1 + 0 + 1 - 2) / 4 / 10)
    assert float(y["delta_rli"]) == pytest.approx((0 - 1 + 1 + 1) / 4 / 10)
    assert float(y["green_gain"]) == pytest.approx((34 + 0 + 34 + 0) / 4)
    d = np.array([1, 0, 0, -1])
    assert float(x["extinctions_prevented_mcse"]) == pytest.approx(d.std(ddof=1) / 2)
    assert float(x["p_extinct_no_action"]) == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------------------
# the analysis


def _table(seed: int = 3, species: int = 12, designs: int = 6) -> xr.Dataset:
    """A success-results-like table whose outcomes are exact functions of the factors."""
    rng = np.random.default_rng(seed)
    dims = (results.SPECIES, names.DESIGN)
    growth = rng.uniform(0.8, 1.3, species)
    start = np.tile(np.arange(designs) % 3 * 5.0, (species, 1))
    effort = np.tile((np.arange(designs) // 3).astype(float), (species, 1))
    # start, effort and type vary independently across the six designs
    kinds = np.tile(np.array(["a", "b", "c", "b", "c", "a"])[:designs], (species, 1))
    cost = 1000.0 * (1 + effort) * np.where(kinds == "a", 1.0, 2.0)
    shift = {"a": 0.0, "b": 0.1, "c": -0.05}
    linear = (
        0.2
        + 0.3 * np.log(growth)[:, None]
        - 0.01 * start
        + 0.05 * effort
        + np.vectorize(shift.get)(kinds)
    )
    return xr.Dataset(
        {
            "growth_rate": ((results.SPECIES,), growth),
            "habitat_loss": ((results.SPECIES,), np.full(species, 0.3)),
            "start": (dims, start),
            "effort": (dims, effort),
            "cost": (dims, cost),
            names.TYPE: (dims, kinds),
            names.APPLICABLE: (dims, np.ones((species, designs), dtype=bool)),
            "delta_rli": (dims, linear),
            "extinctions_prevented": (dims, linear),
        },
        coords={
            results.SPECIES: [f"s{i}" for i in range(species)],
            names.DESIGN: [f"d{j}" for j in range(designs)],
        },
        attrs={"currency": "USD", "horizon": 50},
    )


def test_gaussian_fit_recovers_an_exact_linear_relation() -> None:
    pytest.importorskip("statsmodels")
    data = _table()
    factors = ("growth_rate", "habitat_loss", "start", "effort")
    m = success_analysis.design_matrix(data, factors=factors)
    assert m.dropped == ("habitat_loss",)  # constant over the rows
    assert m.types == ("a", "b", "c")
    fit = success_analysis.fit_outcome(data, "delta_rli", m=m, bootstrap=5, seed=1)
    per_unit = {f: float(fit["coefficient"].sel(term=f)) / m.scale[f] for f in m.factors}
    assert per_unit["growth_rate"] == pytest.approx(0.3)  # log scale
    assert per_unit["start"] == pytest.approx(-0.01)
    assert per_unit["effort"] == pytest.approx(0.05)
    effect = fit["effect"].to_series()
    assert effect["type: b"] == pytest.approx(0.1)
    assert effect["type: c"] == pytest.approx(-0.05)
    assert effect["start"] == pytest.approx(-0.01 * m.scale["start"])  # per SD
    # noise-free: every bootstrap sample fits the same line
    np.testing.assert_allclose(fit["effect_lower"], fit["effect"], atol=1e-9)
    np.testing.assert_allclose(fit["effect_upper"], fit["effect"], atol=1e-9)
    pd = fit["partial_dependence"].sel(factor="start")
    np.testing.assert_allclose(np.diff(pd), -0.01 * np.diff(fit["pd_value"].sel(factor="start")))


def test_logit_fit_on_proportions() -> None:
    pytest.importorskip("statsmodels")
    data = _table()
    eta = data["delta_rli"] * 10 - 2
    data["downlisted"] = 1 / (1 + np.exp(-eta))
    m = success_analysis.design_matrix(data, factors=("growth_rate", "start", "effort"))
    fit = success_analysis.fit_outcome(data, "downlisted", m=m, bootstrap=0)
    per_unit = float(fit["coefficient"].sel(term="start")) / m.scale["start"]
    assert per_unit == pytest.approx(-0.1, rel=1e-5)  # the exact logit of a noise-free proportion
    assert fit.attrs["link"] == "logit"
    assert np.isnan(fit["effect_lower"]).all()


def test_rank_types_is_a_ratio_of_sums() -> None:
    data = _table()
    ranking = success_analysis.rank_types(data, bootstrap=50, seed=2)
    for kind in ("a", "b", "c"):
        sel = data[names.TYPE] == kind
        expected = float(data["delta_rli"].where(sel).sum() / data["cost"].where(sel).sum())
        got = float(ranking["delta_rli_per_million"].sel(intervention_type=kind))
        assert got == pytest.approx(expected * 1e6)
    values = ranking["delta_rli_per_million"].values
    assert np.all(np.diff(values) <= 0)  # best first
    assert float(ranking["p_best"].sum()) == pytest.approx(1.0)


def test_analysis_and_results_share_one_file_layout() -> None:
    pytest.importorskip("statsmodels")
    data = _table()
    an = success_analysis.analyse(
        data,
        outcomes=("delta_rli", "extinctions_prevented"),
        factors=("growth_rate", "start", "effort"),
        bootstrap=5,
    )
    both = success_analysis.with_analysis(data, an)
    back, again = success_analysis.split_analysis(both)
    xr.testing.assert_identical(back, data)
    xr.testing.assert_identical(again, an)
    text = tables.format_success(data, an, style="text")
    assert "Intervention types per currency unit" in text
    assert "conditional" in text
    html = tables.format_success(data, an, style="html")
    assert "<table" in html


# ---------------------------------------------------------------------------------------------------
# the runner's execution step


def test_map_tasks_keeps_the_order_and_checks_its_arguments() -> None:
    tasks = [{"a": i, "b": 10 - i} for i in range(7)]
    assert list(runner.map_tasks(_subtract, tasks, backend="sequential")) == [
        i - (10 - i) for i in range(7)
    ]
    with pytest.raises(TypeError, match="scheduler must be a string"):
        runner.map_tasks(_subtract, tasks, scheduler=8786)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="without spaces"):
        runner.map_tasks(_subtract, tasks, scheduler="tcp://host :8786")
    with pytest.raises(ValueError, match="jobs must be a non-zero integer"):
        runner.map_tasks(_subtract, tasks, jobs=0)


def _subtract(a: int, b: int) -> int:
    return a - b
