"""pva.success end to end on a small real portfolio: the per-species tasks give the numbers of the
whole study's run, any number of workers gives the same numbers, checkpoints resume (also after a
kill), and ``pva success`` writes its results, report and figures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from pva import datasets, io, results, runner
from pva.cli import main
from pva.study import Study
from pva.success import analysis as success_analysis
from pva.success import names
from pva.success import outcomes as success_outcomes
from pva.success import portfolio as pf

RECORDS = (
    "comadre_Nov_28_2017_row1612",  # Ovis canadensis sierrae: an animal with a killing threat
    "compadre_Nov_22_2017_row3681",  # Lupinus lepidus: a plant without one
    "compadre_Nov_22_2017_row2890",  # Helianthus divaricatus: a declining plant
    "comadre_Nov_28_2017_row1912",  # Vulpes vulpes
)
DESIGNS = (
    pf.Design(kind="threat abatement", start=0, intensity="high", duration=None),
    pf.Design(kind="conflict mitigation", start=5, intensity="low", duration=10),
    pf.Design(kind="translocation", start=10, intensity="high", duration=None),
)


def small_portfolio(
    n_species: int = 2, *, replicates: int = 40, years: int = 20
) -> tuple[Study, tuple[pf.PortfolioSpecies, ...]]:
    entries = pf.portfolio([datasets.load_compadre(r) for r in RECORDS[:n_species]])
    study = pf.portfolio_study(
        species=entries,
        design_set=DESIGNS,
        replicates=replicates,
        years=years,
        chunk_size=max(replicates // 2, 1),
        seed=5,
        name="small_portfolio",
    )
    return study, entries


@pytest.fixture(scope="module")
def small() -> tuple[Study, tuple[pf.PortfolioSpecies, ...]]:
    return small_portfolio()


@pytest.fixture(scope="module")
def sequential(small) -> xr.Dataset:
    return success_outcomes.run_success(small[0], backend="sequential")


def test_layout_and_applicability(sequential: xr.Dataset, small) -> None:
    study, entries = small
    assert list(sequential[results.SPECIES].values) == [e.name for e in entries]
    assert list(sequential[names.DESIGN].values) == [d.name for d in DESIGNS]
    assert sequential[names.EXTINCT].shape == (2, 4, 40)
    applicable = sequential[names.APPLICABLE].to_series()
    # conflict mitigation needs a killing threat: the sheep has one, the lupin not
    assert bool(applicable[("Lupinus lepidus", DESIGNS[1].name)]) is False
    assert bool(applicable[("Ovis canadensis subsp. sierrae", DESIGNS[1].name)]) is True
    assert sequential.attrs["horizon"] == study.years
    no_effect = sequential["extinctions_prevented"].sel(
        species="Lupinus lepidus", design=DESIGNS[1].name
    )
    assert float(no_effect) == 0.0  # no intervention: the scenario is no action (same streams)


def test_species_tasks_give_the_numbers_of_the_whole_run(sequential: xr.Dataset, small) -> None:
    """One task per species runs the one-species study; its streams are keyed by the species'
    name, so it reproduces that species' slice of ``pva run`` on the whole study."""
    study, _ = small
    whole = runner.run_study(study, backend="sequential")
    green = success_outcomes._green_settings(study)
    for i, name in enumerate(study.species_names):
        reduced = success_outcomes.reduce_species(
            whole.isel({results.SPECIES: [i]}), horizon=study.years, green=green
        )
        for var in (names.EXTINCT, names.CATEGORY, names.GREEN_SCORE, names.TOTAL_COST):
            np.testing.assert_array_equal(
                reduced[var].values, sequential[var].sel({results.SPECIES: name}).values
            )


def test_two_workers_give_identical_results(sequential: xr.Dataset, small) -> None:
    xr.testing.assert_identical(success_outcomes.run_success(small[0], jobs=2), sequential)


