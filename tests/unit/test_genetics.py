"""Genetics (issue 13, item 1): the formulas of pva.genetics in closed form, the engine's genetic
step against a hand-written deterministic recursion of its definition, the specification's
validation, and the results variables ``gene_diversity`` and ``inbreeding``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pva import engine, genetics, results, runner
from pva.model import Genetics, Mating, Population, Species
from pva.scenario import Scenario, Translocation
from pva.simulation import simulate
from pva.streams import single_streams
from pva.study import Study, StudySpecies

# ---------------------------------------------------------------------------------------------------
# the formulas


def test_effective_size_of_breeding_males_and_females():
    """Ne = 4 Nm Nf / (Nm + Nf) (Wright 1931) times 4 / (Vk + 2) (Crow & Kimura 1970)."""
    assert genetics.effective_size(10, 10) == pytest.approx(20.0)
    assert genetics.effective_size(30, 10) == pytest.approx(4 * 30 * 10 / 40)
    assert genetics.effective_size(10, 10, family_size_variance=0.0) == pytest.approx(40.0)
    assert genetics.effective_size(10, 10, family_size_variance=6.0) == pytest.approx(10.0)
    assert genetics.effective_size(10, 0) == 0.0
    assert genetics.effective_size_from_ratio(50, 0.2) == pytest.approx(10.0)
    # never below one breeder (min(N, 1)): 5 x 0.1 would lose everything in a year
    np.testing.assert_allclose(
        genetics.effective_size_from_ratio([0.0, 0.5, 5.0, 20.0], 0.1), [0.0, 0.5, 1.0, 2.0]
    )


def test_retention_per_year_is_a_generations_loss_spread_over_its_years():
    ne, G = np.array([10.0, 50.0]), 4.0
    np.testing.assert_allclose(genetics.retention(ne, G) ** G, 1 - 1 / (2 * ne))
    assert genetics.retention(0.0, 1.0) == 1.0  # nobody bred: nothing lost
    assert genetics.retention(0.4, 1.0) == 0.0  # Ne <= 1/2 keeps nothing


def test_purged_inbreeding_without_purging_is_inbreeding():
    """With d = 0, g follows F's own recursion ``F' = 1 - (1 - F)(1 - 1/(2N))``."""
    kept, g, F = 1 - 1 / 40, 0.0, 0.0
    for _ in range(30):
        g = genetics.purged(g, F, kept, purging=0.0, generation_length=1.0)
        F = 1 - (1 - F) * kept
        assert g == pytest.approx(F, rel=1e-12)


@pytest.mark.parametrize(("N", "d"), [(10, 0.5), (25, 0.25), (50, 0.1)])
def test_purged_inbreeding_reaches_garcia_dorados_asymptote(N: int, d: float):
    """García-Dorado (2012): with constant N, g tends to ``(1 - 2d) / (1 + 2d (2N - 1))`` while F
    tends to 1; each step is ``g' = [(1 - 1/(2N)) g + 1/(2N)] (1 - 2 d F)``."""
    kept = 1 - 1 / (2 * N)
    g, F = 0.0, 0.0
    for _ in range(5000):
        step = ((1 - 1 / (2 * N)) * g + 1 / (2 * N)) * (1 - 2 * d * F)
        g = genetics.purged(g, F, kept, purging=d, generation_length=1.0)
        assert g == pytest.approx(step, rel=1e-12)
        F = 1 - (1 - F) * kept
    assert g == pytest.approx((1 - 2 * d) / (1 + 2 * d * (2 * N - 1)), rel=1e-6)


def test_purged_inbreeding_per_year_takes_both_factors_to_the_power_one_over_g():
    g, F, kept, d, G = 0.2, 0.3, 0.99, 0.5, 5.0
    expected = (1 - (1 - g) * kept) * (1 - 2 * d * F) ** (1 / G)
    assert genetics.purged(g, F, kept, purging=d, generation_length=G) == pytest.approx(expected)


