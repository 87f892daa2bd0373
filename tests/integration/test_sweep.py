"""Sweeps end to end: the same numbers as `pva summary` of each sample's own run, identical for any
number of jobs and backend, resumable, written and read back, `pva sweep` / `pva summary` /
`pva plot` / `pva report` on a sweep file, parameter uncertainty, one-line errors."""

from __future__ import annotations

import json
import re
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from sweep_studies import harvest_study

from pva import io, redlist, results, runner, summary
from pva.cli import main
from pva.errors import DamagedCheckpointWarning
from pva.sensitivity import (
    SweepSettings,
    UncertaintySettings,
    parse_setting,
    paths,
    run_uncertainty,
    sweep,
)
from pva.sensitivity.designs import Uniform
from pva.sensitivity.settings import UncertainParameter
from pva.study import Study

PROPORTION = "threats.poaching.proportion"


@pytest.fixture(scope="module")
def study() -> Study:
    return harvest_study(replicates=40, years=12, seed=9)


@pytest.fixture(scope="module")
def lhs() -> SweepSettings:
    return SweepSettings(
        parameters=(
            parse_setting(f"{PROPORTION}=0.0:0.3"),
            parse_setting("species.herb.carrying_capacity=30:90"),
        ),
        design="lhs",
        samples=6,
    )


@pytest.fixture(scope="module")
def sequential(study: Study, lhs: SweepSettings) -> xr.Dataset:
    return sweep(study, lhs, backend="sequential")


def test_each_sample_holds_what_pva_summary_reports_of_its_own_run(
    study: Study, sequential: xr.Dataset
) -> None:
    s = 4
    values = {
        paths.resolve(study, str(sequential[results.PARAMETER_PATH].values[i])): float(
            sequential[results.PARAMETER_PREFIX + str(p)].values[s]
        )
        for i, p in enumerate(sequential[results.PARAMETER].values)
    }
    own = runner.run_study(paths.assign(study, values), backend="sequential")
    table = summary.summary_table(own, horizons=[10, 12])
    sample = sequential.isel({results.SAMPLE: s})
    for name in (
        results.P_EXTINCTION,
        results.P_EXTINCTION + "_upper",
        results.P_QUASI_EXTINCTION,
        results.P_QUASI_EXTINCTION + "_lower",
        results.MEDIAN_FINAL_ABUNDANCE,
        results.EXPECTED_MINIMUM + "_upper",
        results.CATEGORY_SHARE_BY_HORIZON,
        results.RLI_BY_HORIZON,
        results.RLI_BY_HORIZON + "_spread_lower",
        results.DELTA_RLI_BY_HORIZON,
        results.DELTA_RLI_BY_HORIZON + "_mcse",
        results.P_RLI_IMPROVED_BY_HORIZON,
        results.TOTAL_COST,
    ):
        np.testing.assert_allclose(
            sample[name].transpose(*table[name].dims).values, table[name].values, err_msg=name
        )
    categories = redlist.assess(own)[results.CATEGORY].sel(year=[10, 12])
    np.testing.assert_array_equal(
        sample[results.CATEGORY_BY_HORIZON].values,
        categories.transpose("species", "scenario", "replicate", "year").values,
    )


def test_a_sweep_is_identical_for_any_jobs_and_backend(
    study: Study, lhs: SweepSettings, sequential: xr.Dataset
) -> None:
    xr.testing.assert_identical(sweep(study, lhs, jobs=2, backend="loky"), sequential)
    xr.testing.assert_identical(sweep(study, lhs, jobs=2, backend="threading"), sequential)


def test_a_sweep_runs_on_dask(study: Study, lhs: SweepSettings, sequential: xr.Dataset) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        ds = sweep(study, lhs, backend="dask")
    xr.testing.assert_identical(ds, sequential)


