"""The AZE case (issue 13, item 5): scenarios/cheirolophus_metlesicsii.toml, a species held by one
site, end to end. The species file must carry the COMPADRE record's matrices and the 2014 census it
cites; the run (fewer replicates) must give per-site and genetic rows, keep the second ravine empty
until a scenario founds it, and show what the file's interventions are for: protection lowers the
risk of extinction. (That the nursery's founders leave the wild and nothing else changes is
tests/unit/test_ex_situ.py's.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from pva import cli, datasets, io, results, runner

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "scenarios" / "cheirolophus_metlesicsii.toml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    study = io.read_study(STUDY).with_(replicates=300)
    path = tmp_path_factory.mktemp("aze") / "aze.nc"
    io.write_results(runner.run_study(study, backend="sequential"), path)
    return path


@pytest.fixture(scope="module")
def ds(run: Path) -> xr.Dataset:
    return io.open_results(run)


def test_the_species_is_the_compadre_record_and_the_2014_census():
    species = io.read_study(STUDY).species[0].species
    record = datasets.load_compadre("compadre_Nov_22_2017_row1653")
    np.testing.assert_array_equal(species.U_array, np.asarray(record.U))
    np.testing.assert_array_equal(species.F_array, np.asarray(record.F))
    first = species.all_populations[0]
    assert first.name == "Añavingo"
    assert sum(first.initial) == 880  # 2014 census: 880 plants
    assert sum(first.initial[1:]) == 580  # of which 580 reproductive
    assert species.genetics is not None
    assert species.genetics.effective_size_ratio == 0.1


def test_the_second_ravine_is_empty_until_a_scenario_founds_it(ds: xr.Dataset):
    second = ds[results.TOTAL].isel(species=0, population=1)
    assert int(second.sel(scenario="no action").max()) == 0
    assert int(second.sel(scenario="site protection").max()) == 0
    founded = second.sel(scenario="second population", year=6)
    assert float((founded > 0).mean()) > 0.9
    # gene diversity is NaN where a site is empty, a number where it has plants
    h = ds[results.GENE_DIVERSITY].isel(species=0, population=1)
    assert bool(np.isnan(h.sel(scenario="no action")).all())
    assert bool(np.isfinite(h.sel(scenario="second population", year=6).where(founded > 0)).any())


def test_the_nursery_stocks_the_second_ravine_from_its_release_year(ds: xr.Dataset):
    """The nursery's plants are released from step 3 (start = 3): the second ravine is empty up to
    year 3 and holds plants from year 4 in almost every replicate."""
    second = ds[results.TOTAL].isel(species=0, population=1)
    nursery = second.sel(scenario="nursery and second population")
    assert int(nursery.sel(year=slice(0, 3)).max()) == 0
    assert float((nursery.sel(year=4) > 0).mean()) > 0.9


def test_protecting_the_site_lowers_the_risk_of_extinction(ds: xr.Dataset):
    """Paired over replicates (common random numbers): P(extinct by year 50) under protection is
    below no action's by more than 4 standard errors of the paired difference."""
    gone = (ds[results.TOTAL].isel(species=0).sum(results.POPULATION) == 0).isel(year=-1)
    difference = (
        gone.sel(scenario="no action").astype(float)
        - gone.sel(scenario="site protection").astype(float)
    ).values
    se = difference.std(ddof=1) / np.sqrt(difference.size)
    assert difference.mean() > 4 * se


def test_the_summary_reports_sites_and_gene_diversity(
    run: Path, capsys: pytest.CaptureFixture[str]
):
    assert cli.main(["summary", str(run)]) == 0
    text = capsys.readouterr().out
    assert "site Añavingo: P(no individuals by year 50)" in text
    assert "P(≥ 95% gene diversity kept in year 50)" in text
    assert "site second ravine: gene diversity in year 50" in text
    assert cli.main(["summary", str(run), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert "p_gene_diversity_target" in json.dumps(table)


def test_checkpoints_keep_gene_diversity_and_the_captive_arrays(tmp_path: Path):
    """A run resumed from its checkpoints is the run: gene diversity and the ex-situ arrays are
    saved and read back with the counts."""
    study = io.read_study(STUDY).with_(replicates=30)
    folder = tmp_path / "ckpt"
    first = runner.run_study(study, backend="sequential", checkpoint_dir=folder)
    assert results.CAPTIVE_INDIVIDUALS in first
    assert list(folder.glob("task-*.npz"))
    resumed = runner.run_study(study, backend="sequential", checkpoint_dir=folder)
    xr.testing.assert_identical(resumed, first)
