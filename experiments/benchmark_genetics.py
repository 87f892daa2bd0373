"""Benchmark of genetics and of sites (issue 13): what gene diversity, inbreeding and ten sites cost.

Model: *Hudsonia montana* with demographic stochasticity, the engine benchmark's demographic model
(``experiments/benchmark_engine.py``; Morris & Doak 2002, Table 6.7; popbio ``hudsonia``: 6 stages,
the four annual matrices iid, n0 = (4264, 3, 30, 16, 25, 5), a ceiling of K = 500 on the non-seed
stages), 10,000 replicates x 100 years, projected by ``pva.engine.project`` in one chunk:

* **1 site**, genetics off and on (:class:`pva.model.Genetics` with its defaults: Ne from the
  breeders, 6.29 lethal equivalents on the survival of seeds and seedlings, half of them purged);
* **10 sites** of that population 10 km apart on a line, their environments correlated as
  ``exp(-d / 20 km)`` (:class:`pva.model.SiteCorrelation`) and dispersal of the non-seed stages from
  a distance kernel ``0.05 exp(-d / 10 km)`` with 10% transit mortality
  (:class:`pva.model.DispersalKernel`), genetics off and on.

Each time is the CPU time of this process (one BLAS thread), the median of ``--repeats`` runs
(default 3), the four cases interleaved in each repeat; the load (``uptime``) is noted. The target
(issue 13): genetics adds at most 30% to the engine's time. Writes ``results/benchmark_genetics.md``.
Run: ``python experiments/benchmark_genetics.py`` (``--quick`` for 1,000 replicates, written
nowhere).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import pva  # noqa: E402
from pva import datasets, engine, kernels  # noqa: E402
from pva.model import (  # noqa: E402
    DensityDependence,
    Dispersal,
    DispersalKernel,
    Genetics,
    MatrixSelection,
    Population,
    SiteCorrelation,
    Species,
)
from pva.streams import single_streams  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmark_genetics.md"
N0 = (4264, 3, 30, 16, 25, 5)
K = 500.0
WEIGHTS = (0, 1, 1, 1, 1, 1)
YEARS = 100
SITES = 10
SPACING_KM = 10.0


def hudsonia(sites: int, *, genetics: bool) -> Species:
    """The demographic Hudsonia model at ``sites`` sites (see the module docstring)."""
    h = datasets.popbio_document("hudsonia")  # Morris & Doak 2002, Table 6.7
    reproduction = np.zeros((6, 6), dtype=bool)
    reproduction[:2, 2:] = True  # seeds and seedlings produced by tiny..large plants
    environment = MatrixSelection.from_matrices(
        [h["matrices"][k] for k in h["names"]], reproduction=reproduction, names=h["names"]
    )
    base = Species(
        name="Hudsonia montana",
        stages=tuple(h["stages"]),
        environment=environment,
        initial=N0,
        carrying_capacity=K,
        density_dependence=DensityDependence(kind="ceiling", weights=WEIGHTS),
    )
    # the generation length of the mean matrix, given explicitly so that both cases use the same
    extra: dict[str, object] = {"generation_length": base.generation_length}
    if genetics:
        extra["genetics"] = Genetics()
    if sites == 1:
        return dataclasses.replace(base, **extra)  # type: ignore[arg-type]
    populations = tuple(
        Population(
            name=f"site {i}",
            initial=N0,
            carrying_capacity=K,
            coordinates=(SPACING_KM * i, 0.0),
        )
        for i in range(sites)
    )
    return Species(
        name="Hudsonia montana",
        stages=tuple(h["stages"]),
        environment=environment,
        populations=populations,
        density_dependence=DensityDependence(kind="ceiling", weights=WEIGHTS),
        correlation=SiteCorrelation(scale=20.0),
        dispersal=Dispersal(
            kernel=DispersalKernel(rate=0.05, scale=10.0),
            relative_rates=(0.0, 1.0, 1.0, 1.0, 1.0, 1.0),
            mortality=0.1,
        ),
        **extra,  # type: ignore[arg-type]
    )


def timed(species: Species, replicates: int, seed: int) -> float:
    """CPU seconds of one projection of ``species``."""
    t0 = time.process_time()
    engine.project(
        species, years=YEARS, replicates=replicates, streams=single_streams(seed), record=()
    )
    return time.process_time() - t0


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


CASES = (
    ("1 site, genetics off", 1, False),
    ("1 site, genetics on", 1, True),
    (f"{SITES} sites, genetics off", SITES, False),
    (f"{SITES} sites, genetics on", SITES, True),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1,000 replicates, no file")
    args = parser.parse_args(argv)
    replicates = 1_000 if args.quick else 10_000
    models = {name: hudsonia(sites, genetics=g) for name, sites, g in CASES}
    load_start = load()
    for model in models.values():  # warm up (numba compilation, caches)
        timed(model, 100, 0)
    times: dict[str, list[float]] = {name: [] for name in models}
    for repeat in range(args.repeats):
        for name, model in models.items():
            times[name].append(timed(model, replicates, 1 + repeat))
    median = {name: statistics.median(t) for name, t in times.items()}
    load_end = load()

    def row(name: str, reference: str) -> str:
        seconds = median[name]
        rate = replicates * YEARS / seconds
        return f"| {name} | {seconds:.2f} | {rate:,.0f} | {seconds / median[reference]:.2f} |"

    one_off, one_on, ten_off, ten_on = (name for name, _, _ in CASES)
    added_one = median[one_on] / median[one_off] - 1
    added_ten = median[ten_on] / median[ten_off] - 1
    path = kernels.name()
    lines = [
        "# Genetics and sites benchmark (issue 13)",
        "",
        "*Hudsonia montana* with demographic stochasticity (multinomial fates, Poisson births, a "
        "ceiling of K = 500 on the non-seed stages; the engine benchmark's demographic model), "
        f"{replicates:,} replicates x {YEARS} years in one `pva.engine.project` call, one process, "
        "BLAS on one thread, nothing recorded beyond mature and total abundance. Genetics: "
        "`pva.model.Genetics()` (Ne from the breeders, 6.29 lethal equivalents, purging). "
        f"{SITES} sites: {SPACING_KM:g} km apart, environments correlated as exp(-d / 20 km), "
        "dispersal of the non-seed stages by the kernel 0.05 exp(-d / 10 km) with 10% transit "
        "mortality. Every time is CPU time, the median of "
        f"{args.repeats} interleaved runs. Load average (1 min) {load_start} at the start and "
        f"{load_end} at the end, on 2 cores shared with other work: compare ratios, not "
        f"absolute times. Engine path: {path}.",
        "",
        "| case | seconds | replicate-years / s | time / 1 site, genetics off |",
        "|---|---:|---:|---:|",
        *(row(name, one_off) for name in median),
        "",
        f"- genetics adds {added_one:+.0%} with 1 site and {added_ten:+.0%} with {SITES} sites "
        "(target: at most +30%)",
        f"- {SITES} sites cost {median[ten_off] / median[one_off]:.1f}x one site without genetics "
        f"({SITES}x the individuals, correlated environments and dispersal)",
        "",
        f"pva {pva.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}.",
        "Written by `experiments/benchmark_genetics.py`.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        OUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
