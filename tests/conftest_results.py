"""Synthetic results Datasets with known answers, in the schema the runner writes.

Not a conftest: test modules import :func:`make_results`, :func:`known_results` and
:func:`one_species_study` directly (tests/ is on ``sys.path`` because tests/conftest.py lives there),
and tests/conftest.py offers ``known_results(8)`` and :func:`run_and_simulate` of
:func:`one_species_study` as the session fixtures ``results`` and ``run_and_simulation``. The
trajectories of :func:`known_results` are deterministic by
construction so every summary number has a hand-computed answer:

``known_results()`` (years 0..50, ``R`` replicates, two species, two scenarios):

* ``Alpha`` (two populations): under "no action" every replicate declines linearly to 0 at year 10 and
  stays extinct; under "protect" replicate ``r`` holds ``100 + r`` mature individuals in each
  population for ever.
* ``Beta`` (one population, padded to two): under "no action" replicates ``r < R/2`` hit 0 at year 20,
  the others hold 50 for ever; under "protect" every replicate holds 50.
* total abundance is twice the mature abundance; "protect" costs 1000 a year per species, "no action"
  nothing.

So P(extinct by 10) is 1 for Alpha/no action and 0 elsewhere, P(extinct by 20) for Beta/no action is
1/2, expected extinctions are 1.5 under no action and 0 under protect (1.5 prevented), and the cost per
extinction prevented is 2 * 51 * 1000 / 1.5.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from pva import results as names
from pva import runner
from pva.model import DensityDependence, Species
from pva.scenario import Harvest, Scenario, ThreatAbatement
from pva.simulation import simulate
from pva.study import Study

STUDY = {
    "study": {"name": "Synthetic recovery study", "years": 50, "replicates": 8, "chunk_size": 256},
    "species": [
        {"name": "Alpha", "generation_length": 5.0, "stages": ["juvenile", "adult"]},
        {"name": "Beta", "generation_length": 12.0, "stages": ["adult"]},
    ],
    "threats": [{"name": "habitat loss", "type": "habitat_loss", "rate": 0.02}],
    "interventions": [{"name": "protection", "type": "habitat_protection", "annual_cost": 1000.0}],
    "scenarios": [
        {"name": "no action", "threats": ["habitat loss"], "actions": []},
        {"name": "protect", "threats": ["habitat loss"], "actions": ["protection"]},
    ],
    "no_action": "no action",
}
"""A study specification in the schema of ``pva.study.Study.to_dict`` (plus ``no_action``)."""


def make_results(
    mature: np.ndarray,
    *,
    species: tuple[str, ...],
    scenarios: tuple[str, ...],
    population_exists: np.ndarray | None = None,
    annual_cost: np.ndarray | None = None,
    generation_length: tuple[float, ...] | None = None,
    quasi_extinction_threshold: tuple[float, ...] | None = None,
    study: dict | None = None,
) -> xr.Dataset:
    """A results Dataset from mature counts of shape (species, scenario, replicate, year, population)."""
    mature = np.asarray(mature, dtype=np.int64)
    n_sp, _, n_rep, n_year, n_pop = mature.shape
    if population_exists is None:
        population_exists = np.ones((n_sp, n_pop), dtype=bool)
    dims5 = (names.SPECIES, names.SCENARIO, names.REPLICATE, names.YEAR, names.POPULATION)
    ds = xr.Dataset(
        {
            names.MATURE: (dims5, mature, dict(names.VARIABLE_ATTRS[names.MATURE])),
            names.TOTAL: (dims5, 2 * mature, dict(names.VARIABLE_ATTRS[names.TOTAL])),
            "population_exists": ((names.SPECIES, names.POPULATION), population_exists),
            "generation_length": (
                (names.SPECIES,),
                np.asarray(generation_length or [5.0] * n_sp, dtype=float),
                {"units": "year", "long_name": "generation length"},
            ),
            "quasi_extinction_threshold": (
                (names.SPECIES,),
                np.asarray(quasi_extinction_threshold or [20.0] * n_sp, dtype=float),
                {"units": "individuals", "long_name": "quasi-extinction threshold"},
            ),
        },
        coords={
            names.SPECIES: list(species),
            names.SCENARIO: list(scenarios),
            names.REPLICATE: np.arange(n_rep),
            names.YEAR: (names.YEAR, np.arange(n_year), dict(names.VARIABLE_ATTRS[names.YEAR])),
            names.POPULATION: np.arange(n_pop),
            "population_name": (
                (names.SPECIES, names.POPULATION),
                np.array([[f"{s} site {p}" for p in range(n_pop)] for s in species], dtype=object),
            ),
            "taxon": (names.SPECIES, ["Plantae"] * n_sp),
            "country": (names.SPECIES, ["US"] * n_sp),
            "site": (names.SPECIES, [f"{s} range" for s in species]),
        },
        attrs={
            "pva_version": "0.1.0",
            "seed_entropy": "20261123",
            "n_replicates": n_rep,
            "chunk_size": 256,
            "study": json.dumps(study if study is not None else STUDY),
        },
    )
    if annual_cost is not None:
        ds["annual_cost"] = (
            (names.SPECIES, names.SCENARIO, names.YEAR),
            np.asarray(annual_cost, dtype=float),
            {"units": "currency units per year", "long_name": "annual cost of interventions"},
        )
    return ds


def known_results(replicates: int = 8) -> xr.Dataset:
    """The two-species, two-scenario Dataset described in the module docstring."""
    years = np.arange(51)
    mature = np.zeros((2, 2, replicates, years.size, 2), dtype=np.int64)
    decline = np.clip(100 - 10 * years, 0, None)  # 0 from year 10 on
    mature[0, 0, :, :, :] = decline[None, :, None]
    mature[0, 1, :, :, :] = (100 + np.arange(replicates))[:, None, None]
    half = replicates // 2
    beta_decline = np.clip(50 - 50 * years // 20, 0, None)  # 50 .. 0 at year 20
    mature[1, 0, :half, :, 0] = beta_decline[None, :]
    mature[1, 0, half:, :, 0] = 50
    mature[1, 1, :, :, 0] = 50
    exists = np.array([[True, True], [True, False]])
    cost = np.zeros((2, 2, years.size))
    cost[:, 1, :] = 1000.0
    return make_results(
        mature,
        species=("Alpha", "Beta"),
        scenarios=("no action", "protect"),
        population_exists=exists,
        annual_cost=cost,
        generation_length=(5.0, 12.0),
        quasi_extinction_threshold=(20.0, 10.0),
    )


def one_species_study(*, seed: int = 3, replicates: int = 60, years: int = 20) -> Study:
    """A study of one species under one scenario, as :func:`pva.simulate` records one: a declining
    herb (some replicates go extinct, more fall to the quasi-extinction threshold of 5 mature
    individuals) that is grazed, with a fence that halves grazing for 10 a year."""
    herb = Species(
        name="herb",
        stages=("seedling", "adult"),
        U=((0.2, 0.0), (0.25, 0.75)),
        F=((0.0, 0.9), (0.0, 0.0)),
        initial=(10, 12),
        carrying_capacity=60.0,
        density_dependence=DensityDependence(kind="ceiling"),
        quasi_extinction_threshold=5.0,
        quasi_extinction_on="mature",
        generation_length=4.0,
    )
    fenced = Scenario(
        "fenced",
        (
            Harvest(name="grazing", proportion=0.2),
            ThreatAbatement(name="fence", threat="grazing", fraction=0.5, annual_cost=10.0),
        ),
    )
    return Study(
        name=herb.name,
        species=(herb,),
        scenarios=(fenced,),
        years=years,
        replicates=replicates,
        seed=seed,
        chunk_size=25,
    )


def run_and_simulate(study: Study) -> tuple[xr.Dataset, xr.Dataset]:
    """``pva run`` of a one-species, one-scenario study and :func:`pva.simulate` of the same."""
    (entry,) = study.species
    (scenario,) = study.scenarios
    run = runner.run_study(study, backend="sequential")
    simulated = simulate(
        entry.species,
        years=study.years,
        replicates=study.replicates,
        seed=study.seed,
        scenario=scenario,
        chunk_size=study.chunk_size,
    )
    return run, simulated
