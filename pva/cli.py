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
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

import pva
from pva import (
    _signals,
    analysis,
    census,
    datasets,
    io,
    plots,
    redlist,
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
    lines.extend(f"note: {note}" for note in described["notes"])
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
            values = "".join(f"  {float(v[i]):>{col}.4f}" for _, v in vectors)
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
    _add_reader_jobs_option(
        p, "reduce the species in N worker processes (-1: all cores); the same table"
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the table as JSON")
    fmt.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.set_defaults(func=_cmd_summary)


def _cmd_summary(args: argparse.Namespace) -> int:
    task_map = _task_map(args.jobs)
    ds = io.open_results(args.results, lazy=True)  # read species by species
    table = summary.summary_table(
        ds,
        horizons=args.horizons,
        no_action=args.no_action,
        red_list=args.red_list,
        costs_stop_at_extinction=args.costs_stop_at_extinction,
        discount_rate=args.discount_rate,
        task_map=task_map,
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
    _add_reader_jobs_option(
        p, "assess the species and render the figures in N worker processes (-1: all cores)"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="do not list the files written")
    p.set_defaults(func=_cmd_plot)


def _add_reader_jobs_option(p: argparse.ArgumentParser, what: str) -> None:
    """``--jobs`` of a verb that reads a results file (:func:`_task_map`)."""
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help=what)


def _task_map(jobs: int) -> summary.TaskMap | None:
    """Where ``pva summary``, ``pva plot`` and ``pva report`` reduce blocks of species and render
    figures: loky workers for ``--jobs`` other than 1 (:func:`pva.runner.map_tasks`), else this
    process."""
    if runner.check_jobs(jobs) == 1:
        return None
    return functools.partial(runner.map_tasks, jobs=jobs)


def _cmd_plot(args: argparse.Namespace) -> int:
    plots.require_matplotlib()  # fails early, before reading results, when matplotlib is missing
    task_map = _task_map(args.jobs)
    ds = io.open_results(args.results, lazy=True)  # read species by species
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    paths = plots.plot_all(
        ds,
        args.out,
        formats=formats,
        dpi=args.dpi,
        red_list=args.red_list,
        task_map=task_map,
    )
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
    _add_reader_jobs_option(
        p, "assess the species and render the figures in N worker processes (-1: all cores)"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="do not print the file written")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    plots.require_matplotlib()  # fails early, before reading results, when matplotlib is missing
    task_map = _task_map(args.jobs)
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
        task_map=task_map,
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
    _add_execution_options(p, kept="tasks")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no table")
    p.set_defaults(func=_cmd_run)


def _add_execution_options(
    p: argparse.ArgumentParser,
    *,
    kept: str,
    resumes: str = "a rerun with the same study and seed",
) -> None:
    """The options of a verb that runs tasks through :mod:`pva.runner`: ``--jobs``, ``--seed``,
    ``--backend``, ``--scheduler`` and ``--checkpoint-dir`` (where finished ``kept`` are kept)."""
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
        help=f"keep finished {kept} here; {resumes} resumes",
    )


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
    if args.scheduler is None:
        # the worker processes start while the study is read, checked and compiled
        runner.start_workers(args.jobs, args.backend)
    try:
        return _run(args)
    finally:
        runner.shutdown_workers()


def _run(args: argparse.Namespace) -> int:
    study = io.read_study(args.study)
    out = args.out if args.out is not None else _default_results_path(study.name)
    # everything that can be known before simulating is checked before simulating
    need = resources.estimate(study, jobs=args.jobs, backend=args.backend, streamed=True)
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
    bar, progress = _progress_bar(f"pva run {study.name}", "task", args.quiet)
    try:  # each finished task goes into the file: this process never holds the whole study
        path = runner.run_study_to_file(
            study,
            out,
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
    except io.WriteError as exc:
        if args.checkpoint_dir is not None:
            kept_note = (
                f"the finished tasks are kept in {args.checkpoint_dir}: make room and run the "
                "same command to write the results without simulating again"
            )
        else:
            kept_note = "with --checkpoint-dir DIR, finished tasks are kept for a rerun"
        raise io.WriteError(exc.errno, f"{exc}; {kept_note}") from None
    finally:
        if bar is not None:
            bar.close()
        runner.shutdown_workers()
    if not args.quiet:  # read back species by species, as pva summary reads it
        with io.open_results(path, lazy=True) as ds:
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
    need = resources.estimate(study, streamed=True)  # what `pva run` needs
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
    _add_execution_options(p, kept="samples", resumes="a rerun of the same sweep and seed")
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
    _add_execution_options(p, kept="species")
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


def _add_assess(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "assess",
        help="Red List category of observed census data (no simulation)",
        description="Classify a census series of mature individuals under IUCN Red List criteria "
        "A to E at its last year: the category and criteria met with every input at its best "
        "value, and the plausible range of categories under the stated uncertainty (counts with "
        "low/high columns, ranges MIN,BEST,MAX of generation length, EOO, AOO, locations). "
        "Projected reductions (A3, A4) and E need a PVA (pva run) and are reported as not "
        "evaluated.",
    )
    p.add_argument(
        "census",
        metavar="CENSUS.csv",
        help="CSV with a header: year,mature (or year,low,best,high); censuses need not be annual",
    )
    p.add_argument(
        "--count-column",
        metavar="NAME",
        default=None,
        help="the column that holds the counts, if not 'mature' (e.g. N); other columns are "
        "ignored",
    )
    p.add_argument(
        "--generation-length",
        "-g",
        required=True,
        metavar="G",
        help="generation length in years, or MIN,BEST,MAX",
    )
    p.add_argument(
        "--eoo", metavar="KM2", default=None, help="extent of occurrence (km2), or MIN,BEST,MAX"
    )
    p.add_argument(
        "--aoo", metavar="KM2", default=None, help="area of occupancy (km2), or MIN,BEST,MAX"
    )
    p.add_argument(
        "--locations", metavar="N", default=None, help="number of locations, or MIN,BEST,MAX"
    )
    p.add_argument(
        "--severely-fragmented",
        action="store_true",
        help="B(a): the population is severely fragmented",
    )
    p.add_argument(
        "--plausible-threat",
        action="store_true",
        help="VU D2: a plausible threat could drive the taxon to CR or EX in a very short time",
    )
    p.add_argument(
        "--continuing-decline",
        choices=("yes", "no"),
        default=None,
        help="a continuing decline (B, C) as the assessor knows it (default: a significant "
        "log-linear trend of the census over the recent window)",
    )
    p.add_argument(
        "--criteria",
        default="A,B,C,D,E",
        metavar="LIST",
        help="criteria to evaluate, e.g. A,D (default A,B,C,D,E)",
    )
    p.add_argument(
        "--criterion-a",
        default=",".join(redlist.DEFAULT_CRITERION_A),
        metavar="LIST",
        help="sub-criteria of A, e.g. A1,A2 (default A2,A3,A4; A1 needs causes that are "
        "reversible, understood and ceased)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    p.set_defaults(func=_cmd_assess)


def _range_arg(text: str | None, field: str, kind: type = float) -> object:
    """``"5"`` -> 5.0; ``"4,5,6"`` -> (4.0, 5.0, 6.0); None stays None (ValueError naming the
    option otherwise)."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [kind(p) for p in parts]
    except ValueError:
        raise ValueError(
            f"--{field} must be a {'whole ' if kind is int else ''}number or MIN,BEST,MAX; "
            f"got {text!r}"
        ) from None
    if len(values) == 1:
        return values[0]
    if len(values) != 3:
        raise ValueError(f"--{field} must be a number or MIN,BEST,MAX; got {text!r}")
    return tuple(values)


def _cmd_assess(args: argparse.Namespace) -> int:
    census_data = io.read_census(args.census, column=args.count_column)
    criteria = tuple(c.strip() for c in args.criteria.split(",") if c.strip())
    assessment = census.assess_census(
        census_data,
        generation_length=_range_arg(args.generation_length, "generation-length"),  # type: ignore[arg-type]
        eoo=_range_arg(args.eoo, "eoo"),  # type: ignore[arg-type]
        aoo=_range_arg(args.aoo, "aoo"),  # type: ignore[arg-type]
        locations=_range_arg(args.locations, "locations", int),  # type: ignore[arg-type]
        severely_fragmented=args.severely_fragmented,
        plausible_threat=args.plausible_threat,
        continuing_decline=None
        if args.continuing_decline is None
        else args.continuing_decline == "yes",
        criterion_a=tuple(c.strip() for c in args.criterion_a.split(",") if c.strip()),  # type: ignore[arg-type]
        settings=redlist.RedListSettings(criteria=criteria),
    )
    if args.json:
        print(json.dumps({"census": args.census, **assessment.to_dict()}, indent=2))
    else:
        print("\n".join(_assess_lines(args.census, assessment)))
    return 0


def _assess_lines(source: str, a: census.ObservedAssessment) -> list[str]:
    """The table of ``pva assess``: the census, the category, its range, each sub-criterion."""
    g = a.generation_length
    g_text = f"{g[1]:g} years" + ("" if g[0] == g[2] else f" (range {g[0]:g}-{g[2]:g})")
    span = f"{a.first_year}-{a.year}" if a.first_year != a.year else str(a.year)
    lines = [
        f"census: {source} ({a.censuses} censuses, {span}; assessed at {a.year})",
        f"generation length: {g_text}",
    ]
    if a.interpolated:
        lines.append(
            f"interpolated years (exponential change between censuses): {len(a.interpolated)}"
        )
    lines.append(f"category: {a.criteria}")
    plausible = a.lower if a.lower == a.upper else f"{a.lower} to {a.upper}"
    lines.append(f"plausible range: {plausible}")
    if not a.complete:
        lines.append("(a lower bound: some criteria could not be evaluated over their windows)")
    width = max(len(name) for name, _ in a.levels)
    lines.append("")
    lines.append(f"{'criterion':<{max(width, 9)}}  level")
    lines.extend(f"{name:<{max(width, 9)}}  {level}" for name, level in a.levels)
    if a.not_evaluated:
        lines.append("")
        lines.append(f"not evaluated: {', '.join(a.not_evaluated)}")
    lines.extend(f"note: {note}" for note in a.notes)
    return lines


_VERBS.append(_add_assess)


def _add_sites(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "sites",
        help="sites shared by species: indicators and which site actions to fund under a budget",
        description="For a study with [[sites]] (a study file, which is run, or its results "
        "file): per site the trigger species still present and still threatened and the site's "
        "share of the Red List Index at the horizon, with 95%% intervals; each site action's "
        "cost and expected extinctions prevented; the set of site actions that prevents the most "
        "extinctions within --budget (exact integer programming, or the modified greedy on "
        "large problems), with its interval; and the curve of extinctions prevented against "
        "budget.",
    )
    p.add_argument(
        "study", metavar="STUDY", help="a study file (.toml, run here) or its results (.nc)"
    )
    p.add_argument(
        "--budget",
        type=float,
        required=True,
        metavar="X",
        help="money available, in the study's currency",
    )
    p.add_argument(
        "--horizon",
        type=int,
        default=None,
        metavar="YEAR",
        help="year by which extinctions are counted (default: the last year)",
    )
    p.add_argument(
        "--cost",
        action="append",
        default=[],
        metavar="ACTION=X",
        help="the cost of a site action (default: its annual_cost over the years it acts, "
        "discounted at the study's discount_rate); may be repeated",
    )
    p.add_argument(
        "--objective",
        choices=("extinctions", "delta_rli"),
        default="extinctions",
        help="what the choice maximises: extinctions prevented (default) or the gain in the Red "
        "List Index at the horizon",
    )
    p.add_argument(
        "--method",
        choices=("auto", "exact", "greedy"),
        default="auto",
        help="exact (integer programming), greedy, or auto (exact while small; default)",
    )
    p.add_argument("--no-action", metavar="SCENARIO", default=None, help="the baseline scenario")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="parallel workers")
    p.add_argument("--out", "-o", metavar="FILE", default=None, help="keep the results here")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of tables")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sites)


def _cost_args(items: Sequence[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ValueError(f"--cost must be ACTION=NUMBER; got {item!r}")
    return out


def _cmd_sites(args: argparse.Namespace) -> int:
    if Path(args.study).suffix == ".nc":
        ds = io.open_results(args.study)
    else:
        study = io.read_study(args.study)
        if not study.sites:
            raise ValueError(f"{args.study}: the study lists no [[sites]]")
        bar, progress = _progress_bar(f"pva sites {study.name}", "task", args.quiet)
        try:
            ds = runner.run_study(study, jobs=args.jobs, progress=progress)
        finally:
            if bar is not None:
                bar.close()
        if args.out is not None:
            io.write_results(ds, args.out)
    choice = summary.site_choice(
        ds,
        args.budget,
        horizon=args.horizon,
        costs=_cost_args(args.cost),
        no_action=args.no_action,
        method=args.method,
        objective=args.objective,
    )
    indicators = summary.site_indicators(ds)
    at = indicators.sel({results.YEAR: choice.problem.horizon})
    currency = summary.cost_settings(ds).currency
    if args.json:
        print(json.dumps(_plain(_sites_document(choice, at, currency)), indent=2))
    else:
        print("\n".join(_sites_lines(ds, choice, at, currency)))
    return 0


def _estimate(at: Any, name: str, site: object, scenario: object) -> list[float]:
    """[mean, lower, upper] of the site indicator ``name`` at the horizon."""
    where = {"study_site": site, results.SCENARIO: scenario}
    return [
        float(at[f"{name}{suffix}"].sel(where).values)
        for suffix in ("", results.LOWER_SUFFIX, results.UPPER_SUFFIX)
    ]


_INDICATORS = (
    ("site_trigger_present", "trigger species present"),
    ("site_trigger_threatened", "still threatened"),
    ("site_rli_contribution", "RLI contribution"),
)


def _sites_document(choice: summary.SiteChoice, at: Any, currency: str) -> dict[str, object]:
    problem = choice.problem
    scenarios = [str(s) for s in at[results.SCENARIO].values]
    sites = []
    for i, name in enumerate(at["study_site"].values):
        entry: dict[str, object] = {
            "name": str(name),
            "aze": bool(at["aze"].values[i]),
            "trigger_species": str(at["trigger_species"].values[i]).split(", "),
            "indicators": {
                sc: {key: _estimate(at, key, name, sc) for key, _ in _INDICATORS}
                for sc in scenarios
            },
        }
        sites.append(entry)
    return {
        "objective": problem.objective,
        "horizon": problem.horizon,
        "no_action": problem.no_action,
        "currency": currency,
        "budget": choice.choice.budget,
        "choice": choice.choice.to_dict(),
        "options": [
            {"name": o.name, "site": problem.sites[o.name], "cost": o.cost}
            for o in problem.portfolio.options
        ],
        "singles": [c.to_dict() for c in choice.singles],
        "curve": [c.to_dict() for c in choice.curve],
        "sites": sites,
        "notes": list(problem.notes),
    }


def _interval(mean: float, lo: float, hi: float, digits: int = 2) -> str:
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _sites_lines(ds: Any, choice: summary.SiteChoice, at: Any, currency: str) -> list[str]:
    problem = choice.problem

    def money(value: float) -> str:
        return summary.money(value, currency)

    reps = int(ds.sizes[results.REPLICATE])
    gain = "extinctions prevented" if problem.objective == "extinctions" else "ΔRLI"
    digits = 2 if problem.objective == "extinctions" else 4
    counted = "by" if problem.objective == "extinctions" else "in"
    lines = [
        f"{gain} {counted} year {problem.horizon} against {problem.no_action!r}, "
        f"{reps} paired replicates",
        "",
        f"site indicators at year {problem.horizon} (mean [95% interval])",
    ]
    rows = [["site", "scenario", *(label for _, label in _INDICATORS)]]
    for i, name in enumerate(at["study_site"].values):
        tag = f"{name} (AZE)" if bool(at["aze"].values[i]) else str(name)
        for sc in at[results.SCENARIO].values:
            cells = [
                _interval(
                    *_estimate(at, key, name, sc),
                    digits=3 if key == "site_rli_contribution" else 2,
                )
                for key, _ in _INDICATORS
            ]
            rows.append([tag, str(sc), *cells])
            tag = ""
    lines.extend(_aligned(rows))
    lines += ["", "site actions"]
    rows = [["action", "site", "cost", f"{gain} alone"]]
    singles = {c.options[0]: c for c in choice.singles}
    for o in problem.portfolio.options:
        alone = singles.get(o.name)
        rows.append(
            [
                o.name,
                problem.sites[o.name],
                money(o.cost),
                "not simulated alone"
                if alone is None
                else _interval(alone.expected, *alone.ci, digits=digits),
            ]
        )
    lines.extend(_aligned(rows))
    c = choice.choice
    chosen = ", ".join(c.options) if c.options else "nothing"
    lines += [
        "",
        f"budget {money(c.budget)}: fund {chosen} (cost {money(c.cost)}): "
        f"{_interval(c.expected, *c.ci, digits=digits)} {gain} ({c.method})",
        "",
        f"{gain} against budget",
    ]
    rows = [["budget", "best set", gain]]
    for point in choice.curve:
        rows.append(
            [
                money(point.budget),
                ", ".join(point.options) or "(none)",
                _interval(point.expected, *point.ci, digits=digits),
            ]
        )
    lines.extend(_aligned(rows))
    lines.extend(f"note: {note}" for note in problem.notes)
    lines.append(
        "note: the best of many estimated sets is biased upwards (winner's curse); its interval "
        "is that of the set, not of the search"
    )
    return lines


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


_VERBS.append(_add_sites)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