def test_a_sweep_resumes_from_its_checkpoints(
    study: Study, lhs: SweepSettings, sequential: xr.Dataset, tmp_path: Path
) -> None:
    calls: list[tuple[int, int]] = []
    first = sweep(study, lhs, backend="sequential", checkpoint_dir=tmp_path)
    xr.testing.assert_identical(first, sequential)
    saved = sorted(tmp_path.glob("sample-*.npz"))
    assert len(saved) == 6
    for path in saved[2:]:
        path.unlink()
    again = sweep(
        study,
        lhs,
        backend="sequential",
        checkpoint_dir=tmp_path,
        progress=lambda d, t: calls.append((d, t)),
    )
    xr.testing.assert_identical(again, sequential)
    assert calls[0] == (2, 6)  # two samples were read back, four run again
    # a damaged sample file (a write cut short) is said, removed and run again
    saved[0].write_bytes(saved[0].read_bytes()[:100])
    with pytest.warns(DamagedCheckpointWarning, match=r"sample-0000000\.npz is damaged"):
        mended = sweep(study, lhs, backend="sequential", checkpoint_dir=tmp_path)
    xr.testing.assert_identical(mended, sequential)
    other = SweepSettings(parameters=lhs.parameters, design="lhs", samples=7)
    with pytest.raises(ValueError, match="different study"):
        sweep(study, other, backend="sequential", checkpoint_dir=tmp_path)


def test_a_sweep_file_round_trips_and_summarises(sequential: xr.Dataset, tmp_path: Path) -> None:
    path = io.write_results(sequential, tmp_path / "sweep.nc")
    back = io.open_results(path)
    xr.testing.assert_identical(back, sequential)
    table = summary.summary_table(back)
    assert table.sizes[results.SAMPLE] == 6
    np.testing.assert_array_equal(
        table[results.PARAMETER_PREFIX + "proportion"].values,
        sequential[results.PARAMETER_PREFIX + "proportion"].values,
    )
    text = summary.format_table(table)
    assert "herb — no action" in text
    assert "sensitivity of P(≤ 5 individuals by year 12)" in text  # PRCC of the lhs design
    doc = json.loads(summary.table_to_json(table))
    assert doc["variables"]["param_carrying_capacity"]["dims"] == ["sample"]
    with pytest.raises(ValueError, match="recorded against 'no action'"):
        summary.summary_table(back, no_action="patrols")
    with pytest.raises(ValueError, match="not among the horizons the sweep recorded"):
        summary.summary_table(back, horizons=[5])


def test_a_sweep_over_years_leaves_the_years_it_did_not_simulate_empty(study: Study) -> None:
    settings = SweepSettings(parameters=(parse_setting("study.years=10:12:2"),), design="grid")
    ds = sweep(study, settings, backend="sequential")
    short = ds.sel({results.SAMPLE: 0, results.HORIZON: 12})
    assert np.isnan(short[results.P_EXTINCTION]).all()
    assert (short[results.EXTINCT_BY_HORIZON] == -1).all()
    assert np.isfinite(ds.sel({results.SAMPLE: 1, results.HORIZON: 12})[results.P_EXTINCTION]).all()


# ---------------------------------------------------------------------------------------------------
# parameter uncertainty


def test_parameter_uncertainty_pools_independent_blocks(study: Study) -> None:
    settings = UncertaintySettings(
        parameters=(
            UncertainParameter(path=PROPORTION, distribution=Uniform(low=0.0, high=0.3)),
            UncertainParameter(
                path="species.herb.carrying_capacity", distribution=Uniform(low=30, high=90)
            ),
        ),
        replicates_per_draw=5,
    )
    ds = run_uncertainty(study, settings, backend="sequential")
    assert ds.sizes[results.DRAW] == 8
    assert ds.sizes[results.REPLICATE] == 40
    np.testing.assert_array_equal(ds[results.REPLICATE_DRAW].values, np.repeat(np.arange(8), 5))
    # each block is its draw's study on its own chunk key: block 3 equals that study's chunk 3
    draw = {
        paths.resolve(study, PROPORTION): float(ds[results.PARAMETER_PREFIX + "proportion"][3]),
        paths.resolve(study, "species.herb.carrying_capacity"): float(
            ds[results.PARAMETER_PREFIX + "carrying_capacity"][3]
        ),
    }
    block_study = paths.assign(study, draw).with_(replicates=5, chunk_size=5)
    expected = runner.run_task(
        block_study.species[0].species,
        tuple(
            block_study.scenario_for(0, j).compile(block_study.species[0].species, years=12)
            for j in range(2)
        ),
        years=12,
        replicates=5,
        entropy=9,
        chunk=3,
    )
    np.testing.assert_array_equal(
        ds[results.TOTAL].isel(species=0, population=0, replicate=slice(15, 20)).values,
        expected.total[..., 0],
    )
    # a results file as any other: pva summary reads it, and its risk pools every draw
    table = summary.summary_table(ds)
    by_draw = ds[results.RISK_BY_DRAW].sel(species="herb", horizon=12)
    np.testing.assert_allclose(
        by_draw.mean(results.DRAW).values,
        table[results.P_QUASI_EXTINCTION].sel(species="herb", horizon=12).values,
    )
    for name in (
        results.VARIANCE_PARAMETER,
        results.VARIANCE_PROCESS,
        results.CATEGORY_RANGE_LOWER,
    ):
        assert name in ds
    assert identical_on_jobs(study, settings, ds)