def test_depression_is_the_exponential_of_lethal_equivalents():
    """Fitness ``exp(-B ((1 - p) F + p g))`` (Morton et al. 1956)."""
    w = genetics.depression(0.25, 0.1, lethal_equivalents=6.29, lethal_proportion=0.5)
    assert w == pytest.approx(math.exp(-6.29 * (0.5 * 0.25 + 0.5 * 0.1)))
    assert genetics.depression(0.25, 0.0, lethal_equivalents=4.0, lethal_proportion=0.0) == (
        pytest.approx(math.exp(-1.0))
    )


def test_mixing_is_weighted_by_numbers():
    assert genetics.mix(0.6, 30, 1.0, 10) == pytest.approx((0.6 * 30 + 10) / 40)
    assert genetics.mix(0.6, 0, 0.9, 5) == pytest.approx(0.9)  # founders of an empty site
    assert genetics.mix(0.6, 0, 0.9, 0) == pytest.approx(0.6)


# ---------------------------------------------------------------------------------------------------
# the engine's step against its definition (no demographic stochasticity: every number exact)

U = ((0.0, 0.0), (0.5, 0.8))
F = ((0.0, 0.9), (0.0, 0.0))


def deterministic(**genetic: object) -> Species:
    return Species(
        name="det",
        stages=("juvenile", "adult"),
        U=U,
        F=F,
        initial=(20, 40),
        generation_length=3.0,
        demographic_stochasticity=False,
        genetics=Genetics(**genetic),  # type: ignore[arg-type]
    )


def fitness(spec: Genetics, B: float, h: float, g: float) -> float:
    p = spec.lethal_proportion
    return math.exp(-B * ((1 - p) * (1 - h) + p * g))


def by_hand(species: Species, years: int) -> tuple[np.ndarray, np.ndarray]:
    """The definition, step by step: Ne = N mature (Nm = Nf = N/2, Vk = 2); offspring
    ``h' = h (1 - 1/(2 Ne))^(1/G)`` and ``g'`` (García-Dorado, per year); juvenile survival times
    ``exp(-B ((1 - p) F + p g))``, fecundity times the same of the offspring's; then h <- h'."""
    spec = species.genetics
    assert spec is not None
    G = species.generation_length
    n = np.array(species.initial, dtype=float)
    h = float(np.asarray(spec.initial_gene_diversity))
    g = 1 - h
    ns, hs = [n.copy()], [h]
    for _ in range(years):
        ne = n[1]  # adults are the mature stage
        kept = (1 - 1 / (2 * ne)) ** (1 / G)
        h_next, g_next = (
            h * kept,
            (1 - (1 - g) * kept) * (1 - 2 * spec.purging * (1 - h)) ** (1 / G),
        )
        juvenile_survival = 0.5 * fitness(spec, spec.lethal_equivalents, h, g)
        fecundity = 0.9 * fitness(spec, spec.fecundity_lethal_equivalents, h_next, g_next)
        n = np.array([fecundity * n[1], juvenile_survival * n[0] + 0.8 * n[1]])
        h, g = h_next, g_next
        ns.append(n.copy())
        hs.append(h)
    return np.array(ns), np.array(hs)


@pytest.mark.parametrize(
    "genetic",
    [
        pytest.param({"initial_gene_diversity": 0.8, "lethal_proportion": 0.0}, id="no lethals"),
        pytest.param({"initial_gene_diversity": 0.8}, id="half lethals, purged"),
        pytest.param(
            {"initial_gene_diversity": 0.9, "purging": 0.0, "fecundity_lethal_equivalents": 3.0},
            id="fecundity too, no purging",
        ),
    ],
)
def test_survival_falls_with_inbreeding_exactly_as_specified(genetic: dict[str, float]):
    species = deterministic(**genetic)
    p = engine.project(species, years=12, replicates=1, streams=single_streams(0))
    n, h = by_hand(species, 12)
    np.testing.assert_allclose(p.abundance[0, :, 0], n, rtol=1e-12)
    np.testing.assert_allclose(p.gene_diversity[0, :, 0], h, rtol=1e-12)


