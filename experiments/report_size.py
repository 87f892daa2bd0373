"""Size of the HTML report of a study of many species (issue 15, item 5).

The study is the demo (``scenarios/demo.toml``: *Hudsonia montana* under no action and two
interventions) with its species copied under ``N`` different names, run with few replicates: what
matters here is the page a planner receives for a portfolio of many species, not the numbers.

    python experiments/report_size.py [--species 100] [--replicates 20] [--out results/report_size]

Prints the number of species, the size of the HTML file, the number of embedded images and the
time taken, and writes the report to ``OUT/report.html`` (not committed: it is large).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from pva import io, report, runner

ROOT = Path(__file__).resolve().parent.parent


def many_species_study(n_species: int, replicates: int) -> object:
    """The demo study with its one species copied under ``n_species`` names."""
    study = io.read_study(ROOT / "scenarios" / "demo.toml")
    (entry,) = study.species
    copies = tuple(
        dataclasses.replace(entry, species=entry.species.with_(name=f"Hudsonia copy {i + 1:03d}"))
        for i in range(n_species)
    )
    return study.with_(name=f"{n_species} species", species=copies, replicates=replicates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--species", type=int, default=100)
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "results" / "report_size"))
    args = parser.parse_args()
    study = many_species_study(args.species, args.replicates)
    start = time.perf_counter()
    ds = runner.run_study(study, backend="sequential")
    ran = time.perf_counter() - start
    path = report.write_report(ds, Path(args.out) / "report.html")
    written = time.perf_counter() - start - ran
    page = path.read_text(encoding="utf-8")
    print(
        f"{args.species} species, {args.replicates} replicates: {path.stat().st_size / 1e6:.1f} MB "
        f"of HTML, {page.count('<img ')} images, {page.count('<section')} sections; "
        f"run {ran:.0f} s, report {written:.0f} s"
    )


if __name__ == "__main__":
    main()
