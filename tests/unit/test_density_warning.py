"""Density dependence that cannot act warns (issue 15, item 6).

A Beverton-Holt scaling at its default strength makes the mean model stationary at K; a species
whose mean matrix has λ <= 1 never grows, so that strength is 0 (pva.model.density_strength) and
the projection is exactly the density-independent one, as the last test shows by running both.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import pva
from pva import cli, model
from pva.errors import DensityDependenceWarning, PVAWarning
from pva.model import DensityDependence, Species
from pva.study import Study

# lambda = 0.75 + 0.2 = 0.95
DECLINING = {
    "name": "decliner",
    "stages": ("adult",),
    "U": ((0.75,),),
    "F": ((0.2,),),
    "initial": (80,),
    "carrying_capacity": 100.0,
}
STUDY_FILE = """
[study]
name = "bh"
years = 5
replicates = 4
seed = 1

[[species]]
name = "decliner"
stages = ["adult"]
U = [[0.75]]
F = [[0.2]]
initial = [80]
carrying_capacity = 100.0

[species.density_dependence]
kind = "beverton_holt"
"""


def bh(**fields: object) -> Species:
    return Species(
        **DECLINING, density_dependence=DensityDependence(kind="beverton_holt", **fields)
    )  # type: ignore[arg-type]


def test_the_warning_is_a_pva_warning() -> None:
    assert issubclass(DensityDependenceWarning, PVAWarning)
    assert "lambda = 0.95 <= 1" in model.inert_density_dependence(bh())


def test_a_study_warns_when_it_is_validated() -> None:
    species = bh()
    with pytest.warns(DensityDependenceWarning, match="default strength cannot act"):
        Study(name="s", species=(species,), years=5, replicates=4, seed=1)


def test_pva_validate_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the command prints each warning as one line on stderr (issue 14)
    path = tmp_path / "bh.toml"
    path.write_text(STUDY_FILE, encoding="utf-8")
    assert cli.main(["validate", str(path)]) == 0
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("pva validate: warning: ")
    assert "'decliner'" in line


def test_the_runner_warns_too() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DensityDependenceWarning)
        study = Study(name="s", species=(bh(),), years=5, replicates=4, seed=1)
    with pytest.warns(DensityDependenceWarning):
        pva.runner.run_study(study, backend="sequential")


@pytest.mark.parametrize(
    "fields",
    [{"strength": 0.5}, {"ceiling": True}, {"allee": 5.0}],
    ids=["strength given", "with a ceiling", "with an Allee effect"],
)
def test_density_dependence_that_acts_does_not_warn(fields: dict[str, object]) -> None:
    assert model.inert_density_dependence(bh(**fields)) == ""
    growing = Species(
        **{**DECLINING, "F": ((0.4,),)},
        density_dependence=DensityDependence(kind="ricker"),
    )  # type: ignore[arg-type]
    assert model.inert_density_dependence(growing) == ""


def test_the_warning_is_true_the_projection_is_density_independent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DensityDependenceWarning)
        with_bh = pva.simulate(bh(), years=30, replicates=50, seed=11)
    # no carrying capacity at all: no density dependence
    free = Species(**{**DECLINING, "carrying_capacity": None})  # type: ignore[arg-type]
    without = pva.simulate(free, years=30, replicates=50, seed=11)
    xr.testing.assert_equal(with_bh["total_abundance"], without["total_abundance"])
    assert np.asarray(with_bh["total_abundance"]).max() > 0
