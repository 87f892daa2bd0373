"""The genetic rows of the summary (pva.summary.genetics) against what they must be: the closed form
of a constant population's gene diversity, hand-counted replicates, and Nei's weighted mean."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from pva import results
from pva.model import Genetics, Population, Species
from pva.simulation import simulate
from pva.summary import formatting, genetics, tables


def constant(N: int, *, years: int) -> xr.Dataset:
    """N adults every year (no demographic stochasticity, breeders replaced exactly), Ne = N,
    generation length 1: the gene diversity is (1 - 1/(2N))^t in every replicate."""
    species = Species(
        name="constant",
        stages=("adult",),
        U=((0.0,),),
        F=((1.0,),),
        initial=(N,),
        generation_length=1.0,
        demographic_stochasticity=False,
        genetics=Genetics(lethal_equivalents=0.0),
    )
    return simulate(species, years=years, replicates=5, seed=1)


def test_a_constant_population_keeps_the_closed_form_and_crosses_95_percent_when_it_says():
    N, years = 100, 20
    ds = constant(N, years=years)
    table = tables.summary_table(ds, horizons=[5, 10, 11, 20], red_list=False)
    kept = (1.0 - 1.0 / (2 * N)) ** np.array([5, 10, 11, 20])
    np.testing.assert_allclose(
        table[results.GENE_DIVERSITY_KEPT].squeeze().values, kept, rtol=1e-12
    )
    np.testing.assert_allclose(table[results.MEAN_INBREEDING].squeeze().values, 1 - kept)
    # first year below 95%: the smallest t with (1 - 1/(2N))^t < 0.95
    crossing = math.ceil(math.log(0.95) / math.log(1.0 - 1.0 / (2 * N)))
    assert crossing == 11
    np.testing.assert_array_equal(
        table[results.P_GENE_DIVERSITY_TARGET].squeeze().values, [1.0, 1.0, 0.0, 0.0]
    )
    assert float(table[results.YEARS_ABOVE_GENE_DIVERSITY_TARGET].squeeze()) == crossing
    rows = {r[0]: r[1:] for r in formatting.species_rows(table, "constant")[1]}
    assert rows["P(≥ 95% gene diversity kept in year 10)"] == ["1 (0.57–1)"]
    assert rows["expected years with ≥ 95% gene diversity (to year 20)"] == ["11.0 (11.0–11.0)"]


def test_years_above_the_target_are_counted_to_the_final_year_at_most():
    ds = constant(1000, years=20)  # (1 - 1/2000)^20 = 0.990: never below 95% in 20 years
    table = tables.summary_table(ds, red_list=False)
    assert float(table[results.YEARS_ABOVE_GENE_DIVERSITY_TARGET].squeeze()) == 20.0


def hand_made(h: np.ndarray, n: np.ndarray) -> xr.Dataset:
    """A results layout with gene diversity ``h`` and individuals ``n`` of shape (replicate, year,
    population), one species and scenario."""
    dims = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR, results.POPULATION)
    return xr.Dataset(
        {
            results.GENE_DIVERSITY: (dims, h[None, None]),
            results.TOTAL: (dims, n[None, None]),
        },
        coords={
            results.SPECIES: ["s"],
            results.SCENARIO: ["a"],
            results.YEAR: np.arange(h.shape[1]),
        },
    )


def test_the_species_gene_diversity_is_its_sites_mean_weighted_by_individuals():
    h = np.array([[[1.0, 1.0], [0.9, 0.5], [0.9, np.nan]]])  # (1 replicate, 3 years, 2 sites)
    n = np.array([[[10.0, 10.0], [30.0, 10.0], [5.0, 0.0]]])
    got = genetics.species_gene_diversity(hand_made(h, n)).squeeze().values
    np.testing.assert_allclose(got, [1.0, (30 * 0.9 + 10 * 0.5) / 40, 0.9])


def test_extinction_fails_the_target_and_ends_the_years_above_it():
    """Four replicates by hand: kept throughout; below 95% from year 2; extinct from year 1; below
    95% from year 3. P(target) in year 3 is 1/4, the expected years (3 + 2 + 1 + 3) / 4."""
    years = 4
    h = np.ones((4, years, 1))
    n = np.full((4, years, 1), 10.0)
    h[1, 2:] = 0.9
    h[2, 1:], n[2, 1:] = np.nan, 0.0
    h[3, 3:] = 0.94
    table = xr.Dataset()
    genetics.add_genetics(table, hand_made(h, n), [1, 2, 3], confidence=0.95)
    np.testing.assert_allclose(
        table[results.P_GENE_DIVERSITY_TARGET].squeeze().values, [3 / 4, 2 / 4, 1 / 4]
    )
    assert float(table[results.YEARS_ABOVE_GENE_DIVERSITY_TARGET].squeeze()) == (3 + 2 + 1 + 3) / 4
    # the mean kept is over the extant replicates only
    np.testing.assert_allclose(
        table[results.GENE_DIVERSITY_KEPT].squeeze().values,
        [1.0, (1 + 0.9 + 1) / 3, (1 + 0.9 + 0.94) / 3],
    )


def test_per_site_gene_diversity_is_shown_for_several_sites():
    sites = tuple(Population(name=f"site {i}", initial=(40,)) for i in range(2))
    species = Species(
        name="two",
        stages=("adult",),
        U=((0.0,),),
        F=((1.0,),),
        populations=sites,
        generation_length=1.0,
        demographic_stochasticity=False,
        genetics=Genetics(lethal_equivalents=0.0, initial_gene_diversity=(1.0, 0.8)),
    )
    ds = simulate(species, years=10, replicates=3, seed=2)
    table = tables.summary_table(ds, horizons=[10], red_list=False)
    site = table[results.SITE_GENE_DIVERSITY].squeeze().values
    np.testing.assert_allclose(site, np.array([1.0, 0.8]) * (1 - 1 / 80) ** 10)
    rows = [r[0] for r in formatting.species_rows(table, "two")[1]]
    assert "site site 1: gene diversity in year 10" in rows


def test_no_genetic_rows_without_genetics():
    species = Species(name="plain", stages=("adult",), U=((0.5,),), F=((0.6,),), initial=(50,))
    table = tables.summary_table(simulate(species, years=5, replicates=4, seed=3), red_list=False)
    assert results.P_GENE_DIVERSITY_TARGET not in table
    assert not any("gene" in r[0] for r in formatting.species_rows(table, "plain")[1])