def test_purging_lowers_the_lethal_part_only():
    """With d > 0 the purged coefficient g stays below F, so juveniles survive better than without
    purging; with no lethal share purging changes nothing."""
    years = 30
    survivors = {}
    for d in (0.0, 0.5):
        for p in (0.0, 1.0):
            species = deterministic(initial_gene_diversity=0.7, purging=d, lethal_proportion=p)
            survivors[d, p] = engine.project(
                species, years=years, replicates=1, streams=single_streams(0)
            ).abundance[0, 1:, 0, 1]
    # the first year's juveniles were born before any purging: g = F; then g < F
    assert survivors[0.5, 1.0][0] == pytest.approx(survivors[0.0, 1.0][0], rel=1e-12)
    assert np.all(survivors[0.5, 1.0][1:] > survivors[0.0, 1.0][1:])
    np.testing.assert_allclose(survivors[0.5, 0.0], survivors[0.0, 0.0], rtol=1e-12)


def test_effective_size_of_monogamous_pairs_and_of_a_ratio():
    """Under monogamy the breeders are pairs: Ne = 4 x pairs^2 / (2 pairs) = 2 x pairs (females
    and the expected males, ratio 1:1); with ``effective_size_ratio`` Ne = ratio x N mature of
    both sexes."""
    base = {
        "name": "pairs",
        "stages": ("adult",),
        "U": ((0.9,),),
        "F": ((0.1,),),
        "initial": (25,),
        "generation_length": 1.0,
        "demographic_stochasticity": False,
    }
    pairs = Species(
        **base, sex=Mating(system="monogamous"), genetics=Genetics(lethal_equivalents=0.0)
    )  # type: ignore[arg-type]
    h = engine.project(pairs, years=1, replicates=1, streams=single_streams(0)).gene_diversity
    assert h[0, 1, 0] == pytest.approx(1 - 1 / (2 * 50))
    ratio = Species(**base, genetics=Genetics(lethal_equivalents=0.0, effective_size_ratio=0.2))  # type: ignore[arg-type]
    h = engine.project(ratio, years=1, replicates=1, streams=single_streams(0)).gene_diversity
    assert h[0, 1, 0] == pytest.approx(1 - 1 / (2 * 5))


def test_translocated_individuals_bring_their_gene_diversity():
    """A site founded by translocation takes the donor's gene diversity; arrivals mix by numbers."""
    species = Species(
        name="two",
        stages=("adult",),
        U=((1.0,),),
        F=((0.0,),),
        populations=(Population(name="a", initial=(50,)), Population(name="b", initial=(10,))),
        generation_length=1.0,
        demographic_stochasticity=False,
        genetics=Genetics(lethal_equivalents=0.0, initial_gene_diversity=(1.0, 0.5)),
    )
    move = Translocation(name="move", source="a", population="b", individuals={"adult": 20})
    schedule = Scenario("move", (move,)).compile(species, years=1)
    p = engine.project(species, schedule, years=1, replicates=1, streams=single_streams(0))
    # no reproduction (no mature stage): no breeders, no drift; b mixes 10 at 0.5 with 20 at 1.0
    np.testing.assert_allclose(p.gene_diversity[0, 1], [1.0, (10 * 0.5 + 20 * 1.0) / 30])


def test_gene_diversity_is_nan_where_a_population_is_empty():
    species = Species(
        name="doomed",
        stages=("adult",),
        U=((0.0,),),
        F=((0.0,),),
        initial=(5,),
        generation_length=1.0,
        genetics=Genetics(),
    )
    p = engine.project(species, years=2, replicates=3, streams=single_streams(0))
    assert np.all(np.isnan(p.gene_diversity[:, 1:]))
    assert np.all(p.gene_diversity[:, 0] == 1.0)