def test_checkpoints_resume_to_identical_results(
    sequential: xr.Dataset, small, tmp_path: Path
) -> None:
    study = small[0]
    first = success_outcomes.run_success(study, backend="sequential", checkpoint_dir=tmp_path)
    xr.testing.assert_identical(first, sequential)
    (tmp_path / "success-0001.nc").unlink()  # as if the run had stopped after the first species
    seen = []
    again = success_outcomes.run_success(
        study,
        backend="sequential",
        checkpoint_dir=tmp_path,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 2), (2, 2)]
    xr.testing.assert_identical(again, sequential)
    with pytest.raises(ValueError, match="belong to a different study"):
        success_outcomes.run_success(study, seed=6, backend="sequential", checkpoint_dir=tmp_path)


def test_bad_arguments_are_refused(small) -> None:
    study = small[0]
    with pytest.raises(ValueError, match="horizon must lie in"):
        success_outcomes.run_success(study, horizon=study.years + 1)
    with pytest.raises(TypeError, match=r"pva\.study\.Study"):
        success_outcomes.run_success("study.toml")  # type: ignore[arg-type]
    alone = Study(name="alone", species=(study.species[0],), years=5, replicates=2)
    with pytest.raises(ValueError, match="needs a no-action scenario and at least one design"):
        success_outcomes.run_success(alone)


def _study_file(tmp_path: Path, n_species: int = 2, **settings: int) -> tuple[Path, Study]:
    study, entries = small_portfolio(n_species, **settings)
    path = tmp_path / "small.toml"
    io.write_text(path, pf.portfolio_file_text(study, entries))
    return path, study


def test_cli_success_writes_results_report_and_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sequential: xr.Dataset
) -> None:
    pytest.importorskip("statsmodels")
    path, _ = _study_file(tmp_path)
    out, html, figures = tmp_path / "out.nc", tmp_path / "success.html", tmp_path / "figures"
    args = ["success", str(path), "--out", str(out), "--bootstrap", "5", "--report", str(html)]
    assert main([*args, "--figures", str(figures)]) == 0
    printed = capsys.readouterr().out
    assert "Intervention types per currency unit" in printed
    assert f"results written to {out}" in printed
    outcomes, analysis = success_analysis.split_analysis(io.open_results(out))
    xr.testing.assert_identical(outcomes, sequential)
    assert analysis is not None
    assert set(analysis["outcome"].values) == set(success_analysis.FAMILIES)
    page = html.read_text(encoding="utf-8")
    assert 'id="success-factors"' in page
    assert "conditional on the written threat, size and cost rules" in page
    assert sorted(p.name for p in figures.iterdir())[0] == "success_effects.png"


def test_cli_success_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _study_file(tmp_path)
    assert main(["success", str(path), "--bootstrap", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pva success: error: --bootstrap must be >= 0")
    assert err.count("\n") == 1
    assert main(["success", str(tmp_path / "missing.toml")]) == 2


def test_a_killed_run_resumes_to_identical_results(tmp_path: Path) -> None:
    """``pva success --checkpoint-dir`` killed (SIGKILL) after its first species, then resumed:
    the same numbers as a run that was never interrupted."""
    path, study = _study_file(tmp_path, 4, replicates=100, years=30)
    folder = tmp_path / "checkpoints"
    command = [sys.executable, "-m", "pva.cli", "success", str(path), "--checkpoint-dir",
               str(folder), "--out", str(tmp_path / "killed.nc"), "--bootstrap", "0", "-q",
               "--backend", "sequential"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not (folder / "success-0000.nc").exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "no species finished in time"
        time.sleep(0.05)
    assert process.poll() is None  # three species still to go
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "killed.nc").exists()
    done = sorted(p.name for p in folder.glob("success-*.nc"))
    assert 1 <= len(done) < 4
    seen: list[tuple[int, int]] = []
    resumed = success_outcomes.run_success(
        study,
        backend="sequential",
        checkpoint_dir=folder,
        progress=lambda d, n: seen.append((d, n)),
    )
    assert seen[0] == (len(done), 4)
    xr.testing.assert_identical(resumed, success_outcomes.run_success(study, backend="sequential"))
