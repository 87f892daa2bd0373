"""Criterion E at later years: the engine's ``initial`` override, the nested simulation, the runner's
``[outputs.red_list_e]`` and :func:`pva.redlist.assess` using it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr
from example_species import galton_watson

from pva import engine, nested, redlist, results, runner, streams
from pva.errors import DamagedCheckpointWarning
from pva.model import Catastrophe, DensityDependence, Population, Species
from pva.redlist import CR, EN, EX, VU, RedListSettings
from pva.scenario import Harvest, Scenario
from pva.schedule import Schedule
from pva.study import Outputs, RedListE, Study, StudySpecies, UnknownKeyError
from pva.testing import assert_proportion_close, galton_watson_extinction

ONLY_E = RedListSettings(criteria=("E",))


def bird(north: tuple[int, int] = (8, 30)) -> Species:
    """Two populations, a ceiling, a catastrophe and a K trend: most of the engine's draws."""
    return Species(
        name="bird",
        stages=("juvenile", "adult"),
        U=((0.2, 0.0), (0.35, 0.85)),
        F=((0.0, 0.45), (0.0, 0.0)),
        populations=(
            Population(
                name="north",
                initial=north,
                carrying_capacity=60.0,
                carrying_capacity_cv=0.2,
                carrying_capacity_trend=-1.0,
            ),
            Population(name="south", initial=(4, 12), carrying_capacity=30.0),
        ),
        density_dependence=DensityDependence(kind="ceiling"),
        catastrophes=(Catastrophe(name="storm", probability=0.1, survival_multiplier=0.7),),
    )


