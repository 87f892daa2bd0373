"""Names, units and long names of everything pva writes into an :class:`xarray.Dataset`.

One concept, one place: every module that builds or reads result Datasets uses these constants.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

# dimensions (singular, as xarray and CF prefer)
SPECIES = "species"
SCENARIO = "scenario"
REPLICATE = "replicate"
YEAR = "year"
POPULATION = "population"
STAGE = "stage"

# raw trajectories
ABUNDANCE = "abundance"
"""Individuals by stage: (replicate, year, population, stage)."""
MATURE = "mature_abundance"
"""Mature individuals (those the Red List counts): (replicate, year, population)."""
TOTAL = "total_abundance"
"""All individuals: (replicate, year, population)."""
CARRYING_CAPACITY = "carrying_capacity"
"""Realised carrying capacity: (replicate, year, population)."""

# Red List (pva.redlist)
GENERATION_LENGTH = "generation_length"
"""Generation length in years: (species,)."""
CATEGORY = "category"
"""IUCN Red List category code, int8 (see pva.redlist): (species, scenario, replicate, year)."""
CRITERIA = "criteria"
"""Red List criteria met, IUCN style ("EN A3; C1"): (species, scenario, replicate, year)."""
RLI = "red_list_index"
"""Red List Index of the species jointly: (scenario, replicate, year)."""

# study results (pva.runner): the species dim and what describes each species
POPULATION_EXISTS = "population_exists"
"""Whether population p of a species exists (species have different numbers; the rest is padding):
(species, population), bool."""
POPULATION_NAME = "population_name"
"""Name of each population (site), "" for padding: coordinate (species, population)."""
QUASI_EXTINCTION_THRESHOLD = "quasi_extinction_threshold"
"""Quasi-extinction threshold in individuals: (species,)."""
ANNUAL_COST = "annual_cost"
"""Cost of a scenario's interventions in year t (the step from t to t + 1): (species, scenario, year)."""
TAXON = "taxon"
"""Scientific name: coordinate (species,), "" if unknown."""
COUNTRY = "country"
"""Country or countries: coordinate (species,), "" if unknown."""
SITE = "site"
"""Site or range: coordinate (species,), "" if unknown."""
ATTR_STUDY = "study"
"""Dataset attribute holding the study as JSON (study-file schema plus the key ``no_action``)."""

# attributes
ATTR_VERSION = "pva_version"
ATTR_SEED_ENTROPY = "seed_entropy"
ATTR_REPLICATES = "n_replicates"
ATTR_CHUNK_SIZE = "chunk_size"
ATTR_SPEC = "spec"

VARIABLE_ATTRS: dict[str, dict[str, str]] = {
    ABUNDANCE: {"units": "individuals", "long_name": "abundance by stage"},
    MATURE: {"units": "individuals", "long_name": "mature individuals"},
    TOTAL: {"units": "individuals", "long_name": "total abundance"},
    CARRYING_CAPACITY: {"units": "individuals", "long_name": "carrying capacity"},
    YEAR: {"units": "year", "long_name": "years since the start of the projection"},
    REPLICATE: {"units": "1", "long_name": "Monte Carlo replicate"},
}

VARIABLE_ATTRS.update(
    {
        POPULATION_EXISTS: {"units": "1", "long_name": "population exists (false: padding)"},
        POPULATION_NAME: {"units": "1", "long_name": "population (site) name"},
        QUASI_EXTINCTION_THRESHOLD: {
            "units": "individuals",
            "long_name": "quasi-extinction threshold",
        },
        ANNUAL_COST: {
            "units": "currency units per year",
            "long_name": "annual cost of interventions",
        },
        SPECIES: {"units": "1", "long_name": "species"},
        SCENARIO: {"units": "1", "long_name": "scenario"},
        POPULATION: {"units": "1", "long_name": "population (site) index"},
        TAXON: {"units": "1", "long_name": "scientific name"},
        COUNTRY: {"units": "1", "long_name": "country"},
        SITE: {"units": "1", "long_name": "site"},
    }
)
VARIABLE_ATTRS.setdefault(GENERATION_LENGTH, {"units": "year", "long_name": "generation length"})


def variable(name: str, dims: str | tuple[str, ...], data: Any, **attrs: str) -> xr.Variable:
    """The variable ``name`` with its ``units`` and ``long_name`` from :data:`VARIABLE_ATTRS`
    (``attrs`` override or add to them)."""
    return xr.Variable(dims, data, attrs={**VARIABLE_ATTRS[name], **attrs})
