"""The runner: schema, invariance to jobs and backend, checkpoints, common random numbers, NetCDF."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from pva import io, results, runner
from pva.errors import CountCapWarning
from pva.model import Catastrophe, DensityDependence, Population, Species
from pva.scenario import (
    ConflictMitigation,
    HabitatLoss,
    HabitatProtection,
    Harvest,
    Scenario,
    Supplementation,
    ThreatAbatement,
    VitalRateReduction,
)
from pva.study import Study, StudySpecies

ROOT = Path(__file__).resolve().parents[2]


def two_species_study(**changes: object) -> Study:
    """Two species with different numbers of populations, three scenarios, four chunks."""
    bird = Species(
        name="bird",
        stages=("juvenile", "adult"),
        U=((0.2, 0.0), (0.35, 0.85)),
        F=((0.0, 0.45), (0.0, 0.0)),
        populations=(
            Population(name="north", initial=(8, 30), carrying_capacity=60.0),
            Population(name="south", initial=(4, 12), carrying_capacity=30.0),
        ),
        density_dependence=DensityDependence(kind="ceiling"),
        catastrophes=(Catastrophe(name="storm", probability=0.1, survival_multiplier=0.7),),
    )
    herb = Species(
        name="herb",
        stages=("plant",),
        U=((0.6,),),
        F=((0.45,),),
        initial=(40,),
        carrying_capacity=80.0,
        density_dependence=DensityDependence(kind="ceiling"),
        quasi_extinction_threshold=5.0,
    )
    loss = HabitatLoss(name="loss", rate=0.03)
    poaching = Harvest(name="poaching", stages=("adult",), proportion=0.05)
    settings: dict[str, object] = {
        "name": "two species",
        "species": (
            StudySpecies(species=bird, taxon="Avis exempli", country="NZL", site="two islands"),
            StudySpecies(species=herb),
        ),
        "scenarios": (
            Scenario("no action", (loss, poaching)),
            Scenario(
                "protect",
                (
                    loss,
                    poaching,
                    HabitatProtection(name="park", annual_cost=10.0),
                    ConflictMitigation(name="patrol", threat="poaching", annual_cost=5.0, end=10),
                ),
            ),
            Scenario(
                "release", (loss, poaching, Supplementation(name="sup", individuals={"adult": 3}))
            ),
        ),
        "applies_to": {"poaching": ("bird",), "patrol": ("bird",), "sup": ("bird",)},
        "years": 15,
        "replicates": 40,
        "chunk_size": 16,
        "seed": 11,
    }
    settings.update(changes)
    return Study(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def study() -> Study:
    return two_species_study()


@pytest.fixture(scope="module")
def sequential(study: Study) -> xr.Dataset:
    return runner.run_study(study, backend="sequential")


def test_dataset_schema(sequential: xr.Dataset, study: Study) -> None:
    ds = sequential
    dims5 = (results.SPECIES, results.SCENARIO, results.REPLICATE, results.YEAR, results.POPULATION)
    assert dict(ds.sizes) == {
        "species": 2,
        "scenario": 3,
        "replicate": 40,
        "year": 16,
        "population": 2,
    }
    for name in (results.MATURE, results.TOTAL):
        assert ds[name].dims == dims5
        assert ds[name].dtype == np.int64
    assert ds[results.POPULATION_EXISTS].dims == (results.SPECIES, results.POPULATION)
    np.testing.assert_array_equal(ds[results.POPULATION_EXISTS], [[True, True], [True, False]])
    assert ds[results.GENERATION_LENGTH].dims == (results.SPECIES,)
    np.testing.assert_array_equal(ds[results.QUASI_EXTINCTION_THRESHOLD], [0.0, 5.0])
    assert ds[results.ANNUAL_COST].dims == (results.SPECIES, results.SCENARIO, results.YEAR)
    assert list(ds.species.values) == ["bird", "herb"]
    assert list(ds.scenario.values) == ["no action", "protect", "release"]
    np.testing.assert_array_equal(ds.replicate, np.arange(40))
    np.testing.assert_array_equal(ds.year, np.arange(16))
    assert ds.year.attrs["units"] == "year"
    np.testing.assert_array_equal(ds.population, [0, 1])
    assert ds[results.POPULATION_NAME].values.tolist() == [["north", "south"], ["main", ""]]
    assert ds[results.TAXON].values.tolist() == ["Avis exempli", ""]
    assert ds[results.COUNTRY].values.tolist() == ["NZL", ""]
    assert ds[results.SITE].values.tolist() == ["two islands", ""]
    for name in list(ds.data_vars) + list(ds.coords):
        assert "units" in ds[name].attrs, name
        assert "long_name" in ds[name].attrs, name
    assert ds.attrs[results.ATTR_SEED_ENTROPY] == "11"
    assert ds.attrs[results.ATTR_REPLICATES] == 40
    assert ds.attrs[results.ATTR_CHUNK_SIZE] == 16
    spec = json.loads(ds.attrs[results.ATTR_STUDY])
    assert spec["no_action"] == "no action"
    assert Study.from_dict({k: v for k, v in spec.items() if k != "no_action"}) == study


def test_padding_and_initial_state(sequential: xr.Dataset, study: Study) -> None:
    herb = sequential.sel(species="herb")
    assert int(np.abs(herb[results.TOTAL].isel(population=1)).max()) == 0
    year0 = sequential[results.TOTAL].isel(year=0)
    np.testing.assert_array_equal(year0.sel(species="bird"), np.broadcast_to([38, 16], (3, 40, 2)))
    np.testing.assert_array_equal(year0.sel(species="herb", population=0), 40)


def test_annual_cost(sequential: xr.Dataset) -> None:
    cost = sequential[results.ANNUAL_COST]
    expected = np.zeros(16)
    expected[:15] = 10.0
    expected[:10] += 5.0
    np.testing.assert_array_equal(cost.sel(species="bird", scenario="protect"), expected)
    # the patrol is limited to the bird, so the herb pays only for the park
    np.testing.assert_array_equal(
        cost.sel(species="herb", scenario="protect"), np.r_[np.full(15, 10.0), 0.0]
    )
    np.testing.assert_array_equal(cost.sel(scenario="no action"), 0.0)


def test_jobs_and_backends_give_identical_results(sequential: xr.Dataset, study: Study) -> None:
    for jobs, backend in ((2, "loky"), (2, "threading")):
        xr.testing.assert_identical(runner.run_study(study, jobs=jobs, backend=backend), sequential)


def test_dask_local_cluster_gives_identical_results(sequential: xr.Dataset, study: Study) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        ds = runner.run_study(study, backend="dask")
    xr.testing.assert_identical(ds, sequential)


def test_seed_changes_the_numbers_and_none_records_fresh_entropy(study: Study) -> None:
    small = study.with_(replicates=16)
    a = runner.run_study(small, backend="sequential", seed=12)
    b = runner.run_study(small.with_(seed=None), backend="sequential")
    assert a.attrs[results.ATTR_SEED_ENTROPY] == "12"
    assert not a[results.TOTAL].equals(runner.run_study(small, backend="sequential")[results.TOTAL])
    again = runner.run_study(small, backend="sequential", seed=int(b.attrs["seed_entropy"]))
    np.testing.assert_array_equal(again[results.TOTAL], b[results.TOTAL])


def test_progress_is_reported_per_task(study: Study) -> None:
    calls: list[tuple[int, int]] = []
    runner.run_study(study, backend="sequential", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(k, 6) for k in range(7)]  # 2 species x 3 chunks of 16, 16, 8 (and the start)


def test_checkpoints_resume_to_identical_results(
    sequential: xr.Dataset, study: Study, tmp_path: Path
) -> None:
    folder = tmp_path / "ckpt"
    first = runner.run_study(study, backend="sequential", checkpoint_dir=folder)
    xr.testing.assert_identical(first, sequential)
    tasks = sorted(folder.glob("task-*.npz"))
    assert len(tasks) == 6
    tasks[1].unlink()
    tasks[4].unlink()
    calls: list[tuple[int, int]] = []
    resumed = runner.run_study(
        study,
        backend="sequential",
        checkpoint_dir=folder,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(4, 6), (5, 6), (6, 6)]  # four tasks came from the checkpoints
    xr.testing.assert_identical(resumed, sequential)
    assert not list(folder.glob("*.tmp"))


def test_checkpoints_of_another_study_or_seed_are_refused(study: Study, tmp_path: Path) -> None:
    small = study.with_(replicates=16)
    runner.run_study(small, backend="sequential", checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="belong to a different study"):
        runner.run_study(small.with_(years=10), backend="sequential", checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match=r"were run with seed entropy \d+, not 99"):
        runner.run_study(small, backend="sequential", checkpoint_dir=tmp_path, seed=99)


def test_unseeded_checkpoints_resume_with_their_entropy(study: Study, tmp_path: Path) -> None:
    small = study.with_(replicates=16, seed=None)
    first = runner.run_study(small, backend="sequential", checkpoint_dir=tmp_path)
    next(tmp_path.glob("task-*.npz")).unlink()
    second = runner.run_study(small, backend="sequential", checkpoint_dir=tmp_path)
    xr.testing.assert_identical(first, second)


def test_common_random_numbers_make_a_neutral_scenario_identical(study: Study) -> None:
    """A scenario whose schedule is the no-action schedule (an abatement of zero, a cost only) gives
    the same trajectories replicate by replicate: every scenario draws the same streams."""
    loss = HabitatLoss(name="loss", rate=0.03)
    poaching = Harvest(name="poaching", stages=("adult",), proportion=0.05)
    neutral = study.with_(
        scenarios=(
            Scenario("no action", (loss, poaching)),
            Scenario(
                "paper plan",
                (
                    loss,
                    poaching,
                    ThreatAbatement(name="z", threat="poaching", fraction=0.0, annual_cost=1.0),
                ),
            ),
        ),
        applies_to={"poaching": ("bird",), "z": ("bird",)},
    )
    ds = runner.run_study(neutral, backend="sequential")
    np.testing.assert_array_equal(
        ds[results.TOTAL].sel(scenario="no action"), ds[results.TOTAL].sel(scenario="paper plan")
    )
    assert float(ds[results.ANNUAL_COST].sel(species="bird", scenario="paper plan").sum()) == 15.0


@pytest.mark.slow
def test_releases_raise_abundance_in_paired_comparison() -> None:
    """Releases add individuals, so the paired difference (release minus no action) in final
    abundance has a positive mean. Not guaranteed replicate by replicate (extra draws shift the
    demographic stream), so the mean is tested against 5 Monte Carlo SEs."""
    sp = Species(
        name="herb",
        stages=("plant",),
        U=((0.6,),),
        F=((0.3,),),
        initial=(20,),
        carrying_capacity=200.0,
        density_dependence=DensityDependence(kind="ceiling"),
    )
    study = Study(
        name="paired",
        species=(sp,),
        scenarios=(
            Scenario("no action"),
            Scenario(
                "release", (Supplementation(name="r", individuals={"plant": 2}, survival=0.8),)
            ),
        ),
        years=20,
        replicates=400,
        seed=5,
        chunk_size=200,
    )
    total = runner.run_study(study, backend="sequential")[results.TOTAL].isel(year=-1, population=0)
    diff = (total.sel(scenario="release") - total.sel(scenario="no action")).values[0].astype(float)
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    assert diff.mean() > 5 * se, (diff.mean(), se)


def test_netcdf_round_trip_is_identical(sequential: xr.Dataset, tmp_path: Path) -> None:
    path = io.write_results(sequential, tmp_path / "out" / "r.nc")
    assert path.exists()
    assert not list(path.parent.glob("*.tmp"))
    xr.testing.assert_identical(io.open_results(path), sequential)


def test_write_results_replaces_atomically(sequential: xr.Dataset, tmp_path: Path) -> None:
    path = tmp_path / "r.nc"
    path.write_text("old")
    io.write_results(sequential, path)
    xr.testing.assert_identical(io.open_results(path), sequential)
    # readable like any file the user writes (mkstemp alone would leave it 0600)
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(FileNotFoundError, match="no results file"):
        io.open_results(tmp_path / "missing.nc")


def test_demo_study_runs(tmp_path: Path) -> None:
    study = io.read_study(ROOT / "scenarios" / "demo.toml").with_(replicates=50)
    ds = runner.run_study(study, backend="sequential")
    assert list(ds.scenario.values) == ["no action", "reroute trails", "outplanting"]
    assert ds[results.TOTAL].isel(year=0).values.min() == 4264 + 3 + 30 + 16 + 25 + 5


def test_bad_arguments_are_refused(study: Study) -> None:
    with pytest.raises(ValueError, match="jobs must be a non-zero integer"):
        runner.run_study(study, jobs=0)
    with pytest.raises(ValueError, match="backend must be"):
        runner.run_study(study, backend="mpi")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"study must be a pva\.study\.Study"):
        runner.run_study("study.toml")  # type: ignore[arg-type]


# --- scenario effects through the engine, against closed forms (no demographic stochasticity) -----


def _deterministic(
    scenario: Scenario, *, initial: int = 1000, k: float | None = None
) -> np.ndarray:
    """Total abundance by year of one replicate of a one-stage species with survival 1 and no
    births, so that only the scenario changes N."""
    sp = Species(
        name="rock",
        stages=("adult",),
        U=((1.0,),),
        F=((0.0,),),
        initial=(initial,),
        carrying_capacity=k,
        density_dependence=None if k is None else DensityDependence(kind="ceiling"),
        demographic_stochasticity=False,
    )
    study = Study(
        name="closed form", species=(sp,), scenarios=(scenario,), years=12, replicates=1, seed=1
    )
    ds = runner.run_study(study, backend="sequential")
    return ds[results.TOTAL].isel(species=0, scenario=0, replicate=0, population=0).values


def test_proportional_harvest_gives_geometric_decline() -> None:
    n = _deterministic(Scenario("h", (Harvest(name="h", proportion=0.1, start=2),)))
    t = np.arange(13)
    np.testing.assert_array_equal(n, np.floor(1000 * 0.9 ** np.maximum(t - 2, 0) + 1e-9))


def test_harvest_number_and_its_mitigation_give_linear_decline() -> None:
    h = Harvest(name="h", number=10)
    n = _deterministic(
        Scenario("h", (h, ConflictMitigation(name="m", threat="h", fraction=0.5, delay=4)))
    )
    t = np.arange(13)
    np.testing.assert_array_equal(n, 1000 - 10 * np.minimum(t, 4) - 5 * np.maximum(t - 4, 0))


def test_releases_add_their_survivors() -> None:
    n = _deterministic(
        Scenario("r", (Supplementation(name="r", individuals={"adult": 10}, survival=0.5, end=6),))
    )
    np.testing.assert_array_equal(n, 1000 + 5 * np.minimum(np.arange(13), 6))


def test_exploding_deterministic_projection_is_recorded_without_overflow() -> None:
    # regression: floats past 2**63 were cast to int64 as -2**63 (negative abundance)
    boom = Species(
        name="boom",
        stages=("a",),
        U=((0.0,),),
        F=((1000.0,),),
        initial=(1,),
        demographic_stochasticity=False,
    )
    study = Study(name="boom", species=(boom,), years=10, replicates=1, seed=1)
    with np.errstate(invalid="raise"), pytest.warns(CountCapWarning, match="capped"):
        n = runner.run_study(study, backend="sequential")[results.TOTAL].values.ravel()
    np.testing.assert_array_equal(n[:6], 1000 ** np.arange(6))
    assert np.all(n[7:] == 2**62)  # 1000**7 > 2**63: capped, not wrapped


def test_habitat_loss_lowers_the_ceiling() -> None:
    n = _deterministic(Scenario("k", (HabitatLoss(name="k", rate=0.1, floor=0.5),)), k=1000.0)
    t = np.arange(1, 13)
    np.testing.assert_array_equal(n[1:], np.floor(1000 * np.maximum(0.9**t, 0.5) + 1e-9))


@pytest.mark.parametrize("frequency", [None, 1.0])
def test_chronic_threat_and_a_certain_epidemic_multiply_survival(frequency: float | None) -> None:
    threat = VitalRateReduction(name="v", survival=0.8, frequency=frequency, end=5)
    n = _deterministic(Scenario("v", (threat,)))
    np.testing.assert_array_equal(n, np.floor(1000 * 0.8 ** np.minimum(np.arange(13), 5) + 1e-9))


def test_results_are_chunked_one_species_at_a_time(sequential: xr.Dataset, tmp_path: Path) -> None:
    """Summaries read a results file species by species: a chunk holds one species."""
    import netCDF4

    path = io.write_results(sequential, tmp_path / "r.nc")
    with netCDF4.Dataset(path) as nc:
        chunks = nc[results.MATURE].chunking()
    assert chunks == [1, 3, 40, 16, 2]