def _same(a: engine.Projection, b: engine.Projection) -> None:
    for field in ("mature", "total", "abundance", "carrying_capacity"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


RECORD = ("abundance", "carrying_capacity")


# ---------------------------------------------------------------------------------------------------
# engine: initial and start_year


def test_default_initial_draws_the_same_numbers_as_an_explicit_one() -> None:
    sp = bird()
    init = np.broadcast_to(sp.initial_abundance, (25, 2, 2))
    default = engine.project(
        sp, years=12, replicates=25, streams=streams.single_streams(3), record=RECORD
    )
    given = engine.project(
        sp, years=12, replicates=25, streams=streams.single_streams(3), record=RECORD, initial=init
    )
    _same(default, given)


@pytest.mark.parametrize("replicates", [1, 4])
def test_initial_equals_a_species_built_with_that_abundance(replicates: int) -> None:
    a, b = bird(), bird(north=(20, 3))
    init = np.broadcast_to(b.initial_abundance, (replicates, 2, 2))
    got = engine.project(
        a,
        years=10,
        replicates=replicates,
        streams=streams.single_streams(8),
        record=RECORD,
        initial=init,
    )
    want = engine.project(
        b, years=10, replicates=replicates, streams=streams.single_streams(8), record=RECORD
    )
    _same(got, want)


def test_replicates_start_from_their_own_state() -> None:
    sp = galton_watson(0.0)  # every individual dies each year: year 0 is the state given
    init = np.array([[[0]], [[3]], [[7]]])
    out = engine.project(sp, years=2, replicates=3, streams=streams.single_streams(1), initial=init)
    assert out.total[:, 0, 0].tolist() == [0, 3, 7]
    assert np.all(out.total[:, 1:] == 0)


def test_start_year_continues_the_carrying_capacity_trend() -> None:
    sp = Species(
        name="k",
        stages=("a",),
        U=((0.5,),),
        F=((0.5,),),
        populations=(
            Population(
                name="p", initial=(10,), carrying_capacity=100.0, carrying_capacity_trend=-10
            ),
        ),
    )
    out = engine.project(
        sp,
        years=4,
        replicates=2,
        streams=streams.single_streams(0),
        record=("carrying_capacity",),
        start_year=3,
    )
    # K of step t (recorded at year t + 1) is K0 (1 + trend)^(start_year + t)
    np.testing.assert_allclose(out.carrying_capacity[0, 1:, 0], 100 * 0.9 ** (3 + np.arange(4)))


@pytest.mark.parametrize(
    ("initial", "match", "error"),
    [
        (np.ones((2, 2, 3)), "shape", ValueError),
        (np.full((2, 2, 2), -1), "non-negative", ValueError),
        (np.full((2, 2, 2), np.nan), "finite", ValueError),
        (np.full((2, 2, 2), 1.5), "whole numbers", ValueError),
        (np.full((2, 2, 2), "a"), "numeric", TypeError),
    ],
)
def test_bad_initial_is_refused(initial: np.ndarray, match: str, error: type) -> None:
    with pytest.raises(error, match=match):
        engine.project(
            bird(), years=1, replicates=2, streams=streams.single_streams(0), initial=initial
        )


def test_bad_start_year_is_refused() -> None:
    with pytest.raises(ValueError, match="start_year"):
        engine.project(
            bird(), years=1, replicates=1, streams=streams.single_streams(0), start_year=-1
        )


def test_fractional_initial_is_allowed_without_demographic_stochasticity() -> None:
    sp = dataclasses.replace(galton_watson(2.0), demographic_stochasticity=False)
    out = engine.project(
        sp, years=2, replicates=1, streams=streams.single_streams(0), initial=np.array([[[0.5]]])
    )
    np.testing.assert_allclose(out.total[0, :, 0], [0.5, 1.0, 2.0])


# ---------------------------------------------------------------------------------------------------
# the nested simulation


@pytest.mark.slow
def test_nested_probabilities_match_the_galton_watson_closed_form() -> None:
    # the scenario changes fecundity by step; from year 2 the inner futures see m = 0.6, then 1.3
    # held beyond the 4-step horizon
    base = 1.0
    multipliers = np.array([3.0, 3.0, 0.6, 1.3])
    sched = dataclasses.replace(
        Schedule.neutral(years=4, populations=1, stages=1),
        fecundity_multiplier=multipliers.reshape(4, 1, 1),
    )
    states = np.array([1, 3, 6]).reshape(3, 1, 1)
    windows, inner = (1, 3, 8), 4000
    got = nested.extinction_risk_windows(
        galton_watson(base),
        sched,
        states,
        start_year=2,
        windows=windows,
        inner_replicates=inner,
        seed=streams.nested_seed(2024, "gw", 0, 2),
    )
    ms = [base * multipliers[min(2 + t, 3)] for t in range(max(windows))]
    want = np.array([[galton_watson_extinction(ms, n)[w] for w in windows] for n in (1, 3, 6)])
    assert_proportion_close(got, want, inner, n_tests=want.size)


def test_nested_results_do_not_depend_on_the_batch_size_of_the_caller() -> None:
    """The batch layout is fixed by the arguments: the same call gives the same numbers, and a
    state already at zero is extinct in every window."""
    states = np.array([0, 2, 5]).reshape(3, 1, 1)
    kwargs = {
        "start_year": 0,
        "windows": (2, 5),
        "inner_replicates": 50,
        "seed": streams.nested_seed(1, "gw", 3, 0),
        "max_rows": 100,
    }
    a = nested.extinction_risk_windows(galton_watson(1.0), None, states, **kwargs)
    b = nested.extinction_risk_windows(galton_watson(1.0), None, states, **kwargs)
    np.testing.assert_array_equal(a, b)
    assert a[0].tolist() == [1.0, 1.0]
    assert np.all(np.diff(a, axis=1) >= 0)  # a longer window never has a lower probability


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"windows": ()}, "windows"),
        ({"windows": (0,)}, "windows"),
        ({"inner_replicates": 0}, "inner_replicates"),
        ({"start_year": -1}, "start_year"),
        ({"states": np.ones((2, 1, 2))}, "states"),
        ({"leads": -1}, "leads"),
    ],
)
def test_nested_refuses_bad_arguments(change: dict, match: str) -> None:
    kwargs: dict = {
        "states": np.ones((2, 1, 1), dtype=int),
        "start_year": 0,
        "windows": (1,),
        "inner_replicates": 2,
        "seed": streams.nested_seed(1, "gw", 0, 0),
    }
    kwargs.update(change)
    with pytest.raises(ValueError, match=match):
        nested.project_from_states(galton_watson(1.0), None, **kwargs)


@pytest.mark.parametrize("value", [-1.0, 0, 5.0, "yes"])
def test_nested_quasi_extinction_is_a_flag(value: object) -> None:
    # a number would read as a threshold on some count; the threshold is the species' own
    with pytest.raises(TypeError, match="quasi_extinction must be True or False"):
        nested.project_from_states(
            galton_watson(1.0),
            None,
            np.ones((2, 1, 1), dtype=int),
            start_year=0,
            windows=(1,),
            inner_replicates=2,
            seed=streams.nested_seed(1, "gw", 0, 0),
            quasi_extinction=value,  # type: ignore[arg-type]
        )


