"""``python -m pva`` and the ``pva`` command's entry point.

Deliberately light: it imports nothing heavy before it can catch Ctrl-C, so that an interrupt while
numpy, scipy and xarray load (the first second or two) ends with one line and status 130, not a
traceback. The command itself is :func:`pva.cli.main`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pva`` command (:func:`pva.cli.main`); Ctrl-C while it loads gives status 130."""
    try:
        from pva import _signals

        _signals.terminate_as_exception()
        _signals.pause_point("start")
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


if __name__ == "__main__":
    sys.exit(main())
