"""Signals for the ``pva`` command: SIGTERM as an exception, signals held back around work that must
not be interrupted, and the pause points the fault tests stop processes at.

Kept free of heavy imports: :mod:`pva.__main__` uses it before numpy is loaded.

* :func:`terminate_as_exception` makes SIGTERM raise :class:`pva.errors.TerminatedError` (as SIGINT
  raises :class:`KeyboardInterrupt`), so that ``finally`` blocks run — temporary files are removed,
  workers stopped — and the command ends with one line and status 143.
* :func:`deferred` holds SIGINT and SIGTERM back while a block runs and delivers them when it ends.
  Around the NetCDF encoding: an interrupt landing inside ``to_netcdf`` leaves a lock of xarray's
  held and its cleanup then waits for it forever.
* :func:`pause_point` is a test hook: with ``$PVA_TEST_PAUSE_AT`` set to ``"<point>:<pid>"``, a
  process reaching ``point`` sends SIGUSR1 to process ``pid`` (the test, which learns from it which
  process got there) and waits there (for a signal, or at most :data:`PAUSE_SECONDS`), so that a
  test can interrupt or kill it at a known place instead of after a guessed delay.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

from pva.errors import TerminatedError

__all__ = ["PAUSE_ENV", "PAUSE_SECONDS", "deferred", "pause_point", "terminate_as_exception"]

PAUSE_ENV = "PVA_TEST_PAUSE_AT"
"""Environment variable of the test hook (see :func:`pause_point`)."""

PAUSE_SECONDS = 60.0
"""Longest wait at a pause point."""

_held: list[int] = []
"""Signals received inside :func:`deferred`, to deliver when it ends."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise TerminatedError(f"terminated by signal {signal.Signals(signum).name}")


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def terminate_as_exception() -> None:
    """Make SIGTERM raise :class:`~pva.errors.TerminatedError` in this (main) thread."""
    if _in_main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the block runs; deliver them (each once, in the order
    received) to the handlers they had when it ends, even if the block raised. Outside the main
    thread (where Python cannot set handlers) the block runs unprotected."""
    if not _in_main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def hold(signum: int, frame: FrameType | None) -> None:
        if signum not in _held:
            _held.append(signum)

    for s in previous:
        signal.signal(s, hold)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        pending = list(_held)
        _held.clear()
        for s in pending:
            signal.raise_signal(s)


def pause_point(point: str) -> None:
    """Test hook (see the module docstring): a no-op unless ``$PVA_TEST_PAUSE_AT`` names
    ``point``. A signal, not a file, tells the test: nothing is written, and worker processes
    (which inherit the environment but no pipes) can tell it too."""
    spec = os.environ.get(PAUSE_ENV, "")
    name, _, pid = spec.partition(":")
    if name != point or not pid.isdigit():
        return
    os.kill(int(pid), signal.SIGUSR1)
    deadline = time.monotonic() + PAUSE_SECONDS
    # a signal either raises here (KeyboardInterrupt, TerminatedError) or, inside deferred(), is
    # held: then the work goes on to the end of the deferred block, where it is delivered
    while time.monotonic() < deadline and not _held:
        time.sleep(0.01)
