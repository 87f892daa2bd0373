"""Small species the tests share, each with the facts the tests rely on.

Not a conftest: test modules import these builders directly (``from example_species import
two_stage``); tests/ is on ``sys.path`` because tests/conftest.py lives there. Each builder takes
keyword changes to its fields, so a test states only what it varies.
"""

from __future__ import annotations

import numpy as np

from pva import datasets
from pva.model import (
    Dispersal,
    DispersalKernel,
    Genetics,
    Mating,
    MatrixSelection,
    Population,
    SiteCorrelation,
    Species,
)

U2 = ((0.2, 0.0), (0.5, 0.8))
F2 = ((0.0, 1.5), (0.0, 0.0))
"""Transitions and fecundity of :func:`two_stage` (λ > 1)."""

U3 = ((0.2, 0.0, 0.0), (0.3, 0.5, 0.0), (0.0, 0.3, 0.9))
F3 = ((0.0, 0.5, 2.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
N3 = (20, 10, 5)
"""Transitions, fecundity and initial numbers of :func:`three_stage`."""

HUDSONIA_N0 = (4264, 3, 30, 16, 25, 5)
"""Initial numbers used in Morris & Doak's (2002) *Hudsonia* examples and popbio's help pages."""


def two_stage(**changes: object) -> Species:
    """Juveniles and adults, ``U2`` and ``F2``, 10 juveniles and 5 adults."""
    fields: dict[str, object] = {
        "name": "toy",
        "stages": ("juvenile", "adult"),
        "U": U2,
        "F": F2,
        "initial": (10, 5),
    }
    fields.update(changes)
    return Species(**fields)  # type: ignore[arg-type]


def three_stage(**changes: object) -> Species:
    """Juveniles, subadults and adults, ``U3`` and ``F3``, initial numbers ``N3``."""
    fields: dict[str, object] = {
        "name": "toy",
        "stages": ("juvenile", "subadult", "adult"),
        "U": U3,
        "F": F3,
        "initial": N3,
    }
    fields.update(changes)
    return Species(**fields)  # type: ignore[arg-type]


def galton_watson(m: float, n0: int = 1) -> Species:
    """One stage, no survival, Poisson(``m``) offspring: a Galton-Watson process with pgf
    ``exp(m (s - 1))`` (see :func:`pva.testing.galton_watson_extinction`)."""
    return Species(name="gw", stages=("all",), U=((0.0,),), F=((m,),), initial=(n0,))


def hudsonia_matrices() -> list[np.ndarray]:
    """popbio's four annual *Hudsonia montana* matrices, 1985-88 (Morris & Doak 2002, Table 6.7)."""
    data = datasets.popbio_document("hudsonia")
    return [np.asarray(data["matrices"][name], dtype=float) for name in data["names"]]


def hudsonia(**changes: object) -> Species:
    """*Hudsonia montana* under iid selection, with equal probabilities, of its four annual matrices,
    from ``HUDSONIA_N0``. Rows 1-2 of columns 3-6 are seeds and seedlings produced (F); seed-bank
    survival and germination (column 1) are transitions (U). Giving ``populations`` drops the
    single population's ``initial``."""
    data = datasets.popbio_document("hudsonia")
    reproduction = np.zeros((6, 6), dtype=bool)
    reproduction[0:2, 2:6] = True
    fields: dict[str, object] = {
        "name": "Hudsonia montana",
        "stages": tuple(data["stages"]),
        "environment": MatrixSelection.from_matrices(
            hudsonia_matrices(), reproduction=reproduction, names=data["names"]
        ),
        "initial": HUDSONIA_N0,
    }
    if "populations" in changes:
        del fields["initial"]
    fields.update(changes)
    return Species(**fields)  # type: ignore[arg-type]


def hudsonia_rate_rows() -> list[tuple[str, float, float]]:
    """popbio's ``hudvrs``: (name, mean, variance) of the 24 *Hudsonia* vital rates (Morris & Doak
    2002, Box 8.10 and Table 8.5), the input of :func:`pva.model.hudsonia_vital_rates`."""
    return [(r["rate"], float(r["mean"]), float(r["var"])) for r in datasets.popbio_table("hudvrs")]


def sites_with_genetics() -> Species:
    """Three sites 40-100 km apart with a correlated matrix-selection environment, distance-kernel
    dispersal with transit mortality and density-dependent emigration, mating, and genetics."""
    good = ((0.2, 0.0), (0.45, 0.85))
    bad = ((0.1, 0.0), (0.3, 0.7))
    fec = ((0.0, 1.4), (0.0, 0.0))
    return Species(
        name="sites",
        stages=("juvenile", "adult"),
        environment=MatrixSelection(U=(good, bad), F=(fec, fec)),
        populations=tuple(
            Population(name=f"s{i}", initial=(10, 20), carrying_capacity=80, coordinates=xy)
            for i, xy in enumerate(((0.0, 0.0), (40.0, 0.0), (100.0, 0.0)))
        ),
        correlation=SiteCorrelation(scale=60.0),
        dispersal=Dispersal(
            kernel=DispersalKernel(rate=0.2, scale=50.0), mortality=0.2, density_dependent=True
        ),
        sex=Mating(system="monogamous"),
        genetics=Genetics(fecundity_lethal_equivalents=2.0),
    )
