"""pva.simulation.simulate: validation, labelling, provenance, reproducibility, deterministic mode,
and the one results layout it shares with `pva run`."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr
from conftest_results import one_species_study
from example_species import F3, U3, three_stage

import pva
from pva import engine, outcomes, results, streams
from pva.model import MatrixSelection, Species
from pva.scenario import Scenario, VitalRateReduction
from pva.schedule import Schedule
from pva.simulation import simulate
from pva.study import Study

# ---------------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize("field", ["years", "replicates", "chunk_size"])
@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (0, ValueError, "must be an integer >= 1; got 0"),
        (-3, ValueError, "must be an integer >= 1; got -3"),
        (True, TypeError, "must be an integer; got True"),
        (2.0, TypeError, "must be an integer; got 2.0"),
        ("5", TypeError, "must be an integer; got '5'"),
    ],
)
def test_counts_are_validated(field, value, error, match):
    kwargs = {"years": 2, "replicates": 3, "chunk_size": 4, field: value}
    with pytest.raises(error, match=f"{field} {match}"):
        simulate(three_stage(), seed=1, **kwargs)


def test_seed_is_validated():
    with pytest.raises(TypeError, match="seed must be a non-negative integer or None"):
        simulate(three_stage(), years=2, replicates=2, seed=1.5)  # type: ignore[arg-type]


def test_scenario_kind_is_validated():
    with pytest.raises(TypeError, match="scenario must be a Scenario"):
        simulate(three_stage(), years=2, replicates=2, seed=1, scenario="none")  # type: ignore[arg-type]

    class LooksLikeAScenario:  # a duck-typed scenario cannot be recorded in the study
        name = "halve fecundity"

        def compile(self, species: Species, *, years: int) -> Schedule:
            return Schedule.neutral(years=years, populations=1, stages=species.n_stages)

    with pytest.raises(TypeError, match="scenario must be a Scenario"):
        simulate(three_stage(), years=2, replicates=2, scenario=LooksLikeAScenario())  # type: ignore[arg-type]


def test_species_kind_is_validated():
    with pytest.raises(
        TypeError, match=r"species must be a Species \(pva.model.Species\); got 'toy'"
    ):
        pva.simulate("toy", years=1, replicates=1)  # type: ignore[arg-type]


def test_schedule_must_span_the_years():
    schedule = Schedule.neutral(years=3, populations=1, stages=3)
    with pytest.raises(ValueError, match="Schedule of 3 steps but years=5"):
        simulate(three_stage(), years=5, replicates=2, seed=1, scenario=schedule)


# ---------------------------------------------------------------------------------------------------
# labelling and provenance


def test_dims_coords_units_and_dtypes():
    ds = simulate(three_stage(), years=6, replicates=5, seed=3)
    assert ds[results.ABUNDANCE].dims == (
        results.REPLICATE,
        results.YEAR,
        results.POPULATION,
        results.STAGE,
    )
    for name in (results.MATURE, results.TOTAL):
        assert ds[name].dims == (results.REPLICATE, results.YEAR, results.POPULATION)
        assert ds[name].dtype == np.int64
    np.testing.assert_array_equal(ds[results.YEAR], np.arange(7))
    assert ds[results.YEAR].dtype.kind == "i"
    assert ds[results.YEAR].attrs["units"] == "year"
    assert list(ds[results.STAGE].values) == ["juvenile", "subadult", "adult"]
    assert ds[results.POPULATION].values.tolist() == [0]
    assert ds[results.POPULATION_NAME].values.tolist() == ["main"]
    assert ds[results.SPECIES].item() == "toy"
    assert ds[results.SCENARIO].item() == "no action"
    for name, variable in {**ds.data_vars, **ds.coords}.items():
        assert variable.attrs.get("units"), name
        assert variable.attrs.get("long_name"), name
    # totals are consistent with the stages (mature = stages with fecundity: subadult, adult)
    np.testing.assert_array_equal(ds[results.TOTAL], ds[results.ABUNDANCE].sum(results.STAGE))
    np.testing.assert_array_equal(
        ds[results.MATURE],
        ds[results.ABUNDANCE].sel(stage=["subadult", "adult"]).sum(results.STAGE),
    )


def test_provenance_attrs():
    species = three_stage()
    ds = simulate(species, years=2, replicates=3, seed=42, chunk_size=2)
    # the attributes of `pva run`, and nothing that depends on the clock (a "created" timestamp
    # made two runs with the same seed differ under xr.testing.assert_identical)
    assert set(ds.attrs) == {
        results.ATTR_VERSION,
        results.ATTR_SEED_ENTROPY,
        results.ATTR_REPLICATES,
        results.ATTR_CHUNK_SIZE,
        results.ATTR_KERNELS,
        results.ATTR_STUDY,
    }
    made = results.provenance(ds)
    assert (made.seed_entropy, made.replicates, made.chunk_size) == (42, 3, 2)
    assert made.version == pva.__version__
    assert made.no_action == "no action"
    expected = Study(name="toy", species=(species,), years=2, replicates=3, seed=42, chunk_size=2)
    assert Study.from_dict(made.study) == expected
    assert made.quasi_extinction == {"toy": results.QuasiExtinction(threshold=0.0, on="total")}


def test_result_can_be_written_to_netcdf(tmp_path):
    ds = simulate(three_stage(), years=2, replicates=3, seed=1)
    path = tmp_path / "run.nc"
    ds.to_netcdf(path, engine="netcdf4")
    with xr.open_dataset(path, engine="netcdf4") as back:
        xr.testing.assert_identical(back.load(), ds)


def test_record_carrying_capacity_only():
    ds = simulate(
        three_stage(carrying_capacity=50.0),
        years=3,
        replicates=2,
        seed=1,
        record="carrying_capacity",
    )
    assert results.ABUNDANCE not in ds
    assert ds[results.CARRYING_CAPACITY].attrs["units"] == "individuals"
    np.testing.assert_array_equal(ds[results.CARRYING_CAPACITY], 50.0)


# ---------------------------------------------------------------------------------------------------
# reproducibility


def test_same_seed_same_dataset_different_seed_different():
    first = simulate(three_stage(), years=10, replicates=20, seed=7)
    again = simulate(three_stage(), years=10, replicates=20, seed=7)
    xr.testing.assert_identical(first, again)  # attrs too: no timestamp
    other = simulate(three_stage(), years=10, replicates=20, seed=8)
    assert not first[results.ABUNDANCE].equals(other[results.ABUNDANCE])


def test_unseeded_run_records_entropy_that_repeats_it():
    first = simulate(three_stage(), years=5, replicates=4)
    entropy = int(first.attrs[results.ATTR_SEED_ENTROPY])
    again = simulate(three_stage(), years=5, replicates=4, seed=entropy)
    xr.testing.assert_identical(first, again)  # attrs too: no timestamp


def test_chunks_are_independent_of_how_many_replicates_follow():
    # chunk k always draws from chunk_streams(entropy, species, k): the first chunks of a long run
    # equal a short run, and chunk 1 can be re-run on its own (as a worker would)
    species = three_stage()
    long = simulate(species, years=8, replicates=10, seed=11, chunk_size=4)
    short = simulate(species, years=8, replicates=4, seed=11, chunk_size=4)
    xr.testing.assert_equal(long.isel(replicate=slice(0, 4)), short)
    alone = engine.project(
        species,
        years=8,
        replicates=4,
        streams=streams.chunk_streams(11, species.name, 1),
        record=("abundance",),
    )
    np.testing.assert_array_equal(long[results.ABUNDANCE][4:8].values, alone.abundance)


def test_chunk_size_is_part_of_the_contract():
    species = three_stage()
    a = simulate(species, years=8, replicates=10, seed=11, chunk_size=4)
    b = simulate(species, years=8, replicates=10, seed=11, chunk_size=5)
    assert not a[results.ABUNDANCE].equals(b[results.ABUNDANCE])


# ---------------------------------------------------------------------------------------------------
# exact cases


def test_deterministic_mode_reproduces_matrix_powers():
    species = three_stage(demographic_stochasticity=False)
    years = 25
    ds = simulate(species, years=years, replicates=3, seed=1)
    assert ds[results.ABUNDANCE].dtype == np.float64
    A = np.asarray(U3) + np.asarray(F3)
    n = np.array([20.0, 10.0, 5.0])
    expected = [n]
    for _ in range(years):
        expected.append(A @ expected[-1])
    for replicate in range(3):
        np.testing.assert_allclose(
            ds[results.ABUNDANCE].isel(replicate=replicate, population=0),
            np.array(expected),
            rtol=1e-12,
        )


def test_deterministic_matrix_selection_multiplies_one_annual_matrix_per_year():
    # each year's change must be A_k n for one of the annual matrices, the same for every stage
    As = [np.asarray(U3) + np.asarray(F3), np.asarray(U3) * 0.5 + np.asarray(F3) * 2.0]
    env = MatrixSelection(
        U=(U3, tuple(map(tuple, np.asarray(U3) * 0.5))),
        F=(F3, tuple(map(tuple, np.asarray(F3) * 2.0))),
    )
    species = Species(
        name="toy",
        stages=("juvenile", "subadult", "adult"),
        environment=env,
        initial=(20, 10, 5),
        demographic_stochasticity=False,
    )
    ds = simulate(species, years=12, replicates=6, seed=2)
    n = ds[results.ABUNDANCE].isel(population=0).values
    used = set()
    for r in range(6):
        for t in range(12):
            matches = [
                k for k, A in enumerate(As) if np.allclose(A @ n[r, t], n[r, t + 1], rtol=1e-12)
            ]
            assert matches, (r, t)
            used.update(matches)
    assert used == {0, 1}


def test_zero_survival_and_fecundity_is_extinct_after_one_step():
    schedule = dataclasses.replace(
        Schedule.neutral(years=4, populations=1, stages=3),
        survival_multiplier=np.zeros((4, 1, 3)),
        fecundity_multiplier=np.zeros((4, 1, 3)),
    )
    ds = simulate(three_stage(), years=4, replicates=5, seed=1, scenario=schedule)
    np.testing.assert_array_equal(ds[results.TOTAL].isel(year=0), 35)
    np.testing.assert_array_equal(ds[results.TOTAL].isel(year=slice(1, None)), 0)
    assert ds[results.SCENARIO].item() == "schedule"
    assert "not recorded" in results.provenance(ds).study["scenarios"][0]["description"]


def test_empty_population_stays_empty():
    ds = simulate(three_stage(initial=(0, 0, 0)), years=6, replicates=4, seed=1)
    np.testing.assert_array_equal(ds[results.TOTAL], 0)


def test_scenario_is_compiled_named_and_recorded():
    halve = Scenario("halve fecundity", (VitalRateReduction(name="drought", fecundity=0.5),))
    species = three_stage(demographic_stochasticity=False)
    ds = simulate(species, years=3, replicates=1, seed=1, scenario=halve)
    A = np.asarray(U3) + 0.5 * np.asarray(F3)
    expected = np.linalg.matrix_power(A, 3) @ np.array([20.0, 10.0, 5.0])
    np.testing.assert_allclose(
        ds[results.ABUNDANCE].isel(replicate=0, population=0, year=3), expected
    )
    assert ds[results.SCENARIO].item() == "halve fecundity"
    assert Study.from_dict(results.provenance(ds).study).scenarios == (halve,)


def test_summarize_reads_the_species_threshold_from_a_simulation():
    species = three_stage(quasi_extinction_threshold=40, quasi_extinction_on="mature")
    ds = simulate(species, years=5, replicates=50, seed=4)
    summary = outcomes.summarize(ds)
    assert summary[results.QUASI_EXTINCTION_THRESHOLD].item() == 40.0
    assert summary[results.QUASI_EXTINCTION_ON].item() == "mature"
    mature = ds[results.MATURE].sum(results.POPULATION)
    expected = (mature <= 40).cumsum(results.YEAR).clip(max=1).mean(results.REPLICATE)
    np.testing.assert_allclose(summary[results.P_QUASI_EXTINCTION], expected)


# ---------------------------------------------------------------------------------------------------
# one layout with `pva run`


def test_simulate_is_the_slice_of_a_run_of_the_same_study(run_and_simulation):
    study = one_species_study()
    run, simulated = run_and_simulation
    # abundance by stage is what simulate records besides; the rest is the run's slice, attrs too
    assert simulated[results.ABUNDANCE].dims == (
        results.REPLICATE,
        results.YEAR,
        results.POPULATION,
        results.STAGE,
    )
    sliced = run.isel({results.SPECIES: 0, results.SCENARIO: 0})
    xr.testing.assert_identical(simulated.drop_vars([results.ABUNDANCE, results.STAGE]), sliced)
    # and back: the study layout of the simulation is the run (length-one species and scenario)
    expanded = results.study_layout(simulated.drop_vars([results.ABUNDANCE, results.STAGE]))
    xr.testing.assert_identical(expanded, run)
    for name in run.variables:
        assert expanded[name].dims == run[name].dims, name
    assert results.provenance(simulated) == results.provenance(run)
    # the run is not trivial: some replicates fall to the threshold, fewer die out
    mature = run[results.MATURE].sum(results.POPULATION).isel(year=-1)
    assert 0 < int((mature == 0).sum()) < int((mature <= 5).sum()) < study.replicates
    assert float(run[results.ANNUAL_COST].sum()) == 10.0 * study.years
