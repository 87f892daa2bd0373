"""Benchmark of the sweep machinery (issue 11): a Sobol' design of 6 Hudsonia parameters.

Study: ``scenarios/hudsonia.toml`` (the four annual matrices of Morris & Doak 2002, Table 6.7, iid;
trampling and canopy closure) cut to 50 years, 200 replicates and two scenarios (no action, reroute
trails). Design: Saltelli's Sobol' design with N = 256 base samples over 6 parameters (second
order), N (2D + 2) = 3,584 samples, each run under both scenarios and reduced to what ``pva
summary`` reports (Red List included). Two workers (joblib, loky).

Measured side by side in one run, alternating sweep and direct ``--rounds`` times (the machine is
shared with other jobs, so each time is the mean of its runs):

* ``direct``: the same 3,584 parameter sets, each study built by hand with ``dataclasses.replace``
  on the species and the actions (validated by the specifications as ``Study`` always is), run
  with :func:`pva.runner.run_study` and reduced with :func:`pva.sensitivity.reduce_sample`, one
  task per sample on the runner's execution step (:func:`pva.runner.map_tasks`, 2 loky workers,
  the same warm pool the sweep uses): the runs, without the sweep machinery;
* ``sweep``: :func:`pva.sensitivity.sweep` (paths, design, validation of every sample before any
  run, tasks through :func:`pva.runner.map_tasks`, assembly, Sobol' indices with 1,000 bootstrap
  resamples).

The sweep's per-sample numbers are checked equal to the direct ones. Overhead = sweep / direct - 1
(target <= 10%). Writes ``results/benchmark_sweep.md``. Run: ``python
experiments/benchmark_sweep.py`` (``--base-samples 64`` for a smaller N on a loaded machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

import pva
from pva import io, runner
from pva.sensitivity import SweepSettings, parse_setting, reduce_sample, sweep
from pva.sensitivity.execution import default_horizons
from pva.study import Outputs, Study

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmark_sweep.md"
SPECIES = 'species."Hudsonia montana"'
PARAMETERS = (
    f"{SPECIES}.carrying_capacity=100:400",
    f"{SPECIES}.quasi_extinction_threshold=5:20",
    "threats.trampling.survival=0.8:1.0",
    'threats."canopy closure".rate=0.005:0.04',
    'interventions."reroute trails".fraction=0.5:1.0',
    'interventions."reroute trails".delay=0:10',
)


def benchmark_study() -> Study:
    study = io.read_study(ROOT / "scenarios" / "hudsonia.toml")
    return study.with_(
        years=50,
        replicates=200,
        scenarios=study.scenarios[:2],
        outputs=Outputs(horizons=(10, 25), currency="USD"),
    )


def by_hand(study: Study, row: np.ndarray) -> Study:
    """The sample's study built directly: the six numbers set on the specifications."""
    k, threshold, survival, rate, fraction, delay = row
    species = study.species[0]
    species = dataclasses.replace(
        species,
        species=species.species.with_(carrying_capacity=k, quasi_extinction_threshold=threshold),
    )
    changed = {
        "trampling": {"survival": survival},
        "canopy closure": {"rate": rate},
        "reroute trails": {"fraction": fraction, "delay": int(np.rint(delay))},
    }
    scenarios = tuple(
        dataclasses.replace(
            sc,
            actions=tuple(dataclasses.replace(a, **changed.get(a.name, {})) for a in sc.actions),
        )
        for sc in study.scenarios
    )
    return study.with_(species=(species,), scenarios=scenarios)


def direct_sample(
    study: Study, row: np.ndarray, horizons: tuple[int, ...]
) -> dict[str, npt.NDArray[Any]]:
    ds = runner.run_study(by_hand(study, row), backend="sequential")
    return reduce_sample(ds, horizons)


