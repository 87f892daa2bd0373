"""Names, units and long names of everything pva writes into an :class:`xarray.Dataset`.

One concept, one place: every module that builds or reads result Datasets uses these constants.
"""

from __future__ import annotations

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