# ---------------------------------------------------------------------------------------------------
# study file, runner and assess


def _study(**outputs: object) -> Study:
    """A declining Galton-Watson species (m = 0.8, generation length 1 year) and a harvest."""
    sp = galton_watson(0.8, n0=30)
    return Study(
        name="nested E",
        species=(StudySpecies(species=sp),),
        scenarios=(
            Scenario("no action", ()),
            Scenario("harvest", (Harvest(name="take", proportion=0.1),)),
        ),
        years=12,
        replicates=30,
        chunk_size=8,
        seed=5,
        outputs=Outputs(**outputs),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def with_e() -> tuple[Study, object]:
    study = _study(red_list_e=RedListE(years=(4, 10), inner_replicates=40))
    return study, runner.run_study(study, backend="sequential")


def test_option_off_leaves_the_results_unchanged(with_e) -> None:
    _, ds = with_e
    off = runner.run_study(_study(), backend="sequential")
    assert redlist.EXTINCTION_RISK not in off
    for var in ("mature_abundance", "total_abundance"):
        np.testing.assert_array_equal(off[var].values, ds[var].values)


def test_extinction_risk_variable(with_e) -> None:
    _, ds = with_e
    risk = ds[redlist.EXTINCTION_RISK]
    assert risk.dims == ("species", "scenario", "replicate", "year", "window")
    assert risk["window"].values.tolist() == ["CR", "EN", "VU"]
    assert risk.attrs["units"] == "1"
    assert "long_name" in risk.attrs
    assessed = ~np.isnan(risk.values).all(axis=(0, 1, 2, 4))
    assert np.flatnonzero(assessed).tolist() == [4, 10]
    assert not np.isnan(risk.sel(year=[4, 10]).values).any()
    # a replicate already extinct at the assessment year is extinct within every window
    dead = ds["mature_abundance"].sum("population").sel(year=10) == 0
    assert bool(dead.any())
    assert np.all(risk.sel(year=10).where(dead).fillna(1.0).values == 1.0)


def test_jobs_do_not_change_the_nested_numbers(with_e) -> None:
    study, ds = with_e
    parallel = runner.run_study(study, jobs=2, backend="loky")
    np.testing.assert_array_equal(
        parallel[redlist.EXTINCTION_RISK].values, ds[redlist.EXTINCTION_RISK].values
    )


def test_checkpoints_keep_the_nested_numbers(with_e, tmp_path) -> None:
    study, ds = with_e
    first = runner.run_study(study, backend="sequential", checkpoint_dir=tmp_path)
    again = runner.run_study(study, backend="sequential", checkpoint_dir=tmp_path)
    for out in (first, again):
        np.testing.assert_array_equal(
            out[redlist.EXTINCTION_RISK].values, ds[redlist.EXTINCTION_RISK].values
        )


def test_assess_evaluates_e_at_the_assessed_years(with_e) -> None:
    _, ds = with_e
    a = redlist.assess(ds, settings=ONLY_E)
    cat = a["category"].isel(species=0).values  # (scenario, replicate, year)
    p = ds[redlist.EXTINCTION_RISK].isel(species=0).values  # (scenario, replicate, year, 3)
    mature = ds["mature_abundance"].isel(species=0).sum("population").values
    for year in (4, 10):
        pr = p[:, :, year]
        want = np.where(
            pr[..., 0] >= 0.5,
            CR,
            np.where(pr[..., 1] >= 0.2, EN, np.where(pr[..., 2] >= 0.1, VU, 0)),
        )
        want = np.where(mature[:, :, year] == 0, EX, want)
        np.testing.assert_array_equal(cat[:, :, year], want)
    # from ~30 * 0.8^10 = 3 individuals, extinction within 10 years is likely: CR by E
    crit = a["criteria"].isel(species=0).sel(year=10).values
    assert "CR E" in set(crit.ravel().tolist())
    assert "nested simulations at years [4, 10]" in a.attrs["notes"]
    # the other years (year 0 from the replicates, later years not evaluated) are as without it
    without = redlist.assess(ds.drop_vars(redlist.EXTINCTION_RISK), settings=ONLY_E)
    other = [y for y in range(13) if y not in (4, 10)]
    np.testing.assert_array_equal(
        a["category"].sel(year=other).values, without["category"].sel(year=other).values
    )
    assert "E evaluated at year 0 only" in without.attrs["notes"]


# ---------------------------------------------------------------------------------------------------
# study file


def test_red_list_e_table_round_trips() -> None:
    study = _study(red_list_e=RedListE(years=(4, 10), inner_replicates=40))
    again = Study.from_dict(study.to_dict())
    assert again.outputs.red_list_e == study.outputs.red_list_e
    assert study.to_dict()["outputs"]["red_list_e"] == {"years": [4, 10], "inner_replicates": 40}


@pytest.mark.parametrize(
    ("table", "error", "match"),
    [
        ({"years": [5], "inner": 10}, UnknownKeyError, "inner"),
        ({"years": [10, 5]}, ValueError, "increasing"),
        ({"years": [-1]}, ValueError, ">= 0"),
        ({"years": 5}, TypeError, "list"),
        ({"years": [5], "inner_replicates": 0}, ValueError, "inner_replicates"),
        ({"years": [5], "quasi_extinction": -2}, TypeError, "quasi_extinction must be true"),
        ({"years": [5], "quasi_extinction": 0}, TypeError, "quasi_extinction must be true"),
    ],
)
def test_bad_red_list_e_tables_are_refused(table: dict, error: type, match: str) -> None:
    data = _study().to_dict()
    data["outputs"] = {"red_list_e": table}
    with pytest.raises(error, match=match) as info:
        Study.from_dict(data)
    assert "red_list_e" in str(info.value) or isinstance(info.value, UnknownKeyError)


def test_assessment_years_must_lie_within_the_horizon() -> None:
    with pytest.raises(ValueError, match=r"red_list_e.years must lie within years=12"):
        _study(red_list_e=RedListE(years=(13,)))


def test_partial_probabilities_leave_unassessed_years_not_evaluated() -> None:
    mature = np.full((2, 4), 500.0)
    p = np.full((2, 4, 3), np.nan)
    p[:, 2] = [(0.6, 0.6, 0.6), (0.0, 0.25, 0.25)]
    e = redlist.CRITERIA.index("E")
    strict = redlist.classify(
        mature, generation_length=1.0, extinction_probability=p, settings=ONLY_E
    )
    assert np.all(strict.levels[:, 1, e] == redlist.NOT_EVALUABLE)  # NaN = unknown
    partial = redlist.classify(
        mature,
        generation_length=1.0,
        extinction_probability=p,
        partial_extinction_probability=True,
        settings=ONLY_E,
    )
    assert partial.category[:, 2].tolist() == [CR, EN]
    assert np.all(partial.levels[:, 1, e] == redlist.NE)
    assert np.all(partial.levels[:, 3, e] == redlist.NE)


# ---------------------------------------------------------------------------------------------------
# projected mature individuals (A3, A4, projected C1) from the same inner futures


@pytest.mark.parametrize(
    ("generation_length", "leads"),
    [(1.0, 10), (3.4, 10), (3.5, 11), (5.0, 15), (33.0, 99), (34.0, 100), (60.0, 100)],
)
def test_projection_leads_are_the_longest_future_window(
    generation_length: float, leads: int
) -> None:
    # A3 and C1 (VU) read max(10 y, 3 G) ahead, rounded to the nearest year, capped at 100 years
    assert redlist.projection_leads(generation_length) == leads


def test_names_agree_between_results_and_redlist() -> None:
    assert results.PROJECTED_MATURE == redlist.PROJECTED_MATURE
    assert results.LEAD == redlist.LEAD
    assert results.EXTINCTION_RISK == redlist.EXTINCTION_RISK


def test_projected_mature_of_a_deterministic_species_is_its_closed_form() -> None:
    # without demographic or environmental stochasticity every inner future is the matrix
    # projection: two stages, mature = adults, n(t) = A^t n(0) (Caswell 2001, eq. 2.1), rounded
    # down to whole individuals as the runner records them
    sp = Species(
        name="det",
        stages=("juvenile", "adult"),
        U=((0.3, 0.0), (0.4, 0.8)),
        F=((0.0, 0.5), (0.0, 0.0)),
        initial=(10, 10),
        demographic_stochasticity=False,
    )
    states = np.array([[[100.0, 50.0]], [[0.0, 7.0]]])
    got = nested.project_from_states(
        sp,
        None,
        states,
        start_year=3,
        windows=(),
        leads=12,
        inner_replicates=3,
        seed=streams.nested_seed(1, "det", 0, 3),
    )
    A = np.array(sp.U) + np.array(sp.F)
    for r, state in enumerate(states[:, 0]):
        n = state.copy()
        want = []
        for _ in range(13):
            want.append(np.floor(n[1] + 1e-9))
            n = A @ n
        np.testing.assert_allclose(got.projected_mature[r], want)
    assert got.extinction_risk.shape == (2, 0)


def test_projected_mature_variable(with_e) -> None:
    study, ds = with_e
    proj = ds[redlist.PROJECTED_MATURE]
    assert proj.dims == ("species", "scenario", "replicate", "year", "lead")
    gl = study.species[0].species.generation_length
    assert proj["lead"].values.tolist() == list(range(redlist.projection_leads(gl) + 1))
    assert proj.attrs["units"] == "individuals"
    assert proj.attrs["inner_replicates"] == 40
    assessed = ~np.isnan(proj.values).all(axis=(0, 1, 2, 4))
    assert np.flatnonzero(assessed).tolist() == [4, 10]
    # lead 0 is the state itself: the replicate's mature individuals at the assessment year
    mature = ds["mature_abundance"].sum("population")
    for year in (4, 10):
        np.testing.assert_array_equal(
            proj.sel(year=year, lead=0).values, mature.sel(year=year).values
        )
    # the inner futures of a Galton-Watson process (m = 0.8) from an extinct state stay extinct
    dead = (mature.sel(year=10) == 0).values
    assert dead.any()
    assert np.all(proj.sel(year=10).values[dead] == 0)


def test_jobs_and_checkpoints_keep_the_projected_numbers(with_e, tmp_path) -> None:
    study, ds = with_e
    parallel = runner.run_study(study, jobs=2, backend="loky")
    resumed = runner.run_study(study, backend="sequential", checkpoint_dir=tmp_path)
    again = runner.run_study(study, backend="sequential", checkpoint_dir=tmp_path)
    for out in (parallel, resumed, again):
        np.testing.assert_array_equal(
            out[redlist.PROJECTED_MATURE].values, ds[redlist.PROJECTED_MATURE].values
        )


def test_checkpoints_without_projections_are_run_again(with_e, tmp_path) -> None:
    # a task saved before the projections were recorded cannot complete a run that needs them: it
    # is reported as damaged and run again (issue 14), so the results are those of a fresh run
    study, ds = with_e
    runner.run_study(study, backend="sequential", checkpoint_dir=tmp_path)
    task = next(tmp_path.glob("task-*.npz"))
    with np.load(task) as data:
        kept = {k: data[k] for k in data.files if k != "projected_mature"}
    with task.open("wb") as fh:
        np.savez(fh, **kept)
    with pytest.warns(DamagedCheckpointWarning, match="projected_mature has shape None"):
        again = runner.run_study(study, backend="sequential", checkpoint_dir=tmp_path)
    xr.testing.assert_identical(again, ds)


def test_assess_reads_a3_from_the_projections(with_e) -> None:
    # A3 at an assessed year is the reduction of the projected mean over max(10 y, 3 G) ahead
    # (IUCN 2012 A3; thresholds 80/50/30%, NT within 10 points of 30%); at other later years it
    # is not evaluated
    study, ds = with_e
    only_a = RedListSettings(criteria=("A",))
    a = redlist.assess(ds, settings=only_a, criterion_a=("A3",))
    level = a["criterion_level"].sel(criterion="A3").isel(species=0)
    proj = ds[redlist.PROJECTED_MATURE].isel(species=0)
    window = redlist.projection_leads(study.species[0].species.generation_length)
    for year in (4, 10):
        start = proj.sel(year=year, lead=0).values
        end = proj.sel(year=year, lead=window).values
        with np.errstate(divide="ignore", invalid="ignore"):
            red = np.where(start > 0, 1 - end / np.where(start > 0, start, 1), 0.0)
        want = np.select(
            [red >= 0.8, red >= 0.5, red >= 0.3, red >= 0.2], [CR, EN, VU, redlist.NT], 0
        )
        np.testing.assert_array_equal(level.sel(year=year).values, want)
    assert np.all(level.sel(year=[1, 2, 3, 5, 11]).values == redlist.NE)
    # a Galton-Watson process with m = 0.8 loses 1 - 0.8^10 = 89% in expectation: CR A3
    assert (level.sel(year=4).values == CR).mean() > 0.9


def test_losing_the_mature_individuals_for_a_year_is_not_extinction() -> None:
    # juveniles mature after a year and adults die after breeding: mature individuals are 0 in
    # every even year, while the population (total abundance) never dies out. Criterion E counts
    # extinction as no individuals at all (the event of EX), so these years are not CR E; the
    # earlier rule ("no mature individuals") gave probability 1 and CR E in all of them
    sp = Species(
        name="biennial",
        stages=("juvenile", "adult"),
        U=((0.0, 0.0), (0.9, 0.0)),
        F=((0.0, 2.4), (0.0, 0.0)),
        initial=(400, 0),
        carrying_capacity=600.0,
        density_dependence=DensityDependence(kind="ceiling"),
        generation_length=2.0,
    )
    study = Study(
        name="biennial",
        species=(StudySpecies(species=sp),),
        years=12,
        replicates=20,
        seed=11,
        outputs=Outputs(red_list_e=RedListE(years=(4, 8, 12), inner_replicates=50)),
    )
    ds = runner.run_study(study, backend="sequential")
    mature = ds["mature_abundance"].sum("population").isel(species=0, scenario=0)
    total = ds["total_abundance"].sum("population").isel(species=0, scenario=0)
    years = [4, 8, 12]
    assert np.all(mature.sel(year=years) == 0)
    assert np.all(total.sel(year=years) > 0)
    risk = ds[redlist.EXTINCTION_RISK].isel(species=0, scenario=0).sel(year=years)
    assert float(risk.max()) < 0.1
    a = redlist.assess(ds, settings=ONLY_E)
    e = a["criterion_level"].sel(criterion="E").sel(year=years)
    assert not np.any(e.values >= VU)
    assert not np.any(a["category"].sel(year=years).values == EX)


def test_quasi_extinction_in_the_table_uses_each_species_threshold() -> None:
    # 30 Galton-Watson individuals (m = 0.8) with a threshold of 25: at or below it within a
    # year in most inner futures (E at the threshold), almost never extinct within a year
    sp = dataclasses.replace(galton_watson(0.8, n0=30), quasi_extinction_threshold=25.0)
    base = Study(
        name="quasi",
        species=(StudySpecies(species=sp),),
        years=3,
        replicates=10,
        seed=3,
        outputs=Outputs(red_list_e=RedListE(years=(0,), inner_replicates=200)),
    )
    quasi = base.with_(
        outputs=Outputs(
            red_list_e=RedListE(years=(0,), inner_replicates=200, quasi_extinction=True)
        )
    )
    p_ext = runner.run_study(base, backend="sequential")[redlist.EXTINCTION_RISK]
    ds = runner.run_study(quasi, backend="sequential")
    p_quasi = ds[redlist.EXTINCTION_RISK]
    assert p_quasi.attrs["quasi_extinction"] == 1
    # the CR window (10 years) from 30 individuals: P(N <= 25) is near 1, P(N = 0) is not
    cr_quasi = float(p_quasi.sel(year=0, window="CR").mean())
    cr_ext = float(p_ext.sel(year=0, window="CR").mean())
    assert cr_quasi > 0.95
    assert cr_ext < cr_quasi - 0.3
    # assess follows the table unless told otherwise, and refuses a contradiction
    a = redlist.assess(ds, settings=ONLY_E)
    assert np.all(a["category"].sel(year=0).values == CR)
    with pytest.raises(ValueError, match="contradicts the nested"):
        redlist.assess(ds, settings=ONLY_E, quasi_extinction=False)


@pytest.mark.parametrize("years", [[4], [0, 4, 10], [3, 5, 12], [10, 0]])
def test_assessing_chosen_years_reads_the_nested_numbers_as_every_year_does(with_e, years) -> None:
    """assess(years=) classifies only those years (what summaries read); each year, nested or
    not, is what the assessment of every year gives there."""
    _, ds = with_e
    full = redlist.assess(ds)
    some = redlist.assess(ds, years=years)
    assert some["year"].values.tolist() == sorted(years)
    for name in ("category", "criteria", "complete", "not_evaluated", "criterion_level"):
        np.testing.assert_array_equal(some[name].values, full[name].sel(year=sorted(years)).values)
    xr.testing.assert_identical(some[results.RLI], full[results.RLI].sel(year=sorted(years)))
