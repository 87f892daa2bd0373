"""``python -m pva`` and the ``pva`` command's entry point.

Deliberately light: it imports nothing heavy before it can catch Ctrl-C, so that an interrupt while
numpy, scipy and xarray load (the first second or two) ends with one line and status 130, not a
traceback. The command itself is :func:`pva.cli.main`. A parallel ``pva run`` starts its worker
processes before the command loads (:func:`main`), and so do ``pva summary``, ``pva plot`` and
``pva report`` that reduce species and render figures in several (``--jobs``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


class _Lookahead(argparse.ArgumentParser):
    """A parser that raises instead of printing usage and exiting: a look ahead must stay silent
    (the command's own parser reports the errors)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(message)


WORKER_IMPORTS = {
    "run": (),
    "summary": ("pva.summary",),
    "plot": ("pva.plots",),
    "report": ("pva.report",),
}
"""The commands that start loky worker processes, with what their workers import first
(:func:`pva.runner.start_workers`; none: the engine)."""


def parallel_run_jobs(argv: Sequence[str]) -> int | None:
    """The ``--jobs`` of a ``pva run``, ``summary``, ``plot`` or ``report`` that will start loky worker
    processes (``--jobs`` other than 1, ``--backend loky``, no ``--scheduler``), read ahead of the
    command's parser; None for any other command, or one this look ahead cannot read."""
    if not argv or argv[0] not in WORKER_IMPORTS:
        return None
    lookahead = _Lookahead(add_help=False)
    lookahead.add_argument("--jobs", "-j", type=int, default=1)
    lookahead.add_argument("--backend", default="loky")
    lookahead.add_argument("--scheduler", default=None)
    try:
        known, _ = lookahead.parse_known_args(list(argv[1:]))
    except ValueError:
        return None
    if known.jobs in (0, 1) or known.backend != "loky" or known.scheduler is not None:
        return None
    return int(known.jobs)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pva`` command (:func:`pva.cli.main`); Ctrl-C while it loads gives status 130.

    A parallel ``pva run``, ``summary``, ``plot`` or ``report`` (:func:`parallel_run_jobs`) starts
    its worker processes first
    (:func:`pva.runner.start_workers`), so that they start while the command loads (a second or
    two of imports on one core) instead of after it.
    """
    started = False
    try:
        from pva import _signals

        _signals.terminate_as_exception()
        _signals.pause_point("start")
        words = list(sys.argv[1:] if argv is None else argv)
        jobs = parallel_run_jobs(words)
        if jobs is not None:
            from pva import runner

            runner.start_workers(jobs, imports=WORKER_IMPORTS[words[0]])
            started = True
        from pva import cli

        return cli.main(argv)
    except KeyboardInterrupt:
        print("pva: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:
        from pva.errors import TerminatedError

        if isinstance(exc, TerminatedError):
            print(f"pva: {exc}", file=sys.stderr)
            return 143
        raise
    finally:
        if started:  # a command that ended before its run (e.g. a usage error): workers stop
            from pva import runner

            runner.shutdown_workers()


if __name__ == "__main__":
    sys.exit(main())
