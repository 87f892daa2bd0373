"""Scaling of ``pva run`` and ``pva summary`` (issue 17, target 7): time and peak memory against
replicates, years, stages, species, sites and workers, so that a user can predict the cost of a
study.

Each study is built by :mod:`scale_study` from the shipped data (copies of the five species of
``scenarios/five_species.toml`` under its three scenarios). From a base study (5 species, 200
replicates, 50 years, 1 site, ``--jobs 1``) one factor is changed at a time:

* replicates 100, 400, 1,600; years 25, 50, 100; species 5, 10, 20; sites 1, 2, 4 (each species
  split into that many sites, each with the species' initial numbers and carrying capacity);
* stages: one species alone (x 3 scenarios), each of the five in turn: grizzly (1 stage), killer
  whale (4), Hudsonia (6), desert tortoise and *Mammillaria* (8);
* workers: ``--jobs 1`` and ``--jobs 2`` on the 10-species study.

For each, ``pva run`` and then ``pva summary`` of its results run in fresh processes
(:func:`scaling_measure.measure`): wall time, CPU time (user + system, workers included: steadier
than the wall time on a shared machine) and peak memory of the command's process. The table gives
the cost per million replicate-years (species x scenarios x replicates x years), the unit in which
the run's cost is linear. Writes ``results/scaling.md`` and ``results/scaling.png``.

Run: ``python experiments/scaling.py`` (``--quick`` for a smoke run of smaller studies, written to
a temporary folder).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_study import write_study
from scaling_measure import Measurement, load, measure

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = 3
STAGES = {0: 6, 1: 8, 2: 4, 3: 1, 4: 8}
"""Stages of the five species, by their number in scale_study (Hudsonia, tortoise, killer whale,
grizzly, Mammillaria)."""
NAMES = {0: "Hudsonia", 1: "desert tortoise", 2: "killer whale", 3: "grizzly", 4: "Mammillaria"}


@dataclasses.dataclass(frozen=True)
class Point:
    """One study of the scan."""

    factor: str
    value: int
    label: str
    species: int = 5
    replicates: int = 200
    years: int = 50
    sites: int = 1
    jobs: int = 1
    first: int = 0

    @property
    def replicate_years(self) -> float:
        return self.species * SCENARIOS * self.replicates * self.years


def points(quick: bool) -> list[Point]:
    scale = 4 if quick else 1
    reps = 200 // scale
    out = [Point("replicates", r, f"{r:,}", replicates=r) for r in (100, 400, 1600)]
    out = [dataclasses.replace(p, replicates=p.replicates // scale) for p in out]
    out += [Point("years", y, str(y), years=y, replicates=reps) for y in (25, 50, 100)]
    out += [Point("species", n, str(n), species=n, replicates=reps) for n in (5, 10, 20)]
    out += [Point("sites", n, str(n), sites=n, replicates=reps) for n in (1, 2, 4)]
    out += [
        Point("stages", STAGES[k], f"{STAGES[k]} ({NAMES[k]})", species=1, first=k, replicates=reps)
        for k in (3, 2, 0, 1, 4)
    ]
    out += [Point("workers", j, str(j), species=10, jobs=j, replicates=reps) for j in (1, 2)]
    return out


def run_point(point: Point, folder: Path) -> tuple[Measurement, Measurement]:
    study = write_study(
        point.species,
        folder / "study.toml",
        years=point.years,
        replicates=point.replicates,
        sites=point.sites,
        first=point.first,
    )
    nc = folder / "results.nc"
    run = measure(["run", str(study), "--jobs", str(point.jobs), "-q", "--out", str(nc)])
    summary = measure(["summary", str(nc)])
    return run, summary


def table(rows: list[tuple[Point, Measurement, Measurement]], before: str, after: str) -> str:
    lines = [
        "# Scaling of `pva run` and `pva summary`",
        "",
        "Written by `experiments/scaling.py` (studies from `experiments/scale_study.py`: copies of "
        "the five species of `scenarios/five_species.toml`, 3 scenarios). Base: 5 species, 200 "
        "replicates, 50 years, 1 site, `--jobs 1`; one factor changed at a time. Each command runs "
        "in a fresh process: wall time (start-up included), CPU time (user + system, workers "
        "included; steadier on a shared machine) and peak memory of the command's own process. "
        "*Run µs/ry* is the run's CPU time per replicate-year (species x scenarios x replicates x "
        "years).",
        "",
        f"Load before: {before}; after: {after}. The machine is shared with other work: wall "
        "times are inflated by the load, CPU times much less.",
        "",
        "| factor | value | replicate-years | run wall (s) | run CPU (s) | run µs/ry | run peak "
        "(MiB) | summary wall (s) | summary CPU (s) | summary µs/ry | summary peak (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p, run, summ in rows:
        ry = p.replicate_years
        lines.append(
            f"| {p.factor} | {p.label} | {ry:,.0f} | {run.seconds:.1f} | {run.cpu_seconds:.1f} | "
            f"{1e6 * run.cpu_seconds / ry:.1f} | {run.peak_mib:.0f} | {summ.seconds:.1f} | "
            f"{summ.cpu_seconds:.1f} | {1e6 * summ.cpu_seconds / ry:.1f} | {summ.peak_mib:.0f} |"
        )
    lines += ["", *fit_lines(rows)]
    lines += [
        "",
        "With `--jobs 2` the CPU time includes the workers, which `pva run` stops and waits "
        "for before it exits: the second worker's start-up (importing pva) is what it adds.",
        "",
        "**Predicting a study's cost.** Both commands cost a fixed start-up (importing pva: the "
        "CPU time of the smallest studies above) plus a part linear in replicate-years; the "
        "run's part grows with the stages (fate draws per stage) and the sites, the summary's "
        "with the years the Red List windows span. Memory does not grow with species: a run "
        "holds one task (one species x one replicate chunk, written to the file as it "
        "finishes), a summary one block of species (at most `pva.summary.BLOCK_BYTES` of "
        "results with their Red List assessment); within a species it grows with replicates "
        "(up to the chunk size for a run) and years. Studies of 1,000 replicates x 100 years "
        "of 5 to 100 species: `results/scaling_readers.md`.",
    ]
    return "\n".join(lines) + "\n"


def fit_lines(rows: list[tuple[Point, Measurement, Measurement]]) -> list[str]:
    """Least-squares fits ``CPU = start-up + per replicate-year x replicate-years`` of the run and
    the summary over the replicates, years and species rows (the base species mix)."""
    import numpy as np

    chosen = [(p, r, s) for p, r, s in rows if p.factor in ("replicates", "years", "species")]
    x = np.array([p.replicate_years for p, _, _ in chosen])
    out = []
    for name, cpu in (
        ("run", [r.cpu_seconds for _, r, _ in chosen]),
        ("summary", [s.cpu_seconds for _, _, s in chosen]),
    ):
        slope, intercept = np.polyfit(x, np.array(cpu), 1)
        out.append(
            f"Fit over the replicates, years and species rows: `pva {name}` CPU ≈ "
            f"{intercept:.1f} s + {1e6 * slope:.2f} µs x replicate-years."
        )
    return out


def figure(rows: list[tuple[Point, Measurement, Measurement]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    factors = list(dict.fromkeys(p.factor for p, _, _ in rows))
    fig, axes = plt.subplots(2, len(factors), figsize=(3.2 * len(factors), 6), squeeze=False)
    for col, factor in enumerate(factors):
        chosen = [(p, r, s) for p, r, s in rows if p.factor == factor]
        x = [p.value for p, _, _ in chosen]
        top, bottom = axes[0][col], axes[1][col]
        top.plot(x, [r.cpu_seconds for _, r, _ in chosen], "o-", label="run CPU")
        top.plot(x, [s.cpu_seconds for _, _, s in chosen], "s-", label="summary CPU")
        top.plot(
            x, [r.seconds for _, r, _ in chosen], "o:", color="C0", alpha=0.5, label="run wall"
        )
        bottom.plot(x, [r.peak_mib for _, r, _ in chosen], "o-", label="run")
        bottom.plot(x, [s.peak_mib for _, _, s in chosen], "s-", label="summary")
        top.set_title(factor)
        bottom.set_xlabel(factor)
        top.set_ylim(bottom=0)
        bottom.set_ylim(bottom=0)
        if col == 0:
            top.set_ylabel("seconds")
            bottom.set_ylabel("peak memory (MiB)")
            top.legend(fontsize=7)
            bottom.legend(fontsize=7)
    fig.suptitle("pva run and pva summary: cost against each factor (others at the base study)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller studies, written nowhere")
    args = parser.parse_args()
    before = load()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for point in points(args.quick):
            run, summ = run_point(point, Path(tmp))
            rows.append((point, run, summ))
            print(
                f"{point.factor}={point.label}: run {run.seconds:.1f} s ({run.cpu_seconds:.1f} s "
                f"CPU, {run.peak_mib:.0f} MiB), summary {summ.seconds:.1f} s "
                f"({summ.cpu_seconds:.1f} s CPU, {summ.peak_mib:.0f} MiB) [{load()}]",
                flush=True,
            )
        out = Path(tmp) if args.quick else ROOT / "results"
        (out / "scaling.md").write_text(table(rows, before, load()), encoding="utf-8")
        figure(rows, out / "scaling.png")
        print(out / "scaling.md")


if __name__ == "__main__":
    main()
