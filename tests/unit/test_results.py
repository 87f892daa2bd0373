"""pva.results (the one layout and its provenance reader) and pva.io's atomic writer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest_results import STUDY, known_results, one_species_study

from pva import io, redlist, results


def test_provenance_of_a_run(run_and_simulation: tuple[xr.Dataset, xr.Dataset]) -> None:
    run, _ = run_and_simulation
    made = results.provenance(run)
    study = one_species_study()
    assert made.study == study.to_dict()
    assert made.name == "herb"
    assert made.no_action == study.baseline == "fenced"
    assert (made.seed_entropy, made.replicates, made.chunk_size) == (3, 60, 25)
    assert made.species == study.to_dict()["species"]
    assert made.species_table("herb") == study.to_dict()["species"][0]
    assert made.species_table("tree") is None
    assert made.quasi_extinction == {"herb": results.QuasiExtinction(threshold=5.0, on="mature")}
    assert made.currency == "currency units"
    assert made.horizons == ()
    # a fresh copy each time: editing it changes nothing recorded
    made.study["study"]["name"] = "changed"
    assert made.name == "herb"


def test_provenance_reads_the_threshold_variable_first() -> None:
    ds = known_results(2)
    assert results.provenance(ds).quasi_extinction == {
        "Alpha": results.QuasiExtinction(threshold=20.0, on="total"),
        "Beta": results.QuasiExtinction(threshold=10.0, on="total"),
    }
    # without the variable, the study's species tables (threshold default 0)
    study = {**STUDY, "species": [{"name": "Alpha", "quasi_extinction_threshold": 7.0}]}
    bare = ds.drop_vars(results.QUASI_EXTINCTION_THRESHOLD).assign_attrs(study=json.dumps(study))
    assert results.provenance(bare).quasi_extinction == {
        "Alpha": results.QuasiExtinction(threshold=7.0, on="total"),
        "Beta": results.QuasiExtinction(threshold=0.0, on="total"),
    }


def test_provenance_of_a_dataset_without_attributes() -> None:
    made = results.provenance(xr.Dataset())
    assert made.study == {}
    assert made.name == ""
    assert (made.no_action, made.seed_entropy, made.replicates, made.version) == (None,) * 4
    assert made.quasi_extinction == {}


@pytest.mark.parametrize(
    ("text", "match"),
    [("{not json", "'study' is not valid JSON"), ("[1, 2]", "must hold a JSON object")],
)
def test_provenance_refuses_a_bad_study_attribute(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        results.provenance(xr.Dataset(attrs={"study": text}))
    with pytest.raises(TypeError, match=r"results must be an xarray\.Dataset"):
        results.provenance({"study": text})  # type: ignore[arg-type]


def test_study_layout_gives_every_variable_its_dims(
    run_and_simulation: tuple[xr.Dataset, xr.Dataset],
) -> None:
    run, simulated = run_and_simulation
    expanded = results.study_layout(simulated)
    for name, dims in results.LAYOUT.items():
        if name in expanded.variables:
            assert expanded[name].dims == dims, name
    assert expanded[results.ABUNDANCE].dims == results.LAYOUT[results.ABUNDANCE]
    assert results.study_layout(run) is run  # a study's results are already in the layout


def test_study_layout_and_check_refuse_what_is_not_results() -> None:
    with pytest.raises(ValueError, match="neither a dim nor a scalar coordinate 'species'"):
        results.study_layout(xr.Dataset({results.MATURE: ("replicate", [1])}))
    with pytest.raises(TypeError, match=r"results must be an xarray\.Dataset"):
        results.check([1, 2])
    with pytest.raises(ValueError, match=r"missing \['total_abundance'\]"):
        results.check(known_results(2).drop_vars(results.TOTAL))


def test_pva_redlist_reexports_the_names_of_pva_results() -> None:
    # defined once, in pva.results; pva.redlist, where they were first defined, re-exports them
    for name in ("EXTINCTION_RISK", "E_WINDOW", "E_WINDOWS", "PROJECTED_MATURE", "LEAD"):
        assert getattr(redlist, name) is getattr(results, name), name


def test_no_action_scenario_rule() -> None:
    ds = known_results(2)
    assert results.no_action_scenario(ds) == "no action"  # named by the study
    assert results.no_action_scenario(ds, "protect") == "protect"
    with pytest.raises(ValueError, match="no_action 'nothing' is not a scenario"):
        results.no_action_scenario(ds, "nothing")


# ---------------------------------------------------------------------------------------------------
# the atomic writer


def test_atomic_write_leaves_no_temporary_file_on_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "out" / "file.txt"

    def fail(tmp: Path) -> None:
        tmp.write_text("half written", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        io.atomic_write(path, fail)
    assert list(path.parent.iterdir()) == []  # neither the file nor a temporary one
    io.write_text(path, "old")
    with pytest.raises(RuntimeError, match="disk full"):
        io.atomic_write(path, fail)
    assert [p.name for p in path.parent.iterdir()] == ["file.txt"]
    assert path.read_text(encoding="utf-8") == "old"  # the old file is untouched


def test_write_results_leaves_no_temporary_file_on_an_exception(tmp_path: Path) -> None:
    # netCDF refuses a dict attribute: the write fails half way, nothing is left behind
    bad = known_results(2).assign_attrs(broken={"a": 1})
    with pytest.raises(TypeError):
        io.write_results(bad, tmp_path / "r.nc")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match=r"ds must be an xarray\.Dataset"):
        io.write_results({"a": 1}, tmp_path / "r.nc")  # type: ignore[arg-type]


def test_simulation_round_trips_through_netcdf(
    run_and_simulation: tuple[xr.Dataset, xr.Dataset], tmp_path: Path
) -> None:
    _, simulated = run_and_simulation
    back = io.open_results(io.write_results(simulated, tmp_path / "sim.nc"))
    xr.testing.assert_identical(back, simulated)
    assert results.provenance(back) == results.provenance(simulated)
    np.testing.assert_array_equal(back[results.MATURE], simulated[results.MATURE])