def test_without_genetics_nothing_genetic_is_recorded():
    species = Species(name="plain", stages=("adult",), U=((0.5,),), F=((0.6,),), initial=(5,))
    p = engine.project(species, years=2, replicates=3, streams=single_streams(0))
    assert p.gene_diversity is None
    assert p.captive is None


# ---------------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"lethal_equivalents": -1}, ValueError, "lethal_equivalents"),
        ({"lethal_proportion": 1.5}, ValueError, "lethal_proportion"),
        ({"purging": 0.6}, ValueError, "purging"),
        ({"effective_size_ratio": 0.0}, ValueError, "effective_size_ratio"),
        ({"family_size_variance": -2.0}, ValueError, "family_size_variance"),
        ({"initial_gene_diversity": 0.0}, ValueError, "initial_gene_diversity"),
        ({"initial_gene_diversity": "high"}, TypeError, "initial_gene_diversity"),
        ({"release_gene_diversity": 2.0}, ValueError, "release_gene_diversity"),
        ({"lethal_equivalents": "many"}, TypeError, "lethal_equivalents"),
    ],
)
def test_genetics_validation_names_field_and_value(fields, error, match):
    with pytest.raises(error, match=match):
        Genetics(**fields)


def test_species_checks_its_genetics_against_stages_and_populations():
    with pytest.raises(ValueError, match=r"genetics\.stages names unknown stages"):
        deterministic(stages=("egg",))
    with pytest.raises(ValueError, match="one value per population"):
        deterministic(initial_gene_diversity=(1.0, 0.9))
    with pytest.raises(ValueError, match="needs a generation_length"):
        Species(
            name="x",
            stages=("a",),
            U=((0.5,),),
            F=((0.0,),),  # no reproduction: no generation length to compute
            initial=(5,),
            genetics=Genetics(),
        )


# ---------------------------------------------------------------------------------------------------
# results


def test_results_carry_gene_diversity_and_inbreeding_by_population():
    """A study of a species with genetics and one without: ``gene_diversity`` and ``inbreeding``
    (species, scenario, replicate, year, population), NaN for the species without, equal to what
    pva.simulate gives the one with."""
    with_genes = Species(
        name="kept",
        stages=("juvenile", "adult"),
        U=U,
        F=F,
        initial=(20, 40),
        carrying_capacity=80,
        generation_length=3.0,
        genetics=Genetics(),
    )
    without = Species(name="plain", stages=("adult",), U=((0.5,),), F=((0.6,),), initial=(5,))
    study = Study(
        name="g",
        species=(StudySpecies(species=with_genes), StudySpecies(species=without)),
        scenarios=(Scenario("no action"),),
        years=10,
        replicates=50,
        seed=3,
    )
    ds = runner.run_study(study, backend="sequential")
    for name in (results.GENE_DIVERSITY, results.INBREEDING):
        assert ds[name].dims == results.LAYOUT[name] == results.PER_POPULATION
        assert ds[name].attrs["units"] == "1"
    assert ds[results.GENE_DIVERSITY].sel(species="plain").isnull().all()
    np.testing.assert_allclose(
        ds[results.INBREEDING].values, 1 - ds[results.GENE_DIVERSITY].values, equal_nan=True
    )
    alone = simulate(with_genes, years=10, replicates=50, seed=3)
    np.testing.assert_array_equal(
        ds[results.GENE_DIVERSITY].sel(species="kept", scenario="no action").values,
        alone[results.GENE_DIVERSITY].values,
    )
    assert float(alone[results.GENE_DIVERSITY].isel(year=0).min()) == 1.0


def test_a_study_without_genetics_has_no_genetic_variables():
    plain = Species(name="plain", stages=("adult",), U=((0.5,),), F=((0.6,),), initial=(5,))
    ds = simulate(plain, years=3, replicates=4, seed=1)
    assert results.GENE_DIVERSITY not in ds
    assert results.INBREEDING not in ds