def identical_on_jobs(study: Study, settings: UncertaintySettings, ds: xr.Dataset) -> bool:
    xr.testing.assert_identical(run_uncertainty(study, settings, jobs=2), ds)
    return True


def test_uncertainty_needs_whole_blocks(study: Study) -> None:
    settings = UncertaintySettings(
        parameters=(UncertainParameter(path=PROPORTION, distribution=Uniform(low=0.0, high=0.3)),),
        replicates_per_draw=7,
    )
    with pytest.raises(
        ValueError, match=r"replicates \(40\) must be a multiple of replicates_per_draw \(7\)"
    ):
        run_uncertainty(study, settings)


def test_a_refused_draw_is_named_before_anything_runs(study: Study) -> None:
    settings = UncertaintySettings(
        parameters=(
            UncertainParameter(
                path="species.herb.U[0][0]", distribution=Uniform(low=0.1, high=0.5)
            ),
            UncertainParameter(
                path="species.herb.U[1][0]", distribution=Uniform(low=0.3, high=0.75)
            ),
        ),
        replicates_per_draw=5,
    )
    with pytest.raises(paths.ParameterValueError, match=r"^draw \d+ \(U_0_0=.*column sums"):
        run_uncertainty(study, settings, backend="sequential")


# ---------------------------------------------------------------------------------------------------
# the command line

STUDY = textwrap.dedent(
    """
    [study]
    name = "herb sweep"
    years = 12
    replicates = 30
    seed = 4

    [[species]]
    name = "herb"
    stages = ["juvenile", "adult"]
    U = [[0.2, 0.0], [0.45, 0.8]]
    F = [[0.0, 0.5], [0.0, 0.0]]
    initial = [10, 20]
    carrying_capacity = 60.0

    [[threats]]
    type = "Harvest"
    name = "poaching"
    stages = ["adult"]
    proportion = 0.1

    [[interventions]]
    type = "ThreatAbatement"
    name = "patrols"
    threat = "poaching"
    fraction = 0.5
    annual_cost = 100.0

    [[scenarios]]
    name = "no action"

    [[scenarios]]
    name = "patrols"
    actions = ["patrols"]

    [outputs]
    horizons = [5]

    [sweep]
    design = "oat"
    [sweep.parameters]
    "threats.poaching.proportion" = [0.0, 0.3, 3]
    "species.herb.carrying_capacity" = { low = 30.0, high = 90.0, points = 2, name = "K" }

    [uncertainty]
    replicates_per_draw = 5
    [uncertainty.parameters]
    "threats.poaching.proportion" = { distribution = "beta", mean = 0.1, sd = 0.05 }
    """
)


@pytest.fixture
def study_file(tmp_path: Path) -> Path:
    path = tmp_path / "herb.toml"
    path.write_text(STUDY, encoding="utf-8")
    return path


