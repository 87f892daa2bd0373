"""Defaults a user relies on without asking for them."""

from __future__ import annotations

import numpy as np

import pva
from pva.model import DensityDependence, Species


def _growing(**fields: object) -> Species:
    # λ = 1.3: without a ceiling the population would pass K within a few years
    return Species(
        name="grower",
        stages=("juvenile", "adult"),
        U=((0.2, 0.0), (0.3, 0.8)),
        F=((0.0, 1.2), (0.0, 0.0)),
        initial=(50, 50),
        **fields,  # type: ignore[arg-type]
    )


def test_carrying_capacity_alone_means_a_ceiling() -> None:
    species = _growing(carrying_capacity=200)
    assert species.density_dependence == DensityDependence(kind="ceiling")
    ds = pva.simulate(species, years=30, replicates=50, seed=3)
    assert int(ds.total_abundance.max()) <= 200


def test_no_carrying_capacity_means_density_independence() -> None:
    species = _growing()
    assert species.density_dependence is None
    ds = pva.simulate(species, years=30, replicates=50, seed=3)
    assert float(np.median(ds.total_abundance.isel(year=-1))) > 1000
