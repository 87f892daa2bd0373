"""The ``pva`` command: argument parsing only; the work is done by the library.

Every verb is a small function ``_cmd_<verb>(args) -> int``. Errors a user can fix (bad files, bad
values) are printed as one line on stderr and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import pva


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pva`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        status: int = args.func(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"pva {args.verb}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pva {args.verb}: interrupted", file=sys.stderr)
        return 130
    return status


# Each entry adds one verb to the sub-parsers. Verbs are appended below their implementation.
_VERBS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = []

# ---------------------------------------------------------------------------------------------------
# verbs (add new verbs below this line, each as `def _add_<verb>(verbs)` + `_cmd_<verb>(args)` and
# `_VERBS.append(_add_<verb>)`)
# ---------------------------------------------------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