def test_pva_sweep_runs_the_sweep_table(
    study_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep.nc"
    assert main(["sweep", str(study_file), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "threats.poaching.proportion" in printed
    assert f"results written to {out}" in printed
    ds = io.open_results(out)
    assert ds.sizes[results.SAMPLE] == 1 + 3 + 2  # base point, then each parameter's points
    np.testing.assert_array_equal(ds["varied_parameter"].values, [-1, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(
        ds[results.PARAMETER_PREFIX + "K"].values, [60, 60, 60, 60, 30, 90]
    )
    assert main(["summary", str(out)]) == 0
    table = capsys.readouterr().out
    assert re.search(r"^sample\s+proportion\s+K\s+P\(extinct by year 5\)", table, re.MULTILINE)
    assert len(re.findall(r"^5 ", table, re.MULTILINE)) == 2  # sample 5, once per scenario
    assert main(["summary", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["attrs"]["design"] == "oat"
    figures = tmp_path / "figures"
    assert main(["plot", str(out), "--out", str(figures), "--quiet"]) == 0
    assert {p.name for p in figures.iterdir()} == {
        "response_herb.png",
        "tornado_herb_no_action.png",
        "tornado_herb_patrols.png",
    }
    page = tmp_path / "sweep.html"
    assert main(["report", str(out), "--out", str(page), "--quiet"]) == 0
    html = page.read_text(encoding="utf-8")
    assert "Parameter sweep" in html
    assert html.count("<img ") == 3


def test_pva_sweep_with_set_and_a_design(
    study_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sobol.nc"
    argv = [
        "sweep", str(study_file), "--set", "threats.poaching.proportion=0:0.3",
        "--set", "interventions.patrols.annual_cost=0:500", "--design", "sobol",
        "--samples", "4", "--out", str(out), "-j", "2",
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "total-order ST" in printed
    ds = io.open_results(out)
    assert ds.sizes[results.SAMPLE] == 4 * (2 * 2 + 2)
    cost = ds[results.SOBOL_TOTAL].sel(parameter="annual_cost")
    assert float(np.abs(cost).max()) == 0.0  # a cost changes no future


def test_pva_sweep_runs_the_uncertainty_table(
    study_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "uncertainty.nc"
    assert main(["sweep", str(study_file), "--uncertainty", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "parameter uncertainty: 6 draws x 5 replicates" in printed
    assert "variance: parameter" in printed
    assert "plausible range" in printed
    assert main(["summary", str(out)]) == 0
    assert "P(extinct by year 12)" in capsys.readouterr().out
    page = tmp_path / "uncertainty.html"
    assert main(["report", str(out), "--out", str(page), "--quiet"]) == 0
    assert 'id="parameter-uncertainty"' in page.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--set", "threats.poaching.proportoin=0:0.3:3"],
            "no parameter 'threats.poaching.proportoin': threats[0] has no key 'proportoin'; "
            "nearest valid paths: threats.poaching.proportion",
        ),
        (
            ["--set", "threats.poaching.proportion=0:1.5:3"],
            "threats.poaching.proportion = 1.5 is refused: threats[0]: Harvest 'poaching': "
            "proportion must be in [0, 1]; got 1.5 (threats.poaching.proportion accepts "
            "values up to 1 with the other parameters at their values in the study)",
        ),
        (
            [
                "--set",
                "species.herb.U[0][0]=0.1:0.5:2",
                "--set",
                "species.herb.U[1][0]=0.3:0.7:2",
                "--design",
                "grid",
            ],
            "sample 3 (U_0_0=0.5, U_1_0=0.7) is refused",
        ),
        (["--set", "study.seed=1:5:2"], "'study.seed' cannot be swept"),
        (["--set", "threats.poaching.proportion"], "--set must be PATH=LOW:HIGH"),
        (["--design", "sobol", "--samples", "5"], "must be a power of 2"),
    ],
)
def test_pva_sweep_refuses_bad_settings_in_one_line(
    study_file: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", str(study_file), "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("pva sweep: error: ")
    assert message in err


def test_pva_sweep_needs_something_to_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.toml"
    plain.write_text(STUDY.split("[sweep]")[0], encoding="utf-8")
    assert main(["sweep", str(plain)]) == 2
    assert "nothing to sweep" in capsys.readouterr().err
    shutil.copy(plain, tmp_path / "copy.toml")
    assert (
        main(["run", str(tmp_path / "copy.toml"), "--quiet", "--out", str(tmp_path / "r.nc")]) == 0
    )


def test_pva_sweep_of_initial_total_scales_per_stage_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the herb is written with initial = [10, 20]: its initial_total is their sum, and a sweep of
    # it scales the stage structure to each total (it used to fail: "give initial or
    # initial_total, not both")
    plain = tmp_path / "plain.toml"
    plain.write_text(STUDY.split("[sweep]")[0], encoding="utf-8")
    out = tmp_path / "totals.nc"
    argv = [
        "sweep", str(plain), "--set", 'species."herb".initial_total=50:200:3',
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    ds = io.open_results(out)
    totals = ds[results.PARAMETER_PREFIX + "initial_total"].values
    np.testing.assert_array_equal(totals, [50, 125, 200])
    assert float(ds["parameter_base"].values[0]) == 30
    base = io.read_study(plain)
    p = paths.resolve(base, "species.herb.initial_total")
    for total in totals:
        species = paths.assign(base, {p: float(total)}).species[0].species
        assert int(species.initial_abundance.sum()) == total
        assert species.initial is not None
        assert sum(species.initial) == total


@pytest.mark.parametrize("design", ["sobol", "morris"])
def test_pva_sweep_without_salib_names_the_extra_in_one_line(
    study_file: Path,
    design: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # SALib uninstalled, as far as Python's import system is concerned (None in sys.modules)
    for module in ("SALib", "SALib.sample", "SALib.analyze"):
        monkeypatch.setitem(sys.modules, module, None)
    out = tmp_path / "sweep.nc"
    argv = ["sweep", str(study_file), "--design", design, "--quiet", "--out", str(out)]
    assert main([*argv, "--set", f"{PROPORTION}=0:0.3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"pva sweep: error: the {design} design needs SALib")
    assert "pip install 'pva[sensitivity]'" in err
    assert not out.exists()  # refused before anything ran
    # the designs of scipy and numpy do not need it
    grid = ["sweep", str(study_file), "--design", "grid", "--quiet", "--out", str(out)]
    assert main([*grid, "--set", f"{PROPORTION}=0:0.3:2"]) == 0
    assert io.open_results(out).sizes[results.SAMPLE] == 2


def test_a_swept_threshold_measures_the_same_futures(study: Study) -> None:
    """The quasi-extinction threshold changes what is measured, not the dynamics: every sample
    has the same futures (common random numbers), so a replicate below 2 individuals is below 10,
    extinction is the same in both, and the threshold stays in its coordinate."""
    settings = SweepSettings(
        parameters=(parse_setting("species.herb.quasi_extinction_threshold=2:10:2"),),
        design="grid",
    )
    ds = sweep(study, settings, backend="sequential")
    assert results.QUASI_EXTINCTION_THRESHOLD not in ds
    np.testing.assert_array_equal(
        ds[results.PARAMETER_PREFIX + "quasi_extinction_threshold"], [2, 10]
    )
    quasi = ds[results.QUASI_EXTINCT_BY_HORIZON].values
    assert np.all(quasi[1] >= quasi[0])
    assert np.any(quasi[1] > quasi[0])
    extinct = ds[results.EXTINCT_BY_HORIZON].values
    np.testing.assert_array_equal(extinct[0], extinct[1])
    np.testing.assert_array_equal(
        ds[results.P_QUASI_EXTINCTION].values,
        ds[results.QUASI_EXTINCT_BY_HORIZON]
        .mean(results.REPLICATE)
        .transpose(*ds[results.P_QUASI_EXTINCTION].dims)
        .values,
    )
    assert "P(quasi-extinct by year 12)" in summary.format_table(summary.summary_table(ds))


def test_pva_validate_checks_the_sweep_tables(
    study_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(study_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "ok: 1 species, 2 scenarios; [sweep] 2 parameters; [uncertainty] 1 parameters; "
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(
        STUDY.replace('"species.herb.carrying_capacity"', '"species.herb.carying_capacity"'),
        encoding="utf-8",
    )
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no parameter 'species.herb.carying_capacity'" in err
    assert "species.herb.carrying_capacity" in err  # the nearest valid path