def run_direct(study: Study, rows: np.ndarray, jobs: int) -> tuple[float, list[dict[str, Any]]]:
    horizons = default_horizons(study)
    start = time.perf_counter()
    tasks = [{"study": study, "row": row, "horizons": horizons} for row in rows]
    out = list(runner.map_tasks(direct_sample, tasks, jobs=jobs))
    return time.perf_counter() - start, out


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-samples", type=int, default=256, help="Sobol' N (a power of 2)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="sweep-direct pairs to time")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    study = benchmark_study().with_(seed=20261126)
    settings = SweepSettings(
        parameters=tuple(parse_setting(p) for p in PARAMETERS),
        design="sobol",
        samples=args.base_samples,
        replicate_outcomes=False,
    )
    loads = {"start": load()}
    # warm both pools and caches with a small sweep (not timed)
    sweep(study, dataclasses.replace(settings, samples=2), jobs=args.jobs)

    timed: dict[str, list[float]] = {"sweep": [], "direct": []}
    ds = direct = None
    for round_ in range(1, args.rounds + 1):
        start = time.perf_counter()
        found = sweep(study, settings, jobs=args.jobs)
        timed["sweep"].append(time.perf_counter() - start)
        loads[f"after sweep {round_}"] = load()
        if ds is not None:
            xr.testing.assert_identical(found, ds)
        ds = found
        # the same parameter values, run directly
        names = [str(p) for p in ds["parameter"].values]
        rows = np.column_stack([ds[f"param_{n}"].values for n in names])
        seconds, direct = run_direct(study, rows, args.jobs)
        timed["direct"].append(seconds)
        loads[f"after direct {round_}"] = load()
    assert ds is not None
    assert direct is not None
    # the same runs: the sweep's per-sample numbers are the direct ones
    for name in ("p_quasi_extinction", "median_final_abundance", "rli_by_horizon"):
        np.testing.assert_array_equal(ds[name].values, np.stack([d[name] for d in direct]))

    sweep_time = float(np.mean(timed["sweep"]))
    direct_time = float(np.mean(timed["direct"]))
    overhead = sweep_time / direct_time - 1
    samples = ds.sizes["sample"]
    runs = samples * 2 * study.replicates
    # the horizon at which the risk varies most over the samples
    risk = ds["p_quasi_extinction"].sel({"species": "Hudsonia montana", "scenario": "no action"})
    h = int(risk["horizon"].values[int(np.argmax(risk.var("sample").values))])
    at = ds.sel({"species": "Hudsonia montana", "scenario": "no action", "horizon": h})
    lines = [
        "# Sweep benchmark (issue 11)",
        "",
        f"*Hudsonia montana* (`scenarios/hudsonia.toml`: Morris & Doak 2002, Table 6.7, the 4 "
        f"annual matrices iid; trampling, canopy closure) for {study.years} years, "
        f"{study.replicates} replicates, 2 scenarios (no action, reroute trails). Sobol' design "
        f"(Saltelli, second order) over 6 parameters with N = {args.base_samples}: "
        f"{samples:,} samples ({runs:,} replicate projections of {study.years} years), each "
        f"reduced to what `pva summary` reports (Red List included). {args.jobs} workers (loky, "
        "one warm pool for both methods). "
        f"Run in the order sweep, direct, {args.rounds} time(s); each time below is the mean "
        "of its runs.",
        "",
        "| method | wall time (s) | samples / s |",
        "|---|---:|---:|",
        f"| direct: studies built by hand, `runner.run_study` + `reduce_sample`, `map_tasks` "
        f"| {direct_time:,.1f} | {samples / direct_time:,.2f} |",
        f"| `pva.sensitivity.sweep` (paths, design, validation, tasks, assembly, indices) "
        f"| {sweep_time:,.1f} | {samples / sweep_time:,.2f} |",
        "",
        "- single runs: sweep "
        + ", ".join(f"{t:,.1f}" for t in timed["sweep"])
        + " s; direct "
        + ", ".join(f"{t:,.1f}" for t in timed["direct"])
        + " s",
        f"- overhead of the sweep machinery: {overhead:+.1%} (target <= 10%)",
        "- the sweep's per-sample numbers equal the direct runs' (checked), and repeated sweeps "
        "are identical",
        "- load average (1, 5, 15 min; `uptime`) during the run: "
        + "; ".join(f"{k}: {v}" for k, v in loads.items()),
        f"- total-order Sobol' indices of P(quasi-extinction by year {h}), no action: "
        + ", ".join(
            f"{n} {float(at['sobol_total'].sel(parameter=n)):.2f} "
            f"({float(at['sobol_total_lower'].sel(parameter=n)):.2f}–"
            f"{float(at['sobol_total_upper'].sel(parameter=n)):.2f})"
            for n in names
        ),
        "",
        f"pva {pva.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs shared with other jobs.",
        "Written by `experiments/benchmark_sweep.py`.",
        "",
    ]
    io.write_text(args.out, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
