"""Memory and time of the readers of a results file (issue 17, target 4): ``pva summary``,
``pva plot`` and ``pva report`` against the number of species.

For each number of species (default 5, 10, 20; ``--species 100`` for the issue's study) the study
of :mod:`scale_study` (3 scenarios x ``--replicates`` x ``--years``) is run once (``--jobs 2``),
then each reader runs on its results file in a fresh process (:func:`scaling_measure.measure`),
each also with ``-j 2`` (blocks of species reduced and figures rendered by two worker processes):
wall time, CPU time and peak memory. The readers open the file lazily and reduce it species by
species, so their memory should stay flat and their time grow linearly in species. Writes
``results/scaling_readers.md``.

Run: ``python experiments/scaling_readers.py [--species 5 10 20] [--replicates 1000]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_study import write_study
from scaling_measure import load, measure

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--species", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--years", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "scaling_readers.md")
    args = parser.parse_args()
    before = load()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in args.species:
            study = write_study(
                n, folder / f"s{n}.toml", years=args.years, replicates=args.replicates
            )
            nc = folder / f"s{n}.nc"
            run = measure(["run", str(study), "--jobs", "2", "-q", "--out", str(nc)])
            got = {
                "summary": measure(["summary", str(nc)]),
                "summary -j 2": measure(["summary", str(nc), "-j", "2"]),
                "plot": measure(["plot", str(nc), "-q", "--out", str(folder / f"fig{n}")]),
                "plot -j 2": measure(
                    ["plot", str(nc), "-q", "-j", "2", "--out", str(folder / f"fig{n}j")]
                ),
                "report": measure(["report", str(nc), "-q", "--out", str(folder / f"r{n}.html")]),
                "report -j 2": measure(
                    ["report", str(nc), "-q", "-j", "2", "--out", str(folder / f"r{n}j.html")]
                ),
            }
            rows.append((n, run, got, nc.stat().st_size / 2**20))
            cells = ", ".join(
                f"{k} {m.seconds:.1f} s ({m.cpu_seconds:.1f} s CPU, {m.peak_mib:.0f} MiB)"
                for k, m in got.items()
            )
            print(f"{n} species: run {run.seconds:.1f} s; {cells} [{load()}]", flush=True)
    lines = [
        "# Readers of a results file against the number of species",
        "",
        "Written by `experiments/scaling_readers.py`: the study of `experiments/scale_study.py` "
        f"(3 scenarios x {args.replicates:,} replicates x {args.years} years), run with `--jobs 2`, "
        "then `pva summary`, `pva plot` and `pva report` of its file, each in a fresh process: "
        "wall time (start-up included), CPU time and the peak memory of the process. Issue 17's "
        "target for the 100-species file: each reader within 1 GiB and 20 s. The summary "
        "classifies the Red List at the years it reports (year 0, the horizons, the final "
        "year); the figures and the report of more than 6 species on a grid of about 21 years "
        "(`pva.summary.figure_years`); `pva plot` draws three figures per species (fan chart, "
        "categories by year, transitions) and the report one per species. With `-j 2` two "
        "worker processes read, reduce and assess blocks of species (`pva.summary.TaskMap`) and "
        "render the figures (`pva.plots.render_each`); their CPU time is counted, their memory "
        "is not (the peak column is the calling process's).",
        "",
        f"Load before: {before}; after: {load()} (a shared machine: wall times are inflated by "
        "the load; CPU times much less).",
        "",
        "| species | file (MiB) | run wall (s) | run peak (MiB) | "
        + " | ".join(f"{k} wall (s) | {k} CPU (s) | {k} peak (MiB)" for k in rows[0][2])
        + " |",
        "|" + "---|" * (4 + 3 * len(rows[0][2])),
    ]
    for n, run, got, size in rows:
        cells = [str(n), f"{size:.1f}", f"{run.seconds:.1f}", f"{run.peak_mib:.0f}"]
        for m in got.values():
            cells += [f"{m.seconds:.1f}", f"{m.cpu_seconds:.1f}", f"{m.peak_mib:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(args.out)


if __name__ == "__main__":
    main()
