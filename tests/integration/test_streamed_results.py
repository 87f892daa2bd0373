"""``pva run`` writes its results file while the run goes on (issue 17: the calling process's
memory flat in replicates): :func:`pva.runner.run_study_to_file` must give the file that
:func:`pva.io.write_results` writes of :func:`pva.runner.run_study`'s Dataset — the same values,
attributes, encoding (types, compression, chunks, fill values) — for every variable a run can make:
species with different numbers of populations (padding), genetics in one species only, an ex-situ
programme in one scenario of one species, nested criterion E, and tasks that share HDF5 chunks."""

from __future__ import annotations

import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from pva import io, resources, runner
from pva.cli import main

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

STUDY = """
[study]
name = "streamed"
years = 12
replicates = 40
chunk_size = 20
seed = 17

[[species]]
file = "species/cheirolophus_metlesicsii.toml"

[[species]]
file = "species/hudsonia.toml"

[[interventions]]
type = "ExSituProgramme"
name = "nursery"
species = ["Cheirolophus metlesicsii"]
source = "Añavingo"
founders = {{ vegetative = 5 }}
founding_years = 3
capacity = 100.0
production = {{ vegetative = 40 }}
annual_cost = 20000.0

[[scenarios]]
name = "no action"

[[scenarios]]
name = "nursery"
actions = ["nursery"]
{outputs}
"""

NESTED_E = """
[outputs.red_list_e]
years = [10]
inner_replicates = 4
"""


def _study_file(folder: Path, *, nested_e: bool) -> Path:
    shutil.copytree(SCENARIOS / "species", folder / "species")
    path = folder / "streamed.toml"
    path.write_text(STUDY.format(outputs=NESTED_E if nested_e else ""), encoding="utf-8")
    return path


def _encoding(path: Path) -> dict[str, tuple[object, ...]]:
    """Per variable: type, dims, filters, chunks and attributes as stored in the file."""
    out = {}
    with netCDF4.Dataset(path) as nc:
        for name, var in nc.variables.items():
            attrs = {a: str(var.getncattr(a)) for a in var.ncattrs()}
            out[name] = (var.dtype, var.dimensions, var.filters(), var.chunking(), attrs)
    return out


@pytest.mark.parametrize("nested_e", [False, True], ids=["plain", "nested E"])
def test_streamed_file_is_the_written_dataset(tmp_path: Path, nested_e: bool) -> None:
    study = io.read_study(_study_file(tmp_path, nested_e=nested_e))
    in_memory = runner.run_study(study, backend="sequential")
    written = io.write_results(in_memory, tmp_path / "written.nc")
    streamed = runner.run_study_to_file(study, tmp_path / "streamed.nc", backend="sequential")

    expected, got = io.open_results(written), io.open_results(streamed)
    xr.testing.assert_identical(got, expected)
    assert _encoding(streamed) == _encoding(written)
    # what the test is meant to cover is there
    assert expected.sizes["population"] == 2
    assert not expected["population_exists"].values.all()
    assert {"gene_diversity", "inbreeding", "captive_individuals"} <= set(expected.data_vars)
    assert ("extinction_risk" in expected) == nested_e
    assert int((expected["captive_individuals"] > 0).sum()) > 0
    assert np.isnan(expected["gene_diversity"].sel(species="Hudsonia montana")).all()


def test_workers_give_the_same_file(tmp_path: Path) -> None:
    study = io.read_study(_study_file(tmp_path, nested_e=False))
    one = runner.run_study_to_file(study, tmp_path / "one.nc", backend="sequential")
    two = runner.run_study_to_file(study, tmp_path / "two.nc", jobs=2)
    xr.testing.assert_identical(io.open_results(one), io.open_results(two))


def test_pva_run_streams_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _study_file(tmp_path, nested_e=False)
    out, ckpt = tmp_path / "out" / "r.nc", tmp_path / "ckpt"
    assert main(["run", str(path), "-q", "-o", str(out), "--checkpoint-dir", str(ckpt)]) == 0
    first = io.open_results(out)
    out.unlink()
    # every task from the checkpoints: the same file again
    assert main(["run", str(path), "-q", "-o", str(out), "--checkpoint-dir", str(ckpt)]) == 0
    xr.testing.assert_identical(io.open_results(out), first)
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.nc"]  # no temporary left


def test_an_error_mid_run_leaves_no_file_and_the_old_one(tmp_path: Path) -> None:
    study = io.read_study(_study_file(tmp_path, nested_e=False))
    out = io.write_text(tmp_path / "r.nc", "old results")
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done == 2:
            raise RuntimeError("stopped after two tasks")

    with pytest.raises(RuntimeError, match="two tasks"):
        runner.run_study_to_file(study, out, backend="sequential", progress=progress)
    assert out.read_text(encoding="utf-8") == "old results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc", "species", "streamed.toml"]


def test_the_memory_estimate_of_a_streamed_run_does_not_hold_the_results(tmp_path: Path) -> None:
    study = io.read_study(_study_file(tmp_path, nested_e=False)).with_(chunk_size=2048)
    small, big = study.with_(replicates=10_000), study.with_(replicates=1_000_000)
    kept = resources.estimate(big).memory - resources.estimate(small).memory
    streamed = resources.estimate(big, streamed=True).memory
    streamed -= resources.estimate(small, streamed=True).memory
    assert resources.estimate(big, streamed=True).results == 0
    assert kept > 500 * 2**20  # 100 times the replicates: the kept results grow 100 times
    assert streamed < kept / 50  # the streamed run: its list of tasks only
    # the file's lower bound is the same: the disk is checked either way
    assert (
        resources.estimate(big, streamed=True).results_file == resources.estimate(big).results_file
    )
