"""pva._signals: SIGTERM as an exception, signals held back around work that must not be interrupted
(the NetCDF encoding), and the pause points of the fault tests."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from pva import _signals
from pva.errors import TerminatedError


@pytest.fixture
def handlers():  # type: ignore[no-untyped-def]
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


def test_sigint_inside_a_deferred_block_arrives_when_it_ends(handlers) -> None:  # type: ignore[no-untyped-def]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    finished: list[str] = []

    def work() -> None:
        with _signals.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append("the block ran to its end")

    with pytest.raises(KeyboardInterrupt):
        work()
    assert finished == ["the block ran to its end"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_becomes_an_exception_and_is_deferred_too(handlers) -> None:  # type: ignore[no-untyped-def]
    _signals.terminate_as_exception()
    with pytest.raises(TerminatedError, match="SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)
    finished: list[bool] = []

    def work() -> None:
        with _signals.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)  # held once
            finished.append(True)

    with pytest.raises(TerminatedError):
        work()
    assert finished == [True]


def test_a_deferred_block_without_signals_changes_nothing(handlers) -> None:  # type: ignore[no-untyped-def]
    before = signal.getsignal(signal.SIGINT)
    with _signals.deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is before


def test_outside_the_main_thread_the_block_just_runs() -> None:
    ran = []

    def work() -> None:
        with _signals.deferred():
            ran.append(threading.current_thread().name)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert len(ran) == 1


def test_a_pause_point_is_a_no_op_unless_named(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(_signals.PAUSE_ENV, f"other:{os.getpid()}")
    _signals.pause_point("task")  # would signal this process (SIGUSR1's default ends it)


def test_a_pause_point_tells_the_test_and_waits_for_a_signal(monkeypatch, handlers) -> None:  # type: ignore[no-untyped-def]
    told: list[int] = []
    previous = signal.getsignal(signal.SIGUSR1)

    def paused(signum: int, frame: object) -> None:  # the test: interrupt the paused process
        told.append(signum)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setenv(_signals.PAUSE_ENV, f"task:{os.getpid()}")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGUSR1, paused)
    try:
        with pytest.raises(KeyboardInterrupt):
            _signals.pause_point("task")
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert told == [signal.SIGUSR1]
