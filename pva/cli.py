"""The ``pva`` command: argument parsing and printing only; the work is done by the library.

Every verb is a small function ``_cmd_<verb>(args) -> int``: parse, read through :mod:`pva.io`,
compute with the library (:mod:`pva.runner`, :mod:`pva.summary`, :mod:`pva.plots`,
:mod:`pva.report`, :mod:`pva.analysis`), write through :mod:`pva.io` or print.

:func:`main` is the one error path. Errors a user can fix (bad files, bad values, a run that cannot
fit, a disk that is full) are printed as one line on stderr, ``pva <verb>: error: ...``, and exit
with status 2, without a traceback; warnings are one line each, ``pva <verb>: warning: ...``.
Ctrl-C ends with ``pva <verb>: interrupted`` and status 130, SIGTERM with ``terminated`` and 143;
temporary files are removed and worker processes stopped on the way out. An unexpected exception
(a bug) is one line with status 70; ``PVA_TRACEBACK=1`` shows its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

import pva
from pva import (
    _signals,
    analysis,
    datasets,
    io,
    plots,
    report,
    resources,
    results,
    runner,
    sensitivity,
    success,
    summary,
)
from pva.errors import PVAWarning, TerminatedError

if TYPE_CHECKING:
    import xarray as xr

_LONGEST_LINE = 1_000
"""Longest message printed (the middle of a longer one, e.g. a huge value, is left out)."""


def _one_line(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split())
    if len(text) > _LONGEST_LINE:
        text = f"{text[:700]} [... {len(text) - 950:,} characters ...] {text[-250:]}"
    return text or type(exc).__name__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pva`` command (all verbs)."""
    parser = argparse.ArgumentParser(
        prog="pva",
        description="Stochastic population viability analysis: extinction risk, Red List "
        "categories and the Red List Index under threats and interventions.",
    )
    parser.add_argument("--version", action="version", version=f"pva {pva.__version__}")
    verbs = parser.add_subparsers(title="verbs", dest="verb", metavar="VERB")
    for register in _VERBS:
        register(verbs)
    return parser


