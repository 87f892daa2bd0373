"""Workers benchmark (issue 17, targets 5 and 6): ``pva run`` with ``--jobs 1`` and ``--jobs 2``,
side by side.

The study is built by :mod:`scale_study` from the shipped data: 20 species (copies of the five of
``scenarios/five_species.toml``) x 3 scenarios x 1,000 replicates x 100 years by default. Each
repeat runs ``--jobs 1`` and ``--jobs 2`` one after the other (alternating which goes first), so
both see the same load; the ratio is taken within the repeat. Also timed: the start-up of the
``pva`` command alone (``python -c "import pva.cli"``), the serial floor every run pays, and what
two cores give on this machine (:func:`machine_ceiling`), the ceiling of any ratio. Each repeat
also runs the study with ``--scale`` (default 4) times the replicates, which splits the time into
the part that grows with the study and the part that does not (:func:`fixed_and_growing`): the
growing part's ratio is what the workers achieve, and Amdahl's bound is what the fixed part
leaves to the whole study.

Wall times are those a user sees (start-up included); peak memory is that of the calling process
(:mod:`scaling_measure`). The machine's load (``os.getloadavg``) is printed beside each repeat:
on a shared machine a ratio below 2 may be the other work's, not pva's.

Bytecode: the package's modules are compiled first (:mod:`compileall`), as ``pip install`` does.
Where ``PYTHONDONTWRITEBYTECODE`` is set and no bytecode exists, every process compiles pva's
sixty-odd modules from source at each start (0.75 s of CPU in the command, about a third of that in
each worker); ``--no-bytecode`` measures that case (the bytecode is then looked for in an empty
``PYTHONPYCACHEPREFIX``).

Run: ``python experiments/benchmark_workers.py [--species 20] [--repeats 3] [--no-bytecode]``; writes
``results/benchmark_workers.md`` (``--species 100`` writes ``results/benchmark_workers_100.md``).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_study import write_study
from scaling_measure import load, measure

ROOT = Path(__file__).resolve().parent.parent


_BUSY = """
import time, numpy as np
rng = np.random.default_rng(1)
a = rng.random((300, 300))
start = time.process_time()
while time.process_time() - start < {seconds}:
    a = np.tanh(a @ a.T / 300.0)
"""


def machine_ceiling(seconds: float = 4.0) -> float:
    """What two cores give here: the work two independent CPU-bound processes (a numpy loop of
    ``seconds`` of CPU each, one thread) get done at once, over what one gets done alone, as a
    speed-up (2.0 on two free cores). No ``--jobs 2`` can beat it on this machine."""
    code = _BUSY.format(seconds=seconds)
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    pair = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(2)]
    for process in pair:
        process.wait()
    together = time.perf_counter() - start
    return 2.0 * alone / together


def startup_seconds(env: dict[str, str]) -> float:
    """Wall time of ``python -c "import pva.cli"``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import pva.cli"], check=True, env=env)
    return time.perf_counter() - start


def fixed_and_growing(seconds: float, larger_seconds: float, scale: int) -> tuple[float, float]:
    """The wall time of a study split in two: the part that does not grow with the replicates
    (start-up, reading the study, laying out and closing the file) and the part that does (the
    tasks, the writing of their results), from the times of the study and of one with ``scale``
    times the replicates (time = fixed + growing x replicates, fitted through both)."""
    growing = (larger_seconds - seconds) / (scale - 1)
    return seconds - growing, growing


def amdahl_lines(
    split: Sequence[Mapping[int, tuple[float, float]]], args: argparse.Namespace, base: int
) -> list[str]:
    """The table of the fixed and growing parts (:func:`fixed_and_growing`) and what they allow."""
    lines = [
        "## Where the time goes: the part that grows with the replicates and the part that does not",
        "",
        f"Each repeat also ran the study with {args.scale} x {args.replicates:,} replicates; "
        "time = fixed + growing, fitted through both runs (`fixed_and_growing`). The growing "
        "part is the tasks and the writing of their results; the fixed part is Python's start-up "
        "and imports, reading the study, starting the workers, laying out and closing the "
        "results file. Growing ratio: how much faster more workers do the growing part. "
        "Amdahl's bound: the ratio this study would reach if the growing part ran exactly "
        f"{max(args.jobs)} times faster and the fixed part stayed as with `--jobs {base}`.",
        "",
        "| repeat | "
        + " | ".join(f"jobs {j} fixed (s) | jobs {j} growing (s)" for j in sorted(args.jobs))
        + " | growing ratio | Amdahl's bound |",
        "|" + "---|" * (1 + 2 * len(args.jobs) + 2),
    ]
    top = max(args.jobs)
    growing_ratios, bounds = [], []
    for repeat, parts in enumerate(split, start=1):
        cells = [str(repeat)]
        for j in sorted(args.jobs):
            cells += [f"{parts[j][0]:.1f}", f"{parts[j][1]:.1f}"]
        fixed, growing = parts[base]
        growing_ratio = growing / parts[top][1]
        bound = (fixed + growing) / (fixed + growing / top)
        growing_ratios.append(growing_ratio)
        bounds.append(bound)
        cells += [f"{growing_ratio:.2f}", f"{bound:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Median growing ratio jobs {base} / jobs {top}: **{statistics.median(growing_ratios):.2f}**"
        f"; median Amdahl's bound of the {args.replicates:,}-replicate study: "
        f"{statistics.median(bounds):.2f}.",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--species", type=int, default=20)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--years", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--scale",
        type=int,
        default=4,
        help="also run the study with this many times the replicates (1: not)",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--no-bytecode", action="store_true", help="every process compiles pva from source"
    )
    args = parser.parse_args()
    suffix = "" if args.species == 20 else f"_{args.species}"
    out = args.out or ROOT / "results" / f"benchmark_workers{suffix}.md"
    rows = []
    split: list[dict[int, tuple[float, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        env: dict[str, str] = {}
        if args.no_bytecode:
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "no-bytecode")
        else:
            compileall.compile_dir(ROOT / "pva", quiet=1)
        bytecode = (
            "every process compiles pva from source (no bytecode)"
            if args.no_bytecode
            else "pva's bytecode compiled beforehand, as `pip install` does"
        )
        study = write_study(
            args.species, Path(tmp) / "study.toml", years=args.years, replicates=args.replicates
        )
        larger = write_study(
            args.species,
            Path(tmp) / "larger.toml",
            years=args.years,
            replicates=args.replicates * args.scale,
        )
        for repeat in range(args.repeats):
            order = args.jobs if repeat % 2 == 0 else args.jobs[::-1]
            before = load()
            startup = startup_seconds({**os.environ, **env})
            ceiling = machine_ceiling()
            got, got_larger = {}, {}
            for jobs in order:
                nc = Path(tmp) / f"jobs{jobs}.nc"
                got[jobs] = measure(
                    ["run", str(study), "--jobs", str(jobs), "-q", "--out", str(nc)], env=env
                )
                if args.scale > 1:
                    got_larger[jobs] = measure(
                        ["run", str(larger), "--jobs", str(jobs), "-q", "--out", str(nc)], env=env
                    )
            rows.append((repeat + 1, before, startup, ceiling, got))
            if got_larger:
                split.append(
                    {j: fixed_and_growing(got[j].seconds, got_larger[j].seconds, args.scale)
                     for j in args.jobs}
                )  # fmt: skip
            line = ", ".join(f"jobs {j}: {m.seconds:.1f} s" for j, m in sorted(got.items()))
            print(
                f"repeat {repeat + 1} ({before}): start-up {startup:.1f} s; two cores give "
                f"{ceiling:.2f}x; {line}",
                flush=True,
            )
    base = min(args.jobs)
    lines = [
        f"# `pva run` with {' and '.join(f'--jobs {j}' for j in args.jobs)}: "
        f"{args.species} species x 3 scenarios x {args.replicates:,} replicates x "
        f"{args.years} years",
        "",
        "Written by `experiments/benchmark_workers.py` (study from `experiments/scale_study.py`). "
        "Wall time of the whole command as a user runs it (start-up included), each repeat "
        "running every `--jobs` one after the other (alternating the order) so that they see the "
        f"same load; ratio = time with `--jobs {base}` / time with more jobs, within the repeat. "
        "CPU is user + system time of the command and its workers (steadier than the wall time on a "
        "shared machine; what a second worker adds is its start-up). "
        "Peak memory is that of the calling process (workers apart). The load is the machine's "
        "load average when the repeat started: the machine is shared with other work, so a "
        f"ratio below the number of cores may be the other work's. Bytecode: {bytecode}. "
        "Two cores give: two independent single-threaded numpy loops run at once, against one "
        "alone (`machine_ceiling`), the speed-up no `--jobs 2` can exceed on this machine.",
        "",
        "| repeat | load before | start-up (s) | two cores give | "
        + " | ".join(
            f"jobs {j} (s) | jobs {j} CPU (s) | jobs {j} peak (MiB)" for j in sorted(args.jobs)
        )
        + " | "
        + " | ".join(f"ratio {j}" for j in sorted(args.jobs) if j != base)
        + " |",
        "|" + "---|" * (4 + 3 * len(args.jobs) + len(args.jobs) - 1),
    ]
    ratios: dict[int, list[float]] = {j: [] for j in args.jobs if j != base}
    for repeat, before, startup, ceiling, got in rows:
        cells = [str(repeat), before, f"{startup:.1f}", f"{ceiling:.2f}"]
        for j in sorted(args.jobs):
            cells += [
                f"{got[j].seconds:.1f}",
                f"{got[j].cpu_seconds:.1f}",
                f"{got[j].peak_mib:.0f}",
            ]
        for j in sorted(ratios):
            ratio = got[base].seconds / got[j].seconds
            ratios[j].append(ratio)
            cells.append(f"{ratio:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for j, values in sorted(ratios.items()):
        lines.append(
            f"Median ratio jobs {base} / jobs {j}: **{statistics.median(values):.2f}** "
            f"(best {max(values):.2f}) over {len(values)} repeats."
        )
    for j in sorted(args.jobs):
        best = min(g[j].seconds for *_, g in rows)
        lines.append(f"Best time with `--jobs {j}`: {best:.1f} s.")
    ceilings = [c for _, _, _, c, _ in rows]
    lines.append(
        f"Two cores give {statistics.median(ceilings):.2f}x here (median over {len(ceilings)} "
        "repeats): the ceiling of any ratio above."
    )
    if split:
        lines += ["", *amdahl_lines(split, args, base)]
    lines.append(f"Load after: {load()}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