EXIT_USAGE = 2
"""Exit status of a user's error (bad file, bad value, a run that cannot fit, a full disk)."""
EXIT_BUG = 70
"""Exit status of an unexpected exception (EX_SOFTWARE)."""
EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT)."""
EXIT_TERMINATED = 143
"""Exit status after SIGTERM (128 + SIGTERM)."""


@contextmanager
def _warnings_as_lines(verb: str) -> Iterator[None]:
    """Print each warning as one line on stderr, ``<verb>: warning: ...``, as it is raised, each
    text once (a study validated twice warns twice)."""
    shown: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *args: object, **kw: object) -> None:
        text = _one_line(str(message))
        if text not in shown:
            shown.add(text)
            print(f"{verb}: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", PVAWarning)
        warnings.showwarning = show  # type: ignore[assignment]
        yield


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """:func:`build_parser`, built once (parsing does not change it; building takes milliseconds,
    which add up over the thousands of in-process calls of the fuzz tests)."""
    return build_parser()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pva`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Every failure ends here in one line on stderr (see the module docstring): status 2 for a user's
    error, 130 after Ctrl-C, 143 after SIGTERM, 70 for a bug.
    """
    _signals.terminate_as_exception()
    verb = "pva"
    try:
        parser = _parser()
        args = parser.parse_args(argv)
        verb = f"pva {args.verb}" if getattr(args, "verb", None) else "pva"
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 0
        with _warnings_as_lines(verb):
            status: int = args.func(args)
        return status
    except KeyboardInterrupt as exc:
        note = f" ({_one_line(exc)})" if str(exc) else ""
        print(f"{verb}: interrupted{note}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TerminatedError as exc:
        print(f"{verb}: {_one_line(exc)}", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:  # the reader of stdout went away (`pva summary ... | head`)
        io.discard_stdout()
        return 0
    except MemoryError as exc:
        print(f"{verb}: error: out of memory ({_one_line(exc)})", file=sys.stderr)
        return EXIT_USAGE
    # ImportError: an optional dependency (dask for pva[dask], SALib for pva[sensitivity]) is missing
    except (ValueError, TypeError, OSError, ImportError) as exc:
        print(f"{verb}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if os.environ.get("PVA_TRACEBACK"):
            raise
        print(
            f"{verb}: internal error: {type(exc).__name__}: {_one_line(exc)} (a bug in pva; "
            "please report it with the command and its files; PVA_TRACEBACK=1 shows the "
            "traceback)",
            file=sys.stderr,
        )
        return EXIT_BUG


# Each entry adds one verb to the sub-parsers. Verbs are appended below their implementation.
_VERBS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = []

# ---------------------------------------------------------------------------------------------------
# verbs (add new verbs below this line, each as `def _add_<verb>(verbs)` + `_cmd_<verb>(args)` and
# `_VERBS.append(_add_<verb>)`)
# ---------------------------------------------------------------------------------------------------


def _add_analyse(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "analyse",
        help="deterministic analysis of a projection matrix (lambda, R0, sensitivities)",
        description="Print lambda, damping ratio, R0, generation time, generation length, the "
        "stable stage distribution, reproductive values, and the sensitivity and elasticity "
        "matrices of a projection matrix (Caswell 2001).",
    )
    p.add_argument(
        "matrix",
        metavar="MATRIX",
        help="a CSV file (popbio layout or plain numbers), a COMPADRE/COMADRE id such as "
        "compadre_Nov_22_2017_row4910 (or a MatrixID of a release named with --compadre), or a "
        "popbio data set shipped with pva such as whale or hudsonia:A85",
    )
    p.add_argument(
        "--compadre",
        metavar="FILE",
        action="append",
        help="a COMPADRE/COMADRE release file (.RData from compadre-db.org) to look MATRIX up in; "
        "may be repeated (also: $PVA_COMPADRE)",
    )
    p.add_argument(
        "--fecundity-rows",
        metavar="ROWS",
        default=None,
        help="comma-separated 0-based rows of MATRIX that hold reproduction (e.g. 0), to split a "
        "plain matrix into U and F",
    )
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    p.set_defaults(func=_cmd_analyse)


_ANALYSE_SCALARS = (
    ("lambda", "lambda (dominant eigenvalue)"),
    ("damping_ratio", "damping ratio"),
    ("net_reproductive_rate", "net reproductive rate R0"),
    ("generation_time", "generation time log(R0)/log(lambda)"),
    ("generation_length", "generation length (mean age of parents)"),
)
_ANALYSE_VECTORS = (
    ("stable_stage", "stable stage"),
    ("reproductive_value", "reproductive value"),
)
_ANALYSE_MATRICES = (("sensitivity", "sensitivity"), ("elasticity", "elasticity"))
_ANALYSE_COLUMN = 12
"""Stage names longer than this head matrix columns by number (the rows keep the full names)."""


def _cmd_analyse(args: argparse.Namespace) -> int:
    if Path(args.matrix).is_file():
        data = io.read_matrix_csv(args.matrix)
    else:  # a COMPADRE/COMADRE id or a shipped data set; the error says what is accepted
        data = datasets.load_matrix(args.matrix, release=args.compadre)
    U, F = data.U, data.F
    if args.fecundity_rows is not None:
        try:
            rows = [int(r) for r in args.fecundity_rows.split(",") if r.strip()]
        except ValueError:
            raise ValueError(
                f"--fecundity-rows must be comma-separated row numbers; got {args.fecundity_rows!r}"
            ) from None
        U, F, _ = analysis.split_matrix(data.A, reproduction_rows=rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PVAWarning)
        described = analysis.describe(data.A, U, F)
    for w in caught:
        print(f"pva analyse: warning: {_one_line(w.message)}", file=sys.stderr)
    stages = [str(s) for s in data.stages]
    if args.json:
        print(json.dumps(_analyse_document(data.name, stages, described), indent=2))
    else:
        print("\n".join(_analyse_lines(data.name, stages, described)))
    return 0


def _plain(x: object) -> object:
    """numpy arrays as lists, non-finite floats as None (JSON has no NaN)."""
    if isinstance(x, np.ndarray):
        return [_plain(v) for v in x.tolist()]
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def _analyse_document(
    name: str, stages: list[str], described: dict[str, object]
) -> dict[str, object]:
    """``pva analyse --json``: the scalars, the vectors by stage and the matrices as rows (stage
    at t+1) of columns (stage at t)."""
    doc: dict[str, object] = {"matrix": name, "stages": stages}
    doc.update({k: _plain(described[k]) for k, _ in _ANALYSE_SCALARS})
    doc.update({k: _plain(described[k]) for k, _ in _ANALYSE_VECTORS})
    doc.update({k: _plain(described[k]) for k, _ in _ANALYSE_MATRICES})
    doc["notes"] = described["notes"]
    return doc


def _analyse_lines(name: str, stages: list[str], described: dict[str, object]) -> list[str]:
    """The table of ``pva analyse``: scalars, then per stage the stable stage distribution and
    reproductive values, then the sensitivity and elasticity matrices, with full stage names."""
    width = max(len(label) for _, label in _ANALYSE_SCALARS)
    lines = [f"matrix: {name} ({len(stages)} stages)"]
    for key, label in _ANALYSE_SCALARS:
        value = described[key]
        shown = "n/a" if value is None else f"{value:.6g}"
        lines.append(f"{label:<{width}}  {shown}")
    lines.extend(f"note: {note}" for note in described["notes"])  # type: ignore[attr-defined]
    # rows carry the full names; long names head the matrix columns by their number (#)
    numbered = max(len(s) for s in stages) > _ANALYSE_COLUMN
    rows = [f"{i + 1} {s}" if numbered else s for i, s in enumerate(stages)]
    heads = [str(i + 1) for i in range(len(stages))] if numbered else stages
    name_width = max(5, *(len(s) for s in rows))
    vectors = [
        (label, described[key]) for key, label in _ANALYSE_VECTORS if described[key] is not None
    ]
    if vectors:
        col = max(len(label) for label, _ in vectors)
        head = "# stage" if numbered else "stage"
        lines.append("")
        lines.append(f"{head:<{name_width}}" + "".join(f"  {label:>{col}}" for label, _ in vectors))
        for i, stage in enumerate(rows):
            values = "".join(f"  {float(v[i]):>{col}.4f}" for _, v in vectors)  # type: ignore[index]
            lines.append(f"{stage:<{name_width}}{values}")
    col = max(_ANALYSE_COLUMN - 2, *(len(s) for s in heads))
    for key, label in _ANALYSE_MATRICES:
        M = described[key]
        if M is None:
            continue
        lines.append("")
        columns = "columns = stage at t, by number" if numbered else "columns = stage at t"
        lines.append(f"{label} (rows = stage at t+1, {columns})")
        lines.append(" " * name_width + "".join(f"  {s:>{col}}" for s in heads))
        for stage, row in zip(rows, M, strict=True):  # type: ignore[call-overload]
            lines.append(f"{stage:<{name_width}}" + "".join(f"  {v:>{col}.4f}" for v in row))
    return lines


_VERBS.append(_add_analyse)


def _horizons_arg(text: str) -> list[int | str]:
    """``"10,20,50"`` (or with ``final``) as a list of horizons for :func:`pva.summary.summary_table`."""
    out: list[int | str] = []
    for part in text.split(","):
        part = part.strip()
        if part == "final":
            out.append(part)
            continue
        try:
            year = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"horizons must be comma-separated years or 'final', e.g. 10,20,50; got {text!r}"
            ) from None
        if year < 0:
            raise argparse.ArgumentTypeError(f"horizons must be years >= 0; got {year!r}")
        out.append(year)
    return out


def _add_results_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", metavar="RESULTS", help="a results file written by `pva run` (.nc)")
    p.add_argument(
        "--no-action",
        metavar="SCENARIO",
        default=None,
        help="the scenario others are compared with (default: the study's no_action, else the "
        "scenario named 'no action', else the first)",
    )
    p.add_argument(
        "--no-red-list",
        dest="red_list",
        action="store_false",
        help="leave out the Red List assessment (categories, RLI, extinctions prevented)",
    )


def _add_horizons_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--horizons",
        type=_horizons_arg,
        default=None,
        metavar="YEARS",
        help="comma-separated years (and 'final') for P(extinction); default the study's "
        "outputs.horizons and the final year, else 10,20,50,final",
    )


def _add_summary(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "summary",
        help="table per species x scenario: risk, abundance, sites, costs, Red List, RLI",
        description="Print, per species and scenario, the species' risk measure (its "
        "quasi-extinction threshold) and absolute extinction at chosen horizons with 95%% "
        "intervals, median final and expected minimum abundance (mature individuals for species "
        "with mature stages), per-site risk and occupancy, the Red List category distribution and "
        "the most likely category at each horizon (with what could not be evaluated there) and "
        "expected costs, and for all species the Red List Index and ΔRLI at each horizon, "
        "extinctions prevented and cost-effectiveness against no action, with single "
        "interventions ranked.",
    )
    _add_results_options(p)
    _add_horizons_option(p)
    p.add_argument(
        "--costs-to-horizon",
        dest="costs_stop_at_extinction",
        action="store_const",
        const=False,
        default=None,
        help="count intervention costs to the horizon even after a species is extinct (default: "
        "the study's outputs.costs_stop_at_extinction, true unless set)",
    )
    p.add_argument(
        "--discount-rate",
        type=float,
        default=None,
        metavar="RATE",
        help="annual discount rate of costs, e.g. 0.03 (default: the study's "
        "outputs.discount_rate, else 0)",
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the table as JSON")
    fmt.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.set_defaults(func=_cmd_summary)


def _cmd_summary(args: argparse.Namespace) -> int:
    ds = io.open_results(args.results, lazy=True)  # read species by species
    table = summary.summary_table(
        ds,
        horizons=args.horizons,
        no_action=args.no_action,
        red_list=args.red_list,
        costs_stop_at_extinction=args.costs_stop_at_extinction,
        discount_rate=args.discount_rate,
    )
    if args.json:
        print(summary.table_to_json(table))
    else:
        print(summary.format_table(table, style="markdown" if args.markdown else "text"), end="")
    return 0


_VERBS.append(_add_summary)


def _add_plot(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "plot",
        help="write the figures of a results file (PNG, optionally SVG/PDF)",
        description="Write extinction CDFs, fan charts of trajectories, the intervention "
        "comparison, Red List categories by year, category transitions, the Red List Index and "
        "extinctions prevented as image files into a folder.",
    )
    _add_results_options(p)
    p.add_argument("--out", "-o", metavar="DIR", required=True, help="folder for the figures")
    p.add_argument(
        "--format",
        dest="formats",
        default="png",
        metavar="FMT",
        help="comma-separated image formats among png, svg, pdf (default png)",
    )
    p.add_argument("--dpi", type=int, default=120, help="resolution of PNG figures (default 120)")
    p.add_argument("--quiet", "-q", action="store_true", help="do not list the files written")
    p.set_defaults(func=_cmd_plot)


def _cmd_plot(args: argparse.Namespace) -> int:
    plots.require_matplotlib()  # fails early, before reading results, when matplotlib is missing
    ds = io.open_results(args.results, lazy=True)  # read species by species
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    paths = plots.plot_all(ds, args.out, formats=formats, dpi=args.dpi, red_list=args.red_list)
    if not args.quiet:
        for path in paths:
            print(path)
    return 0


_VERBS.append(_add_plot)


def _add_report(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "report",
        help="write a self-contained HTML report of a results file",
        description="Write one HTML page with everything embedded (figures, tables, the study's "
        "assumptions) that can be opened offline and forwarded.",
    )
    _add_results_options(p)
    p.add_argument("--out", "-o", metavar="FILE", required=True, help="the HTML file to write")
    p.add_argument("--title", default=None, help="page title (default: the study's name)")
    _add_horizons_option(p)
    p.add_argument("--svg", action="store_true", help="inline figures as SVG instead of PNG")
    p.add_argument(
        "--fan-scale",
        choices=("auto", "log", "linear"),
        default="auto",
        help="abundance axis of fan charts (default auto: logarithmic when the 95%% band exceeds "
        "100 individuals)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="do not print the file written")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    plots.require_matplotlib()  # fails early, before reading results, when matplotlib is missing
    ds = io.open_results(args.results, lazy=True)  # read species by species
    path = report.write_report(
        ds,
        args.out,
        title=args.title,
        horizons=args.horizons,
        no_action=args.no_action,
        red_list=args.red_list,
        figure_format="svg" if args.svg else "png",
        source=Path(args.results).name,
        log_scale={"auto": None, "log": True, "linear": False}[args.fan_scale],
    )
    if not args.quiet:
        print(path)
    return 0


_VERBS.append(_add_report)


def _add_run(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "run",
        help="run a study file: every species x scenario x replicate",
        description="Run the study described by a TOML study file (docs/study-file.md) and write "
        "the trajectories of mature and total abundance to a NetCDF file. Results are identical "
        "for any --jobs and --backend.",
    )
    p.add_argument("study", metavar="STUDY.toml", help="the study file")
    p.add_argument(
        "--out",
        "-o",
        metavar="FILE",
        default=None,
        help="results file (default results/<study name>.nc)",
    )
    p.add_argument(
        "--jobs", "-j", type=int, default=1, metavar="N", help="parallel workers (-1: all cores)"
    )
    p.add_argument(
        "--seed", type=int, default=None, metavar="S", help="root seed (default: the study's seed)"
    )
    p.add_argument(
        "--backend",
        choices=("loky", "threading", "sequential", "dask"),
        default="loky",
        help="joblib backend (default loky; dask uses the current dask.distributed client or a "
        "local cluster of N workers)",
    )
    p.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        default=None,
        help="keep finished tasks here; a rerun with the same study and seed resumes",
    )
    _add_scheduler_option(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no table")
    p.set_defaults(func=_cmd_run)


def _add_scheduler_option(p: argparse.ArgumentParser) -> None:
    """``--scheduler``: run the tasks on a running dask.distributed cluster (docs/cluster.md)."""
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run the tasks on a running dask.distributed cluster: its scheduler's address "
        "(tcp://HOST:PORT) or scheduler file (.json), instead of --jobs/--backend; the same "
        "numbers (see docs/cluster.md)",
    )


def _progress_bar(
    label: str, unit: str, quiet: bool
) -> tuple[tqdm | None, Callable[[int, int], None] | None]:
    """A tqdm bar on stderr (when it is a terminal and not ``quiet``) and the runner's
    ``progress(done, total)`` callback that moves it."""
    if quiet or not sys.stderr.isatty():
        return None, None
    bar = tqdm(total=None, desc=label, unit=unit, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, progress


def _default_results_path(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "study"
    return f"results/{safe}.nc"


def _cmd_run(args: argparse.Namespace) -> int:
    study = io.read_study(args.study)
    out = args.out if args.out is not None else _default_results_path(study.name)
    # everything that can be known before simulating is checked before simulating
    need = resources.estimate(study, jobs=args.jobs, backend=args.backend)
    resources.require_memory(need, where=f"{args.study}: [study]")
    io.check_output(out, needed=need.results_file)
    if args.checkpoint_dir is not None:
        kept = sum(f.stat().st_size for f in Path(args.checkpoint_dir).glob("task-*.npz"))
        io.check_output(
            args.checkpoint_dir,
            folder=True,
            needed=max(need.checkpoints - kept, 0),
            what="checkpoints",
        )
    bar = None
    progress = None
    if not args.quiet and sys.stderr.isatty():
        # the runner reports the number of tasks with its first call
        bar = tqdm(total=None, desc=f"pva run {study.name}", unit="task", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

    try:
        ds = runner.run_study(
            study,
            jobs=args.jobs,
            backend=args.backend,
            progress=progress,
            checkpoint_dir=args.checkpoint_dir,
            seed=args.seed,
            scheduler=args.scheduler,
        )
    except KeyboardInterrupt:
        if args.checkpoint_dir is not None:
            raise KeyboardInterrupt(
                f"finished tasks are kept in {args.checkpoint_dir}: the same command resumes"
            ) from None
        raise
    finally:
        if bar is not None:
            bar.close()
        runner.shutdown_workers()
    try:
        path = io.write_results(ds, out)
    except io.WriteError as exc:
        if args.checkpoint_dir is not None:
            kept_note = (
                f"the finished tasks are kept in {args.checkpoint_dir}: make room and run the "
                "same command to write the results without simulating again"
            )
        else:
            kept_note = "with --checkpoint-dir DIR, finished tasks are kept for a rerun"
        raise io.WriteError(exc.errno, f"{exc}; {kept_note}") from None
    if not args.quiet:
        print(summary.format_run_overview(summary.run_overview(ds)))
        print(f"seed entropy: {results.provenance(ds).seed_entropy}")
    print(f"results written to {path}")
    return 0


_VERBS.append(_add_run)


def _add_validate(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "validate",
        help="check a study file without running it",
        description="Read and validate a study file (docs/study-file.md): every key, value and "
        "reference, the paths and ranges of its [sweep] and [uncertainty] tables, and whether a "
        "run fits in the memory available. Prints 'ok: N species, M scenarios' with the memory "
        "and rough time a run needs, or the one-line error (exit 2).",
    )
    p.add_argument("study", metavar="STUDY.toml", help="the study file")
    p.set_defaults(func=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    found = io.read_sweep(args.study)  # the study, and its [sweep] / [uncertainty] tables if any
    study = found.study
    need = resources.estimate(study)
    resources.require_memory(need, where=f"{args.study}: [study]")
    tables = []
    for label, settings in (("[sweep]", found.sweep), ("[uncertainty]", found.uncertainty)):
        if settings is None:
            continue
        try:  # paths that lead to numbers, ranges the study accepts
            sensitivity.factors(study, settings.parameters)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{args.study}: {label}: {exc}") from None
        tables.append(f"; {label} {len(settings.parameters)} parameters")
    print(
        f"ok: {len(study.species)} species, {len(study.scenarios)} scenarios"
        f"{''.join(tables)}; {resources.summary(need)}"
    )
    return 0


_VERBS.append(_add_validate)


def _add_sweep(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "sweep",
        help="run a study over a design of parameter values, or with parameter uncertainty",
        description="Run the study at every sample of a design over any of its numbers, addressed "
        'by dotted paths (species."Hudsonia montana".carrying_capacity, threats.poaching.proportion, '
        "study.years ...), with common random numbers across samples, and write one results file "
        "with a `sample` dimension: per sample what `pva summary` reports, and the design's "
        "sensitivity indices (sobol: Sobol' indices; morris: elementary effects; lhs: partial rank "
        "correlations). Without --set the study file's [sweep] table is used, or, without one, its "
        "[uncertainty] table: parameters drawn once per block of replicates, the risk's variance "
        "split into parameter and process parts and the Red List category's plausible range. "
        "Results are identical for any --jobs, --backend and --scheduler.",
    )
    p.add_argument("study", metavar="STUDY", help="the study file (docs/study-file.md)")
    p.add_argument(
        "--set",
        dest="settings",
        metavar="PATH=LOW:HIGH[:N]",
        action="append",
        default=None,
        help="a parameter and its range (N points for grid and oat designs, default 5); may be "
        "repeated; replaces the study's [sweep] parameters",
    )
    p.add_argument(
        "--design",
        choices=("grid", "oat", "lhs", "sobol", "morris"),
        default=None,
        help="grid (every combination), oat (one at a time around the study's values), lhs "
        "(Latin hypercube), sobol (Saltelli's design for Sobol' indices), morris (elementary "
        "effects); default the [sweep] table's, else grid",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=None,
        metavar="N",
        help="lhs: points (default 100); sobol: base samples N, a power of 2, N (2D + 2) runs "
        "(default 64); morris: trajectories, r (D + 1) runs (default 10)",
    )
    p.add_argument(
        "--levels", type=int, default=None, metavar="L", help="morris grid levels (default 4)"
    )
    p.add_argument(
        "--uncertainty",
        action="store_true",
        help="run the study's [uncertainty] table even when it also has a [sweep] table",
    )
    p.add_argument(
        "--out",
        "-o",
        metavar="FILE",
        default=None,
        help="results file (default results/<study name>_sweep.nc or _uncertainty.nc)",
    )
    p.add_argument(
        "--jobs", "-j", type=int, default=1, metavar="N", help="parallel workers (-1: all cores)"
    )
    p.add_argument(
        "--seed", type=int, default=None, metavar="S", help="root seed (default: the study's seed)"
    )
    p.add_argument(
        "--backend",
        choices=("loky", "threading", "sequential", "dask"),
        default="loky",
        help="joblib backend (default loky; dask uses the current dask.distributed client or a "
        "local cluster of N workers)",
    )
    _add_scheduler_option(p)
    p.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        default=None,
        help="keep finished samples here; a rerun of the same sweep and seed resumes",
    )
    p.add_argument(
        "--no-replicate-outcomes",
        dest="replicate_outcomes",
        action="store_false",
        default=None,
        help="do not keep each replicate's outcome per sample (smaller files; no paired "
        "comparisons between samples)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no tables")
    p.set_defaults(func=_cmd_sweep)


def _sweep_settings(
    args: argparse.Namespace, table: sensitivity.SweepSettings | None
) -> sensitivity.SweepSettings:
    """The sweep the command line asks for: --set replaces the table's parameters, --design,
    --samples, --levels and --no-replicate-outcomes override its keys."""
    changes: dict[str, object] = {
        key: value
        for key, value in (
            ("design", args.design),
            ("samples", args.samples),
            ("levels", args.levels),
            ("replicate_outcomes", args.replicate_outcomes),
        )
        if value is not None
    }
    if args.settings:
        changes["parameters"] = tuple(sensitivity.parse_setting(s) for s in args.settings)
        if (
            table is not None
            and "samples" not in changes
            and changes.get("design", table.design) != table.design
        ):
            changes["samples"] = None
    elif table is None:
        raise ValueError(
            "nothing to sweep: give --set PATH=LOW:HIGH[:N] or a [sweep] (or [uncertainty]) table "
            "in the study file"
        )
    if table is None:
        return sensitivity.SweepSettings(**changes)  # type: ignore[arg-type]
    return dataclasses.replace(table, **changes)


def _cmd_sweep(args: argparse.Namespace) -> int:
    found = io.read_sweep(args.study)
    study = found.study
    uncertain = found.uncertainty is not None and (
        args.uncertainty or (found.sweep is None and not args.settings)
    )
    if args.uncertainty and found.uncertainty is None:
        raise ValueError(f"{args.study}: --uncertainty needs an [uncertainty] table")
    settings = None if uncertain else _sweep_settings(args, found.sweep)
    kind = "uncertainty" if uncertain else "sweep"
    out = args.out
    if out is None:
        out = _default_results_path(study.name)[: -len(".nc")] + f"_{kind}.nc"
    io.check_output(out)
    unit = "draw" if uncertain else "sample"
    bar, progress = _progress_bar(f"pva sweep {study.name}", unit, args.quiet)
    options = {
        "jobs": args.jobs,
        "backend": args.backend,
        "scheduler": args.scheduler,
        "progress": progress,
        "checkpoint_dir": args.checkpoint_dir,
        "seed": args.seed,
    }
    try:
        if uncertain:
            ds = sensitivity.run_uncertainty(study, found.uncertainty, **options)
        else:
            ds = sensitivity.sweep(study, settings, **options)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        if args.checkpoint_dir is not None:
            raise KeyboardInterrupt(
                f"finished {unit}s are kept in {args.checkpoint_dir}: the same command resumes"
            ) from None
        raise
    finally:
        if bar is not None:
            bar.close()
        runner.shutdown_workers()
    path = io.write_results(ds, out)
    if not args.quiet:
        _print_sweep(ds)
        print(f"seed entropy: {results.provenance(ds).seed_entropy}")
    print(f"results written to {path}")
    return 0


def _print_sweep(ds: xr.Dataset) -> None:
    """The parameters and sensitivity indices of a sweep, or the variance split and category range
    of a run with parameter uncertainty."""
    if summary.sweep.has_uncertainty(ds):
        print(
            f"parameter uncertainty: {ds.sizes[results.DRAW]} draws x "
            f"{ds.sizes[results.REPLICATE] // ds.sizes[results.DRAW]} replicates"
        )
        print(summary.render_rows(*summary.sweep.uncertainty_rows(ds), "text", align="left"))
        header, rows = summary.sweep.category_range_rows(ds)
        if rows:
            print("\nRed List category over the parameter draws")
            print(summary.render_rows(header, rows, "text", align="left"))
        return
    table = summary.summary_table(ds)
    print(summary.render_rows(*summary.sweep.parameter_rows(table), "text", align="left"))
    final = int(table.attrs["final_year"])
    for sp in results.names_of(table, results.SPECIES):
        for sc in results.names_of(table, results.SCENARIO):
            header, rows = summary.sweep.index_rows(table, sp, sc, final)
            if rows:
                label = summary.sweep.risk_label(table, sp, final)
                print(f"\n{sp} — {sc}: sensitivity of {label}")
                print(summary.render_rows(header, rows, "text", align="left"))
    print(
        f"\n{table.attrs['design']} design: {table.attrs['samples']} samples x "
        f"{table.attrs['n_replicates']} replicates; per-sample table: pva summary FILE"
    )


_VERBS.append(_add_sweep)


def _add_success(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "success",
        help="success factors across species x intervention designs (GSAP action 4.7)",
        description="Run every species of a study under no action and under each other scenario "
        "(a design), pair each design with no action replicate by replicate (extinctions "
        "prevented, extinction avoided, downlisting, contribution to ΔRLI, Green Score gained), "
        "fit the outcomes on the factors (life history, initial size, threat intensity, "
        "intervention type, start, duration, effort, cost) with species-clustered errors and a "
        "bootstrap over species, and rank intervention types per currency unit. Writes the "
        "outcomes and the analysis to one NetCDF file. The factors found are conditional on the "
        "study's threat and cost rules.",
    )
    p.add_argument(
        "study", metavar="STUDY.toml", help="the study file (e.g. scenarios/success_portfolio.toml)"
    )
    p.add_argument(
        "--out",
        "-o",
        metavar="FILE",
        default=None,
        help="results file (default results/<study name>-success.nc)",
    )
    p.add_argument(
        "--jobs", "-j", type=int, default=1, metavar="N", help="parallel workers (-1: all cores)"
    )
    p.add_argument(
        "--backend",
        choices=("loky", "threading", "sequential", "dask"),
        default="loky",
        help="joblib backend (default loky)",
    )
    _add_scheduler_option(p)
    p.add_argument(
        "--seed", type=int, default=None, metavar="S", help="root seed (default: the study's seed)"
    )
    p.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        default=None,
        help="keep finished species here; a rerun with the same study and seed resumes",
    )
    p.add_argument(
        "--horizon",
        type=int,
        default=None,
        metavar="YEARS",
        help="year at which outcomes are read (default: the study's last year)",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=500,
        metavar="B",
        help="bootstrap samples over species for the intervals (default 500)",
    )
    p.add_argument("--report", metavar="FILE", default=None, help="also write an HTML page")
    p.add_argument(
        "--figures", metavar="DIR", default=None, help="also write the figures (PNG) here"
    )
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no tables")
    p.set_defaults(func=_cmd_success)


def _cmd_success(args: argparse.Namespace) -> int:
    if args.bootstrap < 0:
        raise ValueError(f"--bootstrap must be >= 0; got {args.bootstrap!r}")
    study = io.read_study(args.study)
    out = args.out or _default_results_path(f"{study.name}-success")
    bar, progress = _progress_bar(f"pva success {study.name}", "species", args.quiet)
    try:
        outcomes = success.run_success(
            study,
            horizon=args.horizon,
            jobs=args.jobs,
            backend=args.backend,
            scheduler=args.scheduler,
            checkpoint_dir=args.checkpoint_dir,
            seed=args.seed,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    entropy = int(outcomes.attrs[results.ATTR_SEED_ENTROPY])
    analysis = success.analyse(outcomes, bootstrap=args.bootstrap, seed=entropy)
    path = io.write_results(success.analysis.with_analysis(outcomes, analysis), out)
    if args.figures is not None:
        plots.require_matplotlib()
        written = plots.write_success_figures(analysis, args.figures)
        if not args.quiet:
            print(f"{len(written)} figures written to {args.figures}")
    if args.report is not None:
        report.write_success_report(outcomes, analysis, args.report)
        if not args.quiet:
            print(f"report written to {args.report}")
    if not args.quiet:
        print(
            success.tables.format_success(
                outcomes, analysis, style="markdown" if args.markdown else "text"
            ),
            end="",
        )
        print(f"seed entropy: {entropy}")
    print(f"results written to {path}")
    return 0


_VERBS.append(_add_success)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
